//! `geoalign tiles` (MBTiles/PMTiles pyramids) and `geoalign export` (GIS files).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use geoalign::config::{Config, Overrides};
use geoalign::tiles::export::Format;

use super::output::Stdout;
use super::serve::TileArgs;
use super::{CliError, engine};

#[derive(Args)]
pub struct Tiles {
    /// Alignment name.
    #[arg(long)]
    alignment: String,
    /// pmtiles or mbtiles.
    #[arg(long, default_value = "pmtiles")]
    format: Format,
    /// First zoom.
    #[arg(long, default_value_t = 0)]
    minzoom: u8,
    /// Last zoom.
    #[arg(long, default_value_t = 12)]
    maxzoom: u8,
    /// Output file.
    #[arg(long)]
    output: PathBuf,
    #[command(flatten)]
    tiles: TileArgs,
}

#[derive(Args)]
pub struct Export {
    /// Alignment name.
    #[arg(long)]
    alignment: String,
    /// unit, a level of the alignment (territory, district, region), or accounts (points with
    /// their owner).
    #[arg(long, default_value = "territory")]
    level: String,
    /// fgb, geojson, gpkg or csv (with its .csvt beside; default: from the output's extension).
    #[arg(long)]
    format: Option<String>,
    /// Output file.
    #[arg(long)]
    output: PathBuf,
}

impl Tiles {
    /// The tile settings the flags give.
    pub fn overrides(&self) -> Overrides {
        self.tiles.overrides()
    }

    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        use geoalign::tiles::export::{ExportOptions, export};
        use geoalign::tiles::{MAX_ZOOM, TileService};
        let (minzoom, maxzoom) = (self.minzoom, self.maxzoom);
        if minzoom > maxzoom || maxzoom > MAX_ZOOM {
            return Err(CliError::Usage(format!(
                "zooms must satisfy 0 <= minzoom <= maxzoom <= {MAX_ZOOM}"
            )));
        }
        let service = TileService::new(Arc::new(engine(config)?), config.tile_options());
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tiles {elapsed} (eta {eta}) {msg}")
        {
            bar.set_style(style);
        }
        let options = ExportOptions {
            alignment: self.alignment,
            format: self.format,
            minzoom,
            maxzoom,
            output: self.output,
            threads: 0,
        };
        let summary = export(&service, &options, &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })?;
        bar.finish_and_clear();
        out.line(format_args!(
            "{}: alignment '{}' revision {}, zooms {minzoom}-{maxzoom}: {} tiles ({} empty skipped), {:.1} MB gzip; largest {} KB{}",
            options.output.display(),
            options.alignment,
            summary.revision,
            summary.tiles,
            summary.candidates - summary.tiles,
            summary.bytes as f64 / 1e6,
            summary.largest.0 / 1024,
            summary.largest.1.map(|t| format!(" at {t}")).unwrap_or_default()
        ))
    }
}

impl Export {
    pub fn run(self, config: &Config) -> Result<(), CliError> {
        use geoalign::export::{Format, Layer, Level, export_file};
        let output = self.output.as_path();
        let format: Format = self
            .format
            .as_deref()
            .or_else(|| output.extension().and_then(|e| e.to_str()))
            .ok_or_else(|| CliError::Usage("give --format (fgb, geojson, gpkg or csv)".into()))?
            .parse()?;
        let engine = engine(config)?;
        let snapshot = engine.snapshot(&self.alignment)?;
        let level = Level::parse(&snapshot, &self.level)?;
        let layer = Layer::new(&snapshot, level);
        let started = std::time::Instant::now();
        let bar = indicatif::ProgressBar::new(layer.len() as u64);
        let progress = |n: usize| bar.set_position(n as u64);
        export_file(&layer, format, output, &progress)?;
        if format == Format::Csv {
            export_file(&layer, Format::Csvt, &output.with_extension("csvt"), &|_| {})?;
        }
        bar.finish_and_clear();
        eprintln!(
            "{} features of '{}' revision {} ({}) written to {} in {:.2} s",
            layer.len(),
            snapshot.alignment,
            snapshot.revision,
            level.name(&snapshot),
            output.display(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

//! `geoalign ingest`, `geoalign ingest-addresses` and `geoalign metrics import`.

use std::path::PathBuf;

use clap::Args;
use geoalign::config::Config;
use geoalign::ingest::cleaning::{Cleaning, DEFAULT_GAP_M};
use geoalign::ingest::crs::CrsDef;
use geoalign::ingest::metrics_table::{self, MetricsImport};
use geoalign::ingest::roles::RoleChoices;
use geoalign::ingest::{IngestOptions, ingest};
use geoalign::store::Store;

use super::output::Stdout;
use super::{CliError, create_store, open_store};

#[derive(Args)]
pub struct Ingest {
    /// The file to read.
    file: PathBuf,
    /// Dataset name.
    #[arg(long)]
    dataset: String,
    /// Property holding the unit id (e.g. zip).
    #[arg(long)]
    id_field: String,
    /// Layer of a multi-layer source (GeoPackage).
    #[arg(long)]
    layer: Option<String>,
    /// Source CRS, overriding the file's: EPSG:N, a PROJ string or WKT.
    #[arg(long, value_parser = parse_crs)]
    s_srs: Option<CrsDef>,
    /// Replace an existing dataset of that name (its alignments are kept when every
    /// unit they use is still in the file; otherwise refused).
    #[arg(long)]
    replace: bool,
    /// With --replace: delete the alignments that use units the file no longer has.
    #[arg(long, requires = "replace")]
    drop_alignments: bool,
    /// Add the file's points to an existing dataset as point units (PO-box ZIPs).
    #[arg(long)]
    points: bool,
    /// Snap tolerance for coverage cleaning, in metres (default: the coordinates'
    /// precision, 1 cm to 1 m).
    #[arg(long, value_name = "METRES", value_parser = parse_snap)]
    snap: Option<f64>,
    /// Enclosed gaps and overlaps up to this width (metres) are given to one unit.
    #[arg(long, value_name = "METRES", value_parser = parse_gap, default_value_t = DEFAULT_GAP_M)]
    gap: f64,
    /// Keep the raw geometry: no coverage cleaning (dissolves where units overlap or
    /// leave gaps may then fall back to an overlay).
    #[arg(long, conflicts_with = "snap")]
    no_clean: bool,
    #[command(flatten)]
    roles: RoleArgs,
}

/// Which numeric fields are summed, kept as attributes or averaged (ingest and metrics import).
#[derive(Args)]
pub struct RoleArgs {
    /// Sum this numeric field per territory although its name or values look like a
    /// code or an average (repeatable).
    #[arg(long = "metric", value_name = "FIELD")]
    metrics: Vec<String>,
    /// Keep this field as an attribute, not summed per territory (repeatable).
    #[arg(long = "attribute", value_name = "FIELD")]
    attributes: Vec<String>,
    /// Average this numeric field per territory, weighted by a summed metric, instead of
    /// summing it: `median_income=households` (repeatable).
    #[arg(long = "mean-weighted-by", value_name = "FIELD=WEIGHT", value_parser = parse_mean)]
    means: Vec<(String, String)>,
}

impl RoleArgs {
    fn choices(self) -> RoleChoices {
        RoleChoices {
            metrics: self.metrics,
            attributes: self.attributes,
            means: self.means,
        }
    }
}

/// `FIELD=WEIGHT` of `--mean-weighted-by`.
fn parse_mean(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((field, weight)) if !field.trim().is_empty() && !weight.trim().is_empty() => {
            Ok((field.trim().to_owned(), weight.trim().to_owned()))
        }
        _ => Err(format!(
            "{text:?}: expected FIELD=WEIGHT, e.g. median_income=households"
        )),
    }
}

/// `geoalign metrics ...`.
#[derive(clap::Subcommand)]
pub enum MetricsCommand {
    /// Add or replace unit metrics (median income, age bands, market potential) from a CSV
    /// joined to a dataset's units by id; rows naming no unit are reported by line.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Dataset whose units the rows describe.
        #[arg(long)]
        dataset: String,
        /// Column holding the unit id.
        #[arg(long)]
        id_field: String,
        #[command(flatten)]
        roles: RoleArgs,
    },
}

impl MetricsCommand {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let MetricsCommand::Import {
            file,
            dataset,
            id_field,
            roles,
        } = self;
        let store = open_store(config)?;
        let options = MetricsImport {
            path: file,
            dataset,
            id_field,
            choices: roles.choices(),
        };
        out.text(metrics_table::import(&store, &options)?)
    }
}

#[derive(Args)]
pub struct IngestAddresses {
    /// The CSV file.
    file: PathBuf,
    /// Dataset the addresses belong to (default: the only dataset in the store).
    #[arg(long)]
    dataset: Option<String>,
}

fn parse_snap(text: &str) -> Result<f64, String> {
    parse_metres("--snap", text)
}

fn parse_gap(text: &str) -> Result<f64, String> {
    parse_metres("--gap", text)
}

fn parse_metres(name: &'static str, text: &str) -> Result<f64, String> {
    let metres = text
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("{name} takes a number of metres, not '{text}'"))?;
    Cleaning::check_tolerance(name, metres)
}

fn parse_crs(text: &str) -> Result<CrsDef, String> {
    CrsDef::parse_user(text).ok_or_else(|| format!("'{text}' is not EPSG:N, a PROJ string or WKT"))
}

impl Ingest {
    fn cleaning(&self) -> Cleaning {
        Cleaning {
            enabled: !self.no_clean,
            snap_m: self.snap,
            gap_m: self.gap,
        }
    }

    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        // A polygon dataset may start a store; points and addresses need one.
        let store = if self.points {
            open_store(config)?
        } else {
            create_store(config)?
        };
        let cleaning = self.cleaning();
        let options = IngestOptions {
            path: self.file,
            dataset: self.dataset,
            id_field: self.id_field,
            layer: self.layer,
            s_srs: self.s_srs,
            replace: self.replace,
            drop_alignments: self.drop_alignments,
            points: self.points,
            cleaning,
            roles: self.roles.choices(),
            progress: true,
        };
        out.text(ingest(&store, &options)?)
    }
}

impl IngestAddresses {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let store = open_store(config)?;
        let dataset = match self.dataset {
            Some(d) => d,
            None => only_dataset(&store)?,
        };
        let report = geoalign::ingest::addresses::ingest_addresses(&store, &self.file, &dataset, true)?;
        out.text(report)
    }
}

/// The name of the store's only dataset, for commands where it is the obvious default.
fn only_dataset(store: &Store) -> Result<String, CliError> {
    let datasets = store.datasets()?;
    match datasets.as_slice() {
        [only] => Ok(only.name.clone()),
        [] => Err(CliError::NotFound(
            "the store has no dataset; ingest boundaries first".into(),
        )),
        many => Err(CliError::Usage(format!(
            "give --dataset (one of {})",
            many.iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

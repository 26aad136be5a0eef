//! Static exports: the whole tile pyramid of an alignment (every tile that touches its
//! units) written to MBTiles or PMTiles, with the same bytes the server sends for
//! `Accept-Encoding: gzip`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::cache::EncodedTile;
use super::mbtiles::MbtilesWriter;
use super::pmtiles::{PmtilesInfo, PmtilesWriter, tile_id};
use super::render::render;
use super::tile_id::TileId;
use super::tilejson::{archive_metadata, bounds, center, tilejson};
use super::view::{AlignmentView, Boxed};
use super::{TileError, TileService};

/// Output format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// MBTiles (SQLite).
    Mbtiles,
    /// PMTiles v3.
    Pmtiles,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "mbtiles" => Ok(Format::Mbtiles),
            "pmtiles" => Ok(Format::Pmtiles),
            other => Err(format!("unknown tile format '{other}' (mbtiles or pmtiles)")),
        }
    }
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Alignment.
    pub alignment: String,
    /// Format.
    pub format: Format,
    /// First zoom.
    pub minzoom: u8,
    /// Last zoom.
    pub maxzoom: u8,
    /// Output file.
    pub output: PathBuf,
    /// Rendering threads (0: one per core).
    pub threads: usize,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Revision exported.
    pub revision: i64,
    /// Tiles considered (touching the data).
    pub candidates: usize,
    /// Non-empty tiles written.
    pub tiles: usize,
    /// Bytes of tile data (gzip) written, before deduplication.
    pub bytes: u64,
    /// Largest tile (uncompressed MVT bytes) and where.
    pub largest: (usize, Option<TileId>),
}

/// Tiles from `minzoom` to `maxzoom` that touch the view's units, in PMTiles order
/// (zoom, then Hilbert index).
pub fn pyramid(view: &AlignmentView, minzoom: u8, maxzoom: u8, margin: f64) -> Vec<TileId> {
    // Boxes of the units' parts, not of whole units: a unit cut at the antimeridian
    // spans the world but touches only tiles at its two ends.
    let parts: Vec<Boxed> = view
        .dataset
        .units()
        .iter()
        .flat_map(|u| u.polygons.iter().map(|p| u.rings[p.start as usize].bbox))
        .enumerate()
        .map(|(i, b)| Boxed::new(i as u32, b))
        .collect();
    let tree = rstar::RTree::bulk_load(parts);
    let touches = |t: &TileId| {
        let [x0, y0, x1, y1] = t.world_bounds(margin);
        let envelope = rstar::AABB::from_corners([x0, y0], [x1, y1]);
        tree.locate_in_envelope_intersecting(&envelope).next().is_some()
    };
    let bbox = view.bbox();
    if bbox[0] > bbox[2] {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut level: Vec<TileId> = TileId::covering(minzoom, bbox).filter(|t| touches(t)).collect();
    for z in minzoom..=maxzoom {
        level.sort_by_key(|t| tile_id(t.z, t.x, t.y));
        out.extend_from_slice(&level);
        if z == maxzoom {
            break;
        }
        level = level
            .iter()
            .flat_map(|t| {
                let (x, y) = (t.x * 2, t.y * 2);
                [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)].map(|(x, y)| TileId { z: z + 1, x, y })
            })
            .filter(|t| touches(t))
            .collect();
    }
    out
}

/// Renders and writes the pyramid; `progress(done, total)` is called as tiles finish.
pub fn export(
    service: &TileService,
    options: &ExportOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<ExportSummary, TileError> {
    let view = service.view(&options.alignment)?;
    let tile_options = service.options();
    let margin = f64::from(tile_options.buffer) / f64::from(tile_options.extent);
    let tiles = pyramid(&view, options.minzoom, options.maxzoom, margin);
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(2, usize::from),
        n => n,
    };
    let mut summary = ExportSummary {
        revision: view.snapshot.revision,
        candidates: tiles.len(),
        ..ExportSummary::default()
    };
    enum Writer {
        Mb(MbtilesWriter),
        Pm(Box<PmtilesWriter>),
    }
    let doc = tilejson(&view, "", tile_options);
    let (vector_layers, tilestats) = archive_metadata(&doc, options.minzoom, options.maxzoom);
    let b = bounds(&view);
    let c = center(&view, tile_options);
    let c = [
        c[0],
        c[1],
        c[2].clamp(f64::from(options.minzoom), f64::from(options.maxzoom)),
    ];
    let description = format!(
        "alignment '{}' of dataset '{}' at revision {}",
        options.alignment, view.snapshot.dataset.name, view.snapshot.revision
    );
    let mut writer = match options.format {
        Format::Mbtiles => Writer::Mb(MbtilesWriter::create(&options.output)?),
        Format::Pmtiles => Writer::Pm(Box::new(PmtilesWriter::create(
            &options.output,
            &PmtilesInfo {
                minzoom: options.minzoom,
                maxzoom: options.maxzoom,
                bounds: b,
                center: c,
                metadata: serde_json::json!({
                    "name": options.alignment,
                    "description": description,
                    "version": view.snapshot.revision.to_string(),
                    "type": "overlay",
                    "format": "pbf",
                    "vector_layers": vector_layers,
                    "tilestats": tilestats,
                }),
            },
        )?)),
    };
    let done = AtomicUsize::new(0);
    for chunk in tiles.chunks(512) {
        let next = AtomicUsize::new(0);
        let mut rendered: Vec<(usize, Vec<u8>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(tile) = chunk.get(i) else { break };
                            out.push((i, render(&view, *tile, tile_options)));
                            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                            if d.is_multiple_of(64) {
                                progress(d, tiles.len());
                            }
                        }
                        out
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .collect()
        });
        if rendered.len() != chunk.len() {
            return Err(TileError::Export {
                path: options.output.clone(),
                reason: "a rendering thread failed".into(),
            });
        }
        rendered.sort_unstable_by_key(|(i, _)| *i);
        for (i, raw) in rendered {
            if raw.is_empty() {
                continue;
            }
            let tile = chunk[i];
            if raw.len() > summary.largest.0 {
                summary.largest = (raw.len(), Some(tile));
            }
            let encoded = EncodedTile::new(raw);
            summary.tiles += 1;
            summary.bytes += encoded.gzip.len() as u64;
            match &mut writer {
                Writer::Mb(w) => w.add(tile.z, tile.x, tile.y, &encoded.gzip)?,
                Writer::Pm(w) => w.add(tile.z, tile.x, tile.y, &encoded.gzip)?,
            }
        }
    }
    progress(tiles.len(), tiles.len());
    match writer {
        Writer::Mb(w) => {
            let json = serde_json::json!({ "vector_layers": vector_layers, "tilestats": tilestats });
            w.finish(&[
                ("name", options.alignment.clone()),
                ("format", "pbf".into()),
                ("type", "overlay".into()),
                ("version", view.snapshot.revision.to_string()),
                ("description", description),
                ("minzoom", options.minzoom.to_string()),
                ("maxzoom", options.maxzoom.to_string()),
                ("bounds", format!("{},{},{},{}", b[0], b[1], b[2], b[3])),
                ("center", format!("{},{},{}", c[0], c[1], c[2])),
                ("json", json.to_string()),
            ])?
        }
        Writer::Pm(w) => w.finish()?,
    }
    Ok(summary)
}

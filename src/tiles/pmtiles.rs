//! PMTiles v3 archives, written by the `pmtiles` crate: gzip MVT tiles in Hilbert
//! tile-id order (clustered), identical tiles stored once and runs of identical
//! consecutive tiles as one directory entry, gzip directories and metadata, leaf
//! directories when the root would not fit in the first 16 KiB.
//!
//! ```
//! use geoalign::tiles::pmtiles::tile_id;
//! assert_eq!(tile_id(0, 0, 0), 0);
//! assert_eq!([tile_id(1, 0, 0), tile_id(1, 0, 1), tile_id(1, 1, 1), tile_id(1, 1, 0)], [1, 2, 3, 4]);
//! assert_eq!(tile_id(2, 0, 0), 5);
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};

use pmtiles::{Compression, PmTilesStreamWriter, PmTilesWriter, TileCoord, TileId, TileType};

use super::TileError;

/// The PMTiles tile id of z/x/y: tiles of lower zooms first, then the Hilbert index
/// (`u64::MAX` for a tile outside its zoom's grid).
pub fn tile_id(z: u8, x: u32, y: u32) -> u64 {
    TileCoord::new(z, x, y).map_or(u64::MAX, |c| TileId::from(c).value())
}

/// Where the header's bounds, centre and zoom range come from.
#[derive(Debug, Clone)]
pub struct PmtilesInfo {
    /// Lowest zoom written.
    pub minzoom: u8,
    /// Highest zoom written.
    pub maxzoom: u8,
    /// `[west, south, east, north]` in degrees.
    pub bounds: [f64; 4],
    /// `[lon, lat, zoom]`.
    pub center: [f64; 3],
    /// Metadata JSON (TileJSON-like: name, vector_layers, ...).
    pub metadata: serde_json::Value,
}

/// Writes a PMTiles archive; tiles must be added in increasing tile id order.
pub struct PmtilesWriter {
    path: PathBuf,
    tmp: PathBuf,
    out: PmTilesStreamWriter<File>,
    last_id: Option<u64>,
}

impl std::fmt::Debug for PmtilesWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PmtilesWriter({})", self.path.display())
    }
}

fn io_error(path: &Path, e: impl std::fmt::Display) -> TileError {
    TileError::Export {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

impl PmtilesWriter {
    /// Starts an archive at `path` (written beside it, moved into place by `finish`).
    pub fn create(path: &Path, info: &PmtilesInfo) -> Result<PmtilesWriter, TileError> {
        let tmp = path.with_extension("pmtiles.tmp");
        let file = File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
        let [west, south, east, north] = info.bounds;
        let metadata = serde_json::to_string(&info.metadata).map_err(|e| io_error(path, e))?;
        let out = PmTilesWriter::new(TileType::Mvt)
            .precompressed(Compression::Gzip)
            .internal_compression(Compression::Gzip)
            .min_zoom(info.minzoom)
            .max_zoom(info.maxzoom)
            .bounds(west, south, east, north)
            .center(info.center[0], info.center[1])
            .center_zoom(info.center[2] as u8)
            .metadata(metadata)
            .create(file)
            .map_err(|e| io_error(&tmp, e))?;
        Ok(PmtilesWriter {
            path: path.to_owned(),
            tmp,
            out,
            last_id: None,
        })
    }

    /// Adds a tile (gzip MVT bytes). Identical tiles share their bytes.
    pub fn add(&mut self, z: u8, x: u32, y: u32, bytes: &[u8]) -> Result<(), TileError> {
        let coord = TileCoord::new(z, x, y).map_err(|e| io_error(&self.path, e))?;
        let id = TileId::from(coord).value();
        if self.last_id.is_some_and(|last| id <= last) {
            return Err(io_error(
                &self.path,
                format!("tile {z}/{x}/{y} added out of order"),
            ));
        }
        self.last_id = Some(id);
        self.out
            .add_tile(coord, bytes)
            .map_err(|e| io_error(&self.tmp, e))
    }

    /// Writes directories and header, and moves the archive into place.
    pub fn finish(self) -> Result<(), TileError> {
        if let Err(e) = self.out.finalize() {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(io_error(&self.tmp, e));
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| io_error(&self.path, e))
    }
}

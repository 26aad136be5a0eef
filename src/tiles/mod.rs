//! Vector tiles of alignments: Mapbox Vector Tiles 2.1 rendered from a snapshot,
//! cached by (alignment, revision, z/x/y), and written to MBTiles and PMTiles.
//!
//! One algorithm per file:
//! - [`tile_id`] tile math (Web Mercator, XYZ ids and bounds);
//! - [`simplify`] vertex importance on topology arcs (Douglas-Peucker once, any zoom);
//! - [`repair`] keeps simplified arcs from crossing at every zoom;
//! - [`prepared`] geometry projected and ranked once;
//! - [`zoomed`] the vertices kept at one zoom, built once and shared by its tiles;
//! - [`simple`] exact simplicity test of a grid ring (lets [`clip`] skip the overlay);
//! - [`clip`] clipping and repair on the integer tile grid;
//! - [`label`] label points (pole of inaccessibility);
//! - [`colour`] map colouring, stable across edits;
//! - [`encode`] the MVT protobuf writer;
//! - [`view`] a dataset and an alignment revision prepared for tiling;
//! - [`chains`] boundary arcs joined into chains once per view;
//! - [`render`] one tile from a view;
//! - [`cache`] the size-bounded cache of encoded tiles, [`gzip`] their compression;
//! - [`service`] views by revision, cache carry-forward across changes;
//! - [`tilejson`] and [`style`] documents for map clients;
//! - [`export`], [`mbtiles`], [`pmtiles`] static pyramids.
//!
//! Neighbouring polygons share arcs, and every arc is simplified the same way for
//! both of its sides and for the boundary line along it, so no gap opens at any zoom.
//!
//! ```
//! # let (_dir, engine) = geoalign_doc_sample();
//! # fn geoalign_doc_sample() -> (tempfile::TempDir, std::sync::Arc<geoalign::engine::Engine>) {
//! #     let dir = tempfile::tempdir().unwrap();
//! #     let store = geoalign::store::Store::open(&dir.path().join("t.db")).unwrap();
//! #     let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
//! #     geoalign::demo::load_sample(&store, &data, false).unwrap();
//! #     let engine = geoalign::engine::Engine::new(std::sync::Arc::new(store));
//! #     geoalign::demo::load_alignment(&engine, &data).unwrap();
//! #     (dir, std::sync::Arc::new(engine))
//! # }
//! use geoalign::tiles::{TileId, TileOptions, TileService};
//! let service = TileService::new(engine, TileOptions::default());
//! let (revision, tile) = service.tile("nyc", None, TileId::new(10, 301, 384).unwrap()).unwrap();
//! assert!(revision >= 1 && !tile.is_empty());
//! ```

pub mod cache;
pub mod chains;
pub mod clip;
pub mod colour;
pub mod encode;
pub mod export;
pub mod gzip;
pub mod label;
pub mod mbtiles;
pub mod pmtiles;
pub mod prepared;
pub mod render;
pub mod repair;
pub mod service;
pub mod simple;
pub mod simplify;
pub mod style;
pub mod tile_id;
pub mod tilejson;
pub mod view;
pub mod zoomed;

pub use cache::{EncodedTile, TileCache, TileKey};
pub use service::TileService;
pub use tile_id::{MAX_ZOOM, TileId, lonlat_to_world, world_to_lonlat};

use crate::store::StoreError;

/// How tiles are cut, simplified and cached.
#[derive(Debug, Clone)]
pub struct TileOptions {
    /// Grid units per tile side (MVT extent).
    pub extent: u32,
    /// Grid units of geometry kept around the tile, so strokes join across tiles.
    pub buffer: u32,
    /// Douglas-Peucker tolerance in grid units (4096 per tile: 8 units are one screen
    /// pixel of a 512 px tile, the default).
    pub tolerance: f64,
    /// Parts (and holes) smaller than this many grid units on both axes are dropped,
    /// except the largest part of an item that has nothing bigger.
    pub min_size: f64,
    /// First zoom of the `units` layer.
    pub units_minzoom: u8,
    /// First zoom of the `reps` and `accounts` layers.
    pub points_minzoom: u8,
    /// Zoom range announced in TileJSON (clients overzoom past `maxzoom`).
    pub minzoom: u8,
    /// Last zoom announced in TileJSON.
    pub maxzoom: u8,
    /// Colours of the `color` index (at most; planar maps need no more than 6).
    pub max_colours: u8,
    /// Size bound of the tile cache in bytes.
    pub cache_bytes: usize,
}

impl Default for TileOptions {
    fn default() -> TileOptions {
        TileOptions {
            extent: 4096,
            buffer: 64,
            tolerance: 8.0,
            min_size: 8.0,
            units_minzoom: 8,
            points_minzoom: 6,
            minzoom: 0,
            maxzoom: 14,
            max_colours: 8,
            cache_bytes: 512 << 20,
        }
    }
}

impl TileOptions {
    /// Importance (world units) a vertex needs to be kept at `zoom`: the tolerance in
    /// grid units over the grid units per world unit.
    pub fn tolerance_at(&self, zoom: u8) -> f64 {
        self.tolerance / (f64::from(1u32 << zoom.min(MAX_ZOOM)) * f64::from(self.extent))
    }
}

/// Why a tile, TileJSON or export could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// The alignment (or its dataset) is not in the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// z/x/y outside the tile pyramid.
    #[error("no tile {z}/{x}/{y}: z must be 0-{max}, x and y below 2^z")]
    OutOfRange {
        /// Zoom asked for.
        z: u32,
        /// Column asked for.
        x: u32,
        /// Row asked for.
        y: u32,
        /// Highest zoom served.
        max: u8,
    },
    /// A revision the alignment has not reached.
    #[error("alignment '{alignment}' has no revision {revision} yet (current: {current})")]
    UnknownRevision {
        /// Alignment.
        alignment: String,
        /// Revision asked for.
        revision: i64,
        /// Current revision.
        current: i64,
    },
    /// An earlier revision whose tile changed since and is no longer kept: answered
    /// with a redirect to the tile of the current revision, never a hole in the map.
    #[error(
        "alignment '{alignment}' revision {revision} of tile {tile} is no longer kept (current: {current}); see the current revision's tile"
    )]
    RevisionGone {
        /// Alignment.
        alignment: String,
        /// Revision asked for.
        revision: i64,
        /// Current revision.
        current: i64,
        /// The tile asked for.
        tile: TileId,
    },
    /// A style that does not exist.
    #[error("no style '{0}'")]
    NoStyle(String),
    /// Writing an export failed.
    #[error("{path}: {reason}")]
    Export {
        /// Output file.
        path: std::path::PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl TileError {
    /// The alignment's current revision, when the error is about revisions.
    pub fn current_revision(&self) -> Option<i64> {
        match self {
            TileError::UnknownRevision { current, .. } | TileError::RevisionGone { current, .. } => {
                Some(*current)
            }
            _ => None,
        }
    }
}

/// The path of a tile of one revision: `/tiles/{alignment}/{revision}/{z}/{x}/{y}.mvt`,
/// the alignment name percent-encoded as a path segment.
pub fn tile_path(alignment: &str, revision: i64, tile: TileId) -> String {
    format!(
        "/tiles/{}/{revision}/{}/{}/{}.mvt",
        path_segment(alignment),
        tile.z,
        tile.x,
        tile.y
    )
}

/// `text` percent-encoded for one URL path segment (RFC 3986: unreserved characters kept).
pub fn path_segment(text: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, SEGMENT).to_string()
}

/// A tile id from path parameters, or [`TileError::OutOfRange`].
pub fn tile_id(z: u32, x: u32, y: u32) -> Result<TileId, TileError> {
    u8::try_from(z)
        .ok()
        .and_then(|z| TileId::new(z, x, y))
        .ok_or(TileError::OutOfRange {
            z,
            x,
            y,
            max: MAX_ZOOM,
        })
}

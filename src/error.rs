//! Error types, one enum per layer, each carrying the context a user needs
//! (file, feature id, field, parameter). [`crate::http::problem`] maps them to
//! HTTP status codes in exactly one place.

use std::path::PathBuf;

/// Errors while reading, reprojecting or validating a boundary file.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file does not exist or cannot be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// File that failed to open.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file extension names no format this build reads.
    #[error(
        "{path}: unsupported format '{extension}' (native: .geojson .json .fgb .shp .gpkg .csv; build with --features gdal for anything OGR reads)"
    )]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// Its extension.
        extension: String,
    },
    /// The file is not valid for its format (truncated, corrupt, wrong content).
    #[error("{path}: not a valid {format} file: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Format the reader expected.
        format: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A GeoPackage or multi-layer source has no such layer, or several and none was chosen.
    #[error("{path}: {reason}")]
    Layer {
        /// The file.
        path: PathBuf,
        /// What is wrong with the layer selection, with the layers available.
        reason: String,
    },
    /// No feature carries the id field.
    #[error("{path}: id field '{field}' not found; fields present: {available}")]
    MissingIdField {
        /// The file.
        path: PathBuf,
        /// Field requested with `--id-field`.
        field: String,
        /// Comma-separated list of fields the file has.
        available: String,
    },
    /// The file declares no CRS and its coordinates are not plainly lon/lat.
    #[error(
        "{path}: no coordinate reference system declared and coordinates are not lon/lat (bbox {bbox}); pass --s-srs EPSG:N"
    )]
    NoCrs {
        /// The file.
        path: PathBuf,
        /// Bounding box of the coordinates, for the message.
        bbox: String,
    },
    /// The declared CRS is not one this build can reproject from.
    #[error("{path}: unknown or unsupported CRS {crs}: {reason}")]
    UnknownCrs {
        /// The file (or `--s-srs`).
        path: PathBuf,
        /// The CRS as declared (shortened).
        crs: String,
        /// Why it was refused.
        reason: String,
    },
    /// Nothing in the file survived validation.
    #[error("{path}: no valid features ({rejected} rejected); first rejection: {first}")]
    NothingValid {
        /// The file.
        path: PathBuf,
        /// Number of rejected features.
        rejected: usize,
        /// The first rejection, for the message.
        first: String,
    },
    /// Point units must go into an existing dataset of polygons.
    #[error("dataset '{0}' does not exist; ingest its polygons before its point units")]
    NoPolygonDataset(String),
    /// The dataset exists and `--replace` was not given.
    #[error("dataset '{0}' already exists; pass --replace to replace it")]
    DatasetExists(String),
    /// A replace would orphan alignments: units they assign or lock are not in the file.
    #[error(
        "{path}: replacing dataset '{dataset}' would break alignment(s) {}: their units are not in the file; nothing was changed. Fix the file, or pass --drop-alignments to delete those alignments",
        alignments.join("; ")
    )]
    WouldLoseAlignments {
        /// Source file.
        path: PathBuf,
        /// Dataset name.
        dataset: String,
        /// Each alignment with the units it would lose.
        alignments: Vec<String>,
    },
    /// Storing failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// GDAL failed to read the source.
    #[cfg(feature = "gdal")]
    #[error("{path}: GDAL: {source}")]
    Gdal {
        /// The file.
        path: PathBuf,
        /// GDAL's error.
        source: gdal::errors::GdalError,
    },
}

/// Errors of alignment work: change sets, sheets, undo.
#[derive(Debug, thiserror::Error)]
pub enum AlignError {
    /// A store error (not found, stale revision, SQLite).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An operation of a change set was refused; nothing was applied.
    #[error("alignment '{alignment}': operation {index} ({op}) refused: {reason}")]
    Rejected {
        /// Alignment name.
        alignment: String,
        /// Index of the refused operation in the change set.
        index: usize,
        /// Summary of the operation.
        op: String,
        /// Why it was refused.
        reason: String,
    },
    /// A sheet was refused; every problem is listed by line.
    #[error("sheet refused: {0}")]
    Sheet(#[from] crate::align::sheet::SheetError),
    /// Nothing left to undo.
    #[error("alignment '{0}' has no change set left to undo")]
    NothingToUndo(String),
    /// The change set was undone already (undoing it twice is refused).
    #[error("alignment '{alignment}': revision {revision} was undone already, by revision {by}")]
    AlreadyUndone {
        /// Alignment name.
        alignment: String,
        /// Revision asked to be undone.
        revision: i64,
        /// The revision that undid it.
        by: i64,
    },
    /// Units the undone change set moved were changed again since; undoing it would
    /// overwrite those later edits.
    #[error(
        "alignment '{alignment}': undoing revision {revision} would overwrite later changes of unit(s) {} (revision(s) {}); undo those first, or pass force",
        units.join(", "),
        later.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    )]
    UndoConflict {
        /// Alignment name.
        alignment: String,
        /// Revision asked to be undone.
        revision: i64,
        /// Units changed since (at most the first 20).
        units: Vec<String>,
        /// The later revisions that changed them.
        later: Vec<i64>,
    },
    /// A request that makes no sense (bad levels, missing dataset, ...).
    #[error("{0}")]
    Invalid(String),
}

/// Errors of the SQLite store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("store {path}: {source}")]
    Sqlite {
        /// Database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The database was written by a newer geoalign.
    #[error("store {path}: schema version {found} is newer than this build knows ({known})")]
    FutureSchema {
        /// Database file.
        path: PathBuf,
        /// `user_version` found.
        found: i64,
        /// Highest version this build migrates to.
        known: i64,
    },
    /// A named dataset does not exist.
    #[error("dataset '{0}' not found")]
    DatasetNotFound(String),
    /// A unit id does not exist in the dataset.
    #[error("unit '{unit}' not found in dataset '{dataset}'")]
    UnitNotFound {
        /// Dataset name.
        dataset: String,
        /// Unit id.
        unit: String,
    },
    /// A named alignment does not exist.
    #[error("alignment '{0}' not found")]
    AlignmentNotFound(String),
    /// An alignment of that name exists already.
    #[error("alignment '{0}' already exists")]
    AlignmentExists(String),
    /// The change was based on an older revision than the current one.
    #[error("alignment '{alignment}' is at revision {current}, not {expected}; reload and retry")]
    StaleRevision {
        /// Alignment name.
        alignment: String,
        /// Revision the client based its change on.
        expected: i64,
        /// Current revision.
        current: i64,
    },
    /// No change set with that revision.
    #[error("alignment '{alignment}' has no change set at revision {revision}")]
    ChangeNotFound {
        /// Alignment name.
        alignment: String,
        /// Revision asked for.
        revision: i64,
    },
    /// Stored geometry or JSON could not be decoded (corrupt store).
    #[error("store {path}: corrupt row {what}: {reason}")]
    Corrupt {
        /// Database file.
        path: PathBuf,
        /// Which row.
        what: String,
        /// Decoder message.
        reason: String,
    },
}

/// Errors while ingesting address points (OpenAddresses CSV); nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum AddressError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The header lacks required columns.
    #[error(
        "{path}: missing column(s) {missing} (OpenAddresses layout LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE); header: {header}"
    )]
    Columns {
        /// The file.
        path: PathBuf,
        /// Required columns not found.
        missing: String,
        /// The header as read.
        header: String,
    },
    /// Rows that cannot be stored, by line number and column.
    #[error("{path}: {count} bad row(s), nothing stored:\n  {}", shown.join("\n  "))]
    BadRows {
        /// The file.
        path: PathBuf,
        /// How many rows are bad.
        count: usize,
        /// The first problems (`line N: column C: ...`).
        shown: Vec<String>,
    },
    /// The file has a header but no rows.
    #[error("{0}: no address rows")]
    Empty(PathBuf),
    /// Storing failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

//! Errors of the ingest layer: boundary files ([`IngestError`]) and address points
//! ([`AddressError`]), each carrying the file, feature, field or line a user needs.
//! [`crate::http::problem`] and the CLI map them to statuses and exit codes.

use std::path::PathBuf;

use crate::store::StoreError;

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
    /// `--metric`, `--attribute` or `--mean-weighted-by` names a field the file does not
    /// have, one field is named twice, or a mean's weight is not a summed number.
    #[error("{path}: {option} {field}: {problem}; fields present: {available}")]
    FieldRole {
        /// The file.
        path: PathBuf,
        /// `--metric`, `--attribute` or `--mean-weighted-by`.
        option: &'static str,
        /// The field named.
        field: String,
        /// What is wrong with it.
        problem: &'static str,
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

/// Errors while importing unit metrics from a table (`geoalign metrics import`); nothing
/// is stored.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The file cannot be opened or read.
    #[error("cannot read {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The header lacks the id column, or has no column besides it.
    #[error("{path}: {problem}; header: {header}")]
    Columns {
        /// The file.
        path: PathBuf,
        /// What is wrong (`no id column 'zip'`).
        problem: String,
        /// The header as read.
        header: String,
    },
    /// A column named in `--metric`, `--attribute` or `--mean-weighted-by` is not usable.
    #[error("{path}: {option} {field}: {problem}")]
    FieldRole {
        /// The file.
        path: PathBuf,
        /// The option (`--mean-weighted-by`).
        option: &'static str,
        /// The field named.
        field: String,
        /// What is wrong with it.
        problem: String,
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
    /// No row's id is a unit of the dataset.
    #[error("{path}: no row's id is a unit of dataset '{dataset}' (first ids: {first})")]
    NoMatch {
        /// The file.
        path: PathBuf,
        /// The dataset.
        dataset: String,
        /// The first ids of the file.
        first: String,
    },
    /// Storing failed; nothing was written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

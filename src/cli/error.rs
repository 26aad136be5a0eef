//! Why a command failed, and its exit status (listed in `geoalign --help`).

use std::path::PathBuf;

use geoalign::config::ConfigError;
use geoalign::engine::AlignError;
use geoalign::export::ExportError;
use geoalign::geom::PointError;
use geoalign::ingest::{AddressError, IngestError, MetricsError};
use geoalign::store::StoreError;
use geoalign::tiles::TileError;

/// Runtime or domain error.
const RUNTIME: u8 = 1;
/// Usage or bad input (clap uses 2 for its usage errors too).
const USAGE: u8 = 2;
/// A named thing does not exist.
const NOT_FOUND: u8 = 3;
/// Conflict with the store's state (stale revision, exists already).
const CONFLICT: u8 = 4;

/// A command's failure: the library's errors, with the context the command adds.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The settings (TOML file, environment, flags) are wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store failed, or something named is not in it.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Alignment work was refused.
    #[error(transparent)]
    Align(#[from] AlignError),
    /// A boundary file could not be ingested.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// Address points could not be ingested.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// A metrics table could not be imported.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// A GIS export failed.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A tile pyramid could not be written.
    #[error(transparent)]
    Tile(#[from] TileError),
    /// A point is not a lon/lat coordinate.
    #[error(transparent)]
    Point(#[from] PointError),
    /// An input file named on the command line cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// An input file named on the command line is not what the command reads.
    #[error("{path}: {reason}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Arguments that clap cannot check (combinations, ranges).
    #[error("{0}")]
    Usage(String),
    /// A name given on the command line that the alignment or store does not have.
    #[error("{0}")]
    NotFound(String),
    /// The store file does not exist (only `ingest` and `demo` create one).
    #[error(
        "store {} does not exist: create it by ingesting a boundary file (`geoalign --store {} ingest FILE --dataset NAME --id-field FIELD`), or name another with --store or GEOALIGN_STORE",
        path.display(), path.display()
    )]
    NoStore {
        /// The configured store path.
        path: PathBuf,
    },
    /// The command's own data could not be converted (a bug, not the input's fault).
    #[error("{0}")]
    Internal(String),
    /// Writing the result to standard output failed (not a closed pipe: that is quiet).
    #[error("writing to standard output: {0}")]
    Stdout(std::io::Error),
    /// The server could not start or stopped with an error.
    #[error("server on {bind}: {source}")]
    Serve {
        /// Address it was to listen on.
        bind: String,
        /// Underlying I/O error.
        source: std::io::Error,
    },
}

impl CliError {
    /// The exit status: 1 runtime or domain error, 2 usage or bad input, 3 not found,
    /// 4 conflict.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Read { .. } | CliError::Input { .. } | CliError::Usage(_) => {
                USAGE
            }
            CliError::Store(e) => store_code(e),
            CliError::Align(e) => align_code(e),
            CliError::Ingest(e) => ingest_code(e),
            CliError::Address(AddressError::Store(e)) => store_code(e),
            CliError::Address(
                AddressError::Open { .. }
                | AddressError::Columns { .. }
                | AddressError::BadRows { .. }
                | AddressError::Empty(_),
            ) => USAGE,
            CliError::Metrics(MetricsError::Store(e)) => store_code(e),
            CliError::Metrics(_) => USAGE,
            CliError::Export(ExportError::UnknownLevel { .. }) => NOT_FOUND,
            CliError::Export(ExportError::UnknownFormat(_)) => USAGE,
            CliError::Export(
                ExportError::Io { .. }
                | ExportError::Fgb(_)
                | ExportError::Gpkg { .. }
                | ExportError::Geometry { .. }
                | ExportError::Csv(_),
            ) => RUNTIME,
            CliError::Tile(e) => tile_code(e),
            CliError::Point(_) => USAGE,
            CliError::NotFound(_) | CliError::NoStore { .. } => NOT_FOUND,
            CliError::Internal(_) | CliError::Stdout(_) | CliError::Serve { .. } => RUNTIME,
        }
    }
}

fn store_code(e: &StoreError) -> u8 {
    match e {
        StoreError::DatasetNotFound(_)
        | StoreError::UnitNotFound { .. }
        | StoreError::AlignmentNotFound(_)
        | StoreError::NoActiveAlignment { .. }
        | StoreError::ChangeNotFound { .. }
        | StoreError::TokenNotFound(_) => NOT_FOUND,
        StoreError::AlignmentExists(_)
        | StoreError::StaleRevision { .. }
        | StoreError::TooManyAlignments { .. } => CONFLICT,
        StoreError::Sqlite { .. }
        | StoreError::FutureSchema { .. }
        | StoreError::Corrupt { .. }
        | StoreError::Random(_) => RUNTIME,
    }
}

fn align_code(e: &AlignError) -> u8 {
    match e {
        AlignError::Store(e) => store_code(e),
        AlignError::Rejected { .. } => RUNTIME,
        AlignError::Sheet(_) | AlignError::Invalid(_) | AlignError::Build(_) => USAGE,
        AlignError::NothingToUndo(_)
        | AlignError::AlreadyUndone { .. }
        | AlignError::UndoConflict { .. }
        | AlignError::KeyReused { .. } => CONFLICT,
    }
}

fn ingest_code(e: &IngestError) -> u8 {
    match e {
        IngestError::Store(e) => store_code(e),
        IngestError::NoPolygonDataset(_) => NOT_FOUND,
        IngestError::DatasetExists(_) | IngestError::WouldLoseAlignments { .. } => CONFLICT,
        #[cfg(feature = "gdal")]
        IngestError::Gdal { .. } => RUNTIME,
        IngestError::Open { .. }
        | IngestError::UnsupportedFormat { .. }
        | IngestError::Malformed { .. }
        | IngestError::Layer { .. }
        | IngestError::MissingIdField { .. }
        | IngestError::FieldRole { .. }
        | IngestError::NoCrs { .. }
        | IngestError::UnknownCrs { .. }
        | IngestError::NothingValid { .. } => USAGE,
    }
}

fn tile_code(e: &TileError) -> u8 {
    match e {
        TileError::Store(e) => store_code(e),
        TileError::OutOfRange { .. } => USAGE,
        TileError::UnknownRevision { .. } | TileError::RevisionGone { .. } | TileError::NoStyle(_) => {
            NOT_FOUND
        }
        TileError::Export { .. } => RUNTIME,
    }
}

//! Errors of the SQLite store. [`crate::http::problem`] and the CLI map them to
//! statuses and exit codes.

use std::path::PathBuf;

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
    /// No alignment is the active plan of the team asked for.
    #[error("{}", no_active_alignment(team, teams))]
    NoActiveAlignment {
        /// The team asked for (`all`: any team).
        team: String,
        /// The teams that have an active alignment.
        teams: Vec<String>,
    },
    /// A named alignment does not exist.
    #[error("alignment '{0}' not found")]
    AlignmentNotFound(String),
    /// An alignment of that name exists already.
    #[error("alignment '{0}' already exists")]
    AlignmentExists(String),
    /// The store holds [`super::MAX_ALIGNMENTS`] alignments already.
    #[error("the store holds {limit} alignments, the most it keeps; delete one (or an old scenario) first")]
    TooManyAlignments {
        /// The limit.
        limit: usize,
    },
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
    /// No token with that id.
    #[error("token {0} not found")]
    TokenNotFound(i64),
    /// The operating system gave no random bytes for a token.
    #[error("no random bytes for a token: {0}")]
    Random(String),
}

fn no_active_alignment(team: &str, teams: &[String]) -> String {
    let how = "make one active with `geoalign align team --alignment A --team T --active` or PATCH /api/alignments/{a}";
    match (team, teams.is_empty()) {
        ("all", _) | (_, true) => format!("no team has an active alignment; {how}"),
        _ => format!(
            "team '{team}' has no active alignment; teams: {}",
            teams.join(", ")
        ),
    }
}

//! Errors of alignment work through the engine: change sets, sheets, undo. Here,
//! not in `align`, because it wraps [`StoreError`] and `align` (the pure domain
//! model) sits below the store. [`crate::http::problem`] and the CLI map it to
//! statuses and exit codes.

use crate::align::Refusal;
use crate::align::sheet::SheetError;
use crate::store::StoreError;

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
        reason: Box<Refusal>,
    },
    /// A sheet was refused; every problem is listed by line.
    #[error("sheet refused: {0}")]
    Sheet(#[from] SheetError),
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
    /// A territory build was refused (bad parameters, unknown metric).
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
    /// A request that makes no sense (bad levels, missing dataset, ...).
    #[error("{0}")]
    Invalid(String),
    /// An `Idempotency-Key` used before for a request that asked something else.
    #[error("Idempotency-Key {key:?} was used before for another request; use a new key")]
    KeyReused {
        /// The key.
        key: String,
    },
}

//! Alignments: postal units -> territory -> district -> region, with reps,
//! accounts, locks and change sets that can be undone.

pub mod field_map;
pub mod metrics;
pub mod ops;
pub mod records;
mod refusal;
pub mod replace;
pub mod rule_sheet;
pub mod rules;
pub mod sheet;
pub mod state;
pub mod units;

pub use ops::{AccountRecord, Op, RepRecord};
pub use refusal::Refusal;
pub use state::{AlignmentState, PlacedBy, Rule, Territory};
pub use units::UnitIndex;

/// Longest code, id or name an operation or a sheet may carry.
pub const MAX_TEXT_CHARS: usize = 100;

/// English plural of a level name, as used in URLs (`territory` -> `territories`).
///
/// ```
/// assert_eq!(geoalign::align::plural("territory"), "territories");
/// assert_eq!(geoalign::align::plural("region"), "regions");
/// ```
pub fn plural(level: &str) -> String {
    match level.strip_suffix('y') {
        Some(stem) if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) => format!("{stem}ies"),
        _ => format!("{level}s"),
    }
}

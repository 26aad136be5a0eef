//! Alignments: postal units -> territory -> district -> region, with reps,
//! accounts, locks and change sets that can be undone.

pub mod metrics;
pub mod ops;
pub mod records;
pub mod sheet;
pub mod state;
pub mod units;

pub use ops::{AccountRecord, Op, RepRecord};
pub use state::{AlignmentState, Territory};
pub use units::UnitIndex;

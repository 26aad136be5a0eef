//! Spatial indexes a snapshot builds: the adaptive point grid (which unit contains
//! a point) and the k-d tree over reps' homes (nearest reps). Below the snapshot,
//! which owns them; the lookups read them through the snapshot.

pub mod grid;
pub mod kdtree;
mod reps;

pub use reps::{NearRep, RepIndex, RepPoint};

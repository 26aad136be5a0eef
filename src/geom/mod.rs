//! Geometry shared by every layer: OGC validity, lon/lat checks and antimeridian-aware
//! spans. Imports no other module of the crate.

mod lonlat;
mod span;
pub mod validity;

pub use lonlat::{EARTH_RADIUS_KM, PointError, check};
pub use span::circular_span;

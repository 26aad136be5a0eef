//! Geometry shared by every layer: OGC validity and lon/lat checks. Imports no
//! other module of the crate.

mod lonlat;
pub mod validity;

pub use lonlat::{EARTH_RADIUS_KM, PointError, check};

//! Lon/lat coordinates: the range check every layer applies and the Earth radius.

/// Mean Earth radius used for great-circle distances, in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Why a coordinate cannot be looked up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    /// Not finite, or outside [-180, 180] x [-90, 90].
    #[error("({lon}, {lat}) is not a lon/lat coordinate (lon -180..180, lat -90..90)")]
    OutOfRange {
        /// Longitude given.
        lon: f64,
        /// Latitude given.
        lat: f64,
    },
}

/// Checks a lon/lat pair.
pub fn check(lon: f64, lat: f64) -> Result<(), PointError> {
    if lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0 {
        Ok(())
    } else {
        Err(PointError::OutOfRange { lon, lat })
    }
}

//! Tile math: Web Mercator (EPSG:3857) in normalised world units, tile ids and
//! their bounds.
//!
//! World coordinates are normalised to `[0, 1]` on both axes, `y` pointing down
//! (north at 0), as tiles are: tile `(z, x, y)` covers `[x, x + 1] / 2^z` by
//! `[y, y + 1] / 2^z`.
//!
//! ```
//! use geoalign::tiles::{TileId, lonlat_to_world};
//! let [x, y] = lonlat_to_world(-73.98, 40.75);
//! let tile = TileId::containing(10, x, y);
//! assert_eq!((tile.z, tile.x, tile.y), (10, 301, 384));
//! assert!(TileId::new(2, 4, 0).is_none());
//! ```

use std::fmt;

/// Largest latitude Web Mercator shows.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Highest zoom level served.
pub const MAX_ZOOM: u8 = 22;

/// A tile address in the XYZ scheme (y = 0 at the north).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom level.
    pub z: u8,
    /// Column, `0..2^z`.
    pub x: u32,
    /// Row, `0..2^z` from the north.
    pub y: u32,
}

impl TileId {
    /// A tile id, or `None` when out of range for its zoom (or the zoom above [`MAX_ZOOM`]).
    pub fn new(z: u8, x: u32, y: u32) -> Option<TileId> {
        if z > MAX_ZOOM {
            return None;
        }
        let n = 1u32 << z;
        (x < n && y < n).then_some(TileId { z, x, y })
    }

    /// The tile containing world point `(x, y)` at zoom `z` (clamped to the world).
    pub fn containing(z: u8, x: f64, y: f64) -> TileId {
        let n = f64::from(1u32 << z.min(MAX_ZOOM));
        let max = (1u32 << z.min(MAX_ZOOM)) - 1;
        let col = ((x * n).floor().max(0.0) as u32).min(max);
        let row = ((y * n).floor().max(0.0) as u32).min(max);
        TileId {
            z: z.min(MAX_ZOOM),
            x: col,
            y: row,
        }
    }

    /// Number of tiles along an axis at this zoom.
    pub fn span(&self) -> f64 {
        f64::from(1u32 << self.z)
    }

    /// World bounds `[min_x, min_y, max_x, max_y]`, grown by `margin` tile widths on each side.
    pub fn world_bounds(&self, margin: f64) -> [f64; 4] {
        let n = self.span();
        [
            (f64::from(self.x) - margin) / n,
            (f64::from(self.y) - margin) / n,
            (f64::from(self.x) + 1.0 + margin) / n,
            (f64::from(self.y) + 1.0 + margin) / n,
        ]
    }

    /// Bounds in degrees `[west, south, east, north]`, grown by `margin` tile widths.
    pub fn lonlat_bounds(&self, margin: f64) -> [f64; 4] {
        let [x0, y0, x1, y1] = self.world_bounds(margin);
        let [west, north] = world_to_lonlat(x0, y0);
        let [east, south] = world_to_lonlat(x1, y1);
        [west, south, east, north]
    }

    /// The parent tile, `None` at zoom 0.
    pub fn parent(&self) -> Option<TileId> {
        (self.z > 0).then(|| TileId {
            z: self.z - 1,
            x: self.x / 2,
            y: self.y / 2,
        })
    }

    /// Tiles at zoom `z` covering a world box `[min_x, min_y, max_x, max_y]`, row by row.
    pub fn covering(z: u8, bbox: [f64; 4]) -> impl Iterator<Item = TileId> {
        let a = TileId::containing(z, bbox[0], bbox[1]);
        let b = TileId::containing(z, bbox[2], bbox[3]);
        (a.y..=b.y).flat_map(move |y| (a.x..=b.x).map(move |x| TileId { z: a.z, x, y }))
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Longitude and latitude (degrees) to normalised Web Mercator world coordinates.
pub fn lonlat_to_world(lon: f64, lat: f64) -> [f64; 2] {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    let x = (lon + 180.0) / 360.0;
    let y = 0.5 - (lat.tan() + 1.0 / lat.cos()).ln() / (2.0 * std::f64::consts::PI);
    [x, y]
}

/// Normalised Web Mercator world coordinates to longitude and latitude (degrees).
pub fn world_to_lonlat(x: f64, y: f64) -> [f64; 2] {
    let lon = x * 360.0 - 180.0;
    let n = std::f64::consts::PI * (1.0 - 2.0 * y);
    let lat = n.sinh().atan().to_degrees();
    [lon, lat]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bounds() {
        let [x, y] = lonlat_to_world(-74.0, 40.7);
        let [lon, lat] = world_to_lonlat(x, y);
        assert!((lon + 74.0).abs() < 1e-9 && (lat - 40.7).abs() < 1e-9);
        let t = TileId::new(1, 0, 0).expect("tile");
        let [w, s, e, n] = t.lonlat_bounds(0.0);
        assert!((w + 180.0).abs() < 1e-9 && s.abs() < 1e-9 && e.abs() < 1e-9);
        assert!((n - MAX_LATITUDE).abs() < 1e-9);
        assert_eq!(TileId::covering(1, [0.0, 0.0, 1.0, 1.0]).count(), 4);
        assert_eq!(t.parent(), TileId::new(0, 0, 0));
    }
}

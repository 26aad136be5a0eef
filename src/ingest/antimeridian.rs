//! Polygons that cross the antimeridian (Alaska's Aleutians, Fiji, Chukotka).
//!
//! A dataset may store such a ring naively, stepping from lon 179.9 straight to
//! -179.9. Read as planar coordinates that ring wraps the whole world. We detect
//! the jump, unwrap the ring into a continuous longitude range, and cut it at
//! ±180 into a MultiPolygon whose parts each stay within [-180, 180] (RFC 7946 §3.1.9).

use geo::{BooleanOps, Coord, LineString, MultiPolygon, Polygon, Rect, Translate};

/// Whether any ring has a step of more than 180° in longitude.
pub fn crosses(polygon: &Polygon<f64>) -> bool {
    std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .any(ring_jumps)
}

fn ring_jumps(ring: &LineString<f64>) -> bool {
    ring.lines().any(|l| (l.end.x - l.start.x).abs() > 180.0)
}

/// Unwraps the rings of a polygon that crosses the antimeridian and cuts the
/// result at ±180 into parts within [-180, 180].
///
/// ```
/// use geo::{polygon, Area};
/// use geoalign::ingest::antimeridian::split;
/// let naive = polygon![(x: 179.0, y: 51.0), (x: -179.0, y: 51.0), (x: -179.0, y: 52.0), (x: 179.0, y: 52.0)];
/// let parts = split(&naive);
/// assert_eq!(parts.0.len(), 2);
/// assert!((parts.unsigned_area() - 2.0).abs() < 1e-9);
/// ```
pub fn split(polygon: &Polygon<f64>) -> MultiPolygon<f64> {
    let unwrap = |ring: &LineString<f64>| -> LineString<f64> {
        let mut offset = 0.0;
        let mut previous: Option<f64> = None;
        ring.coords()
            .map(|c| {
                if let Some(p) = previous {
                    let step = c.x - p;
                    if step > 180.0 {
                        offset -= 360.0;
                    } else if step < -180.0 {
                        offset += 360.0;
                    }
                }
                previous = Some(c.x);
                Coord {
                    x: c.x + offset,
                    y: c.y,
                }
            })
            .collect()
    };
    let mut unwrapped = Polygon::new(
        unwrap(polygon.exterior()),
        polygon.interiors().iter().map(unwrap).collect(),
    );
    // Bring the unwrapped ring so that its west edge lies in [-180, 180).
    let min_x = unwrapped
        .exterior()
        .coords()
        .map(|c| c.x)
        .fold(f64::INFINITY, f64::min);
    let shift = ((min_x + 180.0) / 360.0).floor() * -360.0;
    unwrapped.translate_mut(shift, 0.0);

    let world = Rect::new(Coord { x: -180.0, y: -90.0 }, Coord { x: 180.0, y: 90.0 }).to_polygon();
    let east = Rect::new(Coord { x: 180.0, y: -90.0 }, Coord { x: 540.0, y: 90.0 }).to_polygon();
    let inside = unwrapped.intersection(&world);
    let mut beyond = unwrapped.intersection(&east);
    beyond.translate_mut(-360.0, 0.0);
    MultiPolygon::new(inside.0.into_iter().chain(beyond.0).collect())
}

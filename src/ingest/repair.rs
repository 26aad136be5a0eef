//! Validation and repair of polygon geometry: what a boundary file gets wrong
//! and how each fault is handled.
//!
//! | fault | outcome |
//! |---|---|
//! | null or empty geometry | rejected |
//! | point or line where a polygon is expected | rejected |
//! | non-finite coordinate | rejected |
//! | repeated consecutive vertices | removed (repaired) |
//! | ring not closed | closed (repaired, reported by the reader) |
//! | zero-area hole | dropped (repaired) |
//! | zero-area polygon (all parts) | rejected |
//! | self-intersection, overlapping parts | rebuilt with a boolean union (repaired) |
//! | wrong ring orientation | exterior counter-clockwise, holes clockwise (silent) |
//! | crosses the antimeridian naively | cut at ±180 (repaired) |

use geo::orient::Direction;
use geo::{BooleanOps, Geometry, LineString, MultiPolygon, Orient, Polygon, RemoveRepeatedPoints};

use super::antimeridian;
use crate::geom::validity;

/// A polygonal geometry that passed validation, with the repairs made.
#[derive(Debug)]
pub struct Repaired {
    /// Valid, oriented (RFC 7946 right-hand rule) MultiPolygon in lon/lat.
    pub geometry: MultiPolygon<f64>,
    /// What was repaired, empty when the input was clean.
    pub repairs: Vec<&'static str>,
}

/// Validates a polygonal geometry and repairs what can be repaired without
/// changing the area it covers; returns the reason when it must be rejected.
pub fn polygonal(geometry: Geometry<f64>) -> Result<Repaired, String> {
    let mut repairs = Vec::new();
    let polygons = match geometry {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(mp) => mp.0,
        Geometry::Rect(r) => vec![r.to_polygon()],
        Geometry::Triangle(t) => vec![t.to_polygon()],
        Geometry::GeometryCollection(gc) => {
            let mut out = Vec::new();
            for g in gc {
                match g {
                    Geometry::Polygon(p) => out.push(p),
                    Geometry::MultiPolygon(mp) => out.extend(mp.0),
                    other => return Err(format!("{} inside a polygon collection", kind(&other))),
                }
            }
            out
        }
        other => return Err(format!("geometry is a {}, expected a polygon", kind(&other))),
    };
    if polygons.iter().all(|p| p.exterior().0.is_empty()) {
        return Err("empty geometry".into());
    }
    let finite = |ring: &LineString<f64>| ring.coords().all(|c| c.x.is_finite() && c.y.is_finite());
    if !polygons
        .iter()
        .all(|p| finite(p.exterior()) && p.interiors().iter().all(finite))
    {
        return Err("non-finite coordinate".into());
    }

    let mut parts = Vec::with_capacity(polygons.len());
    for polygon in polygons {
        let cleaned = polygon.remove_repeated_points();
        if cleaned.exterior().0.len() != polygon.exterior().0.len()
            || cleaned
                .interiors()
                .iter()
                .zip(polygon.interiors())
                .any(|(a, b)| a.0.len() != b.0.len())
        {
            push_once(&mut repairs, "removed repeated vertices");
        }
        if antimeridian::crosses(&cleaned) {
            push_once(&mut repairs, "cut at the antimeridian");
            parts.extend(antimeridian::split(&cleaned).0);
        } else {
            parts.push(cleaned);
        }
    }

    let mut kept = Vec::with_capacity(parts.len());
    for polygon in parts {
        if is_degenerate(polygon.exterior()) {
            continue;
        }
        let (exterior, interiors) = polygon.into_inner();
        let holes_before = interiors.len();
        let holes: Vec<LineString<f64>> = interiors.into_iter().filter(|r| !is_degenerate(r)).collect();
        if holes.len() != holes_before {
            push_once(&mut repairs, "dropped zero-area holes");
        }
        kept.push(Polygon::new(exterior, holes));
    }
    if kept.is_empty() {
        return Err("degenerate geometry: zero area".into());
    }

    let mut multi = MultiPolygon::new(kept);
    if !validity::is_valid(&multi) {
        // A boolean union rebuilds the rings from their edges: self-intersections
        // become vertices, overlapping parts merge, bow-ties split into lobes.
        let oriented = multi.orient(Direction::Default);
        let rebuilt = oriented.union(&MultiPolygon::new(Vec::new()));
        if rebuilt.0.is_empty() || !validity::is_valid(&rebuilt) {
            return Err("self-intersecting geometry that could not be repaired".into());
        }
        push_once(&mut repairs, "rebuilt self-intersecting rings");
        multi = rebuilt;
    }
    Ok(Repaired {
        geometry: multi.orient(Direction::Default),
        repairs,
    })
}

/// Whether a ring encloses nothing: fewer than three distinct vertices, or all
/// of them on one line. (A bow-tie has zero signed area but is not degenerate.)
fn is_degenerate(ring: &LineString<f64>) -> bool {
    let mut coords = ring.coords();
    let Some(first) = coords.next() else { return true };
    let Some(second) = coords.by_ref().find(|c| *c != first) else {
        return true;
    };
    let (dx, dy) = (second.x - first.x, second.y - first.y);
    let scale = dx.abs().max(dy.abs());
    !coords.any(|c| {
        let cross = dx * (c.y - first.y) - dy * (c.x - first.x);
        cross.abs() > 1e-12 * scale * scale.max((c.x - first.x).abs()).max((c.y - first.y).abs())
    })
}

fn push_once(repairs: &mut Vec<&'static str>, what: &'static str) {
    if !repairs.contains(&what) {
        repairs.push(what);
    }
}

/// The OGC name of a geometry's type, for messages.
pub fn kind(geometry: &Geometry<f64>) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) | Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
    }
}

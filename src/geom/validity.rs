//! OGC validity of a MultiPolygon in O(n log n): a sort-and-sweep over all ring
//! segments finds crossings, overlaps and self-touches; point-in-ring tests
//! check that holes lie in their shell and parts do not nest.
//!
//! `geo`'s `Validation` tests every pair of segments of a ring (quadratic),
//! which dominates ingest time on detailed coastlines.

use geo::line_intersection::{LineIntersection, line_intersection};
use geo::{
    Coord, CoordinatePosition, Line, LineString, MultiPolygon, Polygon, coordinate_position::CoordPos,
};

/// A segment with the ring it belongs to and its position in that ring.
struct Segment {
    line: Line<f64>,
    ring: usize,
    index: usize,
    ring_len: usize,
    min_x: f64,
    max_x: f64,
}

/// Whether `multi` is valid in the OGC Simple Features sense (rings simple and
/// closed, holes inside their shell and not nested, parts with disjoint interiors;
/// rings may touch other rings at isolated points).
///
/// ```
/// use geo::{polygon, MultiPolygon};
/// use geoalign::geom::validity::is_valid;
/// let square = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)];
/// let bowtie = polygon![(x: 0., y: 0.), (x: 1., y: 1.), (x: 1., y: 0.), (x: 0., y: 1.)];
/// assert!(is_valid(&MultiPolygon::new(vec![square])));
/// assert!(!is_valid(&MultiPolygon::new(vec![bowtie])));
/// ```
pub fn is_valid(multi: &MultiPolygon<f64>) -> bool {
    let rings: Vec<&LineString<f64>> = multi
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .collect();
    if rings.iter().any(|r| r.0.len() < 4 || r.0.first() != r.0.last()) {
        return false;
    }
    segments_are_simple(&rings) && holes_inside_shells(multi) && parts_do_not_nest(multi)
}

fn segments_are_simple(rings: &[&LineString<f64>]) -> bool {
    let mut segments: Vec<Segment> = Vec::with_capacity(rings.iter().map(|r| r.0.len()).sum());
    for (ring, coords) in rings.iter().enumerate() {
        let ring_len = coords.0.len() - 1;
        for (index, line) in coords.lines().enumerate() {
            if line.start == line.end {
                return false; // repeated vertex: a zero-length edge
            }
            segments.push(Segment {
                line,
                ring,
                index,
                ring_len,
                min_x: line.start.x.min(line.end.x),
                max_x: line.start.x.max(line.end.x),
            });
        }
    }
    segments.sort_unstable_by(|a, b| a.min_x.total_cmp(&b.min_x));
    for (i, a) in segments.iter().enumerate() {
        let (a_min_y, a_max_y) = (a.line.start.y.min(a.line.end.y), a.line.start.y.max(a.line.end.y));
        for b in segments[i + 1..].iter().take_while(|b| b.min_x <= a.max_x) {
            let (b_min_y, b_max_y) = (b.line.start.y.min(b.line.end.y), b.line.start.y.max(b.line.end.y));
            if b_min_y > a_max_y || b_max_y < a_min_y {
                continue;
            }
            if conflicts(a, b) {
                return false;
            }
        }
    }
    true
}

/// Whether two segments meet in a way OGC validity forbids.
fn conflicts(a: &Segment, b: &Segment) -> bool {
    let Some(meeting) = line_intersection(a.line, b.line) else {
        return false;
    };
    let adjacent = a.ring == b.ring && {
        let (i, j) = (a.index.min(b.index), a.index.max(b.index));
        j == i + 1 || (i == 0 && j == a.ring_len - 1)
    };
    match meeting {
        // Any overlap along a line: a spike, a shared edge between parts, a hole on the shell.
        LineIntersection::Collinear { .. } => true,
        LineIntersection::SinglePoint { is_proper: true, .. } => true,
        LineIntersection::SinglePoint { intersection, .. } => {
            if adjacent {
                // Neighbours in a ring share exactly their common vertex.
                let shared = if a.line.end == b.line.start || a.line.end == b.line.end {
                    a.line.end
                } else {
                    a.line.start
                };
                intersection != shared
            } else {
                // Non-adjacent edges of one ring must not touch; different rings may.
                a.ring == b.ring
            }
        }
    }
}

/// A point of `ring` not on `other`'s boundary, to test which side of `other` it lies.
fn probe(ring: &LineString<f64>, other: &Polygon<f64>) -> Option<Coord<f64>> {
    ring.coords()
        .copied()
        .chain(ring.lines().map(|l| (l.start + l.end) / 2.0))
        .find(|c| other.coordinate_position(c) != CoordPos::OnBoundary)
}

fn holes_inside_shells(multi: &MultiPolygon<f64>) -> bool {
    multi.iter().all(|polygon| {
        let shell = Polygon::new(polygon.exterior().clone(), Vec::new());
        let holes: Vec<Polygon<f64>> = polygon
            .interiors()
            .iter()
            .map(|h| Polygon::new(h.clone(), Vec::new()))
            .collect();
        holes.iter().enumerate().all(|(i, hole)| {
            let Some(p) = probe(hole.exterior(), &shell) else {
                return false;
            };
            shell.coordinate_position(&p) == CoordPos::Inside
                && holes.iter().enumerate().all(|(j, other)| {
                    i == j
                        || probe(hole.exterior(), other)
                            .is_none_or(|q| other.coordinate_position(&q) != CoordPos::Inside)
                })
        })
    })
}

fn parts_do_not_nest(multi: &MultiPolygon<f64>) -> bool {
    use geo::BoundingRect;
    let parts = &multi.0;
    if parts.len() < 2 {
        return true;
    }
    let boxes: Vec<_> = parts.iter().map(|p| p.bounding_rect()).collect();
    for (i, a) in parts.iter().enumerate() {
        for (j, b) in parts.iter().enumerate() {
            if i == j {
                continue;
            }
            let (Some(ra), Some(rb)) = (boxes[i], boxes[j]) else {
                continue;
            };
            let inside_box = ra.min().x >= rb.min().x
                && ra.max().x <= rb.max().x
                && ra.min().y >= rb.min().y
                && ra.max().y <= rb.max().y;
            if inside_box
                && let Some(p) = probe(a.exterior(), b)
                && b.coordinate_position(&p) == CoordPos::Inside
            {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_valid;
    use geo::{MultiPolygon, Validation, polygon};

    fn agree(mp: MultiPolygon<f64>) -> bool {
        let ours = is_valid(&mp);
        assert_eq!(ours, mp.is_valid(), "disagrees with geo on {mp:?}");
        ours
    }

    #[test]
    fn agrees_with_geo_on_the_classic_cases() {
        let square = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)];
        let with_hole = polygon!(
            exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)],
            interiors: [[(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)]],
        );
        let hole_outside = polygon!(
            exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)],
            interiors: [[(x: 5., y: 5.), (x: 6., y: 5.), (x: 6., y: 6.), (x: 5., y: 6.)]],
        );
        let hole_crossing = polygon!(
            exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)],
            interiors: [[(x: 3., y: 1.), (x: 5., y: 1.), (x: 5., y: 2.), (x: 3., y: 2.)]],
        );
        let bowtie = polygon![(x: 0., y: 0.), (x: 2., y: 2.), (x: 2., y: 0.), (x: 0., y: 2.)];
        let spike = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 6., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.)];
        let far = polygon![(x: 10., y: 0.), (x: 12., y: 0.), (x: 12., y: 2.), (x: 10., y: 2.)];
        let inner = polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)];
        let overlapping = polygon![(x: 3., y: 3.), (x: 6., y: 3.), (x: 6., y: 6.), (x: 3., y: 6.)];
        let corner_touch = polygon![(x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 6.), (x: 4., y: 6.)];
        let edge_share = polygon![(x: 4., y: 0.), (x: 6., y: 0.), (x: 6., y: 4.), (x: 4., y: 4.)];

        assert!(agree(MultiPolygon::new(vec![square.clone()])));
        assert!(agree(MultiPolygon::new(vec![with_hole.clone()])));
        assert!(agree(MultiPolygon::new(vec![square.clone(), far])));
        assert!(agree(MultiPolygon::new(vec![square.clone(), corner_touch])));
        assert!(!agree(MultiPolygon::new(vec![hole_outside])));
        assert!(!agree(MultiPolygon::new(vec![hole_crossing])));
        assert!(!agree(MultiPolygon::new(vec![bowtie])));
        assert!(!agree(MultiPolygon::new(vec![spike])));
        assert!(!agree(MultiPolygon::new(vec![square.clone(), inner])));
        assert!(!agree(MultiPolygon::new(vec![square.clone(), overlapping])));
        assert!(!agree(MultiPolygon::new(vec![square, edge_share])));
    }
}

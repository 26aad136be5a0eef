//! Noding: the rings' vertices snapped, T-junctions and crossings made into shared
//! vertices, until the segments of all rings form a planar graph.
//!
//! Each round
//! 1. snaps every point to the first earlier point within the tolerance
//!    ([`crate::topo::snap`]) and drops the rings that collapse;
//! 2. inserts a vertex lying within the tolerance of another ring's segment into that
//!    segment ([`crate::topo::split`]);
//! 3. finds the pairs of segments that still meet other than at a shared end point
//!    ([`crate::topo::planar`]) and inserts the meeting point into both: the crossing
//!    point of a proper crossing (or an end point within the tolerance of it), the end
//!    point touching the other segment, the end points of a collinear overlap.
//!
//! A round that changes nothing ends the loop; the points a crossing adds can make new
//! near-coincidences, which the next round resolves. Vertices move only in step 1 (by at
//! most the tolerance); steps 2 and 3 only add vertices.

use geo::line_intersection::{LineIntersection, line_intersection};
use geo::{Coord, Line};
use rayon::prelude::*;

use crate::topo::split::{self, Insertion, Rings};
use crate::topo::{planar, snap};

/// Rounds after which noding gives up (each round makes the graph more planar; real
/// files need two or three).
const MAX_ROUNDS: usize = 12;

/// Rings of point ids forming a planar graph, with what noding did.
pub(super) struct Noded {
    /// Distinct points.
    pub(super) points: Vec<Coord<f64>>,
    /// Rings of point ids; ring `r` belongs to unit `ring_unit[r]`.
    pub(super) rings: Rings,
    /// The unit of each ring.
    pub(super) ring_unit: Vec<u32>,
    /// Input vertices moved by snapping (counted in the first round).
    pub(super) snapped: usize,
    /// The largest distance (degrees, planar) between an input vertex and where it ended.
    pub(super) max_displacement: f64,
    /// Vertices inserted into a segment they lay on.
    pub(super) inserted: usize,
    /// Crossing points added.
    pub(super) crossings: usize,
    /// Rings dropped because snapping collapsed them.
    pub(super) collapsed_rings: usize,
    /// Rounds run.
    pub(super) rounds: usize,
    /// Pairs of segments still meeting away from a shared vertex after the last round
    /// (0 unless noding did not converge).
    pub(super) unresolved: usize,
}

/// Nodes oriented rings: `coords[off[r]..off[r + 1]]` is ring `r` of unit
/// `ring_unit[r]` (unit on the left, closing vertex not repeated).
pub(super) fn node(coords: &[Coord<f64>], off: &[u32], ring_unit: &[u32], tolerance: f64) -> Noded {
    let first = snap::snap(coords, tolerance);
    let input = Rings {
        pts: (0..coords.len() as u32).collect(),
        off: off.to_vec(),
    };
    let (mut rings, mut units, mut collapsed) = renumber(&input, ring_unit, &first.ids);
    drop(input);
    let mut points = first.points;
    // Where each input vertex is now: followed through later re-snaps.
    let mut now = first.ids;
    let mut noded = Noded {
        points: Vec::new(),
        rings: Rings::default(),
        ring_unit: Vec::new(),
        snapped: first.moved,
        max_displacement: 0.0,
        inserted: 0,
        crossings: 0,
        collapsed_rings: 0,
        rounds: 0,
        unresolved: 0,
    };
    loop {
        noded.rounds += 1;
        let started = std::time::Instant::now();
        noded.inserted += split::split(&points, &mut rings, tolerance);
        let split = started.elapsed();
        let (added, met) = insert_crossings(&mut points, &mut rings, tolerance);
        noded.crossings += added;
        tracing::debug!(
            round = noded.rounds,
            split_ms = split.as_secs_f64() * 1e3,
            crossings_ms = (started.elapsed() - split).as_secs_f64() * 1e3,
            meeting_pairs = met,
            "noding round"
        );
        if met == 0 {
            break;
        }
        if noded.rounds == MAX_ROUNDS {
            noded.unresolved = met;
            tracing::warn!(pairs = met, "noding did not converge; segments still cross");
            break;
        }
        // New points may lie within the tolerance of others (or equal them): snap again.
        let again = snap::snap(&points, tolerance);
        let dropped;
        (rings, units, dropped) = renumber(&rings, &units, &again.ids);
        collapsed += dropped;
        for p in &mut now {
            *p = again.ids[*p as usize];
        }
        points = again.points;
    }
    noded.max_displacement = coords
        .iter()
        .zip(&now)
        .map(|(c, &p)| {
            let q = points[p as usize];
            (c.x - q.x).hypot(c.y - q.y)
        })
        .fold(0.0, f64::max);
    noded.collapsed_rings = collapsed;
    noded.points = points;
    noded.rings = rings;
    noded.ring_unit = units;
    noded
}

/// The rings with every point renumbered by `map`, without consecutive repeats, and
/// their units; rings left with fewer than three points are dropped and counted.
fn renumber(rings: &Rings, ring_unit: &[u32], map: &[u32]) -> (Rings, Vec<u32>, usize) {
    let mut out = Rings {
        pts: Vec::with_capacity(rings.pts.len()),
        off: vec![0],
    };
    let mut units = Vec::with_capacity(ring_unit.len());
    let mut dropped = 0;
    for (r, &unit) in ring_unit.iter().enumerate() {
        if out.push(rings.ring(r).iter().map(|&p| map[p as usize])) {
            units.push(unit);
        } else {
            dropped += 1;
        }
    }
    (out, units, dropped)
}

/// Inserts the meeting points of segments that meet away from a shared end point;
/// returns the number of new points and the number of meeting pairs found.
fn insert_crossings(points: &mut Vec<Coord<f64>>, rings: &mut Rings, tolerance: f64) -> (usize, usize) {
    let mut segments: Vec<(u32, u32)> = Vec::with_capacity(rings.pts.len());
    for r in 0..rings.len() {
        let ring = rings.ring(r);
        for (k, &p) in ring.iter().enumerate() {
            let q = ring[(k + 1) % ring.len()];
            segments.push((p.min(q), p.max(q)));
        }
    }
    segments.par_sort_unstable();
    segments.dedup();
    let pairs = planar::conflicts(points, &segments);
    if pairs.is_empty() {
        return (0, 0);
    }
    let tol2 = tolerance * tolerance;
    let mut insertions: Vec<Insertion> = Vec::with_capacity(2 * pairs.len());
    let mut added = 0;
    for &(i, j) in &pairs {
        let (a, b) = segments[i as usize];
        let (c, d) = segments[j as usize];
        let at = |p: u32| points[p as usize];
        let meeting = line_intersection(Line::new(at(a), at(b)), Line::new(at(c), at(d)));
        let mut on = |segment: u32, point: u32, points: &[Coord<f64>]| {
            let (s, e) = segments[segment as usize];
            if point == s || point == e {
                return;
            }
            let (ps, pe, pp) = (points[s as usize], points[e as usize], points[point as usize]);
            let (dx, dy) = (pe.x - ps.x, pe.y - ps.y);
            let len2 = dx * dx + dy * dy;
            if len2 > 0.0 {
                let t = (((pp.x - ps.x) * dx + (pp.y - ps.y) * dy) / len2)
                    .clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON);
                insertions.push(Insertion { segment, t, point });
            }
        };
        match meeting {
            Some(LineIntersection::SinglePoint { intersection, .. }) => {
                // An end point within the tolerance of the meeting point stands for it.
                let nearest = [a, b, c, d]
                    .into_iter()
                    .map(|p| (p, dist2(at(p), intersection)))
                    .min_by(|x, y| x.1.total_cmp(&y.1));
                let point = match nearest {
                    Some((p, d2)) if d2 <= tol2 || at(p) == intersection => p,
                    _ => {
                        points.push(intersection);
                        added += 1;
                        (points.len() - 1) as u32
                    }
                };
                on(i, point, points);
                on(j, point, points);
            }
            Some(LineIntersection::Collinear { .. }) => {
                for p in [c, d] {
                    if strictly_inside(points, (a, b), p) {
                        on(i, p, points);
                    }
                }
                for p in [a, b] {
                    if strictly_inside(points, (c, d), p) {
                        on(j, p, points);
                    }
                }
            }
            None => {
                // They share an end point and leave it along the same ray: the nearer far
                // end lies on the other segment.
                let shared = if a == c || a == d { a } else { b };
                let o1 = if shared == a { b } else { a };
                let o2 = if shared == c { d } else { c };
                let s = at(shared);
                if dist2(s, at(o1)) < dist2(s, at(o2)) {
                    on(j, o1, points);
                } else {
                    on(i, o2, points);
                }
            }
        }
    }
    split::insert(points.len(), rings, &segments, insertions);
    (added, pairs.len())
}

/// Whether point `p` lies strictly between the ends of the collinear segment `(a, b)`.
fn strictly_inside(points: &[Coord<f64>], (a, b): (u32, u32), p: u32) -> bool {
    if p == a || p == b {
        return false;
    }
    let (pa, pb, pp) = (points[a as usize], points[b as usize], points[p as usize]);
    let t = (pp.x - pa.x) * (pb.x - pa.x) + (pp.y - pa.y) * (pb.y - pa.y);
    t > 0.0 && t < dist2(pa, pb)
}

fn dist2(a: Coord<f64>, b: Coord<f64>) -> f64 {
    (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn crossing_squares_share_their_crossing_points() {
        // Two unit squares, the second shifted by (0.5, 0.5): their edges cross twice.
        let coords = vec![
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.0, y: 0.0 },
            coord! { x: 1.0, y: 1.0 },
            coord! { x: 0.0, y: 1.0 },
            coord! { x: 0.5, y: 0.5 },
            coord! { x: 1.5, y: 0.5 },
            coord! { x: 1.5, y: 1.5 },
            coord! { x: 0.5, y: 1.5 },
        ];
        let noded = node(&coords, &[0, 4, 8], &[0, 1], 1e-9);
        assert_eq!(noded.crossings, 2);
        assert_eq!(noded.unresolved, 0);
        assert_eq!(noded.rings.ring(0).len(), 6);
        assert_eq!(noded.rings.ring(1).len(), 6);
        let mut shared: Vec<u32> = noded.rings.ring(0).to_vec();
        shared.retain(|p| noded.rings.ring(1).contains(p));
        assert_eq!(shared.len(), 2);
        for p in shared {
            let c = noded.points[p as usize];
            assert!((c.x == 1.0 && c.y == 0.5) || (c.x == 0.5 && c.y == 1.0), "{c:?}");
        }
    }
}

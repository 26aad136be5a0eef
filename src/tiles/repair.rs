//! Keeps simplified arcs from crossing: Douglas-Peucker simplifies each arc on its own,
//! so at some tolerance two arcs (or two parts of one) may cross, which would open a gap
//! on one side and an overlap on the other. For every zoom's tolerance, segments of the
//! simplified arcs are checked against each other (R-tree), and where a simplified
//! segment crosses or touches another, the vertex Douglas-Peucker would split it at
//! next is kept (its importance raised above the tolerance), until nothing crosses.
//!
//! Raising importance only ever keeps more vertices, at that zoom and all deeper ones,
//! so one pass per zoom composes. Crossings a segment cannot avoid (no vertex left to
//! restore between its ends) are left alone: the input itself crosses there.
//!
//! ```
//! use geoalign::tiles::repair::repair_crossings;
//! use geoalign::tiles::simplify::chain_importance;
//! // Two arcs: a spike pointing up into a dent in the other, close enough to cross
//! // once both are simplified at tolerance 1.5.
//! let a = vec![[0.0, 0.0], [5.0, 1.0], [6.0, 3.0], [7.0, 1.0], [12.0, 0.0]];
//! let b = vec![[0.0, 4.0], [5.0, 4.2], [6.0, 2.0], [7.0, 4.2], [12.0, 4.0]];
//! let mut arcs = vec![(a.clone(), chain_importance(&a)), (b.clone(), chain_importance(&b))];
//! let restored = repair_crossings(&mut arcs, &[1.5]);
//! assert!(restored > 0);
//! ```

use rstar::{AABB, RTree, RTreeObject};

/// A segment of a simplified arc: arc, first and last vertex (indices into the arc).
#[derive(Debug, Clone, Copy)]
struct Segment {
    arc: u32,
    from: u32,
    to: u32,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Raises vertex importance so that no two arcs simplified at any of `tolerances`
/// cross. `arcs` are (coordinates, importance) pairs; returns how many vertices were
/// restored.
pub fn repair_crossings<C: AsRef<[[f64; 2]]>>(arcs: &mut [(C, Vec<f32>)], tolerances: &[f64]) -> usize {
    let mut restored = 0;
    for &t in tolerances {
        for _pass in 0..8 {
            let raised = repair_once(arcs, t);
            restored += raised;
            if raised == 0 {
                break;
            }
        }
    }
    restored
}

/// The smallest f32 that compares above `t` once widened to f64.
fn above(t: f64) -> f32 {
    let mut v = t as f32;
    while f64::from(v) <= t {
        v = f32::from_bits(v.to_bits() + 1);
    }
    v
}

fn repair_once<C: AsRef<[[f64; 2]]>>(arcs: &mut [(C, Vec<f32>)], t: f64) -> usize {
    let mut segments = Vec::new();
    for (a, (coords, importance)) in arcs.iter().enumerate() {
        let coords = coords.as_ref();
        let mut last: Option<usize> = None;
        for (i, imp) in importance.iter().enumerate() {
            if f64::from(*imp) <= t {
                continue;
            }
            if let Some(from) = last {
                let (p, q) = (coords[from], coords[i]);
                segments.push(Segment {
                    arc: a as u32,
                    from: from as u32,
                    to: i as u32,
                    envelope: AABB::from_corners(
                        [p[0].min(q[0]), p[1].min(q[1])],
                        [p[0].max(q[0]), p[1].max(q[1])],
                    ),
                });
            }
            last = Some(i);
        }
    }
    let simplified: Vec<Segment> = segments.iter().filter(|s| s.to > s.from + 1).copied().collect();
    if simplified.is_empty() {
        return 0;
    }
    let tree = RTree::bulk_load(segments);
    let mut raise: Vec<(u32, u32, u32)> = Vec::new();
    for s in &simplified {
        for r in tree.locate_in_envelope_intersecting(&s.envelope) {
            if r.arc == s.arc && (r.from == s.from || r.to == s.from || r.from == s.to) {
                continue; // itself or its neighbours on the arc
            }
            let (sc, rc) = (arcs[s.arc as usize].0.as_ref(), arcs[r.arc as usize].0.as_ref());
            let (a, b) = (sc[s.from as usize], sc[s.to as usize]);
            let (c, d) = (rc[r.from as usize], rc[r.to as usize]);
            if conflict(a, b, c, d) {
                raise.push((s.arc, s.from, s.to));
                if r.to > r.from + 1 {
                    raise.push((r.arc, r.from, r.to));
                }
            }
        }
    }
    raise.sort_unstable();
    raise.dedup();
    let value = above(t);
    let mut count = 0;
    for (arc, from, to) in raise {
        let importance = &mut arcs[arc as usize].1;
        let span = from as usize + 1..to as usize;
        let Some(k) = span
            .clone()
            .max_by(|&i, &j| importance[i].total_cmp(&importance[j]).then(j.cmp(&i)))
        else {
            continue;
        };
        if f64::from(importance[k]) <= t {
            importance[k] = value;
            count += 1;
        }
    }
    count
}

fn orient(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn on_segment(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> bool {
    p[0] >= a[0].min(b[0]) && p[0] <= a[0].max(b[0]) && p[1] >= a[1].min(b[1]) && p[1] <= a[1].max(b[1])
}

/// Whether segments ab and cd cross, or touch anywhere but at an end they share.
fn conflict(a: [f64; 2], b: [f64; 2], c: [f64; 2], d: [f64; 2]) -> bool {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    let shared = |p: [f64; 2]| p == c || p == d;
    (d1 == 0.0 && on_segment(c, d, a) && !shared(a))
        || (d2 == 0.0 && on_segment(c, d, b) && !shared(b))
        || (d3 == 0.0 && on_segment(a, b, c) && !(c == a || c == b))
        || (d4 == 0.0 && on_segment(a, b, d) && !(d == a || d == b))
}

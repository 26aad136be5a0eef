//! Face consistency: each face of the edge arrangement must be claimed by at most one
//! unit, and every edge around it must agree on which.
//!
//! Two checks find the overlaps that share no edge and cross no edge:
//! - around every node, the two arcs bounding each angular sector must give the sector
//!   the same unit (a unit touching another one from inside at a vertex fails here);
//! - every connected component of the edges must sit in a face carrying the unit its
//!   outer side expects: a ray cast west from the component's leftmost vertex finds the
//!   enclosing face (a unit lying wholly inside another one fails here).
//!
//! The units around each failure are reported: a dissolve holding any of them is
//! validated (and falls back to an overlay if its outline is invalid).

use geo::Coord;

use super::strips::{Bbox, StripIndex, ordered};
use super::{Arc, NONE};

/// An undirected edge `a < b` and the units on its left and right walking from `a` to `b`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sided {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) left: u32,
    pub(crate) right: u32,
}

/// Units around inconsistent faces, sorted and deduplicated (see the module
/// documentation).
pub(crate) fn inconsistent_units(
    points: &[Coord<f64>],
    edges: &[Sided],
    adj_off: &[u32],
    adj: &[u32],
    arcs: &[Arc],
    coords: &[Coord<f64>],
) -> Vec<u32> {
    let mut bad: Vec<u32> = Vec::new();
    let mut flag = |units: &[u32]| bad.extend(units.iter().copied().filter(|&u| u != NONE));
    sectors(arcs, coords, &mut flag);
    components(points, edges, adj_off, adj, &mut flag);
    bad.sort_unstable();
    bad.dedup();
    bad
}

/// One arc end at a node: direction leaving the node and the units on its left and
/// right walking away from the node.
struct End {
    node: u32,
    angle: f64,
    left: u32,
    right: u32,
}

/// Around every node, consecutive arcs must agree on the sector between them.
fn sectors(arcs: &[Arc], coords: &[Coord<f64>], flag: &mut impl FnMut(&[u32])) {
    let mut ends: Vec<End> = Vec::with_capacity(2 * arcs.len());
    let angle = |from: Coord<f64>, to: Coord<f64>| (to.y - from.y).atan2(to.x - from.x);
    for a in arcs {
        let (s, e) = (a.start as usize, a.end as usize);
        ends.push(End {
            node: a.from,
            angle: angle(coords[s], coords[s + 1]),
            left: a.left,
            right: a.right,
        });
        ends.push(End {
            node: a.to,
            angle: angle(coords[e - 1], coords[e - 2]),
            left: a.right,
            right: a.left,
        });
    }
    ends.sort_unstable_by_key(|e| (e.node, ordered(e.angle)));
    let mut i = 0;
    while i < ends.len() {
        let mut j = i + 1;
        while j < ends.len() && ends[j].node == ends[i].node {
            j += 1;
        }
        // Counter-clockwise: the sector after end k is on k's left and on k+1's right.
        let around = &ends[i..j];
        for (k, h) in around.iter().enumerate() {
            let g = &around[(k + 1) % around.len()];
            if h.left != g.right {
                flag(&[h.left, h.right, g.left, g.right]);
            }
        }
        i = j;
    }
}

/// Every connected component must lie in a face of the unit its outside expects.
fn components(
    points: &[Coord<f64>],
    edges: &[Sided],
    adj_off: &[u32],
    adj: &[u32],
    flag: &mut impl FnMut(&[u32]),
) {
    // Components by union-find over the edges.
    let mut parent: Vec<u32> = (0..points.len() as u32).collect();
    fn root(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            let up = parent[parent[x as usize] as usize];
            parent[x as usize] = up;
            x = up;
        }
        x
    }
    for e in edges {
        let (ra, rb) = (root(&mut parent, e.a), root(&mut parent, e.b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    // Points are sorted by (x, y): a component's first point is its leftmost (lowest
    // among the leftmost), so nothing of it lies west of it or straight below it.
    let mut leftmost: Vec<u32> = Vec::new();
    let mut done = vec![false; points.len()];
    for p in 0..points.len() as u32 {
        if adj_off[p as usize] == adj_off[p as usize + 1] {
            continue;
        }
        let r = root(&mut parent, p);
        if !done[r as usize] {
            done[r as usize] = true;
            leftmost.push(p);
        }
    }
    if leftmost.len() < 2 {
        // A single component: its outside is the unbounded face.
        if let Some(&v) = leftmost.first() {
            let (outside, inside) = west_sector(points, edges, adj_off, adj, v);
            if outside != NONE {
                flag(&[outside, inside]);
            }
        }
        return;
    }
    let boxes: Vec<Bbox> = edges
        .iter()
        .map(|e| Bbox::of_segment(points[e.a as usize], points[e.b as usize], 0.0))
        .collect();
    let index = StripIndex::new(&boxes);
    for &v in &leftmost {
        let (outside, inside) = west_sector(points, edges, adj_off, adj, v);
        let enclosing = face_west_of(points, edges, &boxes, &index, points[v as usize]);
        if outside != enclosing {
            flag(&[outside, inside, enclosing]);
        }
    }
}

/// The unit just west of `v` (the component's leftmost vertex), seen from its edges —
/// the left side of the incident edge turning furthest counter-clockwise — and the unit
/// on that edge's other side.
fn west_sector(points: &[Coord<f64>], edges: &[Sided], adj_off: &[u32], adj: &[u32], v: u32) -> (u32, u32) {
    let at = points[v as usize];
    let mut best = (f64::NEG_INFINITY, NONE, NONE);
    for &e in &adj[adj_off[v as usize] as usize..adj_off[v as usize + 1] as usize] {
        let edge = &edges[e as usize];
        let (other, left, right) = if edge.a == v {
            (edge.b, edge.left, edge.right)
        } else {
            (edge.a, edge.right, edge.left)
        };
        let to = points[other as usize];
        let angle = (to.y - at.y).atan2(to.x - at.x);
        if angle > best.0 {
            best = (angle, left, right);
        }
    }
    (best.1, best.2)
}

/// The unit of the face holding a point just above and west of `at`: the east side of
/// the nearest edge a westward ray (at `at.y` + ε) crosses, or [`NONE`].
fn face_west_of(
    points: &[Coord<f64>],
    edges: &[Sided],
    boxes: &[Bbox],
    index: &StripIndex,
    at: Coord<f64>,
) -> u32 {
    let y0 = at.y;
    // Nearest crossing: largest x, then (ε above) the largest dx/dy.
    let mut best: Option<(f64, f64, u32)> = None;
    for e in index.near(y0) {
        if boxes[e as usize].min_x >= at.x {
            break;
        }
        let edge = &edges[e as usize];
        let (a, b) = (points[edge.a as usize], points[edge.b as usize]);
        if (a.y > y0) == (b.y > y0) {
            continue;
        }
        let slope = (b.x - a.x) / (b.y - a.y);
        let x = a.x + (y0 - a.y) * slope;
        if x >= at.x {
            continue;
        }
        if best.is_none_or(|(bx, bs, _)| x > bx || (x == bx && slope > bs)) {
            // Walking a→b upward, east is on the right.
            let east = if b.y > a.y { edge.right } else { edge.left };
            best = Some((x, slope, east));
        }
    }
    best.map_or(NONE, |b| b.2)
}

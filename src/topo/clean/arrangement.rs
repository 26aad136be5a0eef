//! The planar arrangement of noded rings: its edges, the faces they bound, and which
//! units cover each face.
//!
//! Every ring walks its unit on its left, so crossing an edge from its right to its left
//! side adds, for each unit, the number of times that unit's rings walk the edge forward
//! minus backward: the edge's *coverage change*. Edges whose change is zero for every
//! unit (a unit's hole walking its own outline back) bound nothing and are left out.
//!
//! Faces are traced on half-edges (`2e` walks edge `e` from its lower point id, `2e + 1`
//! back): the next half-edge around the face on the left of `h` is the outgoing
//! half-edge just clockwise of `h`'s twin at `h`'s end. A counter-clockwise cycle is the
//! outline of a bounded face; a clockwise one is the outline of a connected part of the
//! graph, seen from the face around it. That face is found by casting a ray west from
//! the part's leftmost vertex: the nearest edge it meets bounds it (or nothing does, and
//! it is the unbounded face).
//!
//! Coverage is then carried from the unbounded face (covered by no unit) across every
//! edge, face to face.

use geo::Coord;

use super::node::Noded;
use crate::topo::NONE;
use crate::topo::strips::{Bbox, StripIndex};

/// The unbounded face.
pub(super) const OUTSIDE: u32 = 0;

/// A face of the arrangement.
#[derive(Debug, Clone, Default)]
pub(super) struct Face {
    /// Twice its area (outline minus holes), deg².
    pub(super) twice_area: f64,
    /// Length of its boundary, degrees.
    pub(super) perimeter: f64,
    /// A latitude on its boundary, for converting areas to m².
    pub(super) latitude: f64,
}

/// Edges, half-edges, faces and the units covering each face.
pub(super) struct Arrangement {
    /// Points (as noded).
    pub(super) points: Vec<Coord<f64>>,
    /// Undirected edges `(a, b)`, `a < b`.
    pub(super) edges: Vec<(u32, u32)>,
    /// The outgoing half-edge just clockwise of half-edge `h` around its origin.
    pub(super) clockwise: Vec<u32>,
    /// The face on the left of each half-edge.
    pub(super) face_of: Vec<u32>,
    /// Faces; face 0 is the unbounded one.
    pub(super) faces: Vec<Face>,
    /// Half-edges of face `f`: `face_half[face_half_off[f]..face_half_off[f + 1]]`.
    pub(super) face_half_off: Vec<u32>,
    /// Half-edges grouped by face.
    pub(super) face_half: Vec<u32>,
    /// Units covering face `f`: `cover[cover_off[f]..cover_off[f + 1]]`, sorted.
    pub(super) cover_off: Vec<u32>,
    /// Covering units grouped by face.
    pub(super) cover: Vec<u32>,
    /// Faces reached with two different coverages (0 for a noded graph).
    pub(super) inconsistent: usize,
}

impl Arrangement {
    /// Origin point of half-edge `h`.
    pub(super) fn origin(&self, h: u32) -> u32 {
        let (a, b) = self.edges[(h >> 1) as usize];
        if h & 1 == 0 { a } else { b }
    }

    /// Length of half-edge `h` (degrees, planar).
    pub(super) fn length(&self, h: u32) -> f64 {
        let (a, b) = self.edges[(h >> 1) as usize];
        let (p, q) = (self.points[a as usize], self.points[b as usize]);
        (p.x - q.x).hypot(p.y - q.y)
    }

    /// Units covering face `f`.
    pub(super) fn covering(&self, f: u32) -> &[u32] {
        &self.cover[self.cover_off[f as usize] as usize..self.cover_off[f as usize + 1] as usize]
    }

    /// Half-edges with face `f` on their left.
    pub(super) fn half_edges(&self, f: u32) -> &[u32] {
        &self.face_half[self.face_half_off[f as usize] as usize..self.face_half_off[f as usize + 1] as usize]
    }
}

/// Builds the arrangement of noded rings.
pub(super) fn build(noded: Noded) -> Arrangement {
    let Noded {
        points,
        rings,
        ring_unit,
        ..
    } = noded;

    // Edges and their coverage change, from every ring segment.
    let mut walks: Vec<(u64, u32, i32)> = Vec::with_capacity(rings.pts.len());
    for (r, &unit) in ring_unit.iter().enumerate() {
        let ring = rings.ring(r);
        for (k, &p) in ring.iter().enumerate() {
            let q = ring[(k + 1) % ring.len()];
            let key = (u64::from(p.min(q)) << 32) | u64::from(p.max(q));
            walks.push((key, unit, if p < q { 1 } else { -1 }));
        }
    }
    drop(rings);
    walks.sort_unstable_by_key(|w| (w.0, w.1));
    let mut edges: Vec<(u32, u32)> = Vec::with_capacity(walks.len() / 2 + 1);
    let mut delta_off: Vec<u32> = vec![0];
    let mut deltas: Vec<(u32, i32)> = Vec::new();
    let mut k = 0;
    while k < walks.len() {
        let key = walks[k].0;
        let first_delta = deltas.len();
        while k < walks.len() && walks[k].0 == key {
            let unit = walks[k].1;
            let mut sum = 0;
            while k < walks.len() && walks[k].0 == key && walks[k].1 == unit {
                sum += walks[k].2;
                k += 1;
            }
            if sum != 0 {
                deltas.push((unit, sum));
            }
        }
        if deltas.len() > first_delta {
            edges.push(((key >> 32) as u32, key as u32));
            delta_off.push(deltas.len() as u32);
        }
    }
    drop(walks);

    let half_count = 2 * edges.len();
    let origin = |h: usize| {
        let (a, b) = edges[h >> 1];
        if h & 1 == 0 { a } else { b }
    };

    // Outgoing half-edges of each point by angle; the clockwise neighbour of each.
    let mut out_off = vec![0u32; points.len() + 1];
    for &(a, b) in &edges {
        out_off[a as usize + 1] += 1;
        out_off[b as usize + 1] += 1;
    }
    for p in 0..points.len() {
        out_off[p + 1] += out_off[p];
    }
    let mut fill = out_off.clone();
    let mut outgoing = vec![0u32; half_count];
    for h in 0..half_count {
        let p = origin(h) as usize;
        outgoing[fill[p] as usize] = h as u32;
        fill[p] += 1;
    }
    drop(fill);
    let mut clockwise = vec![0u32; half_count];
    for p in 0..points.len() {
        let around = &mut outgoing[out_off[p] as usize..out_off[p + 1] as usize];
        if around.is_empty() {
            continue;
        }
        let from = points[p];
        around.sort_unstable_by(|&g, &h| {
            let angle = |h: u32| {
                let to = points[origin((h ^ 1) as usize) as usize];
                (to.y - from.y).atan2(to.x - from.x)
            };
            angle(g).total_cmp(&angle(h))
        });
        for i in 0..around.len() {
            let before = if i == 0 { around.len() - 1 } else { i - 1 };
            clockwise[around[i] as usize] = around[before];
        }
    }
    drop(outgoing);

    // Cycles: the next half-edge around the face on the left of h is the one just
    // clockwise of h's twin.
    let mut cycle_of = vec![NONE; half_count];
    let mut cycle_twice_area: Vec<f64> = Vec::new();
    let mut cycle_length: Vec<f64> = Vec::new();
    let mut cycle_leftmost: Vec<u32> = Vec::new();
    for start in 0..half_count {
        if cycle_of[start] != NONE {
            continue;
        }
        let c = cycle_twice_area.len() as u32;
        let base = points[origin(start) as usize];
        let (mut twice, mut length) = (0.0, 0.0);
        let mut leftmost = origin(start);
        let mut h = start;
        loop {
            cycle_of[h] = c;
            let (p, q) = (points[origin(h) as usize], points[origin(h ^ 1) as usize]);
            twice += (p.x - base.x) * (q.y - base.y) - (q.x - base.x) * (p.y - base.y);
            length += (p.x - q.x).hypot(p.y - q.y);
            let here = points[leftmost as usize];
            if p.x < here.x || (p.x == here.x && p.y < here.y) {
                leftmost = origin(h);
            }
            h = clockwise[h ^ 1] as usize;
            if h == start {
                break;
            }
        }
        cycle_twice_area.push(twice);
        cycle_length.push(length);
        cycle_leftmost.push(leftmost);
    }

    // Faces: each counter-clockwise cycle bounds one; a clockwise cycle belongs to the
    // face its part of the graph lies in.
    let cycles = cycle_twice_area.len();
    let mut face_of_cycle = vec![NONE; cycles];
    let mut faces: Vec<Face> = vec![Face::default()];
    for c in 0..cycles {
        if cycle_twice_area[c] > 0.0 {
            face_of_cycle[c] = faces.len() as u32;
            faces.push(Face::default());
        }
    }
    let boxes: Vec<Bbox> = edges
        .iter()
        .map(|&(a, b)| Bbox::of_segment(points[a as usize], points[b as usize], 0.0))
        .collect();
    let index = StripIndex::new(&boxes);
    // The cycle each clockwise cycle's part lies in (NONE: the unbounded face).
    let mut enclosing = vec![NONE; cycles];
    for c in 0..cycles {
        if face_of_cycle[c] != NONE {
            continue;
        }
        let at = points[cycle_leftmost[c] as usize];
        // The nearest crossing west of `at`, a point exactly on the ray counting as below
        // it: where two edges meet on the ray, the one leaning further east is met first
        // by a ray just above.
        let mut best: Option<(f64, u32)> = None;
        let upper = |e: u32| {
            let (a, b) = edges[e as usize];
            let (p, q) = (points[a as usize], points[b as usize]);
            if q.y > p.y { (q, p) } else { (p, q) }
        };
        for e in index.near(at.y) {
            let (top, bottom) = upper(e);
            if bottom.y > at.y || top.y <= at.y || (top.x >= at.x && bottom.x >= at.x) {
                continue;
            }
            let x = bottom.x + (at.y - bottom.y) * (top.x - bottom.x) / (top.y - bottom.y);
            if x >= at.x {
                continue;
            }
            let better = match best {
                None => true,
                Some((bx, _)) if x != bx => x > bx,
                Some((_, f)) => {
                    // Both leave the meeting point upwards: compare their slopes.
                    let (t1, b1) = (top, bottom);
                    let (t2, b2) = upper(f >> 1);
                    (t1.x - b1.x) * (t2.y - b2.y) > (t2.x - b2.x) * (t1.y - b1.y)
                }
            };
            if better {
                // East of an upward edge is its right: the left of its downward half-edge.
                let (a, _) = edges[e as usize];
                let upward_from_a = points[a as usize] == bottom;
                best = Some((x, if upward_from_a { 2 * e + 1 } else { 2 * e }));
            }
        }
        enclosing[c] = best.map_or(NONE, |(_, h)| cycle_of[h as usize]);
    }
    for c in 0..cycles {
        if face_of_cycle[c] != NONE {
            continue;
        }
        // Follow clockwise cycles outwards to a counter-clockwise one, or to nothing.
        let mut at = c;
        let mut steps = 0;
        let face = loop {
            if face_of_cycle[at] != NONE {
                break face_of_cycle[at];
            }
            match enclosing[at] {
                NONE => break OUTSIDE,
                next => at = next as usize,
            }
            steps += 1;
            if steps > cycles {
                break OUTSIDE;
            }
        };
        face_of_cycle[c] = face;
    }
    for c in 0..cycles {
        let f = &mut faces[face_of_cycle[c] as usize];
        f.twice_area += cycle_twice_area[c];
        f.perimeter += cycle_length[c];
        if cycle_twice_area[c] > 0.0 || f.latitude == 0.0 {
            f.latitude = points[cycle_leftmost[c] as usize].y;
        }
    }
    faces[OUTSIDE as usize].twice_area = 0.0;
    let face_of: Vec<u32> = cycle_of.iter().map(|&c| face_of_cycle[c as usize]).collect();

    // Half-edges grouped by face.
    let mut face_half_off = vec![0u32; faces.len() + 1];
    for &f in &face_of {
        face_half_off[f as usize + 1] += 1;
    }
    for f in 0..faces.len() {
        face_half_off[f + 1] += face_half_off[f];
    }
    let mut fill = face_half_off.clone();
    let mut face_half = vec![0u32; half_count];
    for (h, &f) in face_of.iter().enumerate() {
        face_half[fill[f as usize] as usize] = h as u32;
        fill[f as usize] += 1;
    }

    // Coverage, carried face to face from the unbounded face.
    let mut coverage: Vec<Option<Vec<(u32, i32)>>> = vec![None; faces.len()];
    coverage[OUTSIDE as usize] = Some(Vec::new());
    let mut queue = vec![OUTSIDE];
    let mut inconsistent = 0;
    while let Some(f) = queue.pop() {
        let here = coverage[f as usize].clone().unwrap_or_default();
        for &h in &face_half[face_half_off[f as usize] as usize..face_half_off[f as usize + 1] as usize] {
            let e = (h >> 1) as usize;
            let sign = if h & 1 == 0 { -1 } else { 1 };
            let change = &deltas[delta_off[e] as usize..delta_off[e + 1] as usize];
            let there = apply(&here, change, sign);
            let g = face_of[(h ^ 1) as usize] as usize;
            match &coverage[g] {
                None => {
                    coverage[g] = Some(there);
                    queue.push(g as u32);
                }
                Some(known) => {
                    if *known != there {
                        inconsistent += 1;
                    }
                }
            }
        }
    }
    let mut cover_off = vec![0u32];
    let mut cover = Vec::new();
    for c in &coverage {
        if let Some(c) = c {
            cover.extend(c.iter().filter(|(_, n)| *n > 0).map(|(u, _)| *u));
        }
        cover_off.push(cover.len() as u32);
    }
    if inconsistent > 0 {
        tracing::warn!(inconsistent, "faces reached with different coverages");
    }
    Arrangement {
        points,
        edges,
        clockwise,
        face_of,
        faces,
        face_half_off,
        face_half,
        cover_off,
        cover,
        inconsistent,
    }
}

/// `here` plus `sign` times `change` (both sorted by unit), without zero counts.
fn apply(here: &[(u32, i32)], change: &[(u32, i32)], sign: i32) -> Vec<(u32, i32)> {
    let mut out = Vec::with_capacity(here.len() + change.len());
    let (mut i, mut j) = (0, 0);
    while i < here.len() || j < change.len() {
        let next = match (here.get(i), change.get(j)) {
            (Some(&(u, n)), Some(&(v, d))) if u == v => {
                i += 1;
                j += 1;
                (u, n + sign * d)
            }
            (Some(&(u, n)), Some(&(v, _))) if u < v => {
                i += 1;
                (u, n)
            }
            (Some(&(u, n)), None) => {
                i += 1;
                (u, n)
            }
            (_, Some(&(v, d))) => {
                j += 1;
                (v, sign * d)
            }
            (None, None) => break,
        };
        if next.1 != 0 {
            out.push(next);
        }
    }
    out
}

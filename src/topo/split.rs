//! T-junction removal: a point lying on another ring's segment (within the tolerance)
//! is inserted into that segment.
//!
//! In a near-coverage, two neighbours often describe their shared border with different
//! vertices: each side clipped its own cells against the border, so the vertices of one
//! side sit on the segments of the other (up to rounding) instead of being shared. Once
//! every such vertex is inserted, both sides walk the same edges and share arcs.

use geo::Coord;
use rayon::prelude::*;

use super::strips::{self, Bbox};

/// Cyclic rings of point ids (the closing vertex is not repeated).
#[derive(Debug, Default)]
pub(crate) struct Rings {
    /// Point ids of all rings.
    pub(crate) pts: Vec<u32>,
    /// Ring `r` is `pts[off[r]..off[r + 1]]`.
    pub(crate) off: Vec<u32>,
}

impl Rings {
    /// Number of rings.
    pub(crate) fn len(&self) -> usize {
        self.off.len().saturating_sub(1)
    }

    /// The points of ring `r`.
    pub(crate) fn ring(&self, r: usize) -> &[u32] {
        &self.pts[self.off[r] as usize..self.off[r + 1] as usize]
    }

    /// Appends a ring without consecutive repeats (nor the closing one); returns false,
    /// appending nothing, when fewer than three points are left.
    pub(crate) fn push(&mut self, ring: impl Iterator<Item = u32>) -> bool {
        let start = self.pts.len();
        for id in ring {
            if self.pts.len() == start || self.pts.last() != Some(&id) {
                self.pts.push(id);
            }
        }
        while self.pts.len() > start + 1 && self.pts.last() == self.pts.get(start) {
            self.pts.pop();
        }
        if self.pts.len() - start < 3 {
            self.pts.truncate(start);
            return false;
        }
        self.off.push(self.pts.len() as u32);
        true
    }
}

/// A point to insert into segment `segment`, at parameter `t` from its lower point id.
pub(crate) struct Insertion {
    /// Index of the undirected segment `(low, high)` in the caller's sorted list.
    pub(crate) segment: u32,
    /// Position along the segment from its lower point id, in `(0, 1)`.
    pub(crate) t: f64,
    /// The point inserted.
    pub(crate) point: u32,
}

/// Inserts into every segment of `rings` walked by one ring only (a shared segment has
/// no missing vertex) the end points of such segments that lie within `tolerance` of its
/// interior; returns how many vertices were inserted (counting each segment once).
pub(crate) fn split(points: &[Coord<f64>], rings: &mut Rings, tolerance: f64) -> usize {
    // Undirected segments, each once, and which of them only one ring walks: a vertex
    // of a neighbour can only be missing from those.
    let mut all: Vec<(u32, u32)> = Vec::with_capacity(rings.pts.len());
    for r in 0..rings.len() {
        let ring = rings.ring(r);
        for (k, &p) in ring.iter().enumerate() {
            let q = ring[(k + 1) % ring.len()];
            all.push((p.min(q), p.max(q)));
        }
    }
    all.par_sort_unstable();
    let mut segments: Vec<(u32, u32)> = Vec::with_capacity(all.len() / 2 + 1);
    let mut on_unmatched = vec![false; points.len()];
    let mut k = 0;
    while k < all.len() {
        let mut end = k + 1;
        while end < all.len() && all[end] == all[k] {
            end += 1;
        }
        if end - k == 1 {
            segments.push(all[k]);
            on_unmatched[all[k].0 as usize] = true;
            on_unmatched[all[k].1 as usize] = true;
        }
        k = end;
    }
    drop(all);
    let candidates: Vec<u32> = (0..points.len() as u32)
        .filter(|&p| on_unmatched[p as usize])
        .collect();
    let candidate_points: Vec<Coord<f64>> = candidates.iter().map(|&p| points[p as usize]).collect();
    let boxes: Vec<Bbox> = segments
        .iter()
        .map(|&(a, b)| Bbox::of_segment(points[a as usize], points[b as usize], tolerance))
        .collect();
    let tol2 = tolerance * tolerance;
    let insertions = strips::points_in_boxes(&boxes, &candidate_points, |s, c| {
        let r = candidates[c as usize];
        let (a, b) = segments[s as usize];
        if r == a || r == b {
            return None;
        }
        let (pa, pb, pr) = (points[a as usize], points[b as usize], points[r as usize]);
        let (dx, dy) = (pb.x - pa.x, pb.y - pa.y);
        let len2 = dx * dx + dy * dy;
        if len2 <= 0.0 {
            return None;
        }
        let t = ((pr.x - pa.x) * dx + (pr.y - pa.y) * dy) / len2;
        if t <= 0.0 || t >= 1.0 {
            return None;
        }
        let cross = (pr.x - pa.x) * dy - (pr.y - pa.y) * dx;
        (cross * cross <= tol2 * len2).then_some(Insertion {
            segment: s,
            t,
            point: r,
        })
    });
    insert(points.len(), rings, &segments, insertions)
}

/// Inserts points into the segments of `rings` (`segments`: sorted undirected point-id
/// pairs, `low < high`; each insertion names one of them), in order along each segment
/// and in every ring walking it, either way. A point inserted twice into one segment, or
/// equal to one of its ends, is inserted once or not at all. Returns the number of
/// points inserted, counting each segment once.
pub(crate) fn insert(
    point_count: usize,
    rings: &mut Rings,
    segments: &[(u32, u32)],
    mut insertions: Vec<Insertion>,
) -> usize {
    insertions.retain(|i| {
        let (a, b) = segments[i.segment as usize];
        i.point != a && i.point != b
    });
    if insertions.is_empty() {
        return 0;
    }
    insertions.sort_unstable_by(|x, y| x.segment.cmp(&y.segment).then(x.t.total_cmp(&y.t)));
    insertions.dedup_by(|x, y| x.segment == y.segment && x.point == y.point);
    let count = insertions.len();
    let seg_start = |s: u32| insertions.partition_point(|i| i.segment < s);

    // Only segments whose two ends are both marked can have insertions.
    let mut marked = vec![false; point_count];
    for i in &insertions {
        let (a, b) = segments[i.segment as usize];
        marked[a as usize] = true;
        marked[b as usize] = true;
    }
    let mut pts = Vec::with_capacity(rings.pts.len() + 2 * count);
    let mut off = Vec::with_capacity(rings.off.len());
    off.push(0u32);
    for r in 0..rings.len() {
        let ring = rings.ring(r);
        for (k, &p) in ring.iter().enumerate() {
            let q = ring[(k + 1) % ring.len()];
            pts.push(p);
            if !(marked[p as usize] && marked[q as usize]) {
                continue;
            }
            let key = (p.min(q), p.max(q));
            let Ok(s) = segments.binary_search(&key) else {
                continue;
            };
            let s = s as u32;
            let first = seg_start(s);
            let end = first + insertions[first..].partition_point(|i| i.segment == s);
            let inserted = insertions[first..end].iter().map(|i| i.point);
            if p < q {
                pts.extend(inserted);
            } else {
                pts.extend(inserted.rev());
            }
        }
        off.push(pts.len() as u32);
    }
    rings.pts = pts;
    rings.off = off;
    count
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn inserts_a_vertex_lying_on_a_neighbours_edge() {
        // Two squares side by side; the right one has an extra vertex on the shared edge
        // that the left one lacks, 1e-12 off the line.
        let points = vec![
            coord! { x: 0.0, y: 0.0 },         // 0
            coord! { x: 1.0, y: 0.0 },         // 1
            coord! { x: 1.0, y: 1.0 },         // 2
            coord! { x: 0.0, y: 1.0 },         // 3
            coord! { x: 2.0, y: 0.0 },         // 4
            coord! { x: 2.0, y: 1.0 },         // 5
            coord! { x: 1.0 + 1e-12, y: 0.5 }, // 6
        ];
        let mut rings = Rings {
            pts: vec![0, 1, 2, 3, 1, 4, 5, 2, 6],
            off: vec![0, 4, 9],
        };
        assert_eq!(split(&points, &mut rings, 1e-7), 1);
        assert_eq!(rings.ring(0), &[0, 1, 6, 2, 3]);
        assert_eq!(rings.ring(1), &[1, 4, 5, 2, 6]);
    }
}

//! Planarity check of the edge set: which edges cross, overlap, or touch another edge
//! away from a shared end point.
//!
//! In a clean coverage no two edges meet except at shared vertices, and any outline
//! stitched from its arcs is valid by construction. Edges that do meet elsewhere are
//! where the input is not a clean coverage; a dissolve whose outline holds both edges
//! of such a pair is checked (and falls back to an overlay if invalid).

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::line_intersection::line_intersection;
use geo::{Coord, Line};

use super::strips::{self, Bbox};

/// Pairs `(i, j)` of edges (`edges[k]` = the two point ids of edge `k`) that meet other
/// than at one shared end point.
pub(crate) fn conflicts(points: &[Coord<f64>], edges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let boxes: Vec<Bbox> = edges
        .iter()
        .map(|&(a, b)| Bbox::of_segment(points[a as usize], points[b as usize], 0.0))
        .collect();
    let mut found = strips::overlapping_pairs(&boxes, |i, j| {
        meet(points, edges[i as usize], edges[j as usize]).then_some((i.min(j), i.max(j)))
    });
    found.sort_unstable();
    found
}

/// Whether two distinct edges meet other than at one shared end point.
fn meet(points: &[Coord<f64>], (a, b): (u32, u32), (c, d): (u32, u32)) -> bool {
    let shared = if a == c || a == d {
        Some(a)
    } else if b == c || b == d {
        Some(b)
    } else {
        None
    };
    let at = |p: u32| points[p as usize];
    match shared {
        Some(s) => {
            // They overlap only if they leave `s` along the same ray.
            let o1 = if s == a { b } else { a };
            let o2 = if s == c { d } else { c };
            let (s, o1, o2) = (at(s), at(o1), at(o2));
            RobustKernel::orient2d(s, o1, o2) == Orientation::Collinear
                && (o1.x - s.x) * (o2.x - s.x) + (o1.y - s.y) * (o2.y - s.y) > 0.0
        }
        None => line_intersection(Line::new(at(a), at(b)), Line::new(at(c), at(d))).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn finds_crossings_and_overlaps_only() {
        let points = vec![
            coord! { x: 0.0, y: 0.0 },  // 0
            coord! { x: 2.0, y: 0.0 },  // 1
            coord! { x: 1.0, y: 1.0 },  // 2
            coord! { x: 1.0, y: -1.0 }, // 3
            coord! { x: 1.0, y: 0.0 },  // 4 on edge 0-1
            coord! { x: 0.0, y: 3.0 },  // 5
            coord! { x: 4.0, y: 0.0 },  // 6
        ];
        let edges = vec![(0, 1), (2, 3), (0, 5), (1, 6), (0, 4)];
        // 0-1 crosses 2-3; 0-4 overlaps 0-1 and touches 2-3; 0-5 and 1-6 only share ends.
        assert_eq!(conflicts(&points, &edges), vec![(0, 1), (0, 4), (1, 4)]);
    }
}

//! Vertex snapping: coordinates closer than a tolerance become one point.
//!
//! Exact duplicates are merged first (sort). Distinct coordinates are then clustered
//! greedily in `(x, y)` order: a coordinate joins the first earlier cluster leader
//! within `tolerance`, else it leads a new cluster. Close pairs are found by a sweep
//! over the sorted coordinates, so a clean coverage (no close pairs) costs one sort. No point moves further than `tolerance`, the result does not depend on
//! input order, and a clean coverage (shared vertices already identical, distinct ones
//! far apart) is left untouched.

use geo::Coord;
use rayon::prelude::*;

/// Distinct points after snapping and the point id of every input coordinate.
pub(crate) struct Snapped {
    /// Distinct points, sorted by `(x, y)`.
    pub(crate) points: Vec<Coord<f64>>,
    /// `ids[i]` is the point that input coordinate `i` became.
    pub(crate) ids: Vec<u32>,
    /// Input coordinates that moved.
    pub(crate) moved: usize,
}

/// Snaps `coords` (all finite) within `tolerance` (0 merges exact duplicates only).
pub(crate) fn snap(coords: &[Coord<f64>], tolerance: f64) -> Snapped {
    let mut order: Vec<u32> = (0..coords.len() as u32).collect();
    let key = |i: u32| coords[i as usize];
    order.par_sort_unstable_by(|&a, &b| {
        let (a, b) = (key(a), key(b));
        a.x.total_cmp(&b.x).then(a.y.total_cmp(&b.y))
    });
    // Exact duplicates.
    let mut unique: Vec<Coord<f64>> = Vec::new();
    let mut ids = vec![0u32; coords.len()];
    for &i in &order {
        let c = coords[i as usize];
        if unique.last() != Some(&c) {
            unique.push(c);
        }
        ids[i as usize] = (unique.len() - 1) as u32;
    }
    if tolerance <= 0.0 {
        return Snapped {
            points: unique,
            ids,
            moved: 0,
        };
    }
    // Close pairs (i < j) among the distinct coordinates, found in (x, y) order: within
    // a run of equal x the scan stops at the first y too far away; past the run only
    // the (usually few) coordinates with x within the tolerance are compared.
    let tol2 = tolerance * tolerance;
    let mut close: Vec<(u32, u32)> = Vec::new();
    let mut run_end = 0;
    for i in 0..unique.len() {
        let c = unique[i];
        if run_end <= i {
            run_end = i + unique[i..].partition_point(|d| d.x == c.x);
        }
        for (j, d) in unique.iter().enumerate().take(run_end).skip(i + 1) {
            if d.y - c.y > tolerance {
                break;
            }
            close.push((i as u32, j as u32));
        }
        for (j, d) in unique.iter().enumerate().skip(run_end) {
            if d.x - c.x > tolerance {
                break;
            }
            if (d.x - c.x) * (d.x - c.x) + (d.y - c.y) * (d.y - c.y) <= tol2 {
                close.push((i as u32, j as u32));
            }
        }
    }
    if close.is_empty() {
        return Snapped {
            points: unique,
            ids,
            moved: 0,
        };
    }
    // Leader clustering: in (x, y) order, a coordinate joins the first earlier leader
    // within the tolerance, else it leads a cluster.
    close.sort_unstable_by_key(|&(i, j)| (j, i));
    let mut leader_of: Vec<u32> = (0..unique.len() as u32).collect();
    for &(i, j) in &close {
        // Pairs come by j, then by increasing i: the first leader wins.
        if leader_of[j as usize] == j && leader_of[i as usize] == i {
            leader_of[j as usize] = i;
        }
    }
    let mut point_of = vec![0u32; unique.len()];
    let mut points: Vec<Coord<f64>> = Vec::with_capacity(unique.len());
    for (k, &c) in unique.iter().enumerate() {
        let leader = leader_of[k] as usize;
        point_of[k] = if leader == k {
            points.push(c);
            (points.len() - 1) as u32
        } else {
            point_of[leader]
        };
    }
    let mut moved = 0;
    for id in &mut ids {
        moved += usize::from(leader_of[*id as usize] != *id);
        *id = point_of[*id as usize];
    }
    Snapped { points, ids, moved }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn merges_duplicates_and_near_points() {
        let coords = [
            coord! { x: 1.0, y: 1.0 },
            coord! { x: 0.0, y: 0.0 },
            coord! { x: 1.0, y: 1.0 },
            coord! { x: 1.0 + 5e-8, y: 1.0 },
            coord! { x: 2.0, y: 2.0 },
        ];
        let s = snap(&coords, 1e-7);
        assert_eq!(s.points.len(), 3);
        assert_eq!(s.ids[0], s.ids[2]);
        assert_eq!(s.ids[0], s.ids[3]);
        assert_eq!(s.points[s.ids[3] as usize], coords[0]);
        assert_eq!(s.moved, 1);
        let exact = snap(&coords, 0.0);
        assert_eq!(exact.points.len(), 4);
    }
}

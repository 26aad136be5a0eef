//! Whether a ring on the integer tile grid is simple: no two edges meet except
//! neighbours at their shared vertex, and no neighbours fold back over each other.
//! Exact (integer orientation tests), by sorting the edges on their left end and
//! testing each only against edges whose x ranges overlap it.
//!
//! Simple rings with non-zero area that are apart from each other and not nested are
//! valid polygons, so the tile renderer can skip the overlay for them.
//!
//! ```
//! use geoalign::tiles::simple::is_simple;
//! assert!(is_simple(&[[0, 0], [10, 0], [10, 10], [0, 10]]));
//! assert!(!is_simple(&[[0, 0], [10, 10], [10, 0], [0, 10]])); // a bow tie
//! assert!(!is_simple(&[[0, 0], [10, 0], [5, 0], [5, 5]])); // folds back on itself
//! assert!(!is_simple(&[[0, 0], [4, 0], [4, 4], [2, 0], [0, 4]])); // touches an edge
//! use geoalign::tiles::simple::are_simple_and_apart;
//! let a = vec![[0, 0], [4, 0], [4, 4], [0, 4]];
//! assert!(are_simple_and_apart(&[a.clone(), vec![[5, 0], [9, 0], [9, 4]]]));
//! assert!(!are_simple_and_apart(&[a, vec![[4, 2], [9, 0], [9, 4]]])); // they touch
//! ```

/// Orientation of `c` relative to the line `ab` (twice the signed triangle area).
fn orient(a: [i32; 2], b: [i32; 2], c: [i32; 2]) -> i64 {
    (i64::from(b[0]) - i64::from(a[0])) * (i64::from(c[1]) - i64::from(a[1]))
        - (i64::from(b[1]) - i64::from(a[1])) * (i64::from(c[0]) - i64::from(a[0]))
}

/// Whether `p`, collinear with segment `ab`, lies within its box.
fn within(a: [i32; 2], b: [i32; 2], p: [i32; 2]) -> bool {
    p[0] >= a[0].min(b[0]) && p[0] <= a[0].max(b[0]) && p[1] >= a[1].min(b[1]) && p[1] <= a[1].max(b[1])
}

/// Whether segments `ab` and `cd` have any point in common.
fn meet(a: [i32; 2], b: [i32; 2], c: [i32; 2], d: [i32; 2]) -> bool {
    let (d1, d2) = (orient(c, d, a), orient(c, d, b));
    let (d3, d4) = (orient(a, b, c), orient(a, b, d));
    if d1.signum() * d2.signum() < 0 && d3.signum() * d4.signum() < 0 {
        return true;
    }
    (d1 == 0 && within(c, d, a))
        || (d2 == 0 && within(c, d, b))
        || (d3 == 0 && within(a, b, c))
        || (d4 == 0 && within(a, b, d))
}

/// Whether neighbouring edges `ab` and `bc` overlap beyond `b` (the ring doubles back).
fn folds(a: [i32; 2], b: [i32; 2], c: [i32; 2]) -> bool {
    if orient(a, b, c) != 0 {
        return false;
    }
    // Collinear: they overlap when c lies on the side of b that a is on.
    let dot = (i64::from(a[0]) - i64::from(b[0])) * (i64::from(c[0]) - i64::from(b[0]))
        + (i64::from(a[1]) - i64::from(b[1])) * (i64::from(c[1]) - i64::from(b[1]));
    dot > 0
}

/// Whether the closed ring (first vertex not repeated at the end) is simple. Rings of
/// fewer than three vertices, or with a vertex repeated, are not.
pub fn is_simple(ring: &[[i32; 2]]) -> bool {
    are_simple_and_apart(&[ring])
}

/// Whether every ring is simple and no two rings have a point in common (they neither
/// cross nor touch): the rings' edges, all together, meet only where neighbours in one
/// ring share a vertex.
pub fn are_simple_and_apart<R: AsRef<[[i32; 2]]>>(rings: &[R]) -> bool {
    thread_local! {
        // Reused between calls: tiles test thousands of small rings.
        static EDGES: std::cell::RefCell<Vec<(i32, i32, u32, u32)>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    EDGES.with(|edges| {
        let mut edges = edges.borrow_mut();
        edges.clear();
        apart(rings, &mut edges)
    })
}

fn apart<R: AsRef<[[i32; 2]]>>(rings: &[R], edges: &mut Vec<(i32, i32, u32, u32)>) -> bool {
    for (r, ring) in rings.iter().enumerate() {
        let ring = ring.as_ref();
        let n = ring.len();
        if n < 3 {
            return false;
        }
        let at = |i: usize| ring[i % n];
        for i in 0..n {
            if at(i) == at(i + 1) || folds(at(i), at(i + 1), at(i + 2)) {
                return false;
            }
            let (a, b) = (at(i), at(i + 1));
            edges.push((a[0].min(b[0]), a[0].max(b[0]), r as u32, i as u32));
        }
    }
    // Edges sorted by their lower x; each tested against those whose x ranges overlap.
    edges.sort_unstable();
    let ends = |r: u32, i: u32| {
        let ring = rings[r as usize].as_ref();
        let i = i as usize;
        (ring[i], ring[(i + 1) % ring.len()])
    };
    for (k, &(_, max_x, r, i)) in edges.iter().enumerate() {
        let (a, b) = ends(r, i);
        for &(min_x, _, s, j) in &edges[k + 1..] {
            if min_x > max_x {
                break;
            }
            if r == s {
                let n = rings[r as usize].as_ref().len() as u32;
                if (i + 1) % n == j || (j + 1) % n == i {
                    continue; // they share one vertex; folding back was checked above
                }
            }
            let (c, d) = ends(s, j);
            if meet(a, b, c, d) {
                return false;
            }
        }
    }
    true
}

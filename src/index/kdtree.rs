//! k nearest neighbours in 3-D by a balanced k-d tree stored implicitly in one array
//! (each range's middle element splits it on axis `depth % 3`): no pointers, no heap
//! per query, only a sorted list of the best `k` so far.

/// Points laid out as an implicit k-d tree; each keeps the index it was given.
#[derive(Debug, Clone, Default)]
pub struct KdTree {
    points: Vec<[f64; 3]>,
    index: Vec<u32>,
}

/// A neighbour found: squared distance and the point's original index.
pub type Found = (f64, u32);

impl KdTree {
    /// Builds the tree over `points` (original order gives the indices).
    pub fn new(points: &[[f64; 3]]) -> KdTree {
        let mut items: Vec<([f64; 3], u32)> =
            points.iter().enumerate().map(|(i, p)| (*p, i as u32)).collect();
        layout(&mut items, 0);
        KdTree {
            points: items.iter().map(|(p, _)| *p).collect(),
            index: items.iter().map(|(_, i)| *i).collect(),
        }
    }

    /// The `k` nearest points to `q` within squared distance `max_d2` that `keep`
    /// accepts, nearest first (ties by original index).
    pub fn nearest(&self, q: [f64; 3], k: usize, max_d2: f64, keep: &dyn Fn(u32) -> bool) -> Vec<Found> {
        let mut best = Vec::with_capacity(k + 1);
        if k > 0 {
            self.search(0, self.points.len(), 0, q, k, max_d2, keep, &mut best);
        }
        best
    }

    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        lo: usize,
        hi: usize,
        depth: usize,
        q: [f64; 3],
        k: usize,
        max_d2: f64,
        keep: &dyn Fn(u32) -> bool,
        best: &mut Vec<Found>,
    ) {
        if lo >= hi {
            return;
        }
        let mid = lo + (hi - lo) / 2;
        let p = self.points[mid];
        let d2 = (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2);
        let found = (d2, self.index[mid]);
        let worst = |best: &Vec<Found>| if best.len() < k { max_d2 } else { best[k - 1].0 };
        if d2 <= worst(best) && (best.len() < k || found < best[k - 1]) && keep(found.1) {
            let at = best.partition_point(|b| *b < found);
            best.insert(at, found);
            best.truncate(k);
        }
        let diff = q[depth % 3] - p[depth % 3];
        let (near, far) = if diff < 0.0 {
            ((lo, mid), (mid + 1, hi))
        } else {
            ((mid + 1, hi), (lo, mid))
        };
        self.search(near.0, near.1, depth + 1, q, k, max_d2, keep, best);
        if diff * diff <= worst(best) {
            self.search(far.0, far.1, depth + 1, q, k, max_d2, keep, best);
        }
    }
}

/// Reorders `items` so each range's middle element splits it on axis `depth % 3`.
fn layout(items: &mut [([f64; 3], u32)], depth: usize) {
    if items.len() <= 1 {
        return;
    }
    let mid = items.len() / 2;
    let axis = depth % 3;
    items.select_nth_unstable_by(mid, |a, b| a.0[axis].total_cmp(&b.0[axis]));
    let (left, right) = items.split_at_mut(mid);
    layout(left, depth + 1);
    layout(&mut right[1..], depth + 1);
}

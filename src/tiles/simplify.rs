//! Topology-preserving simplification by vertex importance.
//!
//! Every vertex of an arc (a chain of coordinates between two topology nodes) gets
//! an *importance*: the largest Douglas-Peucker tolerance at which it survives.
//! Filtering a chain by `importance > tolerance` gives exactly the Douglas-Peucker
//! simplification at that tolerance, for any tolerance, from one pass per arc.
//!
//! Nodes (arc ends, where three or more units meet or a side changes) are never
//! removed. Between two nodes a ring runs along exactly one arc, and each arc is
//! processed in a canonical direction, so the two polygons on either side of an
//! edge, and the boundary line drawn along it, get bit-identical simplified edges at
//! every zoom: no gap or overlap opens between neighbours.
//!
//! ```
//! use geoalign::tiles::simplify::chain_importance;
//! let chain = [[0.0, 0.0], [1.0, 0.1], [2.0, -0.1], [3.0, 5.0], [4.0, 0.0]];
//! let importance = chain_importance(&chain);
//! assert_eq!(importance[0], f32::INFINITY);
//! assert_eq!(importance[4], f32::INFINITY);
//! assert!(importance[3] > 4.0); // the peak stays longest
//! // Douglas-Peucker at 1.0 keeps the peak, then vertex 2 (1.77 from the chord 0-3).
//! let kept: Vec<usize> = (0..5).filter(|&i| importance[i] > 1.0).collect();
//! assert_eq!(kept, [0, 2, 3, 4]);
//! ```

/// Importance of each vertex of an open chain (ends infinite), canonical in direction:
/// the reversed chain gets the reversed importances.
pub fn chain_importance(chain: &[[f64; 2]]) -> Vec<f32> {
    let mut out = vec![0.0f32; chain.len()];
    write_chain_importance(chain, &mut out);
    out
}

/// Writes the importance of each vertex of `chain` into `out` (same length).
pub fn write_chain_importance(chain: &[[f64; 2]], out: &mut [f32]) {
    let n = chain.len();
    if n == 0 {
        return;
    }
    out[0] = f32::INFINITY;
    out[n - 1] = f32::INFINITY;
    if n < 3 {
        return;
    }
    if reversed_is_canonical(chain) {
        let reversed: Vec<[f64; 2]> = chain.iter().rev().copied().collect();
        let mut tmp = vec![0.0f32; n];
        douglas_peucker(&reversed, &mut tmp);
        for (o, t) in out.iter_mut().zip(tmp.iter().rev()) {
            *o = *t;
        }
    } else {
        douglas_peucker(chain, out);
    }
}

/// Whether the chain should be processed reversed: its ends (or, for a closed chain,
/// its second and second-to-last vertices) in lexicographic order.
fn reversed_is_canonical(chain: &[[f64; 2]]) -> bool {
    let n = chain.len();
    let (a, b) = if chain[0] == chain[n - 1] {
        (chain[1], chain[n - 2])
    } else {
        (chain[0], chain[n - 1])
    };
    (b[0], b[1]) < (a[0], a[1])
}

fn douglas_peucker(chain: &[[f64; 2]], out: &mut [f32]) {
    let n = chain.len();
    out[0] = f32::INFINITY;
    out[n - 1] = f32::INFINITY;
    let mut stack: Vec<(usize, usize, f32)> = vec![(0, n - 1, f32::INFINITY)];
    while let Some((i, j, parent)) = stack.pop() {
        if j <= i + 1 {
            continue;
        }
        let (a, b) = (chain[i], chain[j]);
        let mut best = (i + 1, -1.0f64);
        for (k, p) in chain.iter().enumerate().take(j).skip(i + 1) {
            let d = segment_distance_sq(*p, a, b);
            if d > best.1 {
                best = (k, d);
            }
        }
        let (k, d) = best;
        let importance = (d.sqrt() as f32).min(parent);
        out[k] = importance;
        stack.push((i, k, importance));
        stack.push((k, j, importance));
    }
}

/// Squared distance from `p` to segment `ab`.
fn segment_distance_sq(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len_sq = dx * dx + dy * dy;
    let t = if len_sq > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len_sq).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversal_gives_reversed_importance() {
        let chain: Vec<[f64; 2]> = (0..50)
            .map(|i| {
                let t = f64::from(i) * 0.37;
                [t, (t * 3.1).sin() * (1.0 + t)]
            })
            .collect();
        let forward = chain_importance(&chain);
        let reversed: Vec<[f64; 2]> = chain.iter().rev().copied().collect();
        let mut backward = chain_importance(&reversed);
        backward.reverse();
        assert_eq!(forward, backward);
    }
}

//! Step 1: seed the territories. Territories holding locked units start from their
//! first locked unit; the others are picked k-means++ style (Arthur and Vassilvitskii
//! 2007): the first with probability proportional to its weight, each next with
//! probability proportional to weight × squared distance to the nearest seed so far.

use super::graph::Graph;
use super::rng::Rng;

/// Squared distance between two points.
pub(crate) fn d2(a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    dx * dx + dy * dy
}

/// One seed unit per territory (distinct units).
pub(crate) fn seeds(
    graph: &Graph,
    weight: &[f64],
    lock: &[Option<u32>],
    k: usize,
    rng: &mut Rng,
) -> Vec<u32> {
    let n = graph.len();
    let mut seed: Vec<Option<u32>> = vec![None; k];
    for (u, l) in lock.iter().enumerate() {
        if let Some(t) = *l
            && let Some(slot) = seed.get_mut(t as usize)
            && slot.is_none()
        {
            *slot = Some(u as u32);
        }
    }
    let mean = weight.iter().sum::<f64>() / n.max(1) as f64;
    // A unit of no weight still counts a little, so empty areas get seeds too.
    let base: Vec<f64> = weight.iter().map(|w| w + 1e-3 * mean + 1e-12).collect();
    let mut nearest = vec![f64::INFINITY; n];
    let mut taken = vec![false; n];
    let update = |nearest: &mut [f64], s: u32| {
        let p = graph.point[s as usize];
        for (u, d) in nearest.iter_mut().enumerate() {
            *d = d.min(d2(graph.point[u], p));
        }
    };
    for s in seed.iter().flatten() {
        taken[*s as usize] = true;
        update(&mut nearest, *s);
    }
    for slot in seed.iter_mut() {
        if slot.is_some() {
            continue;
        }
        let score = |u: usize| -> f64 {
            if taken[u] {
                0.0
            } else if nearest[u].is_finite() {
                base[u] * nearest[u]
            } else {
                base[u]
            }
        };
        let total: f64 = (0..n).map(score).sum();
        let pick = if total > 0.0 {
            let mut r = rng.unit() * total;
            let mut chosen = None;
            for u in 0..n {
                let s = score(u);
                if s <= 0.0 {
                    continue;
                }
                chosen = Some(u);
                if r < s {
                    break;
                }
                r -= s;
            }
            chosen
        } else {
            (0..n).find(|&u| !taken[u])
        };
        let Some(u) = pick else { break };
        taken[u] = true;
        *slot = Some(u as u32);
        update(&mut nearest, u as u32);
    }
    seed.into_iter().map(|s| s.unwrap_or(0)).collect()
}

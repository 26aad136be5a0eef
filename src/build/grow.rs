//! Step 2: grow contiguous territories from their seeds. The territory with the
//! smallest load takes the unclaimed neighbour nearest its centre, until every unit is
//! claimed (the graph is connected, proxy edges included, so every unit is reached).
//! Then Lloyd iterations: each centre moves to its territory's weighted centroid, the
//! seed to the territory's unit nearest it, and the territories grow again; the most
//! balanced growth is kept.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::graph::Graph;
use super::partition::Partition;
use super::seed::d2;

/// An f64 ordered by `total_cmp`, for heaps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Key(pub(crate) f64);

impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Grows territories from `seeds` around `centres`; locked units start in their
/// territory. Returns the owner of every unit.
pub(crate) fn grow(
    graph: &Graph,
    weight: &[f64],
    lock: &[Option<u32>],
    seeds: &[u32],
    centres: &[[f64; 2]],
) -> Vec<u32> {
    let n = graph.len();
    let k = seeds.len();
    let mut owner = vec![u32::MAX; n];
    let mut load = vec![0.0; k];
    let mut frontier: Vec<BinaryHeap<Reverse<(Key, u32)>>> = vec![BinaryHeap::new(); k];
    let claim = |owner: &mut [u32],
                 load: &mut [f64],
                 frontier: &mut [BinaryHeap<Reverse<(Key, u32)>>],
                 u: u32,
                 t: usize| {
        owner[u as usize] = t as u32;
        load[t] += weight[u as usize];
        for (v, _) in graph.neighbours(u) {
            if owner[v as usize] == u32::MAX {
                frontier[t].push(Reverse((Key(d2(graph.point[v as usize], centres[t])), v)));
            }
        }
    };
    for (u, l) in lock.iter().enumerate() {
        if let Some(t) = *l
            && (t as usize) < k
        {
            claim(&mut owner, &mut load, &mut frontier, u as u32, t as usize);
        }
    }
    for (t, &s) in seeds.iter().enumerate() {
        if owner[s as usize] == u32::MAX {
            claim(&mut owner, &mut load, &mut frontier, s, t);
        }
    }
    // Territories by load, smallest first (ties: lowest index). First every territory
    // grows up to the target; then what is left goes to the lightest territories around.
    let target = weight.iter().sum::<f64>() / k.max(1) as f64;
    for capacity in [target, f64::INFINITY] {
        let mut queue: BinaryHeap<Reverse<(Key, u32)>> =
            (0..k).map(|t| Reverse((Key(load[t]), t as u32))).collect();
        while let Some(Reverse((Key(l), t))) = queue.pop() {
            let t = t as usize;
            if l != load[t] || load[t] >= capacity {
                continue;
            }
            let mut next = None;
            while let Some(Reverse((_, v))) = frontier[t].peek().copied() {
                if owner[v as usize] == u32::MAX {
                    next = Some(v);
                    break;
                }
                frontier[t].pop();
            }
            // An enclosed territory stops growing.
            let Some(v) = next else { continue };
            frontier[t].pop();
            claim(&mut owner, &mut load, &mut frontier, v, t);
            queue.push(Reverse((Key(load[t]), t as u32)));
        }
    }
    // Units no territory reached (none when the graph is connected) go to the nearest seed.
    for (o, p) in owner.iter_mut().zip(&graph.point) {
        if *o == u32::MAX {
            let t = (0..k)
                .min_by(|&a, &b| d2(*p, centres[a]).total_cmp(&d2(*p, centres[b])))
                .unwrap_or(0);
            *o = t as u32;
        }
    }
    owner
}

/// Lloyd iterations of [`grow`] from the initial seeds; the owner vector of the most
/// balanced growth (least summed squared deviation). `progress` hears after each
/// iteration and ends them early by answering `false`.
pub(crate) fn lloyd(
    graph: &Graph,
    weight: &[f64],
    lock: &[Option<u32>],
    locked: &[bool],
    seeds: Vec<u32>,
    iterations: usize,
    mut progress: impl FnMut(usize, f64) -> bool,
) -> Vec<u32> {
    let k = seeds.len();
    let mut seeds = seeds;
    let mut centres: Vec<[f64; 2]> = seeds.iter().map(|&s| graph.point[s as usize]).collect();
    let mean = weight.iter().sum::<f64>() / graph.len().max(1) as f64;
    let mut has_lock = vec![false; k];
    for t in lock.iter().flatten() {
        if let Some(h) = has_lock.get_mut(*t as usize) {
            *h = true;
        }
    }
    let mut best: Option<(f64, Vec<u32>)> = None;
    for i in 0..iterations.max(1) {
        let owner = grow(graph, weight, lock, &seeds, &centres);
        let partition = Partition::new(graph, weight, locked, owner, k);
        let score = partition.imbalance();
        let go_on = progress(i, partition.max_deviation());
        // Weighted centroids, then the seed nearest each.
        let mut sum = vec![[0.0f64; 3]; k];
        for (u, &t) in partition.owner.iter().enumerate() {
            let w = weight[u] + 1e-3 * mean + 1e-12;
            let p = graph.point[u];
            let s = &mut sum[t as usize];
            s[0] += w * p[0];
            s[1] += w * p[1];
            s[2] += w;
        }
        for t in 0..k {
            if sum[t][2] > 0.0 {
                centres[t] = [sum[t][0] / sum[t][2], sum[t][1] / sum[t][2]];
            }
        }
        let mut nearest: Vec<(f64, u32)> = seeds.iter().map(|_| (f64::INFINITY, u32::MAX)).collect();
        for (u, &t) in partition.owner.iter().enumerate() {
            let d = d2(graph.point[u], centres[t as usize]);
            if d < nearest[t as usize].0 {
                nearest[t as usize] = (d, u as u32);
            }
        }
        for t in 0..k {
            // Territories with locks keep their locked seed.
            if nearest[t].1 != u32::MAX && !has_lock[t] {
                seeds[t] = nearest[t].1;
            }
        }
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, partition.owner));
        }
        if !go_on {
            break;
        }
    }
    best.map(|(_, o)| o).unwrap_or_default()
}

//! Step 3b: ejection chains, for the territories the boundary moves leave out of
//! tolerance (every neighbour is about as loaded, so no single move helps). From the
//! worst territory a breadth-first search over the territory adjacency finds the
//! nearest territory with the opposite deviation; one unit then moves across each
//! border of that path (each donor staying connected), passing the excess along. A
//! chain that does not lower the summed squared deviation is undone.

use std::collections::VecDeque;

use super::partition::Partition;

/// Runs up to `max_chains` chains while some territory is outside `tolerance` and
/// `go_on` (asked before each chain) answers `true`. Returns the number of chains kept.
pub(crate) fn chains(
    p: &mut Partition,
    tolerance: f64,
    max_chains: usize,
    mut go_on: impl FnMut() -> bool,
) -> usize {
    let k = p.k();
    let mut stuck = vec![false; k];
    let mut kept = 0;
    for _ in 0..max_chains {
        if !go_on() {
            break;
        }
        let target = p.target;
        let worst = (0..k).filter(|&t| !stuck[t]).max_by(|&a, &b| {
            let (da, db) = ((p.load[a] - target).abs(), (p.load[b] - target).abs());
            da.total_cmp(&db).then(b.cmp(&a))
        });
        let Some(s) = worst else { break };
        if (p.load[s] - target).abs() <= tolerance * target {
            break;
        }
        let before = p.imbalance();
        let moves = match find_chain(p, s as u32) {
            Some(m) => m,
            None => {
                stuck[s] = true;
                continue;
            }
        };
        let mut done: Vec<(u32, u32)> = Vec::new();
        for &(u, to) in &moves {
            if p.owner[u as usize] == to || !p.can_leave(u) {
                break;
            }
            done.push((u, p.owner[u as usize]));
            p.move_unit(u, to);
        }
        if done.len() == moves.len() && p.imbalance() < before - 1e-12 {
            kept += 1;
            stuck.iter_mut().for_each(|s| *s = false);
        } else {
            for &(u, from) in done.iter().rev() {
                p.move_unit(u, from);
            }
            stuck[s] = true;
        }
    }
    kept
}

/// The moves (unit, to) of a chain from territory `s` to the nearest territory of the
/// opposite deviation, in the order to apply them.
fn find_chain(p: &mut Partition, s: u32) -> Option<Vec<(u32, u32)>> {
    let k = p.k();
    let target = p.target;
    let over = p.load[s as usize] > target;
    let amount = (p.load[s as usize] - target).abs();
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); k];
    for (u, &t) in p.owner.iter().enumerate() {
        members[t as usize].push(u as u32);
    }
    // parent[d] = (territory before d on the path, unit crossing between them).
    let mut parent: Vec<Option<(u32, u32)>> = vec![None; k];
    let mut visited = vec![false; k];
    visited[s as usize] = true;
    let mut queue = VecDeque::from([s]);
    while let Some(t) = queue.pop_front() {
        // Candidate crossings from t to each unvisited neighbour territory d: when
        // over, a unit of t moves into d; when under, a unit of d moves into t.
        let mut candidates: Vec<(u32, u32)> = Vec::new(); // (d, unit)
        for &u in &members[t as usize] {
            for (v, _) in p.graph.neighbours(u) {
                let d = p.owner[v as usize];
                // Units cross into d (over) or into t (under): neither may be closed.
                if visited[d as usize] || p.is_closed(d) || p.is_closed(t) {
                    continue;
                }
                let mover = if over { u } else { v };
                if !p.movable(mover) {
                    continue;
                }
                candidates.push((d, mover));
            }
        }
        candidates.sort_unstable_by(|a, b| {
            let (wa, wb) = (p.weight[a.1 as usize], p.weight[b.1 as usize]);
            a.0.cmp(&b.0)
                .then((wa - amount).abs().total_cmp(&(wb - amount).abs()))
                .then(a.1.cmp(&b.1))
        });
        candidates.dedup();
        let mut i = 0;
        while i < candidates.len() {
            let d = candidates[i].0;
            let mut chosen = None;
            while i < candidates.len() && candidates[i].0 == d {
                let u = candidates[i].1;
                if chosen.is_none() && p.weight[u as usize] > 0.0 && p.can_leave(u) {
                    chosen = Some(u);
                }
                i += 1;
            }
            let Some(u) = chosen else { continue };
            visited[d as usize] = true;
            parent[d as usize] = Some((t, u));
            let ld = p.load[d as usize];
            let opposite = if over { ld < target } else { ld > target };
            if opposite {
                // Walk back: the moves nearest the end first, so every donor still
                // holds its crossing unit when it gives it.
                let mut moves = Vec::new();
                let mut at = d;
                while let Some((prev, unit)) = parent[at as usize] {
                    let to = if over { at } else { prev };
                    moves.push((unit, to));
                    at = prev;
                }
                if lowers_imbalance(p, &moves) {
                    return Some(moves);
                }
            }
            queue.push_back(d);
        }
    }
    None
}

/// Whether applying `moves` (unit, to) would lower the summed squared deviation.
fn lowers_imbalance(p: &Partition, moves: &[(u32, u32)]) -> bool {
    let mut delta: Vec<(u32, f64)> = Vec::new();
    let mut add = |t: u32, w: f64| match delta.iter_mut().find(|(x, _)| *x == t) {
        Some((_, d)) => *d += w,
        None => delta.push((t, w)),
    };
    for &(u, to) in moves {
        let w = p.weight[u as usize];
        add(p.owner[u as usize], -w);
        add(to, w);
    }
    let change: f64 = delta
        .iter()
        .map(|&(t, d)| {
            let before = p.load[t as usize] - p.target;
            (before + d).powi(2) - before.powi(2)
        })
        .sum();
    change < -1e-12 * p.target * p.target
}

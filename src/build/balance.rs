//! Step 3: balance repair by boundary moves. A unit on a territory's border moves to
//! the neighbouring territory when that lowers the summed squared deviation (the
//! donor's load exceeds the receiver's by more than the unit's weight) and the donor
//! stays connected without it ([`Partition::can_leave`]). Repeated passes diffuse an
//! excess along chains of territories; a pass that moves nothing ends the repair.
//! With `outside` set, a move must take weight from a territory above that deviation or
//! give to one below it: the outliers are mended and the rest is left as it is (after
//! the compactness polish, which a general repair would undo).

use super::partition::Partition;
use super::rng::Rng;

/// Runs balance passes until none moves a unit, `max_passes` is reached or every
/// territory is within `stop` (relative deviation), or `progress` (told after each
/// pass) answers `false`. Returns the number of moves.
pub(crate) fn repair(
    p: &mut Partition,
    rng: &mut Rng,
    max_passes: usize,
    stop: f64,
    outside: Option<f64>,
    mut progress: impl FnMut(usize, f64) -> bool,
) -> usize {
    let n = p.graph.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut moves = 0;
    let mut candidates: Vec<u32> = Vec::new();
    for pass in 0..max_passes {
        if p.max_deviation() <= stop {
            break;
        }
        rng.shuffle(&mut order);
        let mut moved = 0;
        for &u in &order {
            if !p.movable(u) {
                continue;
            }
            let s = p.owner[u as usize];
            let w = p.weight[u as usize];
            p.neighbour_territories(u, &mut candidates);
            if candidates.is_empty() {
                continue;
            }
            // The receiver that lowers the squared deviation most; ties: compactness.
            let mut best: Option<(f64, f64, u32)> = None;
            for &t in &candidates {
                // Units of no weight move only down a clear slope (they open a way).
                let gain = p.load[s as usize] - p.load[t as usize] - w.max(0.01 * p.target);
                if gain <= 1e-9 * p.target {
                    continue;
                }
                if let Some(bound) = outside {
                    let deviation = |t: u32| (p.load[t as usize] - p.target) / p.target;
                    if deviation(s) <= bound && deviation(t) >= -bound {
                        continue;
                    }
                }
                let shape = p.pp_gain(u, t);
                let better = best.is_none_or(|(g, sh, _)| {
                    gain > g * (1.0 + 1e-9) || (gain >= g * (1.0 - 1e-9) && shape > sh)
                });
                if better {
                    best = Some((gain, shape, t));
                }
            }
            let Some((_, _, t)) = best else { continue };
            if p.can_leave(u) {
                p.move_unit(u, t);
                moved += 1;
                continue;
            }
            // A unit joining pieces of its territory leaves with the lighter pieces.
            let limit = (p.size[s as usize] as usize / 3).max(1);
            let Some(set) = p.leave_set(u, limit) else {
                continue;
            };
            let weight: f64 = set.iter().map(|&v| p.weight[v as usize]).sum();
            if p.load[s as usize] - p.load[t as usize] - weight > 1e-9 * p.target && p.fits_budget(&set, t) {
                for v in set {
                    p.move_unit(v, t);
                    moved += 1;
                }
            }
        }
        moves += moved;
        if !progress(pass, p.max_deviation()) || moved == 0 {
            break;
        }
    }
    moves
}

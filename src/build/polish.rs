//! Step 4: compactness polish. A border unit moves to a neighbouring territory when
//! that raises the two territories' summed Polsby-Popper score (4πA/P²: the move
//! shortens the cut border relative to the areas), balance stays a hard bound (neither
//! territory leaves `bound`) and the donor stays connected.

use super::partition::Partition;
use super::rng::Rng;

/// Runs polish passes until none moves a unit, `max_passes` is reached or `progress`
/// (told after each pass) answers `false`; every
/// accepted move keeps both territories within `bound` (relative deviation). Returns
/// the number of moves.
pub(crate) fn polish(
    p: &mut Partition,
    rng: &mut Rng,
    max_passes: usize,
    bound: f64,
    mut progress: impl FnMut(usize, f64) -> bool,
) -> usize {
    let n = p.graph.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    let limit = bound * p.target;
    let mut moves = 0;
    let mut candidates: Vec<u32> = Vec::new();
    for pass in 0..max_passes {
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
            // Balance is a hard bound: a territory stays within the tolerance, or at
            // least does not get worse.
            let target = p.target;
            let allowed = |before: f64, after: f64| {
                let (b, a) = ((before - target).abs(), (after - target).abs());
                a <= limit || a <= b
            };
            let from = p.load[s as usize];
            if !allowed(from, from - w) {
                continue;
            }
            let mut best: Option<(f64, u32)> = None;
            for &t in &candidates {
                let to = p.load[t as usize];
                if !allowed(to, to + w) {
                    continue;
                }
                let gain = p.pp_gain(u, t);
                if gain > 1e-9 && best.is_none_or(|(g, _)| gain > g) {
                    best = Some((gain, t));
                }
            }
            let Some((_, t)) = best else { continue };
            if p.can_leave(u) {
                p.move_unit(u, t);
                moved += 1;
            }
        }
        moves += moved;
        if !progress(pass, p.mean_pp()) || moved == 0 {
            break;
        }
    }
    moves
}

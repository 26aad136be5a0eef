//! Step 2 (a build without locks): recursive bisection. The whole graph is cut in two
//! parts holding ⌊k/2⌋ and ⌈k/2⌉ territories' worth of weight, each part is cut again,
//! down to one territory per part. A cut is a sweep: one part grows from the unit least
//! far along a direction, always taking the frontier unit least far along it, so
//! it is connected and its border with the other part is close to a straight line;
//! pieces of the other part that the sweep cut off join the sweep. Several directions
//! (and both ends) are tried, and among the balanced cuts the one whose two sides are
//! the most compact (summed Polsby-Popper) is kept.
//!
//! Every part is connected (proxy edges count), so every territory is; the balance at
//! each cut is exact up to a unit's weight, so what the repair after it has to carry is
//! local, not regional (the weakness of growing all territories at once from seeds);
//! and compact sides at every level make compact territories.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::graph::Graph;
use super::grow::Key;
use super::rng::Rng;

/// Directions tried per cut, spread over half a turn; each is swept from both ends.
const DIRECTIONS: usize = 16;

/// A cut's balance error it may have and still compete on length: this fraction of
/// one territory's target.
const BALANCED: f64 = 0.01;

/// Frontier units looked at past the first one that overshoots, for one that fits.
const FILL_TRIES: usize = 64;

/// Cuts `graph` into `k` connected parts of equal weight: the part (0..k) of every unit,
/// or `None` when a cut left some part fewer units than territories (k near the number
/// of units). `rng` turns the directions tried (a different seed, other cuts).
pub(crate) fn bisect(graph: &Graph, weight: &[f64], k: usize, rng: &mut Rng) -> Option<Vec<u32>> {
    let n = graph.len();
    let mut cutter = Cutter {
        graph,
        weight,
        part: vec![0; n],
        next_part: 1,
        mark: vec![0; n],
        stamp: 0,
        heap: BinaryHeap::new(),
    };
    let mut owner = vec![0u32; n];
    let target = weight.iter().sum::<f64>() / k.max(1) as f64;
    // Parts to cut: (units, territories, first territory index).
    let mut work: Vec<(Vec<u32>, usize, u32)> = vec![((0..n as u32).collect(), k, 0)];
    while let Some((units, k, first)) = work.pop() {
        if units.len() < k {
            return None;
        }
        if k <= 1 {
            for &u in &units {
                owner[u as usize] = first;
            }
            continue;
        }
        let low = k / 2;
        // Each cut turns its directions by its own random angle (the seed's say).
        let turn = rng.unit() * std::f64::consts::PI / DIRECTIONS as f64;
        let (a, b) = cutter.cut(&units, low, k, target, turn);
        work.push((a, low, first));
        work.push((b, k - low, first + low as u32));
    }
    Some(owner)
}

/// Scratch of the cuts: which part every unit is in, and the sweep's marks.
struct Cutter<'a> {
    graph: &'a Graph,
    weight: &'a [f64],
    /// The part a unit is in now (units of the part being cut share one id).
    part: Vec<u32>,
    next_part: u32,
    /// Search marks: a unit is marked with the stamp of the search that reached it.
    mark: Vec<u32>,
    stamp: u32,
    heap: BinaryHeap<Reverse<(Key, u32)>>,
}

/// One sweep's result.
struct Sweep {
    /// The units the sweep took (pieces it cut off included).
    taken: Vec<u32>,
    /// |weight taken - weight wanted| / one territory's target (infinite when the other
    /// side would hold fewer units than its territories).
    error: f64,
    /// Border length between the two sides (km).
    cut: f64,
    /// The two sides' Polsby-Popper scores, summed.
    shape: f64,
}

/// Area and outline sums of a set of units.
#[derive(Debug, Clone, Copy, Default)]
struct Outline {
    /// Summed unit areas (km²).
    area: f64,
    /// Summed unit perimeters (km).
    perimeter: f64,
    /// Border length shared between units of the set (km, each border once).
    inside: f64,
}

impl Outline {
    /// Polsby-Popper of the set: its outline is the unit perimeters less both sides of
    /// every border inside it.
    fn pp(&self) -> f64 {
        super::partition::Partition::pp(self.area, self.perimeter - 2.0 * self.inside)
    }
}

/// What one sweep is after: the weight, and the fewest and most units it may take.
struct Want {
    weight: f64,
    min_units: usize,
    max_units: usize,
}

impl Cutter<'_> {
    /// Cuts the connected `units` in two connected sides, the first for `low` of the `k`
    /// territories; tries every direction from both ends and keeps the balanced cut
    /// with the most compact sides.
    fn cut(&mut self, units: &[u32], low: usize, k: usize, target: f64, turn: f64) -> (Vec<u32>, Vec<u32>) {
        let id = self.fresh_part();
        for &u in units {
            self.part[u as usize] = id;
        }
        let total: f64 = units.iter().map(|&u| self.weight[u as usize]).sum();
        let (whole, _) = self.outline(units, id, None);
        let mut best: Option<(Sweep, bool)> = None;
        // Sweep for the first side, or (unless both want the same) for the second.
        let sides: &[bool] = if 2 * low == k { &[true] } else { &[true, false] };
        for d in 0..2 * DIRECTIONS {
            let angle = turn + d as f64 * std::f64::consts::PI / DIRECTIONS as f64;
            let (sin, cos) = angle.sin_cos();
            let along = |p: [f64; 2]| p[0] * cos + p[1] * sin;
            for &first_side in sides {
                let mine = if first_side { low } else { k - low };
                let want = Want {
                    weight: total * mine as f64 / k as f64,
                    min_units: mine,
                    max_units: units.len() - (k - mine),
                };
                let sweep = self.sweep(units, id, &want, target, &along, &whole);
                if better(&sweep, best.as_ref().map(|b| &b.0)) {
                    best = Some((sweep, first_side));
                }
            }
        }
        let Some((sweep, first_side)) = best else {
            return (units.to_vec(), Vec::new());
        };
        tracing::trace!(
            units = units.len(),
            k,
            low,
            error = sweep.error,
            cut = sweep.cut,
            "bisection cut"
        );
        let side = self.fresh_part();
        for &u in &sweep.taken {
            self.part[u as usize] = side;
        }
        let rest: Vec<u32> = units
            .iter()
            .copied()
            .filter(|&u| self.part[u as usize] == id)
            .collect();
        if first_side {
            (sweep.taken, rest)
        } else {
            (rest, sweep.taken)
        }
    }

    fn fresh_part(&mut self) -> u32 {
        self.next_part += 1;
        self.next_part
    }

    fn fresh_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.mark.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }

    /// Grows a side of part `id` from the unit least far `along`, taking the frontier
    /// unit least far along next, until it holds the weight wanted (a unit that would
    /// overshoot by more than it leaves short is passed over, for a few, in favour of
    /// later ones that fit); then takes the pieces of the rest cut off from its
    /// heaviest piece.
    fn sweep(
        &mut self,
        units: &[u32],
        id: u32,
        want: &Want,
        target: f64,
        along: &dyn Fn([f64; 2]) -> f64,
        whole: &Outline,
    ) -> Sweep {
        let (graph, weight) = (self.graph, self.weight);
        let queued = self.fresh_stamp();
        let start = units
            .iter()
            .copied()
            .min_by(|&a, &b| along(graph.point[a as usize]).total_cmp(&along(graph.point[b as usize])))
            .unwrap_or(0);
        self.heap.clear();
        let mut taken = Vec::new();
        self.heap
            .push(Reverse((Key(along(graph.point[start as usize])), start)));
        self.mark[start as usize] = queued;
        let (mut held, mut passed) = (0.0, 0);
        while let Some(Reverse((_, u))) = self.heap.pop() {
            if taken.len() >= want.max_units {
                break;
            }
            let w = weight[u as usize];
            let short = want.weight - held;
            let take = taken.len() < want.min_units || w <= short || w - short < short;
            if take {
                taken.push(u);
                held += w;
                for (v, _) in graph.neighbours(u) {
                    let i = v as usize;
                    if self.part[i] == id && self.mark[i] != queued {
                        self.mark[i] = queued;
                        self.heap.push(Reverse((Key(along(graph.point[i])), v)));
                    }
                }
                if held >= want.weight && taken.len() >= want.min_units {
                    break;
                }
            } else {
                passed += 1;
                if passed > FILL_TRIES {
                    break;
                }
            }
        }
        held += self.take_cut_off(units, id, &mut taken);
        let rest = units.len() - taken.len();
        let error = if rest < units.len() - want.max_units {
            f64::INFINITY
        } else {
            (held - want.weight).abs() / target.max(f64::MIN_POSITIVE)
        };
        let mark = self.fresh_stamp();
        for &u in &taken {
            self.mark[u as usize] = mark;
        }
        let (side, cut) = self.outline(&taken, id, Some(mark));
        let rest = Outline {
            area: whole.area - side.area,
            perimeter: whole.perimeter - side.perimeter,
            inside: whole.inside - side.inside - cut,
        };
        let shape = side.pp() + rest.pp();
        Sweep {
            taken,
            error,
            cut,
            shape,
        }
    }

    /// The rest of part `id` (units not in `taken`) in pieces; every piece but the
    /// heaviest joins `taken`. Returns the weight that joined.
    fn take_cut_off(&mut self, units: &[u32], id: u32, taken: &mut Vec<u32>) -> f64 {
        let in_taken = self.fresh_stamp();
        for &u in taken.iter() {
            self.mark[u as usize] = in_taken;
        }
        let seen = self.fresh_stamp();
        let mut pieces: Vec<(f64, Vec<u32>)> = Vec::new();
        for &s in units {
            let i = s as usize;
            if self.mark[i] == in_taken || self.mark[i] == seen {
                continue;
            }
            self.mark[i] = seen;
            let mut piece = vec![s];
            let (mut head, mut w) = (0, 0.0);
            while head < piece.len() {
                let v = piece[head];
                head += 1;
                w += self.weight[v as usize];
                for (x, _) in self.graph.neighbours(v) {
                    let j = x as usize;
                    if self.part[j] == id && self.mark[j] != in_taken && self.mark[j] != seen {
                        self.mark[j] = seen;
                        piece.push(x);
                    }
                }
            }
            pieces.push((w, piece));
        }
        let keep = pieces
            .iter()
            .enumerate()
            .max_by(|(i, a), (j, b)| a.0.total_cmp(&b.0).then(a.1.len().cmp(&b.1.len())).then(j.cmp(i)))
            .map(|(i, _)| i);
        let mut joined = 0.0;
        for (i, (w, piece)) in pieces.into_iter().enumerate() {
            if Some(i) != keep {
                joined += w;
                taken.extend(piece);
            }
        }
        joined
    }

    /// The outline sums of `set` (the units of part `id` marked `mark`, or the whole
    /// part: `None`) and the border length between it and the rest of the part.
    fn outline(&self, set: &[u32], id: u32, mark: Option<u32>) -> (Outline, f64) {
        let (mut o, mut cut) = (Outline::default(), 0.0);
        let in_set = |c: &Self, v: u32| match mark {
            None => c.part[v as usize] == id,
            Some(m) => c.mark[v as usize] == m,
        };
        for &u in set {
            o.area += self.graph.area[u as usize];
            o.perimeter += self.graph.perimeter[u as usize];
            for (v, l) in self.graph.neighbours(u) {
                if in_set(self, v) {
                    o.inside += 0.5 * l;
                } else if self.part[v as usize] == id {
                    cut += l;
                }
            }
        }
        (o, cut)
    }
}

/// Whether `a` beats `b`: both balanced, the shorter cut; otherwise the smaller error.
fn better(a: &Sweep, b: Option<&Sweep>) -> bool {
    let Some(b) = b else { return true };
    match (a.error <= BALANCED, b.error <= BALANCED) {
        (true, true) => a.shape > b.shape,
        (true, false) => true,
        (false, true) => false,
        (false, false) => a.error < b.error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the units of part `t` are connected.
    fn connected(graph: &Graph, owner: &[u32], t: u32) -> bool {
        let members: Vec<u32> = (0..owner.len() as u32)
            .filter(|&u| owner[u as usize] == t)
            .collect();
        let Some(&start) = members.first() else {
            return false;
        };
        let mut seen = vec![false; owner.len()];
        seen[start as usize] = true;
        let mut stack = vec![start];
        let mut reached = 1;
        while let Some(u) = stack.pop() {
            for (v, _) in graph.neighbours(u) {
                if owner[v as usize] == t && !seen[v as usize] {
                    seen[v as usize] = true;
                    reached += 1;
                    stack.push(v);
                }
            }
        }
        reached == members.len()
    }

    #[test]
    fn a_grid_is_cut_into_connected_parts_of_equal_weight() {
        let graph = Graph::grid(30, 20);
        let weight = vec![1.0; 600];
        for k in [2, 3, 7, 12, 25] {
            let owner = bisect(&graph, &weight, k, &mut Rng::new(1)).unwrap();
            let mut sizes = vec![0usize; k];
            for &t in &owner {
                sizes[t as usize] += 1;
            }
            // 600 / k units each, up to the rounding of every cut on the way down.
            let target = 600.0 / k as f64;
            for (t, &size) in sizes.iter().enumerate() {
                assert!(
                    (size as f64 - target).abs() <= 4.0,
                    "k = {k}: part {t} has {size} units"
                );
                assert!(
                    connected(&graph, &owner, t as u32),
                    "k = {k}: part {t} is in pieces"
                );
            }
        }
    }

    #[test]
    fn pieces_a_sweep_cuts_off_join_it() {
        // A U: two arms of a 9 × 9 grid joined along the bottom row, heavy units on the
        // right arm. Every part stays connected whatever the direction swept.
        let full = Graph::grid(9, 9);
        let keep: Vec<bool> = (0..81).map(|u| u / 9 == 0 || u % 9 < 3 || u % 9 > 5).collect();
        let (graph, _) = full.subgraph(&keep);
        let n = graph.len();
        let weight: Vec<f64> = (0..n)
            .map(|u| if graph.point[u][0] > 5.0 { 3.0 } else { 1.0 })
            .collect();
        for seed in 1..6 {
            let owner = bisect(&graph, &weight, 4, &mut Rng::new(seed)).unwrap();
            for t in 0..4 {
                assert!(connected(&graph, &owner, t), "seed {seed}: part {t} is in pieces");
            }
        }
    }

    #[test]
    fn too_few_units_for_the_territories_is_none() {
        let graph = Graph::grid(3, 1);
        assert_eq!(
            bisect(&graph, &[1.0; 3], 3, &mut Rng::new(1)).map(|o| o.len()),
            Some(3)
        );
        assert!(bisect(&graph, &[1.0, 100.0, 1.0], 3, &mut Rng::new(1)).is_some());
    }
}

//! A partition under repair: the owner of every unit and, per territory, its load
//! (combined weight), area, perimeter and size, kept up to date by [`Partition::move_unit`];
//! [`Partition::can_leave`] tells whether a unit can leave its territory without
//! cutting it in two.

use super::graph::Graph;

/// Owners and per-territory sums of a partition of a [`Graph`].
#[derive(Debug, Clone)]
pub(crate) struct Partition<'a> {
    pub(crate) graph: &'a Graph,
    pub(crate) weight: &'a [f64],
    pub(crate) locked: &'a [bool],
    pub(crate) owner: Vec<u32>,
    pub(crate) load: Vec<f64>,
    pub(crate) area: Vec<f64>,
    pub(crate) perimeter: Vec<f64>,
    pub(crate) size: Vec<u32>,
    /// Mean load (the balance target).
    pub(crate) target: f64,
    /// The owners a rebalance started from (empty for a build: no bound on moves).
    origin: Vec<u32>,
    /// Most units that may end away from `origin`.
    budget: usize,
    /// Units away from `origin` now.
    pub(crate) moved: usize,
    /// Territories that take no units (locked ones in a rebalance; empty: none).
    closed: Vec<bool>,
    /// Scratch for the connectivity search: the stamp of the search that saw a unit.
    seen: Vec<u32>,
    stamp: u32,
    queue: Vec<u32>,
}

impl<'a> Partition<'a> {
    /// The partition of `graph` given by `owner` (territories `0..k`).
    pub(crate) fn new(
        graph: &'a Graph,
        weight: &'a [f64],
        locked: &'a [bool],
        owner: Vec<u32>,
        k: usize,
    ) -> Self {
        let mut p = Partition {
            graph,
            weight,
            locked,
            owner,
            load: vec![0.0; k],
            area: vec![0.0; k],
            perimeter: vec![0.0; k],
            size: vec![0; k],
            target: weight.iter().sum::<f64>() / k.max(1) as f64,
            origin: Vec::new(),
            budget: usize::MAX,
            moved: 0,
            closed: Vec::new(),
            seen: vec![0; graph.len()],
            stamp: 0,
            queue: Vec::new(),
        };
        for (u, &w) in weight.iter().enumerate().take(graph.len()) {
            let t = p.owner[u] as usize;
            p.load[t] += w;
            p.area[t] += graph.area[u];
            p.perimeter[t] += graph.perimeter[u];
            p.size[t] += 1;
        }
        for (a, b, l) in graph.edges() {
            if p.owner[a as usize] == p.owner[b as usize] {
                p.perimeter[p.owner[a as usize] as usize] -= 2.0 * l;
            }
        }
        p
    }

    /// Bounds the disruption: from now on at most `max_moved` units may end in
    /// another territory than the one they are in now.
    pub(crate) fn with_budget(mut self, max_moved: usize) -> Self {
        self.origin = self.owner.clone();
        self.budget = max_moved;
        self.moved = 0;
        self
    }

    /// Closes the territories `closed` marks: no unit moves into them.
    pub(crate) fn with_closed(mut self, closed: Vec<bool>) -> Self {
        self.closed = closed;
        self
    }

    /// Whether territory `t` takes no units.
    pub(crate) fn is_closed(&self, t: u32) -> bool {
        self.closed.get(t as usize).copied().unwrap_or(false)
    }

    /// Whether `u` may move at all: not locked, and within the move budget (a unit
    /// already moved may move again, or back).
    pub(crate) fn movable(&self, u: u32) -> bool {
        let i = u as usize;
        !self.locked[i]
            && (self.moved < self.budget || self.origin.get(i).is_some_and(|&o| o != self.owner[i]))
    }

    /// Whether moving every unit of `set` (all from one territory) to `to` stays
    /// within the move budget.
    pub(crate) fn fits_budget(&self, set: &[u32], to: u32) -> bool {
        if self.origin.is_empty() {
            return true;
        }
        let mut moved = self.moved as i64;
        for &v in set {
            let (i, from) = (v as usize, self.owner[v as usize]);
            moved += i64::from(from == self.origin[i]) - i64::from(to == self.origin[i]);
        }
        moved <= self.budget as i64
    }

    /// Number of territories.
    pub(crate) fn k(&self) -> usize {
        self.load.len()
    }

    /// Border length between unit `u` and territory `t` (units of `t` other than `u`).
    pub(crate) fn border(&self, u: u32, t: u32) -> f64 {
        self.graph
            .neighbours(u)
            .filter(|&(v, _)| self.owner[v as usize] == t)
            .map(|(_, l)| l)
            .sum()
    }

    /// Polsby-Popper score of a territory of this area and perimeter.
    pub(crate) fn pp(area: f64, perimeter: f64) -> f64 {
        if perimeter <= 0.0 {
            return 0.0;
        }
        (4.0 * std::f64::consts::PI * area / (perimeter * perimeter)).min(1.0)
    }

    /// The change of the two territories' summed Polsby-Popper if `u` moved to `to`.
    pub(crate) fn pp_gain(&self, u: u32, to: u32) -> f64 {
        let from = self.owner[u as usize];
        let (f, t) = (from as usize, to as usize);
        let a = self.graph.area[u as usize];
        let p = self.graph.perimeter[u as usize];
        let (bf, bt) = (self.border(u, from), self.border(u, to));
        let before = Self::pp(self.area[f], self.perimeter[f]) + Self::pp(self.area[t], self.perimeter[t]);
        let after = Self::pp(self.area[f] - a, self.perimeter[f] - p + 2.0 * bf)
            + Self::pp(self.area[t] + a, self.perimeter[t] + p - 2.0 * bt);
        after - before
    }

    /// Moves unit `u` to territory `to`, updating the sums.
    pub(crate) fn move_unit(&mut self, u: u32, to: u32) {
        let from = self.owner[u as usize];
        if from == to {
            return;
        }
        let (bf, bt) = (self.border(u, from), self.border(u, to));
        let (f, t, i) = (from as usize, to as usize, u as usize);
        let (w, a, p) = (self.weight[i], self.graph.area[i], self.graph.perimeter[i]);
        self.load[f] -= w;
        self.load[t] += w;
        self.area[f] -= a;
        self.area[t] += a;
        self.perimeter[f] += 2.0 * bf - p;
        self.perimeter[t] += p - 2.0 * bt;
        self.size[f] -= 1;
        self.size[t] += 1;
        self.owner[i] = to;
        if let Some(&o) = self.origin.get(i) {
            if from == o {
                self.moved += 1;
            } else if to == o {
                self.moved -= 1;
            }
        }
    }

    /// A fresh stamp for a search over `seen` (clearing it when the stamps wrap).
    fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.fill(0);
            self.stamp = 1;
        }
        self.stamp
    }

    /// Fills `out` with the territories other than `u`'s own that border `u` and take
    /// units.
    pub(crate) fn neighbour_territories(&self, u: u32, out: &mut Vec<u32>) {
        let own = self.owner[u as usize];
        out.clear();
        for (v, _) in self.graph.neighbours(u) {
            let t = self.owner[v as usize];
            if t != own && !out.contains(&t) && !self.is_closed(t) {
                out.push(t);
            }
        }
    }

    /// Whether `u` may leave its territory: not locked, not the territory's last unit,
    /// and the territory stays connected without it (its neighbours in the territory
    /// still reach each other).
    pub(crate) fn can_leave(&mut self, u: u32) -> bool {
        if !self.movable(u) {
            return false;
        }
        let t = self.owner[u as usize];
        if self.size[t as usize] <= 1 {
            return false;
        }
        let mut inside = self
            .graph
            .neighbours(u)
            .filter(|&(v, _)| self.owner[v as usize] == t);
        let Some((first, _)) = inside.next() else {
            // Not connected to its territory at all: leaving cannot disconnect it.
            return true;
        };
        let wanted = self
            .graph
            .neighbours(u)
            .filter(|&(v, _)| self.owner[v as usize] == t)
            .count();
        if wanted == 1 {
            return true;
        }
        let stamp = self.next_stamp();
        self.seen[u as usize] = stamp;
        self.seen[first as usize] = stamp;
        self.queue.clear();
        self.queue.push(first);
        let mut found = 1;
        // Neighbours of `u` in `t` are marked when reached; count them.
        let mut head = 0;
        while head < self.queue.len() {
            let v = self.queue[head];
            head += 1;
            for (w, _) in self.graph.neighbours(v) {
                if self.owner[w as usize] != t || self.seen[w as usize] == stamp {
                    continue;
                }
                self.seen[w as usize] = stamp;
                if self.graph.neighbours(u).any(|(x, _)| x == w) {
                    found += 1;
                    if found == wanted {
                        return true;
                    }
                }
                self.queue.push(w);
            }
        }
        false
    }

    /// The units that leave with `u` when it cannot leave alone: `u` and the pieces of
    /// its territory that only it joins to the rest (the heaviest piece stays). `None`
    /// when one of them is locked, or the pieces would be more than `max_units`
    /// (callers check [`Partition::fits_budget`] for the set).
    pub(crate) fn leave_set(&mut self, u: u32, max_units: usize) -> Option<Vec<u32>> {
        if !self.movable(u) {
            return None;
        }
        let t = self.owner[u as usize];
        let starts: Vec<u32> = self
            .graph
            .neighbours(u)
            .filter(|&(v, _)| self.owner[v as usize] == t)
            .map(|(v, _)| v)
            .collect();
        let stamp = self.next_stamp();
        self.seen[u as usize] = stamp;
        // Pieces: (weight, units).
        let mut pieces: Vec<(f64, Vec<u32>)> = Vec::new();
        for &start in &starts {
            if self.seen[start as usize] == stamp {
                continue;
            }
            self.seen[start as usize] = stamp;
            let mut piece = vec![start];
            let mut head = 0;
            let mut weight = 0.0;
            while head < piece.len() {
                let v = piece[head];
                head += 1;
                weight += self.weight[v as usize];
                for (w, _) in self.graph.neighbours(v) {
                    if self.owner[w as usize] == t && self.seen[w as usize] != stamp {
                        self.seen[w as usize] = stamp;
                        piece.push(w);
                    }
                }
            }
            pieces.push((weight, piece));
        }
        let keep = pieces
            .iter()
            .enumerate()
            .max_by(|(i, a), (j, b)| a.0.total_cmp(&b.0).then(a.1.len().cmp(&b.1.len())).then(j.cmp(i)))
            .map(|(i, _)| i)?;
        let mut out = vec![u];
        for (i, (_, piece)) in pieces.into_iter().enumerate() {
            if i != keep {
                out.extend(piece);
            }
        }
        if out.len() > max_units + 1 || out.iter().any(|&v| self.locked[v as usize]) {
            return None;
        }
        Some(out)
    }

    /// Largest |load - target| / target over the territories.
    pub(crate) fn max_deviation(&self) -> f64 {
        if self.target <= 0.0 {
            return 0.0;
        }
        self.load
            .iter()
            .map(|l| (l - self.target).abs() / self.target)
            .fold(0.0, f64::max)
    }

    /// Sum of squared relative deviations (the balance objective).
    pub(crate) fn imbalance(&self) -> f64 {
        if self.target <= 0.0 {
            return 0.0;
        }
        self.load
            .iter()
            .map(|l| ((l - self.target) / self.target).powi(2))
            .sum()
    }

    /// Mean Polsby-Popper over the territories.
    pub(crate) fn mean_pp(&self) -> f64 {
        let k = self.k().max(1) as f64;
        (0..self.k())
            .map(|t| Self::pp(self.area[t], self.perimeter[t]))
            .sum::<f64>()
            / k
    }
}

//! Rebalancing a partition that exists: the build's repair steps (boundary moves,
//! ejection chains) started from the territories as they are, stopping as soon as
//! every territory is within the tolerance, and never ending with more than
//! `max_moved` units away from where they started. No growth and no compactness
//! polish: only the moves balance needs. Each donor stays connected, as in a build.
//!
//! ```
//! use geoalign::build::{Current, Graph, RebalanceParams, rebalance};
//! // A strip of four unit squares, three in territory 0 and one in territory 1.
//! let edges = vec![(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)];
//! let graph = Graph::from_parts(edges, vec![1.0; 4], vec![4.0; 4],
//!     vec![[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.5, 0.5]]);
//! let current = Current::new(vec![0, 0, 0, 1], 2);
//! let params = RebalanceParams { max_moved: 1, ..RebalanceParams::default() };
//! let owner = rebalance(&graph, &[1.0; 4], &current, &params, &|_| true).unwrap();
//! assert_eq!(owner, vec![0, 0, 1, 1]);
//! ```

use std::cell::Cell;

use super::partition::Partition;
use super::rng::Rng;
use super::{BuildError, Graph, Progress, balance, chain};

/// Parameters of a rebalance.
#[derive(Debug, Clone, PartialEq)]
pub struct RebalanceParams {
    /// Balance tolerance: the relative deviation from the mean a territory may have.
    pub tolerance: f64,
    /// Most units that may end in another territory.
    pub max_moved: usize,
    /// Seed of the random order of the moves (the same seed gives the same result).
    pub seed: u64,
    /// Most passes of each repair step.
    pub max_passes: usize,
    /// Most ejection chains tried.
    pub max_chains: usize,
}

impl Default for RebalanceParams {
    fn default() -> RebalanceParams {
        RebalanceParams {
            tolerance: 0.02,
            max_moved: usize::MAX,
            seed: 1,
            max_passes: 200,
            max_chains: 1_000,
        }
    }
}

/// A partition as it is, with what may not change.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Territory (`0..territories`) of every unit.
    pub owner: Vec<u32>,
    /// Number of territories.
    pub territories: usize,
    /// Units that stay where they are (one flag per unit, or empty for none).
    pub locked_units: Vec<bool>,
    /// Territories that neither give nor take units (one flag per territory; a missing
    /// flag is unlocked).
    pub locked_territories: Vec<bool>,
}

impl Current {
    /// `owner` over `territories` territories, nothing locked.
    pub fn new(owner: Vec<u32>, territories: usize) -> Current {
        Current {
            owner,
            territories,
            locked_units: Vec::new(),
            locked_territories: Vec::new(),
        }
    }
}

/// Moves units of `current` between neighbouring territories until every territory's
/// combined `weight` is within the tolerance of the mean, or no move within
/// `params.max_moved` helps; locked units and territories stay as they are. `progress`
/// hears after each pass and cancels by answering `false`.
pub fn rebalance(
    graph: &Graph,
    weight: &[f64],
    current: &Current,
    params: &RebalanceParams,
    progress: &(dyn Fn(Progress) -> bool + Sync),
) -> Result<Vec<u32>, BuildError> {
    let n = graph.len();
    let k = current.territories;
    let owner = &current.owner;
    if k == 0 {
        return Err(BuildError::NoTerritories);
    }
    if !(params.tolerance.is_finite() && params.tolerance >= 0.0) {
        return Err(BuildError::BadTolerance(params.tolerance));
    }
    for (what, got) in [("weights", weight.len()), ("owners", owner.len())] {
        if got != n {
            return Err(BuildError::Mismatch { what, got, units: n });
        }
    }
    let locks = current.locked_units.len();
    if locks != 0 && locks != n {
        return Err(BuildError::Mismatch {
            what: "locks",
            got: locks,
            units: n,
        });
    }
    if let Some((unit, &t)) = owner.iter().enumerate().find(|(_, t)| **t as usize >= k) {
        return Err(BuildError::LockOutOfRange {
            unit,
            territory: t,
            territories: k,
        });
    }
    let mut rng = Rng::new(params.seed.wrapping_mul(0x1000_0000_01B3));
    // A unit of a locked territory is locked too.
    let closed = |t: u32| {
        current
            .locked_territories
            .get(t as usize)
            .copied()
            .unwrap_or(false)
    };
    let locked: Vec<bool> = (0..n)
        .map(|u| current.locked_units.get(u).copied().unwrap_or(false) || closed(owner[u]))
        .collect();
    let mut p = Partition::new(graph, weight, &locked, owner.clone(), k)
        .with_budget(params.max_moved)
        .with_closed(current.locked_territories.clone());
    let passes = params.max_passes.max(1);
    let tolerance = params.tolerance;
    let start = p.max_deviation();
    // Progress: how far the worst deviation has come down towards the tolerance.
    let done = |dev: f64| {
        if start <= tolerance {
            1.0
        } else {
            ((start - dev) / (start - tolerance)).clamp(0.0, 0.99)
        }
    };
    let (last, stopped) = (Cell::new(start), Cell::new(false));
    let report = |dev: f64| {
        last.set(dev);
        let phase = "balance";
        if !progress(Progress {
            phase,
            done: done(dev),
            max_deviation: dev,
        }) {
            stopped.set(true);
        }
        !stopped.get()
    };
    balance::repair(&mut p, &mut rng, passes, tolerance, None, |_, dev| report(dev));
    if !stopped.get() {
        chain::chains(&mut p, tolerance, params.max_chains, || report(last.get()));
    }
    if !stopped.get() {
        balance::repair(&mut p, &mut rng, passes, tolerance, None, |_, dev| report(dev));
    }
    if stopped.get() {
        return Err(BuildError::Cancelled);
    }
    let end = p.max_deviation();
    progress(Progress {
        phase: "done",
        done: 1.0,
        max_deviation: end,
    });
    Ok(p.owner)
}

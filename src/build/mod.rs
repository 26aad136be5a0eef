//! Automatic territory building (issue #15): `k` territories from a dataset's units,
//! balanced on weighted metrics, each contiguous on the unit graph, and compact.
//!
//! Pure and deterministic for a seed. The pipeline, one file per step:
//! 1. [`graph`]: the unit graph from the shared-arc topology (border lengths, areas,
//!    perimeters, points; proxy edges join islands to the nearest other component);
//! 2. `bisect`: recursive bisection by sweeps (the cut with the most compact sides
//!    among the balanced ones, over 16 directions from both ends), so every territory
//!    is contiguous and the balance is right region by region from the start; with
//!    locked units instead `seed` (k-means++ on the weights, locked territories at
//!    their locks) and `grow` (the lightest territory takes its nearest unclaimed
//!    neighbour, with Lloyd iterations of the seeds);
//! 3. `balance`: boundary moves that lower the squared deviation and keep the donor
//!    connected, and `chain`: ejection chains where single moves are stuck;
//! 4. `polish`: boundary moves that raise Polsby-Popper with balance as a hard bound,
//!    then the territories still outside the tolerance mended alone;
//! 5. [`quality`]: the report.
//!
//! [`rebalance`] runs step 3 alone on a partition that exists, with a bound on the
//! units moved.
//!
//! Several restarts (different seeds derived from the one given) run on threads; the
//! best result wins (the lowest max deviation above the tolerance, in tenths of the
//! tolerance, then the highest mean Polsby-Popper).
//!
//! ```
//! use geoalign::build::{Graph, Params, build};
//! // A 4 × 1 strip of unit squares into two territories of equal weight.
//! let edges = vec![(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)];
//! let graph = Graph::from_parts(edges, vec![1.0; 4], vec![4.0; 4],
//!     vec![[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.5, 0.5]]);
//! let params = Params { territories: 2, ..Params::default() };
//! let owner = build(&graph, &[1.0; 4], &[], &params, &|_| true).unwrap();
//! assert_eq!(owner[0], owner[1]);
//! assert_eq!(owner[2], owner[3]);
//! assert_ne!(owner[0], owner[3]);
//! ```

mod balance;
mod bisect;
mod chain;
pub mod graph;
mod grow;
mod levels;
mod partition;
mod polish;
pub mod quality;
mod rebalance;
mod rng;
mod seed;
mod weights;
mod within;

pub use graph::Graph;
pub use levels::group;
pub use quality::{MetricQuality, Quality};
pub use rebalance::{Current, RebalanceParams, rebalance};
pub use weights::Balance;
pub use within::within;

use std::sync::atomic::{AtomicBool, Ordering};

use partition::Partition;
use rng::Rng;

/// Why a build was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BuildError {
    /// k = 0.
    #[error("--territories must be at least 1")]
    NoTerritories,
    /// More territories than units.
    #[error("{territories} territories asked for but the dataset has only {units} polygon units")]
    TooManyTerritories {
        /// Territories asked for.
        territories: usize,
        /// Units available.
        units: usize,
    },
    /// A negative (or not finite) tolerance.
    #[error("--tolerance must be a fraction of 0 or more (0.02 = 2%), not {0}")]
    BadTolerance(f64),
    /// The balance specification does not parse.
    #[error("--balance {spec:?}: {reason}")]
    BadBalance {
        /// The specification given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A balance metric no unit of the dataset has.
    #[error("unknown metric '{name}' (the dataset has: {})", if available.is_empty() { "no metrics".to_owned() } else { available.join(", ") })]
    UnknownMetric {
        /// The metric asked for.
        name: String,
        /// The metrics the dataset's units have.
        available: Vec<String>,
    },
    /// The weights or locks do not match the graph.
    #[error("{what}: {got} values for {units} units")]
    Mismatch {
        /// Which input.
        what: &'static str,
        /// Values given.
        got: usize,
        /// Units of the graph.
        units: usize,
    },
    /// More seeds (reps) than territories.
    #[error("{seeds} seeds (reps) for {territories} territories: give --territories at least {seeds}")]
    TooManySeeds {
        /// Seeds given.
        seeds: usize,
        /// Territories asked for.
        territories: usize,
    },
    /// A seed without a home location.
    #[error("rep '{0}' has no home (lon, lat): a seed needs one")]
    SeedWithoutHome(String),
    /// A rebalance's bound on moved units does not parse.
    #[error("max_moved {given:?}: {reason}")]
    BadMaxMoved {
        /// The bound given.
        given: String,
        /// What is expected.
        reason: String,
    },
    /// More groups at an upper level than items below it, or none.
    #[error("--{level} {count}: give from 1 to the {available} {below}")]
    BadLevel {
        /// `districts` or `regions`.
        level: &'static str,
        /// Groups asked for.
        count: usize,
        /// The level below (`territories`, `districts`).
        below: &'static str,
        /// How many there are below.
        available: usize,
    },
    /// Territories that cannot be shared over the groups of a build inside them.
    #[error(
        "{territories} territories cannot be shared over {groups} groups of {units} units: give at least one per group and at most one per unit"
    )]
    BadShare {
        /// Territories asked for.
        territories: usize,
        /// Groups with units.
        groups: usize,
        /// Units in the groups.
        units: usize,
    },
    /// Regions asked for without districts.
    #[error("--regions groups districts: give --districts too")]
    RegionsWithoutDistricts,
    /// The build was cancelled (its progress callback answered `false`).
    #[error("the build was cancelled")]
    Cancelled,
    /// A lock names a territory outside 0..k.
    #[error("unit {unit} is locked to territory {territory}, but there are only {territories}")]
    LockOutOfRange {
        /// Unit index.
        unit: usize,
        /// Territory index.
        territory: u32,
        /// Territories asked for.
        territories: usize,
    },
}

/// Parameters of a build.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Number of territories (k).
    pub territories: usize,
    /// Balance tolerance: the relative deviation from the mean a territory may have.
    pub tolerance: f64,
    /// Seed of the random choices (the same seed gives the same result).
    pub seed: u64,
    /// Independent restarts (run on up to two threads); the best is kept.
    pub restarts: usize,
    /// Lloyd iterations of the growth step.
    pub lloyd_iterations: usize,
    /// Most passes of each repair step.
    pub max_passes: usize,
    /// Most ejection chains tried.
    pub max_chains: usize,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            territories: 1,
            tolerance: 0.02,
            seed: 1,
            restarts: 2,
            lloyd_iterations: 8,
            max_passes: 200,
            max_chains: 1_000,
        }
    }
}

impl Params {
    /// Checks k and the tolerance against a graph of `units` units.
    pub fn check(&self, units: usize) -> Result<(), BuildError> {
        if self.territories == 0 {
            return Err(BuildError::NoTerritories);
        }
        if self.territories > units {
            return Err(BuildError::TooManyTerritories {
                territories: self.territories,
                units,
            });
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return Err(BuildError::BadTolerance(self.tolerance));
        }
        Ok(())
    }
}

/// Where a build is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// The step: `grow`, `balance`, `polish`, `done`.
    pub phase: &'static str,
    /// Fraction of the work done (0..1), over all restarts.
    pub done: f64,
    /// Largest relative deviation of the restart reporting.
    pub max_deviation: f64,
}

/// Builds `params.territories` territories on `graph`: the territory (0..k) of every
/// unit. `weight` is the balance weight per unit; `locks` (empty, or one per unit)
/// fixes units to territories. `progress` hears from the build as it goes and cancels
/// it by answering `false` ([`BuildError::Cancelled`]).
pub fn build(
    graph: &Graph,
    weight: &[f64],
    locks: &[Option<u32>],
    params: &Params,
    progress: &(dyn Fn(Progress) -> bool + Sync),
) -> Result<Vec<u32>, BuildError> {
    let n = graph.len();
    params.check(n)?;
    if weight.len() != n {
        return Err(BuildError::Mismatch {
            what: "weights",
            got: weight.len(),
            units: n,
        });
    }
    let lock: Vec<Option<u32>> = match locks.len() {
        0 => vec![None; n],
        l if l == n => locks.to_vec(),
        l => {
            return Err(BuildError::Mismatch {
                what: "locks",
                got: l,
                units: n,
            });
        }
    };
    for (unit, l) in lock.iter().enumerate() {
        if let Some(t) = *l
            && t as usize >= params.territories
        {
            return Err(BuildError::LockOutOfRange {
                unit,
                territory: t,
                territories: params.territories,
            });
        }
    }
    let restarts = params.restarts.max(1);
    let reporter = Reporter::new(progress);
    let run = |r: usize| run_once(graph, weight, &lock, params, r, &reporter);
    let results: Vec<(Vec<u32>, f64, f64)> = if restarts > 1 {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..restarts).map(|r| scope.spawn(move || run(r))).collect();
            handles
                .into_iter()
                .enumerate()
                .map(|(r, h)| h.join().unwrap_or_else(|_| run(r)))
                .collect()
        })
    } else {
        vec![run(0)]
    };
    if reporter.stopped() {
        return Err(BuildError::Cancelled);
    }
    let tolerance = params.tolerance;
    let best = results
        .into_iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| {
            // Deviations count in steps of a tenth of the tolerance, so restarts held
            // back by the same heavy units are told apart by their shapes.
            let step = (tolerance * 0.1).max(1e-6);
            let key = |x: &(Vec<u32>, f64, f64)| ((x.1.max(tolerance) / step).ceil(), -x.2);
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1)).then(i.cmp(j))
        })
        .map(|(_, r)| r.0)
        .unwrap_or_default();
    reporter.done();
    Ok(best)
}

/// Passes a build's progress on, and remembers a cancel: one restart speaks (the
/// first; the restarts run side by side), every restart asks whether to go on.
struct Reporter<'a> {
    progress: &'a (dyn Fn(Progress) -> bool + Sync),
    stop: AtomicBool,
}

impl<'a> Reporter<'a> {
    fn new(progress: &'a (dyn Fn(Progress) -> bool + Sync)) -> Self {
        Reporter {
            progress,
            stop: AtomicBool::new(false),
        }
    }

    /// Reports for `restart` (when it speaks) and answers whether to go on.
    fn report(&self, restart: usize, phase: &'static str, done: f64, max_deviation: f64) -> bool {
        if restart == 0 && !self.stopped() {
            let go_on = (self.progress)(Progress {
                phase,
                done: done.clamp(0.0, 1.0),
                max_deviation,
            });
            if !go_on {
                self.stop.store(true, Ordering::Relaxed);
            }
        }
        !self.stopped()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn done(&self) {
        (self.progress)(Progress {
            phase: "done",
            done: 1.0,
            max_deviation: 0.0,
        });
    }
}

/// One restart: (owner, max deviation, mean Polsby-Popper). A cancelled restart
/// skips its remaining steps.
fn run_once(
    graph: &Graph,
    weight: &[f64],
    lock: &[Option<u32>],
    params: &Params,
    restart: usize,
    reporter: &Reporter,
) -> (Vec<u32>, f64, f64) {
    let k = params.territories;
    let mut rng = Rng::new(
        params
            .seed
            .wrapping_mul(0x1000_0000_01B3)
            .wrapping_add(restart as u64),
    );
    let locked: Vec<bool> = lock.iter().map(Option::is_some).collect();
    // Each restart reports its own fraction of the work; the first speaks.
    let report = |phase: &'static str, done: f64, max_deviation: f64| {
        reporter.report(restart, phase, done, max_deviation)
    };
    let clock = std::time::Instant::now();
    let lap = |phase: &str, p: &Partition| {
        tracing::debug!(
            restart,
            phase,
            ms = clock.elapsed().as_millis() as u64,
            max_deviation = p.max_deviation(),
            imbalance = p.imbalance(),
            mean_pp = p.mean_pp(),
            "build step"
        );
    };
    // Without locks, recursive bisection; with them (or k near the number of units),
    // growth from seeds that start at the locked units.
    let cut = if locked.iter().any(|&l| l) {
        None
    } else {
        bisect::bisect(graph, weight, k, &mut rng)
    };
    let owner = cut.unwrap_or_else(|| {
        let seeds = seed::seeds(graph, weight, lock, k, &mut rng);
        let iterations = params.lloyd_iterations.max(1);
        grow::lloyd(graph, weight, lock, &locked, seeds, iterations, |i, dev| {
            report("grow", 0.3 * (i + 1) as f64 / iterations as f64, dev)
        })
    });
    let mut p = Partition::new(graph, weight, &locked, owner, k);
    report("grow", 0.3, p.max_deviation());
    lap("grow", &p);
    let passes = params.max_passes.max(1);
    let mut balance_moves = 0;
    let (mut chains, mut polish_moves) = (0, 0);
    if !reporter.stopped() {
        balance_moves = balance::repair(
            &mut p,
            &mut rng,
            passes,
            params.tolerance * 0.25,
            None,
            |i, dev| report("balance", 0.3 + 0.3 * (i + 1) as f64 / passes as f64, dev),
        );
        lap("balance", &p);
    }
    if !reporter.stopped() {
        chains = chain::chains(&mut p, params.tolerance * 0.5, params.max_chains, || {
            !reporter.stopped()
        });
        balance_moves += balance::repair(
            &mut p,
            &mut rng,
            passes,
            params.tolerance * 0.25,
            None,
            |i, dev| report("balance", 0.6 + 0.1 * (i + 1) as f64 / passes as f64, dev),
        );
        lap("chains", &p);
    }
    if !reporter.stopped() {
        let bound = params.tolerance;
        polish_moves = polish::polish(&mut p, &mut rng, passes, bound, |i, _| {
            report("polish", 0.7 + 0.2 * (i + 1) as f64 / passes as f64, bound)
        });
        lap("polish", &p);
        // Territories the polish could not bring within the bound: mend them alone.
        if p.max_deviation() > bound {
            chains += chain::chains(&mut p, bound, params.max_chains, || !reporter.stopped());
            balance_moves += balance::repair(&mut p, &mut rng, passes, bound, Some(bound), |i, dev| {
                report("balance", 0.9 + 0.05 * (i + 1) as f64 / passes as f64, dev)
            });
            polish_moves += polish::polish(&mut p, &mut rng, passes, bound, |i, _| {
                report("polish", 0.95 + 0.05 * (i + 1) as f64 / passes as f64, bound)
            });
            lap("mend", &p);
        }
    }
    let (dev, pp) = (p.max_deviation(), p.mean_pp());
    tracing::debug!(
        restart,
        balance_moves,
        chains,
        polish_moves,
        max_deviation = dev,
        mean_pp = pp,
        "build restart"
    );
    (p.owner, dev, pp)
}

//! Rebalancing an alignment (issue #15): its leaf territories on the dataset's unit
//! graph, [`crate::build::rebalance`] within a bound on the units moved, and the result
//! as a **proposal**: the change set that would make it (for review: nothing is
//! committed), the quality before and after, and the transfers between territories.
//! Accepting is posting `changes` with `expected_revision` as any change set.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::align::Op;
use crate::build::{self, Balance, BuildError, Current, Progress, Quality, RebalanceParams};

use super::build::{UnitGraph, balance_metrics};
use super::{AlignError, Engine};

/// How many units a rebalance may move.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxMoved {
    /// At most this many units.
    Units(usize),
    /// At most this fraction (0..=1) of the units it considers.
    Fraction(f64),
}

impl MaxMoved {
    /// Parses `250` (units) or `10%` (of the units).
    ///
    /// ```
    /// use geoalign::engine::MaxMoved;
    /// assert_eq!(MaxMoved::parse("10%"), Ok(MaxMoved::Fraction(0.1)));
    /// assert_eq!(MaxMoved::parse("250"), Ok(MaxMoved::Units(250)));
    /// assert!(MaxMoved::parse("ten").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<MaxMoved, BuildError> {
        let bad = |reason: &str| BuildError::BadMaxMoved {
            given: text.to_owned(),
            reason: reason.to_owned(),
        };
        let text = text.trim();
        if let Some(percent) = text.strip_suffix('%') {
            let p: f64 = percent
                .trim()
                .parse()
                .map_err(|_| bad("not a number before '%'"))?;
            if !(0.0..=100.0).contains(&p) {
                return Err(bad("a percentage from 0% to 100%"));
            }
            return Ok(MaxMoved::Fraction(p / 100.0));
        }
        text.parse()
            .map(MaxMoved::Units)
            .map_err(|_| bad("a number of units (250) or a percentage of them (10%)"))
    }

    /// The number of units for a graph of `units` units.
    pub fn of(self, units: usize) -> usize {
        match self {
            MaxMoved::Units(n) => n,
            MaxMoved::Fraction(f) => (f * units as f64 + 1e-9).floor() as usize,
        }
    }
}

/// What to rebalance.
#[derive(Debug, Clone)]
pub struct RebalanceRequest {
    /// The alignment (its current revision).
    pub alignment: String,
    /// Balance metrics: `population` or `population:0.6,households:0.4`; unit metrics,
    /// or the alignment's account metrics (`potential`, `accounts` for their count).
    pub balance: String,
    /// The bound on disruption.
    pub max_moved: MaxMoved,
    /// Tolerance, seed and effort.
    pub params: RebalanceParams,
}

/// The units one territory gives another.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    /// Territory giving the units.
    pub from: String,
    /// Territory taking them.
    pub to: String,
    /// Reps of the giving territory.
    pub from_reps: Vec<String>,
    /// Reps of the taking territory.
    pub to_reps: Vec<String>,
    /// Unit ids moved.
    pub units: Vec<String>,
    /// Each balance metric's value moved.
    pub values: BTreeMap<String, f64>,
}

/// A rebalance for review: nothing is committed until `changes` is posted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RebalanceProposal {
    /// The alignment.
    pub alignment: String,
    /// The revision it was computed on: post `changes` with this as `expected_revision`
    /// to accept (409 if the alignment changed since).
    pub expected_revision: i64,
    /// The balance metrics.
    pub balance: String,
    /// The change set that makes it (one `assign` per receiving territory).
    pub changes: Vec<Op>,
    /// Units moved.
    pub moved_units: usize,
    /// The bound on units moved.
    pub max_moved: usize,
    /// Each balance metric's value moved (the sum over the transfers).
    pub moved_values: BTreeMap<String, f64>,
    /// Units that could not move: locked, or in a locked territory.
    pub locked_units: usize,
    /// Polygon units left out: unassigned or placeholders (they keep their state).
    pub left_out_units: usize,
    /// Quality of the alignment as it is.
    pub before: Quality,
    /// Quality with the changes applied.
    pub after: Quality,
    /// Transfers between territories, largest first.
    pub transfers: Vec<Transfer>,
}

impl Engine {
    /// Checks what a rebalance can check before it runs: the alignment exists, the
    /// balance metrics parse and the dataset has them, the tolerance is a fraction.
    pub fn check_rebalance(&self, request: &RebalanceRequest) -> Result<(), AlignError> {
        let snapshot = self.snapshot(&request.alignment)?;
        let balance = Balance::parse(&request.balance)?;
        let tolerance = request.params.tolerance;
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Err(BuildError::BadTolerance(tolerance).into());
        }
        let metrics = balance_metrics(&snapshot.dataset, Some(&*snapshot));
        for (name, _) in balance.metrics {
            if !metrics.contains(&name) {
                return Err(BuildError::UnknownMetric {
                    name,
                    available: metrics.into_iter().collect(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Proposes moves that bring an alignment's leaf territories within the tolerance
    /// on `request.balance`, moving at most `request.max_moved` units and none that is
    /// locked; each territory that was in one piece stays so (rule territories that hold
    /// no unit are left out). Commits nothing. `progress` hears from the search and
    /// cancels it by answering `false`.
    pub fn rebalance(
        &self,
        request: &RebalanceRequest,
        progress: &(dyn Fn(Progress) -> bool + Sync),
    ) -> Result<RebalanceProposal, AlignError> {
        let snapshot = self.snapshot(&request.alignment)?;
        let state = &snapshot.state;
        let whole = UnitGraph::new(&snapshot.dataset, &request.balance, Some(&*snapshot))?;
        let codes: Vec<&String> = (state.territories[0].keys())
            .filter(|c| !snapshot.is_rule_only(c))
            .collect();
        let index: BTreeMap<&str, u32> = codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i as u32))
            .collect();
        let territory_of = |u: u32| {
            state.assignment[u as usize]
                .as_deref()
                .and_then(|c| index.get(c).copied())
        };
        let keep: Vec<bool> = whole.units.iter().map(|&u| territory_of(u).is_some()).collect();
        let graph = whole.subset(&keep);
        let k = codes.len();
        if k == 0 || graph.graph.is_empty() {
            return Err(AlignError::Invalid(format!(
                "alignment '{}' has no territory with units to rebalance",
                request.alignment
            )));
        }
        let owner: Vec<u32> = graph.units.iter().filter_map(|&u| territory_of(u)).collect();
        let current = Current {
            locked_units: graph.units.iter().map(|u| state.unit_locks.contains(u)).collect(),
            locked_territories: codes.iter().map(|c| state.territories[0][*c].locked).collect(),
            owner,
            territories: k,
        };
        let max_moved = request.max_moved.of(graph.graph.len());
        let params = RebalanceParams {
            max_moved,
            ..request.params.clone()
        };
        let tolerance = params.tolerance;
        let after = build::rebalance(&graph.graph, &graph.weight, &current, &params, progress)?;
        let owner = &current.owner;
        let locked_units = owner
            .iter()
            .zip(&current.locked_units)
            .filter(|(t, l)| **l || current.locked_territories[**t as usize])
            .count();
        let mut by_pair: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
        for (i, (&a, &b)) in owner.iter().zip(&after).enumerate() {
            if a != b {
                by_pair.entry((a, b)).or_default().push(i);
            }
        }
        let reps = |t: u32| {
            state.territories[0][codes[t as usize]]
                .reps
                .iter()
                .cloned()
                .collect()
        };
        let mut transfers: Vec<Transfer> = by_pair
            .iter()
            .map(|(&(a, b), moved)| Transfer {
                from: codes[a as usize].clone(),
                to: codes[b as usize].clone(),
                from_reps: reps(a),
                to_reps: reps(b),
                units: moved.iter().map(|&i| graph.ids[i].clone()).collect(),
                values: graph
                    .metrics
                    .iter()
                    .map(|(name, values)| (name.clone(), moved.iter().map(|&i| values[i]).sum()))
                    .collect(),
            })
            .collect();
        transfers.sort_by(|x, y| {
            y.units
                .len()
                .cmp(&x.units.len())
                .then((&x.from, &x.to).cmp(&(&y.from, &y.to)))
        });
        let mut into: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (&(_, b), moved) in &by_pair {
            into.entry(b)
                .or_default()
                .extend(moved.iter().map(|&i| graph.ids[i].clone()));
        }
        let changes = into
            .into_iter()
            .map(|(t, mut units)| {
                units.sort();
                Op::Assign {
                    units,
                    territory: codes[t as usize].clone(),
                }
            })
            .collect();
        let mut moved_values: BTreeMap<String, f64> = BTreeMap::new();
        for transfer in &transfers {
            for (name, v) in &transfer.values {
                *moved_values.entry(name.clone()).or_default() += v;
            }
        }
        Ok(RebalanceProposal {
            alignment: request.alignment.clone(),
            expected_revision: snapshot.revision,
            balance: request.balance.clone(),
            changes,
            moved_units: owner.iter().zip(&after).filter(|(a, b)| a != b).count(),
            max_moved,
            moved_values,
            locked_units,
            left_out_units: snapshot.dataset.unit_of_topo.len() - graph.graph.len(),
            before: graph.quality(owner, k, tolerance),
            after: graph.quality(&after, k, tolerance),
            transfers,
        })
    }
}

//! The number of accounts a territory owns and the sums of their metrics: for leaves
//! in one pass over the place table (split over both cores), for parents from their
//! children's totals, so a million accounts are read once per revision, not once per
//! level.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rayon::prelude::*;

use super::places::AccountPlaces;
use crate::align::AlignmentState;
use crate::align::metrics::TerritoryMetrics;
use crate::align::state::Account;

/// Accounts per parallel task.
const CHUNK: usize = 1 << 16;

/// Accounts owned and the sum of each of their metrics.
#[derive(Debug, Default)]
pub(super) struct AccountTotals {
    /// Accounts owned.
    pub count: usize,
    /// Sum of each metric over them.
    pub sums: BTreeMap<String, f64>,
}

impl AccountTotals {
    fn add(&mut self, account: &Account) {
        self.count += 1;
        for (name, value) in &account.record.metrics {
            match self.sums.get_mut(name) {
                Some(sum) => *sum += value,
                None => {
                    self.sums.insert(name.to_owned(), *value);
                }
            }
        }
    }

    fn merge(&mut self, other: AccountTotals) {
        self.count += other.count;
        for (name, value) in other.sums {
            *self.sums.entry(name).or_default() += value;
        }
    }

    /// The totals of each leaf of `leaves` over `state`'s accounts placed by `places`.
    pub(super) fn of_leaves<'a>(
        state: &'a AlignmentState,
        places: &'a AccountPlaces,
        leaves: &'a BTreeSet<String>,
    ) -> HashMap<&'a str, AccountTotals> {
        let accounts: Vec<(&Account, &str)> = (state.accounts.values())
            .zip(places.iter())
            .filter_map(|(a, p)| Some((a, p.owner()?.0)))
            .filter(|(_, owner)| leaves.contains(*owner))
            .collect();
        // Fixed chunks merged in order: the same sums, to the last bit, every time.
        let chunks: Vec<HashMap<&str, AccountTotals>> = accounts
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut totals: HashMap<&str, AccountTotals> = HashMap::new();
                for (a, owner) in chunk {
                    totals.entry(*owner).or_default().add(a);
                }
                totals
            })
            .collect();
        let mut all: HashMap<&str, AccountTotals> = HashMap::new();
        for chunk in chunks {
            for (owner, t) in chunk {
                all.entry(owner).or_default().merge(t);
            }
        }
        all
    }

    /// The totals of a parent: its children's summed.
    pub(super) fn of_children<'a>(children: impl Iterator<Item = &'a TerritoryMetrics>) -> AccountTotals {
        let mut totals = AccountTotals::default();
        for child in children {
            totals.merge(AccountTotals {
                count: child.accounts,
                sums: child.account_sums.clone(),
            });
        }
        totals
    }
}

//! Where each account of a snapshot lies and who owns it, evaluated once per revision
//! (on both cores) and carried to the next revision for what a change set cannot move:
//! a unit move re-places only the accounts in the moved units, a rule change re-runs
//! the rules but keeps every account's unit, new or moved accounts are located again.
//! Everything that compares two revisions' owners walks two of these tables side by
//! side instead of looking accounts up by id.

use std::cmp::Ordering;
use std::iter::Peekable;
use std::sync::Arc;

use rayon::prelude::*;

use crate::align::field_map::Text;
use crate::align::state::{Account, AlignmentState, PlacedBy};
use crate::align::{Rule, UnitIndex};

use super::DatasetModel;

/// What decided an account's owner, as the table keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decided {
    Override,
    Rule(Text),
    Unit,
}

/// One account's place: the unit containing it and its owner.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountPlace {
    /// The unit containing the account's location (None: outside every unit).
    pub unit: Option<u32>,
    owner: Option<(Text, Decided)>,
}

impl AccountPlace {
    /// The leaf territory owning the account, and what decided it.
    pub fn owner(&self) -> Option<(&str, PlacedBy<'_>)> {
        self.owner.as_ref().map(|(t, by)| {
            let by = match by {
                Decided::Override => PlacedBy::Override,
                Decided::Rule(id) => PlacedBy::Rule(id),
                Decided::Unit => PlacedBy::Unit,
            };
            (&**t, by)
        })
    }
}

/// The place of every account of a state, in the state's account (id) order.
#[derive(Debug, Default)]
pub struct AccountPlaces(Vec<AccountPlace>);

/// A state's rules in the order they are tried, each with its shared texts.
struct Rules<'a>(Vec<(&'a Rule, Text, Text)>);

impl<'a> Rules<'a> {
    fn of(state: &'a AlignmentState) -> Rules<'a> {
        let mut rules: Vec<(&String, &Rule)> = state.rules.iter().collect();
        rules.sort_by_key(|(id, r)| (r.priority, id.as_str()));
        Rules(
            rules
                .into_iter()
                .map(|(id, r)| (r, Text::from(r.territory.as_str()), Text::from(id.as_str())))
                .collect(),
        )
    }

    /// Who owns `account` at `unit`: its override, else the first rule that matches,
    /// else the unit's territory (as [`AlignmentState::placement`] decides).
    fn owner(
        &self,
        state: &AlignmentState,
        units: &UnitIndex,
        account: &Account,
        unit: Option<u32>,
    ) -> Option<(Text, Decided)> {
        if let Some(t) = &account.override_territory {
            return Some((Text::from(t.as_str()), Decided::Override));
        }
        if let Some((_, territory, id)) = self
            .0
            .iter()
            .find(|(r, _, _)| r.compiled.matches(&*account.record))
        {
            return Some((territory.clone(), Decided::Rule(id.clone())));
        }
        unit.and_then(|u| state.owner_shared(units, u))
            .map(|t| (t.clone(), Decided::Unit))
    }
}

impl AccountPlaces {
    /// Every account of `state` located and placed.
    pub fn new(state: &AlignmentState, dataset: &DatasetModel) -> AccountPlaces {
        let accounts: Vec<&Account> = state.accounts.values().collect();
        let units: Vec<Option<u32>> = accounts
            .par_iter()
            .map(|a| dataset.unit_at(a.record.lon, a.record.lat))
            .collect();
        Self::placed(state, dataset, &accounts, units)
    }

    fn placed(
        state: &AlignmentState,
        dataset: &DatasetModel,
        accounts: &[&Account],
        units: Vec<Option<u32>>,
    ) -> AccountPlaces {
        let rules = Rules::of(state);
        AccountPlaces(
            accounts
                .par_iter()
                .zip(units)
                .map(|(a, unit)| AccountPlace {
                    unit,
                    owner: rules.owner(state, &dataset.units, a, unit),
                })
                .collect(),
        )
    }

    /// The places in `after`, the state following `before` (whose places are `self`):
    /// `None` when every account keeps its place (share `self`).
    pub fn next(
        &self,
        before: &AlignmentState,
        after: &AlignmentState,
        dataset: &DatasetModel,
    ) -> Option<AccountPlaces> {
        let units = &dataset.units;
        if !Arc::ptr_eq(&before.accounts, &after.accounts) {
            // Accounts added, removed or changed: keep the units of those that did not move.
            let accounts: Vec<&Account> = after.accounts.values().collect();
            let mut old = before.accounts.iter().zip(&self.0).peekable();
            let kept: Vec<Option<Option<u32>>> = after
                .accounts
                .iter()
                .map(|(id, a)| {
                    while old.next_if(|((o, _), _)| *o < id).is_some() {}
                    old.peek()
                        .filter(|((o, was), _)| {
                            *o == id && (was.record.lon, was.record.lat) == (a.record.lon, a.record.lat)
                        })
                        .map(|(_, p)| p.unit)
                })
                .collect();
            let located: Vec<Option<u32>> = (kept.into_par_iter().zip(accounts.par_iter()))
                .map(|(kept, a)| kept.unwrap_or_else(|| dataset.unit_at(a.record.lon, a.record.lat)))
                .collect();
            return Some(Self::placed(after, dataset, &accounts, located));
        }
        if before.rules != after.rules {
            let accounts: Vec<&Account> = after.accounts.values().collect();
            let located = self.0.iter().map(|p| p.unit).collect();
            return Some(Self::placed(after, dataset, &accounts, located));
        }
        // Only units can have moved: re-place the accounts their unit placed.
        let moved: Vec<bool> = (0..units.len() as u32)
            .map(|i| before.owner(units, i) != after.owner(units, i))
            .collect();
        if !moved.contains(&true) {
            return None;
        }
        let rules = Rules::of(after);
        let accounts: Vec<&Account> = after.accounts.values().collect();
        Some(AccountPlaces(
            (self.0.par_iter().zip(accounts.par_iter()))
                .map(|(place, account)| match (&place.owner, place.unit) {
                    (None | Some((_, Decided::Unit)), Some(u)) if moved[u as usize] => AccountPlace {
                        unit: place.unit,
                        owner: rules.owner(after, units, account, place.unit),
                    },
                    _ => place.clone(),
                })
                .collect(),
        ))
    }

    /// The places, in account order.
    pub fn iter(&self) -> std::slice::Iter<'_, AccountPlace> {
        self.0.iter()
    }
}

/// One account of two revisions: its id, and its record and place in each (None where
/// the revision has no such account).
pub type Paired<'a> = (
    &'a str,
    Option<(&'a Account, &'a AccountPlace)>,
    Option<(&'a Account, &'a AccountPlace)>,
);

/// Every account of `before` or `after` once, in id order, with its record and place in
/// each: the two tables walked side by side (merged by id), no lookups.
pub fn paired<'a>(
    (before, old): (&'a AlignmentState, &'a AccountPlaces),
    (after, new): (&'a AlignmentState, &'a AccountPlaces),
) -> impl Iterator<Item = Paired<'a>> {
    Merge {
        old: before.accounts.iter().zip(old.iter()).peekable(),
        new: after.accounts.iter().zip(new.iter()).peekable(),
    }
}

type Side<'a> = Peekable<
    std::iter::Zip<
        std::collections::btree_map::Iter<'a, String, Account>,
        std::slice::Iter<'a, AccountPlace>,
    >,
>;

struct Merge<'a> {
    old: Side<'a>,
    new: Side<'a>,
}

impl<'a> Iterator for Merge<'a> {
    type Item = Paired<'a>;
    fn next(&mut self) -> Option<Paired<'a>> {
        let order = match (self.old.peek(), self.new.peek()) {
            (None, None) => return None,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(((a, _), _)), Some(((b, _), _))) => a.cmp(b),
        };
        let take = |side: &mut Side<'a>| side.next().map(|((id, a), p)| (id.as_str(), (a, p)));
        Some(match order {
            Ordering::Less => take(&mut self.old).map(|(id, o)| (id, Some(o), None))?,
            Ordering::Greater => take(&mut self.new).map(|(id, n)| (id, None, Some(n)))?,
            Ordering::Equal => {
                let (id, o) = take(&mut self.old)?;
                let (_, n) = take(&mut self.new)?;
                (id, Some(o), Some(n))
            }
        })
    }
}

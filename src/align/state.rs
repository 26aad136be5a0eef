//! The state of one alignment and the pure logic of applying operations to it.
//! Every operation is validated and returns its inverse, so a change set can be
//! undone by applying the inverse operations as a new change set.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::ops::{AccountRecord, Op, RepRecord};
use super::refusal::Refusal;
use super::rules::{Condition, Fields, Kind, RuleError};
use super::units::UnitIndex;
use crate::feature::UnitKind;

/// Level names used when an alignment does not name its own.
pub const DEFAULT_LEVELS: [&str; 3] = ["territory", "district", "region"];

/// A territory, district or region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Territory {
    /// Display name.
    pub name: String,
    /// Parent code one level up.
    pub parent: Option<String>,
    /// Locked against edits.
    pub locked: bool,
    /// Reps of a leaf territory.
    pub reps: BTreeSet<String>,
}

/// A customer account and its explicit owner, if overridden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// Name, location and metrics.
    #[serde(flatten)]
    pub record: Arc<AccountRecord>,
    /// Territory that owns it regardless of location.
    pub override_territory: Option<String>,
}

/// What decided who owns an account (or a lead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacedBy<'a> {
    /// An explicit override of the account.
    Override,
    /// The rule of this id.
    Rule(&'a str),
    /// The territory of the unit at its location.
    Unit,
}

impl PlacedBy<'_> {
    /// `override`, `rule` or `unit`.
    pub fn name(&self) -> &'static str {
        match self {
            PlacedBy::Override => "override",
            PlacedBy::Rule(_) => "rule",
            PlacedBy::Unit => "unit",
        }
    }

    /// The rule's id when a rule decided.
    pub fn rule(&self) -> Option<&str> {
        match self {
            PlacedBy::Rule(id) => Some(id),
            _ => None,
        }
    }
}

/// A rule territory: accounts meeting `condition` belong to `territory`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    /// The leaf territory it gives accounts to.
    pub territory: String,
    /// The condition as written.
    pub condition: String,
    /// Order among rules: the lowest that matches wins (ties by rule id).
    pub priority: i64,
    /// The condition compiled.
    #[serde(skip)]
    pub compiled: Arc<Condition>,
}

impl Rule {
    /// A rule with its condition compiled (not yet checked against any fields).
    pub fn new(territory: String, condition: String, priority: i64) -> Result<Rule, RuleError> {
        let compiled = Arc::new(Condition::parse(&condition)?);
        Ok(Rule {
            territory,
            condition,
            priority,
            compiled,
        })
    }
}

/// Everything an alignment says, in memory. Cloned, edited and swapped per change set.
#[derive(Debug, Clone, PartialEq)]
pub struct AlignmentState {
    /// Level names, leaf first (1 to 6).
    pub levels: Vec<String>,
    /// Territories per level (index 0 = leaf), by code.
    pub territories: Vec<BTreeMap<String, Territory>>,
    /// Explicit leaf territory of each unit (by unit index); shared strings keep clones cheap.
    pub assignment: Vec<Option<Arc<str>>>,
    /// Locked units.
    pub unit_locks: BTreeSet<u32>,
    /// Reps by id.
    pub reps: BTreeMap<String, RepRecord>,
    /// Accounts by id, shared between states until a change set changes one (a million
    /// accounts are not copied for a change that moves units or edits a rule).
    pub accounts: Arc<BTreeMap<String, Account>>,
    /// Rule territories by rule id.
    pub rules: BTreeMap<String, Rule>,
}

impl AlignmentState {
    /// An empty alignment over `unit_count` units.
    pub fn new(levels: Vec<String>, unit_count: usize) -> Result<AlignmentState, Refusal> {
        if levels.is_empty() || levels.len() > 6 {
            return Err(Refusal::LevelCount { count: levels.len() });
        }
        let unique: BTreeSet<String> = levels.iter().map(|l| l.to_ascii_lowercase()).collect();
        if unique.len() != levels.len() || levels.iter().any(|l| l.trim().is_empty()) {
            return Err(Refusal::LevelNames { levels });
        }
        Ok(AlignmentState::empty(levels, unit_count))
    }

    /// An empty alignment with levels already checked (as stored).
    pub fn empty(levels: Vec<String>, unit_count: usize) -> AlignmentState {
        AlignmentState {
            territories: vec![BTreeMap::new(); levels.len()],
            levels,
            assignment: vec![None; unit_count],
            unit_locks: BTreeSet::new(),
            reps: BTreeMap::new(),
            accounts: Arc::default(),
            rules: BTreeMap::new(),
        }
    }

    /// The same levels and units, nothing else.
    pub fn emptied(&self) -> AlignmentState {
        AlignmentState::empty(self.levels.clone(), self.assignment.len())
    }

    /// The rule that places `record`: the matching rule of lowest priority (ties by id).
    pub fn rule_for(&self, record: &dyn Fields) -> Option<(&str, &Rule)> {
        self.rules
            .iter()
            .filter(|(_, r)| r.compiled.matches(record))
            .min_by_key(|(id, r)| (r.priority, id.as_str()))
            .map(|(id, r)| (id.as_str(), r))
    }

    /// Who owns a record (an account or a lead) at unit `unit`: an override wins, then
    /// the first matching rule, then the territory of the unit.
    pub fn placement<'a>(
        &'a self,
        units: &UnitIndex,
        record: &dyn Fields,
        override_territory: Option<&'a str>,
        unit: Option<u32>,
    ) -> Option<(&'a str, PlacedBy<'a>)> {
        if let Some(t) = override_territory {
            return Some((t, PlacedBy::Override));
        }
        if let Some((id, rule)) = self.rule_for(record) {
            return Some((rule.territory.as_str(), PlacedBy::Rule(id)));
        }
        unit.and_then(|u| self.owner(units, u))
            .map(|t| (t, PlacedBy::Unit))
    }

    /// The fields accounts have, with their kind (metrics are numbers, attributes text).
    pub fn account_fields(&self) -> BTreeMap<String, Kind> {
        let mut kinds = BTreeMap::new();
        // Accounts read from one sheet share their field names (interned), so an account
        // whose names are the very strings of the one before adds nothing: compared by
        // address, a million accounts take milliseconds instead of a lookup per field.
        let mut seen: (usize, Vec<*const u8>) = (usize::MAX, Vec::new());
        for a in self.accounts.values() {
            let (metrics, attributes) = (&a.record.metrics, &a.record.attributes);
            let names = || metrics.keys().chain(attributes.keys()).map(str::as_ptr);
            if seen.0 == metrics.len() && names().eq(seen.1.iter().copied()) {
                continue;
            }
            seen = (metrics.len(), names().collect());
            for name in a.record.metrics.keys() {
                if !kinds.contains_key(name) {
                    kinds.insert(name.to_owned(), Kind::Number);
                }
            }
            for name in a.record.attributes.keys() {
                if !kinds.contains_key(name) {
                    kinds.insert(name.to_owned(), Kind::Text);
                }
            }
        }
        kinds
    }

    /// The leaf territory owning unit `i`: its explicit assignment, or for a
    /// point unit without one, the owner of the polygon containing it.
    pub fn owner<'a>(&'a self, units: &UnitIndex, i: u32) -> Option<&'a str> {
        self.owner_shared(units, i).map(|t| &**t)
    }

    /// [`AlignmentState::owner`] as the shared code the assignment holds.
    pub fn owner_shared<'a>(&'a self, units: &UnitIndex, i: u32) -> Option<&'a Arc<str>> {
        if let Some(t) = &self.assignment[i as usize] {
            return Some(t);
        }
        let unit = units.get(i);
        match (unit.kind, unit.parent) {
            (UnitKind::Point, Some(p)) => self.assignment[p as usize].as_ref(),
            _ => None,
        }
    }

    /// The chain of codes from a leaf territory up: `[territory, district, region]`.
    pub fn ancestry(&self, leaf: &str) -> Vec<Option<String>> {
        let mut out = vec![Some(leaf.to_owned())];
        let mut current = Some(leaf.to_owned());
        for level in 0..self.levels.len() - 1 {
            current = current
                .as_ref()
                .and_then(|c| self.territories[level].get(c))
                .and_then(|t| t.parent.clone());
            out.push(current.clone());
        }
        out
    }

    /// Index of a level by name (case-insensitive); `None` is the leaf level.
    pub fn level(&self, name: Option<&str>) -> Result<usize, Refusal> {
        match name {
            None => Ok(0),
            Some(n) => self
                .levels
                .iter()
                .position(|l| l.eq_ignore_ascii_case(n.trim()))
                .ok_or_else(|| Refusal::UnknownLevel {
                    level: n.to_owned(),
                    levels: self.levels.clone(),
                }),
        }
    }

    /// The territory `code` of `level`.
    pub(super) fn territory(&self, level: usize, code: &str) -> Result<&Territory, Refusal> {
        self.territories[level]
            .get(code)
            .ok_or_else(|| Refusal::UnknownTerritory {
                level: self.levels[level].clone(),
                code: code.to_owned(),
            })
    }

    /// The territory `code` of `level`, refused when locked.
    pub(super) fn unlocked(&self, level: usize, code: &str) -> Result<&Territory, Refusal> {
        let t = self.territory(level, code)?;
        if t.locked {
            return Err(Refusal::Locked {
                level: self.levels[level].clone(),
                code: code.to_owned(),
            });
        }
        Ok(t)
    }

    /// Unit indexes of `ids`, refused when any is unknown.
    pub(super) fn resolve_units(&self, units: &UnitIndex, ids: &[String]) -> Result<Vec<u32>, Refusal> {
        let mut out = Vec::with_capacity(ids.len());
        let mut unknown = Vec::new();
        for id in ids {
            match units.resolve(id) {
                Some(i) => out.push(i),
                None => unknown.push(id.as_str()),
            }
        }
        if unknown.is_empty() {
            Ok(out)
        } else {
            Err(Refusal::UnknownUnits {
                count: unknown.len(),
                shown: unknown.iter().take(5).map(|u| (*u).to_owned()).collect(),
            })
        }
    }

    /// Applies a whole change set to a copy; returns the new state and the
    /// inverse operations (in the order that undoes it), or the first refusal
    /// with the index of the operation that caused it.
    pub fn apply_all(
        &self,
        ops: &[Op],
        units: &UnitIndex,
    ) -> Result<(AlignmentState, Vec<Op>), (usize, Refusal)> {
        let mut next = self.clone();
        let mut inverse: Vec<Op> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            let mut undo = next.apply(op, units).map_err(|r| (i, r))?;
            undo.append(&mut inverse);
            inverse = undo;
        }
        Ok((next, inverse))
    }

    /// Leaf territories whose set of units differs between `self` and `other`.
    pub fn moved_territories(&self, other: &AlignmentState, units: &UnitIndex) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for i in 0..self.assignment.len() as u32 {
            let (a, b) = (self.owner(units, i), other.owner(units, i));
            if a != b {
                out.extend(a.map(str::to_owned));
                out.extend(b.map(str::to_owned));
            }
        }
        out
    }
}

//! The state of one alignment and the pure logic of applying operations to it.
//! Every operation is validated and returns its inverse, so a change set can be
//! undone by applying the inverse operations as a new change set.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::ops::{AccountRecord, Op, RepRecord};
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// Name, location and metrics.
    #[serde(flatten)]
    pub record: AccountRecord,
    /// Territory that owns it regardless of location.
    pub override_territory: Option<String>,
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
    /// Accounts by id.
    pub accounts: BTreeMap<String, Account>,
}

/// Why an operation was refused.
pub type Refusal = String;

impl AlignmentState {
    /// An empty alignment over `unit_count` units.
    pub fn new(levels: Vec<String>, unit_count: usize) -> Result<AlignmentState, Refusal> {
        if levels.is_empty() || levels.len() > 6 {
            return Err(format!("an alignment has 1 to 6 levels, not {}", levels.len()));
        }
        let unique: BTreeSet<String> = levels.iter().map(|l| l.to_ascii_lowercase()).collect();
        if unique.len() != levels.len() || levels.iter().any(|l| l.trim().is_empty()) {
            return Err(format!("level names must be distinct and non-empty: {levels:?}"));
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
            accounts: BTreeMap::new(),
        }
    }

    /// The same levels and units, nothing else.
    pub fn emptied(&self) -> AlignmentState {
        AlignmentState::empty(self.levels.clone(), self.assignment.len())
    }

    /// The leaf territory owning unit `i`: its explicit assignment, or for a
    /// point unit without one, the owner of the polygon containing it.
    pub fn owner<'a>(&'a self, units: &UnitIndex, i: u32) -> Option<&'a str> {
        if let Some(t) = self.assignment[i as usize].as_deref() {
            return Some(t);
        }
        let unit = units.get(i);
        match (unit.kind, unit.parent) {
            (UnitKind::Point, Some(p)) => self.assignment[p as usize].as_deref(),
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
                .ok_or_else(|| format!("unknown level '{n}' (levels: {})", self.levels.join(", "))),
        }
    }

    fn territory(&self, level: usize, code: &str) -> Result<&Territory, Refusal> {
        self.territories[level]
            .get(code)
            .ok_or_else(|| format!("unknown {} '{code}'", self.levels[level]))
    }

    fn unlocked(&self, level: usize, code: &str) -> Result<&Territory, Refusal> {
        let t = self.territory(level, code)?;
        if t.locked {
            return Err(format!("{} '{code}' is locked", self.levels[level]));
        }
        Ok(t)
    }

    fn resolve_units(&self, units: &UnitIndex, ids: &[String]) -> Result<Vec<u32>, Refusal> {
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
            let shown: Vec<&str> = unknown.iter().take(5).copied().collect();
            Err(format!(
                "{} unknown unit id(s): {}{}",
                unknown.len(),
                shown.join(", "),
                if unknown.len() > 5 { ", ..." } else { "" }
            ))
        }
    }

    /// Sets the explicit owner of units, refusing locked units and locked territories.
    fn set_owner(&mut self, units: &UnitIndex, ids: &[u32], to: Option<&str>) -> Result<Vec<Op>, Refusal> {
        let mut previous: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        for &i in ids {
            let id = &units.get(i).id;
            if self.unit_locks.contains(&i) {
                return Err(format!("unit '{id}' is locked"));
            }
            if let Some(old) = &self.assignment[i as usize]
                && self.territories[0].get(&**old).is_some_and(|t| t.locked)
            {
                return Err(format!(
                    "unit '{id}' belongs to locked {} '{old}'",
                    self.levels[0]
                ));
            }
            previous
                .entry(self.assignment[i as usize].as_deref().map(str::to_owned))
                .or_default()
                .push(id.clone());
        }
        let to: Option<Arc<str>> = to.map(Arc::from);
        for &i in ids {
            self.assignment[i as usize] = to.clone();
        }
        Ok(previous
            .into_iter()
            .map(|(old, units)| match old {
                Some(territory) => Op::Assign { units, territory },
                None => Op::Unassign { units },
            })
            .collect())
    }

    /// Applies one operation; returns the operations that undo it, in order.
    pub fn apply(&mut self, op: &Op, units: &UnitIndex) -> Result<Vec<Op>, Refusal> {
        match op {
            Op::Assign {
                units: ids,
                territory,
            } => {
                self.unlocked(0, territory)?;
                let resolved = self.resolve_units(units, ids)?;
                self.set_owner(units, &resolved, Some(territory))
            }
            Op::Unassign { units: ids } => {
                let resolved = self.resolve_units(units, ids)?;
                self.set_owner(units, &resolved, None)
            }
            Op::CreateTerritory {
                code,
                name,
                level,
                parent,
            } => {
                let level_index = self.level(level.as_deref())?;
                let code = code.trim();
                if code.is_empty() {
                    return Err("territory code is empty".into());
                }
                if self.territories[level_index].contains_key(code) {
                    return Err(format!("{} '{code}' already exists", self.levels[level_index]));
                }
                self.check_parent(level_index, parent.as_deref())?;
                self.territories[level_index].insert(
                    code.to_owned(),
                    Territory {
                        name: name.clone().unwrap_or_else(|| code.to_owned()),
                        parent: parent.clone(),
                        locked: false,
                        reps: BTreeSet::new(),
                    },
                );
                Ok(vec![Op::DeleteTerritory {
                    code: code.to_owned(),
                    level: level.clone(),
                    reassign_to: None,
                }])
            }
            Op::RenameTerritory { code, name, level } => {
                let level_index = self.level(level.as_deref())?;
                let old = self.unlocked(level_index, code)?.name.clone();
                if let Some(t) = self.territories[level_index].get_mut(code) {
                    t.name = name.clone();
                }
                Ok(vec![Op::RenameTerritory {
                    code: code.clone(),
                    name: old,
                    level: level.clone(),
                }])
            }
            Op::DeleteTerritory {
                code,
                level,
                reassign_to,
            } => self.delete_territory(units, code, level.as_ref(), reassign_to.as_deref()),
            Op::MergeTerritories { from, into, level } => {
                let level_index = self.level(level.as_deref())?;
                self.unlocked(level_index, into)?;
                let mut inverse = Vec::new();
                for code in from {
                    if code == into {
                        return Err(format!("cannot merge '{code}' into itself"));
                    }
                    let mut undo = self.delete_territory(units, code, level.as_ref(), Some(into))?;
                    undo.append(&mut inverse);
                    inverse = undo;
                }
                Ok(inverse)
            }
            Op::MoveTerritory {
                territory,
                parent,
                level,
            } => {
                let level_index = self.level(level.as_deref())?;
                let old = self.unlocked(level_index, territory)?.parent.clone();
                self.check_parent(level_index, parent.as_deref())?;
                if let Some(t) = self.territories[level_index].get_mut(territory) {
                    t.parent = parent.clone();
                }
                Ok(vec![Op::MoveTerritory {
                    territory: territory.clone(),
                    parent: old,
                    level: level.clone(),
                }])
            }
            Op::SetRep { territory, reps } => {
                let old = self.unlocked(0, territory)?.reps.clone();
                if let Some(unknown) = reps.iter().find(|r| !self.reps.contains_key(*r)) {
                    return Err(format!("unknown rep '{unknown}'"));
                }
                if let Some(t) = self.territories[0].get_mut(territory) {
                    t.reps = reps.iter().cloned().collect();
                }
                Ok(vec![Op::SetRep {
                    territory: territory.clone(),
                    reps: old.into_iter().collect(),
                }])
            }
            Op::OverrideAccount { account, territory } => {
                if let Some(t) = territory {
                    self.territory(0, t)?;
                }
                let entry = self
                    .accounts
                    .get_mut(account)
                    .ok_or_else(|| format!("unknown account '{account}'"))?;
                let old = std::mem::replace(&mut entry.override_territory, territory.clone());
                Ok(vec![Op::OverrideAccount {
                    account: account.clone(),
                    territory: old,
                }])
            }
            Op::Lock {
                territories,
                units: ids,
                level,
                locked,
            } => {
                let level_index = self.level(level.as_deref())?;
                let resolved = self.resolve_units(units, ids)?;
                let mut flipped_territories = Vec::new();
                for code in territories {
                    self.territory(level_index, code)?;
                }
                for code in territories {
                    if let Some(t) = self.territories[level_index].get_mut(code)
                        && t.locked != *locked
                    {
                        t.locked = *locked;
                        flipped_territories.push(code.clone());
                    }
                }
                let mut flipped_units = Vec::new();
                for i in resolved {
                    let changed = if *locked {
                        self.unit_locks.insert(i)
                    } else {
                        self.unit_locks.remove(&i)
                    };
                    if changed {
                        flipped_units.push(units.get(i).id.clone());
                    }
                }
                Ok(vec![Op::Lock {
                    territories: flipped_territories,
                    units: flipped_units,
                    level: level.clone(),
                    locked: !locked,
                }])
            }
            Op::UpsertReps { reps } => {
                let mut restore = BTreeMap::new();
                let mut added = Vec::new();
                for (id, rep) in reps {
                    check_location(&format!("rep '{id}'"), rep.lon, rep.lat)?;
                    if id.trim().is_empty() {
                        return Err("rep id is empty".into());
                    }
                }
                for (id, rep) in reps {
                    match self.reps.insert(id.clone(), rep.clone()) {
                        Some(old) => {
                            restore.insert(id.clone(), old);
                        }
                        None => added.push(id.clone()),
                    }
                }
                let mut inverse = Vec::new();
                if !added.is_empty() {
                    inverse.push(Op::DeleteReps { reps: added });
                }
                if !restore.is_empty() {
                    inverse.push(Op::UpsertReps { reps: restore });
                }
                Ok(inverse)
            }
            Op::DeleteReps { reps } => {
                let mut restore = BTreeMap::new();
                for id in reps {
                    let rep = self.reps.get(id).ok_or_else(|| format!("unknown rep '{id}'"))?;
                    restore.insert(id.clone(), rep.clone());
                }
                let mut relink = Vec::new();
                for (code, t) in self.territories[0].iter_mut() {
                    if reps.iter().any(|r| t.reps.contains(r)) {
                        relink.push(Op::SetRep {
                            territory: code.clone(),
                            reps: t.reps.iter().cloned().collect(),
                        });
                        t.reps.retain(|r| !reps.contains(r));
                    }
                }
                for id in reps {
                    self.reps.remove(id);
                }
                let mut inverse = vec![Op::UpsertReps { reps: restore }];
                inverse.extend(relink);
                Ok(inverse)
            }
            Op::UpsertAccounts { accounts } => {
                for (id, a) in accounts {
                    if id.trim().is_empty() {
                        return Err("account id is empty".into());
                    }
                    check_location(&format!("account '{id}'"), Some(a.lon), Some(a.lat))?;
                }
                let mut restore = Vec::new();
                let mut added = Vec::new();
                for (id, record) in accounts {
                    let previous = self.accounts.insert(
                        id.clone(),
                        Account {
                            record: record.clone(),
                            override_territory: self
                                .accounts
                                .get(id)
                                .and_then(|a| a.override_territory.clone()),
                        },
                    );
                    match previous {
                        Some(old) => restore.push((id.clone(), old.record)),
                        None => added.push(id.clone()),
                    }
                }
                let mut inverse = Vec::new();
                if !added.is_empty() {
                    inverse.push(Op::DeleteAccounts { accounts: added });
                }
                if !restore.is_empty() {
                    inverse.push(Op::UpsertAccounts {
                        accounts: restore.into_iter().collect(),
                    });
                }
                Ok(inverse)
            }
            Op::DeleteAccounts { accounts } => {
                let mut restore = BTreeMap::new();
                let mut overrides = Vec::new();
                for id in accounts {
                    let a = self
                        .accounts
                        .get(id)
                        .ok_or_else(|| format!("unknown account '{id}'"))?;
                    restore.insert(id.clone(), a.record.clone());
                    if let Some(t) = &a.override_territory {
                        overrides.push(Op::OverrideAccount {
                            account: id.clone(),
                            territory: Some(t.clone()),
                        });
                    }
                }
                for id in accounts {
                    self.accounts.remove(id);
                }
                let mut inverse = vec![Op::UpsertAccounts { accounts: restore }];
                inverse.extend(overrides);
                Ok(inverse)
            }
        }
    }

    fn check_parent(&self, level: usize, parent: Option<&str>) -> Result<(), Refusal> {
        match parent {
            None => Ok(()),
            Some(p) if level + 1 >= self.levels.len() => Err(format!(
                "{} is the top level and has no parent (got '{p}')",
                self.levels[level]
            )),
            Some(p) => self.territory(level + 1, p).map(|_| ()),
        }
    }

    fn delete_territory(
        &mut self,
        units: &UnitIndex,
        code: &str,
        level: Option<&String>,
        reassign_to: Option<&str>,
    ) -> Result<Vec<Op>, Refusal> {
        let level_index = self.level(level.map(String::as_str))?;
        let territory = self.unlocked(level_index, code)?.clone();
        if let Some(target) = reassign_to {
            if target == code {
                return Err(format!("cannot reassign '{code}' to itself"));
            }
            self.unlocked(level_index, target)?;
        }
        let mut inverse = vec![Op::CreateTerritory {
            code: code.to_owned(),
            name: Some(territory.name.clone()),
            level: level.cloned(),
            parent: territory.parent.clone(),
        }];
        if level_index == 0 {
            let members: Vec<u32> = (0..self.assignment.len() as u32)
                .filter(|&i| self.assignment[i as usize].as_deref() == Some(code))
                .collect();
            if let Some(locked) = members.iter().find(|i| self.unit_locks.contains(i)) {
                return Err(format!("unit '{}' of '{code}' is locked", units.get(*locked).id));
            }
            let to: Option<Arc<str>> = reassign_to.map(Arc::from);
            for &i in &members {
                self.assignment[i as usize] = to.clone();
            }
            if !members.is_empty() {
                inverse.push(Op::Assign {
                    units: members.iter().map(|&i| units.get(i).id.clone()).collect(),
                    territory: code.to_owned(),
                });
            }
            if !territory.reps.is_empty() {
                inverse.push(Op::SetRep {
                    territory: code.to_owned(),
                    reps: territory.reps.iter().cloned().collect(),
                });
            }
            for (id, account) in self.accounts.iter_mut() {
                if account.override_territory.as_deref() == Some(code) {
                    account.override_territory = reassign_to.map(str::to_owned);
                    inverse.push(Op::OverrideAccount {
                        account: id.clone(),
                        territory: Some(code.to_owned()),
                    });
                }
            }
        } else {
            let child_level = self.levels[level_index - 1].clone();
            for (child, t) in self.territories[level_index - 1].iter_mut() {
                if t.parent.as_deref() == Some(code) {
                    t.parent = reassign_to.map(str::to_owned);
                    inverse.push(Op::MoveTerritory {
                        territory: child.clone(),
                        parent: Some(code.to_owned()),
                        level: Some(child_level.clone()),
                    });
                }
            }
        }
        self.territories[level_index].remove(code);
        Ok(inverse)
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

fn check_location(what: &str, lon: Option<f64>, lat: Option<f64>) -> Result<(), Refusal> {
    match (lon, lat) {
        (None, None) => Ok(()),
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() && x.abs() <= 180.0 && y.abs() <= 90.0 => Ok(()),
        (x, y) => Err(format!(
            "{what}: location ({x:?}, {y:?}) is not a lon/lat pair within range"
        )),
    }
}

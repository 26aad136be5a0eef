//! Creating, renaming, deleting, merging and moving territories (any level).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Op;
use crate::align::refusal::Refusal;
use crate::align::state::{Account, AlignmentState, Territory};
use crate::align::units::UnitIndex;

impl AlignmentState {
    /// `create_territory`: a new code at a level, under an existing parent.
    pub(super) fn create_territory(
        &mut self,
        code: &str,
        name: Option<&String>,
        level: Option<&String>,
        parent: Option<&String>,
    ) -> Result<Vec<Op>, Refusal> {
        let level_index = self.level(level.map(String::as_str))?;
        let code = code.trim();
        if code.is_empty() {
            return Err(Refusal::EmptyCode);
        }
        if self.territories[level_index].contains_key(code) {
            return Err(Refusal::Exists {
                level: self.levels[level_index].clone(),
                code: code.to_owned(),
            });
        }
        self.check_parent(level_index, parent.map(String::as_str))?;
        self.territories[level_index].insert(
            code.to_owned(),
            Territory {
                name: name.cloned().unwrap_or_else(|| code.to_owned()),
                parent: parent.cloned(),
                locked: false,
                reps: BTreeSet::new(),
            },
        );
        Ok(vec![Op::DeleteTerritory {
            code: code.to_owned(),
            level: level.cloned(),
            reassign_to: None,
        }])
    }

    /// `rename_territory`: a new display name, the code stays.
    pub(super) fn rename_territory(
        &mut self,
        code: &str,
        name: &str,
        level: Option<&String>,
    ) -> Result<Vec<Op>, Refusal> {
        let level_index = self.level(level.map(String::as_str))?;
        let old = self.unlocked(level_index, code)?.name.clone();
        if let Some(t) = self.territories[level_index].get_mut(code) {
            t.name = name.to_owned();
        }
        Ok(vec![Op::RenameTerritory {
            code: code.to_owned(),
            name: old,
            level: level.cloned(),
        }])
    }

    /// `merge_territories`: each of `from` deleted with its units (or children) moved into `into`.
    pub(super) fn merge_territories(
        &mut self,
        units: &UnitIndex,
        from: &[String],
        into: &str,
        level: Option<&String>,
    ) -> Result<Vec<Op>, Refusal> {
        let level_index = self.level(level.map(String::as_str))?;
        self.unlocked(level_index, into)?;
        let mut inverse = Vec::new();
        for code in from {
            if code == into {
                return Err(Refusal::MergeIntoItself { code: code.clone() });
            }
            let mut undo = self.delete_territory(units, code, level, Some(into))?;
            undo.append(&mut inverse);
            inverse = undo;
        }
        Ok(inverse)
    }

    /// `move_territory`: a new parent one level up (or none).
    pub(super) fn move_territory(
        &mut self,
        territory: &str,
        parent: Option<&String>,
        level: Option<&String>,
    ) -> Result<Vec<Op>, Refusal> {
        let level_index = self.level(level.map(String::as_str))?;
        let old = self.unlocked(level_index, territory)?.parent.clone();
        self.check_parent(level_index, parent.map(String::as_str))?;
        if let Some(t) = self.territories[level_index].get_mut(territory) {
            t.parent = parent.cloned();
        }
        Ok(vec![Op::MoveTerritory {
            territory: territory.to_owned(),
            parent: old,
            level: level.cloned(),
        }])
    }

    fn check_parent(&self, level: usize, parent: Option<&str>) -> Result<(), Refusal> {
        match parent {
            None => Ok(()),
            Some(p) if level + 1 >= self.levels.len() => Err(Refusal::BadParent {
                level: self.levels[level].clone(),
                parent: p.to_owned(),
            }),
            Some(p) => self.territory(level + 1, p).map(|_| ()),
        }
    }

    /// `delete_territory`: its units (or child territories) go to `reassign_to`, or
    /// become unassigned (parentless).
    pub(super) fn delete_territory(
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
                return Err(Refusal::ReassignToItself {
                    code: code.to_owned(),
                });
            }
            self.unlocked(level_index, target)?;
        }
        let mut inverse = vec![Op::CreateTerritory {
            code: code.to_owned(),
            name: Some(territory.name.clone()),
            level: level.cloned(),
            parent: territory.parent.clone(),
        }];
        let mut rules = Vec::new();
        if level_index == 0 {
            let members: Vec<u32> = (0..self.assignment.len() as u32)
                .filter(|&i| self.assignment[i as usize].as_deref() == Some(code))
                .collect();
            if let Some(locked) = members.iter().find(|i| self.unit_locks.contains(i)) {
                return Err(Refusal::LockedMember {
                    unit: units.get(*locked).id.clone(),
                    code: code.to_owned(),
                });
            }
            rules = self.retarget_rules(code, reassign_to)?;
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
            // Copied only when an account is overridden to the deleted territory.
            let overridden = |a: &Account| a.override_territory.as_deref() == Some(code);
            let accounts = self
                .accounts
                .values()
                .any(overridden)
                .then(|| Arc::make_mut(&mut self.accounts));
            for (id, account) in accounts.into_iter().flat_map(|a| a.iter_mut()) {
                if overridden(account) {
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
        inverse.append(&mut rules);
        Ok(inverse)
    }
}

//! Reps: adding, replacing and removing them, and setting a territory's reps.

use std::collections::BTreeMap;

use super::{Op, RepRecord, check_location};
use crate::align::refusal::Refusal;
use crate::align::state::AlignmentState;

impl AlignmentState {
    /// `set_rep`: the reps of an unlocked leaf territory, replacing the previous ones.
    pub(super) fn set_rep(&mut self, territory: &str, reps: &[String]) -> Result<Vec<Op>, Refusal> {
        let old = self.unlocked(0, territory)?.reps.clone();
        if let Some(unknown) = reps.iter().find(|r| !self.reps.contains_key(*r)) {
            return Err(Refusal::UnknownRep { rep: unknown.clone() });
        }
        if let Some(t) = self.territories[0].get_mut(territory) {
            t.reps = reps.iter().cloned().collect();
        }
        Ok(vec![Op::SetRep {
            territory: territory.to_owned(),
            reps: old.into_iter().collect(),
        }])
    }

    /// `upsert_reps`: adds or replaces reps.
    pub(super) fn upsert_reps(&mut self, reps: &BTreeMap<String, RepRecord>) -> Result<Vec<Op>, Refusal> {
        let mut restore = BTreeMap::new();
        let mut added = Vec::new();
        for (id, rep) in reps {
            check_location(|| format!("rep '{id}'"), rep.lon, rep.lat)?;
            if id.trim().is_empty() {
                return Err(Refusal::EmptyRepId);
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

    /// `delete_reps`: removes reps, and them from their territories.
    pub(super) fn delete_reps(&mut self, reps: &[String]) -> Result<Vec<Op>, Refusal> {
        let mut restore = BTreeMap::new();
        for id in reps {
            let rep = self
                .reps
                .get(id)
                .ok_or_else(|| Refusal::UnknownRep { rep: id.clone() })?;
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
}

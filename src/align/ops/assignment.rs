//! Assigning units to leaf territories and removing their explicit assignment.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Op;
use crate::align::refusal::Refusal;
use crate::align::state::AlignmentState;
use crate::align::units::UnitIndex;

impl AlignmentState {
    /// `assign`: units to an unlocked leaf territory.
    pub(super) fn assign(
        &mut self,
        units: &UnitIndex,
        ids: &[String],
        territory: &str,
    ) -> Result<Vec<Op>, Refusal> {
        self.unlocked(0, territory)?;
        let resolved = self.resolve_units(units, ids)?;
        self.set_owner(units, &resolved, Some(territory))
    }

    /// `unassign`: units lose their explicit territory.
    pub(super) fn unassign(&mut self, units: &UnitIndex, ids: &[String]) -> Result<Vec<Op>, Refusal> {
        let resolved = self.resolve_units(units, ids)?;
        self.set_owner(units, &resolved, None)
    }

    /// Sets the explicit owner of units, refusing locked units and locked territories.
    fn set_owner(&mut self, units: &UnitIndex, ids: &[u32], to: Option<&str>) -> Result<Vec<Op>, Refusal> {
        let mut previous: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
        for &i in ids {
            let id = &units.get(i).id;
            if self.unit_locks.contains(&i) {
                return Err(Refusal::LockedUnit { unit: id.clone() });
            }
            if let Some(old) = &self.assignment[i as usize]
                && self.territories[0].get(&**old).is_some_and(|t| t.locked)
            {
                return Err(Refusal::InLockedTerritory {
                    unit: id.clone(),
                    level: self.levels[0].clone(),
                    code: old.to_string(),
                });
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
}

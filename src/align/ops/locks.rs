//! Locking and unlocking territories and units against edits.

use super::Op;
use crate::align::refusal::Refusal;
use crate::align::state::AlignmentState;
use crate::align::units::UnitIndex;

impl AlignmentState {
    /// `lock`: territories of one level and units locked (or unlocked); the inverse
    /// flips back only what changed.
    pub(super) fn lock(
        &mut self,
        units: &UnitIndex,
        territories: &[String],
        ids: &[String],
        level: Option<&String>,
        locked: bool,
    ) -> Result<Vec<Op>, Refusal> {
        let level_index = self.level(level.map(String::as_str))?;
        let resolved = self.resolve_units(units, ids)?;
        let mut flipped_territories = Vec::new();
        for code in territories {
            self.territory(level_index, code)?;
        }
        for code in territories {
            if let Some(t) = self.territories[level_index].get_mut(code)
                && t.locked != locked
            {
                t.locked = locked;
                flipped_territories.push(code.clone());
            }
        }
        let mut flipped_units = Vec::new();
        for i in resolved {
            let changed = if locked {
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
            level: level.cloned(),
            locked: !locked,
        }])
    }
}

//! The operations of a change set, as the API and CLI accept them, and
//! [`AlignmentState::apply`], which dispatches each to its family: one file each for
//! assignment (assign, unassign), territories (create, rename, delete, merge, move),
//! reps, accounts and locks.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::field_map::{FieldMap, Text};
use super::refusal::Refusal;
use super::state::AlignmentState;
use super::units::UnitIndex;

mod accounts;
mod assignment;
mod locks;
mod reps;
mod rules;
mod territories;

/// One edit of an alignment. A change set applies a list of these all or nothing.
///
/// `level` names a hierarchy level (`territory`, `district`, `region` by default);
/// when absent the leaf level (territories) is meant, except for `move_territory`'s
/// parent, which lives one level up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"op": "assign", "units": ["10002"], "territory": "T1001"}))]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Op {
    /// Assigns units to a territory (leaf level).
    Assign {
        /// Unit ids.
        units: Vec<String>,
        /// Territory code.
        territory: String,
    },
    /// Removes units' explicit assignment (polygon units become unassigned,
    /// point units follow the polygon containing them again).
    Unassign {
        /// Unit ids.
        units: Vec<String>,
    },
    /// Creates a territory (or district, region, ...).
    CreateTerritory {
        /// Stable code, e.g. `T802`.
        code: String,
        /// Display name (defaults to the code).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Level name (default: the leaf level).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
        /// Parent code one level up.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<String>,
    },
    /// Renames a territory; its code stays.
    RenameTerritory {
        /// Code.
        code: String,
        /// New display name.
        name: String,
        /// Level name (default: leaf).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
    },
    /// Deletes a territory; its units (or child territories) go to `reassign_to`,
    /// or become unassigned (parentless).
    DeleteTerritory {
        /// Code.
        code: String,
        /// Level name (default: leaf).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
        /// Where its units or children go.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reassign_to: Option<String>,
    },
    /// Moves everything of `from` into `into` and deletes `from`.
    MergeTerritories {
        /// Territories merged away.
        from: Vec<String>,
        /// The territory that remains.
        into: String,
        /// Level name (default: leaf).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
    },
    /// Sets a territory's parent (one level up); `None` detaches it.
    MoveTerritory {
        /// Code.
        territory: String,
        /// New parent code.
        parent: Option<String>,
        /// Level name of `territory` (default: leaf).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
    },
    /// Sets the reps of a leaf territory (replacing the previous ones).
    SetRep {
        /// Territory code.
        territory: String,
        /// Rep ids.
        reps: Vec<String>,
    },
    /// Assigns an account to a territory regardless of its location (`None` clears).
    OverrideAccount {
        /// Account id.
        account: String,
        /// Territory code, or `None` to follow the location again.
        territory: Option<String>,
    },
    /// Locks or unlocks territories and units against edits.
    Lock {
        /// Territory codes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        territories: Vec<String>,
        /// Unit ids.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        units: Vec<String>,
        /// Level of the territories (default: leaf).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        level: Option<String>,
        /// Lock (true, default) or unlock (false).
        #[serde(default = "yes")]
        locked: bool,
    },
    /// Adds or replaces reps (their territories are set with `set_rep`).
    UpsertReps {
        /// Reps by id.
        reps: BTreeMap<String, RepRecord>,
    },
    /// Removes reps.
    DeleteReps {
        /// Rep ids.
        reps: Vec<String>,
    },
    /// Adds or replaces accounts.
    UpsertAccounts {
        /// Accounts by id.
        #[schema(value_type = BTreeMap<String, AccountRecord>)]
        accounts: BTreeMap<String, Arc<AccountRecord>>,
    },
    /// Removes accounts.
    DeleteAccounts {
        /// Account ids.
        accounts: Vec<String>,
    },
    /// Creates a rule territory: accounts whose attributes and metrics meet `condition`
    /// (a SQL `WHERE` expression, e.g. `vertical = 'Healthcare' AND employees >= 1000`)
    /// belong to `territory` (a leaf territory), whatever their location.
    CreateRule {
        /// Rule id.
        rule: String,
        /// Leaf territory it gives accounts to.
        territory: String,
        /// The condition.
        condition: String,
        /// Order among rules: the lowest number that matches wins (default: after the last).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<i64>,
    },
    /// Changes a rule's territory, condition or priority (what is absent stays).
    UpdateRule {
        /// Rule id.
        rule: String,
        /// New territory.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        territory: Option<String>,
        /// New condition.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        condition: Option<String>,
        /// New priority.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<i64>,
    },
    /// Gives the rules priorities 1, 2, ... in the order listed (the others follow).
    ReorderRules {
        /// Rule ids, first first.
        rules: Vec<String>,
    },
    /// Deletes a rule: its accounts go back to their location's territory.
    DeleteRule {
        /// Rule id.
        rule: String,
    },
}

fn yes() -> bool {
    true
}

/// A sales rep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RepRecord {
    /// Name.
    pub name: String,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Home location longitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
    /// Home location latitude.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
}

/// A customer account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccountRecord {
    /// Name.
    pub name: String,
    /// Location longitude.
    pub lon: f64,
    /// Location latitude.
    pub lat: f64,
    /// Numeric metrics (revenue, potential, employees, ...).
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, f64>)]
    pub metrics: FieldMap<f64>,
    /// Text attributes (vertical, channel, lead source, partner, ...) that rules read.
    #[serde(default, skip_serializing_if = "FieldMap::is_empty")]
    #[schema(value_type = BTreeMap<String, String>)]
    pub attributes: FieldMap<Text>,
}

/// Every number of a record is finite (JSON has no NaN, and CSV values and locations
/// are checked), so equality is reflexive; being `Eq` lets an `Arc` of a record (and
/// the map of a million of them) compare equal to itself without looking inside.
impl Eq for AccountRecord {}

impl crate::align::rules::Fields for AccountRecord {
    fn text(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(|t| t.as_ref())
    }
    fn number(&self, name: &str) -> Option<f64> {
        self.metrics.get(name).copied()
    }
}

impl Op {
    /// The unit ids this operation names (assign, unassign, lock): with the inverse of a
    /// change set, the units whose owner or lock the change set set.
    pub fn units(&self) -> &[String] {
        match self {
            Op::Assign { units, .. } | Op::Unassign { units } | Op::Lock { units, .. } => units,
            _ => &[],
        }
    }

    /// A short human summary for the history.
    pub fn summary(&self) -> String {
        match self {
            Op::Assign { units, territory } => format!("assign {} unit(s) to {territory}", units.len()),
            Op::Unassign { units } => format!("unassign {} unit(s)", units.len()),
            Op::CreateTerritory { code, .. } => format!("create {code}"),
            Op::RenameTerritory { code, name, .. } => format!("rename {code} to '{name}'"),
            Op::DeleteTerritory { code, .. } => format!("delete {code}"),
            Op::MergeTerritories { from, into, .. } => format!("merge {} into {into}", from.join(", ")),
            Op::MoveTerritory {
                territory, parent, ..
            } => {
                format!(
                    "move {territory} under {}",
                    parent.as_deref().unwrap_or("nothing")
                )
            }
            Op::SetRep { territory, reps } => format!("set reps of {territory}: {}", reps.join(", ")),
            Op::OverrideAccount { account, territory } => {
                format!(
                    "override {account} -> {}",
                    territory.as_deref().unwrap_or("location")
                )
            }
            Op::Lock {
                locked,
                territories,
                units,
                ..
            } => format!(
                "{} {} territory(ies), {} unit(s)",
                if *locked { "lock" } else { "unlock" },
                territories.len(),
                units.len()
            ),
            Op::UpsertReps { reps } => format!("upsert {} rep(s)", reps.len()),
            Op::DeleteReps { reps } => format!("delete {} rep(s)", reps.len()),
            Op::UpsertAccounts { accounts } => format!("upsert {} account(s)", accounts.len()),
            Op::DeleteAccounts { accounts } => format!("delete {} account(s)", accounts.len()),
            Op::CreateRule {
                rule,
                territory,
                condition,
                ..
            } => {
                format!("create rule {rule}: {condition} -> {territory}")
            }
            Op::UpdateRule { rule, .. } => format!("update rule {rule}"),
            Op::ReorderRules { rules } => format!("reorder rules: {}", rules.join(", ")),
            Op::DeleteRule { rule } => format!("delete rule {rule}"),
        }
    }
}

impl AlignmentState {
    /// Applies one operation; returns the operations that undo it, in order.
    pub fn apply(&mut self, op: &Op, units: &UnitIndex) -> Result<Vec<Op>, Refusal> {
        match op {
            Op::Assign {
                units: ids,
                territory,
            } => self.assign(units, ids, territory),
            Op::Unassign { units: ids } => self.unassign(units, ids),
            Op::CreateTerritory {
                code,
                name,
                level,
                parent,
            } => self.create_territory(code, name.as_ref(), level.as_ref(), parent.as_ref()),
            Op::RenameTerritory { code, name, level } => self.rename_territory(code, name, level.as_ref()),
            Op::DeleteTerritory {
                code,
                level,
                reassign_to,
            } => self.delete_territory(units, code, level.as_ref(), reassign_to.as_deref()),
            Op::MergeTerritories { from, into, level } => {
                self.merge_territories(units, from, into, level.as_ref())
            }
            Op::MoveTerritory {
                territory,
                parent,
                level,
            } => self.move_territory(territory, parent.as_ref(), level.as_ref()),
            Op::SetRep { territory, reps } => self.set_rep(territory, reps),
            Op::OverrideAccount { account, territory } => self.override_account(account, territory.as_ref()),
            Op::Lock {
                territories,
                units: ids,
                level,
                locked,
            } => self.lock(units, territories, ids, level.as_ref(), *locked),
            Op::UpsertReps { reps } => self.upsert_reps(reps),
            Op::DeleteReps { reps } => self.delete_reps(reps),
            Op::UpsertAccounts { accounts } => self.upsert_accounts(accounts),
            Op::DeleteAccounts { accounts } => self.delete_accounts(accounts),
            Op::CreateRule {
                rule,
                territory,
                condition,
                priority,
            } => self.create_rule(rule, territory, condition, *priority),
            Op::UpdateRule {
                rule,
                territory,
                condition,
                priority,
            } => self.update_rule(rule, territory.as_deref(), condition.as_deref(), *priority),
            Op::ReorderRules { rules } => self.reorder_rules(rules),
            Op::DeleteRule { rule } => self.delete_rule(rule),
        }
    }
}

/// Refuses a location (of `what`, named lazily) that is half given, not finite or
/// out of range; none at all is fine.
fn check_location(what: impl Fn() -> String, lon: Option<f64>, lat: Option<f64>) -> Result<(), Refusal> {
    match (lon, lat) {
        (None, None) => Ok(()),
        (Some(x), Some(y)) if x.is_finite() && y.is_finite() && x.abs() <= 180.0 && y.abs() <= 90.0 => Ok(()),
        (lon, lat) => Err(Refusal::BadLocation {
            what: what(),
            lon,
            lat,
        }),
    }
}

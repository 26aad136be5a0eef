//! One account as a field app sees it: its point, the unit there, the territory
//! chain and reps that own it, and whether that ownership is an override (the
//! account is assigned explicitly to a territory other than its unit's).

use std::collections::BTreeMap;

use serde::Serialize;

use super::RepRef;
use crate::align::PlacedBy;
use crate::snapshot::Snapshot;

/// An account and who owns it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    /// Account id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Location: [lon, lat].
    pub point: [f64; 2],
    /// Numeric metrics.
    pub metrics: BTreeMap<String, f64>,
    /// The unit containing the point (`None` outside every unit).
    pub unit: Option<String>,
    /// The leaf territory of that unit, before any override.
    pub unit_territory: Option<String>,
    /// Code per level name of the owning chain (leaf territory upwards).
    pub owner: BTreeMap<String, String>,
    /// Reps of the owning leaf territory.
    pub reps: Vec<RepRef>,
    /// Owned by an explicit assignment to a territory other than its unit's.
    #[serde(rename = "override")]
    pub is_override: bool,
    /// Text attributes (vertical, channel, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// What decided the owner: `override`, `rule` or `unit` (absent when nothing owns it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_by: Option<&'static str>,
    /// The rule that placed it, when a rule did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

impl Snapshot {
    /// An account with its owner, or `None` when the alignment has no such account.
    pub fn account_view(&self, id: &str) -> Option<AccountView> {
        let account = self.state.accounts.get(id)?;
        let unit = self.account_unit(id);
        let unit_territory = unit.and_then(|u| self.state.owner(&self.dataset.units, u));
        let placed = self.account_owner(id);
        let (owner, reps) = placed.map(|(leaf, _)| self.chain(leaf)).unwrap_or_default();
        Some(AccountView {
            id: id.to_owned(),
            name: account.record.name.clone(),
            point: [account.record.lon, account.record.lat],
            metrics: account
                .record
                .metrics
                .iter()
                .map(|(k, v)| (k.to_owned(), *v))
                .collect(),
            unit: unit.map(|u| self.dataset.units.get(u).id.clone()),
            unit_territory: unit_territory.map(str::to_owned),
            owner,
            reps,
            is_override: placed.is_some_and(|(t, by)| by == PlacedBy::Override && Some(t) != unit_territory),
            attributes: (account.record.attributes.iter())
                .map(|(k, v)| (k.to_owned(), v.to_string()))
                .collect(),
            placed_by: placed.map(|(_, by)| by.name()),
            rule: placed.and_then(|(_, by)| by.rule().map(str::to_owned)),
        })
    }
}

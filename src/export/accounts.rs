//! Accounts with their owner in every plan asked for (an alignment, a team's active plan,
//! or every team's with `team=all`), as CSV for a CRM: one row per account and plan.

use std::io::Write;
use std::sync::Arc;

use super::ExportError;
use crate::snapshot::Snapshot;

/// The header of [`write`].
pub const HEADER: [&str; 13] = [
    "id",
    "name",
    "lon",
    "lat",
    "team",
    "alignment",
    "revision",
    "unit",
    "territory",
    "chain",
    "reps",
    "placed_by",
    "rule",
];

/// Writes every account of each plan (in plan order, accounts by id) under [`HEADER`]:
/// `chain` is the owning codes leaf upwards joined by ` > `, `reps` the owner's rep ids
/// joined by `;`, `placed_by` `override`, `rule` or `unit` (empty: nothing owns it).
pub fn write(plans: &[(Option<String>, Arc<Snapshot>)], out: impl Write) -> Result<(), ExportError> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(HEADER)?;
    for (team, s) in plans {
        let revision = s.revision.to_string();
        for (id, account, place) in s.placed_accounts() {
            let record = &account.record;
            let (unit, placed) = (place.unit, place.owner());
            let rule = placed
                .and_then(|(_, by)| by.rule().map(str::to_owned))
                .unwrap_or_default();
            let chain: Vec<String> = placed
                .map(|(leaf, _)| s.state.ancestry(leaf).into_iter().flatten().collect())
                .unwrap_or_default();
            let reps = placed
                .and_then(|(leaf, _)| s.state.territories[0].get(leaf))
                .map(|t| t.reps.iter().map(String::as_str).collect::<Vec<_>>().join(";"))
                .unwrap_or_default();
            csv.write_record([
                id,
                &record.name,
                &record.lon.to_string(),
                &record.lat.to_string(),
                team.as_deref().unwrap_or(""),
                &s.alignment,
                &revision,
                unit.map_or("", |u| s.dataset.units.get(u).id.as_str()),
                chain.first().map_or("", String::as_str),
                &chain.join(" > "),
                &reps,
                placed.map_or("", |(_, by)| by.name()),
                &rule,
            ])?;
        }
    }
    csv.flush().map_err(csv::Error::from)?;
    Ok(())
}

//! Lead routing: who gets a new lead from a web form or a CRM. A lead has a location (a
//! point, or an address geocoded by the ladder) and fields (source, vertical, size,
//! partner); the first matching rule of the alignment decides, else the territory of the
//! unit at its location, as for an account.
//!
//! ```
//! use geoalign::lookup::route::Lead;
//! let lead = Lead::from_json(&serde_json::json!(
//!     {"id": "L1", "lon": -73.98, "lat": 40.75, "vertical": "Healthcare", "employees": 1200}))
//! .unwrap();
//! use geoalign::align::rules::Fields;
//! assert_eq!((lead.text("vertical"), lead.number("employees")), (Some("Healthcare"), Some(1200.0)));
//! assert!(Lead::from_json(&serde_json::json!({"lat": 40.75})).is_err()); // lat without lon
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::RepRef;
use super::batch::BatchError;
use super::geocode::{Country, MatchLevel};
use crate::align::rules::Fields;
use crate::feature::is_placeholder_id;
use crate::geom::check;
use crate::lookup::address::GeocodeError;
use crate::snapshot::Snapshot;
use crate::store::{Store, StoreError};

/// Longest address of a lead, in characters.
const MAX_ADDRESS_CHARS: usize = 500;

/// Where a lead is.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// A point: longitude, latitude (checked).
    Point(f64, f64),
    /// A free-text address, geocoded when routed.
    Address(String),
    /// Not given: only a rule can route the lead.
    Unknown,
}

/// A lead: its id, where it is, and its fields. A field read as a number (a rule
/// comparing it with one) may be given as text, as CSV gives every field.
#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    /// The caller's id, echoed back.
    pub id: Option<String>,
    /// Where it is.
    pub location: Location,
    /// Text fields (`lead_source`, `vertical`, `partner_id`).
    pub text: BTreeMap<String, String>,
    /// Numeric fields (`employees`, `revenue`).
    pub numbers: BTreeMap<String, f64>,
}

impl Fields for Lead {
    fn text(&self, name: &str) -> Option<&str> {
        self.text.get(name).map(String::as_str)
    }

    fn number(&self, name: &str) -> Option<f64> {
        self.numbers.get(name).copied().or_else(|| {
            let n: f64 = self.text.get(name)?.trim().parse().ok()?;
            n.is_finite().then_some(n)
        })
    }
}

/// Names of the fields that say where a lead is.
const LON: [&str; 3] = ["lon", "lng", "longitude"];
const LAT: [&str; 2] = ["lat", "latitude"];

impl Lead {
    /// A lead from a JSON object: `id`, `lon`/`lat` or `address`, and flat fields (text,
    /// numbers, booleans as `true`/`false`; null is absent). The error names the field.
    pub fn from_json(value: &Value) -> Result<Lead, String> {
        let Value::Object(object) = value else {
            return Err("a lead is a JSON object of fields".into());
        };
        let mut lead = Lead::empty();
        let (mut lon, mut lat) = (None, None);
        for (name, value) in object {
            let key = name.to_ascii_lowercase();
            let number = || {
                value
                    .as_f64()
                    .ok_or_else(|| format!("field `{name}`: expected a number, found {value}"))
            };
            match key.as_str() {
                _ if value.is_null() => {}
                "id" => lead.id = Some(json_text(value)),
                k if LON.contains(&k) => lon = Some(number()?),
                k if LAT.contains(&k) => lat = Some(number()?),
                "address" => match value.as_str() {
                    Some(text) => lead.location = Location::Address(address(text)?),
                    None => return Err(format!("field `address`: expected text, found {value}")),
                },
                _ => match value {
                    Value::String(s) => drop(lead.text.insert(name.clone(), s.clone())),
                    Value::Bool(b) => drop(lead.text.insert(name.clone(), b.to_string())),
                    Value::Number(_) => drop(lead.numbers.insert(name.clone(), number()?)),
                    _ => {
                        return Err(format!(
                            "field `{name}`: a lead's fields are text, numbers or booleans"
                        ));
                    }
                },
            }
        }
        lead.place(lon, lat)?;
        Ok(lead)
    }

    /// A lead from a CSV row under `header`: `id`, `lon`/`lat` or `address`, and the
    /// other columns as fields (an empty cell is absent). The error names the column.
    pub fn from_csv(header: &[String], row: &csv::StringRecord) -> Result<Lead, String> {
        let mut lead = Lead::empty();
        let (mut lon, mut lat) = (None, None);
        for (name, cell) in header.iter().zip(row.iter()) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let key = name.to_ascii_lowercase();
            let number = || {
                cell.parse::<f64>()
                    .map_err(|_| format!("column `{name}`: {cell:?} is not a number"))
            };
            match key.as_str() {
                "id" => lead.id = Some(cell.to_owned()),
                k if LON.contains(&k) => lon = Some(number()?),
                k if LAT.contains(&k) => lat = Some(number()?),
                "address" => lead.location = Location::Address(address(cell)?),
                _ => drop(lead.text.insert(name.clone(), cell.to_owned())),
            }
        }
        lead.place(lon, lat)?;
        Ok(lead)
    }

    fn empty() -> Lead {
        Lead {
            id: None,
            location: Location::Unknown,
            text: BTreeMap::new(),
            numbers: BTreeMap::new(),
        }
    }

    /// Sets the point from `lon` and `lat` (both or neither; a point wins over an address).
    fn place(&mut self, lon: Option<f64>, lat: Option<f64>) -> Result<(), String> {
        match (lon, lat) {
            (Some(lon), Some(lat)) => {
                check(lon, lat).map_err(|e| format!("lon/lat: {e}"))?;
                self.location = Location::Point(lon, lat);
            }
            (None, None) => {}
            (Some(_), None) => return Err("lon without lat: give both, or an address".into()),
            (None, Some(_)) => return Err("lat without lon: give both, or an address".into()),
        }
        Ok(())
    }
}

fn address(text: &str) -> Result<String, String> {
    if text.chars().count() > MAX_ADDRESS_CHARS {
        return Err(format!(
            "field `address`: longer than {MAX_ADDRESS_CHARS} characters"
        ));
    }
    Ok(text.to_owned())
}

/// Who gets a lead in one alignment.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Routed {
    /// The lead's id, as given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The point used: as given, or geocoded from the address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<[f64; 2]>,
    /// How the address matched (`address`, `postal_code`, `city`), when one was geocoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geocoded: Option<MatchLevel>,
    /// The unit at the point.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Code per level name of the owning chain (leaf territory upwards); empty: no owner.
    pub owner: BTreeMap<String, String>,
    /// Reps of the owning leaf territory.
    pub reps: Vec<RepRef>,
    /// What decided: `rule` or `unit` (absent when nothing owns the lead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<&'static str>,
    /// The rule that decided, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Why nothing owns the lead, or what was approximated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Where a lead is, found from the dataset alone (so one location serves every plan on
/// the same units): the point used, how its address matched, the unit there, and what
/// was approximated or why there is none.
#[derive(Debug, Clone)]
pub struct Located {
    point: Option<[f64; 2]>,
    geocoded: Option<MatchLevel>,
    unit: Option<u32>,
    reason: Option<String>,
}

impl Snapshot {
    /// Routes a lead: geocodes its address (the ladder of [`Snapshot::geocode_with`]),
    /// finds the unit at its point, and places it as an account is placed (the first
    /// matching rule, else the unit's territory). An address that is not found leaves
    /// the lead to the rules, with the reason.
    pub fn route(&self, store: &Store, lead: &Lead, country: Country) -> Result<Routed, StoreError> {
        Ok(self.route_at(lead, self.locate(store, lead, country)?))
    }

    /// Where a lead is in this snapshot's dataset.
    pub fn locate(&self, store: &Store, lead: &Lead, country: Country) -> Result<Located, StoreError> {
        let mut at = Located {
            point: None,
            geocoded: None,
            unit: None,
            reason: None,
        };
        match &lead.location {
            Location::Point(lon, lat) => {
                at.point = Some([*lon, *lat]);
                at.unit = self.dataset.unit_at(*lon, *lat);
                if at.unit.is_none() {
                    at.reason = Some("the point is in no unit of the dataset".into());
                }
            }
            Location::Address(text) => match self.geocode_with(store, text, country) {
                Ok(found) => {
                    at.point = Some(found.point);
                    at.geocoded = Some(found.level);
                    at.reason = found.note;
                    at.unit = self.dataset.units.resolve(&found.owner.unit);
                }
                Err(GeocodeError::NotFound { .. }) => {
                    at.reason = Some(format!("address not found: {text}"));
                }
                Err(GeocodeError::Store(e)) => return Err(e),
            },
            Location::Unknown => {
                at.reason = Some("no location (lon/lat or address) and no rule matched".into());
            }
        }
        Ok(at)
    }

    /// Routes a lead found at `at` (by [`Snapshot::locate`] on this dataset).
    pub fn route_at(&self, lead: &Lead, at: Located) -> Routed {
        let units = &self.dataset.units;
        let id = at.unit.map(|u| units.get(u).id.clone());
        let mut routed = Routed {
            id: lead.id.clone(),
            point: at.point,
            geocoded: at.geocoded,
            unit: None,
            owner: BTreeMap::new(),
            reps: Vec::new(),
            decided_by: None,
            rule: None,
            reason: at.reason,
        };
        // A placeholder unit (parks, water) owns no customer, whatever a sheet says.
        let owning_unit = at.unit.filter(|_| !id.as_deref().is_some_and(is_placeholder_id));
        if owning_unit.is_none()
            && let Some(id) = &id
        {
            routed.reason = Some(format!("{id} is a placeholder unit, not a real one"));
        }
        routed.unit = id;
        if let Some((leaf, by)) = self.state.placement(units, lead, None, owning_unit) {
            (routed.owner, routed.reps) = self.chain(leaf);
            routed.decided_by = Some(by.name());
            routed.rule = by.rule().map(str::to_owned);
            if by.rule().is_some() {
                routed.reason = None;
            }
        } else if routed.reason.is_none() {
            routed.reason = Some(format!(
                "unit {} is in no territory",
                routed.unit.as_deref().unwrap_or("?")
            ));
        }
        routed
    }
}

/// Routes a lead by every plan, in plan order, locating it once per dataset: an address
/// is geocoded once however many teams' plans share its units.
pub fn route_by_plans(
    store: &Store,
    plans: &Plans,
    lead: &Lead,
    country: Country,
) -> Result<Vec<Routed>, StoreError> {
    let mut located: Vec<(&Snapshot, Located)> = Vec::new();
    let mut out = Vec::with_capacity(plans.len());
    for (_, s) in plans {
        let known = located
            .iter()
            .find(|(other, _)| Arc::ptr_eq(&other.dataset, &s.dataset));
        let at = match known {
            Some((_, at)) => at.clone(),
            None => {
                let at = s.locate(store, lead, country)?;
                located.push((s, at.clone()));
                at
            }
        };
        out.push(s.route_at(lead, at));
    }
    Ok(out)
}

/// Most leads in one batch (each may be geocoded).
pub const MAX_BATCH_LEADS: usize = 100_000;

/// A row of a batch: its id (when it has one), and its lead or why it is unusable.
pub type LeadRow = (Option<String>, Result<Lead, String>);

/// A batch of leads: a JSON array of lead objects, or CSV with a header row (`id`,
/// `lon`/`lat` or `address`, then any fields). Each row's id (when it has one) and its
/// lead, or why it is unusable (`row N: ...`, counting data rows from 1).
pub fn parse_batch(body: &[u8]) -> Result<Vec<LeadRow>, BatchError> {
    let too_many = || BatchError(format!("more than {MAX_BATCH_LEADS} leads"));
    let mut leads = Vec::new();
    if first_byte(body) == Some(b'[') {
        let values: Vec<Value> = serde_json::from_slice(body).map_err(|e| BatchError(e.to_string()))?;
        if values.len() > MAX_BATCH_LEADS {
            return Err(too_many());
        }
        for (i, value) in values.iter().enumerate() {
            let id = value.get("id").filter(|v| !v.is_null()).map(json_text);
            leads.push((
                id,
                Lead::from_json(value).map_err(|e| format!("row {}: {e}", i + 1)),
            ));
        }
    } else {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(body);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| BatchError(format!("CSV header: {e}")))?
            .iter()
            .map(str::to_owned)
            .collect();
        let column =
            |names: &[&str]| (header.iter()).position(|h| names.contains(&h.to_ascii_lowercase().as_str()));
        if column(&["address"]).is_none() && (column(&LON).is_none() || column(&LAT).is_none()) {
            return Err(BatchError(format!(
                "CSV needs lon and lat columns or an address column (id,lon,lat,...); header: {}",
                header.join(",")
            )));
        }
        let id_column = column(&["id"]);
        for (i, record) in reader.records().enumerate() {
            let (id, lead) = match record {
                Ok(r) => {
                    let id = id_column.and_then(|c| r.get(c)).filter(|id| !id.is_empty());
                    (id.map(str::to_owned), Lead::from_csv(&header, &r))
                }
                Err(e) => (None, Err(e.to_string())),
            };
            leads.push((id, lead.map_err(|e| format!("row {}: {e}", i + 1))));
            if leads.len() > MAX_BATCH_LEADS {
                return Err(too_many());
            }
        }
    }
    if leads.is_empty() {
        return Err(BatchError("no leads in the batch".into()));
    }
    Ok(leads)
}

/// A JSON id as text: a string as it is, anything else as JSON.
fn json_text(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// The plans a batch is routed by: each snapshot with its team (None for a named alignment).
pub type Plans = [(Option<String>, Arc<Snapshot>)];

/// One answer of a batch: a lead routed by one plan, or the error of its row.
#[derive(Debug)]
pub struct RoutedRow<'a> {
    /// The team of the plan, when asked by team.
    pub team: Option<&'a str>,
    /// The plan.
    pub snapshot: &'a Snapshot,
    /// The lead's id.
    pub id: Option<&'a str>,
    /// Who gets the lead, or why its row is unusable.
    pub routed: Result<Routed, String>,
}

/// Routes every lead of a batch by every plan: one row per lead and plan, in input order.
pub fn route_batch<'a>(
    store: &Store,
    plans: &'a Plans,
    leads: &'a [LeadRow],
    country: Country,
) -> Result<Vec<RoutedRow<'a>>, StoreError> {
    let mut rows = Vec::with_capacity(leads.len() * plans.len());
    for (id, lead) in leads {
        let routed: Vec<Result<Routed, String>> = match lead {
            Ok(lead) => route_by_plans(store, plans, lead, country)?
                .into_iter()
                .map(Ok)
                .collect(),
            Err(e) => vec![Err(e.clone()); plans.len()],
        };
        for ((team, s), routed) in plans.iter().zip(routed) {
            rows.push(RoutedRow {
                team: team.as_deref(),
                snapshot: s,
                id: id.as_deref(),
                routed,
            });
        }
    }
    Ok(rows)
}

/// The header of a routed batch as CSV.
pub const CSV_HEADER: [&str; 11] = [
    "id",
    "team",
    "alignment",
    "revision",
    "unit",
    "territory",
    "chain",
    "reps",
    "decided_by",
    "rule",
    "reason",
];

/// A routed batch as CSV under [`CSV_HEADER`]: `chain` is the owning codes leaf upwards
/// joined by ` > `, `reps` the rep ids joined by `;`, and a bad row's reason `error: ...`.
pub fn write_csv(rows: &[RoutedRow]) -> csv::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(CSV_HEADER)?;
    for row in rows {
        let s = row.snapshot;
        let mut record: Vec<String> = vec![
            row.id.unwrap_or("").to_owned(),
            row.team.unwrap_or("").to_owned(),
            s.alignment.clone(),
            s.revision.to_string(),
        ];
        match &row.routed {
            Ok(r) => {
                let chain: Vec<&str> = (s.state.levels.iter())
                    .filter_map(|l| r.owner.get(l).map(String::as_str))
                    .collect();
                let reps: Vec<&str> = r.reps.iter().map(|rep| rep.id.as_str()).collect();
                record.extend([
                    r.unit.clone().unwrap_or_default(),
                    chain.first().copied().unwrap_or("").to_owned(),
                    chain.join(" > "),
                    reps.join(";"),
                    r.decided_by.unwrap_or("").to_owned(),
                    r.rule.clone().unwrap_or_default(),
                    r.reason.clone().unwrap_or_default(),
                ]);
            }
            Err(e) => {
                record.extend(std::iter::repeat_n(String::new(), 6));
                record.push(format!("error: {e}"));
            }
        }
        out.write_record(&record)?;
    }
    out.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The first byte of a body that is not white space.
pub fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

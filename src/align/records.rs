//! Reps and accounts from CSV, turned into change-set operations so that an
//! import is applied (and undone) like any other edit.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::Arc;

use super::field_map::{FieldMap, Text, intern};

use super::ops::{AccountRecord, Op, RepRecord};
use super::sheet::SheetError;
use super::state::AlignmentState;

fn reader(input: impl Read) -> csv::Reader<impl Read> {
    csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input)
}

/// A reader that trims only the header: the accounts' values are trimmed where they are
/// read, each once (trimming whole records took 5% of a million-account import).
fn accounts_reader(input: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(input)
}

/// The header, lowercased.
fn header(csv: &mut csv::Reader<impl Read>) -> Result<Vec<String>, SheetError> {
    Ok(super::sheet::header(csv)?
        .into_iter()
        .map(|h| h.to_ascii_lowercase())
        .collect())
}

fn number(field: &str, value: &str, line: usize, problems: &mut Vec<String>) -> Option<f64> {
    match value.parse::<f64>() {
        Ok(v) if v.abs() <= crate::feature::MAX_SUMMABLE => Some(v),
        Ok(v) if v.is_finite() => {
            problems.push(format!(
                "line {line}: {field} '{value}' is beyond ±2^53, so its sums would overflow"
            ));
            None
        }
        _ => {
            problems.push(format!("line {line}: {field} '{value}' is not a number"));
            None
        }
    }
}

/// Reads `id,name,email,lon,lat,territory` (email, lon/lat and territory optional)
/// into operations: upsert the reps, then add each to its territories' reps.
pub fn reps(input: impl Read, state: &AlignmentState) -> Result<Vec<Op>, SheetError> {
    let (reps, links) = read_reps(input, Some(state))?;
    let mut ops = vec![Op::UpsertReps { reps }];
    for (territory, ids) in links {
        let mut all = state.territories[0][&territory].reps.clone();
        all.extend(ids);
        ops.push(Op::SetRep {
            territory,
            reps: all.into_iter().collect(),
        });
    }
    Ok(ops)
}

/// Reads the rep records of `id,name,email,lon,lat[,territory]` (a territory column is
/// ignored), as `geoalign build --seeds` takes them.
pub fn rep_records(input: impl Read) -> Result<BTreeMap<String, RepRecord>, SheetError> {
    Ok(read_reps(input, None)?.0)
}

/// The rep records, and with `state` each territory's reps from the territory column
/// (checked against `state`'s territories).
type RepsRead = (BTreeMap<String, RepRecord>, BTreeMap<String, BTreeSet<String>>);

fn read_reps(input: impl Read, state: Option<&AlignmentState>) -> Result<RepsRead, SheetError> {
    let mut csv = reader(input);
    let header = header(&mut csv)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(id_col), Some(name_col)) = (col("id"), col("name")) else {
        return Err(SheetError {
            problems: vec![format!(
                "reps need 'id' and 'name' columns; header: {}",
                header.join(",")
            )],
        });
    };
    let (email_col, lon_col, lat_col, territory_col) =
        (col("email"), col("lon"), col("lat"), col("territory"));
    let mut problems = Vec::new();
    let mut reps = BTreeMap::new();
    let mut links: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let (records, mut read_problems) = super::sheet::lines(&mut csv);
    problems.append(&mut read_problems);
    for (line, record) in records {
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).filter(|v| !v.is_empty());
        let Some(id) = get(Some(id_col)) else {
            problems.push(format!("line {line}: empty rep id"));
            continue;
        };
        let lon = get(lon_col).and_then(|v| number("lon", v, line, &mut problems));
        let lat = get(lat_col).and_then(|v| number("lat", v, line, &mut problems));
        reps.insert(
            id.to_owned(),
            RepRecord {
                name: get(Some(name_col)).unwrap_or(id).to_owned(),
                email: get(email_col).map(str::to_owned),
                lon,
                lat,
            },
        );
        if let (Some(territory), Some(state)) = (get(territory_col), state) {
            if !state.territories[0].contains_key(territory) {
                problems.push(format!("line {line}: unknown {} '{territory}'", state.levels[0]));
                continue;
            }
            links
                .entry(territory.to_owned())
                .or_default()
                .insert(id.to_owned());
        }
    }
    if !problems.is_empty() {
        return Err(SheetError { problems });
    }
    Ok((reps, links))
}

/// Geocodes an account's address to (lon, lat), or says why it cannot.
pub type Place<'a> = &'a dyn Fn(&str) -> Result<(f64, f64), String>;

/// Which columns of a CSV (read from memory) are text: those with a non-empty value
/// that is not a number. The others are metrics.
fn text_columns(bytes: &[u8], columns: usize) -> Vec<bool> {
    let mut text = vec![false; columns];
    let mut csv = accounts_reader(bytes);
    let mut record = csv::StringRecord::new();
    // A row that cannot be read ends the scan: the second pass reports it by line.
    while let Ok(true) = csv.read_record(&mut record) {
        for (i, value) in record.iter().map(str::trim).enumerate().take(columns) {
            if !text[i] && !value.is_empty() && value.parse::<f64>().is_err() {
                text[i] = true;
            }
        }
    }
    text
}

/// Accounts read from CSV: the operations, and the rows placed or not by address.
#[derive(Debug, Clone)]
pub struct AccountImport {
    /// Upsert, then overrides.
    pub ops: Vec<Op>,
    /// Accounts located by geocoding their address.
    pub placed: usize,
    /// Accounts whose address could not be placed (`line N: ...`), left out.
    pub unplaced: Vec<String>,
}

/// Reads `id,name,lon,lat[,territory][,field...]` into operations: upsert the
/// accounts, then override the owner of those with a `territory`. Every row needs
/// lon/lat. A column whose values are all numbers is a metric; any other is a text
/// attribute (vertical, channel, lead source) that rules can read.
pub fn accounts(input: impl Read, state: &AlignmentState) -> Result<Vec<Op>, SheetError> {
    accounts_placed(input, state, &|_| Err("no geocoder".into()), false).map(|i| i.ops)
}

/// Like [`accounts`], but a row may give an `address` column instead of lon/lat:
/// `place` geocodes it. Rows it cannot place are errors listed by line (nothing
/// imported) unless `skip_unplaced`, which leaves them out and reports them.
pub fn accounts_placed(
    input: impl Read,
    _state: &AlignmentState,
    place: Place,
    skip_unplaced: bool,
) -> Result<AccountImport, SheetError> {
    // Read twice (column kinds, then rows) from memory rather than keeping a
    // record per row: a million accounts are a hundred megabytes of CSV, and several
    // times that as records.
    let mut bytes = Vec::new();
    let mut input = input;
    input.read_to_end(&mut bytes).map_err(|e| SheetError {
        problems: vec![format!("reading the accounts: {e}")],
    })?;
    let mut csv = accounts_reader(bytes.as_slice());
    let header = header(&mut csv)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (lon_col, lat_col, address_col) = (col("lon"), col("lat"), col("address"));
    let (Some(id_col), Some(name_col), true) = (
        col("id"),
        col("name"),
        (lon_col.is_some() && lat_col.is_some()) || address_col.is_some(),
    ) else {
        return Err(SheetError {
            problems: vec![format!(
                "accounts need 'id', 'name', and 'lon' and 'lat' or 'address' columns; header: {}",
                header.join(",")
            )],
        });
    };
    let territory_col = col("territory");
    let fixed = [
        Some(id_col),
        Some(name_col),
        lon_col,
        lat_col,
        territory_col,
        address_col,
    ];
    let names: Vec<Text> = header.iter().map(|h| intern(h)).collect();
    let mut problems = Vec::new();
    let mut unplaced = Vec::new();
    let mut placed = 0;
    let mut accounts = BTreeMap::new();
    let mut overrides = Vec::new();
    let text = text_columns(&bytes, header.len());
    let mut record = csv::StringRecord::new();
    for line in 2.. {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        }
        let get = |c: Option<usize>| {
            c.and_then(|c| record.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let Some(id) = get(Some(id_col)) else {
            problems.push(format!("line {line}: empty account id"));
            continue;
        };
        let location = match (get(lon_col), get(lat_col), get(address_col)) {
            (None, None, Some(address)) => match place(address) {
                Ok(point) => {
                    placed += 1;
                    Some(point)
                }
                Err(why) => {
                    unplaced.push(format!("line {line}: account '{id}' not placed: {why}"));
                    continue;
                }
            },
            (None, None, None) => {
                problems.push(format!(
                    "line {line}: account '{id}' has no lon/lat and no address"
                ));
                None
            }
            (lon, lat, _) => {
                let lon = number("lon", lon.unwrap_or(""), line, &mut problems);
                let lat = number("lat", lat.unwrap_or(""), line, &mut problems);
                lon.zip(lat)
            }
        };
        let mut metrics = FieldMap::default();
        let mut attributes = FieldMap::default();
        for (i, name) in names.iter().enumerate() {
            if fixed.contains(&Some(i)) {
                continue;
            }
            let Some(value) = get(Some(i)) else { continue };
            if text[i] {
                attributes.insert_shared(name, intern(value));
            } else if let Some(v) = number(name, value, line, &mut problems) {
                metrics.insert_shared(name, v);
            }
        }
        if let Some((lon, lat)) = location {
            accounts.insert(
                id.to_owned(),
                Arc::new(AccountRecord {
                    name: get(Some(name_col)).unwrap_or(id).to_owned(),
                    lon,
                    lat,
                    metrics,
                    attributes,
                }),
            );
        }
        if let Some(territory) = get(territory_col) {
            overrides.push(Op::OverrideAccount {
                account: id.to_owned(),
                territory: Some(territory.to_owned()),
            });
        }
    }
    if !unplaced.is_empty() && !skip_unplaced {
        problems.append(&mut unplaced.clone());
        problems.push(format!(
            "{} account(s) could not be placed; nothing imported (skip them with --skip-unplaced)",
            unplaced.len()
        ));
    }
    if !problems.is_empty() {
        return Err(SheetError { problems });
    }
    let mut ops = vec![Op::UpsertAccounts { accounts }];
    ops.extend(overrides);
    Ok(AccountImport {
        ops,
        placed,
        unplaced,
    })
}

//! Reps and accounts from CSV, turned into change-set operations so that an
//! import is applied (and undone) like any other edit.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::ops::{AccountRecord, Op, RepRecord};
use super::sheet::SheetError;
use super::state::AlignmentState;

fn reader(input: impl Read) -> csv::Reader<impl Read> {
    csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input)
}

fn header(csv: &mut csv::Reader<impl Read>) -> Result<Vec<String>, SheetError> {
    Ok(csv
        .headers()
        .map_err(|e| SheetError {
            problems: vec![format!("header: {e}")],
        })?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect())
}

fn number(field: &str, value: &str, line: usize, problems: &mut Vec<String>) -> Option<f64> {
    match value.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ => {
            problems.push(format!("line {line}: {field} '{value}' is not a number"));
            None
        }
    }
}

/// Reads `id,name,email,lon,lat,territory` (email, lon/lat and territory optional)
/// into operations: upsert the reps, then add each to its territories' reps.
pub fn reps(input: impl Read, state: &AlignmentState) -> Result<Vec<Op>, SheetError> {
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
        if let Some(territory) = get(territory_col) {
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

/// Reads `id,name,lon,lat[,territory][,metric...]` into operations: upsert the
/// accounts, then override the owner of those with a `territory`.
pub fn accounts(input: impl Read, _state: &AlignmentState) -> Result<Vec<Op>, SheetError> {
    let mut csv = reader(input);
    let header = header(&mut csv)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(id_col), Some(name_col), Some(lon_col), Some(lat_col)) =
        (col("id"), col("name"), col("lon"), col("lat"))
    else {
        return Err(SheetError {
            problems: vec![format!(
                "accounts need 'id', 'name', 'lon' and 'lat' columns; header: {}",
                header.join(",")
            )],
        });
    };
    let territory_col = col("territory");
    let fixed = [
        Some(id_col),
        Some(name_col),
        Some(lon_col),
        Some(lat_col),
        territory_col,
    ];
    let mut problems = Vec::new();
    let mut accounts = BTreeMap::new();
    let mut overrides = Vec::new();
    let (records, mut read_problems) = super::sheet::lines(&mut csv);
    problems.append(&mut read_problems);
    for (line, record) in records {
        let get = |c: usize| record.get(c).filter(|v| !v.is_empty());
        let Some(id) = get(id_col) else {
            problems.push(format!("line {line}: empty account id"));
            continue;
        };
        let lon = number("lon", get(lon_col).unwrap_or(""), line, &mut problems);
        let lat = number("lat", get(lat_col).unwrap_or(""), line, &mut problems);
        let mut metrics = BTreeMap::new();
        for (i, name) in header.iter().enumerate() {
            if fixed.contains(&Some(i)) {
                continue;
            }
            if let Some(value) = get(i)
                && let Some(v) = number(name, value, line, &mut problems)
            {
                metrics.insert(name.clone(), v);
            }
        }
        if let (Some(lon), Some(lat)) = (lon, lat) {
            accounts.insert(
                id.to_owned(),
                AccountRecord {
                    name: get(name_col).unwrap_or(id).to_owned(),
                    lon,
                    lat,
                    metrics,
                },
            );
        }
        if let Some(territory) = territory_col.and_then(get) {
            overrides.push(Op::OverrideAccount {
                account: id.to_owned(),
                territory: Some(territory.to_owned()),
            });
        }
    }
    if !problems.is_empty() {
        return Err(SheetError { problems });
    }
    let mut ops = vec![Op::UpsertAccounts { accounts }];
    ops.extend(overrides);
    Ok(ops)
}

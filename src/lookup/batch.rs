//! Batches of points: parsed from CSV (`id,lon,lat`) or a JSON array, looked up
//! on every core in input order, written back as CSV or JSON. A bad row is
//! reported by its number and does not fail the others.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::geom::check;
use crate::snapshot::Snapshot;

/// Most points in one batch.
pub const MAX_BATCH_POINTS: usize = 1_000_000;

/// Why a whole batch was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BatchError(pub String);

impl BatchError {
    fn new(reason: impl ToString) -> BatchError {
        BatchError(reason.to_string())
    }
}

/// One point of a JSON batch.
#[derive(Debug, Deserialize)]
pub struct BatchPoint {
    /// Caller's id, echoed back.
    #[serde(default)]
    pub id: Option<Value>,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
}

/// One parsed row: id, and coordinates or why the row is unusable.
pub type Row = (String, Result<(f64, f64), String>);

/// Where a CSV batch keeps its columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// The `id` column, if any.
    pub id: Option<usize>,
    /// The longitude column.
    pub lon: usize,
    /// The latitude column.
    pub lat: usize,
}

/// Finds the columns in a lower-cased header (`lon`/`lng`/`longitude`/`x`,
/// `lat`/`latitude`/`y`, optional `id`).
pub fn csv_header(header: Vec<String>) -> Result<Columns, BatchError> {
    let col = |n: &[&str]| header.iter().position(|h| n.contains(&h.as_str()));
    let (Some(lon), Some(lat)) = (
        col(&["lon", "lng", "longitude", "x"]),
        col(&["lat", "latitude", "y"]),
    ) else {
        return Err(BatchError::new(format!(
            "CSV needs lon and lat columns (id,lon,lat); header: {}",
            header.join(",")
        )));
    };
    Ok(Columns {
        id: col(&["id"]),
        lon,
        lat,
    })
}

/// Looks up a CSV batch and writes the owners as CSV: unquoted CSV on every core
/// ([`super::batch_csv`]), anything else through the general parser.
pub fn lookup_csv(s: &Snapshot, body: &[u8]) -> Result<Vec<u8>, BatchError> {
    if let Some(out) = super::batch_csv::lookup_unquoted_csv(s, body)? {
        return Ok(out);
    }
    let rows = parse_csv(body)?;
    let owners = resolve(s, &rows);
    Ok(write_csv(s, &rows, &owners))
}

/// A trimming, flexible CSV reader over a batch body and its header, lower-cased.
pub(crate) fn csv_with_header(body: &[u8]) -> Result<(csv::Reader<&[u8]>, Vec<String>), BatchError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(BatchError::new)?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    Ok((reader, header))
}

/// Parses a CSV batch with a header naming `lon` and `lat` (and optionally `id`).
pub fn parse_csv(body: &[u8]) -> Result<Vec<Row>, BatchError> {
    let (mut reader, header) = csv_with_header(body)?;
    let Columns { id, lon, lat } = csv_header(header)?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let parsed = match record {
            Err(e) => (String::new(), Err(format!("row {row}: {e}"))),
            Ok(r) => {
                let id = id.and_then(|c| r.get(c)).unwrap_or("").to_owned();
                let get = |c: usize| r.get(c).unwrap_or("").parse::<f64>();
                let coords = match (get(lon), get(lat)) {
                    (Ok(x), Ok(y)) => check(x, y)
                        .map(|()| (x, y))
                        .map_err(|e| format!("row {row}: {e}")),
                    _ => Err(format!(
                        "row {row}: lon '{}' / lat '{}' are not numbers",
                        r.get(lon).unwrap_or(""),
                        r.get(lat).unwrap_or("")
                    )),
                };
                (id, coords)
            }
        };
        rows.push(parsed);
        if rows.len() > MAX_BATCH_POINTS {
            return Err(BatchError::new(format!("more than {MAX_BATCH_POINTS} points")));
        }
    }
    Ok(rows)
}

/// Parses a JSON array of `{id, lon, lat}`.
pub fn parse_json(body: &[u8]) -> Result<Vec<Row>, BatchError> {
    let values: Vec<Value> = serde_json::from_slice(body).map_err(BatchError::new)?;
    if values.len() > MAX_BATCH_POINTS {
        return Err(BatchError::new(format!("more than {MAX_BATCH_POINTS} points")));
    }
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match serde_json::from_value::<BatchPoint>(v) {
            Ok(p) => {
                let id = match p.id {
                    Some(Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                let coords = check(p.lon, p.lat)
                    .map(|()| (p.lon, p.lat))
                    .map_err(|e| format!("row {}: {e}", i + 1));
                (id, coords)
            }
            Err(e) => (String::new(), Err(format!("row {}: {e}", i + 1))),
        })
        .collect())
}

/// Looks up rows on every core, keeping input order: the unit containing each point.
pub fn resolve(s: &Snapshot, rows: &[Row]) -> Vec<Option<u32>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = rows.len().div_ceil(threads).max(4096);
    let mut out: Vec<Option<u32>> = Vec::with_capacity(rows.len());
    std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(_, coords)| coords.as_ref().ok().and_then(|&(x, y)| s.dataset.unit_at(x, y)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            out.extend(h.join().unwrap_or_default());
        }
    });
    out
}

/// The owner columns of a unit (`unit,territory,district,region,reps,`, and for a
/// placeholder unit its note in the error column), computed once per unit.
pub(crate) struct OwnerCells<'a> {
    s: &'a Snapshot,
    cache: Vec<Option<String>>,
}

impl<'a> OwnerCells<'a> {
    pub(crate) fn new(s: &'a Snapshot) -> OwnerCells<'a> {
        OwnerCells {
            s,
            cache: vec![None; s.dataset.units.len()],
        }
    }

    pub(crate) fn get(&mut self, unit: u32) -> &str {
        let s = self.s;
        self.cache[unit as usize].get_or_insert_with(|| {
            let owner = s.owner_of_unit(unit);
            let mut record = vec![owner.unit];
            for level in &s.state.levels {
                record.push(owner.levels.get(level).cloned().unwrap_or_default());
            }
            record.push(
                owner
                    .reps
                    .iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
            );
            let mut out = Vec::new();
            for field in &record {
                push_field(&mut out, field);
                out.push(b',');
            }
            // A placeholder unit's note goes in the error column, as "in no unit" does.
            if let Some(note) = &owner.note {
                push_field(&mut out, note);
            }
            String::from_utf8(out).unwrap_or_default()
        })
    }
}

/// The header line of a CSV answer: id, lon, lat, unit, one column per level, reps, error.
pub fn output_header(s: &Snapshot) -> String {
    let mut header = String::from("id,lon,lat,unit");
    for level in &s.state.levels {
        header.push(',');
        header.push_str(level);
    }
    header.push_str(",reps,error\n");
    header
}

/// Writes owners as CSV: id, lon, lat, unit, one column per level, reps, error.
pub fn write_csv(s: &Snapshot, rows: &[Row], owners: &[Option<u32>]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(rows.len() * 48);
    out.extend_from_slice(output_header(s).as_bytes());
    let empty_owner = ",".repeat(s.state.levels.len() + 2);
    let mut cells = OwnerCells::new(s);
    for ((id, coords), owner) in rows.iter().zip(owners) {
        push_field(&mut out, id);
        let _ = match coords {
            Ok((lon, lat)) => write!(out, ",{lon},{lat},"),
            Err(_) => write!(out, ",,,"),
        };
        match owner {
            Some(unit) => out.extend_from_slice(cells.get(*unit).as_bytes()),
            None => out.extend_from_slice(empty_owner.as_bytes()),
        }
        match coords {
            Err(e) => push_field(&mut out, e),
            Ok(_) if owner.is_none() => out.extend_from_slice(b"in no unit"),
            Ok(_) => {}
        }
        out.push(b'\n');
    }
    out
}

/// Appends a CSV field, quoted when it has to be (RFC 4180).
pub(crate) fn push_field(out: &mut Vec<u8>, field: &str) {
    if field.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

/// Writes owners as a JSON array.
pub fn write_json(s: &Snapshot, rows: &[Row], owners: &[Option<u32>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 96);
    out.push(b'[');
    for (i, ((id, coords), owner)) in rows.iter().zip(owners).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let value = match (coords, owner) {
            (Err(e), _) => json!({ "id": id, "error": e }),
            (Ok((lon, lat)), None) => json!({ "id": id, "lon": lon, "lat": lat, "found": false }),
            (Ok((lon, lat)), Some(unit)) => {
                let o = s.owner_of_unit(*unit);
                if let Some(note) = &o.note {
                    json!({ "id": id, "lon": lon, "lat": lat, "found": false, "unit": o.unit, "note": note })
                } else {
                    json!({
                    "id": id, "lon": lon, "lat": lat, "found": true, "unit": o.unit, "owner": o.levels,
                    "reps": o.reps.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
                    })
                }
            }
        };
        let _ = serde_json::to_writer(&mut out, &value);
    }
    out.push(b']');
    out
}

/// Looks up a CSV of points and writes the owners as CSV, in chunks, with a
/// progress bar on stderr (the offline `geoalign lookup`). Returns the row count.
pub fn lookup_csv_with_progress(
    s: &Snapshot,
    input: &[u8],
    mut out: impl std::io::Write,
) -> Result<usize, BatchError> {
    let rows = parse_csv(input)?;
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("looking up [{bar:40}] {pos}/{len} ({per_sec})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    for (i, part) in rows.chunks(100_000).enumerate() {
        let owners = resolve(s, part);
        let mut text = write_csv(s, part, &owners);
        if i > 0 {
            // Only the first chunk keeps the header line.
            let body = text.iter().position(|b| *b == b'\n').map_or(0, |p| p + 1);
            text.drain(..body);
        }
        out.write_all(&text)
            .map_err(|e| BatchError::new(format!("writing: {e}")))?;
        bar.inc(part.len() as u64);
    }
    bar.finish_and_clear();
    Ok(rows.len())
}

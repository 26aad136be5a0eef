//! Batches of addresses: parsed from CSV (`id,address`) or a JSON array of
//! `{id, address}`, geocoded by the whole ladder in input order, written back as
//! CSV or JSON in chunks so a server can stream them. A row that cannot be
//! geocoded carries its error (by row number) and does not fail the others.

use std::io::Write;

use serde::Deserialize;
use serde_json::{Value, json};

use super::address::GeocodeError;
use super::batch::{BatchError, csv_with_header, push_field};
use super::geocode::{Country, Geocoded};
use crate::snapshot::Snapshot;
use crate::store::Store;

/// Most addresses in one batch.
pub const MAX_GEOCODE_ROWS: usize = 100_000;

/// One parsed row: id, and the address text or why the row is unusable.
pub type AddressRow = (String, Result<String, String>);

/// One address of a JSON batch.
#[derive(Debug, Deserialize)]
pub struct BatchAddress {
    /// Caller's id, echoed back.
    #[serde(default)]
    pub id: Option<Value>,
    /// Free-text address.
    pub address: String,
}

/// Parses a CSV batch with a header naming `address` (and optionally `id`).
pub fn parse_csv(body: &[u8]) -> Result<Vec<AddressRow>, BatchError> {
    let (mut reader, header) = csv_with_header(body)?;
    let Some(address) = header.iter().position(|h| h == "address") else {
        return Err(BatchError(format!(
            "CSV needs an address column (id,address); header: {}",
            header.join(",")
        )));
    };
    let id = header.iter().position(|h| h == "id");
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        rows.push(match record {
            Err(e) => (String::new(), Err(format!("row {row}: {e}"))),
            Ok(r) => (
                id.and_then(|c| r.get(c)).unwrap_or("").to_owned(),
                checked(row, r.get(address).unwrap_or("")),
            ),
        });
        if rows.len() > MAX_GEOCODE_ROWS {
            return Err(BatchError(format!("more than {MAX_GEOCODE_ROWS} addresses")));
        }
    }
    Ok(rows)
}

fn checked(row: usize, address: &str) -> Result<String, String> {
    if address.trim().is_empty() {
        Err(format!("row {row}: empty address"))
    } else {
        Ok(address.trim().to_owned())
    }
}

/// A JSON id as text: strings as they are, other values as JSON.
fn id_text(id: Option<Value>) -> String {
    id.map_or_else(String::new, |v| {
        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
    })
}

/// Parses a JSON array of `{id, address}`.
pub fn parse_json(body: &[u8]) -> Result<Vec<AddressRow>, BatchError> {
    let values: Vec<Value> = serde_json::from_slice(body).map_err(|e| BatchError(e.to_string()))?;
    if values.len() > MAX_GEOCODE_ROWS {
        return Err(BatchError(format!("more than {MAX_GEOCODE_ROWS} addresses")));
    }
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match serde_json::from_value::<BatchAddress>(v) {
            Ok(a) => (id_text(a.id), checked(i + 1, &a.address)),
            Err(e) => (String::new(), Err(format!("row {}: {e}", i + 1))),
        })
        .collect())
}

/// Geocodes rows in order; `first_row` numbers the errors of a chunk.
pub fn geocode_rows(
    s: &Snapshot,
    store: &Store,
    rows: &[AddressRow],
    first_row: usize,
    country: Country,
) -> Vec<Result<Geocoded, String>> {
    rows.iter()
        .enumerate()
        .map(|(i, (_, address))| {
            let text = address.as_ref().map_err(Clone::clone)?;
            s.geocode_with(store, text, country).map_err(|e| match e {
                GeocodeError::NotFound { .. } => format!("row {}: {e}", first_row + i),
                GeocodeError::Store(e) => format!("row {}: {e}", first_row + i),
            })
        })
        .collect()
}

/// The CSV header line: id, match, lon, lat, unit, one column per level, reps, note, error.
pub fn csv_header(s: &Snapshot) -> Vec<u8> {
    let mut header = String::from("id,match,lon,lat,unit");
    for level in &s.state.levels {
        header.push(',');
        header.push_str(level);
    }
    header.push_str(",reps,note,error\n");
    header.into_bytes()
}

/// Appends result rows as CSV (no header).
pub fn write_csv(s: &Snapshot, rows: &[AddressRow], results: &[Result<Geocoded, String>], out: &mut Vec<u8>) {
    for ((id, _), result) in rows.iter().zip(results) {
        push_field(out, id);
        match result {
            Ok(g) => {
                let level = serde_json::to_value(g.level).ok();
                let _ = write!(
                    out,
                    ",{},{},{},",
                    level.as_ref().and_then(Value::as_str).unwrap_or(""),
                    g.point[0],
                    g.point[1]
                );
                push_field(out, &g.owner.unit);
                for level in &s.state.levels {
                    out.push(b',');
                    push_field(out, g.owner.levels.get(level).map_or("", String::as_str));
                }
                out.push(b',');
                let reps: Vec<&str> = g.owner.reps.iter().map(|r| r.id.as_str()).collect();
                push_field(out, &reps.join(";"));
                out.push(b',');
                push_field(out, g.note.as_deref().unwrap_or(""));
                out.push(b',');
            }
            Err(e) => {
                out.extend_from_slice(",".repeat(s.state.levels.len() + 7).as_bytes());
                push_field(out, e);
            }
        }
        out.push(b'\n');
    }
}

/// Appends result rows as JSON objects, each preceded by a comma unless it is
/// the first of the batch (`first`).
pub fn write_json(rows: &[AddressRow], results: &[Result<Geocoded, String>], first: bool, out: &mut Vec<u8>) {
    for (i, ((id, _), result)) in rows.iter().zip(results).enumerate() {
        if i > 0 || !first {
            out.push(b',');
        }
        let value = match result {
            Ok(g) => json!({
                "id": id, "match": g.level, "lon": g.point[0], "lat": g.point[1], "unit": g.owner.unit,
                "owner": g.owner.levels, "reps": g.owner.reps.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
                "note": g.note,
            }),
            Err(e) => json!({ "id": id, "error": e }),
        };
        let _ = serde_json::to_writer(&mut *out, &value);
    }
}

/// Geocodes a CSV of addresses and writes the results as CSV, in chunks, with a
/// progress bar on stderr (the offline `geoalign geocode`). Returns (rows, matched).
pub fn geocode_csv_with_progress(
    s: &Snapshot,
    store: &Store,
    input: &[u8],
    country: Country,
    mut out: impl Write,
) -> Result<(usize, usize), BatchError> {
    let rows = parse_csv(input)?;
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("geocoding [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut matched = 0;
    let mut text = csv_header(s);
    for (i, part) in rows.chunks(CHUNK).enumerate() {
        let results = geocode_rows(s, store, part, i * CHUNK + 1, country);
        matched += results.iter().filter(|r| r.is_ok()).count();
        write_csv(s, part, &results, &mut text);
        out.write_all(&text)
            .map_err(|e| BatchError(format!("writing: {e}")))?;
        text.clear();
        bar.inc(part.len() as u64);
    }
    bar.finish_and_clear();
    Ok((rows.len(), matched))
}

/// Rows geocoded per chunk (per streamed piece of a response).
pub const CHUNK: usize = 256;

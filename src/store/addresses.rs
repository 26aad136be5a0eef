//! Address points of a dataset (OpenAddresses), grouped by normalised street,
//! with a trigram FTS5 index over street names.

use std::collections::HashMap;

use rusqlite::{Connection, Transaction, params};
use serde::Serialize;

use super::Store;
use crate::store::StoreError;

/// An address point as stored and as a geocode answer names it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AddressPoint {
    /// House number as written (`350`, `37-02`, `12A`).
    pub number: String,
    /// Street as written in the source.
    pub street: String,
    /// Normalised street (see [`crate::text::street::normalize`]).
    pub street_norm: String,
    /// Unit (apartment, suite), often empty.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// City.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub city: String,
    /// District (county, borough).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub district: String,
    /// Region (state, province).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Postal code.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub postcode: String,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
}

/// Most street candidates a fuzzy search returns.
pub const MAX_STREET_CANDIDATES: usize = 40;

impl Store {
    /// Replaces the address points of a dataset in one transaction; `progress` is
    /// told how many rows are stored so far. Returns the number of distinct streets.
    pub fn replace_addresses(
        &self,
        dataset: &str,
        points: &[AddressPoint],
        progress: &dyn Fn(usize),
    ) -> Result<usize, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        let id = self.require_dataset(&tx, dataset)?;
        let streets = write_addresses(&tx, id, points, progress).map_err(|e| self.sqlite_error(e))?;
        tx.commit().map_err(|e| self.sqlite_error(e))?;
        Ok(streets)
    }

    /// Whether a dataset has address points.
    pub fn has_addresses(&self, dataset: &str) -> Result<bool, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM streets s JOIN datasets d ON d.id = s.dataset_id WHERE d.name = ?1)",
                [dataset],
                |r| r.get(0),
            )
            .map_err(|e| self.sqlite_error(e))
        })
    }

    /// Streets of a dataset whose normalised name is `norm` or shares trigrams
    /// with it (best FTS5 rank first), as (street id, normalised name).
    pub fn street_candidates(&self, dataset: &str, norm: &str) -> Result<Vec<(i64, String)>, StoreError> {
        self.read(|conn| street_candidates(conn, dataset, norm).map_err(|e| self.sqlite_error(e)))
    }

    /// The address points of a street.
    pub fn addresses_on(&self, street: i64) -> Result<Vec<AddressPoint>, StoreError> {
        self.read(|conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT a.number, a.street, s.norm, a.unit, a.city, a.district, a.region, a.postcode, a.lon, a.lat
                     FROM addresses a JOIN streets s ON s.id = a.street_id WHERE a.street_id = ?1 ORDER BY a.id",
                )
                .map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([street], |r| {
                    Ok(AddressPoint {
                        number: r.get(0)?,
                        street: r.get(1)?,
                        street_norm: r.get(2)?,
                        unit: r.get(3)?,
                        city: r.get(4)?,
                        district: r.get(5)?,
                        region: r.get(6)?,
                        postcode: r.get(7)?,
                        lon: r.get(8)?,
                        lat: r.get(9)?,
                    })
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| self.sqlite_error(e))?;
            Ok(rows)
        })
    }
}

fn write_addresses(
    tx: &Transaction,
    dataset: i64,
    points: &[AddressPoint],
    progress: &dyn Fn(usize),
) -> rusqlite::Result<usize> {
    tx.execute("DELETE FROM streets WHERE dataset_id = ?1", [dataset])?;
    let mut street = tx.prepare("INSERT INTO streets (dataset_id, norm) VALUES (?1, ?2)")?;
    let mut address = tx.prepare(
        "INSERT INTO addresses (street_id, number, street, unit, city, district, region, postcode, lon, lat)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut ids: HashMap<&str, i64> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        let id = match ids.get(p.street_norm.as_str()) {
            Some(id) => *id,
            None => {
                street.execute(params![dataset, p.street_norm])?;
                let id = tx.last_insert_rowid();
                ids.insert(&p.street_norm, id);
                id
            }
        };
        address.execute(params![
            id, p.number, p.street, p.unit, p.city, p.district, p.region, p.postcode, p.lon, p.lat
        ])?;
        if i % 10_000 == 0 {
            progress(i);
        }
    }
    progress(points.len());
    Ok(ids.len())
}

/// The FTS5 query for a name: any of its trigrams (quoted), so that a misspelt
/// name still shares most of them with the right street.
fn trigram_query(norm: &str) -> Option<String> {
    let chars: Vec<char> = norm.chars().filter(|c| *c != '"').collect();
    let grams: Vec<String> = chars
        .windows(3)
        .map(|w| format!("\"{}\"", w.iter().collect::<String>()))
        .collect();
    (!grams.is_empty()).then(|| grams.join(" OR "))
}

fn street_candidates(conn: &Connection, dataset: &str, norm: &str) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut out: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT s.id, s.norm FROM streets s JOIN datasets d ON d.id = s.dataset_id
             WHERE d.name = ?1 AND s.norm = ?2",
        )?
        .query_map(params![dataset, norm], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let Some(query) = trigram_query(norm) else {
        return Ok(out);
    };
    let fuzzy = conn
        .prepare_cached(
            "SELECT s.id, s.norm FROM streets_fts
             JOIN streets s ON s.id = streets_fts.rowid JOIN datasets d ON d.id = s.dataset_id
             WHERE streets_fts MATCH ?1 AND d.name = ?2 ORDER BY streets_fts.rank LIMIT ?3",
        )?
        .query_map(params![query, dataset, MAX_STREET_CANDIDATES as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<Vec<(i64, String)>>>()?;
    for candidate in fuzzy {
        if !out.contains(&candidate) {
            out.push(candidate);
        }
    }
    Ok(out)
}

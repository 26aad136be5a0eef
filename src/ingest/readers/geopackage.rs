//! GeoPackage feature tables, read with SQLite directly (OGC 12-128r18).

use std::path::Path;

use geo::Geometry;
use geozero::ToGeo;
use geozero::wkb::GpkgWkb;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::{Layer, malformed};
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;
use crate::ingest::crs::CrsDef;

const FORMAT: &str = "GeoPackage";

/// Reads the features of one layer (`layer`, or the only feature table).
pub fn read(path: &Path, layer: Option<&str>) -> Result<Layer, IngestError> {
    let bad = |e: rusqlite::Error| malformed(path, FORMAT, e);
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(bad)?;
    let tables: Vec<String> = conn
        .prepare("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| malformed(path, FORMAT, format!("no gpkg_contents table ({e})")))?;
    let table = match layer {
        Some(name) if tables.iter().any(|t| t == name) => name.to_owned(),
        Some(name) => {
            return Err(IngestError::Layer {
                path: path.to_owned(),
                reason: format!("no feature layer '{name}'; layers: {}", tables.join(", ")),
            });
        }
        None => match tables.as_slice() {
            [only] => only.clone(),
            [] => return Err(malformed(path, FORMAT, "no feature tables")),
            many => {
                return Err(IngestError::Layer {
                    path: path.to_owned(),
                    reason: format!(
                        "{} feature layers, choose one with --layer: {}",
                        many.len(),
                        many.join(", ")
                    ),
                });
            }
        },
    };
    let (geometry_column, srs_id): (String, i64) = conn
        .query_row(
            "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?1",
            [&table],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| {
            malformed(
                path,
                FORMAT,
                format!("layer '{table}' has no geometry column ({e})"),
            )
        })?;
    let crs = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?)),
        )
        .optional()
        .map_err(bad)?
        .and_then(|(org, code, definition)| {
            if org.eq_ignore_ascii_case("EPSG") && code > 0 {
                Some(CrsDef::Epsg(code as u32))
            } else if definition.contains('[') {
                Some(CrsDef::Wkt(definition))
            } else {
                None // srs_id 0 / -1: "undefined geographic / cartesian"
            }
        });
    // Column names come from the schema, not from the statement: rusqlite panics on a
    // result column whose name is not UTF-8, where reading it as text is an error.
    let columns: Vec<(String, bool)> = conn
        .prepare("SELECT name, pk FROM pragma_table_info(?1) ORDER BY cid")
        .and_then(|mut s| {
            s.query_map([&table], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? == 1))
            })?
            .collect()
        })
        .map_err(|e| malformed(path, FORMAT, format!("layer '{table}': unreadable columns ({e})")))?;
    if columns.is_empty() {
        return Err(malformed(path, FORMAT, format!("layer '{table}' has no table")));
    }
    let quoted = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    let primary_key = columns.iter().find(|(_, pk)| *pk).map(|(name, _)| name.clone());
    let names: Vec<String> = columns.into_iter().map(|(name, _)| name).collect();
    let select: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    let mut statement = conn
        .prepare(&format!("SELECT {} FROM {}", select.join(", "), quoted(&table)))
        .map_err(bad)?;
    let fields: Vec<String> = names
        .iter()
        .filter(|n| **n != geometry_column && Some(*n) != primary_key.as_ref())
        .cloned()
        .collect();
    let mut rows = statement.query([]).map_err(bad)?;
    let mut features = Vec::new();
    while let Some(row) = rows.next().map_err(bad)? {
        let mut raw = RawFeature::new(features.len(), Properties::default(), None);
        for (i, name) in names.iter().enumerate() {
            let value = row.get_ref(i).map_err(bad)?;
            if *name == geometry_column {
                match value {
                    ValueRef::Blob(blob) => match geometry(blob) {
                        Ok(g) => raw.geometry = g,
                        Err(reason) => raw.defect = Some(reason),
                    },
                    ValueRef::Null => {}
                    _ => raw.defect = Some("geometry column is not a blob".into()),
                }
                continue;
            }
            if Some(name) == primary_key.as_ref() {
                continue;
            }
            match value {
                ValueRef::Integer(v) => raw.properties.number(name, v as f64),
                ValueRef::Real(v) => raw.properties.number(name, v),
                ValueRef::Text(t) => raw.properties.text(name, String::from_utf8_lossy(t)),
                ValueRef::Null | ValueRef::Blob(_) => {}
            }
        }
        features.push(raw);
    }
    Ok(Layer {
        format: FORMAT,
        crs,
        features,
        fields,
        reprojected_from: None,
    })
}

/// Flags of the GeoPackage binary header that geozero's reader does not act on.
const EMPTY: u8 = 0b0001_0000;
const EXTENDED: u8 = 0b0010_0000;

/// Decodes a GeoPackage binary geometry (header, envelope, WKB) with geozero; a header
/// flagged empty is no geometry, extended (vendor) geometry types are refused.
fn geometry(blob: &[u8]) -> Result<Option<Geometry<f64>>, String> {
    let [b'G', b'P', _, flags, ..] = *blob else {
        return Err("geometry blob lacks the GeoPackage 'GP' header".into());
    };
    if flags & EXTENDED != 0 {
        return Err("extended GeoPackage geometry types are not supported".into());
    }
    if flags & EMPTY != 0 {
        return Ok(None);
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("geometry blob has envelope code {other} (expected 0-4)")),
    };
    let wkb = blob
        .get(8 + envelope..)
        .ok_or("geometry blob ends inside its header")?;
    super::wkb_check::check(wkb).map_err(|e| format!("invalid GeoPackage geometry: {e}"))?;
    GpkgWkb(blob)
        .to_geo()
        .map(Some)
        .map_err(|e| format!("invalid GeoPackage geometry: {e}"))
}

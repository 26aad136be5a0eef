//! CSV with lon/lat columns (points) or a WKT column (any geometry).

use std::path::Path;

use geo::{Coord, Geometry, Point};
use geozero::ToGeo;
use geozero::wkt::Wkt;

use super::{Layer, malformed};
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;

const FORMAT: &str = "CSV";
const LON: [&str; 5] = ["lon", "lng", "long", "longitude", "x"];
const LAT: [&str; 3] = ["lat", "latitude", "y"];
const WKT: [&str; 4] = ["wkt", "geometry", "geom", "the_geom"];

enum Columns {
    LonLat(usize, usize),
    Wkt(usize),
}

/// Reads a CSV with a header. Numeric columns (every value a number and no
/// zero-padded codes such as `06001`) become metrics, the rest attributes.
pub fn read(path: &Path) -> Result<Layer, IngestError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| malformed(path, FORMAT, e))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| malformed(path, FORMAT, e))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.contains(&h.to_ascii_lowercase().as_str()))
    };
    let columns = match (find(&LON), find(&LAT), find(&WKT)) {
        (_, _, Some(w)) => Columns::Wkt(w),
        (Some(x), Some(y), None) => Columns::LonLat(x, y),
        _ => {
            return Err(malformed(
                path,
                FORMAT,
                format!("no lon/lat or WKT column; header: {}", header.join(",")),
            ));
        }
    };
    let records: Vec<::csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| malformed(path, FORMAT, e))?;
    let geometry_columns: Vec<usize> = match columns {
        Columns::LonLat(x, y) => vec![x, y],
        Columns::Wkt(w) => vec![w],
    };
    let numeric: Vec<bool> = (0..header.len())
        .map(|i| {
            !geometry_columns.contains(&i)
                && records.iter().all(|r| {
                    let v = r.get(i).unwrap_or("").trim();
                    v.is_empty() || (v.parse::<f64>().is_ok() && !is_zero_padded(v))
                })
        })
        .collect();
    let mut features = Vec::with_capacity(records.len());
    for (index, record) in records.iter().enumerate() {
        let mut properties = Properties::default();
        for (i, name) in header.iter().enumerate() {
            let value = record.get(i).unwrap_or("").trim();
            if geometry_columns.contains(&i) || value.is_empty() {
                continue;
            }
            match value.parse::<f64>() {
                Ok(v) if numeric[i] => properties.number(name, v),
                _ => properties.text(name, value),
            }
        }
        let mut raw = RawFeature::new(index, properties, None);
        // Line numbers count the header as line 1.
        let line = index + 2;
        match &columns {
            Columns::LonLat(x, y) => {
                let lon = record.get(*x).unwrap_or("").trim();
                let lat = record.get(*y).unwrap_or("").trim();
                match (lon.parse::<f64>(), lat.parse::<f64>()) {
                    (Ok(x), Ok(y)) => raw.geometry = Some(Geometry::Point(Point(Coord { x, y }))),
                    _ if lon.is_empty() && lat.is_empty() => {}
                    _ => raw.defect = Some(format!("line {line}: lon '{lon}' / lat '{lat}' are not numbers")),
                }
            }
            Columns::Wkt(w) => {
                let text = record.get(*w).unwrap_or("").trim();
                if !text.is_empty() {
                    match Wkt(text).to_geo() {
                        Ok(g) => raw.geometry = Some(g),
                        Err(e) => raw.defect = Some(format!("line {line}: invalid WKT: {e}")),
                    }
                }
            }
        }
        features.push(raw);
    }
    let fields = header
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !geometry_columns.contains(i))
        .map(|(_, h)| h)
        .collect();
    Ok(Layer {
        format: FORMAT,
        crs: None,
        features,
        fields,
        reprojected_from: None,
    })
}

/// `06001` is a code, not the number 6001.
fn is_zero_padded(value: &str) -> bool {
    let digits = value.trim_start_matches(['-', '+']);
    digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.")
}

//! ESRI Shapefile (.shp + .shx + .dbf), with the CRS from its .prj.

use std::path::Path;

use shapefile::dbase::FieldValue;
use shapefile::{Reader, Shape};

use super::{Layer, malformed};
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;
use crate::ingest::crs::CrsDef;

const FORMAT: &str = "Shapefile";

/// The fixed part of a dBASE header (32 bytes and the 0x0D that ends the field list),
/// and the backlink a Visual FoxPro table has after it.
const DBF_FIXED: usize = 33;
const DBF_BACKLINK: usize = 263;

/// Refuses a `.dbf` whose header length cannot hold its fixed part or whose fields run
/// past the end of the file, before the `dbase` crate reads it: it subtracts without a
/// check there (a panic, or four billion fields to allocate; found by
/// `fuzz/fuzz_targets/shapefile.rs`). A missing `.dbf` is left to the reader's error.
fn check_dbf_header(dbf: &Path) -> Result<(), String> {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(dbf) else {
        return Ok(());
    };
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut head = [0u8; 12];
    file.read_exact(&mut head)
        .map_err(|_| format!("{}: shorter than a dBASE header", dbf.display()))?;
    let header_length = usize::from(u16::from_le_bytes([head[8], head[9]]));
    let fixed = if matches!(head[0], 0x30..=0x32) {
        DBF_FIXED + DBF_BACKLINK
    } else {
        DBF_FIXED
    };
    if header_length < fixed || header_length as u64 > length {
        return Err(format!(
            "{}: the dBASE header says it is {header_length} bytes; it must be at least {fixed} \
             and at most the file's {length}",
            dbf.display()
        ));
    }
    Ok(())
}

/// Reads every shape and its record; the `.prj` beside the file gives the CRS.
pub fn read(path: &Path) -> Result<Layer, IngestError> {
    let crs = match std::fs::read_to_string(path.with_extension("prj")) {
        Ok(wkt) if !wkt.trim().is_empty() => Some(CrsDef::Wkt(wkt.trim().to_owned())),
        _ => None,
    };
    check_dbf_header(&path.with_extension("dbf")).map_err(|e| malformed(path, FORMAT, e))?;
    let mut reader = Reader::from_path(path).map_err(|e| malformed(path, FORMAT, e))?;
    let mut features = Vec::new();
    let mut fields = Vec::new();
    for (index, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = item.map_err(|e| malformed(path, FORMAT, format!("record {index}: {e}")))?;
        let mut properties = Properties::default();
        for (name, value) in record {
            if index == 0 {
                fields.push(name.clone());
            }
            match value {
                FieldValue::Character(Some(s)) | FieldValue::Memo(s) => properties.text(&name, s.trim()),
                FieldValue::Numeric(Some(v)) | FieldValue::Double(v) | FieldValue::Currency(v) => {
                    properties.number(&name, v)
                }
                FieldValue::Float(Some(v)) => properties.number(&name, f64::from(v)),
                FieldValue::Integer(v) => properties.number(&name, f64::from(v)),
                FieldValue::Logical(Some(v)) => properties.text(&name, v.to_string()),
                FieldValue::Date(Some(d)) => properties.text(&name, d.to_string()),
                _ => {}
            }
        }
        let mut raw = RawFeature::new(index, properties, None);
        if !matches!(shape, Shape::NullShape) {
            match geo::Geometry::<f64>::try_from(shape) {
                Ok(geometry) => raw.geometry = Some(geometry),
                Err(e) => raw.defect = Some(format!("unreadable shape: {e:?}")),
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

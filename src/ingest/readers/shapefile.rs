//! ESRI Shapefile (.shp + .shx + .dbf), with the CRS from its .prj.

use std::path::Path;

use shapefile::dbase::FieldValue;
use shapefile::{Reader, Shape};

use super::{Layer, malformed};
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;
use crate::ingest::crs::CrsDef;

const FORMAT: &str = "Shapefile";

/// Reads every shape and its record; the `.prj` beside the file gives the CRS.
pub fn read(path: &Path) -> Result<Layer, IngestError> {
    let crs = match std::fs::read_to_string(path.with_extension("prj")) {
        Ok(wkt) if !wkt.trim().is_empty() => Some(CrsDef::Wkt(wkt.trim().to_owned())),
        _ => None,
    };
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

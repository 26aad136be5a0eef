//! FlatGeobuf, with the CRS from its header.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use flatgeobuf::{FallibleStreamingIterator, FgbReader};
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};

use super::{Layer, malformed};
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;
use crate::ingest::crs::CrsDef;

const FORMAT: &str = "FlatGeobuf";

/// Reads every feature of a FlatGeobuf file.
pub fn read(path: &Path) -> Result<Layer, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Open {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let fgb = FgbReader::open(&mut reader).map_err(|e| malformed(path, FORMAT, e))?;
    let header = fgb.header();
    let crs = header.crs().and_then(|crs| {
        let code = crs.code();
        let org = crs.org().unwrap_or("EPSG");
        if code > 0 && org.eq_ignore_ascii_case("EPSG") {
            Some(CrsDef::Epsg(code as u32))
        } else {
            crs.wkt().map(|wkt| CrsDef::Wkt(wkt.to_owned()))
        }
    });
    let fields: Vec<String> = header
        .columns()
        .map(|columns| columns.iter().map(|c| c.name().to_owned()).collect())
        .unwrap_or_default();
    let capacity = usize::try_from(header.features_count()).unwrap_or(0);
    let mut iter = fgb.select_all_seq().map_err(|e| malformed(path, FORMAT, e))?;
    let mut features = Vec::with_capacity(capacity);
    let mut index = 0;
    while let Some(feature) = iter.next().map_err(|e| malformed(path, FORMAT, e))? {
        let mut collector = Collector(Properties::default());
        let mut raw = RawFeature::new(index, Properties::default(), None);
        if let Err(e) = feature.process_properties(&mut collector) {
            raw.defect = Some(format!("unreadable properties: {e}"));
        }
        raw.properties = collector.0;
        match feature.to_geo() {
            Ok(geometry) => raw.geometry = Some(geometry),
            Err(e) => raw.defect = Some(format!("unreadable geometry: {e}")),
        }
        features.push(raw);
        index += 1;
    }
    Ok(Layer {
        format: FORMAT,
        crs,
        features,
        fields,
        reprojected_from: None,
    })
}

/// Sorts typed column values into metrics and attributes.
pub(crate) struct Collector(pub(crate) Properties);

impl PropertyProcessor for Collector {
    fn property(&mut self, _idx: usize, name: &str, value: &ColumnValue) -> geozero::error::Result<bool> {
        let p = &mut self.0;
        match value {
            ColumnValue::Byte(v) => p.number(name, f64::from(*v)),
            ColumnValue::UByte(v) => p.number(name, f64::from(*v)),
            ColumnValue::Short(v) => p.number(name, f64::from(*v)),
            ColumnValue::UShort(v) => p.number(name, f64::from(*v)),
            ColumnValue::Int(v) => p.number(name, f64::from(*v)),
            ColumnValue::UInt(v) => p.number(name, f64::from(*v)),
            ColumnValue::Long(v) => p.number(name, *v as f64),
            ColumnValue::ULong(v) => p.number(name, *v as f64),
            ColumnValue::Float(v) => p.number(name, f64::from(*v)),
            ColumnValue::Double(v) => p.number(name, *v),
            ColumnValue::Bool(v) => p.text(name, v.to_string()),
            ColumnValue::String(v) | ColumnValue::Json(v) | ColumnValue::DateTime(v) => p.text(name, *v),
            ColumnValue::Binary(_) => {}
        }
        Ok(false)
    }
}

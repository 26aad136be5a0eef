//! FlatGeobuf, with the CRS from its header.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use flatgeobuf::{FallibleStreamingIterator, FgbReader, GeometryType};
use geozero::{ColumnValue, FeatureProperties, PropertyProcessor, ToGeo};

use super::{Layer, malformed};
use crate::feature::{Properties, RawFeature};
use crate::ingest::IngestError;
use crate::ingest::crs::CrsDef;

const FORMAT: &str = "FlatGeobuf";

/// Walks the size prefixes of the features (4 bytes read per feature) and refuses a
/// file whose feature runs past its end, before the `flatgeobuf` crate reads it: that
/// allocates each feature's declared size, so a forged prefix would take up to 4 GiB
/// (found by `fuzz/fuzz_targets/flatgeobuf.rs`).
fn check_feature_sizes(path: &Path, count: u64, node_size: u16, file_length: u64) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = BufReader::with_capacity(1 << 16, File::open(path).map_err(|e| e.to_string())?);
    let mut word = [0u8; 4];
    file.seek(SeekFrom::Start(8)).map_err(|e| e.to_string())?;
    file.read_exact(&mut word).map_err(|e| e.to_string())?;
    let index = if node_size > 0 && count > 0 {
        let items = usize::try_from(count).map_err(|_| format!("{count} features"))?;
        if count > file_length {
            return Err(format!(
                "the header claims {count} features in {file_length} bytes"
            ));
        }
        flatgeobuf::packed_r_tree::PackedRTree::index_size(items, node_size) as u64
    } else {
        0
    };
    let mut at = 12 + u64::from(u32::from_le_bytes(word)) + index;
    file.seek(SeekFrom::Start(at)).map_err(|e| e.to_string())?;
    let mut feature = 0u64;
    while at < file_length {
        if file.read_exact(&mut word).is_err() {
            return Err(format!(
                "feature {feature} at byte {at}: the file ends inside its size"
            ));
        }
        let size = u64::from(u32::from_le_bytes(word));
        if at + 4 + size > file_length {
            return Err(format!(
                "feature {feature} at byte {at} says it is {size} bytes; only {} follow",
                file_length - at - 4
            ));
        }
        // Within the buffer when the feature is small: no system call.
        file.seek_relative(size as i64).map_err(|e| e.to_string())?;
        at += 4 + size;
        feature += 1;
    }
    Ok(())
}

/// Walks a feature's property buffer as the `flatgeobuf` crate will, checking each value
/// against the bytes left: the crate slices without a check (a panic on a forged length;
/// found by `fuzz/fuzz_targets/flatgeobuf.rs`).
fn check_properties(bytes: &[u8], columns: &[flatgeobuf::ColumnType]) -> Result<(), String> {
    use flatgeobuf::ColumnType as T;
    let word = |at: usize| -> Option<usize> {
        let b = bytes.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let mut at = 0;
    while at + 1 < bytes.len() {
        let column = usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
        at += 2;
        let Some(kind) = columns.get(column) else {
            return Err(format!(
                "property of column {column}; the header has {}",
                columns.len()
            ));
        };
        let size = match *kind {
            T::Byte | T::UByte | T::Bool => Some(1),
            T::Short | T::UShort => Some(2),
            T::Int | T::UInt | T::Float => Some(4),
            T::Long | T::ULong | T::Double => Some(8),
            T::String | T::Json | T::DateTime | T::Binary => word(at).map(|n| n.saturating_add(4)),
            _ => return Err(format!("column {column} has an unknown type")),
        };
        match size.and_then(|n| at.checked_add(n)) {
            Some(end) if end <= bytes.len() => at = end,
            _ => {
                return Err(format!(
                    "property of column {column} runs past the feature's {} bytes",
                    bytes.len()
                ));
            }
        }
    }
    Ok(())
}

/// Checks that a geometry's ring and part ends, and its z and m arrays, stay within its
/// coordinates, and that a point has one: the crate indexes them without a check (a
/// panic on a forged end, or on a point of no coordinates; both found by
/// `fuzz/fuzz_targets/flatgeobuf.rs`). `kind` is the type the crate reads it as: the
/// header's, or when that is `Unknown` the geometry's own (as for collection parts).
fn check_geometry(geometry: &flatgeobuf::Geometry, kind: GeometryType, depth: usize) -> Result<(), String> {
    if depth > 32 {
        return Err("geometry parts nested deeper than 32".into());
    }
    let kind = if kind == GeometryType::Unknown {
        geometry.type_()
    } else {
        kind
    };
    let coordinates = geometry.xy().map_or(0, |xy| xy.len());
    if !coordinates.is_multiple_of(2) {
        return Err(format!("{coordinates} xy values: not pairs"));
    }
    let points = coordinates / 2;
    if kind == GeometryType::Point && points == 0 {
        return Err("a point without coordinates".into());
    }
    for (name, values) in [
        ("z", geometry.z().map(|v| v.len())),
        ("m", geometry.m().map(|v| v.len())),
    ] {
        if let Some(n) = values
            && n != 0
            && n < points
        {
            return Err(format!("{n} {name} values for {points} points"));
        }
    }
    if let Some(ends) = geometry.ends() {
        let mut previous = 0;
        for end in ends.iter() {
            let end = end as usize;
            if end < previous || end > points {
                return Err(format!("a ring ends at point {end} of {points}"));
            }
            previous = end;
        }
    }
    if let Some(parts) = geometry.parts() {
        for part in parts.iter() {
            check_geometry(&part, GeometryType::Unknown, depth + 1)?;
        }
    }
    Ok(())
}

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
    // The header's count is the file's word: reserve no more than its bytes could hold
    // (a feature takes at least 8), or a forged count would reserve terabytes.
    let file_length = std::fs::metadata(path).map_or(0, |m| m.len());
    let column_types: Vec<flatgeobuf::ColumnType> = header
        .columns()
        .map(|columns| columns.iter().map(|c| c.type_()).collect())
        .unwrap_or_default();
    let capacity = usize::try_from(header.features_count().min(file_length / 8)).unwrap_or(0);
    let header_kind = header.geometry_type();
    check_feature_sizes(
        path,
        header.features_count(),
        header.index_node_size(),
        file_length,
    )
    .map_err(|e| malformed(path, FORMAT, e))?;
    let mut iter = fgb.select_all_seq().map_err(|e| malformed(path, FORMAT, e))?;
    let mut features = Vec::with_capacity(capacity);
    let mut index = 0;
    while let Some(feature) = iter.next().map_err(|e| malformed(path, FORMAT, e))? {
        let mut collector = Collector(Properties::default());
        let mut raw = RawFeature::new(index, Properties::default(), None);
        let properties = feature
            .fbs_feature()
            .properties()
            .map(|p| p.bytes())
            .unwrap_or_default();
        if let Err(e) = check_properties(properties, &column_types) {
            raw.defect = Some(format!("unreadable properties: {e}"));
        } else if let Err(e) = feature.process_properties(&mut collector) {
            raw.defect = Some(format!("unreadable properties: {e}"));
        }
        raw.properties = collector.0;
        let checked = match feature.fbs_feature().geometry() {
            Some(geometry) => check_geometry(&geometry, header_kind, 0),
            None => Ok(()),
        };
        if let Err(e) = checked {
            raw.defect = Some(format!("unreadable geometry: {e}"));
        } else {
            match feature.to_geo() {
                Ok(geometry) => raw.geometry = Some(geometry),
                Err(e) => raw.defect = Some(format!("unreadable geometry: {e}")),
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use flatgeobuf::{Geometry, GeometryArgs};

    fn geometry(
        xy: &[f64],
        ends: &[u32],
        check: impl Fn(&Geometry) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut builder = flatbuffers::FlatBufferBuilder::new();
        let xy = builder.create_vector(xy);
        let ends = builder.create_vector(ends);
        let args = GeometryArgs {
            xy: Some(xy),
            ends: Some(ends),
            ..GeometryArgs::default()
        };
        let root = Geometry::create(&mut builder, &args);
        builder.finish(root, None);
        let geometry = flatbuffers::root::<Geometry>(builder.finished_data()).expect("valid buffer");
        check(&geometry)
    }

    #[test]
    fn ring_ends_past_the_coordinates_are_refused() {
        let square = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        assert_eq!(
            geometry(&square, &[4], |g| check_geometry(g, GeometryType::Polygon, 0)),
            Ok(())
        );
        let forged = geometry(&square, &[9], |g| check_geometry(g, GeometryType::Polygon, 0)).unwrap_err();
        assert_eq!(forged, "a ring ends at point 9 of 4");
        let odd = geometry(&square[..7], &[], |g| check_geometry(g, GeometryType::Polygon, 0)).unwrap_err();
        assert!(odd.contains("not pairs"), "{odd}");
        // A point of no coordinates.
        let empty = geometry(&[], &[], |g| check_geometry(g, GeometryType::Point, 0)).unwrap_err();
        assert_eq!(empty, "a point without coordinates");
        assert_eq!(
            geometry(&[1.0, 2.0], &[], |g| check_geometry(g, GeometryType::Point, 0)),
            Ok(())
        );
    }

    #[test]
    fn property_values_past_the_buffer_are_refused() {
        use flatgeobuf::ColumnType;
        let columns = [ColumnType::Int, ColumnType::String];
        // Column 0 = 7, column 1 = "ab".
        let good = [0, 0, 7, 0, 0, 0, 1, 0, 2, 0, 0, 0, b'a', b'b'];
        assert_eq!(check_properties(&good, &columns), Ok(()));
        let mut long = good;
        long[8] = 0xff;
        assert!(
            check_properties(&long, &columns)
                .unwrap_err()
                .contains("runs past")
        );
        assert!(
            check_properties(&[5, 0, 1], &columns)
                .unwrap_err()
                .contains("column 5")
        );
    }
}

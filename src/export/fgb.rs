//! FlatGeobuf: packed Hilbert R-tree index, EPSG:4326 in the header, so GDAL's
//! `/vsicurl/` and flatgeobuf's HTTP readers fetch only the index and the features
//! in a bbox. Features are spooled by the writer to a temporary file, then sorted.

use std::io::Write;

use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
use geozero::{ColumnValue, PropertyProcessor};

use super::{ColumnKind, ExportError, Field, GeometryKind, Layer, Progress};

fn column_type(kind: ColumnKind) -> ColumnType {
    match kind {
        ColumnKind::Text => ColumnType::String,
        ColumnKind::Real => ColumnType::Double,
        ColumnKind::Integer => ColumnType::Long,
        ColumnKind::Bool => ColumnType::Bool,
    }
}

/// Writes `layer` as FlatGeobuf to `out`. Features without geometry are left out.
pub fn write(layer: &Layer, out: &mut dyn Write, progress: Progress) -> Result<(), ExportError> {
    let fgb = |e: flatgeobuf::Error| ExportError::Fgb(e.to_string());
    let name = layer.name();
    let description = format!(
        "geoalign alignment '{}' revision {}, level {}",
        layer.snapshot.alignment,
        layer.snapshot.revision,
        layer.level.name(layer.snapshot)
    );
    let geometry_type = match layer.geometry_kind {
        GeometryKind::MultiPolygon => GeometryType::MultiPolygon,
        GeometryKind::Mixed => GeometryType::Unknown,
        GeometryKind::Point => GeometryType::Point,
    };
    let options = FgbWriterOptions {
        write_index: true,
        detect_type: false,
        promote_to_multi: false,
        crs: FgbCrs {
            org: Some("EPSG"),
            code: 4326,
            ..Default::default()
        },
        description: Some(&description),
        ..Default::default()
    };
    let mut writer = FgbWriter::create_with_options(&name, geometry_type, options).map_err(fgb)?;
    for column in &layer.columns {
        writer.add_column(&column.name, column_type(column.kind), |_, c| c.nullable = true);
    }
    let mut skipped = 0usize;
    for (n, record) in layer.records().enumerate() {
        let Some(geometry) = record.geometry else {
            skipped += 1;
            continue;
        };
        let mut failed = None;
        writer
            .add_feature_geom(geometry, |feature| {
                for (i, (field, column)) in record.fields.iter().zip(&layer.columns).enumerate() {
                    let value = match field {
                        Field::Null => continue,
                        Field::Text(s) => ColumnValue::String(s),
                        Field::Real(v) => ColumnValue::Double(*v),
                        Field::Integer(v) => ColumnValue::Long(*v),
                        Field::Bool(v) => ColumnValue::Bool(*v),
                    };
                    if let Err(e) = feature.property(i, &column.name, &value) {
                        failed = Some(e.to_string());
                    }
                }
            })
            .map_err(|e| ExportError::Geometry {
                id: record.id.clone(),
                reason: e.to_string(),
            })?;
        if let Some(reason) = failed {
            return Err(ExportError::Geometry {
                id: record.id,
                reason,
            });
        }
        if n % 1024 == 0 {
            progress(n);
        }
    }
    if skipped > 0 {
        tracing::warn!(layer = %name, skipped, "features without geometry left out of the FlatGeobuf");
    }
    writer.write(out).map_err(fgb)?;
    progress(layer.len());
    Ok(())
}

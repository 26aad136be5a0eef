//! CSV without geometry. At the unit level the first columns are the alignment
//! sheet (`unit_id`, one column per level, `rep`), so `align import` reads it back.
//! Its column types go beside it in GDAL's `.csvt` sidecar ([`write_types`]), so GIS
//! tools read integers as integers instead of guessing (or reading everything as text).

use std::io::Write;

use super::{ColumnKind, ExportError, Field, Layer, Progress};

/// Writes the `.csvt` line of `layer`'s CSV: each column's GDAL type (`String`,
/// `Integer64`, `Real`, `Integer(Boolean)`), in column order.
pub fn write_types(layer: &Layer, out: &mut dyn Write) -> Result<(), ExportError> {
    let types: Vec<&str> = layer
        .columns
        .iter()
        .map(|c| match c.kind {
            ColumnKind::Text => "String",
            ColumnKind::Integer => "Integer64",
            ColumnKind::Real => "Real",
            ColumnKind::Bool => "Integer(Boolean)",
        })
        .collect();
    writeln!(out, "{}", types.join(",")).map_err(super::io_error("csvt"))
}

/// Writes `layer`'s attributes as CSV to `out`.
pub fn write(layer: &Layer, out: &mut dyn Write, progress: Progress) -> Result<(), ExportError> {
    let mut csv = ::csv::Writer::from_writer(out);
    csv.write_record(layer.columns.iter().map(|c| c.name.as_str()))?;
    let mut row: Vec<String> = Vec::with_capacity(layer.columns.len());
    for (n, record) in layer.records().enumerate() {
        row.clear();
        row.extend(record.fields.iter().map(|f| match f {
            Field::Null => String::new(),
            Field::Text(s) => s.clone(),
            Field::Real(v) => v.to_string(),
            Field::Integer(v) => v.to_string(),
            Field::Bool(v) => v.to_string(),
        }));
        csv.write_record(&row)?;
        if n % 1024 == 0 {
            progress(n);
        }
    }
    csv.flush().map_err(super::io_error("csv"))?;
    progress(layer.len());
    Ok(())
}

//! CSV without geometry. At the unit level the first columns are the alignment
//! sheet (`unit_id`, one column per level, `rep`), so `align import` reads it back.

use std::io::Write;

use super::{ExportError, Field, Layer, Progress};

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

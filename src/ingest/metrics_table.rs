//! Unit metrics from another table (`geoalign metrics import FILE.csv --dataset D
//! --id-field zip`): demographic and market columns (median income, age bands, market
//! potential) joined to the dataset's units by id and stored in one transaction,
//! replacing earlier values of the same columns. Numbers are metrics, text cells
//! attributes; a column named like an average or a code is not summed (as at ingest,
//! [`super::roles`]) unless `--metric`, or is averaged with `--mean-weighted-by`.
//! Ids are normalised as sheets' are (`6001` and `06001-1234` are unit `06001`); rows
//! whose id is no unit are reported by line and skipped; a bad cell fails the import.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use super::MetricsError;
use super::roles::{self, FieldRoles, RoleChoices};
use crate::align::units::UnitIndex;
use crate::feature::{Properties, RawFeature};
use crate::store::Store;

/// Most bad rows listed in an error, and unknown ids in a report.
pub const MAX_REPORTED: usize = 20;

/// Cells that mean "no value".
const MISSING: [&str; 5] = ["", "na", "n/a", "null", "-"];

/// What to import.
#[derive(Debug, Clone)]
pub struct MetricsImport {
    /// The CSV file.
    pub path: PathBuf,
    /// The dataset whose units the rows describe.
    pub dataset: String,
    /// The column holding the unit id.
    pub id_field: String,
    /// Which columns are summed, kept as attributes, or averaged.
    pub choices: RoleChoices,
}

/// What an import stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsReport {
    /// Source file.
    pub path: PathBuf,
    /// Dataset.
    pub dataset: String,
    /// Data rows read.
    pub rows: usize,
    /// Units given values.
    pub units: usize,
    /// Units of the dataset the file has no row for (their values of these columns are gone).
    pub units_without_row: usize,
    /// Rows whose id is no unit: (line, id), the first [`MAX_REPORTED`].
    pub unknown: Vec<(usize, String)>,
    /// How many rows had an unknown id.
    pub unknown_count: usize,
    /// The role of each column.
    pub roles: FieldRoles,
    /// Text columns (attributes).
    pub text: Vec<String>,
}

impl fmt::Display for MetricsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} rows, {} units of '{}' given values ({} without a row)",
            self.path.display(),
            self.rows,
            self.units,
            self.dataset,
            self.units_without_row
        )?;
        writeln!(f, "  {}", self.roles)?;
        if !self.text.is_empty() {
            writeln!(f, "  text attributes: {}", self.text.join(", "))?;
        }
        if self.unknown_count > 0 {
            let shown: Vec<String> = (self.unknown.iter())
                .map(|(line, id)| format!("line {line}: {id}"))
                .collect();
            let more = self.unknown_count - self.unknown.len();
            writeln!(
                f,
                "  {} rows name no unit, skipped: {}{}",
                self.unknown_count,
                shown.join("; "),
                if more > 0 {
                    format!("; {more} more")
                } else {
                    String::new()
                }
            )?;
        }
        Ok(())
    }
}

/// One parsed row: its line and the unit it describes.
struct Row {
    line: usize,
    unit: u32,
}

/// Reads the table, joins it to the dataset's units and stores its columns.
pub fn import(store: &Store, options: &MetricsImport) -> Result<MetricsReport, MetricsError> {
    let path = options.path.as_path();
    let file = std::fs::File::open(path).map_err(|source| MetricsError::Open {
        path: path.to_owned(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(std::io::BufReader::new(file));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad_header(path, &format!("unreadable header ({e})"), &[]))?
        .iter()
        .map(str::to_owned)
        .collect();
    let id_column = (header.iter())
        .position(|h| h.eq_ignore_ascii_case(&options.id_field))
        .ok_or_else(|| bad_header(path, &format!("no id column '{}'", options.id_field), &header))?;
    if header.len() < 2 {
        return Err(bad_header(path, "no column besides the id", &header));
    }
    check_choices(path, &header, id_column, &options.choices)?;

    let info = store.dataset(&options.dataset)?;
    check_weights(path, &header, &info.metrics, &options.choices)?;
    let index = UnitIndex::from_ids(store.unit_codes(&options.dataset)?);
    let code = |unit: u32| index.get(unit).id.clone();
    let mut rows: Vec<Row> = Vec::new();
    let mut features: Vec<RawFeature> = Vec::new();
    let mut seen: HashMap<u32, usize> = HashMap::new();
    let (mut unknown, mut unknown_count, mut bad) = (Vec::new(), 0, Vec::new());
    let mut read = 0;
    for (i, record) in reader.records().enumerate() {
        // The header is line 1.
        let line = i + 2;
        read += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                bad.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let id = record.get(id_column).unwrap_or("");
        let Some(unit) = index.resolve(id) else {
            unknown_count += 1;
            if unknown.len() < MAX_REPORTED {
                unknown.push((line, id.to_owned()));
            }
            continue;
        };
        if let Some(first) = seen.insert(unit, line) {
            bad.push(format!(
                "line {line}: unit {} already on line {first}",
                code(unit)
            ));
            continue;
        }
        let mut properties = Properties::default();
        for (c, (name, cell)) in header.iter().zip(record.iter()).enumerate() {
            if c == id_column || MISSING.contains(&cell.to_ascii_lowercase().as_str()) {
                continue;
            }
            match number(cell) {
                Some(n) => drop(properties.metrics.insert(name.clone(), n)),
                None => drop(properties.attributes.insert(name.clone(), cell.to_owned())),
            }
        }
        rows.push(Row { line, unit });
        features.push(RawFeature::new(line, properties, None));
    }
    // A column with numbers in some rows and text in others is a mistake in the file.
    let numeric: BTreeSet<String> = (features.iter())
        .flat_map(|f| f.properties.metrics.keys().cloned())
        .collect();
    for (row, f) in rows.iter().zip(&features) {
        for (name, text) in &f.properties.attributes {
            if numeric.contains(name) && bad.len() < MAX_REPORTED * 5 {
                bad.push(format!(
                    "line {}: column {name}: {text:?} is not a number",
                    row.line
                ));
            }
        }
    }
    if !bad.is_empty() {
        return Err(MetricsError::BadRows {
            path: path.to_owned(),
            count: bad.len(),
            shown: bad.into_iter().take(MAX_REPORTED).collect(),
        });
    }
    if rows.is_empty() {
        return Err(MetricsError::NoMatch {
            path: path.to_owned(),
            dataset: options.dataset.clone(),
            first: unknown
                .iter()
                .take(5)
                .map(|(_, id)| id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let field_roles = roles::apply(&mut features, &options.id_field, &options.choices);
    let columns: BTreeSet<String> = (header.iter().enumerate())
        .filter(|(c, _)| *c != id_column)
        .map(|(_, h)| h.clone())
        .collect();
    let text: Vec<String> = (columns.iter())
        .filter(|c| !numeric.contains(*c))
        .cloned()
        .collect();
    let means: BTreeMap<String, Option<String>> = (columns.iter())
        .map(|c| {
            let weight = field_roles
                .means
                .iter()
                .find(|(f, _)| f == c)
                .map(|(_, w)| w.clone());
            (c.clone(), weight)
        })
        .collect();
    let values: Vec<(String, Properties)> = (rows.iter().zip(features))
        .map(|(row, f)| (code(row.unit), f.properties))
        .collect();
    store.replace_unit_fields(&options.dataset, &columns, &values, &means)?;
    Ok(MetricsReport {
        path: path.to_owned(),
        dataset: options.dataset.clone(),
        rows: read,
        units: values.len(),
        units_without_row: index.len() - values.len(),
        unknown,
        unknown_count,
        roles: field_roles,
        text,
    })
}

/// A cell as a number: finite, and not a zero-padded code (`01001` is text, as at ingest).
fn number(cell: &str) -> Option<f64> {
    let digits = cell.trim_start_matches('-');
    if digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.") {
        return None;
    }
    cell.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn bad_header(path: &Path, problem: &str, header: &[String]) -> MetricsError {
    MetricsError::Columns {
        path: path.to_owned(),
        problem: problem.to_owned(),
        header: header.join(","),
    }
}

/// Every column named in the choices is in the file (a weight may also be a metric the
/// units have already; the store checks nothing more).
fn check_choices(
    path: &Path,
    header: &[String],
    id_column: usize,
    choices: &RoleChoices,
) -> Result<(), MetricsError> {
    let named = (choices.metrics.iter().map(|m| ("--metric", m)))
        .chain(choices.attributes.iter().map(|a| ("--attribute", a)))
        .chain(choices.means.iter().map(|(f, _)| ("--mean-weighted-by", f)));
    for (option, field) in named {
        let column = header.iter().position(|h| h == field);
        if column.is_none() || column == Some(id_column) {
            return Err(MetricsError::FieldRole {
                path: path.to_owned(),
                option,
                field: field.clone(),
                problem: format!("not a column of the file besides the id ({})", header.join(",")),
            });
        }
    }
    Ok(())
}

/// The weight of every `--mean-weighted-by` is a column of the file or a metric the
/// dataset's units have.
fn check_weights(
    path: &Path,
    header: &[String],
    metrics: &[String],
    choices: &RoleChoices,
) -> Result<(), MetricsError> {
    for (field, weight) in &choices.means {
        if !header.contains(weight) && !metrics.contains(weight) {
            return Err(MetricsError::FieldRole {
                path: path.to_owned(),
                option: "--mean-weighted-by",
                field: format!("{field}={weight}"),
                problem: format!(
                    "the weight '{weight}' is neither a column of the file nor a metric of the dataset ({})",
                    metrics.join(", ")
                ),
            });
        }
    }
    Ok(())
}

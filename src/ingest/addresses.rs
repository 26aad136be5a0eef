//! Address points from an OpenAddresses CSV (`LON,LAT,NUMBER,STREET,UNIT,CITY,
//! DISTRICT,REGION,POSTCODE`, header names in any case, extra columns such as
//! `HASH` and `ID` ignored): every row checked and reported by line and column,
//! then stored in one transaction under the dataset (all or nothing).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::geom::check;
use crate::ingest::AddressError;
use crate::store::{AddressPoint, Store};
use crate::text::street::normalize;

/// Most bad rows listed in an error.
pub const MAX_REPORTED: usize = 50;

/// What an address ingest stored.
#[derive(Debug, Clone)]
pub struct AddressReport {
    /// Source file.
    pub path: PathBuf,
    /// Dataset the points belong to.
    pub dataset: String,
    /// Points stored.
    pub points: usize,
    /// Distinct normalised streets.
    pub streets: usize,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl fmt::Display for AddressReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} address points on {} streets stored in dataset '{}' ({:.1} s)",
            self.path.display(),
            self.points,
            self.streets,
            self.dataset,
            self.seconds
        )
    }
}

const COLUMNS: [&str; 9] = [
    "lon", "lat", "number", "street", "unit", "city", "district", "region", "postcode",
];

/// Parses an OpenAddresses CSV into address points, or every bad row by line.
pub fn read(path: &Path, input: impl std::io::Read) -> Result<Vec<AddressPoint>, AddressError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| AddressError::Open {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })?
        .iter()
        .map(str::to_ascii_lowercase)
        .collect();
    let position: Vec<Option<usize>> = COLUMNS
        .iter()
        .map(|c| header.iter().position(|h| h == c))
        .collect();
    let missing: Vec<String> = COLUMNS[..4]
        .iter()
        .zip(&position)
        .filter(|(_, p)| p.is_none())
        .map(|(c, _)| c.to_ascii_uppercase())
        .collect();
    if !missing.is_empty() {
        return Err(AddressError::Columns {
            path: path.to_owned(),
            missing: missing.join(", "),
            header: header.join(","),
        });
    }
    let mut points = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(format!("line {line}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let get = |i: usize| position[i].and_then(|p| record.get(p)).unwrap_or("");
        let mut bad = |column: usize, why: String| {
            problems.push(format!(
                "line {line}: column {}: {why}",
                COLUMNS[column].to_ascii_uppercase()
            ));
        };
        let lon = get(0).parse::<f64>();
        let lat = get(1).parse::<f64>();
        let coords = match (lon, lat) {
            (Ok(x), Ok(y)) => match check(x, y) {
                Ok(()) => Some((x, y)),
                Err(e) => {
                    bad(0, e.to_string());
                    None
                }
            },
            (Err(_), _) => {
                bad(0, format!("'{}' is not a number", get(0)));
                None
            }
            (_, Err(_)) => {
                bad(1, format!("'{}' is not a number", get(1)));
                None
            }
        };
        let number = get(2);
        if number.is_empty() {
            bad(2, "empty house number".into());
        }
        let street = get(3);
        let street_norm = normalize(street);
        if street_norm.is_empty() {
            bad(3, format!("'{street}' has no street name"));
        }
        if let Some((lon, lat)) = coords
            && !number.is_empty()
            && !street_norm.is_empty()
        {
            points.push(AddressPoint {
                number: number.to_owned(),
                street: street.to_owned(),
                street_norm,
                unit: get(4).to_owned(),
                city: get(5).to_owned(),
                district: get(6).to_owned(),
                region: get(7).to_owned(),
                postcode: get(8).to_owned(),
                lon,
                lat,
            });
        }
    }
    if !problems.is_empty() {
        let count = problems.len();
        problems.truncate(MAX_REPORTED);
        if count > MAX_REPORTED {
            problems.push(format!("... and {} more", count - MAX_REPORTED));
        }
        return Err(AddressError::BadRows {
            path: path.to_owned(),
            count,
            shown: problems,
        });
    }
    if points.is_empty() {
        return Err(AddressError::Empty(path.to_owned()));
    }
    Ok(points)
}

/// Reads an OpenAddresses CSV and stores its points under `dataset`, replacing
/// the dataset's previous address points; the store is unchanged on any error.
pub fn ingest_addresses(
    store: &Store,
    path: &Path,
    dataset: &str,
    progress: bool,
) -> Result<AddressReport, AddressError> {
    let started = Instant::now();
    let file = std::fs::File::open(path).map_err(|source| AddressError::Open {
        path: path.to_owned(),
        source,
    })?;
    let points = read(path, std::io::BufReader::new(file))?;
    let bar = if progress {
        ProgressBar::new(points.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("storing addresses [{bar:40}] {pos}/{len} ({eta})") {
        bar.set_style(style.progress_chars("=> "));
    }
    let streets = store.replace_addresses(dataset, &points, &|n| bar.set_position(n as u64))?;
    bar.finish_and_clear();
    tracing::info!(dataset, points = points.len(), streets, "addresses stored");
    Ok(AddressReport {
        path: path.to_owned(),
        dataset: dataset.to_owned(),
        points: points.len(),
        streets,
        seconds: started.elapsed().as_secs_f64(),
    })
}

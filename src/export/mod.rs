//! Exports for GIS tools: an alignment level (units, territories, districts,
//! regions) or its accounts (points, with their owner and what placed them) as
//! FlatGeobuf (packed Hilbert R-tree, EPSG:4326), GeoJSON (RFC 7946), GeoPackage
//! (written with rusqlite) or CSV, one format per file.
//!
//! Every format writes the same [`Layer`]: a fixed list of typed [`Column`]s and one
//! [`Record`] per feature, produced one at a time so memory stays flat in the output size.

pub mod accounts;
pub mod cache;
pub mod csv;
pub mod fgb;
pub mod geojson;
pub mod gpkg;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use geo::{BoundingRect, Geometry, MultiPolygon, Rect};

use crate::align::metrics::TerritoryMetrics;
use crate::align::state::Account;
use crate::snapshot::{AccountPlace, Snapshot};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The level name is not one of the alignment's levels (nor `unit`).
    #[error("unknown level '{level}' (levels: {known})")]
    UnknownLevel {
        /// Level asked for.
        level: String,
        /// Levels of the alignment.
        known: String,
    },
    /// The format name is not one we write.
    #[error("unknown format '{0}' (fgb, geojson, gpkg, csv or csvt)")]
    UnknownFormat(String),
    /// Writing the output failed.
    #[error("writing {format} to {target}: {source}")]
    Io {
        /// Format being written.
        format: &'static str,
        /// File or stream written.
        target: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The FlatGeobuf writer failed.
    #[error("writing FlatGeobuf: {0}")]
    Fgb(String),
    /// The GeoPackage could not be written.
    #[error("writing GeoPackage {path}: {source}")]
    Gpkg {
        /// Output file.
        path: String,
        /// Cause.
        source: rusqlite::Error,
    },
    /// A geometry could not be encoded.
    #[error("encoding the geometry of feature '{id}': {reason}")]
    Geometry {
        /// Feature id.
        id: String,
        /// Cause.
        reason: String,
    },
    /// The CSV writer failed.
    #[error("writing CSV: {0}")]
    Csv(#[from] ::csv::Error),
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// FlatGeobuf with a packed Hilbert R-tree index.
    Fgb,
    /// GeoJSON (RFC 7946).
    GeoJson,
    /// OGC GeoPackage.
    Gpkg,
    /// CSV without geometry (the alignment sheet at the unit level).
    Csv,
    /// The column types of the CSV (GDAL's `.csvt` sidecar).
    Csvt,
}

impl Format {
    /// File extension (also the name on the command line and in URLs).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Fgb => "fgb",
            Format::GeoJson => "geojson",
            Format::Gpkg => "gpkg",
            Format::Csv => "csv",
            Format::Csvt => "csvt",
        }
    }

    /// HTTP media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Fgb => "application/flatgeobuf",
            Format::GeoJson => "application/geo+json",
            Format::Gpkg => "application/geopackage+sqlite3",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Csvt => "text/plain; charset=utf-8",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Format, ExportError> {
        match s.to_ascii_lowercase().as_str() {
            "fgb" | "flatgeobuf" => Ok(Format::Fgb),
            "geojson" | "json" => Ok(Format::GeoJson),
            "gpkg" | "geopackage" => Ok(Format::Gpkg),
            "csv" => Ok(Format::Csv),
            "csvt" => Ok(Format::Csvt),
            _ => Err(ExportError::UnknownFormat(s.to_owned())),
        }
    }
}

/// Which features a layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Every unit of the dataset with its assignment.
    Unit,
    /// The dissolved territories of one alignment level (0 = leaf).
    Alignment(usize),
    /// The alignment's accounts as points, with their owner.
    Accounts,
}

impl Level {
    /// Resolves `unit`/`units` or a level name (singular or plural, any case).
    pub fn parse(snapshot: &Snapshot, name: &str) -> Result<Level, ExportError> {
        if name.eq_ignore_ascii_case("unit") || name.eq_ignore_ascii_case("units") {
            return Ok(Level::Unit);
        }
        if name.eq_ignore_ascii_case("account") || name.eq_ignore_ascii_case("accounts") {
            return Ok(Level::Accounts);
        }
        snapshot
            .state
            .levels
            .iter()
            .position(|l| l.eq_ignore_ascii_case(name) || crate::align::plural(l).eq_ignore_ascii_case(name))
            .map(Level::Alignment)
            .ok_or_else(|| ExportError::UnknownLevel {
                level: name.to_owned(),
                known: std::iter::once("unit")
                    .chain(snapshot.state.levels.iter().map(String::as_str))
                    .chain(std::iter::once("accounts"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Its name in `snapshot` (`unit` or the level name).
    pub fn name(self, snapshot: &Snapshot) -> String {
        match self {
            Level::Unit => "unit".to_owned(),
            Level::Alignment(l) => snapshot.state.levels[l].clone(),
            Level::Accounts => "accounts".to_owned(),
        }
    }
}

/// Type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// UTF-8 text.
    Text,
    /// 64-bit float.
    Real,
    /// 64-bit integer.
    Integer,
    /// Boolean.
    Bool,
}

/// A column of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Type.
    pub kind: ColumnKind,
}

/// A value of one column of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// No value.
    Null,
    /// Text.
    Text(String),
    /// Float.
    Real(f64),
    /// Integer.
    Integer(i64),
    /// Boolean.
    Bool(bool),
}

impl Field {
    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Field::Null => serde_json::Value::Null,
            Field::Text(s) => serde_json::Value::String(s.clone()),
            Field::Real(v) => serde_json::Number::from_f64(*v).map_or(serde_json::Value::Null, Into::into),
            Field::Integer(v) => (*v).into(),
            Field::Bool(v) => (*v).into(),
        }
    }
}

/// One feature: id, one field per column, geometry (EPSG:4326).
#[derive(Debug, Clone)]
pub struct Record {
    /// Feature id (unit id or territory code).
    pub id: String,
    /// Values, in column order.
    pub fields: Vec<Field>,
    /// Geometry, if the feature has one.
    pub geometry: Option<Geometry<f64>>,
}

/// The geometry type a layer declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    /// Every feature is a (multi)polygon.
    MultiPolygon,
    /// Polygons and points (units with PO boxes).
    Mixed,
    /// Every feature is a point (accounts).
    Point,
}

/// One level of an alignment snapshot, ready to write.
#[derive(Debug)]
pub struct Layer<'a> {
    /// The snapshot.
    pub snapshot: &'a Snapshot,
    /// The level.
    pub level: Level,
    /// Columns, in order.
    pub columns: Vec<Column>,
    /// Declared geometry type.
    pub geometry_kind: GeometryKind,
    codes: Vec<&'a str>,
    metrics: Vec<String>,
    /// Per metric: whether every value is whole (an integer source column, or sums of
    /// one), so the column is written as Integer.
    whole: Vec<bool>,
    account_metrics: Vec<String>,
    attributes: Vec<String>,
    /// The accounts of an accounts layer, in id order.
    accounts: Vec<(&'a str, &'a Account, &'a AccountPlace)>,
}

fn column(name: &str, kind: ColumnKind) -> Column {
    Column {
        name: name.to_owned(),
        kind,
    }
}

/// Whether every value is a whole number that an i64 (and an f64) holds exactly.
fn whole_values<'v>(values: impl Iterator<Item = &'v f64>) -> bool {
    values.into_iter().all(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
}

fn kind_of(whole: bool) -> ColumnKind {
    if whole {
        ColumnKind::Integer
    } else {
        ColumnKind::Real
    }
}

/// A unit metric of a territory: its sum, or its weighted mean for an averaged one.
fn territory_metric<'m>(m: &'m TerritoryMetrics, name: &str) -> Option<&'m f64> {
    m.sums.get(name).or_else(|| m.means.get(name))
}

/// A metric value as its column's type.
fn number(v: f64, whole: bool) -> Field {
    if whole {
        Field::Integer(v as i64)
    } else {
        Field::Real(v)
    }
}

/// Names of the fixed columns of a territory layer.
const TERRITORY_COLUMNS: [(&str, ColumnKind); 12] = [
    ("code", ColumnKind::Text),
    ("name", ColumnKind::Text),
    ("parent", ColumnKind::Text),
    ("locked", ColumnKind::Bool),
    ("reps", ColumnKind::Text),
    ("units", ColumnKind::Integer),
    ("accounts", ColumnKind::Integer),
    ("area_km2", ColumnKind::Real),
    ("perimeter_km", ColumnKind::Real),
    ("parts", ColumnKind::Integer),
    ("polsby_popper", ColumnKind::Real),
    ("dissolve", ColumnKind::Text),
];

/// Names of the fixed columns of an accounts layer (the owning codes follow, one
/// column per level, leaf first; then the accounts' metrics and attributes).
const ACCOUNT_COLUMNS: [(&str, ColumnKind); 8] = [
    ("account_id", ColumnKind::Text),
    ("name", ColumnKind::Text),
    ("lon", ColumnKind::Real),
    ("lat", ColumnKind::Real),
    ("unit_id", ColumnKind::Text),
    ("reps", ColumnKind::Text),
    ("placed_by", ColumnKind::Text),
    ("rule", ColumnKind::Text),
];

impl<'a> Layer<'a> {
    /// The layer of `level` in `snapshot`.
    pub fn new(snapshot: &'a Snapshot, level: Level) -> Layer<'a> {
        let mut columns = Vec::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        let mut add = |columns: &mut Vec<Column>, name: &str, kind| {
            if taken.insert(name.to_ascii_lowercase()) {
                columns.push(column(name, kind));
                true
            } else {
                false
            }
        };
        let (mut metrics, mut account_metrics, mut attributes) = (Vec::new(), Vec::new(), Vec::new());
        let mut codes = Vec::new();
        let mut accounts = Vec::new();
        let geometry_kind;
        match level {
            Level::Unit => {
                add(&mut columns, "unit_id", ColumnKind::Text);
                for name in &snapshot.state.levels {
                    add(&mut columns, name, ColumnKind::Text);
                }
                add(&mut columns, "rep", ColumnKind::Text);
                add(&mut columns, "kind", ColumnKind::Text);
                let mut metric_names = BTreeSet::new();
                let mut attribute_names = BTreeSet::new();
                for unit in snapshot.dataset.units.iter() {
                    metric_names.extend(unit.metrics.keys());
                    attribute_names.extend(unit.attributes.keys());
                }
                for name in metric_names {
                    let whole =
                        whole_values(snapshot.dataset.units.iter().filter_map(|u| u.metrics.get(name)));
                    if add(&mut columns, name, kind_of(whole)) {
                        metrics.push(name.clone());
                    }
                }
                for name in attribute_names {
                    if add(&mut columns, name, ColumnKind::Text) {
                        attributes.push(name.clone());
                    }
                }
                geometry_kind = if snapshot.dataset.points.is_empty() {
                    GeometryKind::MultiPolygon
                } else {
                    GeometryKind::Mixed
                };
            }
            Level::Alignment(l) => {
                for (name, kind) in TERRITORY_COLUMNS {
                    add(&mut columns, name, kind);
                }
                let mut metric_names = BTreeSet::new();
                let mut account_names = BTreeSet::new();
                for shape in snapshot.shapes[l].values() {
                    metric_names.extend(shape.metrics.sums.keys().chain(shape.metrics.means.keys()));
                    account_names.extend(shape.metrics.account_sums.keys());
                }
                for name in metric_names {
                    let whole = whole_values(
                        snapshot.shapes[l]
                            .values()
                            .filter_map(|s| territory_metric(&s.metrics, name)),
                    );
                    if add(&mut columns, name, kind_of(whole)) {
                        metrics.push(name.clone());
                    }
                }
                for name in account_names {
                    if add(&mut columns, &format!("account_{name}"), ColumnKind::Real) {
                        account_metrics.push(name.clone());
                    }
                }
                codes = snapshot.state.territories[l]
                    .keys()
                    .filter(|c| snapshot.shapes[l].contains_key(*c))
                    .map(String::as_str)
                    .collect();
                geometry_kind = GeometryKind::MultiPolygon;
            }
            Level::Accounts => {
                for (name, kind) in ACCOUNT_COLUMNS {
                    add(&mut columns, name, kind);
                }
                for name in &snapshot.state.levels {
                    add(&mut columns, name, ColumnKind::Text);
                }
                accounts = snapshot.placed_accounts().collect();
                let mut metric_names = BTreeSet::new();
                let mut attribute_names = BTreeSet::new();
                for (_, account, _) in &accounts {
                    metric_names.extend(account.record.metrics.keys());
                    attribute_names.extend(account.record.attributes.keys());
                }
                for name in metric_names {
                    let whole =
                        whole_values(accounts.iter().filter_map(|(_, a, _)| a.record.metrics.get(name)));
                    if add(&mut columns, name, kind_of(whole)) {
                        metrics.push(name.to_owned());
                    }
                }
                for name in attribute_names {
                    if add(&mut columns, name, ColumnKind::Text) {
                        attributes.push(name.to_owned());
                    }
                }
                geometry_kind = GeometryKind::Point;
            }
        }
        let whole = metrics
            .iter()
            .map(|m| {
                columns
                    .iter()
                    .any(|c| &c.name == m && c.kind == ColumnKind::Integer)
            })
            .collect();
        Layer {
            snapshot,
            level,
            whole,
            columns,
            geometry_kind,
            codes,
            metrics,
            account_metrics,
            attributes,
            accounts,
        }
    }

    /// Layer name in files: `{alignment}_{level}`.
    pub fn name(&self) -> String {
        format!("{}_{}", self.snapshot.alignment, self.level.name(self.snapshot))
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        match self.level {
            Level::Unit => self.snapshot.dataset.units.len(),
            Level::Alignment(_) => self.codes.len(),
            Level::Accounts => self.accounts.len(),
        }
    }

    /// Whether the layer has no feature.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Position of the feature with this id.
    pub fn position(&self, id: &str) -> Option<usize> {
        match self.level {
            Level::Unit => {
                let i = self.snapshot.dataset.units.resolve(id)?;
                (self.snapshot.dataset.units.get(i).id == id).then_some(i as usize)
            }
            Level::Alignment(_) => self.codes.binary_search(&id).ok(),
            Level::Accounts => self.accounts.binary_search_by(|(a, _, _)| (*a).cmp(id)).ok(),
        }
    }

    /// Geometry of the `i`th feature.
    pub fn geometry(&self, i: usize) -> Option<Geometry<f64>> {
        let s = self.snapshot;
        match self.level {
            Level::Unit => {
                let d = &s.dataset;
                match d.topo_of_unit.get(i).copied().flatten() {
                    Some(t) => Some(Geometry::MultiPolygon(d.polygons[t as usize].clone())),
                    None => d.points.get(&(i as u32)).map(|p| Geometry::Point(*p)),
                }
            }
            Level::Alignment(l) => s.shapes[l]
                .get(self.codes[i])
                .map(|sh| Geometry::MultiPolygon(sh.geometry.clone())),
            Level::Accounts => Some(Geometry::Point(self.account_point(i))),
        }
    }

    /// Bounding box of the `i`th feature.
    pub fn bbox(&self, i: usize) -> Option<Rect<f64>> {
        let s = self.snapshot;
        match self.level {
            Level::Unit => {
                let d = &s.dataset;
                match d.topo_of_unit.get(i).copied().flatten() {
                    Some(t) => d.polygons[t as usize].bounding_rect(),
                    None => d.points.get(&(i as u32)).map(|p| Rect::new(p.0, p.0)),
                }
            }
            Level::Alignment(l) => s.shapes[l]
                .get(self.codes[i])
                .and_then(|sh| sh.geometry.bounding_rect()),
            Level::Accounts => {
                let p = self.account_point(i);
                Some(Rect::new(p.0, p.0))
            }
        }
    }

    /// Positions of the features whose bounding box meets `bbox`, in layer order.
    pub fn within(&self, bbox: Rect<f64>) -> Vec<usize> {
        let meets = |r: Rect<f64>| {
            r.min().x <= bbox.max().x
                && r.max().x >= bbox.min().x
                && r.min().y <= bbox.max().y
                && r.max().y >= bbox.min().y
        };
        match self.level {
            Level::Unit => {
                let d = &self.snapshot.dataset;
                let envelope =
                    rstar::AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
                let mut out: Vec<usize> = d
                    .tree
                    .locate_in_envelope_intersecting(&envelope)
                    .map(|e| d.unit_of_topo[e.index as usize] as usize)
                    .collect();
                out.extend(
                    d.points
                        .iter()
                        .filter(|(_, p)| meets(Rect::new(p.0, p.0)))
                        .map(|(&i, _)| i as usize),
                );
                out.sort_unstable();
                out
            }
            Level::Alignment(_) | Level::Accounts => (0..self.len())
                .filter(|&i| self.bbox(i).is_some_and(meets))
                .collect(),
        }
    }

    /// Extent of the whole layer.
    pub fn extent(&self) -> Option<Rect<f64>> {
        let mut out: Option<Rect<f64>> = None;
        let mut grow = |r: Rect<f64>| {
            out = Some(match out {
                None => r,
                Some(o) => Rect::new(
                    (o.min().x.min(r.min().x), o.min().y.min(r.min().y)),
                    (o.max().x.max(r.max().x), o.max().y.max(r.max().y)),
                ),
            });
        };
        match self.level {
            Level::Unit => {
                let d = &self.snapshot.dataset;
                let e = d.tree.root().envelope();
                if !d.polygons.is_empty() {
                    grow(Rect::new(
                        (e.lower()[0], e.lower()[1]),
                        (e.upper()[0], e.upper()[1]),
                    ));
                }
                for p in d.points.values() {
                    grow(Rect::new(p.0, p.0));
                }
            }
            Level::Alignment(_) | Level::Accounts => {
                for i in 0..self.len() {
                    if let Some(r) = self.bbox(i) {
                        grow(r);
                    }
                }
            }
        }
        out
    }

    /// Extent of the whole layer as `[west, south, east, north]` degrees, with
    /// `west > east` when the features lie on both sides of the antimeridian (as OGC API
    /// - Features extents are written): the span their parts cover, not the world.
    pub fn span(&self) -> Option<[f64; 4]> {
        let r = self.extent()?;
        if r.width() <= 180.0 {
            return Some([r.min().x, r.min().y, r.max().x, r.max().y]);
        }
        // Only data this wide can cross the antimeridian: look at each part.
        let s = self.snapshot;
        let polygons: Vec<&MultiPolygon<f64>> = match self.level {
            Level::Unit => s.dataset.polygons.iter().collect(),
            Level::Alignment(l) => self
                .codes
                .iter()
                .filter_map(|c| s.shapes[l].get(*c))
                .map(|sh| &sh.geometry)
                .collect(),
            Level::Accounts => Vec::new(),
        };
        let points = match self.level {
            Level::Unit => s.dataset.points.values().map(|p| (p.x(), p.x())).collect(),
            Level::Alignment(_) => Vec::new(),
            Level::Accounts => (0..self.len())
                .map(|i| self.account_point(i).x())
                .map(|x| (x, x))
                .collect(),
        };
        let parts = polygons
            .into_iter()
            .flat_map(|m| m.0.iter())
            .filter_map(|p| p.bounding_rect())
            .map(|b| (b.min().x, b.max().x));
        let (west, east) = crate::geom::circular_span(parts.chain(points), 360.0)?;
        Some([west, r.min().y, east, r.max().y])
    }

    /// The `i`th record.
    pub fn record(&self, i: usize) -> Record {
        let s = self.snapshot;
        let mut fields = Vec::with_capacity(self.columns.len());
        let text = |v: Option<String>| v.map_or(Field::Null, Field::Text);
        match self.level {
            Level::Unit => {
                let units = &s.dataset.units;
                let unit = units.get(i as u32);
                fields.push(Field::Text(unit.id.clone()));
                let owner = s.state.owner(units, i as u32);
                match owner {
                    Some(leaf) => fields.extend(s.state.ancestry(leaf).into_iter().map(text)),
                    None => fields.extend(s.state.levels.iter().map(|_| Field::Null)),
                }
                let reps = owner
                    .and_then(|leaf| s.state.territories[0].get(leaf))
                    .map(|t| t.reps.iter().cloned().collect::<Vec<_>>().join(";"));
                fields.push(text(reps.filter(|r| !r.is_empty())));
                fields.push(Field::Text(unit.kind.as_str().to_owned()));
                for (name, &whole) in self.metrics.iter().zip(&self.whole) {
                    fields.push(unit.metrics.get(name).map_or(Field::Null, |v| number(*v, whole)));
                }
                for name in &self.attributes {
                    fields.push(text(unit.attributes.get(name).cloned()));
                }
                Record {
                    id: unit.id.clone(),
                    fields,
                    geometry: self.geometry(i),
                }
            }
            Level::Alignment(l) => {
                let code = self.codes[i];
                let territory = &s.state.territories[l][code];
                let shape = &s.shapes[l][code];
                let m = &shape.metrics;
                let reps: Vec<&str> = if l == 0 {
                    territory.reps.iter().map(String::as_str).collect()
                } else {
                    Vec::new()
                };
                fields.extend([
                    Field::Text(code.to_owned()),
                    Field::Text(territory.name.clone()),
                    text(territory.parent.clone()),
                    Field::Bool(territory.locked),
                    if reps.is_empty() {
                        Field::Null
                    } else {
                        Field::Text(reps.join(";"))
                    },
                    Field::Integer(m.units as i64),
                    Field::Integer(m.accounts as i64),
                    Field::Real(m.area_km2),
                    Field::Real(m.perimeter_km),
                    Field::Integer(m.parts as i64),
                    Field::Real(m.polsby_popper),
                    Field::Text(shape.method.as_str().to_owned()),
                ]);
                for (name, &whole) in self.metrics.iter().zip(&self.whole) {
                    fields.push(number(territory_metric(m, name).copied().unwrap_or(0.0), whole));
                }
                for name in &self.account_metrics {
                    fields.push(Field::Real(m.account_sums.get(name).copied().unwrap_or(0.0)));
                }
                Record {
                    id: code.to_owned(),
                    fields,
                    geometry: Some(Geometry::MultiPolygon(shape.geometry.clone())),
                }
            }
            Level::Accounts => {
                let (id, account, place) = self.accounts[i];
                let record = &account.record;
                let owner = place.owner();
                let chain = owner.map(|(leaf, _)| s.state.ancestry(leaf));
                let reps = owner
                    .and_then(|(leaf, _)| s.state.territories[0].get(leaf))
                    .map(|t| t.reps.iter().cloned().collect::<Vec<_>>().join(";"))
                    .filter(|r| !r.is_empty());
                fields.extend([
                    Field::Text(id.to_owned()),
                    Field::Text(record.name.clone()),
                    Field::Real(record.lon),
                    Field::Real(record.lat),
                    text(place.unit.map(|u| s.dataset.units.get(u).id.clone())),
                    text(reps),
                    text(owner.map(|(_, by)| by.name().to_owned())),
                    text(owner.and_then(|(_, by)| by.rule().map(str::to_owned))),
                ]);
                match chain {
                    Some(chain) => fields.extend(chain.into_iter().map(text)),
                    None => fields.extend(s.state.levels.iter().map(|_| Field::Null)),
                }
                for (name, &whole) in self.metrics.iter().zip(&self.whole) {
                    fields.push(
                        record
                            .metrics
                            .get(name)
                            .map_or(Field::Null, |v| number(*v, whole)),
                    );
                }
                for name in &self.attributes {
                    fields.push(text(record.attributes.get(name).map(|t| t.to_string())));
                }
                Record {
                    id: id.to_owned(),
                    fields,
                    geometry: self.geometry(i),
                }
            }
        }
    }

    /// The location of the `i`th account of an accounts layer.
    fn account_point(&self, i: usize) -> geo::Point<f64> {
        let record = &self.accounts[i].1.record;
        geo::Point::new(record.lon, record.lat)
    }

    /// Every record, in layer order, made one at a time.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        (0..self.len()).map(|i| self.record(i))
    }
}

/// Progress callback: called with the number of features written so far.
pub type Progress<'p> = &'p (dyn Fn(usize) + Sync);

/// Writes `layer` in `format` to a file (GeoPackage needs a file; the others stream).
pub fn export_file(
    layer: &Layer,
    format: Format,
    path: &Path,
    progress: Progress,
) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        format: format.extension(),
        target: path.display().to_string(),
        source,
    };
    if format == Format::Gpkg {
        if path.exists() {
            std::fs::remove_file(path).map_err(io)?;
        }
        return gpkg::write(layer, path, progress);
    }
    let file = std::fs::File::create(path).map_err(io)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    write(layer, format, &mut out, progress)?;
    out.flush().map_err(io)?;
    Ok(())
}

/// Writes `layer` in a streamable format (FlatGeobuf, GeoJSON, CSV) to `out`.
pub fn write(
    layer: &Layer,
    format: Format,
    out: &mut dyn Write,
    progress: Progress,
) -> Result<(), ExportError> {
    match format {
        Format::Fgb => fgb::write(layer, out, progress),
        Format::GeoJson => geojson::write(layer, out, progress),
        Format::Csv => csv::write(layer, out, progress),
        Format::Csvt => csv::write_types(layer, out),
        Format::Gpkg => Err(ExportError::UnknownFormat(
            "gpkg to a stream (GeoPackage is written to a file)".into(),
        )),
    }
}

pub(crate) fn io_error(format: &'static str) -> impl Fn(std::io::Error) -> ExportError {
    move |source| ExportError::Io {
        format,
        target: "output".into(),
        source,
    }
}

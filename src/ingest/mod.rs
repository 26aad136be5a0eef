//! Boundary ingest: read a file, reproject to EPSG:4326, validate and repair,
//! and store the dataset in one transaction (all or nothing).

pub mod addresses;
pub mod antimeridian;
pub mod cleaning;
pub mod crs;
mod error;
pub mod metrics_table;
pub mod readers;
pub mod repair;
pub mod roles;
pub mod wkt;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Geometry, Rect};
use indicatif::{ProgressBar, ProgressStyle};
use rstar::{AABB, RTree, RTreeObject};

use crate::feature::{Properties, RawFeature, Unit, UnitKind};
use crate::store::{DatasetMeta, Store};
use cleaning::{Cleaning, CleaningSummary};
use crs::{CrsDef, Reprojector};
pub use error::{AddressError, IngestError, MetricsError};
use roles::{FieldRoles, RoleChoices};

/// What to ingest and how.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Source file.
    pub path: PathBuf,
    /// Dataset name in the store.
    pub dataset: String,
    /// Property holding the unit id.
    pub id_field: String,
    /// Layer of a multi-layer source.
    pub layer: Option<String>,
    /// Source CRS, overriding what the file declares.
    pub s_srs: Option<CrsDef>,
    /// Replace an existing dataset of the same name. Its alignments are kept when every
    /// unit they assign or lock is still in the file; otherwise the ingest is refused.
    pub replace: bool,
    /// With `replace`: delete the alignments that refer to units the file no longer has,
    /// instead of refusing.
    pub drop_alignments: bool,
    /// Add the features as point units to an existing dataset.
    pub points: bool,
    /// How polygon units are cleaned into a coverage.
    pub cleaning: Cleaning,
    /// Numeric fields the user wants summed or kept as attributes, over the rules of
    /// [`roles`].
    pub roles: RoleChoices,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// A feature that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 0-based position in the source.
    pub index: usize,
    /// Its id, when it had one.
    pub id: Option<String>,
    /// Why it was rejected.
    pub reason: String,
}

/// The outcome of an ingest, printed as its summary.
#[derive(Debug, Clone)]
pub struct IngestReport {
    /// Dataset name.
    pub dataset: String,
    /// Source file.
    pub path: PathBuf,
    /// Reader used.
    pub format: &'static str,
    /// CRS the coordinates were read in.
    pub crs: String,
    /// Whether the CRS was assumed (lon/lat without a declaration).
    pub crs_assumed: bool,
    /// How the coordinates reached WGS 84 where the summary should say so: the datum
    /// shift used and its accuracy (NAD27 with or without its grid), or that GDAL/PROJ
    /// did a CRS the native reprojector cannot.
    pub notes: Vec<String>,
    /// Features read.
    pub read: usize,
    /// Units stored.
    pub stored: usize,
    /// Units stored after a repair: (id, repairs).
    pub repaired: Vec<(String, Vec<&'static str>)>,
    /// Features not stored.
    pub rejected: Vec<Rejection>,
    /// Point units skipped because a polygon unit has the same id.
    pub already_polygons: usize,
    /// Point units stored that no polygon contains.
    pub outside_polygons: usize,
    /// On a replace: the alignments kept over the new units.
    pub kept_alignments: Vec<String>,
    /// On a replace with `drop_alignments`: the alignments deleted, with the number of
    /// their units the file no longer has.
    pub dropped_alignments: Vec<(String, usize)>,
    /// On a replace: units of the old dataset the file no longer has.
    pub units_vanished: usize,
    /// On a replace: units new to the dataset (unassigned in every kept alignment).
    pub units_appeared: usize,
    /// What coverage cleaning did (polygon ingests that clean).
    pub cleaning: Option<CleaningSummary>,
    /// A polygon ingest that kept the raw geometry (`--no-clean`).
    pub raw_geometry: bool,
    /// Which numeric fields are summed per territory and which are kept as attributes.
    pub fields: FieldRoles,
}

impl fmt::Display for IngestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} -> dataset '{}' ({})",
            self.path.display(),
            self.dataset,
            self.format
        )?;
        let assumed = if self.crs_assumed {
            " (assumed: no CRS declared, coordinates are lon/lat)"
        } else {
            ""
        };
        writeln!(f, "  crs: {}{assumed} -> EPSG:4326", self.crs)?;
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        writeln!(
            f,
            "  read {}, stored {}, repaired {}, rejected {}",
            self.read,
            self.stored,
            self.repaired.len(),
            self.rejected.len()
        )?;
        writeln!(f, "  fields: {}", self.fields)?;
        if self.already_polygons > 0 || self.outside_polygons > 0 {
            writeln!(
                f,
                "  points: {} already polygon units (the attributes and metrics they lacked added), {} outside every polygon",
                self.already_polygons, self.outside_polygons
            )?;
        }
        if self.units_vanished > 0 || self.units_appeared > 0 || !self.kept_alignments.is_empty() {
            writeln!(
                f,
                "  replaced: {} unit(s) gone (point units go too: add them again with --points), {} new (unassigned); alignments kept: {}",
                self.units_vanished,
                self.units_appeared,
                if self.kept_alignments.is_empty() {
                    "none".to_owned()
                } else {
                    self.kept_alignments.join(", ")
                }
            )?;
        }
        if let Some(cleaning) = &self.cleaning {
            write!(f, "{cleaning}")?;
        }
        if self.raw_geometry {
            writeln!(
                f,
                "  not cleaned (--no-clean): raw geometry kept; dissolves where units overlap or leave gaps may fall back to an overlay"
            )?;
        }
        for (name, lost) in &self.dropped_alignments {
            writeln!(
                f,
                "  dropped alignment '{name}' (it used {lost} unit(s) the file no longer has)"
            )?;
        }
        for (id, repairs) in &self.repaired {
            writeln!(f, "  repaired {id}: {}", repairs.join(", "))?;
        }
        for r in &self.rejected {
            let id = r.id.as_deref().unwrap_or("(no id)");
            writeln!(f, "  rejected feature {} [{id}]: {}", r.index, r.reason)?;
        }
        Ok(())
    }
}

/// Reads, validates and stores a dataset; the store is unchanged on any error.
pub fn ingest(store: &Store, options: &IngestOptions) -> Result<IngestReport, IngestError> {
    let path = options.path.as_path();
    let exists = store.dataset_exists(&options.dataset)?;
    if options.points && !exists {
        return Err(IngestError::NoPolygonDataset(options.dataset.clone()));
    }
    if !options.points && exists && !options.replace {
        return Err(IngestError::DatasetExists(options.dataset.clone()));
    }
    let mut layer = readers::read(path, options.layer.as_deref(), options.s_srs.as_ref())?;
    let read = layer.features.len();
    check_role_choices(path, &layer.fields, &options.roles)?;
    let fields = roles::apply(&mut layer.features, &options.id_field, &options.roles);
    check_means(path, &layer.fields, &fields, &layer.features)?;
    if !layer.features.iter().any(|f| f.properties.has(&options.id_field)) {
        return Err(IngestError::MissingIdField {
            path: path.to_owned(),
            field: options.id_field.clone(),
            available: layer.fields.join(", "),
        });
    }
    let (crs_label, crs_assumed, reprojector) = choose_crs(path, &layer, options.s_srs.as_ref())?;

    let bar = progress_bar(options.progress, read as u64, "validating");
    let mut units = Vec::with_capacity(read);
    let mut unit_index = Vec::with_capacity(read);
    let mut rejected = Vec::new();
    let mut repaired = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(read);
    for feature in layer.features {
        bar.inc(1);
        let index = feature.index;
        match validate(
            feature,
            &options.id_field,
            reprojector.as_ref(),
            options.points,
            &mut seen,
        ) {
            Ok((unit, repairs)) => {
                if !repairs.is_empty() {
                    repaired.push((unit.id.clone(), repairs));
                }
                units.push(unit);
                unit_index.push(index);
            }
            Err((id, reason)) => rejected.push(Rejection { index, id, reason }),
        }
    }
    bar.finish_and_clear();
    if units.is_empty() {
        let first = rejected.first().map_or_else(
            || "the file has no features".to_owned(),
            |r| {
                format!(
                    "feature {} [{}]: {}",
                    r.index,
                    r.id.as_deref().unwrap_or("no id"),
                    r.reason
                )
            },
        );
        return Err(IngestError::NothingValid {
            path: path.to_owned(),
            rejected: rejected.len(),
            first,
        });
    }

    let mut cleaning = None;
    if !options.points && options.cleaning.enabled {
        let bar = progress_bar(options.progress, 0, "cleaning");
        let (summary, emptied) = cleaning::clean_units(&mut units, &unit_index, &options.cleaning);
        bar.finish_and_clear();
        rejected.extend(emptied);
        rejected.sort_by_key(|r| r.index);
        cleaning = Some(summary);
    }
    drop(unit_index);
    let mut report = IngestReport {
        dataset: options.dataset.clone(),
        path: path.to_owned(),
        format: layer.format,
        crs: crs_label.clone(),
        crs_assumed,
        notes: reprojector.as_ref().map(Reprojector::notes).unwrap_or_default(),
        read,
        stored: 0,
        repaired,
        rejected,
        already_polygons: 0,
        outside_polygons: 0,
        kept_alignments: Vec::new(),
        dropped_alignments: Vec::new(),
        units_vanished: 0,
        units_appeared: 0,
        cleaning,
        raw_geometry: !options.points && !options.cleaning.enabled,
        fields,
    };
    if options.points {
        let polygons = store.polygon_units(&options.dataset)?;
        let known: std::collections::HashSet<&str> = polygons.iter().map(|(id, _)| id.as_str()).collect();
        // A point row for a ZIP that has a polygon lends the polygon the properties it
        // lacks: text attributes (city, county, type) for geocoding and metrics
        // (population, households) for balancing; the rest become point units.
        let (existing, new): (Vec<Unit>, Vec<Unit>) =
            units.into_iter().partition(|u| known.contains(u.id.as_str()));
        units = new;
        report.already_polygons = existing.len();
        assign_parents(&mut units, &polygons);
        report.outside_polygons = units.iter().filter(|u| u.parent.is_none()).count();
        let lent: Vec<(String, Properties)> = existing.into_iter().map(|u| (u.id, u.properties)).collect();
        let means = report.fields.means.iter().cloned().collect();
        store.add_point_units(&options.dataset, &units, &lent, &means)?;
    } else {
        let meta = DatasetMeta {
            name: options.dataset.clone(),
            source: path.display().to_string(),
            id_field: options.id_field.clone(),
            source_crs: crs_label,
            means: report.fields.means.iter().cloned().collect(),
        };
        let drop = if exists {
            alignments_over_new_units(store, options, &units, &mut report)?
        } else {
            Vec::new()
        };
        let bar = progress_bar(options.progress, units.len() as u64, "storing");
        store.replace_dataset(&meta, &units, &drop, &|n| bar.inc(n as u64))?;
        bar.finish_and_clear();
    }
    report.stored = units.len();
    tracing::info!(dataset = %report.dataset, stored = report.stored, rejected = report.rejected.len(), "ingested");
    Ok(report)
}

/// `--metric`, `--attribute` and `--mean-weighted-by` name fields of the file, each
/// field in one role.
fn check_role_choices(path: &Path, fields: &[String], choices: &RoleChoices) -> Result<(), IngestError> {
    let averaged = |f: &String| choices.means.iter().any(|(field, _)| field == f);
    let named = (choices.metrics.iter().map(|f| ("--metric", f)))
        .chain(choices.attributes.iter().map(|f| ("--attribute", f)))
        .chain(
            choices
                .means
                .iter()
                .flat_map(|(f, w)| [("--mean-weighted-by", f), ("--mean-weighted-by", w)]),
        );
    for (option, field) in named {
        let roles = [
            choices.metrics.contains(field),
            choices.attributes.contains(field),
            averaged(field),
        ];
        let problem = if !fields.contains(field) {
            "no such field"
        } else if roles.iter().filter(|r| **r).count() > 1 {
            "named in two roles (--metric, --attribute, --mean-weighted-by)"
        } else if choices.means.iter().any(|(f, w)| f == w) {
            "weighted by itself"
        } else {
            continue;
        };
        return Err(role_error(path, option, field, problem, fields));
    }
    Ok(())
}

/// Each `--mean-weighted-by` field holds numbers, and its weight is summed.
fn check_means(
    path: &Path,
    fields: &[String],
    roles: &FieldRoles,
    features: &[RawFeature],
) -> Result<(), IngestError> {
    for (field, weight) in &roles.means {
        if !features.iter().any(|f| f.properties.metrics.contains_key(field)) {
            return Err(role_error(
                path,
                "--mean-weighted-by",
                field,
                "holds no numbers",
                fields,
            ));
        }
        let too_large = |f: &RawFeature| {
            f.properties
                .metrics
                .get(field)
                .is_some_and(|v| v.abs() > crate::feature::MAX_SUMMABLE)
        };
        if features.iter().any(too_large) {
            return Err(role_error(
                path,
                "--mean-weighted-by",
                field,
                "holds a value beyond ±2^53, which cannot be averaged exactly",
                fields,
            ));
        }
        if !roles.metrics.contains(weight) {
            return Err(role_error(
                path,
                "--mean-weighted-by",
                weight,
                "is not a summed metric, so it cannot weigh a mean (add --metric for it)",
                fields,
            ));
        }
    }
    Ok(())
}

fn role_error(
    path: &Path,
    option: &'static str,
    field: &str,
    problem: &'static str,
    fields: &[String],
) -> IngestError {
    IngestError::FieldRole {
        path: path.to_owned(),
        option,
        field: field.to_owned(),
        problem,
        available: fields.join(", "),
    }
}

/// On a replace: which alignments of the dataset keep every unit they refer to (kept)
/// and which would lose some (refused, unless `drop_alignments`: then returned to be
/// deleted); counts the units that vanish and appear.
fn alignments_over_new_units(
    store: &Store,
    options: &IngestOptions,
    units: &[Unit],
    report: &mut IngestReport,
) -> Result<Vec<String>, IngestError> {
    let new: HashSet<&str> = units.iter().map(|u| u.id.as_str()).collect();
    let old = store.unit_codes(&options.dataset)?;
    report.units_vanished = old.iter().filter(|c| !new.contains(c.as_str())).count();
    let old: HashSet<&str> = old.iter().map(String::as_str).collect();
    report.units_appeared = new.iter().filter(|c| !old.contains(*c)).count();
    let mut losing = Vec::new();
    for (alignment, referenced) in store.units_referenced(&options.dataset)? {
        let gone: Vec<&String> = referenced.iter().filter(|u| !new.contains(u.as_str())).collect();
        if gone.is_empty() {
            report.kept_alignments.push(alignment);
        } else {
            let shown: Vec<&str> = gone.iter().take(10).map(|u| u.as_str()).collect();
            losing.push((alignment, gone.len(), shown.join(", ")));
        }
    }
    if losing.is_empty() {
        return Ok(Vec::new());
    }
    if !options.drop_alignments {
        return Err(IngestError::WouldLoseAlignments {
            path: options.path.clone(),
            dataset: options.dataset.clone(),
            alignments: losing
                .iter()
                .map(|(name, n, shown)| {
                    format!(
                        "'{name}' ({n} unit(s) gone: {shown}{})",
                        if *n > 10 { ", ..." } else { "" }
                    )
                })
                .collect(),
        });
    }
    report.dropped_alignments = losing.iter().map(|(name, n, _)| (name.clone(), *n)).collect();
    Ok(losing.into_iter().map(|(name, _, _)| name).collect())
}

/// Decides which CRS the coordinates are in: `--s-srs`, else the file's, else
/// lon/lat when the coordinates plainly are, else an error.
fn choose_crs(
    path: &Path,
    layer: &readers::Layer,
    s_srs: Option<&CrsDef>,
) -> Result<(String, bool, Option<Reprojector>), IngestError> {
    if let Some(label) = &layer.reprojected_from {
        return Ok((label.clone(), false, None));
    }
    let declared = s_srs.or(layer.crs.as_ref());
    match declared {
        Some(def) if def.is_wgs84() => Ok((def.label(), false, None)),
        Some(def) => {
            let reprojector = Reprojector::new(def).map_err(|reason| IngestError::UnknownCrs {
                path: path.to_owned(),
                crs: def.label(),
                reason,
            })?;
            Ok((def.label(), false, Some(reprojector)))
        }
        None => {
            let bbox = layer
                .features
                .iter()
                .filter_map(|f| f.geometry.as_ref()?.bounding_rect())
                .reduce(|a, b| union_rect(&a, &b));
            match bbox {
                Some(r)
                    if r.min().x >= -180.0
                        && r.max().x <= 180.0
                        && r.min().y >= -90.0
                        && r.max().y <= 90.0 =>
                {
                    tracing::warn!(path = %path.display(), "no CRS declared; coordinates are lon/lat, assuming EPSG:4326");
                    Ok(("EPSG:4326".into(), true, None))
                }
                Some(r) => Err(IngestError::NoCrs {
                    path: path.to_owned(),
                    bbox: format!(
                        "{:.3},{:.3},{:.3},{:.3}",
                        r.min().x,
                        r.min().y,
                        r.max().x,
                        r.max().y
                    ),
                }),
                None => Ok(("EPSG:4326".into(), true, None)),
            }
        }
    }
}

fn union_rect(a: &Rect<f64>, b: &Rect<f64>) -> Rect<f64> {
    Rect::new(
        geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
        geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
    )
}

type Invalid = (Option<String>, String);

/// Turns one raw feature into a unit, or says why it cannot be one.
fn validate(
    mut feature: RawFeature,
    id_field: &str,
    reprojector: Option<&Reprojector>,
    points: bool,
    seen: &mut HashMap<String, usize>,
) -> Result<(Unit, Vec<&'static str>), Invalid> {
    let id = feature
        .properties
        .take_id(id_field)
        .ok_or_else(|| (None, format!("missing id field '{id_field}'")))?;
    let fail = |reason: String| (Some(id.clone()), reason);
    if let Some(first) = seen.get(&id) {
        return Err(fail(format!("duplicate id (first at feature {first})")));
    }
    seen.insert(id.clone(), feature.index);
    if let Some(defect) = feature.defect.take() {
        return Err(fail(defect));
    }
    let mut geometry = feature
        .geometry
        .take()
        .ok_or_else(|| fail("null geometry".into()))?;
    if let Some(r) = reprojector {
        r.geometry(&mut geometry).map_err(fail)?;
    }
    let mut repairs = feature.repairs;
    let (kind, geometry) = if points {
        match geometry {
            Geometry::Point(p) if p.x().abs() <= 180.0 && p.y().abs() <= 90.0 => {
                (UnitKind::Point, Geometry::Point(p))
            }
            Geometry::Point(p) => {
                return Err(fail(format!(
                    "point ({}, {}) is outside lon/lat range",
                    p.x(),
                    p.y()
                )));
            }
            other => {
                return Err(fail(format!(
                    "geometry is a {}, expected a point",
                    repair::kind(&other)
                )));
            }
        }
    } else {
        let fixed = repair::polygonal(geometry).map_err(fail)?;
        for r in fixed.repairs {
            if !repairs.contains(&r) {
                repairs.push(r);
            }
        }
        (UnitKind::Polygon, Geometry::MultiPolygon(fixed.geometry))
    };
    Ok((
        Unit {
            id,
            kind,
            properties: feature.properties,
            geometry,
            parent: None,
        },
        repairs,
    ))
}

struct Indexed<'a> {
    id: &'a str,
    geometry: &'a geo::MultiPolygon<f64>,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Indexed<'_> {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Sets each point unit's parent to the polygon unit containing it (the
/// smallest id when a point lies on a shared border).
fn assign_parents(points: &mut [Unit], polygons: &[(String, geo::MultiPolygon<f64>)]) {
    use geo::Intersects;
    let items: Vec<Indexed> = polygons
        .iter()
        .filter_map(|(id, g)| {
            let r = g.bounding_rect()?;
            Some(Indexed {
                id,
                geometry: g,
                envelope: AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
            })
        })
        .collect();
    let tree = RTree::bulk_load(items);
    for unit in points {
        if let Geometry::Point(p) = &unit.geometry {
            unit.parent = tree
                .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
                .filter(|c| c.geometry.intersects(p))
                .map(|c| c.id)
                .min()
                .map(str::to_owned);
        }
    }
}

fn progress_bar(visible: bool, len: u64, what: &'static str) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec})") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    bar
}

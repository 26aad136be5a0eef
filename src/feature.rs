//! The feature model every reader produces and the store keeps.

use std::collections::BTreeMap;

use geo::Geometry;
use serde::{Deserialize, Serialize};

/// The largest magnitude a summed metric may hold: 2^53, the largest integer an `f64`
/// holds exactly. Sums of values within it stay finite and exact enough to balance by;
/// a field with a value beyond it (a 1e308 sentinel, a byte count of a disk image) is
/// kept as an attribute rather than summed to infinity (served as `null`).
pub const MAX_SUMMABLE: f64 = 9_007_199_254_740_992.0;

/// Properties of a feature: numeric ones are metrics (summed per territory),
/// text ones are attributes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Properties {
    /// Text properties (names, codes, lists).
    pub attributes: BTreeMap<String, String>,
    /// Numeric properties (population, households, ...).
    pub metrics: BTreeMap<String, f64>,
}

impl Properties {
    /// Stores a text value.
    pub fn text(&mut self, name: &str, value: impl Into<String>) {
        self.attributes.insert(name.to_owned(), value.into());
    }

    /// Stores a numeric value; non-finite numbers are dropped.
    pub fn number(&mut self, name: &str, value: f64) {
        if value.is_finite() {
            self.metrics.insert(name.to_owned(), value);
        }
    }

    /// Takes the value of `field` out of the properties as an id string.
    ///
    /// Integers print without a fractional part, so a numeric id `6001` reads as `"6001"`.
    pub fn take_id(&mut self, field: &str) -> Option<String> {
        if let Some(text) = self.attributes.remove(field) {
            let text = text.trim().to_owned();
            return (!text.is_empty()).then_some(text);
        }
        self.metrics.remove(field).map(format_number)
    }

    /// Whether a property of that name exists.
    pub fn has(&self, field: &str) -> bool {
        self.attributes.contains_key(field) || self.metrics.contains_key(field)
    }

    /// All property names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .attributes
            .keys()
            .chain(self.metrics.keys())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names
    }
}

/// Whether a unit id is a placeholder rather than a real postal unit: three or more
/// nines (`99999`, the US Census' ZCTA for parks, airports and water, which NYC's
/// MODZCTA keeps as one scattered unit). A lookup that lands in one answers "no owner".
///
/// ```
/// use geoalign::feature::is_placeholder_id;
/// assert!(is_placeholder_id("99999"));
/// assert!(!is_placeholder_id("10001") && !is_placeholder_id("99"));
/// ```
pub fn is_placeholder_id(id: &str) -> bool {
    id.len() >= 3 && id.bytes().all(|b| b == b'9')
}

/// Formats a number as an id: integers without `.0`.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// One feature as a reader produced it, before validation.
#[derive(Debug, Clone)]
pub struct RawFeature {
    /// Position in the source (0-based), for messages about features without an id.
    pub index: usize,
    /// All properties, the id field among them.
    pub properties: Properties,
    /// Geometry in the source CRS; `None` for a null geometry.
    pub geometry: Option<Geometry<f64>>,
    /// Why the reader could not make sense of this feature, if it could not.
    pub defect: Option<String>,
    /// Repairs the reader made (for example closing an open ring).
    pub repairs: Vec<&'static str>,
}

impl RawFeature {
    /// A feature with properties and a geometry, nothing repaired.
    pub fn new(index: usize, properties: Properties, geometry: Option<Geometry<f64>>) -> RawFeature {
        RawFeature {
            index,
            properties,
            geometry,
            defect: None,
            repairs: Vec::new(),
        }
    }
}

/// What the store keeps of a unit kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitKind {
    /// A polygon unit (ZIP area, postcode area, county).
    Polygon,
    /// A point unit (PO-box ZIP) that belongs to the polygon containing it.
    Point,
}

impl UnitKind {
    /// Name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Polygon => "polygon",
            UnitKind::Point => "point",
        }
    }
}

/// A validated unit ready to store: geometry in EPSG:4326.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Unit id (ZIP code, postcode, ...).
    pub id: String,
    /// Polygon or point.
    pub kind: UnitKind,
    /// Attributes and metrics (without the id field).
    pub properties: Properties,
    /// Geometry in EPSG:4326 (MultiPolygon for polygons, Point for points).
    pub geometry: Geometry<f64>,
    /// For point units: the polygon unit containing the point, if any.
    pub parent: Option<String>,
}

/// A unit as the store reads it back (the store's `units` and `unit`).
#[derive(Debug, Clone)]
pub struct StoredUnit {
    /// Unit id.
    pub id: String,
    /// Polygon or point unit.
    pub kind: UnitKind,
    /// For point units, the polygon unit containing it.
    pub parent: Option<String>,
    /// Attributes and metrics.
    pub properties: Properties,
    /// Geometry in EPSG:4326.
    pub geometry: Geometry<f64>,
}

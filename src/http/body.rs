//! Response bodies shared by several handlers: a GeoJSON Feature and a link.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The `type` of a GeoJSON Feature.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub enum FeatureType {
    /// Always `Feature`.
    Feature,
}

/// A GeoJSON Feature (RFC 7946, EPSG:4326), as `application/geo+json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feature<P> {
    /// `Feature`.
    #[serde(rename = "type")]
    pub kind: FeatureType,
    /// Unit id or territory code.
    pub id: String,
    /// Properties.
    pub properties: P,
    /// GeoJSON geometry (MultiPolygon or Point).
    #[schema(value_type = Object, nullable)]
    pub geometry: Value,
}

impl<P> Feature<P> {
    /// A feature whose geometry is GeoJSON text (null when it cannot be read).
    pub fn new(id: String, properties: P, geometry: Option<String>) -> Feature<P> {
        Feature {
            kind: FeatureType::Feature,
            id,
            properties,
            geometry: geometry
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or(Value::Null),
        }
    }
}

/// Properties of a unit: its attributes (text) and metrics (numbers) by name, `kind`
/// and, for a point unit, `parent_unit`.
#[derive(Debug, Default, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct UnitProperties(pub BTreeMap<String, Value>);

/// A link (OGC API, RFC 8288 terms).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Link {
    /// Absolute URL.
    pub href: String,
    /// Relation: self, next, prev, items, collection, service-desc, ...
    pub rel: &'static str,
    /// Media type of the target.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Title.
    pub title: &'static str,
}

impl Link {
    /// A link to `href`.
    pub fn new(href: String, rel: &'static str, kind: &'static str, title: &'static str) -> Link {
        Link {
            href,
            rel,
            kind,
            title,
        }
    }
}

/// Path parameter `{alignment}`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AlignmentPath {
    /// Alignment name.
    #[param(example = "nyc")]
    pub alignment: String,
}

/// Path parameters `{alignment}/{collection}`.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LevelPath {
    /// Alignment name.
    #[param(example = "nyc")]
    pub alignment: String,
    /// Plural of a level name: territories, districts, regions (or the alignment's own level names).
    #[param(example = "territories")]
    pub collection: String,
}

/// Path parameter `{collectionId}` of the OGC API.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(non_snake_case)]
pub struct CollectionPath {
    /// `{alignment}-{level plural}`, e.g. `nyc-territories` or `nyc-units`.
    #[param(example = "nyc-territories")]
    pub collectionId: String,
}

//! OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0) under `/ogc`: one
//! collection per alignment level (`{alignment}-{level plural}`, units included),
//! items paged by `limit`/`offset` with `next` links, filtered by `bbox`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use geo::Rect;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::body::{CollectionPath, Link};
use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking, snapshot};
use crate::align::plural;
use crate::export::geojson::write_feature;
use crate::export::{Layer, Level};
use crate::snapshot::Snapshot;

/// Largest `limit` an items request may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// `limit` when the request gives none.
pub const DEFAULT_LIMIT: usize = 100;

const GEOJSON: &str = "application/geo+json";
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Registers the OGC API routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(landing)
        .service(conformance)
        .service(collections)
        .service(collection)
        .service(items)
        .service(item);
}

/// Absolute URL of `path` on this server.
fn url(req: &HttpRequest, path: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}{path}", info.scheme(), info.host())
}

fn link(href: String, rel: &'static str, kind: &'static str, title: &'static str) -> Link {
    Link::new(href, rel, kind, title)
}

/// The spatial extent of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpatialExtent {
    /// One box `[minlon, minlat, maxlon, maxlat]` (null for an empty collection).
    pub bbox: Vec<Option<Vec<f64>>>,
    /// CRS84.
    pub crs: &'static str,
}

/// The extent of a collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Extent {
    /// Spatial extent.
    pub spatial: SpatialExtent,
}

/// One collection: an alignment level (or its units).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    /// `{alignment}-{level plural}`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Features, alignment, dataset and revision in words.
    pub description: String,
    /// `feature`.
    pub item_type: &'static str,
    /// CRS84.
    pub crs: Vec<&'static str>,
    /// Bounding box.
    pub extent: Extent,
    /// self, items and a FlatGeobuf enclosure.
    pub links: Vec<Link>,
}

/// The landing page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Landing {
    /// `geoalign`.
    pub title: &'static str,
    /// What the service offers.
    pub description: &'static str,
    /// self, service-desc, conformance, data.
    pub links: Vec<Link>,
}

/// The conformance classes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Conformance {
    /// Core, GeoJSON and OpenAPI 3.0.
    pub conforms_to: Vec<&'static str>,
}

/// Every collection.
#[derive(Debug, Serialize, ToSchema)]
pub struct Collections {
    /// self.
    pub links: Vec<Link>,
    /// Every level (and the units) of every alignment.
    pub collections: Vec<Collection>,
}

/// The paging members of an items page, after its features.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Paging {
    /// Features that match the bbox.
    pub number_matched: usize,
    /// Features in this page.
    pub number_returned: usize,
    /// When the page was made (RFC 3339).
    pub time_stamp: String,
    /// self, and next and prev where there are such pages.
    pub links: Vec<Link>,
}

/// The `type` of a GeoJSON FeatureCollection.
#[derive(Debug, Serialize, ToSchema)]
pub enum FeatureCollectionType {
    /// Always `FeatureCollection`.
    FeatureCollection,
}

/// A page of features (`application/geo+json`); its features are written one by one
/// by the GeoJSON export, so this type only describes the body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemsPage {
    /// `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: FeatureCollectionType,
    /// GeoJSON features: id, properties (code, name, parent, reps, metrics or unit
    /// attributes), geometry.
    #[schema(value_type = Vec<Object>)]
    pub features: Vec<Value>,
    /// Counts, time stamp and links.
    #[serde(flatten)]
    pub paging: Paging,
}

/// Collection id of a level: `{alignment}-{plural}`.
fn collection_id(s: &Snapshot, level: Level) -> String {
    format!("{}-{}", s.alignment, plural(&level.name(s)))
}

/// Splits a collection id at its last `-` and loads the alignment's snapshot.
async fn resolve(
    state: &web::Data<AppState>,
    id: &str,
) -> Result<(std::sync::Arc<Snapshot>, Level), ApiError> {
    let (alignment, level) = id.rsplit_once('-').ok_or_else(|| {
        ApiError::NotFound(format!(
            "collection '{id}' (collections are named {{alignment}}-{{level}}, e.g. nyc-territories)"
        ))
    })?;
    let s = snapshot(state, alignment.to_owned()).await?;
    let level = Level::parse(&s, level).map_err(|e| ApiError::NotFound(format!("collection '{id}': {e}")))?;
    Ok((s, level))
}

fn describe(req: &HttpRequest, s: &Snapshot, level: Level) -> Collection {
    let layer = Layer::new(s, level);
    let id = collection_id(s, level);
    let bbox = layer
        .extent()
        .map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y]);
    let base = url(req, &format!("/ogc/collections/{id}"));
    Collection {
        title: format!("{} — {}", s.alignment, plural(&level.name(s))),
        description: format!(
            "{} {} of alignment '{}' (dataset '{}'), revision {}",
            layer.len(),
            plural(&level.name(s)),
            s.alignment,
            s.dataset.name,
            s.revision
        ),
        id,
        item_type: "feature",
        crs: vec![CRS84],
        extent: Extent {
            spatial: SpatialExtent {
                bbox: vec![bbox],
                crs: CRS84,
            },
        },
        links: vec![
            link(base.clone(), "self", "application/json", "this collection"),
            link(format!("{base}/items"), "items", GEOJSON, "features"),
            link(
                url(
                    req,
                    &format!("/api/alignments/{}/export/{}.fgb", s.alignment, level.name(s)),
                ),
                "enclosure",
                "application/flatgeobuf",
                "all features as FlatGeobuf",
            ),
        ],
    }
}

/// OGC API - Features landing page.
#[utoipa::path(get, path = "/ogc", operation_id = "ogcLanding", tag = "OGC API - Features",
    responses((status = 200, description = "Links to the API definition, conformance and collections",
        body = Landing)))]
#[get("/ogc")]
pub async fn landing(req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(Landing {
        title: "geoalign",
        description: "Sales-territory alignments as OGC API - Features: one collection per alignment level",
        links: vec![
            link(url(&req, "/ogc"), "self", "application/json", "this document"),
            link(
                url(&req, "/ogc/api"),
                "service-desc",
                super::openapi::OPENAPI_JSON,
                "the API definition",
            ),
            link(
                url(&req, "/ogc/conformance"),
                "conformance",
                "application/json",
                "conformance classes",
            ),
            link(
                url(&req, "/ogc/collections"),
                "data",
                "application/json",
                "collections",
            ),
        ],
    })
}

/// OGC API - Features conformance classes.
#[utoipa::path(get, path = "/ogc/conformance", operation_id = "ogcConformance", tag = "OGC API - Features",
    responses((status = 200, description = "Core, GeoJSON and OpenAPI 3.0", body = Conformance)))]
#[get("/ogc/conformance")]
pub async fn conformance() -> HttpResponse {
    HttpResponse::Ok().json(Conformance {
        conforms_to: vec![
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
            "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        ],
    })
}

/// Collections: every level (and the units) of every alignment.
#[utoipa::path(get, path = "/ogc/collections", operation_id = "ogcCollections", tag = "OGC API - Features",
    responses((status = 200, description = "Collections with extents and links", body = Collections),
        (status = 500, response = ProblemResponse)))]
#[get("/ogc/collections")]
pub async fn collections(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.engine.store().clone();
    let alignments = blocking(move || store.alignments()).await?;
    let mut out = Vec::new();
    for a in alignments {
        let s = snapshot(&state, a.name).await?;
        out.push(describe(&req, &s, Level::Unit));
        for l in 0..s.state.levels.len() {
            out.push(describe(&req, &s, Level::Alignment(l)));
        }
    }
    Ok(HttpResponse::Ok().json(Collections {
        links: vec![link(
            url(&req, "/ogc/collections"),
            "self",
            "application/json",
            "collections",
        )],
        collections: out,
    }))
}

/// One collection.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}", operation_id = "ogcCollection",
    tag = "OGC API - Features", params(CollectionPath),
    responses((status = 200, description = "The collection", body = Collection),
        (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}")]
pub async fn collection(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (s, level) = resolve(&state, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(describe(&req, &s, level)))
}

/// Query of the items endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemsQuery {
    /// minlon,minlat,maxlon,maxlat (CRS84).
    #[param(value_type = Option<Vec<f64>>, min_items = 4, max_items = 6, style = Form, explode = false)]
    pub bbox: Option<String>,
    /// Page size (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000, default = 100)]
    pub limit: Option<String>,
    /// Features to skip (follow the `next` link).
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    pub offset: Option<String>,
}

/// Parses a `bbox` parameter (4 numbers; 6 with heights, which are ignored).
pub fn parse_bbox(text: &str) -> Result<Rect<f64>, ApiError> {
    let bad = |reason: &str| ApiError::bad("bbox", format!("'{text}': {reason}"));
    let numbers: Vec<f64> = text
        .split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("expected minlon,minlat,maxlon,maxlat"))?;
    let (x0, y0, x1, y1) = match numbers[..] {
        [a, b, c, d] => (a, b, c, d),
        [a, b, _, c, d, _] => (a, b, c, d),
        _ => return Err(bad("expected 4 numbers")),
    };
    if numbers.iter().any(|v| !v.is_finite())
        || y0 > y1
        || !(-90.0..=90.0).contains(&y0)
        || !(-90.0..=90.0).contains(&y1)
    {
        return Err(bad("latitudes must lie in -90..90 with min <= max"));
    }
    if x0 > x1 {
        return Err(bad(
            "boxes crossing the antimeridian are not supported: give minlon <= maxlon",
        ));
    }
    Ok(Rect::new((x0, y0), (x1, y1)))
}

fn parse_count(name: &str, text: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(text) = text else {
        return Ok(default);
    };
    let value: usize = text
        .trim()
        .parse()
        .map_err(|_| ApiError::bad(name, format!("'{text}' is not a non-negative integer")))?;
    if value > max {
        return Err(ApiError::bad(name, format!("{value} exceeds the maximum {max}")));
    }
    Ok(value)
}

fn feature_json(layer: &Layer, i: usize, links: Vec<Link>) -> Result<Value, ApiError> {
    let record = layer.record(i);
    let mut buf = Vec::new();
    let worker = |e: &dyn std::fmt::Display| ApiError::Worker(e.to_string());
    write_feature(&mut buf, layer, &record).map_err(|e| worker(&e))?;
    let mut value: Value = serde_json::from_slice(&buf).map_err(|e| worker(&e))?;
    value["links"] = serde_json::to_value(links).map_err(|e| worker(&e))?;
    Ok(value)
}

/// Features of a collection.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/items", operation_id = "ogcItems",
    tag = "OGC API - Features", params(CollectionPath, ItemsQuery),
    responses((status = 200, description = "A page of features with numberMatched, numberReturned and next/prev links",
            body = ItemsPage, content_type = "application/geo+json"),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}/items")]
pub async fn items(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<ItemsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = parse_count("limit", query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    if limit == 0 {
        return Err(ApiError::bad("limit", "must be at least 1"));
    }
    let offset = parse_count("offset", query.offset.as_deref(), 0, usize::MAX)?;
    let bbox = query.bbox.as_deref().map(parse_bbox).transpose()?;
    let id = path.into_inner();
    let (s, level) = resolve(&state, &id).await?;
    let base = url(&req, &format!("/ogc/collections/{id}/items"));
    let bbox_text = query.bbox.clone();
    let body = blocking(move || -> Result<Vec<u8>, ApiError> {
        let layer = Layer::new(&s, level);
        let matched: Vec<usize> = match bbox {
            Some(b) => layer.within(b),
            None => (0..layer.len()).collect(),
        };
        let page: Vec<usize> = matched.iter().copied().skip(offset).take(limit).collect();
        let page_url = |offset: usize| {
            let mut u = format!("{base}?limit={limit}&offset={offset}");
            if let Some(b) = &bbox_text {
                u.push_str("&bbox=");
                u.push_str(b);
            }
            u
        };
        let mut links = vec![link(page_url(offset), "self", GEOJSON, "this page")];
        if offset + page.len() < matched.len() {
            links.push(link(page_url(offset + page.len()), "next", GEOJSON, "next page"));
        }
        if offset > 0 {
            links.push(link(
                page_url(offset.saturating_sub(limit)),
                "prev",
                GEOJSON,
                "previous page",
            ));
        }
        let mut out = Vec::new();
        let io = |e: std::io::Error| ApiError::Worker(e.to_string());
        use std::io::Write;
        out.write_all(br#"{"type":"FeatureCollection","features":["#)
            .map_err(io)?;
        for (n, &i) in page.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            write_feature(&mut out, &layer, &layer.record(i)).map_err(io)?;
        }
        let tail = Paging {
            number_matched: matched.len(),
            number_returned: page.len(),
            time_stamp: now_rfc3339(),
            links,
        };
        let tail = serde_json::to_string(&tail).map_err(|e| ApiError::Worker(e.to_string()))?;
        write!(out, "],{}", &tail[1..]).map_err(io)?;
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok().content_type(GEOJSON).body(body))
}

/// One feature.
///
/// The GeoJSON feature (unit or territory) as the GeoJSON export writes it, with
/// self and collection links.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/items/{featureId}", operation_id = "ogcItem",
    tag = "OGC API - Features",
    params(CollectionPath, ("featureId" = String, Path, description = "Unit id or territory code",
        example = "T1000")),
    responses((status = 200, description = "The feature", body = Object, content_type = "application/geo+json"),
        (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}/items/{featureId}")]
pub async fn item(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, feature) = path.into_inner();
    let (s, level) = resolve(&state, &id).await?;
    let layer = Layer::new(&s, level);
    let i = layer
        .position(&feature)
        .ok_or_else(|| ApiError::NotFound(format!("feature '{feature}' not in collection '{id}'")))?;
    let links = vec![
        link(
            url(&req, &format!("/ogc/collections/{id}/items/{feature}")),
            "self",
            GEOJSON,
            "this feature",
        ),
        link(
            url(&req, &format!("/ogc/collections/{id}")),
            "collection",
            "application/json",
            "the collection",
        ),
    ];
    let value = feature_json(&layer, i, links)?;
    Ok(HttpResponse::Ok().content_type(GEOJSON).json(value))
}

/// The current time as RFC 3339 UTC (seconds).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

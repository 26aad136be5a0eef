//! OGC API - Features Part 1 (Core, GeoJSON, OpenAPI 3.0) under `/ogc`: one
//! collection per alignment level (`{alignment}-{level plural}`, units included),
//! items paged by `limit`/`offset` with `next` links, filtered by `bbox`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use geo::Rect;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::auth::Viewer;
use super::body::{CollectionPath, Link};
use super::cql2::Filter;
use super::problem::ProblemResponse;
use super::query::Query;
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
/// The OGC URI of WGS 84 longitude/latitude.
pub(crate) const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Registers the OGC API routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(landing)
        .service(conformance)
        .service(collections)
        .service(collection)
        .service(items)
        .service(queryables)
        .service(item);
}

/// Absolute URL of `path` on this server.
pub(crate) fn url(req: &HttpRequest, path: &str) -> String {
    format!("{}{path}", super::origin::origin(req))
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
    /// The CRSs items can be served in (`crs` parameter): CRS84, EPSG:4326, EPSG:3857.
    pub crs: Vec<&'static str>,
    /// The CRS the geometries are stored in: CRS84.
    pub storage_crs: &'static str,
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
    /// Features Core, GeoJSON, OpenAPI 3.0, CRS, Queryables, Filter, CQL2-text.
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
pub(crate) async fn resolve(
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
    let bbox = layer.span().map(|b| b.to_vec());
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
        crs: CRS_URIS.to_vec(),
        storage_crs: CRS84,
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
                format!("{base}/tiles"),
                super::ogc_tiles::REL_TILESETS_VECTOR,
                "application/json",
                "vector tiles",
            ),
            link(
                format!("{base}/queryables"),
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "properties for filter",
            ),
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
pub async fn landing(_: Viewer, req: HttpRequest) -> HttpResponse {
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
            link(
                url(&req, "/ogc/tileMatrixSets"),
                super::ogc_tiles::REL_TILING_SCHEMES,
                "application/json",
                "tile matrix sets",
            ),
        ],
    })
}

/// OGC API - Features conformance classes.
#[utoipa::path(get, path = "/ogc/conformance", operation_id = "ogcConformance", tag = "OGC API - Features",
    responses((status = 200, description = "Core, GeoJSON, OpenAPI 3.0, CRS, queryables, filter and CQL2-text",
        body = Conformance)))]
#[get("/ogc/conformance")]
pub async fn conformance(_: Viewer) -> HttpResponse {
    let mut conforms_to = vec![
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    ];
    conforms_to.extend(super::ogc_tiles::CONFORMANCE);
    HttpResponse::Ok().json(Conformance { conforms_to })
}

/// Collections: every level (and the units) of every alignment.
#[utoipa::path(get, path = "/ogc/collections", operation_id = "ogcCollections", tag = "OGC API - Features",
    responses((status = 200, description = "Collections with extents and links", body = Collections),
        (status = 500, response = ProblemResponse)))]
#[get("/ogc/collections")]
pub async fn collections(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
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
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (s, level) = resolve(&state, &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(describe(&req, &s, level)))
}

/// Query of the items endpoint: any other parameter is refused (400).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    /// minlon,minlat,maxlon,maxlat in `bbox-crs` (default CRS84); west > east crosses the
    /// antimeridian. Features whose geometry intersects the box.
    #[param(value_type = Option<Vec<f64>>, min_items = 4, max_items = 6, style = Form, explode = false)]
    pub bbox: Option<String>,
    /// CRS of `bbox`: CRS84 (default), EPSG:4326 (lat,lon order) or EPSG:3857, as
    /// `http://www.opengis.net/def/crs/EPSG/0/3857` or `EPSG:3857`.
    #[serde(rename = "bbox-crs")]
    #[param(rename = "bbox-crs", value_type = Option<String>)]
    pub bbox_crs: Option<String>,
    /// CRS of the response geometries (`Content-Crs` says which): CRS84 (default),
    /// EPSG:4326 (lat,lon order) or EPSG:3857.
    #[param(value_type = Option<String>)]
    pub crs: Option<String>,
    /// RFC 3339 instant or interval (`a/b`, `../b`, `a/..`). The collections have no
    /// temporal geometry, so every feature matches (`/req/core/fc-time-response` C);
    /// malformed values are refused.
    #[param(value_type = Option<String>)]
    pub datetime: Option<String>,
    /// CQL2-text on the queryables, e.g. `population > 100000 AND state = 'CO'`
    /// (comparisons, LIKE, BETWEEN, IN, IS NULL, AND, OR, NOT).
    #[param(value_type = Option<String>)]
    pub filter: Option<String>,
    /// `cql2-text` (the default and only language).
    #[serde(rename = "filter-lang")]
    #[param(rename = "filter-lang", value_type = Option<String>)]
    pub filter_lang: Option<String>,
    /// CRS of geometry literals in `filter`: CRS84 only.
    #[serde(rename = "filter-crs")]
    #[param(rename = "filter-crs", value_type = Option<String>)]
    pub filter_crs: Option<String>,
    /// Page size (default 100; above 10000 is served as 10000 with a next link).
    #[param(value_type = Option<u32>, minimum = 1, default = 100)]
    pub limit: Option<String>,
    /// Features to skip (follow the `next` link).
    #[param(value_type = Option<u32>, minimum = 0, default = 0)]
    pub offset: Option<String>,
    /// Response format: `json` or `geojson` (the only one).
    #[param(value_type = Option<String>)]
    pub f: Option<String>,
}

/// A coordinate reference system the OGC API reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// WGS 84 lon/lat (the default; the storage CRS).
    Crs84,
    /// WGS 84 in the EPSG axis order, lat/lon.
    Epsg4326,
    /// Web Mercator metres.
    Epsg3857,
}

/// The CRSs every collection offers, as URIs.
pub const CRS_URIS: [&str; 3] = [
    CRS84,
    "http://www.opengis.net/def/crs/EPSG/0/4326",
    "http://www.opengis.net/def/crs/EPSG/0/3857",
];

const EARTH_RADIUS: f64 = 6_378_137.0;

impl Crs {
    /// Parses a CRS URI, safe CURIE (`[EPSG:3857]`) or `EPSG:3857`.
    pub fn parse(parameter: &str, text: &str) -> Result<Crs, ApiError> {
        let t = text.trim().trim_start_matches('[').trim_end_matches(']');
        let t = t
            .strip_prefix("http://www.opengis.net/def/crs/")
            .or_else(|| t.strip_prefix("https://www.opengis.net/def/crs/"))
            .unwrap_or(t);
        match t
            .to_ascii_uppercase()
            .replace("/0/", ":")
            .replace("/1.3/", ":")
            .as_str()
        {
            "OGC:CRS84" | "CRS84" => Ok(Crs::Crs84),
            "EPSG:4326" => Ok(Crs::Epsg4326),
            "EPSG:3857" => Ok(Crs::Epsg3857),
            _ => Err(ApiError::bad(
                parameter,
                format!("'{text}': supported are {}", CRS_URIS.join(", ")),
            )),
        }
    }

    /// The URI.
    pub fn uri(self) -> &'static str {
        match self {
            Crs::Crs84 => CRS_URIS[0],
            Crs::Epsg4326 => CRS_URIS[1],
            Crs::Epsg3857 => CRS_URIS[2],
        }
    }

    /// A coordinate of this CRS as lon/lat.
    pub fn to_lonlat(self, (a, b): (f64, f64)) -> (f64, f64) {
        match self {
            Crs::Crs84 => (a, b),
            Crs::Epsg4326 => (b, a),
            Crs::Epsg3857 => (
                (a / EARTH_RADIUS).to_degrees(),
                (2.0 * (b / EARTH_RADIUS).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees(),
            ),
        }
    }

    /// A lon/lat coordinate in this CRS.
    pub fn from_lonlat(self, c: geo::Coord<f64>) -> geo::Coord<f64> {
        match self {
            Crs::Crs84 => c,
            Crs::Epsg4326 => geo::Coord { x: c.y, y: c.x },
            Crs::Epsg3857 => {
                let lat = c.y.clamp(-85.051_128_78, 85.051_128_78).to_radians();
                geo::Coord {
                    x: EARTH_RADIUS * c.x.to_radians(),
                    y: EARTH_RADIUS * (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln(),
                }
            }
        }
    }
}

/// Whether `t` is an RFC 3339 full-date or date-time.
fn rfc3339(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date = b.len() >= 10 && digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10);
    if !date {
        return false;
    }
    let rest = &t[10..];
    if rest.is_empty() {
        return true;
    }
    let Some(time) = rest.strip_prefix(['T', 't']) else {
        return false;
    };
    let tb = time.as_bytes();
    let two = |at: usize| {
        tb.get(at..at + 2)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    let hms = tb.len() >= 8 && two(0) && tb[2] == b':' && two(3) && tb[5] == b':' && two(6);
    if !hms {
        return false;
    }
    let zone = time[8..].trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
    zone.eq_ignore_ascii_case("z")
        || (zone.len() == 6 && (zone.starts_with('+') || zone.starts_with('-')) && &zone[3..4] == ":")
}

/// Checks a `datetime` value: an RFC 3339 date or date-time, or an interval of two
/// (either end, not both, `..` or empty).
pub fn check_datetime(text: &str) -> Result<(), ApiError> {
    let open = |t: &str| t.is_empty() || t == "..";
    let ok = match text.split_once('/') {
        None => rfc3339(text),
        Some((a, b)) => (open(a) || rfc3339(a)) && (open(b) || rfc3339(b)) && !(open(a) && open(b)),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(
            "datetime",
            format!("'{text}': expected an RFC 3339 instant or interval"),
        ))
    }
}

/// Parses a `bbox` parameter (4 numbers; 6 with heights, which are ignored) given in
/// `crs`: one lon/lat box, or two when it crosses the antimeridian (west > east).
pub fn parse_bbox(text: &str, crs: Crs) -> Result<Vec<Rect<f64>>, ApiError> {
    let bad = |reason: &str| ApiError::bad("bbox", format!("'{text}': {reason}"));
    let numbers: Vec<f64> = text
        .split(',')
        .map(|t| t.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("expected minlon,minlat,maxlon,maxlat"))?;
    let (a, b, c, d) = match numbers[..] {
        [a, b, c, d] => (a, b, c, d),
        [a, b, _, c, d, _] => (a, b, c, d),
        _ => return Err(bad("expected 4 numbers")),
    };
    if numbers.iter().any(|v| !v.is_finite()) {
        return Err(bad("numbers must be finite"));
    }
    let (x0, y0) = crs.to_lonlat((a, b));
    let (x1, y1) = crs.to_lonlat((c, d));
    if y0 > y1 || !(-90.0..=90.0).contains(&y0) || !(-90.0..=90.0).contains(&y1) {
        return Err(bad("latitudes must lie in -90..90 with min <= max"));
    }
    if x0 > x1 {
        return Ok(vec![
            Rect::new((x0, y0), (180.0, y1)),
            Rect::new((-180.0, y0), (x1, y1)),
        ]);
    }
    Ok(vec![Rect::new((x0, y0), (x1, y1))])
}

/// A count parameter; above `max` it is `max` (`limit`: served with a next link).
fn parse_count(name: &str, text: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    let Some(text) = text else {
        return Ok(default);
    };
    let value: usize = text
        .trim()
        .parse()
        .map_err(|_| ApiError::bad(name, format!("'{text}' is not a non-negative integer")))?;
    Ok(value.min(max))
}

fn feature_json(layer: &Layer, i: usize, crs: Crs, links: Vec<Link>) -> Result<Value, ApiError> {
    let record = in_crs(layer.record(i), crs);
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
    responses((status = 200, description = "A page of features with numberMatched, numberReturned and next/prev links \
            (Content-Crs names the CRS of the geometries)",
            body = ItemsPage, content_type = "application/geo+json"),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}/items")]
pub async fn items(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: Query<ItemsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let limit = parse_count("limit", query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    if limit == 0 {
        return Err(ApiError::bad("limit", "must be at least 1"));
    }
    let offset = parse_count("offset", query.offset.as_deref(), 0, usize::MAX)?;
    let bbox_crs = query
        .bbox_crs
        .as_deref()
        .map_or(Ok(Crs::Crs84), |t| Crs::parse("bbox-crs", t))?;
    let crs = query
        .crs
        .as_deref()
        .map_or(Ok(Crs::Crs84), |t| Crs::parse("crs", t))?;
    let boxes = query
        .bbox
        .as_deref()
        .map(|b| parse_bbox(b, bbox_crs))
        .transpose()?;
    if let Some(d) = query.datetime.as_deref() {
        check_datetime(d)?;
    }
    check_filter_options(&query)?;
    if let Some(f) = query.f.as_deref().filter(|f| !matches!(*f, "json" | "geojson")) {
        return Err(ApiError::bad(
            "f",
            format!("'{f}': only json (GeoJSON) is served"),
        ));
    }
    let id = path.into_inner();
    let (s, level) = resolve(&state, &id).await?;
    let base = url(&req, &format!("/ogc/collections/{id}/items"));
    // The other parameters of this request, as the page links repeat them.
    let kept: Vec<String> = req
        .query_string()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("limit=") && !p.starts_with("offset="))
        .map(str::to_owned)
        .collect();
    let filter_text = query.filter.clone();
    let body = blocking(move || -> Result<Vec<u8>, ApiError> {
        let layer = Layer::new(&s, level);
        let filter = filter_text
            .as_deref()
            .map(|t| Filter::parse(t, &layer.columns).map_err(|e| ApiError::bad("filter", e)))
            .transpose()?;
        let mut matched: Vec<usize> = match &boxes {
            Some(boxes) => intersecting(&layer, boxes),
            None => (0..layer.len()).collect(),
        };
        if let Some(filter) = &filter {
            matched.retain(|&i| filter.matches(&layer.record(i).fields));
        }
        let page: Vec<usize> = matched.iter().copied().skip(offset).take(limit).collect();
        let page_url = |offset: usize| {
            let mut u = format!("{base}?limit={limit}&offset={offset}");
            for p in &kept {
                u.push('&');
                u.push_str(p);
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
            write_feature(&mut out, &layer, &in_crs(layer.record(i), crs)).map_err(io)?;
        }
        let tail = Paging {
            number_matched: matched.len(),
            number_returned: page.len(),
            time_stamp: crate::engine::jobs::now_rfc3339(),
            links,
        };
        let tail = serde_json::to_string(&tail).map_err(|e| ApiError::Worker(e.to_string()))?;
        write!(out, "],{}", &tail[1..]).map_err(io)?;
        Ok(out)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", format!("<{}>", crs.uri())))
        .body(body))
}

/// Refuses a `filter-lang` other than CQL2-text and a `filter-crs` other than CRS84.
fn check_filter_options(query: &ItemsQuery) -> Result<(), ApiError> {
    if let Some(lang) = query.filter_lang.as_deref()
        && !lang.eq_ignore_ascii_case("cql2-text")
    {
        return Err(ApiError::bad("filter-lang", format!("'{lang}': only cql2-text")));
    }
    if let Some(crs) = query.filter_crs.as_deref()
        && Crs::parse("filter-crs", crs)? != Crs::Crs84
    {
        return Err(ApiError::bad("filter-crs", format!("'{crs}': only CRS84")));
    }
    Ok(())
}

/// Features whose geometry intersects one of `boxes` (lon/lat), in layer order.
fn intersecting(layer: &Layer, boxes: &[Rect<f64>]) -> Vec<usize> {
    use geo::Intersects;
    let mut out: Vec<usize> = boxes
        .iter()
        .flat_map(|b| {
            layer
                .within(*b)
                .into_iter()
                .filter(|&i| layer.geometry(i).is_some_and(|g| g.intersects(b)))
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A record with its geometry in `crs`.
fn in_crs(mut record: crate::export::Record, crs: Crs) -> crate::export::Record {
    use geo::MapCoords;
    if crs != Crs::Crs84 {
        record.geometry = record.geometry.map(|g| g.map_coords(|c| crs.from_lonlat(c)));
    }
    record
}

/// One feature.
///
/// The GeoJSON feature (unit or territory) as the GeoJSON export writes it, with
/// self and collection links.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/items/{featureId}", operation_id = "ogcItem",
    tag = "OGC API - Features",
    params(CollectionPath, ("featureId" = String, Path, description = "Unit id or territory code",
        example = "T1000"), FeatureQuery),
    responses((status = 200, description = "The feature", body = Object, content_type = "application/geo+json"),
        (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}/items/{featureId}")]
pub async fn item(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    query: Query<FeatureQuery>,
) -> Result<HttpResponse, ApiError> {
    let crs = query
        .crs
        .as_deref()
        .map_or(Ok(Crs::Crs84), |t| Crs::parse("crs", t))?;
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
    let value = feature_json(&layer, i, crs, links)?;
    Ok(HttpResponse::Ok()
        .content_type(GEOJSON)
        .insert_header(("Content-Crs", format!("<{}>", crs.uri())))
        .json(value))
}

/// Query of one feature: any other parameter is refused (400).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeatureQuery {
    /// CRS of the geometry: CRS84 (default), EPSG:4326 (lat,lon order) or EPSG:3857.
    #[param(value_type = Option<String>)]
    pub crs: Option<String>,
    /// Response format: `json` or `geojson`.
    #[param(value_type = Option<String>)]
    pub f: Option<String>,
}

/// The queryables of a collection: its columns as a JSON Schema (for `filter`).
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/queryables", operation_id = "ogcQueryables",
    tag = "OGC API - Features", params(CollectionPath),
    responses((status = 200, description = "JSON Schema of the properties `filter` may name", body = Object,
            content_type = "application/schema+json"),
        (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}/queryables")]
pub async fn queryables(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (s, level) = resolve(&state, &id).await?;
    let layer = Layer::new(&s, level);
    let properties: serde_json::Map<String, Value> = layer
        .columns
        .iter()
        .map(|c| {
            let schema = serde_json::json!({
                "title": c.name,
                "type": super::cql2::schema_type(c.kind),
            });
            (c.name.clone(), schema)
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(&req, &format!("/ogc/collections/{id}/queryables")),
        "type": "object",
        "title": format!("{id} queryables"),
        "properties": properties,
        "additionalProperties": false,
    });
    Ok(HttpResponse::Ok()
        .content_type("application/schema+json")
        .json(doc))
}

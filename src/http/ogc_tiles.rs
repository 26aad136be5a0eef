//! OGC API - Tiles (Core, TileSet, TileSets list, geodata tilesets, MVT) and OGC
//! Two Dimensional Tile Matrix Set (`WebMercatorQuad`) over the alignment tiles, under
//! `/ogc`, so GDAL's OGCAPI driver and QGIS find them from the landing page:
//! - `GET /ogc/tileMatrixSets`, `GET /ogc/tileMatrixSets/WebMercatorQuad`;
//! - `GET /ogc/collections/{c}/tiles` (the list), `.../tiles/WebMercatorQuad` (the tileset);
//! - `GET /ogc/collections/{c}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`:
//!   the tile of `/tiles/{alignment}/{z}/{x}/{y}.mvt` (every layer of the alignment;
//!   the collection's level is its layer of the same name).

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::{Value, json};

use super::auth::Viewer;
use super::body::CollectionPath;
use super::ogc::{CRS84, url};
use super::problem::ProblemResponse;
use super::tiles::{MVT_CONTENT_TYPE, TileHeaders, TileResponses};
use super::{ApiError, AppState};
use crate::tiles::tilejson;

/// The one tile matrix set.
pub const WEB_MERCATOR_QUAD: &str = "WebMercatorQuad";
const TMS_URI: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
const EPSG_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";
/// Relation of a collection's vector tilesets link.
pub const REL_TILESETS_VECTOR: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";
/// Relation of the landing page's tile matrix sets link.
pub const REL_TILING_SCHEMES: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes";

/// The conformance classes of OGC API - Tiles and TMS this module implements.
pub const CONFORMANCE: [&str; 8] = [
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
];

/// Half the width of the Web Mercator square, metres.
const HALF: f64 = 20_037_508.342_789_244;

/// Registers the tile routes of the OGC API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(matrix_sets)
        .service(matrix_set)
        .service(tilesets)
        .service(tileset)
        .service(tile);
}

/// The tile matrix sets.
#[utoipa::path(get, path = "/ogc/tileMatrixSets", operation_id = "ogcTileMatrixSets", tag = "OGC API - Tiles",
    responses((status = 200, description = "WebMercatorQuad", body = Object)))]
#[get("/ogc/tileMatrixSets")]
pub async fn matrix_sets(_: Viewer, req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "tileMatrixSets": [{
        "id": WEB_MERCATOR_QUAD,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "links": [{ "href": url(&req, "/ogc/tileMatrixSets/WebMercatorQuad"), "rel": "self",
            "type": "application/json", "title": "WebMercatorQuad" }],
    }]}))
}

/// The `WebMercatorQuad` tile matrix set (OGC 17-083r4), zooms 0 to 24, in the JSON
/// encoding of TMS 2.0 with the members of the 1.0 encoding beside (`type`, `identifier`,
/// `supportedCRS`, `boundingBox` corners, each matrix's `identifier` and `topLeftCorner`),
/// which the parser of GDAL 3.6 (Debian 12's) needs to read it.
#[utoipa::path(get, path = "/ogc/tileMatrixSets/WebMercatorQuad", operation_id = "ogcTileMatrixSet",
    tag = "OGC API - Tiles",
    responses((status = 200, description = "The tile matrix set definition (JSON encoding)", body = Object)))]
#[get("/ogc/tileMatrixSets/WebMercatorQuad")]
pub async fn matrix_set(_: Viewer) -> HttpResponse {
    let matrices: Vec<Value> = (0..=24u32)
        .map(|z| {
            let n = 1u64 << z;
            json!({
                "id": z.to_string(),
                "identifier": z.to_string(),
                "topLeftCorner": [-HALF, HALF],
                "scaleDenominator": 559_082_264.028_717_8 / n as f64,
                "cellSize": 156_543.033_928_041 / n as f64,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-HALF, HALF],
                "tileWidth": 256, "tileHeight": 256,
                "matrixWidth": n, "matrixHeight": n,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "id": WEB_MERCATOR_QUAD,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": EPSG_3857,
        "type": "TileMatrixSetType",
        "identifier": WEB_MERCATOR_QUAD,
        "supportedCRS": EPSG_3857,
        "boundingBox": { "crs": EPSG_3857, "lowerLeft": [-HALF, -HALF], "upperRight": [HALF, HALF],
            "lowerCorner": [-HALF, -HALF], "upperCorner": [HALF, HALF] },
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }))
}

/// The alignment a collection belongs to and its level's layer name.
async fn collection_tiles(state: &web::Data<AppState>, id: &str) -> Result<(String, String), ApiError> {
    let (s, level) = super::ogc::resolve(state, id).await?;
    let layer = match level {
        crate::export::Level::Unit => "units".to_owned(),
        crate::export::Level::Alignment(l) => crate::align::plural(&s.state.levels[l]),
        crate::export::Level::Accounts => "accounts".to_owned(),
    };
    Ok((s.alignment.clone(), layer))
}

/// The vector tilesets of a collection: one, in WebMercatorQuad.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/tiles", operation_id = "ogcTilesets",
    tag = "OGC API - Tiles", params(CollectionPath),
    responses((status = 200, description = "The tilesets list", body = Object),
        (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}/tiles")]
pub async fn tilesets(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    collection_tiles(&state, &id).await?;
    let base = url(&req, &format!("/ogc/collections/{id}/tiles/WebMercatorQuad"));
    Ok(HttpResponse::Ok().json(json!({ "tilesets": [{
        "title": format!("{id} vector tiles"),
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "links": [
            { "href": base, "rel": "self", "type": "application/json", "title": "the tileset" },
            { "href": url(&req, "/ogc/tileMatrixSets/WebMercatorQuad"), "rel": REL_TILING_SCHEME,
              "type": "application/json", "title": "WebMercatorQuad" },
        ],
    }]})))
}

/// The vector tileset of a collection in WebMercatorQuad: tile URL template, zoom
/// limits and layers.
#[utoipa::path(get, path = "/ogc/collections/{collectionId}/tiles/WebMercatorQuad", operation_id = "ogcTileset",
    tag = "OGC API - Tiles", params(CollectionPath),
    responses((status = 200, description = "The tileset", body = Object),
        (status = 404, response = ProblemResponse)))]
#[get("/ogc/collections/{collectionId}/tiles/WebMercatorQuad")]
pub async fn tileset(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (alignment, layer) = collection_tiles(&state, &id).await?;
    let service = state.tiles.clone();
    let view = super::blocking(move || service.view(&alignment)).await?;
    let options = state.tiles.options();
    let doc = tilejson::tilejson(&view, &super::origin::origin(&req), options);
    let fields = doc["vector_layers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["id"] == layer.as_str());
    let minzoom = fields
        .and_then(|l| l["minzoom"].as_u64())
        .unwrap_or(u64::from(options.minzoom));
    let base = url(&req, &format!("/ogc/collections/{id}/tiles/WebMercatorQuad"));
    // Only the tiles the data touches: a client sampling the middle of the limits to learn
    // the layers (GDAL does) finds features there, not an empty tile of the ocean.
    let limits: Vec<Value> = (options.minzoom..=options.maxzoom)
        .filter_map(|z| Some((z, tilejson::tile_limits(&view, z)?)))
        .map(|(z, (min_col, min_row, max_col, max_row))| {
            json!({ "tileMatrix": z.to_string(), "minTileRow": min_row, "maxTileRow": max_row,
                "minTileCol": min_col, "maxTileCol": max_col })
        })
        .collect();
    let [lon, lat, zoom] = tilejson::center(&view, options);
    let bbox = mercator_box(view.span());
    Ok(HttpResponse::Ok().json(json!({
        "title": format!("{id} vector tiles"),
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": limits,
        "boundingBox": bbox,
        "centerPoint": { "coordinates": [lon, lat], "crs": CRS84, "tileMatrix": zoom.to_string() },
        "layers": [{ "id": layer, "dataType": "vector", "geometryDimension": 2,
            "minTileMatrix": minzoom.to_string(), "maxTileMatrix": options.maxzoom.to_string(),
            "boundingBox": bbox,
            "propertiesSchema": fields.map(tilejson::properties_schema) }],
        "links": [
            { "href": base, "rel": "self", "type": "application/json", "title": "this tileset" },
            { "href": url(&req, "/ogc/tileMatrixSets/WebMercatorQuad"), "rel": REL_TILING_SCHEME,
              "type": "application/json", "title": "WebMercatorQuad" },
            { "href": format!("{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"), "rel": "item",
              "type": MVT_CONTENT_TYPE, "templated": true, "title": "Mapbox vector tiles" },
        ],
    })))
}

/// A `boundingBox` in the tileset's CRS (EPSG:3857 metres; GDAL reads the corners so
/// whatever `crs` says) of world box `b` (`x0 > x1` across the antimeridian: the whole
/// width, which one box cannot say otherwise).
fn mercator_box(b: crate::tiles::prepared::WorldBox) -> Value {
    if b[1] > b[3] {
        return json!({ "lowerLeft": [-HALF, -HALF], "upperRight": [HALF, HALF], "crs": EPSG_3857 });
    }
    let (x0, x1) = if b[0] <= b[2] { (b[0], b[2]) } else { (0.0, 1.0) };
    let metres = |v: f64| ((v - 0.5) * 2.0 * HALF * 100.0).round() / 100.0;
    json!({ "lowerLeft": [metres(x0), -metres(b[3])], "upperRight": [metres(x1), -metres(b[1])],
        "crs": EPSG_3857 })
}

/// Path parameters of an OGC tile.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(non_snake_case)]
pub struct OgcTilePath {
    /// The collection, e.g. `nyc-territories`.
    #[param(example = "nyc-territories")]
    pub collectionId: String,
    /// Zoom level.
    #[param(example = 12)]
    pub tileMatrix: u32,
    /// Row from the north.
    #[param(example = 1539)]
    pub tileRow: u32,
    /// Column.
    #[param(example = 1205)]
    pub tileCol: u32,
}

/// A vector tile of a collection (the alignment's tile of the current revision).
#[utoipa::path(
    get,
    path = "/ogc/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}",
    operation_id = "ogcTile",
    tag = "OGC API - Tiles",
    params(OgcTilePath, TileHeaders),
    responses(TileResponses)
)]
#[get("/ogc/collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")]
pub async fn tile(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, u32, u32, u32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, z, row, col) = path.into_inner();
    let (alignment, _) = collection_tiles(&state, &id).await?;
    super::tiles::serve_tile(&req, &state, alignment, None, (z, col, row)).await
}

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
use super::ogc::url;
use super::problem::ProblemResponse;
use super::tiles::{MVT_CONTENT_TYPE, TileHeaders, TileResponses};
use super::{ApiError, AppState};

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

/// The `WebMercatorQuad` tile matrix set (OGC 17-083r4), zooms 0 to 24.
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
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }))
}

/// The alignment a collection belongs to, its level's layer name and the tile zooms.
async fn collection_tiles(
    state: &web::Data<AppState>,
    id: &str,
) -> Result<(String, String, u8, u8), ApiError> {
    let (s, level) = super::ogc::resolve(state, id).await?;
    let layer = match level {
        crate::export::Level::Unit => "units".to_owned(),
        crate::export::Level::Alignment(l) => crate::align::plural(&s.state.levels[l]),
    };
    let options = state.tiles.options();
    Ok((s.alignment.clone(), layer, options.minzoom, options.maxzoom))
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
    let (_, layer, minzoom, maxzoom) = collection_tiles(&state, &id).await?;
    let base = url(&req, &format!("/ogc/collections/{id}/tiles/WebMercatorQuad"));
    let limits: Vec<Value> = (minzoom..=maxzoom)
        .map(|z| {
            let last = (1u64 << z) - 1;
            json!({ "tileMatrix": z.to_string(), "minTileRow": 0, "maxTileRow": last,
                "minTileCol": 0, "maxTileCol": last })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "title": format!("{id} vector tiles"),
        "dataType": "vector",
        "crs": EPSG_3857,
        "tileMatrixSetURI": TMS_URI,
        "tileMatrixSetLimits": limits,
        "layers": [{ "id": layer, "dataType": "vector", "geometryDimension": 2,
            "minTileMatrix": minzoom.to_string(), "maxTileMatrix": maxzoom.to_string() }],
        "links": [
            { "href": base, "rel": "self", "type": "application/json", "title": "this tileset" },
            { "href": url(&req, "/ogc/tileMatrixSets/WebMercatorQuad"), "rel": REL_TILING_SCHEME,
              "type": "application/json", "title": "WebMercatorQuad" },
            { "href": format!("{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"), "rel": "item",
              "type": MVT_CONTENT_TYPE, "templated": true, "title": "Mapbox vector tiles" },
        ],
    })))
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
    let (alignment, ..) = collection_tiles(&state, &id).await?;
    super::tiles::serve_tile(&req, &state, alignment, None, (z, col, row)).await
}

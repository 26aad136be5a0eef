//! Vector tiles, TileJSON, styles, glyphs and the map viewer.
//!
//! - `GET /tiles/{alignment}.json`: TileJSON 3.0 whose tile URL carries the current revision;
//! - `GET /tiles/{alignment}/{revision}/{z}/{x}/{y}.mvt`: immutable tiles of one revision;
//! - `GET /tiles/{alignment}/{z}/{x}/{y}.mvt`: the current revision, short max-age;
//! - `GET /styles/{name}.json?alignment=A`: a MapLibre style with URLs resolved;
//! - `GET /fonts/{fontstack}/{range}.pbf`: SDF glyphs for labels;
//! - `GET /` and `GET /web/...`: the map viewer (files of `web/`).
//!
//! Tiles: ETag from the tile's bytes and `If-None-Match` -> 304, gzip bytes cached once
//! and sent for `Accept-Encoding: gzip`, HEAD, 204 for an empty tile, CORS for map
//! clients on other origins. Which thread renders a tile is the tile service's
//! decision ([`crate::tiles::TileService::tile_inline`]).

use std::path::{Component, Path, PathBuf};

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Viewer;
use super::body::AlignmentPath;
use super::problem::ProblemResponse;
use super::query::Query;
use super::{ApiError, AppState, blocking};
use crate::tiles::service::Inline;
use crate::tiles::{EncodedTile, style, tile_id, tilejson};

/// Content type of Mapbox Vector Tiles.
pub const MVT_CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";
/// Cache-Control of versioned tile URLs.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control of the unversioned tile URL.
pub const SHORT: &str = "public, max-age=30";

/// The documented paths that answer a CORS preflight (`OPTIONS`), as registered below.
pub const PREFLIGHT_PATHS: [&str; 5] = [
    "/tiles/{alignment}.json",
    "/tiles/{alignment}/{revision}/{z}/{x}/{y}.mvt",
    "/tiles/{alignment}/{z}/{x}/{y}.mvt",
    "/styles/{name}.json",
    "/fonts/{fontstack}/{range}.pbf",
];

/// Path parameters `{z}/{x}/{y}.mvt` of a tile.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TilePath {
    /// Zoom level, 0-22.
    pub z: u32,
    /// Tile column, below 2^z.
    pub x: u32,
    /// Tile row from the north, below 2^z (the segment is {y}.mvt).
    pub y: u32,
}

/// Request headers a tile honours.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct TileHeaders {
    /// gzip: the body is the gzip bytes cached once.
    #[param(rename = "Accept-Encoding")]
    pub accept_encoding: Option<String>,
    /// An ETag seen before: 304 when unchanged.
    #[param(rename = "If-None-Match")]
    pub if_none_match: Option<String>,
}

/// The answers of a tile request.
pub struct TileResponses;

impl utoipa::IntoResponses for TileResponses {
    fn responses() -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        use utoipa::openapi::{ContentBuilder, HeaderBuilder, ObjectBuilder, ResponseBuilder, Type};
        let header = |kind: Type, description: &str| {
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(kind)))
                .description(Some(description))
                .build()
        };
        let tile = ResponseBuilder::new()
            .description("The tile")
            .header(
                "ETag",
                header(
                    Type::String,
                    "Hash of the tile bytes (the gzip encoding has its own tag)",
                ),
            )
            .header(
                "Geoalign-Revision",
                header(Type::Integer, "Revision the tile was rendered from"),
            )
            .header(
                "Cache-Control",
                header(
                    Type::String,
                    "Versioned: public, max-age=31536000, immutable; unversioned: public, max-age=30",
                ),
            )
            .content(
                MVT_CONTENT_TYPE,
                ContentBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(Some(
                        utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Binary),
                    ))))
                    .build(),
            );
        let error: utoipa::openapi::RefOr<_> = utoipa::openapi::Ref::from_response_name("Problem").into();
        [
            ("200", tile.build().into()),
            (
                "204",
                ResponseBuilder::new().description("Empty tile").build().into(),
            ),
            (
                "304",
                ResponseBuilder::new()
                    .description("Not modified (If-None-Match)")
                    .build()
                    .into(),
            ),
            ("400", error.clone()),
            ("404", error),
        ]
        .into_iter()
        .map(|(status, response)| (status.to_owned(), response))
        .collect()
    }
}

/// Registers the tile, style, glyph and viewer routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Tiles first: a map asks for dozens per view.
    cfg.service(
        web::resource("/tiles/{alignment}/{revision}/{z}/{x}/{file}")
            .route(web::get().to(versioned_tile))
            .route(web::head().to(versioned_tile))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .service(
        web::resource("/tiles/{alignment}/{z}/{x}/{file}")
            .route(web::get().to(current_tile))
            .route(web::head().to(current_tile))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .service(
        web::resource("/tiles/{file}")
            .route(web::get().to(tilejson_doc))
            .route(web::head().to(tilejson_doc))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .service(
        web::resource("/styles/{file}")
            .route(web::get().to(style_doc))
            .route(web::head().to(style_doc))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .service(
        web::resource("/fonts/{fontstack}/{file}")
            .route(web::get().to(glyphs))
            .route(web::head().to(glyphs))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .service(
        web::resource("/")
            .route(web::get().to(viewer))
            .route(web::head().to(viewer)),
    )
    .service(
        web::resource("/web/{path:.*}")
            .route(web::get().to(web_file))
            .route(web::head().to(web_file)),
    );
}

fn cors(builder: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    builder
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .insert_header((header::ACCESS_CONTROL_EXPOSE_HEADERS, "ETag, Geoalign-Revision"))
}

/// CORS preflight: any origin may GET and HEAD.
pub(crate) async fn preflight() -> HttpResponse {
    let mut builder = HttpResponse::NoContent();
    cors(&mut builder)
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS"))
        .insert_header((header::ALLOW, "GET, HEAD, OPTIONS"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, *"))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .finish()
}

/// TileJSON 3.0 of an alignment's vector tiles.
///
/// tiles[0] carries the current revision (/tiles/{alignment}/{revision}/{z}/{x}/{y}.mvt), so
/// clients cache tiles for good and reload this document to see changes. Also: vector_layers
/// with fields, bounds, center, minzoom, maxzoom, revision. CORS: any origin.
#[utoipa::path(method(get, head), path = "/tiles/{alignment}.json", operation_id = "getTileJson", tag = "tiles",
    params(AlignmentPath),
    responses((status = 200, description = "TileJSON", body = Object),
        (status = 404, response = ProblemResponse)))]
pub(crate) async fn tilejson_doc(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let file = path.into_inner();
    let Some(alignment) = file.strip_suffix(".json").filter(|a| !a.is_empty()) else {
        return Err(ApiError::NoRoute(req.path().to_owned()));
    };
    let service = state.tiles.clone();
    let name = alignment.to_owned();
    let view = blocking(move || service.view(&name).map(|v| (v, service))).await?;
    let (view, service) = view;
    let doc = tilejson::tilejson(&view, &super::origin::origin(&req), service.options());
    let mut builder = HttpResponse::Ok();
    cors(&mut builder)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("Geoalign-Revision", view.snapshot.revision.to_string()));
    revalidated(&req, builder, &doc)
}

/// Parses `{y}.mvt`.
fn tile_row(req: &HttpRequest, file: &str) -> Result<u32, ApiError> {
    let Some(y) = file.strip_suffix(".mvt").or_else(|| file.strip_suffix(".pbf")) else {
        return Err(ApiError::NoRoute(req.path().to_owned()));
    };
    y.parse().map_err(|e| ApiError::bad("y", format!("'{y}': {e}")))
}

/// A vector tile of one revision (immutable).
///
/// Mapbox Vector Tile 2.1 (extent 4096, buffer 64). Layers: regions, districts, territories
/// (id, name, parent, reps, rep_names, color, units, accounts, area_km2, metric sums), units
/// (from zoom 8: id, owning code per level, unit metrics), boundaries (lines, level and rank
/// of the highest level differing across them), labels (points), reps and accounts (points,
/// from zoom 6). HEAD answers the same headers. CORS: any origin.
#[utoipa::path(method(get, head), path = "/tiles/{alignment}/{revision}/{z}/{x}/{y}.mvt",
    operation_id = "getTileAtRevision", tag = "tiles",
    params(AlignmentPath,
        ("revision" = i64, Path, description = "Alignment revision (from the TileJSON tile URL)"),
        TilePath, TileHeaders),
    responses(TileResponses))]
pub(crate) async fn versioned_tile(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, i64, u32, u32, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, revision, z, x, file) = path.into_inner();
    let y = tile_row(&req, &file)?;
    serve_tile(&req, &state, alignment, Some(revision), (z, x, y)).await
}

/// A vector tile of the current revision (short max-age).
///
/// The layers and headers of the versioned tile; prefer the TileJSON's versioned URL.
#[utoipa::path(
    method(get, head),
    path = "/tiles/{alignment}/{z}/{x}/{y}.mvt",
    operation_id = "getTile",
    tag = "tiles",
    params(AlignmentPath, TilePath, TileHeaders),
    responses(TileResponses)
)]
pub(crate) async fn current_tile(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, u32, u32, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, z, x, file) = path.into_inner();
    let y = tile_row(&req, &file)?;
    serve_tile(&req, &state, alignment, None, (z, x, y)).await
}

/// Answers one tile of `alignment` (a revision, or the current one), HEAD and
/// revalidation included.
pub(crate) async fn serve_tile(
    req: &HttpRequest,
    state: &AppState,
    alignment: String,
    revision: Option<i64>,
    (z, x, y): (u32, u32, u32),
) -> Result<HttpResponse, ApiError> {
    let tile = tile_id(z, x, y)?;
    let service = state.tiles.clone();
    let (served, encoded) = match service.tile_inline(&alignment, revision, tile)? {
        Inline::Ready(served, encoded) => (served, encoded),
        Inline::Blocking => blocking(move || service.tile(&alignment, revision, tile)).await?,
    };
    Ok(tile_response(req, served, revision.is_some(), &encoded))
}

/// Whether the client accepts gzip (a `gzip` coding without `q=0`).
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !zero
        })
}

fn matches_etag(req: &HttpRequest, tags: &[&str]) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || tags.contains(&t))
}

fn tile_response(req: &HttpRequest, revision: i64, versioned: bool, tile: &EncodedTile) -> HttpResponse {
    let gzip = accepts_gzip(req);
    let etag = if gzip {
        tile.gzip_etag.as_str()
    } else {
        tile.etag.as_str()
    };
    let mut builder = HttpResponse::build(StatusCode::OK);
    cors(&mut builder)
        .insert_header((header::CACHE_CONTROL, if versioned { IMMUTABLE } else { SHORT }))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header(("Geoalign-Revision", revision.to_string()));
    if tile.is_empty() {
        return builder.status(StatusCode::NO_CONTENT).finish();
    }
    builder.insert_header((header::ETAG, etag));
    if matches_etag(req, &[tile.etag.as_str(), tile.gzip_etag.as_str()]) {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    builder.insert_header((header::CONTENT_TYPE, MVT_CONTENT_TYPE));
    if gzip {
        builder
            .insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")))
            .body(tile.gzip.clone())
    } else {
        builder.body(tile.raw.clone())
    }
}

/// Query of the style route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StyleQuery {
    /// Alignment whose tiles the style draws.
    pub alignment: String,
}

/// A MapLibre style with tile and glyph URLs resolved to this server.
#[utoipa::path(method(get, head), path = "/styles/{name}.json", operation_id = "getStyle", tag = "tiles",
    params(("name" = String, Path, description = "Style name (a file of styles/, e.g. default)"), StyleQuery),
    responses((status = 200, description = "MapLibre style (version 8)", body = Object),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
pub(crate) async fn style_doc(
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: Query<StyleQuery>,
) -> Result<HttpResponse, ApiError> {
    let file = path.into_inner();
    let Some(name) = file.strip_suffix(".json") else {
        return Err(ApiError::NoRoute(req.path().to_owned()));
    };
    let template = style::template(name)?;
    let alignment = query.into_inner().alignment;
    let store = state.store.clone();
    let checked = alignment.clone();
    blocking(move || store.alignment(&checked).map(|_| ())).await?;
    let doc = style::resolve(&template, &super::origin::origin(&req), &alignment);
    let mut builder = HttpResponse::Ok();
    cors(&mut builder).insert_header((header::CACHE_CONTROL, "no-cache"));
    revalidated(&req, builder, &doc)
}

/// A `no-cache` JSON document with an ETag of its bytes: 304 when `If-None-Match` names it.
fn revalidated(
    req: &HttpRequest,
    mut builder: HttpResponseBuilder,
    doc: &impl serde::Serialize,
) -> Result<HttpResponse, ApiError> {
    use sha2::Digest;
    let body = serde_json::to_vec(doc).map_err(|e| ApiError::Worker(e.to_string()))?;
    let digest = sha2::Sha256::digest(&body);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{hex}\"");
    builder.insert_header((header::ETAG, etag.as_str()));
    if matches_etag(req, &[etag.as_str()]) {
        return Ok(builder.status(StatusCode::NOT_MODIFIED).finish());
    }
    Ok(builder.content_type("application/json").body(body))
}

/// The `web/` folder: `./web` when run from a checkout, else the source tree's.
pub fn web_dir() -> PathBuf {
    let local = Path::new("web");
    if local.join("index.html").exists() {
        local.to_owned()
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
    }
}

/// A relative path with only normal, visible components (no `..`, no dot files, no
/// `node_modules`).
fn safe_relative(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => {
                let s = s.to_str()?;
                if s.starts_with('.') || s == "node_modules" {
                    return None;
                }
                out.push(s);
            }
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "pbf" => "application/x-protobuf",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

async fn send_file(req: &HttpRequest, path: PathBuf, cache: &'static str) -> Result<HttpResponse, ApiError> {
    let shown = req.path().to_owned();
    let read = path.clone();
    let bytes = web::block(move || std::fs::read(read))
        .await
        .map_err(|e| ApiError::Worker(e.to_string()))?
        .map_err(|_| ApiError::NoRoute(shown))?;
    let mut builder = HttpResponse::Ok();
    Ok(cors(&mut builder)
        .insert_header((header::CONTENT_TYPE, content_type(&path)))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(bytes))
}

/// SDF glyphs for map labels.
#[utoipa::path(method(get, head), path = "/fonts/{fontstack}/{range}.pbf", operation_id = "getGlyphs",
    tag = "tiles",
    params(("fontstack" = String, Path,
            description = "Comma-separated font names (the default style uses DejaVu Sans)"),
        ("range" = String, Path, description = "Code point range, e.g. 0-255")),
    responses((status = 200, description = "Glyph protobuf", body = Vec<u8>,
            content_type = "application/x-protobuf"),
        (status = 404, response = ProblemResponse)))]
pub(crate) async fn glyphs(
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (fontstack, file) = path.into_inner();
    let fonts = web_dir().join("fonts");
    for font in fontstack.split(',').map(str::trim) {
        if let Some(rel) = safe_relative(&format!("{font}/{file}"))
            && fonts.join(&rel).is_file()
        {
            return send_file(&req, fonts.join(rel), "public, max-age=86400").await;
        }
    }
    Err(ApiError::NotFound(format!(
        "no glyphs {file} for font stack '{fontstack}'"
    )))
}

/// The map viewer (?alignment=A; default: the first alignment).
#[utoipa::path(method(get, head), path = "/", operation_id = "getViewer", tag = "tiles",
    responses((status = 200, description = "HTML page", body = String, content_type = "text/html"),
        (status = 404, response = ProblemResponse)))]
pub(crate) async fn viewer(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    send_file(&req, web_dir().join("index.html"), "no-cache").await
}

/// A file of the map viewer (`web/`: scripts, styles, vendored libraries).
#[utoipa::path(method(get, head), path = "/web/{path}", operation_id = "getWebFile", tag = "tiles",
    params(("path" = String, Path, description = "Path under web/, e.g. src/main.js")),
    responses((status = 200, description = "The file, typed by its extension", body = Vec<u8>,
            content_type = "application/octet-stream"),
        (status = 404, response = ProblemResponse)))]
pub(crate) async fn web_file(req: HttpRequest, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let rel = safe_relative(&path.into_inner()).ok_or_else(|| ApiError::NoRoute(req.path().to_owned()))?;
    send_file(&req, web_dir().join(rel), "no-cache").await
}

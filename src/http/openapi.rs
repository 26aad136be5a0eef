//! `GET /api/openapi.json`: the OpenAPI 3.0 description of the API, generated from the
//! handlers' `#[utoipa::path]` annotations and the response types.

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse, get};
use serde_json::{Value, json};
use utoipa::OpenApi;

use super::auth::Viewer;
use super::problem::{Problem, ProblemResponse};
use super::{
    accounts, alignments, auth, datasets, events, exports, geocode_batch, health, jobs, lookup, metrics, ogc,
    ogc_tiles, route, sheets, teams, tiles,
};

/// The API description (utoipa emits OpenAPI 3.1; [`document`] serves it as 3.0).
#[derive(OpenApi)]
#[openapi(
    info(title = "geoalign", description = "Sales-territory alignment server: postal-unit datasets, \
        alignments, dissolved territories, tiles and lookups. Errors are RFC 9457 problem documents \
        (application/problem+json)."),
    paths(
        health::health, metrics::ready, metrics::metrics, document, ogc_document, auth::me, auth::list_tokens,
        datasets::list, datasets::show, datasets::unit,
        alignments::list, alignments::create, alignments::show, alignments::level_items,
        alignments::feature, alignments::changes, alignments::history, alignments::undo, alignments::diff,
        alignments::delete, teams::patch, teams::list, sheets::show, sheets::put, sheets::show_rules, sheets::put_rules,
        jobs::build, jobs::rebalance, jobs::list, jobs::show, jobs::delete,
        events::events,
        lookup::point, lookup::points, lookup::nearest_reps, lookup::geocode, geocode_batch::addresses,
        route::route_leads,
        accounts::show, accounts::export,
        tiles::tilejson_doc, tiles::versioned_tile, tiles::current_tile, tiles::style_doc, tiles::glyphs,
        tiles::viewer, tiles::web_file,
        exports::export,
        ogc::landing, ogc::conformance, ogc::collections, ogc::collection, ogc::items, ogc::queryables, ogc::item,
        ogc_tiles::matrix_sets, ogc_tiles::matrix_set, ogc_tiles::tilesets, ogc_tiles::tileset, ogc_tiles::tile,
    ),
    components(schemas(Problem), responses(ProblemResponse)),
    tags(
        (name = "system", description = "Health and this document"),
        (name = "datasets", description = "Postal-unit datasets and their units"),
        (name = "alignments", description = "Alignments, levels, change sets, history, undo and diff"),
        (name = "jobs", description = "Auto-build and rebalance, run in the background with progress and cancel"),
        (name = "lookup", description = "Who owns a point, an address or an account; nearest reps"),
        (name = "tiles", description = "Vector tiles, TileJSON, styles, glyphs and the map viewer"),
        (name = "exports", description = "Alignment levels as GIS files"),
        (name = "OGC API - Features", description = "One collection per alignment level"),
        (name = "OGC API - Tiles", description = "The alignment tiles per collection, WebMercatorQuad"),
    )
)]
pub struct ApiDoc;

/// The document as served, less `servers` (filled per request).
pub(crate) fn generated() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
        doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
        if let Some(paths) = doc["paths"].as_object_mut() {
            for (path, item) in paths.iter_mut() {
                finish_path(path, item);
                if !auth::PUBLIC_PATHS.contains(&path.as_str()) {
                    require_token(item);
                }
            }
        }
        doc["components"]["securitySchemes"] = json!({ "bearer": {
            "type": "http", "scheme": "bearer",
            "description": "A token of `geoalign token create --role viewer|editor|admin`; \
                needed once the store holds a token (see GET /api/me)" } });
        to_oas30(&mut doc);
        doc
    })
}

/// Operation ids unique across HEAD and GET, one-line summaries, and the CORS preflight
/// of the map routes.
fn finish_path(path: &str, item: &mut Value) {
    let Some(item) = item.as_object_mut() else {
        return;
    };
    for op in item.values_mut() {
        if let Some(summary) = op["summary"].as_str() {
            let summary = summary.trim_end_matches('.').replace('\n', " ");
            op["summary"] = json!(summary);
        }
        if let Some(description) = op["description"].as_str().filter(|d| !d.is_empty()) {
            op["description"] = json!(description.replace('\n', " "));
        }
    }
    if let Some(head) = item.get_mut("head") {
        if let Some(id) = head["operationId"].as_str() {
            head["operationId"] = json!(format!("{id}Head"));
        }
        head["summary"] = json!(format!(
            "{} (headers only)",
            head["summary"].as_str().unwrap_or("")
        ));
        if let Some(responses) = head["responses"].as_object_mut() {
            for response in responses.values_mut() {
                if let Some(r) = response.as_object_mut() {
                    r.remove("content");
                }
            }
        }
    }
    if tiles::PREFLIGHT_PATHS.contains(&path) {
        let id = item["get"]["operationId"].as_str().unwrap_or("map");
        let preflight = json!({
            "tags": ["tiles"],
            "summary": "CORS preflight: any origin may GET and HEAD",
            "operationId": format!("{id}Preflight"),
            "parameters": item["get"]["parameters"].clone(),
            "responses": { "204": { "description": "Allowed methods and headers (Access-Control-Allow-*)" } },
        });
        item.insert("options".into(), preflight);
    }
}

/// Marks the operations of a path that needs a token (all but the CORS preflight):
/// bearer security, 401 and 403 problem answers.
fn require_token(item: &mut Value) {
    let Some(item) = item.as_object_mut() else {
        return;
    };
    for (method, op) in item.iter_mut() {
        if method == "options" {
            continue;
        }
        op["security"] = json!([{ "bearer": [] }]);
        if let Some(responses) = op["responses"].as_object_mut() {
            for status in ["401", "403"] {
                responses
                    .entry(status)
                    .or_insert_with(|| json!({ "$ref": "#/components/responses/Problem" }));
            }
        }
    }
}

/// Rewrites what utoipa's OpenAPI 3.1 output says differently in 3.0 (the version OGC
/// API - Features `oas30` clients read): `type: [T, "null"]` and `oneOf [null, X]` become
/// `nullable`, schema `examples` become `example`, string `propertyNames` go.
fn to_oas30(doc: &mut Value) {
    doc["openapi"] = json!("3.0.3");
    // SPDX `identifier` of the licence is 3.1 only.
    if let Some(license) = doc["info"]["license"].as_object_mut() {
        license.remove("identifier");
    }
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Array(types)) = map.get("type").cloned() {
                    let rest: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                    if rest.len() < types.len() {
                        map.insert("nullable".into(), json!(true));
                    }
                    match rest.as_slice() {
                        [one] => map.insert("type".into(), one.clone()),
                        _ => map.remove("type"),
                    };
                }
                if let Some(Value::Array(variants)) = map.get("oneOf").cloned() {
                    let rest: Vec<Value> = variants.iter().filter(|v| v["type"] != "null").cloned().collect();
                    if rest.len() < variants.len() {
                        map.remove("oneOf");
                        map.insert("nullable".into(), json!(true));
                        if let [one] = rest.as_slice() {
                            if one.get("$ref").is_some() {
                                map.insert("allOf".into(), json!([one]));
                            } else if let Value::Object(inner) = one {
                                for (k, v) in inner {
                                    map.entry(k.clone()).or_insert_with(|| v.clone());
                                }
                            }
                        } else {
                            map.insert("oneOf".into(), Value::Array(rest));
                        }
                    }
                }
                if map.get("propertyNames").is_some_and(|p| p["type"] == "string") {
                    map.remove("propertyNames");
                }
                if map.get("examples").is_some_and(Value::is_array)
                    && let Some(Value::Array(examples)) = map.remove("examples")
                    && let Some(first) = examples.into_iter().next()
                {
                    map.insert("example".into(), first);
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    if let Some(components) = doc.get_mut("components") {
        walk(components);
    }
    if let Some(paths) = doc.get_mut("paths") {
        walk(paths);
    }
}

/// This document (OpenAPI 3.0), its server the origin the client used.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "openapi", tag = "system",
    responses((status = 200, description = "OpenAPI 3.0 document", body = Object)))]
#[get("/api/openapi.json")]
pub async fn document(_: Viewer, req: HttpRequest) -> HttpResponse {
    let mut doc = generated().clone();
    doc["servers"] = json!([{ "url": super::origin::origin(&req) }]);
    HttpResponse::Ok().json(doc)
}

/// Media type of the OpenAPI documents, as the OGC landing page's `service-desc` link
/// advertises it.
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The OGC API part of this document as an OGC client resolves it: the `/ogc` paths
/// relative to a server at `{origin}/ogc` (`/ogc/collections` is `/collections`).
pub fn ogc_doc(origin: &str) -> Value {
    let mut doc = generated().clone();
    let mut paths = serde_json::Map::new();
    if let Some(all) = doc["paths"].as_object() {
        for (path, item) in all {
            if let Some(rest) = path.strip_prefix("/ogc") {
                let rest = if rest.is_empty() { "/" } else { rest };
                paths.insert(rest.to_owned(), item.clone());
            }
        }
    }
    doc["paths"] = Value::Object(paths);
    doc["info"]["title"] = json!("geoalign OGC API");
    doc["servers"] = json!([{ "url": format!("{origin}/ogc") }]);
    if let Some(tags) = doc["tags"].as_array_mut() {
        tags.retain(|t| t["name"].as_str().is_some_and(|n| n.starts_with("OGC")));
    }
    doc
}

/// The OGC API definition (`service-desc` of the landing page): the `/ogc` operations of
/// this document with `/ogc` as their server (OpenAPI 3.0).
#[utoipa::path(get, path = "/ogc/api", operation_id = "ogcApi", tag = "OGC API - Features",
    responses((status = 200, description = "OpenAPI 3.0 document of the OGC API", body = Object,
        content_type = "application/vnd.oai.openapi+json;version=3.0")))]
#[get("/ogc/api")]
pub async fn ogc_document(_: Viewer, req: HttpRequest) -> HttpResponse {
    let doc = ogc_doc(&super::origin::origin(&req));
    HttpResponse::Ok().content_type(OPENAPI_JSON).json(doc)
}

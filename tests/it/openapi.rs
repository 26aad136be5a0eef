//! The OpenAPI document generated from the handlers: structurally valid, every route
//! registered in `http::configure` is in it, and every documented operation answers
//! a well-formed call with a documented 2xx and a call naming nothing with a documented
//! error.

use crate::common;
use crate::common::send as call;

use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::dev::ResourceDef;
use actix_web::http::{Method, StatusCode};
use actix_web::{App, test, web};
use geoalign::http::{AppState, configure};
use serde_json::{Value, json};

/// The sample engine with two accounts (so `/api/accounts/{id}` has one to show).
pub(crate) fn engine() -> (tempfile::TempDir, geoalign::engine::Engine) {
    let (dir, engine) = common::sample_engine();
    common::add_accounts(
        &engine,
        "id,name,lon,lat,territory\nA1,Empire State,-73.9857,40.7484,\nA2,Macy's,-73.9892,40.7508,T1001\n",
    );
    (dir, engine)
}

/// The value a `$ref` (`#/components/...`) points at.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{r} does not resolve")),
        None => value,
    }
}

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r);
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

const METHODS: [&str; 7] = ["get", "head", "options", "post", "put", "patch", "delete"];

/// Every (method, path, operation) of the document.
pub(crate) fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                out.push((method.to_owned(), path.clone(), op.clone()));
            }
        }
    }
    out
}

/// A sample value for a path parameter of `path`.
fn path_value(path: &str, name: &str, revision: i64) -> String {
    match name {
        // A build makes a new alignment.
        "alignment" if path.ends_with("/build") => "walked-build".into(),
        "alignment" => "nyc".into(),
        "name" if path.starts_with("/styles") => "default".into(),
        "name" => "nyc".into(),
        "id" if path.starts_with("/api/accounts") => "A1".into(),
        // The build the walk posts before it reads jobs.
        "id" if path.starts_with("/api/jobs") => "1".into(),
        "id" => "10001".into(),
        "collection" => "territories".into(),
        "code" | "featureId" => "T1000".into(),
        "collectionId" => "nyc-territories".into(),
        "revision" => revision.to_string(),
        "tileMatrix" => "12".into(),
        "tileRow" => "1539".into(),
        "tileCol" => "1205".into(),
        "z" => "10".into(),
        "x" => "301".into(),
        "y" => "385".into(),
        "file" => "territory.fgb".into(),
        "fontstack" => "DejaVu%20Sans".into(),
        "range" => "0-255".into(),
        "path" => "src/main.js".into(),
        other => panic!("no sample value for path parameter {other} of {path}"),
    }
}

/// A sample value for a required query parameter.
fn query_value(name: &str, revision: i64) -> String {
    match name {
        "alignment" | "against" => "nyc".into(),
        "lon" => "-73.9857".into(),
        "lat" => "40.7484".into(),
        "q" => "New%20York,%20NY%2010001".into(),
        "expected_revision" => revision.to_string(),
        other => panic!("no sample value for query parameter {other}"),
    }
}

/// The order a walk over every operation calls them in: reads first, then the
/// state-changing ones, then a job's reads (the walk's build is job 1), the job's
/// delete, the alignment's last (it deletes the sample alignment).
pub(crate) fn walk_order(method: &str, path: &str) -> u8 {
    let job = path.starts_with("/api/jobs/");
    match method {
        "post" | "put" => 1,
        "delete" if job => 3,
        "delete" => 4,
        _ if job => 2,
        _ => 0,
    }
}

/// The parameters of an operation, `$ref`s resolved.
fn parameters<'a>(doc: &'a Value, op: &'a Value) -> Vec<&'a Value> {
    op["parameters"]
        .as_array()
        .map(|ps| ps.iter().map(|p| resolve(doc, p)).collect())
        .unwrap_or_default()
}

/// The URI of a well-formed call; with `missing`, the first alignment, dataset or
/// collection named in it is replaced by one that does not exist.
pub(crate) fn uri(doc: &Value, path: &str, op: &Value, revision: i64, missing: bool) -> Option<String> {
    let mut uri = path.to_owned();
    let mut query = Vec::new();
    let mut replaced = false;
    for p in parameters(doc, op) {
        let name = p["name"].as_str().unwrap();
        match p["in"].as_str().unwrap() {
            "path" => {
                let mut value = path_value(path, name, revision);
                if missing
                    && !replaced
                    && !matches!(
                        name,
                        "revision" | "z" | "x" | "y" | "tileMatrix" | "tileRow" | "tileCol"
                    )
                {
                    value = "nope".into();
                    replaced = true;
                }
                uri = uri.replace(&format!("{{{name}}}"), &value);
            }
            // `alignment` is optional only where `team` may stand in for it.
            "query" if p["required"] == true || name == "alignment" => {
                let mut value = query_value(name, revision);
                if missing && !replaced && name == "alignment" {
                    value = "nope".into();
                    replaced = true;
                }
                query.push(format!("{name}={value}"));
            }
            _ => {}
        }
    }
    assert!(!uri.contains('{'), "{path}: a path parameter is undocumented");
    // A build is of an alignment that does not exist yet.
    if missing && op["operationId"] == "buildAlignment" {
        return None;
    }
    // Replacing a sheet takes the revision it is based on (creating one does not).
    if op["operationId"] == "putSheet" {
        query.push(format!("expected_revision={revision}"));
    }
    if !query.is_empty() {
        uri = format!("{uri}?{}", query.join("&"));
    }
    (!missing || replaced).then_some(uri)
}

/// The request of one call: body for POSTs, with `expected_revision` wherever the
/// documented body has one.
pub(crate) fn request(
    doc: &Value,
    method: &str,
    path: &str,
    op: &Value,
    uri: &str,
    revision: i64,
) -> test::TestRequest {
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
    let request = test::TestRequest::default().method(method.clone()).uri(uri);
    if method == Method::PATCH {
        return request
            .insert_header(("content-type", "application/merge-patch+json"))
            .set_payload(json!({"team": "walk"}).to_string());
    }
    if method != Method::POST && method != Method::PUT {
        return request;
    }
    let content = &op["requestBody"]["content"];
    if content.get("text/csv").is_some() {
        let csv = match path {
            "/api/geocode" => "id,address\na,\"350 5th Ave, New York, NY 10118\"\n",
            "/api/alignments/{alignment}/sheet" => include_str!("../../data/nyc_alignment.csv"),
            // The walked alignment has no accounts, so no rule could name a field.
            "/api/alignments/{alignment}/rules" => "rule,territory,condition\n",
            _ => "id,lon,lat\na,-73.9857,40.7484\n",
        };
        return request
            .insert_header(("content-type", "text/csv"))
            .set_payload(csv);
    }
    let mut body = match path {
        "/api/alignments" => json!({"name": "walked", "copy_of": "nyc"}),
        "/api/alignments/{alignment}/changes" => json!({"author": "walk",
            "changes": [{"op": "assign", "units": ["10002"], "territory": "T1001"}]}),
        "/api/alignments/{alignment}/build" => json!({"dataset": "nyc", "territories": 3,
            "balance": "population_estimate", "restarts": 1}),
        "/api/alignments/{alignment}/rebalance" => json!({"balance": "population_estimate",
            "tolerance": 0.25}),
        _ => json!({"author": "walk"}),
    };
    let schema = resolve(doc, &content["application/json"]["schema"]);
    if schema["properties"].get("expected_revision").is_some() {
        body["expected_revision"] = json!(revision);
    }
    request.set_json(body)
}

pub(crate) fn documented(op: &Value, status: StatusCode) -> bool {
    let responses = op["responses"].as_object().unwrap();
    let class = format!("{}XX", status.as_u16() / 100);
    responses.contains_key(status.as_str()) || responses.contains_key(&class)
}

/// Every route `src/http/*.rs` registers: (method, actix pattern), read from the
/// route macros (`#[get("...")]`, `#[route("...", method = ...)]`) and the
/// `web::resource("...")` registrations.
fn registered_routes() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().map(str::trim) {
            for (attr, method) in [
                ("#[get(\"", Some("get")),
                ("#[post(\"", Some("post")),
                ("#[patch(\"", Some("patch")),
                ("#[route(\"", None),
            ] {
                let Some(rest) = line.strip_prefix(attr) else {
                    continue;
                };
                let pattern = rest.split('"').next().unwrap().to_owned();
                match method {
                    Some(m) => {
                        routes.insert((m.to_owned(), pattern));
                    }
                    None => {
                        for m in rest.split("method = \"").skip(1) {
                            let m = m.split('"').next().unwrap().to_ascii_lowercase();
                            routes.insert((m, pattern.clone()));
                        }
                    }
                }
            }
        }
        for chunk in text.split("web::resource(\"").skip(1) {
            let pattern = chunk.split('"').next().unwrap().to_owned();
            let registration = chunk.split(".service(").next().unwrap();
            for (needle, m) in [
                ("web::get()", "get"),
                ("web::head()", "head"),
                ("web::post()", "post"),
                ("Method::OPTIONS", "options"),
            ] {
                if registration.contains(needle) {
                    routes.insert((m.to_owned(), pattern.clone()));
                }
            }
        }
    }
    routes
}

#[actix_web::test]
async fn the_document_is_valid_and_every_route_in_it_answers() {
    let (_dir, engine) = engine();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state).configure(configure)).await;
    let (status, doc) = call(&app, test::TestRequest::get().uri("/api/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    if let Some(dir) = std::env::var_os("GEOALIGN_OPENAPI_DUMP") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            std::path::Path::new(&dir).join("openapi.json"),
            serde_json::to_string_pretty(&doc).unwrap(),
        )
        .unwrap();
    }
    let ops = operations(&doc);

    // Every documented operation answers a well-formed call with a documented 2xx
    // (GETs first, then the state-changing ones), and a call naming an alignment,
    // dataset or collection that does not exist with a documented 4xx.
    let mut ordered = ops.clone();
    ordered.sort_by_key(|(method, path, _)| walk_order(method, path));
    let dump = std::env::var_os("GEOALIGN_OPENAPI_DUMP").map(std::path::PathBuf::from);
    for (method, path, op) in &ordered {
        let (_, alignment) = call(&app, test::TestRequest::get().uri("/api/alignments/nyc")).await;
        let revision = alignment["revision"].as_i64().unwrap();
        let good = uri(&doc, path, op, revision, false).unwrap();
        let res = test::call_service(
            &app,
            request(&doc, method, path, op, &good, revision).to_request(),
        )
        .await;
        let status = res.status();
        let streamed = res
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        let body = if streamed {
            // An event stream never ends: its first event is the answer.
            let mut stream = res.into_body();
            common::next_chunk(&mut stream).await.unwrap_or_default().into()
        } else {
            test::read_body(res).await
        };
        assert!(
            status.is_success() && documented(op, status),
            "{method} {good}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        if let Some(dir) = &dump {
            let name = format!("{method}{}", path.replace(['/', '{', '}'], "_"));
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(name), &body).unwrap();
        }
        if let Some(bad) = uri(&doc, path, op, revision, true).filter(|_| method != "options") {
            let (status, body) = call(&app, request(&doc, method, path, op, &bad, revision)).await;
            assert!(
                status.is_client_error() && documented(op, status),
                "{method} {bad}: {status} {body}"
            );
            if method != "head" {
                assert_eq!(body["status"], status.as_u16(), "{method} {bad}: a problem body");
            }
        }
    }

    // Structure: an OpenAPI 3.0 document, every reference resolves, every operation
    // has a unique id and responses.
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.0."),
        "{}",
        doc["openapi"]
    );
    serde_json::from_value::<openapiv3::OpenAPI>(doc.clone()).expect("an OpenAPI 3.0 document");
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in &all {
        assert!(r.starts_with("#/components/"), "{r}");
        resolve(&doc, &json!({ "$ref": r }));
    }
    let mut ids = BTreeSet::new();
    for (method, path, op) in &ops {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(
            ids.insert(id.to_owned()),
            "{method} {path}: operationId {id} twice"
        );
        assert!(
            !op["responses"].as_object().unwrap().is_empty(),
            "{method} {path}: no responses"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}: no summary"
        );
    }
    assert!(doc["servers"][0]["url"].as_str().is_some(), "servers");

    // Every registered route is documented: some documented operation of the same
    // method has a sample URI the route's pattern matches.
    let samples: Vec<(String, String)> = ops
        .iter()
        .map(|(method, path, op)| {
            let uri = uri(&doc, path, op, 1, false).unwrap();
            (method.clone(), uri.split('?').next().unwrap().to_owned())
        })
        .collect();
    let routes = registered_routes();
    assert!(routes.len() >= 40, "{routes:?}");
    for (method, pattern) in &routes {
        let def = ResourceDef::new(pattern.as_str());
        assert!(
            samples.iter().any(|(m, uri)| m == method && def.is_match(uri)),
            "{} {pattern} is registered but undocumented",
            method.to_uppercase()
        );
    }
}

//! Conformance for GIS clients (issue 16), through `geoalign::http::app` (the routes
//! inside their protocol middlewares): HEAD on every GET route, 405 with `Allow`,
//! trailing slashes, CORS, range units, compression, revalidation of TileJSON and
//! styles, problem types; then OGC API - Features, Tiles and the archives' metadata;
//! then the Python clients (OWSLib, GDAL's OAPIF driver through pyogrio,
//! openapi-spec-validator) against a real server, skipped with a message when
//! `GEOALIGN_CONFORMANCE_PYTHON` (default: `target/gdal-venv/bin/python`) lacks them,
//! unless `GEOALIGN_REQUIRE_CONFORMANCE` is set.

use crate::openapi::{engine, operations, uri};

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use actix_web::http::{Method, StatusCode};
use actix_web::{test, web};
use geoalign::http::{AppState, app, cors::CorsPolicy};
use serde_json::Value;

/// A response: status, headers (lower-case names; repeated ones joined by `, `), body.
struct Answer {
    status: StatusCode,
    headers: BTreeMap<String, String>,
    body: bytes::Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

async fn answer(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let mut req = test::TestRequest::default().method(method).uri(uri);
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in res.headers() {
        let v = v.to_str().unwrap_or("").to_owned();
        map.entry(k.as_str().to_owned())
            .and_modify(|old| {
                old.push_str(", ");
                old.push_str(&v);
            })
            .or_insert(v);
    }
    let streamed = map
        .get("content-type")
        .is_some_and(|t| t.starts_with("text/event-stream"));
    let body = if streamed {
        bytes::Bytes::new()
    } else {
        test::read_body(res).await
    };
    Answer {
        status,
        headers: map,
        body,
    }
}

macro_rules! conform_app {
    ($policy:expr) => {{
        let (dir, engine) = engine();
        let mut state = AppState::with_engine(Arc::new(engine));
        state.cors = $policy;
        // Job 1, for the sample URI of /api/jobs/{id}.
        let job = Box::new(|_: &geoalign::engine::jobs::JobContext| Ok(serde_json::json!({})));
        state
            .jobs
            .submit(geoalign::engine::jobs::JobKind::Rebalance, "nyc", job)
            .unwrap();
        (dir, test::init_service(app(web::Data::new(state))).await)
    }};
    () => {
        conform_app!(CorsPolicy::default())
    };
}

#[actix_web::test]
async fn every_get_route_answers_head_with_the_get_headers() {
    let (_dir, app) = conform_app!();
    let doc = answer(&app, Method::GET, "/api/openapi.json", &[]).await.json();
    let revision = answer(&app, Method::GET, "/api/alignments/nyc", &[]).await.json()["revision"]
        .as_i64()
        .unwrap();
    let mut checked = 0;
    for (method, path, op) in operations(&doc) {
        if method != "get" {
            continue;
        }
        let good = uri(&doc, &path, &op, revision, false).unwrap();
        let get = answer(&app, Method::GET, &good, &[]).await;
        let head = answer(&app, Method::HEAD, &good, &[]).await;
        assert!(get.status.is_success(), "GET {good}: {}", get.status);
        assert_eq!(head.status, get.status, "HEAD {good}");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "HEAD {good}"
        );
        checked += 1;
    }
    assert!(checked >= 30, "{checked} GET routes");
    // The routes the issue names, each by HEAD.
    for uri in [
        "/ogc",
        "/ogc/collections",
        "/ogc/collections/nyc-territories/items",
        "/api/openapi.json",
        "/health",
        "/api/alignments",
    ] {
        assert_eq!(
            answer(&app, Method::HEAD, uri, &[]).await.status,
            StatusCode::OK,
            "HEAD {uri}"
        );
    }
}

#[actix_web::test]
async fn wrong_methods_get_405_with_allow_and_a_problem() {
    let (_dir, app) = conform_app!();
    let doc = answer(&app, Method::GET, "/api/openapi.json", &[]).await.json();
    // Each sample URI with the methods of every documented path matching it.
    let ops = operations(&doc);
    let mut by_path: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, path, op) in &ops {
        let sample = uri(&doc, path, op, 1, false).unwrap();
        let sample = sample.split('?').next().unwrap().to_owned();
        let methods = by_path.entry(sample.clone()).or_default();
        for (method, other, _) in &ops {
            let def = actix_web::dev::ResourceDef::new(other.replace("/{path}", "/{path:.*}"));
            if def.is_match(&sample) && !methods.contains(&method.to_uppercase()) {
                methods.push(method.to_uppercase());
            }
        }
    }
    let mut refused = 0;
    for (sample, documented) in &by_path {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if documented.iter().any(|m| m == method) {
                continue;
            }
            let res = answer(&app, method.parse().unwrap(), sample, &[]).await;
            assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {sample}");
            assert_eq!(
                res.header("content-type"),
                "application/problem+json",
                "{method} {sample}"
            );
            let allow: Vec<&str> = res.header("allow").split(", ").collect();
            for m in documented {
                assert!(
                    allow.contains(&m.as_str()),
                    "{method} {sample}: Allow {allow:?} lacks {m}"
                );
            }
            if documented.iter().any(|m| m == "GET") {
                assert!(allow.contains(&"HEAD"), "{method} {sample}: {allow:?}");
            }
            assert!(allow.contains(&"OPTIONS"), "{method} {sample}: {allow:?}");
            let body = res.json();
            assert_eq!(body["status"], 405);
            assert_eq!(body["title"], "Method Not Allowed");
            assert_eq!(body["type"], "about:blank");
            refused += 1;
        }
    }
    assert!(refused >= 100, "{refused}");
    for (method, uri) in [
        (Method::PUT, "/ogc"),
        (Method::DELETE, "/api/datasets/nyc"),
        (Method::PUT, "/api/lookup"),
        (Method::POST, "/tiles/nyc.json"),
    ] {
        let res = answer(&app, method.clone(), uri, &[]).await;
        assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert!(
            res.header("allow").starts_with("GET, HEAD"),
            "{method} {uri}: {:?}",
            res.headers
        );
        assert_eq!(res.json()["status"], 405, "{method} {uri}");
    }
    // A path nothing serves stays 404.
    assert_eq!(
        answer(&app, Method::PUT, "/nothing/here", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn options_answers_what_each_resource_allows() {
    let (_dir, app) = conform_app!();
    for (uri, methods) in [
        ("/api/lookup", "GET, HEAD, POST, OPTIONS"),
        ("/ogc", "GET, HEAD, OPTIONS"),
        ("/ogc/", "GET, HEAD, OPTIONS"),
        ("/tiles/nyc.json", "GET, HEAD, OPTIONS"),
        ("/api/alignments/nyc/undo", "GET, HEAD, POST, OPTIONS"),
    ] {
        let res = answer(&app, Method::OPTIONS, uri, &[]).await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{uri}");
        assert_eq!(res.header("allow"), methods, "{uri}");
        assert!(res.body.is_empty(), "{uri}");
    }
    let nothing = answer(&app, Method::OPTIONS, "/nothing/here", &[]).await;
    assert_eq!(nothing.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn trailing_slashes_are_the_same_resource() {
    let (_dir, app) = conform_app!();
    for (slashed, plain) in [
        ("/ogc/", "/ogc"),
        ("/ogc/collections/", "/ogc/collections"),
        ("/ogc/?f=json", "/ogc?f=json"),
        ("/api/alignments/", "/api/alignments"),
    ] {
        let a = answer(&app, Method::GET, slashed, &[]).await;
        let b = answer(&app, Method::GET, plain, &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{slashed}");
        assert_eq!(a.json(), b.json(), "{slashed}");
    }
    assert_eq!(answer(&app, Method::GET, "/", &[]).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn cors_for_reads_preflight_and_configured_origins() {
    let (_dir, app) = conform_app!();
    let fgb = "/api/alignments/nyc/export/territory.fgb";
    let origin = ("origin", "https://maps.example");
    let pre = answer(
        &app,
        Method::OPTIONS,
        fgb,
        &[
            origin,
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "range"),
        ],
    )
    .await;
    assert_eq!(pre.status, StatusCode::NO_CONTENT);
    assert_eq!(pre.header("access-control-allow-origin"), "*");
    assert!(pre.header("access-control-allow-methods").contains("GET"));
    assert!(!pre.header("access-control-allow-methods").contains("POST"));
    assert_eq!(pre.header("access-control-allow-headers"), "range");
    let ranged = answer(&app, Method::GET, fgb, &[origin, ("range", "bytes=0-99")]).await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.header("access-control-allow-origin"), "*");
    for exposed in ["Content-Range", "Accept-Ranges", "ETag"] {
        assert!(
            ranged.header("access-control-expose-headers").contains(exposed),
            "{exposed}"
        );
    }
    for uri in [
        "/ogc/collections/nyc-territories/items",
        "/api/lookup?lon=-73.9857&lat=40.7484",
    ] {
        let res = answer(&app, Method::GET, uri, &[origin]).await;
        assert_eq!(res.header("access-control-allow-origin"), "*", "{uri}");
    }
    // Batch lookups only read: other sites may POST them (preflight and answer).
    let pre = answer(
        &app,
        Method::OPTIONS,
        "/api/lookup?alignment=nyc",
        &[origin, ("access-control-request-method", "POST")],
    )
    .await;
    assert_eq!(pre.status, StatusCode::NO_CONTENT);
    assert!(pre.header("access-control-allow-methods").contains("POST"));
    let batch = test::TestRequest::post()
        .uri("/api/lookup?alignment=nyc")
        .insert_header(origin)
        .insert_header(("content-type", "text/csv"))
        .set_payload("id,lon,lat\na,-73.9857,40.7484\n")
        .to_request();
    let res = test::call_service(&app, batch).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("access-control-allow-origin").unwrap(), "*");
    // A tile that does not exist still says who may read the answer.
    let missing = answer(&app, Method::GET, "/tiles/nope/3/1/1.mvt", &[origin]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.header("access-control-allow-origin"), "*");
    // State-changing routes: no preflight grant and no CORS headers.
    let pre = answer(
        &app,
        Method::OPTIONS,
        "/api/alignments/nyc/changes",
        &[origin, ("access-control-request-method", "POST")],
    )
    .await;
    assert_eq!(pre.status, StatusCode::FORBIDDEN);
    assert_eq!(pre.header("access-control-allow-origin"), "");
    let post = answer(&app, Method::POST, "/api/alignments/nyc/undo", &[origin]).await;
    assert_eq!(
        post.header("access-control-allow-origin"),
        "",
        "{:?}",
        post.headers
    );

    // Configured origins: only those, echoed with Vary; writes when switched on.
    let (_dir, app) = conform_app!(CorsPolicy::new("https://maps.example", true));
    let allowed = answer(&app, Method::GET, "/ogc", &[origin]).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        "https://maps.example"
    );
    assert!(allowed.header("vary").contains("Origin"));
    let other = answer(
        &app,
        Method::GET,
        "/tiles/nyc.json",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.header("access-control-allow-origin"), "");
    // The answer depends on Origin whether or not it grants it: a shared cache must not
    // hand the refused answer to the allowed origin (or the other way round).
    for res in [&other, &answer(&app, Method::GET, "/ogc", &[]).await] {
        assert_eq!(vary_count(res, "Origin"), 1, "{:?}", res.headers);
    }
    let refused = answer(
        &app,
        Method::OPTIONS,
        "/ogc",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(vary_count(&refused, "Origin"), 1, "{:?}", refused.headers);
    let pre = answer(
        &app,
        Method::OPTIONS,
        "/api/alignments/nyc/undo",
        &[origin, ("access-control-request-method", "POST")],
    )
    .await;
    assert_eq!(pre.status, StatusCode::NO_CONTENT);
    assert_eq!(pre.header("access-control-allow-origin"), "https://maps.example");
}

#[actix_web::test]
async fn unknown_range_units_are_ignored() {
    let (_dir, app) = conform_app!();
    let uri = "/api/alignments/nyc/export/territory.fgb";
    let whole = answer(&app, Method::GET, uri, &[]).await;
    let items = answer(&app, Method::GET, uri, &[("range", "items=0-5")]).await;
    assert_eq!(items.status, StatusCode::OK);
    assert_eq!(items.body, whole.body);
    assert_eq!(items.header("content-range"), "");
    let bad = answer(&app, Method::GET, uri, &[("range", "bytes=x-y")]).await;
    assert_eq!(bad.status, StatusCode::RANGE_NOT_SATISFIABLE);
}

/// How many times `Vary` names `token` (case-insensitively).
fn vary_count(res: &Answer, token: &str) -> usize {
    res.header("vary")
        .split(',')
        .filter(|t| t.trim().eq_ignore_ascii_case(token))
        .count()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

/// A feature page without its `timeStamp` (two requests may straddle a second).
fn untimed(body: &[u8]) -> serde_json::Value {
    let mut page: serde_json::Value = serde_json::from_slice(body).expect("a JSON page");
    page.as_object_mut().expect("an object").remove("timeStamp");
    page
}

#[actix_web::test]
async fn json_is_compressed_and_tiles_and_ranges_are_not() {
    let (_dir, app) = conform_app!();
    let items = "/ogc/collections/nyc-units/items?limit=100";
    let plain = answer(&app, Method::GET, items, &[]).await;
    assert_eq!(plain.header("content-encoding"), "");
    let gz = answer(&app, Method::GET, items, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding"), "gzip");
    assert_eq!(vary_count(&gz, "Accept-Encoding"), 1, "{:?}", gz.headers);
    assert_eq!(untimed(&gunzip(&gz.body)), untimed(&plain.body));
    assert!(
        gz.body.len() * 2 < plain.body.len(),
        "{} of {}",
        gz.body.len(),
        plain.body.len()
    );
    let br = answer(&app, Method::GET, items, &[("accept-encoding", "gzip;q=0.5, br")]).await;
    assert_eq!(br.header("content-encoding"), "br");
    let mut unbr = Vec::new();
    brotli_decompressor::Decompressor::new(&br.body[..], 4096)
        .read_to_end(&mut unbr)
        .unwrap();
    assert_eq!(untimed(&unbr), untimed(&plain.body));
    let collections = answer(
        &app,
        Method::GET,
        "/ogc/collections",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(collections.header("content-encoding"), "gzip");
    let geojson = answer(
        &app,
        Method::GET,
        "/api/alignments/nyc/export/territory.geojson",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(geojson.header("content-encoding"), "gzip");
    assert_eq!(
        vary_count(&geojson, "Accept-Encoding"),
        1,
        "{:?}",
        geojson.headers
    );
    // A body under a kilobyte (a lookup's answer) is not worth compressing.
    let small = answer(
        &app,
        Method::GET,
        "/api/lookup?alignment=nyc&lon=-73.9857&lat=40.7484",
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    assert!(small.body.len() < 1024, "{} bytes", small.body.len());
    assert_eq!(small.header("content-encoding"), "");
    assert_eq!(vary_count(&small, "Accept-Encoding"), 1, "{:?}", small.headers);

    // A tile is gzipped once, by the tile cache.
    let raw = answer(&app, Method::GET, "/tiles/nyc/12/1205/1539.mvt", &[]).await;
    assert_eq!(raw.status, StatusCode::OK);
    let tile = answer(
        &app,
        Method::GET,
        "/tiles/nyc/12/1205/1539.mvt",
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    assert_eq!(tile.header("content-encoding"), "gzip");
    assert_eq!(gunzip(&tile.body), raw.body);
    // Export files keep their bytes and length, whole or in ranges.
    let fgb = "/api/alignments/nyc/export/territory.fgb";
    let whole = answer(&app, Method::GET, fgb, &[("accept-encoding", "gzip")]).await;
    assert_eq!(whole.header("content-encoding"), "");
    assert_eq!(&whole.body[..3], b"fgb");
    let part = answer(
        &app,
        Method::GET,
        fgb,
        &[("accept-encoding", "gzip"), ("range", "bytes=0-9")],
    )
    .await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.header("content-encoding"), "");
    assert_eq!(part.body, whole.body.slice(0..10));
}

#[actix_web::test]
async fn tilejson_and_styles_revalidate_with_etags() {
    let (_dir, app) = conform_app!();
    for uri in ["/tiles/nyc.json", "/styles/default.json?alignment=nyc"] {
        let first = answer(&app, Method::GET, uri, &[]).await;
        assert_eq!(first.status, StatusCode::OK, "{uri}");
        let etag = first.header("etag").to_owned();
        assert!(etag.starts_with('"') && etag.len() > 2, "{uri}: {etag:?}");
        let again = answer(&app, Method::GET, uri, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(again.body.is_empty());
        let stale = answer(&app, Method::GET, uri, &[("if-none-match", "\"other\"")]).await;
        assert_eq!(stale.status, StatusCode::OK, "{uri}");
        // Compressed: a weak tag that still revalidates.
        let gz = answer(&app, Method::GET, uri, &[("accept-encoding", "gzip")]).await;
        assert_eq!(gz.header("etag"), format!("W/{etag}"), "{uri}");
        let again = answer(
            &app,
            Method::GET,
            uri,
            &[("if-none-match", gz.header("etag")), ("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
    }
    // A change makes a new TileJSON (its tile URL carries the revision).
    let before = answer(&app, Method::GET, "/tiles/nyc.json", &[]).await;
    let s = answer(&app, Method::GET, "/api/alignments/nyc", &[]).await.json();
    let body = serde_json::json!({"expected_revision": s["revision"], "author": "t",
        "changes": [{"op": "assign", "units": ["10002"], "territory": "T1001"}]});
    let req = test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(body);
    let res = test::call_service(&app, req.to_request()).await;
    assert!(res.status().is_success(), "{}", res.status());
    let after = answer(
        &app,
        Method::GET,
        "/tiles/nyc.json",
        &[("if-none-match", before.header("etag"))],
    )
    .await;
    assert_eq!(after.status, StatusCode::OK);
}

#[actix_web::test]
async fn problem_titles_follow_their_type() {
    let (_dir, app) = conform_app!();
    for (method, uri) in [
        (Method::GET, "/api/alignments/nope"),
        (Method::GET, "/nothing"),
        (Method::PUT, "/ogc"),
        (Method::GET, "/ogc/collections/nyc-territories/items?limit=x"),
        (Method::GET, "/api/alignments/nyc/export/territory.fgb"),
        (Method::GET, "/tiles/nyc/30/0/0.mvt"),
        (Method::GET, "/api/datasets/nope"),
    ] {
        let res = answer(&app, method.clone(), uri, &[]).await;
        if res.status.is_success() {
            continue;
        }
        let body = res.json();
        let kind = body["type"].as_str().unwrap();
        if kind == "about:blank" {
            assert_eq!(
                body["title"],
                res.status.canonical_reason().unwrap(),
                "{method} {uri}"
            );
        } else {
            assert!(
                kind.starts_with("tag:geoalign,2026:problem:"),
                "{method} {uri}: {kind}"
            );
            assert_ne!(
                body["title"],
                res.status.canonical_reason().unwrap(),
                "{method} {uri}"
            );
        }
    }
    let missing = answer(&app, Method::GET, "/api/alignments/nope", &[])
        .await
        .json();
    assert_eq!(missing["type"], "tag:geoalign,2026:problem:alignment-not-found");
    let nothing = answer(&app, Method::GET, "/nothing", &[]).await.json();
    assert_eq!(
        (nothing["type"].as_str(), nothing["title"].as_str()),
        (Some("about:blank"), Some("Not Found"))
    );
}

/// The features of an items response.
fn features(a: &Answer) -> Vec<Value> {
    a.json()["features"].as_array().cloned().unwrap_or_default()
}

fn ids(a: &Answer) -> Vec<String> {
    features(a)
        .iter()
        .map(|f| f["id"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn geometry(feature: &Value) -> geo::Geometry<f64> {
    let g: geojson::Geometry = serde_json::from_value(feature["geometry"].clone()).unwrap();
    g.try_into().unwrap()
}

#[actix_web::test]
async fn bbox_selects_by_geometry_and_crosses_the_antimeridian() {
    use geo::{BoundingRect, Intersects};
    let (_dir, app) = conform_app!();
    let all = answer(
        &app,
        Method::GET,
        "/ogc/collections/nyc-territories/items?limit=10000",
        &[],
    )
    .await;
    let all = features(&all);
    assert!(all.len() > 5);
    // A small box inside a territory's envelope (at its north-east corner) that its
    // geometry does not reach: envelope filtering would return it.
    let mut probe = None;
    'outer: for f in &all {
        let g = geometry(f);
        let r = g.bounding_rect().unwrap();
        for step in [0.002, 0.005, 0.01] {
            let b = geo::Rect::new((r.max().x - step, r.max().y - step), (r.max().x, r.max().y));
            if !g.intersects(&b) {
                probe = Some((f["id"].as_str().unwrap().to_owned(), b));
                break 'outer;
            }
        }
    }
    let (outside, b) = probe.expect("a territory whose envelope corner it does not cover");
    let text = format!("{},{},{},{}", b.min().x, b.min().y, b.max().x, b.max().y);
    let got = answer(
        &app,
        Method::GET,
        &format!("/ogc/collections/nyc-territories/items?bbox={text}"),
        &[],
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(!ids(&got).contains(&outside), "{outside} is outside {text}");
    let expected: Vec<String> = all
        .iter()
        .filter(|f| geometry(f).intersects(&b))
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids(&got), expected);
    // Units too.
    let units = answer(
        &app,
        Method::GET,
        &format!("/ogc/collections/nyc-units/items?bbox={text}"),
        &[],
    )
    .await;
    for f in features(&units) {
        assert!(geometry(&f).intersects(&b), "unit {}", f["id"]);
    }

    // West > east: the box from 170°E across the antimeridian to 73.95°W.
    let crossing = answer(
        &app,
        Method::GET,
        "/ogc/collections/nyc-units/items?bbox=170,40.5,-73.95,41&limit=10000",
        &[],
    )
    .await;
    assert_eq!(crossing.status, StatusCode::OK, "{:?}", crossing.json());
    let west = answer(
        &app,
        Method::GET,
        "/ogc/collections/nyc-units/items?bbox=-180,40.5,-73.95,41&limit=10000",
        &[],
    )
    .await;
    assert_eq!(ids(&crossing), ids(&west));
    assert!(!ids(&west).is_empty());
    let none = answer(
        &app,
        Method::GET,
        "/ogc/collections/nyc-units/items?bbox=170,50,-170,60",
        &[],
    )
    .await;
    assert_eq!(none.status, StatusCode::OK);
    assert_eq!(none.json()["numberMatched"], 0);
}

#[actix_web::test]
async fn unknown_parameters_are_refused_and_datetime_and_limit_answered() {
    let (_dir, app) = conform_app!();
    let items = "/ogc/collections/nyc-territories/items";
    for bad in [
        "foo=1",
        "sortby=",
        "filter=",
        "filter=population%20%3E",
        "filter-lang=cql2-json&filter=code%3D%27T1000%27",
        "datetime=yesterday",
        "datetime=../..",
        "crs=EPSG:2263",
        "bbox-crs=EPSG:2263&bbox=0,0,1,1",
        "f=html",
    ] {
        let res = answer(&app, Method::GET, &format!("{items}?{bad}"), &[]).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(res.json()["status"], 400, "{bad}");
    }
    assert_eq!(
        answer(
            &app,
            Method::GET,
            "/ogc/collections/nyc-territories/items/T1000?foo=1",
            &[]
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    let all = answer(&app, Method::GET, items, &[]).await.json();
    for d in [
        "2024-01-01T00:00:00Z",
        "2024-01-01/..",
        "../2024-01-01T12:00:00.5%2B02:00",
        "2020-01-01T00:00:00Z/2030-01-01T00:00:00Z",
    ] {
        let res = answer(&app, Method::GET, &format!("{items}?datetime={d}"), &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{d}");
        // No temporal geometry: every feature matches (/req/core/fc-time-response C).
        assert_eq!(res.json()["numberMatched"], all["numberMatched"], "{d}");
    }
    let doc = answer(&app, Method::GET, "/ogc/api", &[]).await.json();
    let params: Vec<String> = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    for p in [
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "filter",
        "filter-lang",
        "limit",
        "offset",
    ] {
        assert!(params.contains(&p.to_owned()), "{p} in {params:?}");
    }
    let big = answer(&app, Method::GET, &format!("{items}?limit=50000"), &[]).await;
    assert_eq!(big.status, StatusCode::OK);
    let links = big.json()["links"].clone();
    assert!(
        links[0]["href"].as_str().unwrap().contains("limit=10000"),
        "{links}"
    );
    let small = answer(
        &app,
        Method::GET,
        &format!("{items}?limit=2&datetime=2024-01-01"),
        &[],
    )
    .await
    .json();
    let next = small["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap();
    let href = next["href"].as_str().unwrap();
    assert!(
        href.contains("offset=2") && href.contains("datetime=2024-01-01"),
        "{href}"
    );
}

#[actix_web::test]
async fn the_ogc_api_document_is_the_service_desc() {
    let (_dir, app) = conform_app!();
    let landing = answer(&app, Method::GET, "/ogc", &[]).await.json();
    let desc = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "service-desc")
        .unwrap()
        .clone();
    let href = desc["href"].as_str().unwrap();
    assert!(href.ends_with("/ogc/api"), "{href}");
    let res = answer(&app, Method::GET, "/ogc/api", &[]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("content-type"), desc["type"].as_str().unwrap());
    assert_eq!(
        res.header("content-type"),
        "application/vnd.oai.openapi+json;version=3.0"
    );
    let doc = res.json();
    assert!(doc["servers"][0]["url"].as_str().unwrap().ends_with("/ogc"));
    for p in [
        "/",
        "/conformance",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/collections/{collectionId}/queryables",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p}");
    }
    assert!(
        doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| !p.starts_with("/ogc") && !p.starts_with("/api/"))
    );
    serde_json::from_value::<openapiv3::OpenAPI>(doc).expect("an OpenAPI 3.0 document");
}

#[actix_web::test]
async fn crs_and_bbox_crs_of_part_2() {
    let (_dir, app) = conform_app!();
    let c = answer(&app, Method::GET, "/ogc/collections/nyc-territories", &[])
        .await
        .json();
    assert_eq!(c["storageCrs"], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    let crs: Vec<&str> = c["crs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        crs.contains(&"http://www.opengis.net/def/crs/EPSG/0/3857"),
        "{crs:?}"
    );
    let conf = answer(&app, Method::GET, "/ogc/conformance", &[]).await.json();
    assert!(
        conf["conformsTo"]
            .as_array()
            .unwrap()
            .contains(&"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs".into())
    );

    let item = "/ogc/collections/nyc-territories/items/T1000";
    let lonlat = answer(&app, Method::GET, item, &[]).await;
    assert_eq!(
        lonlat.header("content-crs"),
        "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    );
    let first = |a: &Answer| -> (f64, f64) {
        let doc = a.json();
        let mut v = &doc["geometry"]["coordinates"];
        while v[0].is_array() {
            v = &v[0];
        }
        (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
    };
    let (lon, lat) = first(&lonlat);
    let latlon = answer(
        &app,
        Method::GET,
        &format!("{item}?crs=http://www.opengis.net/def/crs/EPSG/0/4326"),
        &[],
    )
    .await;
    assert_eq!(
        latlon.header("content-crs"),
        "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    );
    assert_eq!(first(&latlon), (lat, lon));
    let merc = answer(&app, Method::GET, &format!("{item}?crs=EPSG:3857"), &[]).await;
    assert_eq!(
        merc.header("content-crs"),
        "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    );
    let (x, y) = first(&merc);
    assert!((x - lon.to_radians() * 6_378_137.0).abs() < 0.01, "{x}");
    assert!((y - 4_975_000.0).abs() < 60_000.0, "{y}");

    let items = "/ogc/collections/nyc-units/items?limit=10000";
    let a = answer(
        &app,
        Method::GET,
        &format!("{items}&bbox=-74.0,40.7,-73.9,40.8"),
        &[],
    )
    .await;
    let b = answer(
        &app,
        Method::GET,
        &format!("{items}&bbox=40.7,-74.0,40.8,-73.9&bbox-crs=EPSG:4326"),
        &[],
    )
    .await;
    let (x0, y0) = (-74.0f64.to_radians() * 6_378_137.0, 4_969_803.0);
    let (x1, y1) = (-73.9f64.to_radians() * 6_378_137.0, 4_984_503.0);
    let m = answer(&app, Method::GET, &format!("{items}&bbox={x0},{y0},{x1},{y1}&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3857&crs=EPSG:3857"), &[]).await;
    assert!(!ids(&a).is_empty());
    assert_eq!(ids(&a), ids(&b));
    let (ma, mm) = (ids(&a).len() as f64, ids(&m).len() as f64);
    assert!((ma - mm).abs() <= 2.0, "{ma} vs {mm}");
    assert_eq!(
        m.header("content-crs"),
        "<http://www.opengis.net/def/crs/EPSG/0/3857>"
    );
}

#[actix_web::test]
async fn queryables_and_cql2_filters() {
    let (_dir, app) = conform_app!();
    let q = answer(&app, Method::GET, "/ogc/collections/nyc-units/queryables", &[]).await;
    assert_eq!(q.status, StatusCode::OK);
    assert_eq!(q.header("content-type"), "application/schema+json");
    let props = q.json()["properties"].clone();
    assert_eq!(props["population_estimate"]["type"], "integer", "{props}");
    assert_eq!(props["unit_id"]["type"], "string");
    let c = answer(&app, Method::GET, "/ogc/collections/nyc-units", &[])
        .await
        .json();
    assert!(
        c["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables")
    );

    let all = features(
        &answer(
            &app,
            Method::GET,
            "/ogc/collections/nyc-units/items?limit=10000",
            &[],
        )
        .await,
    );
    // Null (a point unit without population) compares as false.
    let pop = |f: &Value| f["properties"]["population_estimate"].as_i64();
    let populations: Vec<&Value> = all
        .iter()
        .map(|f| &f["properties"]["population_estimate"])
        .collect();
    assert!(
        populations.iter().all(|p| p.is_null() || p.is_i64()),
        "integers: {populations:?}"
    );
    assert!(populations.iter().filter(|p| p.is_i64()).count() > 100);
    for (filter, keep) in [
        (
            "population_estimate > 50000",
            Box::new(|f: &Value| pop(f).is_some_and(|p| p > 50000)) as Box<dyn Fn(&Value) -> bool>,
        ),
        (
            "population_estimate > 50000 AND unit_id < '11000'",
            Box::new(|f: &Value| pop(f).is_some_and(|p| p > 50000) && f["id"].as_str().unwrap() < "11000"),
        ),
        (
            "(population_estimate <= 100 OR \"unit_id\" = '10001') AND NOT unit_id LIKE '112%'",
            Box::new(|f: &Value| {
                (pop(f).is_some_and(|p| p <= 100) || f["id"] == "10001")
                    && !f["id"].as_str().unwrap().starts_with("112")
            }),
        ),
    ] {
        let encoded = filter
            .replace('%', "%25")
            .replace(' ', "%20")
            .replace('\'', "%27")
            .replace('"', "%22")
            .replace('>', "%3E")
            .replace('<', "%3C")
            .replace('=', "%3D")
            .replace('(', "%28")
            .replace(')', "%29");
        let res = answer(
            &app,
            Method::GET,
            &format!("/ogc/collections/nyc-units/items?limit=10000&filter-lang=cql2-text&filter={encoded}"),
            &[],
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{filter}: {:?}", res.json());
        let expected: Vec<String> = all
            .iter()
            .filter(|f| keep(f))
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(!expected.is_empty() && expected.len() < all.len(), "{filter}");
        assert_eq!(ids(&res), expected, "{filter}");
        assert_eq!(res.json()["numberMatched"], expected.len(), "{filter}");
    }
    let unknown = answer(
        &app,
        Method::GET,
        "/ogc/collections/nyc-units/items?filter=income%3E3",
        &[],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    // Territory sums of an integer metric stay integers; area stays real.
    let t = answer(
        &app,
        Method::GET,
        "/ogc/collections/nyc-territories/items/T1000",
        &[],
    )
    .await
    .json();
    assert!(
        t["properties"]["population_estimate"].is_i64(),
        "{}",
        t["properties"]
    );
    assert!(t["properties"]["area_km2"].is_f64());
}

/// The sample alignment exported as MBTiles, zooms 3 to 9.
fn sample_mbtiles() -> (tempfile::TempDir, std::path::PathBuf) {
    sample_archive(geoalign::tiles::export::Format::Mbtiles)
}

/// The sample's tiles of zooms 3 to 9 as an MBTiles or PMTiles archive.
fn sample_archive(format: geoalign::tiles::export::Format) -> (tempfile::TempDir, std::path::PathBuf) {
    use geoalign::tiles::export::{ExportOptions, Format, export};
    use geoalign::tiles::{TileOptions, TileService};
    let (dir, engine) = crate::common::sample_engine();
    let service = Arc::new(TileService::new(Arc::new(engine), TileOptions::default()));
    let output = dir.path().join(match format {
        Format::Mbtiles => "nyc.mbtiles",
        Format::Pmtiles => "nyc.pmtiles",
    });
    let options = ExportOptions {
        alignment: "nyc".into(),
        format,
        minzoom: 3,
        maxzoom: 9,
        output: output.clone(),
        threads: 2,
    };
    export(&service, &options, &|_, _| {}).unwrap();
    (dir, output)
}

#[::core::prelude::v1::test]
fn archive_metadata_keeps_the_archive_zooms_and_typed_fields() {
    let (_dir, output) = sample_mbtiles();
    let db = rusqlite::Connection::open(&output).unwrap();
    let json: String = db
        .query_row("SELECT value FROM metadata WHERE name = 'json'", [], |r| r.get(0))
        .unwrap();
    let json: Value = serde_json::from_str(&json).unwrap();
    check_archive_metadata(&json);

    // PMTiles v3: the same metadata (gzipped JSON at the offset the header gives), and
    // the header's zooms are the archive's.
    let (_dir, pmtiles) = sample_archive(geoalign::tiles::export::Format::Pmtiles);
    let bytes = std::fs::read(&pmtiles).unwrap();
    assert_eq!((&bytes[..7], bytes[7]), (&b"PMTiles"[..], 3));
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    let (offset, length) = (u64_at(24), u64_at(32));
    let compressed = &bytes[offset..offset + length];
    let metadata = match bytes[97] {
        1 => compressed.to_vec(),
        2 => gunzip(compressed),
        other => panic!("internal compression {other}"),
    };
    assert_eq!((bytes[100], bytes[101]), (3, 9), "header zooms");
    let pm: Value = serde_json::from_slice(&metadata).unwrap();
    check_archive_metadata(&pm);
    assert_eq!(pm["vector_layers"], json["vector_layers"]);

    // GDAL reads the metric as a number.
    let Ok(out) = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so"])
        .arg(&output)
        .arg("territories")
        .output()
    else {
        eprintln!("skipped: ogrinfo is not installed");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("population_estimate:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("Real") || line.contains("Integer"), "{line}");
    assert!(text.contains("Polygon"), "{text}");
}

/// An archive's metadata of zooms 3 to 9: every layer within them, field types, stats.
fn check_archive_metadata(json: &Value) {
    let layers = json["vector_layers"].as_array().unwrap();
    assert!(layers.iter().any(|l| l["id"] == "units"));
    for layer in layers {
        let (min, max) = (
            layer["minzoom"].as_u64().unwrap(),
            layer["maxzoom"].as_u64().unwrap(),
        );
        assert!((3..=9).contains(&min) && (min..=9).contains(&max), "{layer}");
        for (name, kind) in layer["fields"].as_object().unwrap() {
            assert!(
                ["Number", "String", "Boolean"].contains(&kind.as_str().unwrap()),
                "{name}: {kind}"
            );
        }
    }
    let territories = layers.iter().find(|l| l["id"] == "territories").unwrap();
    assert_eq!(territories["fields"]["population_estimate"], "Number");
    assert_eq!(territories["fields"]["id"], "String");
    let stats = &json["tilestats"];
    assert_eq!(stats["layerCount"].as_u64().unwrap() as usize, layers.len());
    assert!(
        stats["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["layer"] == "boundaries" && l["geometry"] == "LineString")
    );
}

#[actix_web::test]
async fn ogc_api_tiles_over_the_alignment_tiles() {
    let (_dir, app) = conform_app!();
    let landing = answer(&app, Method::GET, "/ogc", &[]).await.json();
    let schemes = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes")
        .expect("tiling-schemes link")
        .clone();
    assert!(schemes["href"].as_str().unwrap().ends_with("/ogc/tileMatrixSets"));
    let conf = answer(&app, Method::GET, "/ogc/conformance", &[]).await.json();
    for class in [
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    ] {
        assert!(
            conf["conformsTo"].as_array().unwrap().contains(&class.into()),
            "{class}"
        );
    }
    let sets = answer(&app, Method::GET, "/ogc/tileMatrixSets", &[]).await.json();
    assert_eq!(sets["tileMatrixSets"][0]["id"], "WebMercatorQuad");
    let tms = answer(&app, Method::GET, "/ogc/tileMatrixSets/WebMercatorQuad", &[])
        .await
        .json();
    assert_eq!(tms["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
    assert_eq!(tms["tileMatrices"][12]["matrixWidth"], 4096);
    // The TMS 1.0 members GDAL before 3.7 reads, beside the 2.0 ones.
    assert_eq!(tms["identifier"], "WebMercatorQuad");
    assert_eq!(tms["supportedCRS"], tms["crs"]);
    assert_eq!(tms["tileMatrices"][3]["identifier"], "3");
    assert_eq!(
        tms["tileMatrices"][3]["topLeftCorner"],
        tms["tileMatrices"][3]["pointOfOrigin"]
    );
    let z0 = tms["tileMatrices"][0]["cellSize"].as_f64().unwrap();
    assert!((z0 * 256.0 - 2.0 * 20_037_508.342_789_244).abs() < 1e-3);

    let collection = answer(&app, Method::GET, "/ogc/collections/nyc-territories", &[])
        .await
        .json();
    let link = collection["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
        .expect("tilesets link")
        .clone();
    let href = link["href"].as_str().unwrap();
    let list = answer(&app, Method::GET, &href[href.find("/ogc").unwrap()..], &[])
        .await
        .json();
    let tileset_href = list["tilesets"][0]["links"][0]["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let tileset = answer(
        &app,
        Method::GET,
        &tileset_href[tileset_href.find("/ogc").unwrap()..],
        &[],
    )
    .await
    .json();
    assert_eq!(tileset["dataType"], "vector");
    assert_eq!(tileset["layers"][0]["id"], "territories");
    // Limits: only the tiles the data touches (NYC: one tile at zoom 8, 26 x 27 at 14).
    let limits = tileset["tileMatrixSetLimits"].as_array().unwrap();
    let at = |z: &str| limits.iter().find(|l| l["tileMatrix"] == z).unwrap().clone();
    let cols_rows = |l: &Value| {
        let n = |k: &str| l[k].as_u64().unwrap();
        (n("minTileCol"), n("maxTileCol"), n("minTileRow"), n("maxTileRow"))
    };
    assert_eq!(cols_rows(&at("8")), (75, 75, 96, 96));
    let (c0, c1, r0, r1) = cols_rows(&at("14"));
    assert!(
        (c0..=c1).contains(&4824) && (r0..=r1).contains(&6159),
        "{:?}",
        at("14")
    );
    assert!(c1 - c0 < 30 && r1 - r0 < 30, "{:?}", at("14"));
    // Layers say their properties and where they are (EPSG:3857 metres).
    let schema = &tileset["layers"][0]["propertiesSchema"]["properties"];
    assert_eq!(schema["population_estimate"]["type"], "number");
    assert_eq!(schema["name"]["type"], "string");
    let lower = tileset["boundingBox"]["lowerLeft"].as_array().unwrap();
    assert!(
        (lower[0].as_f64().unwrap() + 8_266_000.0).abs() < 10_000.0,
        "{lower:?}"
    );
    assert_eq!(tileset["centerPoint"]["tileMatrix"], "9");
    let template = tileset["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "item")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    let tile_uri = template
        .replace("{tileMatrix}", "12")
        .replace("{tileRow}", "1539")
        .replace("{tileCol}", "1205");
    let ogc = answer(
        &app,
        Method::GET,
        &tile_uri[tile_uri.find("/ogc").unwrap()..],
        &[],
    )
    .await;
    assert_eq!(ogc.status, StatusCode::OK);
    assert_eq!(ogc.header("content-type"), "application/vnd.mapbox-vector-tile");
    let xyz = answer(&app, Method::GET, "/tiles/nyc/12/1205/1539.mvt", &[]).await;
    assert_eq!(ogc.body, xyz.body, "row/col order");
    let missing = answer(&app, Method::GET, "/ogc/collections/nope-units/tiles", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

/// Islands on both sides of 180° (real Aleutian ZIPs): the TileJSON centre, the OGC
/// extent and the tileset are on the data, not on the other side of the world.
#[actix_web::test]
async fn extents_and_centres_across_the_antimeridian() {
    let (_dir, engine) =
        crate::common::engine_with(crate::common::fixture("broken/aleutian.geojson"), "al", "zip");
    engine.create("al", Some("al"), None, None).unwrap();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(app(state)).await;
    let tilejson = answer(&app, Method::GET, "/tiles/al.json", &[]).await.json();
    let [lon, lat] = [0, 1].map(|i| tilejson["center"][i].as_f64().unwrap());
    assert!(
        lon.abs() > 130.0 && (50.0..60.0).contains(&lat),
        "{}",
        tilejson["center"]
    );
    assert!(
        tilejson["center"][2].as_f64().unwrap() >= 2.0,
        "{}",
        tilejson["center"]
    );
    // MapLibre requests no tile outside west..east: the bounds stay the whole width.
    assert_eq!(tilejson["bounds"][0], -179.148909);
    let collection = answer(&app, Method::GET, "/ogc/collections/al-units", &[])
        .await
        .json();
    let bbox: Vec<f64> = collection["extent"]["spatial"]["bbox"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        bbox[0] > 170.0 && bbox[2] < -129.0,
        "west > east across 180°: {bbox:?}"
    );
    let tileset = answer(
        &app,
        Method::GET,
        "/ogc/collections/al-units/tiles/WebMercatorQuad",
        &[],
    )
    .await
    .json();
    let z4 = tileset["tileMatrixSetLimits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["tileMatrix"] == "4")
        .unwrap()
        .clone();
    assert_eq!(
        (z4["minTileCol"].as_u64(), z4["maxTileCol"].as_u64()),
        (Some(0), Some(15))
    );
    assert!(z4["maxTileRow"].as_u64().unwrap() <= 5, "{z4}");
}

/// The Python with the conformance clients: `GEOALIGN_CONFORMANCE_PYTHON`, else
/// `GEOALIGN_GDAL_PYTHON`, else `target/gdal-venv/bin/python` (what `.ci/run` makes);
/// `None` (with a message) when it lacks them, which fails instead when
/// `GEOALIGN_REQUIRE_CONFORMANCE` is set.
fn client_python() -> Option<std::ffi::OsString> {
    let python = std::env::var_os("GEOALIGN_CONFORMANCE_PYTHON")
        .or_else(|| std::env::var_os("GEOALIGN_GDAL_PYTHON"))
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/gdal-venv/bin/python")
                .into()
        });
    let ok = std::process::Command::new(&python)
        .args([
            "-c",
            "import owslib.ogcapi.features, openapi_spec_validator, pyogrio",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let reason = format!(
        "{} lacks owslib, openapi-spec-validator or pyogrio (pip install owslib openapi-spec-validator pyogrio)",
        python.to_string_lossy()
    );
    assert!(
        std::env::var_os("GEOALIGN_REQUIRE_CONFORMANCE").is_none(),
        "{reason}"
    );
    eprintln!("skipped: {reason}");
    None
}

#[::core::prelude::v1::test]
fn gis_clients_read_every_collection_with_a_bbox_and_a_filter() {
    let (_dir, base) = crate::ogc::spawn_server();
    // Debian's GDAL (3.6) OAPIF driver: a bbox and a filter on every collection.
    if crate::ogc::ogrinfo() {
        for id in ["nyc-units", "nyc-territories", "nyc-districts", "nyc-regions"] {
            let count = |extra: &[&str]| -> usize {
                let out = std::process::Command::new("ogrinfo")
                    .args(["-ro", "-q"])
                    .arg(format!("OAPIF:{base}/ogc"))
                    .arg(id)
                    .args(extra)
                    .output()
                    .expect("run ogrinfo");
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert!(
                    out.status.success() && stderr.trim().is_empty(),
                    "{id} {extra:?}: {stderr}"
                );
                String::from_utf8_lossy(&out.stdout).matches("OGRFeature").count()
            };
            let all = count(&[]);
            let boxed = count(&["-spat", "-73.99", "40.74", "-73.98", "40.75"]);
            let filtered = count(&["-where", "population_estimate > 30000"]);
            assert!(0 < boxed && boxed < all, "{id}: bbox {boxed} of {all}");
            // Every district and region has more than 30,000 people; units and territories do not.
            let strict = matches!(id, "nyc-units" | "nyc-territories");
            assert!(
                0 < filtered && (filtered < all || !strict),
                "{id}: filter {filtered} of {all}"
            );
        }
    }
    let Some(python) = client_python() else {
        return;
    };
    let (_tiles, mbtiles) = sample_mbtiles();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/clients.py");
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(&base)
        .arg(&mbtiles)
        .output()
        .expect("run the clients");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

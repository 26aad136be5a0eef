//! HTTP exports (byte ranges, ETag) and OGC API - Features, through actix's test
//! service and through GDAL (`/vsicurl/`, `OAPIF:`) against a real server on a free
//! loopback port (GDAL parts skipped with a message when `ogrinfo` is absent).

use crate::common;

use std::process::Command;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, web};
use geoalign::http::{AppState, configure};
use serde_json::Value;
use std::collections::BTreeMap;

async fn call(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, BTreeMap<String, String>, bytes::Bytes) {
    let mut req = actix_web::test::TestRequest::get().uri(uri);
    for (k, v) in headers {
        req = req.insert_header((*k, *v));
    }
    let res = actix_web::test::call_service(app, req.to_request()).await;
    let status = res.status();
    let headers = res
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    (status, headers, actix_web::test::read_body(res).await)
}

macro_rules! sample_app {
    () => {{
        let (dir, engine) = common::sample_engine();
        let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
        (
            dir,
            actix_web::test::init_service(App::new().app_data(state).configure(configure)).await,
        )
    }};
}

#[actix_web::test]
async fn fgb_export_honours_ranges_and_etags() {
    let (_dir, app) = sample_app!();
    let uri = "/api/alignments/nyc/export/territory.fgb";
    let (status, headers, whole) = call(&app, uri, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&whole[..3], b"fgb");
    assert_eq!(headers["accept-ranges"], "bytes");
    assert_eq!(headers["content-type"], "application/flatgeobuf");
    let etag = headers["etag"].clone();
    assert!(etag.contains("r1"), "{etag}");

    let (status, headers, part) = call(&app, uri, &[("range", "bytes=8-99")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&part[..], &whole[8..100]);
    assert_eq!(headers["content-range"], format!("bytes 8-99/{}", whole.len()));
    let (status, _, tail) = call(&app, uri, &[("range", "bytes=-10")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(&tail[..], &whole[whole.len() - 10..]);

    for bad in ["bytes=99999999-", "bytes=5-2", "bytes=x-y"] {
        let (status, headers, body) = call(&app, uri, &[("range", bad)]).await;
        assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        assert_eq!(headers["content-range"], format!("bytes */{}", whole.len()));
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["status"], 416);
    }
    let (status, _, _) = call(&app, uri, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // A change bumps the revision, so the ETag.
    let req = actix_web::test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(serde_json::json!({"expected_revision": 1, "changes": [{"op": "assign", "units": ["10002"], "territory": "T1001"}]}))
        .to_request();
    assert_eq!(
        actix_web::test::call_service(&app, req).await.status(),
        StatusCode::OK
    );
    let (status, headers, _) = call(&app, uri, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(headers["etag"], etag);
}

#[actix_web::test]
async fn every_export_format_answers_and_bad_names_are_404() {
    let (_dir, app) = sample_app!();
    for (file, kind) in [
        ("units.geojson", "application/geo+json"),
        ("district.gpkg", "application/geopackage+sqlite3"),
        ("unit.csv", "text/csv; charset=utf-8"),
        ("unit.csvt", "text/plain; charset=utf-8"),
        ("regions.fgb", "application/flatgeobuf"),
    ] {
        let (status, headers, body) = call(&app, &format!("/api/alignments/nyc/export/{file}"), &[]).await;
        assert_eq!(status, StatusCode::OK, "{file}");
        assert_eq!(headers["content-type"], kind);
        assert!(!body.is_empty());
    }
    for (file, status) in [
        ("county.fgb", StatusCode::NOT_FOUND),
        ("territory.shp", StatusCode::NOT_FOUND),
        ("territory", StatusCode::NOT_FOUND),
    ] {
        let (got, headers, _) = call(&app, &format!("/api/alignments/nyc/export/{file}"), &[]).await;
        assert_eq!(got, status, "{file}");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let (status, _, _) = call(&app, "/api/alignments/nope/export/territory.fgb", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn ogc_api_features_pages_filters_and_refuses() {
    let (_dir, app) = sample_app!();
    let json = |b: &bytes::Bytes| serde_json::from_slice::<Value>(b).unwrap();
    let (status, _, body) = call(&app, "/ogc", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let rels: Vec<&str> = json(&body)["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap().to_owned())
        .map(|s| Box::leak(s.into_boxed_str()) as &str)
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "{rel}");
    }
    let (_, _, body) = call(&app, "/ogc/conformance", &[]).await;
    let classes = json(&body)["conformsTo"].clone();
    assert!(
        classes
            .as_array()
            .unwrap()
            .contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core".into()),
        "{classes}"
    );
    let (_, _, body) = call(&app, "/ogc/collections", &[]).await;
    let ids: Vec<String> = json(&body)["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        ["nyc-units", "nyc-territories", "nyc-districts", "nyc-regions"]
    );

    // Paging: follow next links through all 306 units.
    let mut uri = "/ogc/collections/nyc-units/items?limit=100".to_owned();
    let mut seen = 0;
    loop {
        let (status, headers, body) = call(&app, &uri, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/geo+json");
        let page = json(&body);
        assert_eq!(page["numberMatched"], 306);
        seen += page["numberReturned"].as_u64().unwrap();
        assert_eq!(
            page["features"].as_array().unwrap().len() as u64,
            page["numberReturned"].as_u64().unwrap()
        );
        match page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
        {
            Some(next) => {
                let href = next["href"].as_str().unwrap();
                uri = href[href.find("/ogc").unwrap()..].to_owned();
            }
            None => break,
        }
    }
    assert_eq!(seen, 306);

    let (_, _, body) = call(
        &app,
        "/ogc/collections/nyc-territories/items?bbox=-73.99,40.74,-73.98,40.75",
        &[],
    )
    .await;
    let page = json(&body);
    let matched = page["numberMatched"].as_u64().unwrap();
    assert!((1..28).contains(&matched), "{matched}");

    let (status, _, body) = call(&app, "/ogc/collections/nyc-territories/items/T1000", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let feature = json(&body);
    assert_eq!(feature["id"], "T1000");
    assert_eq!(feature["properties"]["reps"], "R1000");
    assert_eq!(feature["geometry"]["type"], "MultiPolygon");

    for (uri, status) in [
        (
            "/ogc/collections/nyc-units/items?limit=0",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/ogc/collections/nyc-units/items?limit=abc",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/ogc/collections/nyc-units/items?bbox=1,2,3",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/ogc/collections/nyc-units/items?bbox=0,50,1,40",
            StatusCode::BAD_REQUEST,
        ),
        ("/ogc/collections/nyc-counties/items", StatusCode::NOT_FOUND),
        ("/ogc/collections/nope-units", StatusCode::NOT_FOUND),
        (
            "/ogc/collections/nyc-territories/items/T9999",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, headers, body) = call(&app, uri, &[]).await;
        assert_eq!(got, status, "{uri}");
        assert_eq!(headers["content-type"], "application/problem+json", "{uri}");
        assert!(json(&body)["detail"].as_str().unwrap().len() > 10);
    }
}

#[actix_web::test]
async fn openapi_documents_the_export_and_ogc_paths() {
    let (_dir, app) = sample_app!();
    let (_, _, body) = call(&app, "/api/openapi.json", &[]).await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/alignments/{alignment}/export/{file}",
        "/ogc",
        "/ogc/conformance",
        "/ogc/collections",
        "/ogc/collections/{collectionId}",
        "/ogc/collections/{collectionId}/items",
        "/ogc/collections/{collectionId}/items/{featureId}",
    ] {
        assert!(paths.contains_key(path), "{path} undocumented");
        let uri = path
            .replace("{alignment}", "nyc")
            .replace("{file}", "territory.fgb")
            .replace("{collectionId}", "nyc-territories")
            .replace("{featureId}", "T1000");
        assert_eq!(call(&app, &uri, &[]).await.0, StatusCode::OK, "{uri}");
    }
}

/// Whether `ogrinfo` runs here; prints why a test is skipped when not.
pub(crate) fn ogrinfo() -> bool {
    let ok = Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: ogrinfo is absent (apt-get install gdal-bin)");
    }
    ok
}

/// Serves the sample on a free loopback port in a background thread; returns its base URL.
pub(crate) fn spawn_server() -> (tempfile::TempDir, String) {
    spawn_server_with(|_| {})
}

/// [`spawn_server`] with its state altered by `alter` first.
pub(crate) fn spawn_server_with(alter: impl FnOnce(&mut AppState)) -> (tempfile::TempDir, String) {
    let (dir, engine) = common::sample_engine();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut state = AppState::with_engine(Arc::new(engine));
    alter(&mut state);
    let server_bind = bind.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(geoalign::http::serve(state, &server_bind, None))
    });
    wait_for(&bind);
    (dir, format!("http://{bind}"))
}

/// Waits until something listens on `bind`.
fn wait_for(bind: &str) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(bind).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nothing listens on {bind}");
}

/// Reads `url` through GDAL's `/vsicurl/` with a bbox filter; returns (features, bytes
/// transferred, file size) from GDAL's debug log.
fn vsicurl_bbox_read(url: &str, bbox: [&str; 4]) -> (usize, u64, u64) {
    let out = Command::new("ogrinfo")
        .args(["-ro", "-q", "-al", "--debug", "on"])
        .arg(format!("/vsicurl/{url}"))
        .arg("-spat")
        .args(bbox)
        .output()
        .expect("run ogrinfo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let features = stdout.matches("OGRFeature").count();
    let size: u64 = stderr
        .lines()
        .find_map(|l| {
            l.split("GetFileSize(")
                .nth(1)?
                .split(")=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .expect("file size in GDAL's debug output");
    let transferred: u64 = stderr
        .lines()
        .filter_map(|l| {
            let range = l.split("Downloading ").nth(1)?.split_whitespace().next()?;
            let (a, b) = range.split_once('-')?;
            Some(b.parse::<u64>().ok()? - a.parse::<u64>().ok()? + 1)
        })
        .sum();
    assert!(transferred > 0, "no range request seen: {stderr}");
    eprintln!(
        "bbox read of {url}: {features} features, {transferred} of {size} bytes ({:.2}%)",
        transferred as f64 / size as f64 * 100.0
    );
    (features, transferred, size)
}

#[test]
fn gdal_reads_a_bbox_of_the_served_fgb_over_range_requests_and_lists_ogc_collections() {
    if !ogrinfo() {
        return;
    }
    let (_dir, base) = spawn_server();
    let url = format!("{base}/api/alignments/nyc/export/unit.fgb");
    let (features, transferred, size) = vsicurl_bbox_read(&url, ["-73.985", "40.745", "-73.984", "40.746"]);
    assert!((1..10).contains(&features), "{features} features in the bbox");
    assert!(
        transferred * 10 < size,
        "transferred {transferred} of {size} bytes"
    );

    let out = Command::new("ogrinfo")
        .args(["-ro", "-q"])
        .arg(format!("OAPIF:{base}/ogc"))
        .output()
        .expect("run ogrinfo");
    let listing = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "GDAL warned: {stderr}");
    for id in ["nyc-units", "nyc-territories", "nyc-districts", "nyc-regions"] {
        assert!(listing.contains(id), "{id} not listed: {listing}");
    }
    let out = Command::new("ogrinfo")
        .args(["-ro", "-q"])
        .arg(format!("OAPIF:{base}/ogc"))
        .arg("nyc-units")
        .output()
        .expect("run ogrinfo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim().is_empty(), "GDAL warned: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).matches("OGRFeature").count(),
        306
    );
}

#[test]
fn gdal_bbox_read_of_the_served_zip5_us_fgb_transfers_a_small_fraction() {
    let Some(src) = common::shared("zip5_us.fgb") else {
        return;
    };
    if !ogrinfo() {
        return;
    }
    let (dir, store) = common::store();
    geoalign::ingest::ingest(&store, &common::options(src, "us")).expect("ingest zip5_us");
    let engine = geoalign::engine::Engine::new(Arc::new(store));
    engine.create("us", Some("us"), None, None).expect("alignment");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let state = AppState::with_engine(Arc::new(engine));
    let server_bind = bind.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(geoalign::http::serve(state, &server_bind, None))
    });
    wait_for(&bind);
    // Manhattan, around Midtown.
    let url = format!("http://{bind}/api/alignments/us/export/unit.fgb");
    let (features, transferred, size) = vsicurl_bbox_read(&url, ["-73.99", "40.74", "-73.98", "40.75"]);
    assert!((1..20).contains(&features), "{features} features in the bbox");
    assert!(
        transferred * 10 < size,
        "transferred {transferred} of {size} bytes"
    );
    // A collection larger than the largest page: `limit` above it is clamped, and the
    // `next` links walk every feature once.
    let page = |path: &str| -> Value {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&bind).expect("connect");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {bind}\r\n\r\n").expect("send");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("read");
        let body = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("headers") + 4;
        serde_json::from_slice(&answer[body..]).expect("JSON page")
    };
    let mut path = "/ogc/collections/us-units/items?limit=50000".to_owned();
    let mut ids = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let doc = page(&path);
        let features = doc["features"].as_array().expect("features");
        assert_eq!(doc["numberReturned"].as_u64(), Some(features.len() as u64));
        assert!(
            features.len() <= geoalign::http::ogc::MAX_LIMIT,
            "{}",
            features.len()
        );
        assert_eq!(doc["numberMatched"].as_u64(), Some(33_791));
        for f in features {
            assert!(ids.insert(f["id"].to_string()), "{} twice", f["id"]);
        }
        pages += 1;
        let next = doc["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["rel"] == "next")
            .and_then(|l| l["href"].as_str());
        match next {
            Some(href) => path = href[href.find("/ogc").expect("path")..].to_owned(),
            None => break,
        }
    }
    assert_eq!((ids.len(), pages), (33_791, 4));
    drop(dir);
}

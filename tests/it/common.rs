//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use geoalign::ingest::{IngestOptions, IngestReport, ingest};
use geoalign::store::Store;

/// A fixture under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A file of ../shared/data, or None (with a message) when it is absent.
pub fn shared(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(name);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
    }
}

/// A fresh store in a temporary folder (kept alive by the returned guard).
pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("test.db")).expect("open store");
    (dir, store)
}

/// Options for ingesting `path` as dataset `name` keyed by `zip`.
pub fn options(path: PathBuf, name: &str) -> IngestOptions {
    IngestOptions {
        path,
        dataset: name.into(),
        id_field: "zip".into(),
        layer: None,
        s_srs: None,
        replace: false,
        drop_alignments: false,
        points: false,
        cleaning: Default::default(),
        roles: Default::default(),
        progress: false,
    }
}

/// Ingests a fixture as dataset `name`, panicking on error.
pub fn ingest_fixture(store: &Store, name: &str, dataset: &str) -> IngestReport {
    ingest(store, &options(fixture(name), dataset)).unwrap_or_else(|e| panic!("ingest {name}: {e}"))
}

/// Great-circle distance in metres.
pub fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lat2) = (a.1.to_radians(), b.1.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.0 - a.0).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

/// The demo sample (NYC units, point ZIPs, alignment `nyc` with reps) in a fresh engine.
pub fn sample_engine() -> (tempfile::TempDir, geoalign::engine::Engine) {
    engine_on(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data"))
}

/// The demo sample's files as found in `data` (a copy of `data/`, perhaps altered) in a
/// fresh engine.
pub fn engine_on(data: &Path) -> (tempfile::TempDir, geoalign::engine::Engine) {
    let (dir, store) = store();
    geoalign::demo::load_sample(&store, data, false).expect("sample");
    let engine = geoalign::engine::Engine::new(std::sync::Arc::new(store));
    geoalign::demo::load_alignment(&engine, data).expect("sample alignment");
    (dir, engine)
}

/// Undoes the latest change set of `alignment` not yet undone, based on its current revision.
pub fn undo(
    engine: &geoalign::engine::Engine,
    alignment: &str,
) -> Result<geoalign::engine::ChangeOutcome, geoalign::engine::AlignError> {
    let undo = geoalign::engine::Undo {
        expected_revision: engine.snapshot(alignment)?.revision,
        revision: None,
        force: false,
    };
    engine.undo(alignment, undo, "test")
}

/// Applies an accounts sheet (`id,name,lon,lat,territory`) to the `nyc` alignment.
pub fn add_accounts(engine: &geoalign::engine::Engine, sheet: &str) -> Vec<geoalign::align::Op> {
    let s = engine.snapshot("nyc").unwrap();
    let ops = geoalign::align::records::accounts(sheet.as_bytes(), &s.state).unwrap();
    engine.apply("nyc", s.revision, &ops, "t").unwrap();
    ops
}

/// Calls an actix test service; the status and the body as JSON (null when it is not).
pub async fn send(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    request: actix_web::test::TestRequest,
) -> (actix_web::http::StatusCode, serde_json::Value) {
    let res = actix_web::test::call_service(app, request.to_request()).await;
    let status = res.status();
    let body = actix_web::test::read_body(res).await;
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

/// The next chunk of a streamed response body (an event of an event stream), or None
/// when the body ended; panics after 10 s.
pub async fn next_chunk(body: &mut actix_web::body::BoxBody) -> Option<String> {
    use actix_web::body::MessageBody;
    let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_next(cx));
    let chunk = actix_web::rt::time::timeout(std::time::Duration::from_secs(10), next)
        .await
        .expect("a chunk within 10 s")?;
    Some(String::from_utf8(chunk.expect("a body chunk").to_vec()).expect("UTF-8"))
}

/// An engine over a fresh store holding `path` as dataset `name` keyed by `id_field`.
pub fn engine_with(
    path: PathBuf,
    name: &str,
    id_field: &str,
) -> (tempfile::TempDir, geoalign::engine::Engine) {
    let (dir, store) = store();
    let options = IngestOptions {
        id_field: id_field.into(),
        ..options(path, name)
    };
    ingest(&store, &options).unwrap_or_else(|e| panic!("ingest {name}: {e}"));
    (dir, geoalign::engine::Engine::new(std::sync::Arc::new(store)))
}

//! Observability (issue #12): `/ready`, `/health` degraded, `/metrics` in Prometheus
//! text format, `X-Request-Id` on every response.

use crate::common;
use crate::common::send as call;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use geoalign::http::metrics::observe;
use geoalign::http::{AppState, configure};
use serde_json::json;

#[actix_web::test]
async fn ready_needs_every_alignment_loaded_and_a_writable_store() {
    let (_dir, engine) = common::sample_engine();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state.clone()).configure(configure)).await;
    let (status, body) = call(&app, test::TestRequest::get().uri("/ready")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["loaded"], body["alignments"]);

    // An alignment the server has not loaded yet: not ready until it is.
    state.engine.create("later", Some("nyc"), None, None).unwrap();
    let (status, body) = call(&app, test::TestRequest::get().uri("/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        (body["alignments"].as_u64(), body["loaded"].as_u64()),
        (Some(2), Some(1))
    );
    state.engine.snapshot("later").unwrap();
    assert_eq!(
        call(&app, test::TestRequest::get().uri("/ready")).await.0,
        StatusCode::OK
    );

    // Another process holds the write lock past the busy timeout: not ready, and
    // /health (still 200: the process lives) says degraded.
    let blocker = rusqlite::Connection::open(state.store.path()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let (status, body) = call(&app, test::TestRequest::get().uri("/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["store_writable"], false);
    assert!(body["store_error"].as_str().unwrap().contains("locked"), "{body}");
    let (status, body) = call(&app, test::TestRequest::get().uri("/health")).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("degraded")),
        "{body}"
    );
    blocker.execute_batch("ROLLBACK").unwrap();
    let (_, body) = call(&app, test::TestRequest::get().uri("/health")).await;
    assert_eq!(body["status"], "ok");
}

#[actix_web::test]
async fn metrics_count_routes_cache_revisions_and_commits() {
    let (_dir, engine) = common::sample_engine();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(
        App::new()
            .app_data(state.clone())
            .wrap_fn(observe)
            .configure(configure),
    )
    .await;
    for _ in 0..3 {
        let (status, _) = call(&app, test::TestRequest::get().uri("/api/alignments/nyc")).await;
        assert_eq!(status, StatusCode::OK);
    }
    for _ in 0..2 {
        let res = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/tiles/nyc/10/301/385.mvt")
                .to_request(),
        )
        .await;
        assert!(res.status().is_success());
    }
    for i in 0..3 {
        let method = actix_web::http::Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
        let req = test::TestRequest::default().method(method).uri("/nowhere");
        test::call_service(&app, req.to_request()).await;
    }
    let revision = state.engine.snapshot("nyc").unwrap().revision;
    let change = json!({"expected_revision": revision,
        "changes": [{"op": "assign", "units": ["10002"], "territory": "T1001"}]});
    let req = test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(change);
    assert_eq!(call(&app, req).await.0, StatusCode::OK);
    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .parse()
            .unwrap()
    };
    assert_eq!(
        value(
            r#"geoalign_http_requests_total{method="GET",route="/api/alignments/{alignment}",status="200"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            r#"geoalign_http_request_duration_seconds_count{method="GET",route="/api/alignments/{alignment}"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            r#"geoalign_http_request_duration_seconds_bucket{method="GET",route="/api/alignments/{alignment}",le="+Inf"}"#
        ),
        3.0
    );
    assert_eq!(
        value(r#"geoalign_snapshot_revision{alignment="nyc"}"#),
        (revision + 1) as f64
    );
    assert!(value(r#"geoalign_tile_cache_lookups_total{result="hit"}"#) >= 1.0);
    let ratio = value("geoalign_tile_cache_hit_ratio");
    assert!(ratio > 0.0 && ratio <= 1.0, "{ratio}");
    assert_eq!(value("geoalign_commit_seconds_count"), 1.0);
    assert_eq!(value("geoalign_dissolve_seconds_count"), 1.0);
    assert!(value("geoalign_commit_seconds_sum") > 0.0);
    assert!(value("geoalign_process_resident_memory_bytes") > 10e6);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (_, number) = line.rsplit_once(' ').unwrap();
        assert!(number.parse::<f64>().is_ok(), "{line}");
    }
}

#[actix_web::test]
async fn every_response_has_a_request_id() {
    let (_dir, engine) = common::sample_engine();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state).wrap_fn(observe).configure(configure)).await;
    let id = |req: test::TestRequest| {
        let app = &app;
        async move {
            let res = test::call_service(app, req.to_request()).await;
            res.headers()
                .get("x-request-id")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap()
        }
    };
    let sane = test::TestRequest::get()
        .uri("/health")
        .insert_header(("x-request-id", "abc-123.x"));
    assert_eq!(id(sane).await, "abc-123.x");
    let insane = test::TestRequest::get()
        .uri("/nope")
        .insert_header(("x-request-id", "a\"b c"));
    let made = id(insane).await;
    assert_ne!(made, "a\"b c");
    let long = test::TestRequest::get()
        .uri("/health")
        .insert_header(("x-request-id", "x".repeat(65)));
    assert_eq!(id(long).await.len(), made.len());
    let (a, b) = (
        id(test::TestRequest::get().uri("/health")).await,
        id(test::TestRequest::get().uri("/health")).await,
    );
    assert_ne!(a, b, "one id per request");
}

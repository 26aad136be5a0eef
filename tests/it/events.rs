//! The live event stream: a commit made through the engine, or by another process on
//! the same store, reaches a subscriber as one `change` event carrying the Change.

use crate::common;

use std::sync::Arc;

use actix_web::test as atest;
use actix_web::{App, http::StatusCode, web};
use geoalign::align::Op;
use geoalign::engine::Engine;
use geoalign::http::{AppState, configure};
use geoalign::store::Store;
use serde_json::Value;

/// The `data:` of an event chunk, and its name.
fn parse(chunk: &str) -> (String, Value) {
    let field = |name: &str| {
        chunk
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {chunk:?}"))
            .to_owned()
    };
    (field("event: "), serde_json::from_str(&field("data: ")).unwrap())
}

#[actix_web::test]
async fn commits_reach_subscribers_as_change_events() {
    let (dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let state = web::Data::new(AppState::with_engine(engine.clone()));
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/api/alignments/nyc/events")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/event-stream");
    let mut body = res.into_body();
    let (name, hello) = parse(&common::next_chunk(&mut body).await.unwrap());
    assert_eq!(name, "hello");
    let r0 = hello["revision"].as_i64().unwrap();

    let op = Op::Assign {
        units: vec!["10002".into()],
        territory: "T1001".into(),
    };
    let outcome = engine.apply("nyc", r0, &[op], "ann").unwrap();
    let chunk = common::next_chunk(&mut body).await.unwrap();
    assert!(chunk.starts_with(&format!("id: {}\n", r0 + 1)), "{chunk}");
    let (name, change) = parse(&chunk);
    assert_eq!(name, "change");
    assert_eq!(change, serde_json::to_value(&outcome.change).unwrap());
    assert_eq!(change["author"], "ann");
    assert!(
        change["touched"]["territory"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "T1001")
    );
    let bbox: Vec<f64> = serde_json::from_value(change["bbox"].clone()).unwrap();
    assert!(
        bbox[0] < -73.9 && bbox[2] > -74.1 && bbox[1] < 40.8 && bbox[3] > 40.6,
        "{bbox:?}"
    );

    // Another process commits; the server's store watch (here: refresh) reloads and
    // the stream says so.
    let other = Engine::new(Arc::new(Store::open(&dir.path().join("test.db")).unwrap()));
    let op = Op::Unassign {
        units: vec!["10002".into()],
    };
    other.apply("nyc", r0 + 1, &[op], "cli").unwrap();
    engine.refresh().unwrap();
    let (name, change) = parse(&common::next_chunk(&mut body).await.unwrap());
    assert_eq!(
        (name.as_str(), change["revision"].as_i64()),
        ("change", Some(r0 + 2))
    );
    assert_eq!(change["reloaded"], true);
}

#[actix_web::test]
async fn an_unknown_alignment_has_no_stream() {
    let (_dir, engine) = common::sample_engine();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/api/alignments/nope/events")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

//! Data safety: undo refuses bad bodies, other sites, stale revisions, repeats and
//! overwrites; a store changed by another process is followed, never wedged; a
//! re-ingest keeps (or refuses to break) the alignments on its dataset; exports of
//! alignments whose names differ only in punctuation never share a cache entry.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use actix_web::test as atest;
use actix_web::{App, http::StatusCode, web};
use geoalign::align::Op;
use geoalign::engine::AlignError;
use geoalign::engine::{Engine, Undo};
use geoalign::http::{AppState, configure};
use geoalign::ingest::IngestError;
use geoalign::store::Store;
use geoalign::store::StoreError;
use serde_json::{Value, json};

fn assign(unit: &str, territory: &str) -> Op {
    Op::Assign {
        units: vec![unit.into()],
        territory: territory.into(),
    }
}

fn owner(engine: &Engine, unit: &str) -> Option<String> {
    let s = engine.snapshot("nyc").unwrap();
    let i = s.dataset.units.resolve(unit).unwrap();
    s.state.owner(&s.dataset.units, i).map(str::to_owned)
}

async fn call(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    request: atest::TestRequest,
) -> (StatusCode, Value) {
    let res = atest::call_service(app, request.to_request()).await;
    let status = res.status();
    let body = atest::read_body(res).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[actix_web::test]
async fn undo_with_a_bad_body_or_from_another_site_changes_nothing() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let before = engine.snapshot("nyc").unwrap().revision;
    engine
        .apply("nyc", before, &[assign("10002", "T1001")], "ann")
        .unwrap();
    let revision = before + 1;
    let state = web::Data::new(AppState::with_engine(engine.clone()));
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let undo = || atest::TestRequest::post().uri("/api/alignments/nyc/undo");
    let junk = "x".repeat(3 << 20);
    let bad: Vec<(&str, atest::TestRequest, StatusCode)> = vec![
        ("no body", undo(), StatusCode::BAD_REQUEST),
        (
            "malformed JSON",
            undo()
                .insert_header(("content-type", "application/json"))
                .set_payload("{\"expected_revision\": "),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong types",
            undo().set_json(json!({"expected_revision": "latest"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "missing expected_revision",
            undo().set_json(json!({})),
            StatusCode::BAD_REQUEST,
        ),
        (
            "form-encoded (a cross-site form)",
            undo()
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload(format!("expected_revision={revision}")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "JSON as text/plain",
            undo()
                .insert_header(("content-type", "text/plain"))
                .set_payload(format!("{{\"expected_revision\": {revision}}}")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "megabytes of junk",
            undo()
                .insert_header(("content-type", "application/json"))
                .set_payload(junk),
            StatusCode::BAD_REQUEST,
        ),
        (
            "another origin",
            undo()
                .insert_header(("host", "127.0.0.1:8080"))
                .insert_header(("origin", "https://evil.example"))
                .set_json(json!({"expected_revision": revision})),
            StatusCode::FORBIDDEN,
        ),
        (
            "a cross-site fetch",
            undo()
                .insert_header(("sec-fetch-site", "cross-site"))
                .set_json(json!({"expected_revision": revision})),
            StatusCode::FORBIDDEN,
        ),
        (
            "a stale revision",
            undo().set_json(json!({"expected_revision": revision - 1})),
            StatusCode::CONFLICT,
        ),
    ];
    for (what, request, expected) in bad {
        let (status, problem) = call(&app, request).await;
        assert_eq!(status, expected, "{what}: {problem}");
        assert!(problem["detail"].is_string(), "{what}: {problem}");
        if what.contains("form-encoded") || what.contains("text/plain") {
            // The error names the header and the type expected, not "Content type error".
            let detail = problem["detail"].as_str().unwrap_or_default();
            assert!(
                detail.contains("Content-Type") && detail.contains("application/json"),
                "{what}: {detail}"
            );
        }
        assert_eq!(
            engine.snapshot("nyc").unwrap().revision,
            revision,
            "{what} changed the alignment"
        );
        assert_eq!(
            owner(&engine, "10002").as_deref(),
            Some("T1001"),
            "{what} undid the move"
        );
    }
    let (status, problem) = call(
        &app,
        atest::TestRequest::post()
            .uri("/api/alignments/nyc/changes")
            .insert_header(("origin", "https://evil.example"))
            .set_json(
                json!({"expected_revision": revision, "changes": [{"op": "unassign", "units": ["10002"]}]}),
            ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");

    let (status, body) = call(&app, undo().set_json(json!({"expected_revision": revision}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revision"], revision + 1);
    assert_ne!(owner(&engine, "10002").as_deref(), Some("T1001"));
}

#[test]
fn undo_is_guarded_idempotent_and_never_overwrites_a_later_change() {
    let (_dir, engine) = common::sample_engine();
    let r0 = engine.snapshot("nyc").unwrap().revision;
    let original = owner(&engine, "10002");
    let r1 = engine
        .apply("nyc", r0, &[assign("10002", "T1001")], "ann")
        .unwrap()
        .change
        .revision;
    let r2 = engine
        .apply("nyc", r1, &[assign("10003", "T1001")], "bob")
        .unwrap()
        .change
        .revision;
    let undo = |expected_revision, revision, force| Undo {
        expected_revision,
        revision,
        force,
    };
    // Ann's plain undo, based on r1, cannot undo Bob's later r2.
    assert!(matches!(
        engine.undo("nyc", undo(r1, None, false), "ann"),
        Err(AlignError::Store(StoreError::StaleRevision { current, .. })) if current == r2
    ));
    // Undo r1 by number: allowed (r2 moved another unit).
    let r3 = engine
        .undo("nyc", undo(r2, Some(r1), false), "ann")
        .unwrap()
        .change
        .revision;
    assert_eq!(owner(&engine, "10002"), original);
    // Twice: refused, nothing changes.
    let err = engine.undo("nyc", undo(r3, Some(r1), false), "ann").unwrap_err();
    assert!(
        matches!(err, AlignError::AlreadyUndone { revision, by, .. } if revision == r1 && by == r3),
        "{err}"
    );
    assert_eq!(engine.snapshot("nyc").unwrap().revision, r3);
    // A later move of the same unit: undoing r4 after r5 moved 10004 again is refused,
    // naming the unit and the revision, and forced it goes through.
    let r4 = engine
        .apply("nyc", r3, &[assign("10004", "T1001")], "ann")
        .unwrap()
        .change
        .revision;
    let r5 = engine
        .apply("nyc", r4, &[assign("10004", "T1002")], "bob")
        .unwrap()
        .change
        .revision;
    let err = engine.undo("nyc", undo(r5, Some(r4), false), "ann").unwrap_err();
    match &err {
        AlignError::UndoConflict { units, later, .. } => {
            assert_eq!(units, &["10004".to_owned()]);
            assert_eq!(later, &[r5]);
        }
        other => panic!("expected a conflict, got {other}"),
    }
    assert!(err.to_string().contains("10004"), "{err}");
    assert_eq!(owner(&engine, "10004").as_deref(), Some("T1002"));
    engine.undo("nyc", undo(r5, Some(r4), true), "ann").unwrap();
    assert_ne!(owner(&engine, "10004").as_deref(), Some("T1001"));
}

#[test]
fn a_change_set_that_changes_nothing_creates_no_revision() {
    let (_dir, engine) = common::sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let history = engine.store().history("nyc").unwrap().len();
    let unit = "10001";
    let territory = owner(&engine, unit).unwrap();
    let outcome = engine
        .apply("nyc", s.revision, &[assign(unit, &territory)], "t")
        .unwrap();
    assert_eq!(outcome.change.revision, s.revision);
    assert!(outcome.change.is_empty());
    let empty_lock = Op::Lock {
        territories: vec![],
        units: vec![],
        level: None,
        locked: true,
    };
    assert_eq!(
        engine
            .apply("nyc", s.revision, &[empty_lock], "t")
            .unwrap()
            .change
            .revision,
        s.revision
    );
    assert_eq!(engine.store().history("nyc").unwrap().len(), history);
    assert_eq!(engine.snapshot("nyc").unwrap().revision, s.revision);
}

/// A second engine over its own handle of the same store file: another process.
fn second_process(dir: &Path) -> Engine {
    Engine::new(Arc::new(Store::open(&dir.join("test.db")).unwrap()))
}

#[test]
fn commits_of_another_process_are_followed_not_wedged() {
    let (dir, server) = common::sample_engine();
    let cli = second_process(dir.path());
    let r0 = server.snapshot("nyc").unwrap().revision;
    let r1 = cli
        .apply("nyc", r0, &[assign("10002", "T1001")], "cli")
        .unwrap()
        .change
        .revision;
    // The server, still at r0 in memory, takes a change based on r1 (what the store
    // says) and refuses one based on r0, naming r1 both times.
    let stale = server
        .apply("nyc", r0, &[assign("10003", "T1001")], "web")
        .unwrap_err();
    assert!(
        matches!(stale, AlignError::Store(StoreError::StaleRevision { current, .. }) if current == r1),
        "{stale}"
    );
    let r2 = server
        .apply("nyc", r1, &[assign("10003", "T1001")], "web")
        .unwrap()
        .change
        .revision;
    assert_eq!(r2, r1 + 1);
    assert_eq!(owner(&server, "10002").as_deref(), Some("T1001"));
    // The CLI, now behind, follows the server the same way.
    let r3 = cli
        .apply("nyc", r2, &[assign("10004", "T1001")], "cli")
        .unwrap()
        .change
        .revision;
    // Without a change of its own, refresh brings the server up to date (the server
    // runs it every half second), and a copy is made of the current state.
    assert_eq!(server.refresh().unwrap(), 1);
    assert_eq!(server.snapshot("nyc").unwrap().revision, r3);
    assert_eq!(owner(&server, "10004").as_deref(), Some("T1001"));
    assert_eq!(server.refresh().unwrap(), 0);
    server.create("copy", None, None, Some("nyc")).unwrap();
    let copy = server.snapshot("copy").unwrap();
    assert_eq!(*copy.state, *server.snapshot("nyc").unwrap().state);
    // The dissolved outlines after a reload equal those of a fresh load.
    let fresh = second_process(dir.path()).snapshot("nyc").unwrap();
    let reloaded = server.snapshot("nyc").unwrap();
    for (level, shapes) in fresh.shapes.iter().enumerate() {
        for (code, shape) in shapes {
            assert_eq!(reloaded.shapes[level][code].members, shape.members, "{code}");
            assert_eq!(reloaded.shapes[level][code].geometry, shape.geometry, "{code}");
        }
    }
    // A team made active by another process answers once the server refreshes.
    assert!(server.team_snapshots("core").is_err());
    cli.set_team("copy", Some(Some("core")), Some(true)).unwrap();
    server.refresh().unwrap();
    let core = server.team_snapshots("core").unwrap();
    assert_eq!(
        (core[0].0.as_str(), core[0].1.alignment.as_str()),
        ("core", "copy")
    );
}

#[test]
fn a_reingest_keeps_alignments_whose_units_remain_and_refuses_to_break_others() {
    let (dir, engine) = common::sample_engine();
    let store = engine.store().clone();
    let r0 = engine.snapshot("nyc").unwrap().revision;
    engine.apply("nyc", r0, &[assign("10002", "T1001")], "t").unwrap();
    let history = store.history("nyc").unwrap().len();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nyc_modzcta.geojson");
    let text = std::fs::read_to_string(&source).unwrap();
    let mut options = common::options(source.clone(), "nyc");
    options.id_field = "modzcta".into();
    options.replace = true;

    // The same file again: every alignment is kept with its history.
    let report = geoalign::ingest::ingest(&store, &options).unwrap();
    assert!(report.kept_alignments.contains(&"nyc".to_owned()), "{report}");
    // The 128 PO-box point units go with a polygon re-ingest (added again by --points);
    // none of them is assigned, so 'nyc' stays whole.
    assert_eq!(report.units_vanished, 128, "{report}");
    assert_eq!(store.history("nyc").unwrap().len(), history);
    // A running engine notices the new generation of the dataset and reloads.
    assert_eq!(engine.refresh().unwrap(), 1);
    assert_eq!(owner(&engine, "10002").as_deref(), Some("T1001"));

    // A file without 10002 (assigned in 'nyc'): refused, naming the alignment and the
    // unit; the store is unchanged.
    let mut geojson: Value = serde_json::from_str(&text).unwrap();
    let features = geojson["features"].as_array_mut().unwrap();
    let before = features.len();
    features.retain(|f| f["properties"]["modzcta"] != "10002");
    assert_eq!(features.len(), before - 1);
    let smaller = dir.path().join("smaller.geojson");
    std::fs::write(&smaller, geojson.to_string()).unwrap();
    options.path = smaller;
    let err = geoalign::ingest::ingest(&store, &options).unwrap_err();
    assert!(matches!(err, IngestError::WouldLoseAlignments { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("'nyc'") && message.contains("10002") && message.contains("--drop-alignments"),
        "{message}"
    );
    assert_eq!(store.history("nyc").unwrap().len(), history);
    assert_eq!(store.unit_codes("nyc").unwrap().len(), before);

    // --drop-alignments: the alignment goes, and a running engine drops it too.
    options.drop_alignments = true;
    let report = geoalign::ingest::ingest(&store, &options).unwrap();
    assert_eq!(report.dropped_alignments.len(), 1, "{report}");
    assert!(matches!(
        store.alignment("nyc"),
        Err(StoreError::AlignmentNotFound(_))
    ));
    engine.refresh().unwrap();
    assert!(engine.loaded_snapshot("nyc").is_none());
}

#[actix_web::test]
async fn exports_of_names_alike_but_for_punctuation_never_mix() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    for name in ["x.y", "x y", "x~y"] {
        engine.create(name, None, None, Some("nyc")).unwrap();
    }
    let r = engine.snapshot("x y").unwrap().revision;
    engine.apply("x y", r, &[assign("10002", "T1001")], "t").unwrap();
    let state = web::Data::new(AppState::with_engine(engine.clone()));
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let mut seen = std::collections::BTreeMap::new();
    for name in ["x.y", "x%20y", "x~y"] {
        let res = atest::call_service(
            &app,
            atest::TestRequest::get()
                .uri(&format!("/api/alignments/{name}/export/unit.csv"))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{name}");
        let etag = res.headers().get("etag").unwrap().to_str().unwrap().to_owned();
        let body = String::from_utf8(atest::read_body(res).await.to_vec()).unwrap();
        let row = body.lines().find(|l| l.starts_with("10002,")).unwrap().to_owned();
        seen.insert(name, (etag, row));
    }
    let etags: std::collections::BTreeSet<&String> = seen.values().map(|(e, _)| e).collect();
    assert_eq!(etags.len(), 3, "{seen:?}");
    assert!(seen["x%20y"].1.contains("T1001"), "{seen:?}");
    assert!(
        !seen["x.y"].1.contains("T1001") && !seen["x~y"].1.contains("T1001"),
        "{seen:?}"
    );
}

#[test]
fn an_empty_territory_has_zero_not_negative_zero_metrics() {
    let (_dir, engine) = common::sample_engine();
    let r = engine.snapshot("nyc").unwrap().revision;
    let create = Op::CreateTerritory {
        code: "EMPTY".into(),
        name: None,
        level: None,
        parent: None,
    };
    let outcome = engine.apply("nyc", r, &[create], "t").unwrap();
    let metrics = &outcome.snapshot.shapes[0]["EMPTY"].metrics;
    let json = serde_json::to_string(metrics).unwrap();
    assert!(!json.contains("-0.0"), "{json}");
    assert!(
        metrics.perimeter_km.is_sign_positive() && metrics.area_km2.is_sign_positive(),
        "{json}"
    );
}

#[test]
fn the_writer_syncs_every_commit() {
    let (_dir, engine) = common::sample_engine();
    // The store's own connection: read back the pragma it runs with.
    let synchronous = engine.store().writer_pragma("synchronous").unwrap();
    assert_eq!(synchronous, 2, "synchronous = FULL (2)");
}

#[actix_web::test]
async fn a_tile_of_a_revision_no_longer_kept_redirects_to_the_current_one() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let state = web::Data::new(AppState::with_engine(engine.clone()));
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let old = engine.snapshot("nyc").unwrap().revision;
    let tile = "12/1206/1539.mvt";
    let get = |uri: String| atest::TestRequest::get().uri(&uri).to_request();
    let res = atest::call_service(&app, get(format!("/tiles/nyc/{old}/{tile}"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    // Five edits of a unit under that tile: more revisions than the views kept.
    for i in 0..5 {
        let r = engine.snapshot("nyc").unwrap().revision;
        let to = if i % 2 == 0 { "T1001" } else { "T1000" };
        engine.apply("nyc", r, &[assign("10002", to)], "t").unwrap();
        let res = atest::call_service(&app, get(format!("/tiles/nyc/{tile}"))).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let current = engine.snapshot("nyc").unwrap().revision;
    // The tile served at the old revision is still that revision's tile (cached)...
    let res = atest::call_service(&app, get(format!("/tiles/nyc/{old}/{tile}"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    // ...and one never rendered at it (its parent), which the edits changed, redirects.
    let parent = "11/603/769.mvt";
    let res = atest::call_service(&app, get(format!("/tiles/nyc/{old}/{parent}"))).await;
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = res
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(location, format!("/tiles/nyc/{current}/{parent}"));
    let res = atest::call_service(&app, get(location)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn history_is_paged_and_names_are_checked_at_the_door() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    for i in 0..5 {
        let r = engine.snapshot("nyc").unwrap().revision;
        let to = if i % 2 == 0 { "T1001" } else { "T1000" };
        engine.apply("nyc", r, &[assign("10002", to)], "t").unwrap();
    }
    let all = engine.store().history("nyc").unwrap();
    let state = web::Data::new(AppState::with_engine(engine.clone()));
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let get = |uri: &str| atest::TestRequest::get().uri(uri);
    let (status, page) = call(&app, get("/api/alignments/nyc/history?limit=2")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let revisions: Vec<i64> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["revision"].as_i64().unwrap())
        .collect();
    let last: Vec<i64> = all.iter().rev().take(2).rev().map(|c| c.revision).collect();
    assert_eq!(revisions, last);
    let before = page["next_before"].as_i64().unwrap();
    assert_eq!(before, last[0]);
    let (_, older) = call(
        &app,
        get(&format!("/api/alignments/nyc/history?limit=1000&before={before}")),
    )
    .await;
    assert_eq!(older["changes"].as_array().unwrap().len(), all.len() - 2);
    assert!(older["next_before"].is_null());
    for bad in ["limit=0", "limit=1001", "limit=x", "foo=1"] {
        let (status, problem) = call(&app, get(&format!("/api/alignments/nyc/history?{bad}"))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {problem}");
    }

    let long = "n".repeat(5000);
    for name in [
        "evil\nINFO forged line",
        "nul\0",
        "esc\u{1b}[31m",
        "a/b",
        long.as_str(),
    ] {
        let err = engine.create(name, None, None, Some("nyc")).unwrap_err();
        assert!(matches!(err, AlignError::Invalid(_)), "{name:?}: {err}");
        let (status, problem) = call(
            &app,
            atest::TestRequest::post()
                .uri("/api/alignments")
                .set_json(json!({"name": name, "copy_of": "nyc"})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(!problem["detail"].as_str().unwrap().contains('\n'), "{problem}");
    }
    assert_eq!(engine.store().alignments().unwrap().len(), 1);
}

#[actix_web::test]
async fn long_or_control_character_codes_are_refused_naming_the_field() {
    let (_dir, engine) = common::sample_engine();
    let state = actix_web::web::Data::new(geoalign::http::AppState::with_engine(std::sync::Arc::new(engine)));
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .app_data(state.clone())
            .configure(geoalign::http::configure),
    )
    .await;
    let revision = state.engine.snapshot("nyc").unwrap().revision;
    let long = "T".repeat(101);
    for (changes, field) in [
        (
            serde_json::json!([{"op": "create_territory", "code": long}]),
            "changes[0].code",
        ),
        (
            serde_json::json!([{"op": "assign", "units": ["10002"], "territory": "T1001"},
                {"op": "assign", "units": ["10003", "1\n0004"], "territory": "T1001"}]),
            "changes[1].units[1]",
        ),
        (
            serde_json::json!([{"op": "create_territory", "code": "T9", "name": "a\u{1b}[31mred"}]),
            "changes[0].name",
        ),
    ] {
        let req = actix_web::test::TestRequest::post()
            .uri("/api/alignments/nyc/changes")
            .set_json(serde_json::json!({"expected_revision": revision, "changes": changes}));
        let (status, body) = common::send(&app, req).await;
        assert_eq!(status, actix_web::http::StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["detail"].as_str().unwrap().starts_with(field),
            "{field}: {body}"
        );
    }
    assert_eq!(
        state.engine.snapshot("nyc").unwrap().revision,
        revision,
        "nothing applied"
    );
}

#[test]
fn metrics_too_large_to_sum_are_never_served_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let square = |x: f64| format!("[[[{x},0],[{},0],[{},1],[{x},1],[{x},0]]]", x + 1.0, x + 1.0);
    let features: Vec<String> = (0..2)
        .map(|i| {
            format!(
                r#"{{"type":"Feature","properties":{{"zip":"1000{i}","population":5,"bytes":1e308}},"geometry":{{"type":"Polygon","coordinates":{}}}}}"#,
                square(f64::from(i))
            )
        })
        .collect();
    let path = dir.path().join("big.geojson");
    let collection = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    std::fs::write(&path, collection).unwrap();
    let (_store_dir, engine) = common::engine_with(path, "big", "zip");
    let sheet = "unit_id,territory\n10000,T\n10001,T\n";
    engine
        .import_sheet("big", "big", None, None, sheet.as_bytes())
        .unwrap();
    let snapshot = engine.snapshot("big").unwrap();
    let metrics = &snapshot.shapes[0]["T"].metrics;
    let json = serde_json::to_string(metrics).unwrap();
    assert!(!json.contains("null"), "{json}");
    assert_eq!(metrics.sums.get("population"), Some(&10.0), "{json}");
    assert!(!metrics.sums.contains_key("bytes"), "{json}");

    // An account's metric beyond 2^53 is refused by line.
    let (_dir, engine) = common::sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let sheet = "id,name,lon,lat,revenue\na1,A,-73.99,40.75,1e308\n";
    let refused = geoalign::align::records::accounts(sheet.as_bytes(), &s.state).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("line 2: revenue '1e308' is beyond ±2^53"),
        "{refused}"
    );
}

/// Sends `head` and then `body` in pieces of `piece` bytes every `every`; the status
/// line and body of the answer.
fn slow_request(base: &str, head: &str, body: &[u8], piece: usize, every: std::time::Duration) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    for part in body.chunks(piece) {
        // The server may answer (and close) before the body is sent.
        if stream.write_all(part).is_err() {
            break;
        }
        std::thread::sleep(every);
    }
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn a_body_that_stops_or_trickles_gets_408_and_changes_nothing() {
    use std::time::Duration;
    let (_dir, base) = crate::ogc::spawn_server_with(|state| {
        state.body_deadlines = geoalign::http::deadline::BodyDeadlines {
            idle: Duration::from_millis(300),
            grace: Duration::from_millis(800),
            min_rate: 1000,
        };
    });
    let shown = slow_request(
        &base,
        "GET /api/alignments/nyc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
        1,
        Duration::ZERO,
    );
    let json: Value = serde_json::from_str(shown.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let revision = json["revision"].as_i64().unwrap();
    let body = format!(
        r#"{{"expected_revision": {revision}, "changes": [{{"op": "assign", "units": ["10002"], "territory": "T1001"}}]}}"#
    );
    let body = body.as_bytes();
    let head = |length: usize| {
        format!(
            "POST /api/alignments/nyc/changes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };
    // Half the body, then silence.
    let stopped = slow_request(&base, &head(body.len()), &body[..40], 40, Duration::from_secs(2));
    assert!(stopped.starts_with("HTTP/1.1 408"), "{stopped}");
    assert!(
        stopped.contains("no part of the body came for 0.3 s"),
        "{stopped}"
    );
    // The whole body, a byte every 100 ms: never silent for 300 ms, but 10 bytes/s.
    let trickled = slow_request(&base, &head(body.len()), body, 1, Duration::from_millis(100));
    assert!(trickled.starts_with("HTTP/1.1 408"), "{trickled}");
    assert!(trickled.contains("slower than 1000 bytes/s"), "{trickled}");
    // Sent at once, the same change set applies: nothing before it did.
    let sent = slow_request(&base, &head(body.len()), body, body.len(), Duration::ZERO);
    assert!(sent.starts_with("HTTP/1.1 200"), "{sent}");
    assert!(
        sent.contains(&format!(r#""revision":{}"#, revision + 1)),
        "{sent}"
    );
}

#[actix_web::test]
async fn links_never_follow_forwarded_headers_of_an_untrusted_peer() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let documents = [
        ("/tiles/nyc.json", "/tiles"),
        ("/styles/default.json?alignment=nyc", "/tiles"),
        ("/api/openapi.json", "servers"),
        ("/ogc/collections", "/ogc/collections"),
    ];
    let spoofing = |uri: &str| {
        atest::TestRequest::get()
            .uri(uri)
            .insert_header(("host", "geo.internal:8080"))
            .insert_header(("x-forwarded-host", "evil.example"))
            .insert_header(("forwarded", "host=evil.example;proto=https"))
            .peer_addr("192.0.2.7:5000".parse().unwrap())
    };
    let configs = [
        (geoalign::config::Config::default(), "http://geo.internal:8080"),
        (
            geoalign::config::Config {
                public_url: Some("https://maps.example/geo".into()),
                ..Default::default()
            },
            "https://maps.example/geo",
        ),
    ];
    for (config, expected) in configs {
        let state = web::Data::new(AppState::with_config(engine.clone(), &config));
        let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
        for (uri, mark) in documents {
            let (status, doc) = call(&app, spoofing(uri)).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {doc}");
            let text = doc.to_string();
            assert!(!text.contains("evil.example"), "{uri}: {text}");
            assert!(
                text.contains(expected),
                "{uri} should link to {expected} ({mark}): {text}"
            );
        }
    }
    // Behind a trusted proxy, its forwarded host is the origin.
    let config = geoalign::config::Config {
        trusted_proxies: "192.0.2.0/24".into(),
        ..Default::default()
    };
    let state = web::Data::new(AppState::with_config(engine.clone(), &config));
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let (_, doc) = call(&app, spoofing("/tiles/nyc.json")).await;
    assert!(
        doc["tiles"][0]
            .as_str()
            .unwrap()
            .starts_with("https://evil.example/tiles/nyc/"),
        "{doc}"
    );
}

#[actix_web::test]
async fn copies_stop_at_the_stores_limit() {
    let (_dir, engine) = common::sample_engine();
    let config = geoalign::config::Config {
        max_alignments: 2,
        ..Default::default()
    };
    let state = web::Data::new(AppState::with_config(Arc::new(engine), &config));
    let engine = state.engine.clone();
    let app = atest::init_service(App::new().app_data(state).configure(configure)).await;
    let copy = |name: &str| {
        atest::TestRequest::post()
            .uri("/api/alignments")
            .set_json(json!({"name": name, "copy_of": "nyc"}))
    };
    let (status, created) = call(&app, copy("nyc-b")).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, problem) = call(&app, copy("nyc-c")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["title"], "Too many alignments", "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("holds 2 alignments"),
        "{problem}"
    );
    assert!(matches!(
        engine.snapshot("nyc-c"),
        Err(StoreError::AlignmentNotFound(_))
    ));
}

//! Tokens and roles (issue #12, defect 1): every operation of the generated OpenAPI
//! document called with no token, a viewer, an editor and an admin token answers
//! 401, 403 or 2xx as its role says; authors come from tokens; editor tokens limited
//! to one alignment; anonymous reads; revoked tokens; `Idempotency-Key` retries.

use crate::common;
use crate::common::send as call;
use crate::openapi::{documented, engine, operations, request, uri};

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, test, web};
use geoalign::config::Config;
use geoalign::http::{AppState, configure};
use geoalign::store::{NewToken, Role, Store};
use serde_json::{Value, json};

/// What a documented operation needs, by this test's own reading of the issue:
/// public files and probes, admin for tokens, editor for the state-changing POSTs,
/// viewer for everything else.
fn needs(method: &str, path: &str) -> Option<Role> {
    let public = [
        "/health",
        "/ready",
        "/",
        "/web/{path}",
        "/fonts/{fontstack}/{range}.pbf",
    ];
    if method == "options" || public.contains(&path) {
        return None;
    }
    // Teams decide whose plan answers for the whole sales force.
    if path == "/api/tokens" || method == "patch" {
        return Some(Role::Admin);
    }
    let writes = [
        "/api/alignments",
        "/api/alignments/{alignment}/changes",
        "/api/alignments/{alignment}/undo",
    ];
    let edits = matches!(
        (method, path),
        (
            "put",
            "/api/alignments/{alignment}/sheet" | "/api/alignments/{alignment}/rules"
        ) | ("delete", "/api/alignments/{alignment}" | "/api/jobs/{id}")
            | (
                "post",
                "/api/alignments/{alignment}/build" | "/api/alignments/{alignment}/rebalance"
            )
    );
    if edits || (method == "post" && writes.contains(&path)) {
        return Some(Role::Editor);
    }
    Some(Role::Viewer)
}

fn token(store: &Store, role: Role, name: &str, alignment: Option<&str>) -> String {
    store
        .create_token(&NewToken {
            name,
            role,
            alignment,
        })
        .unwrap()
        .1
}

fn bearer(req: test::TestRequest, secret: Option<&str>) -> test::TestRequest {
    match secret {
        Some(s) => req.insert_header(("authorization", format!("Bearer {s}"))),
        None => req,
    }
}

#[actix_web::test]
async fn every_route_answers_401_403_or_2xx_by_role() {
    let (_dir, engine) = engine();
    let store = engine.store().clone();
    let viewer = token(&store, Role::Viewer, "vera", None);
    let editor = token(&store, Role::Editor, "eddie", None);
    let admin = token(&store, Role::Admin, "ada", None);
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state).configure(configure)).await;
    let (status, doc) = call(
        &app,
        bearer(test::TestRequest::get().uri("/api/openapi.json"), Some(&viewer)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    let mut ops = operations(&doc);
    ops.sort_by_key(|(method, path, _)| crate::openapi::walk_order(method, path));
    let callers = [
        ("no token", None, None),
        ("viewer", Some(viewer.as_str()), Some(Role::Viewer)),
        ("editor", Some(editor.as_str()), Some(Role::Editor)),
        ("admin", Some(admin.as_str()), Some(Role::Admin)),
    ];
    let mut checked = 0;
    for (method, path, op) in &ops {
        let need = needs(method, path);
        for (who, secret, role) in callers {
            // The admin token only where the others are refused (a second POST would
            // find its expected revision stale or its alignment existing).
            if who == "admin" && need != Some(Role::Admin) {
                continue;
            }
            let revision = {
                let req = bearer(test::TestRequest::get().uri("/api/alignments/nyc"), Some(&admin));
                call(&app, req).await.1["revision"].as_i64().unwrap()
            };
            let good = uri(&doc, path, op, revision, false).unwrap();
            let req = bearer(request(&doc, method, path, op, &good, revision), secret);
            let res = test::call_service(&app, req.to_request()).await;
            let status = res.status();
            let challenge = res
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            let allowed = match (need, role) {
                (None, _) => true,
                (Some(_), None) => false,
                (Some(need), Some(role)) => role >= need,
            };
            let expected = match (allowed, role) {
                (true, _) => "2xx",
                (false, None) => "401",
                (false, Some(_)) => "403",
            };
            let ok = match expected {
                "2xx" => status.is_success(),
                "401" => status == StatusCode::UNAUTHORIZED,
                _ => status == StatusCode::FORBIDDEN,
            };
            assert!(ok, "{method} {good} as {who}: {status}, expected {expected}");
            assert!(documented(op, status), "{method} {path}: {status} undocumented");
            if status == StatusCode::UNAUTHORIZED {
                assert!(
                    challenge.as_deref().is_some_and(|c| c.starts_with("Bearer")),
                    "{method} {good}: 401 without WWW-Authenticate: Bearer"
                );
            }
            if !status.is_success() && method != "head" {
                let body = test::read_body(res).await;
                let problem: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(
                    problem["status"],
                    status.as_u16(),
                    "{method} {good}: problem body"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} calls");
}

/// The sample app with tokens made by `tokens` before it starts.
async fn app_with(
    config: Config,
    tokens: Vec<(Role, &'static str, Option<&'static str>)>,
) -> (
    tempfile::TempDir,
    Vec<String>,
    web::Data<AppState>,
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
) {
    let (dir, engine) = common::sample_engine();
    let secrets = tokens
        .into_iter()
        .map(|(role, name, alignment)| token(engine.store(), role, name, alignment))
        .collect();
    let state = web::Data::new(AppState::with_config(Arc::new(engine), &config));
    let app = test::init_service(App::new().app_data(state.clone()).configure(configure)).await;
    (dir, secrets, state, app)
}

fn change(revision: i64, author: &str) -> Value {
    json!({"expected_revision": revision, "author": author,
        "changes": [{"op": "assign", "units": ["10002"], "territory": "T1001"}]})
}

#[actix_web::test]
async fn authors_come_from_tokens_and_scoped_editors_change_one_alignment() {
    let (_dir, secrets, state, app) = app_with(
        Config::default(),
        vec![
            (Role::Editor, "eddie", None),
            (Role::Editor, "scoped", Some("nyc")),
        ],
    )
    .await;
    let (eddie, scoped) = (&secrets[0], &secrets[1]);
    let revision = state.engine.snapshot("nyc").unwrap().revision;
    let req = test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(change(revision, "mallory"));
    let (status, body) = call(&app, bearer(req, Some(eddie))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let history = state.store.history("nyc").unwrap();
    assert_eq!(
        history.last().unwrap().author,
        "eddie",
        "the claimed author is ignored"
    );

    // The scoped token changes nyc, but neither another alignment nor creates one.
    let (status, _) = call(
        &app,
        bearer(
            test::TestRequest::post()
                .uri("/api/alignments/nyc/undo")
                .set_json(json!({"expected_revision": revision + 1})),
            Some(scoped),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call(
        &app,
        bearer(
            test::TestRequest::post()
                .uri("/api/alignments")
                .set_json(json!({"name": "what-if", "copy_of": "nyc"})),
            Some(scoped),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("'nyc' only"), "{body}");
    let (status, _) = call(
        &app,
        bearer(
            test::TestRequest::post()
                .uri("/api/alignments")
                .set_json(json!({"name": "what-if", "copy_of": "nyc"})),
            Some(eddie),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = call(
        &app,
        bearer(
            test::TestRequest::post()
                .uri("/api/alignments/what-if/changes")
                .set_json(change(0, "")),
            Some(scoped),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // /api/me names the token; a revoked token is refused at once in this process
    // (and within a second in another).
    let (status, me) = call(
        &app,
        bearer(test::TestRequest::get().uri("/api/me"), Some(scoped)),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me,
        json!({"role": "editor", "name": "scoped", "alignment": "nyc", "open": false})
    );
    let id = state.store.tokens().unwrap()[1].id;
    state.store.revoke_token(id).unwrap();
    state.access.forget();
    let res = test::call_service(
        &app,
        bearer(test::TestRequest::get().uri("/api/me"), Some(scoped)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let res = test::call_service(
        &app,
        bearer(test::TestRequest::get().uri("/api/me"), Some("ga_0000")).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn open_and_anonymous_read_modes() {
    // No token: open, the client's author stands, /api/me says so.
    let (_dir, _, state, app) = app_with(Config::default(), Vec::new()).await;
    let (status, me) = call(&app, test::TestRequest::get().uri("/api/me")).await;
    assert_eq!((status, &me["open"]), (StatusCode::OK, &json!(true)));
    let revision = state.engine.snapshot("nyc").unwrap().revision;
    let req = test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(change(revision, "planner"));
    assert_eq!(call(&app, req).await.0, StatusCode::OK);
    assert_eq!(
        state.store.history("nyc").unwrap().last().unwrap().author,
        "planner"
    );

    // allow_anonymous_read without a token: reads open, writes 401.
    let config = Config {
        allow_anonymous_read: true,
        ..Config::default()
    };
    let (_dir, _, state, app) = app_with(config, Vec::new()).await;
    let (status, _) = call(&app, test::TestRequest::get().uri("/api/alignments/nyc")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, me) = call(&app, test::TestRequest::get().uri("/api/me")).await;
    assert_eq!((status, &me["role"]), (StatusCode::OK, &json!("viewer")));
    let revision = state.engine.snapshot("nyc").unwrap().revision;
    let req = test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(change(revision, "anyone"));
    let (status, body) = call(&app, req).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(state.engine.snapshot("nyc").unwrap().revision, revision);

    // A CORS preflight needs no token once tokens exist.
    let (_dir, _, _, app) = app_with(Config::default(), vec![(Role::Viewer, "v", None)]).await;
    let req = test::TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri("/tiles/nyc/10/301/385.mvt")
        .insert_header(("origin", "https://maps.example"))
        .insert_header(("access-control-request-headers", "authorization"));
    let res = test::call_service(&app, req.to_request()).await;
    assert!(res.status().is_success(), "{}", res.status());
    let (status, _) = call(&app, test::TestRequest::get().uri("/tiles/nyc/10/301/385.mvt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// A POST with an `Idempotency-Key` header.
fn keyed(uri: &str, key: &str, body: Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("idempotency-key", key))
        .set_json(body)
}

/// Status, `Idempotent-Replayed` and the body bytes of a call.
async fn raw(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> (StatusCode, bool, actix_web::web::Bytes) {
    let res = test::call_service(app, req.to_request()).await;
    let replayed = res.headers().get("idempotent-replayed").is_some();
    (res.status(), replayed, test::read_body(res).await)
}

#[actix_web::test]
async fn idempotent_retries_answer_the_original_even_after_a_restart() {
    let (_dir, engine) = common::sample_engine();
    let path = engine.store().path().to_owned();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state.clone()).configure(configure)).await;
    let revision = state.engine.snapshot("nyc").unwrap().revision;
    let uri = "/api/alignments/nyc/changes";

    let (status, replayed, first) = raw(&app, keyed(uri, "k-1", change(revision, "p"))).await;
    assert_eq!((status, replayed), (StatusCode::OK, false));
    let (status, replayed, again) = raw(&app, keyed(uri, "k-1", change(revision, "p"))).await;
    assert_eq!((status, replayed), (StatusCode::OK, true), "{again:?}");
    assert_eq!(again, first, "the original body");
    let history = state.store.history("nyc").unwrap();
    assert_eq!(
        history.last().unwrap().revision,
        revision + 1,
        "no second revision"
    );

    // The same key with another body is refused; without a key the retry is a 409.
    let other = json!({"expected_revision": revision, "changes": [{"op": "assign", "units": ["10003"], "territory": "T1001"}]});
    let (status, _, body) = raw(&app, keyed(uri, "k-1", other)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
    let req = test::TestRequest::post().uri(uri).set_json(change(revision, "p"));
    assert_eq!(call(&app, req).await.0, StatusCode::CONFLICT);

    // Undo and create, each retried.
    let undo = json!({"expected_revision": revision + 1});
    let (status, _, undone) = raw(&app, keyed("/api/alignments/nyc/undo", "u-1", undo.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, replayed, again) = raw(&app, keyed("/api/alignments/nyc/undo", "u-1", undo.clone())).await;
    assert_eq!((status, replayed, &again), (StatusCode::OK, true, &undone));
    let create = json!({"name": "what-if", "copy_of": "nyc"});
    let (status, _, created) = raw(&app, keyed("/api/alignments", "c-1", create.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, replayed, again) = raw(&app, keyed("/api/alignments", "c-1", create.clone())).await;
    assert_eq!((status, replayed, &again), (StatusCode::CREATED, true, &created));

    // A key that is not a header value of 1-255 visible characters is a 400 naming it.
    let long = "x".repeat(256);
    let (status, body) = call(&app, keyed(uri, &long, change(revision + 2, "p"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );

    // A new server on the same store answers the retries the same.
    let store = Arc::new(Store::open(&path).unwrap());
    let state2 = web::Data::new(AppState::new(store));
    let app2 = test::init_service(App::new().app_data(state2.clone()).configure(configure)).await;
    let (status, replayed, again) = raw(&app2, keyed(uri, "k-1", change(revision, "p"))).await;
    assert_eq!((status, replayed, &again), (StatusCode::OK, true, &first));
    let (status, replayed, again) = raw(&app2, keyed("/api/alignments/nyc/undo", "u-1", undo)).await;
    assert_eq!((status, replayed, &again), (StatusCode::OK, true, &undone));
    let (status, replayed, again) = raw(&app2, keyed("/api/alignments", "c-1", create)).await;
    assert_eq!((status, replayed, &again), (StatusCode::CREATED, true, &created));
    assert_eq!(
        state2.store.history("nyc").unwrap().last().unwrap().revision,
        revision + 2,
        "the change and its undo, nothing more"
    );
}

#[actix_web::test]
async fn keys_of_two_tokens_never_meet() {
    let (_dir, secrets, state, app) = app_with(
        Config::default(),
        vec![(Role::Editor, "a", None), (Role::Editor, "b", None)],
    )
    .await;
    let revision = state.engine.snapshot("nyc").unwrap().revision;
    let uri = "/api/alignments/nyc/changes";
    let (status, _, _) = raw(
        &app,
        bearer(keyed(uri, "same", change(revision, "")), Some(&secrets[0])),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // b's request with a's key is b's own: based on a stale revision, a 409, not a's answer.
    let (status, replayed, _) = raw(
        &app,
        bearer(keyed(uri, "same", change(revision, "")), Some(&secrets[1])),
    )
    .await;
    assert_eq!((status, replayed), (StatusCode::CONFLICT, false));
}

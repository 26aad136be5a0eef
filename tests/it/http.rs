//! The HTTP skeleton on the sample: health, datasets, units, problems, OpenAPI.

use crate::common;
use crate::common::send;

use std::sync::Arc;

use actix_web::{App, http::StatusCode, test, web};
use geoalign::http::{AppState, configure};
use serde_json::{Value, json};

async fn sample_app() -> (
    tempfile::TempDir,
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
) {
    let (dir, engine) = common::sample_engine();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state).configure(configure)).await;
    (dir, app)
}

async fn get(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    uri: &str,
) -> (StatusCode, String, Value) {
    let res = test::call_service(app, test::TestRequest::get().uri(uri).to_request()).await;
    let status = res.status();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = test::read_body(res).await;
    (
        status,
        content_type,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn health_and_datasets() {
    let (_dir, app) = sample_app().await;
    let (status, _, body) = get(&app, "/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["datasets"], 1);

    let (status, _, body) = get(&app, "/api/datasets").await;
    assert_eq!(status, StatusCode::OK);
    let nyc = &body["datasets"][0];
    assert_eq!(nyc["name"], "nyc");
    assert_eq!(nyc["polygon_units"], 178);
    assert_eq!(nyc["id_field"], "modzcta");
    assert!(
        nyc["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "population_estimate")
    );
    let bbox: Vec<f64> = serde_json::from_value(nyc["bbox"].clone()).unwrap();
    assert!(
        bbox[0] > -74.3 && bbox[2] < -73.6 && bbox[1] > 40.4 && bbox[3] < 41.0,
        "{bbox:?}"
    );
}

#[actix_web::test]
async fn unit_is_a_geojson_feature() {
    let (_dir, app) = sample_app().await;
    let (status, content_type, body) = get(&app, "/api/datasets/nyc/units/10001").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/geo+json");
    assert_eq!(body["type"], "Feature");
    assert_eq!(body["id"], "10001");
    assert_eq!(body["properties"]["kind"], "polygon");
    assert!(body["properties"]["population_estimate"].as_f64().unwrap() > 10_000.0);
    assert_eq!(body["geometry"]["type"], "MultiPolygon");

    let (status, _, body) = get(&app, "/api/datasets/nyc/units/10008").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["geometry"]["type"], "Point");
    assert_eq!(body["properties"]["kind"], "point");
    assert!(body["properties"]["parent_unit"].is_string());
}

#[actix_web::test]
async fn errors_are_problem_documents() {
    let (_dir, app) = sample_app().await;
    for (uri, status, detail) in [
        (
            "/api/datasets/nope",
            StatusCode::NOT_FOUND,
            "dataset 'nope' not found",
        ),
        (
            "/api/datasets/nyc/units/00000",
            StatusCode::NOT_FOUND,
            "unit '00000' not found in dataset 'nyc'",
        ),
        (
            "/api/datasets/nope/units/10001",
            StatusCode::NOT_FOUND,
            "dataset 'nope' not found",
        ),
        (
            "/no/such/route",
            StatusCode::NOT_FOUND,
            "no resource at /no/such/route",
        ),
    ] {
        let (got, content_type, body) = get(&app, uri).await;
        assert_eq!(got, status, "{uri}");
        assert_eq!(content_type, "application/problem+json", "{uri}");
        assert_eq!(body["status"], status.as_u16(), "{uri}");
        assert_eq!(body["detail"], detail, "{uri}");
        assert!(body["title"].is_string() && body["type"].is_string(), "{uri}");
    }
}

/// Every 400 of a query names the parameter at fault and its value.
#[actix_web::test]
async fn a_bad_query_parameter_is_named_with_its_value() {
    let (_dir, app) = sample_app().await;
    for (uri, parameter, detail) in [
        (
            "/api/lookup?alignment=nyc&lon=abc&lat=40.75",
            "lon",
            "invalid lon: 'abc': invalid float literal",
        ),
        (
            "/api/lookup?alignment=nyc&lon=-73.98",
            "lat",
            "invalid lat: missing; this parameter is required",
        ),
        (
            "/api/alignments/nyc/history?limit=ten",
            "limit",
            "invalid limit: 'ten': invalid digit found in string",
        ),
    ] {
        let (status, _, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(
            (body["parameter"].as_str(), body["detail"].as_str()),
            (Some(parameter), Some(detail)),
            "{uri}"
        );
    }
    let (status, _, body) = get(&app, "/api/alignments/nyc/history?limt=10").await;
    assert_eq!(
        (status, body["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limt")),
        "{body}"
    );
    assert_eq!(
        body["detail"],
        "invalid limt: unknown parameter; expected `limit` or `before`"
    );
}

#[actix_web::test]
async fn openapi_documents_every_route() {
    let (_dir, app) = sample_app().await;
    let (status, _, doc) = get(&app, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/api/openapi.json",
        "/api/datasets",
        "/api/datasets/{name}",
        "/api/datasets/{name}/units/{id}",
    ] {
        assert!(paths.contains_key(path), "{path} undocumented");
        // Every documented GET answers (with sample values for the parameters).
        let uri = path.replace("{name}", "nyc").replace("{id}", "10001");
        assert_eq!(get(&app, &uri).await.0, StatusCode::OK, "{uri}");
    }
}

#[actix_web::test]
async fn alignment_change_history_undo_over_http() {
    let (_dir, app) = sample_app().await;
    let (status, _, body) = get(&app, "/api/alignments/nyc").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["counts"]["territory"], 28);
    let revision = body["revision"].as_i64().unwrap();

    let (status, _, level) = get(&app, "/api/alignments/nyc/territories").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(level["items"].as_array().unwrap().len(), 28);
    assert!(level["summary"]["population_estimate"]["cv"].as_f64().unwrap() > 0.0);
    let t1000 = level["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == "T1000")
        .unwrap()
        .clone();
    assert_eq!(t1000["reps"][0], "R1000");
    assert!(t1000["deviation"]["population_estimate"].is_number());
    let (status, _, districts) = get(&app, "/api/alignments/nyc/districts").await;
    assert_eq!(
        (status, districts["items"].as_array().unwrap().len()),
        (StatusCode::OK, 5)
    );

    let move_unit = json!({"expected_revision": revision, "author": "ann",
        "changes": [{"op": "assign", "units": ["10002"], "territory": "T1001"}]});
    let (status, outcome) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments/nyc/changes")
            .set_json(&move_unit),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["revision"], revision + 1);
    assert!(outcome["metrics"]["territory"]["T1001"]["sums"]["population_estimate"].is_number());

    // The same change again is based on a stale revision.
    let (status, problem) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments/nyc/changes")
            .set_json(&move_unit),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["current_revision"], revision + 1);

    let bad = json!({"expected_revision": revision + 1, "changes": [{"op": "assign", "units": ["10002"], "territory": "NOPE"}]});
    let (status, problem) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments/nyc/changes")
            .set_json(&bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("unknown territory 'NOPE'")
    );
    assert_eq!(problem["refusal"], "unknown_territory");
    assert_eq!(problem["current_revision"], serde_json::Value::Null);

    let unknown_op = json!({"expected_revision": revision + 1, "changes": [{"op": "teleport"}]});
    let (status, problem) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments/nyc/changes")
            .set_json(&unknown_op),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap().contains("teleport"),
        "{problem}"
    );

    let (_, _, history) = get(&app, "/api/alignments/nyc/history").await;
    let last = history["changes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["author"].as_str(), last["revision"].as_i64()),
        (Some("ann"), Some(revision + 1))
    );

    let (status, undone) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments/nyc/undo")
            .set_json(json!({"expected_revision": revision + 1})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    assert_eq!(undone["revision"], revision + 2);

    let (status, created) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments")
            .set_json(json!({"name": "plan-b", "copy_of": "nyc"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, _) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments")
            .set_json(json!({"name": "plan-b", "copy_of": "nyc"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, _, diff) = get(&app, "/api/alignments/nyc/diff?against=plan-b").await;
    assert_eq!(diff["units"].as_array().unwrap().len(), 0);

    let (status, _, feature) = get(&app, "/api/alignments/nyc/territories/T1000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(feature["geometry"]["type"], "MultiPolygon");
    assert_eq!(
        get(&app, "/api/alignments/nyc/territories/NOPE").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, "/api/alignments/nyc/planets").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&app, "/api/alignments/nope").await.0, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn lookups_over_http() {
    let (_dir, app) = sample_app().await;
    let (status, _, body) = get(&app, "/api/lookup?alignment=nyc&lon=-73.9857&lat=40.7484").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["found"].as_bool(), body["unit"].as_str()),
        (Some(true), Some("10001"))
    );
    assert_eq!(body["owner"]["district"], "Manhattan");
    assert!(body["revision"].is_number());
    let (_, _, sea) = get(&app, "/api/lookup?alignment=nyc&lon=-73.80&lat=40.45").await;
    assert_eq!(sea["found"], false);
    let (_, _, snapped) = get(&app, "/api/lookup?alignment=nyc&lon=-73.80&lat=40.45&snap_km=30").await;
    assert!(snapped["distance_km"].as_f64().unwrap() > 0.0);
    for uri in [
        "/api/lookup?alignment=nyc&lon=-73.9&lat=95",
        "/api/lookup?alignment=nyc&lon=NaN&lat=40",
        "/api/lookup?alignment=nyc&lon=abc&lat=40",
        "/api/lookup?alignment=nyc&lat=40",
        "/api/reps/nearest?alignment=nyc&lon=-73.9&lat=40.7&k=0",
    ] {
        let (status, content_type, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(content_type, "application/problem+json");
    }
    assert_eq!(
        get(&app, "/api/lookup?alignment=nope&lon=-73.9&lat=40.7").await.0,
        StatusCode::NOT_FOUND
    );

    let csv = "id,lon,lat\na,-73.9857,40.7484\nb,x,1\n";
    let req = test::TestRequest::post()
        .uri("/api/lookup?alignment=nyc")
        .insert_header(("content-type", "text/csv"))
        .set_payload(csv);
    let res = test::call_service(&app, req.to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(
        text.lines().nth(1),
        Some("a,-73.9857,40.7484,10001,T1000,Manhattan,North,R1000,")
    );
    assert!(text.lines().nth(2).unwrap().contains("row 2"));

    let json_batch = json!([{"id": 1, "lon": -73.9857, "lat": 40.7484}, {"id": 2, "lon": 500, "lat": 0}]);
    let (status, answer) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/lookup?alignment=nyc")
            .set_json(&json_batch),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer[0]["unit"], "10001");
    assert!(answer[1]["error"].as_str().unwrap().starts_with("row 2"));

    for (body, why) in [
        ("", "empty"),
        ("name,x1\nq,1\n", "lon and lat"),
        ("[{\"lon\": ", "EOF"),
    ] {
        let req = test::TestRequest::post()
            .uri("/api/lookup?alignment=nyc")
            .set_payload(body);
        let (status, problem) = send(&app, req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(problem["detail"].as_str().unwrap().contains(why), "{problem}");
    }
    let huge = test::TestRequest::post()
        .uri("/api/lookup?alignment=nyc")
        .set_payload("id,lon,lat\n")
        .insert_header(("content-length", "2147483648"));
    let (status, problem) = send(&app, huge).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"].as_str().unwrap().contains("2147483648 bytes"),
        "{problem}"
    );

    let (status, _, near) = get(
        &app,
        "/api/reps/nearest?alignment=nyc&lon=-73.9857&lat=40.7484&k=2",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(near["reps"][0]["id"], "R1000");
    assert_eq!(near["reps"][0]["territories"][0], "T1000");
    let (_, _, same) = get(
        &app,
        "/api/reps/nearest?alignment=nyc&lon=-73.9442&lat=40.6782&k=5&territory=same",
    )
    .await;
    let reps = same["reps"].as_array().unwrap();
    assert_eq!(reps.len(), 1, "one rep per territory in the sample: {same}");
}

/// The sheet round trip over HTTP: read an alignment's sheet, create another from it
/// (201), replace it from an edited sheet as a change set guarded by its revision, and
/// delete it; every refusal names the parameter or header at fault and changes nothing.
#[actix_web::test]
async fn sheets_create_replace_and_delete_alignments_over_http() {
    let (_dir, app) = sample_app().await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/alignments/nyc/sheet")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let sheet = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(sheet, include_str!("../../data/nyc_alignment.csv"));
    let put = |uri: &str, body: &str| {
        test::TestRequest::put()
            .uri(uri)
            .insert_header(("content-type", "text/csv"))
            .set_payload(body.to_owned())
    };

    let (status, problem) = send(&app, put("/api/alignments/copy/sheet", &sheet)).await;
    assert_eq!(
        (status, problem["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("dataset")),
        "{problem}"
    );
    let json_body = test::TestRequest::put()
        .uri("/api/alignments/copy/sheet?dataset=nyc")
        .set_json(json!({}));
    let (status, problem) = send(&app, json_body).await;
    assert_eq!(
        (status, problem["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("Content-Type")),
        "{problem}"
    );
    let (status, created) = send(&app, put("/api/alignments/copy/sheet?dataset=nyc", &sheet)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["revision"].as_i64(), created["rows"].as_u64()),
        (Some(0), Some(sheet.lines().count() as u64 - 1))
    );

    let edited = sheet.replacen(",T1000,", ",T1001,", 1);
    let (status, problem) = send(&app, put("/api/alignments/copy/sheet", &edited)).await;
    assert_eq!(
        (status, problem["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("expected_revision")),
        "{problem}"
    );
    let (status, problem) = send(
        &app,
        put("/api/alignments/copy/sheet?expected_revision=5", &edited),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (status, replaced) = send(
        &app,
        put("/api/alignments/copy/sheet?expected_revision=0", &edited),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["revision"], 1);
    let touched: Vec<&str> = replaced["change"]["touched"]["territory"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(touched, ["T1000", "T1001"]);
    let (_, _, history) = get(&app, "/api/alignments/copy/history").await;
    assert!(
        history["changes"][0]["summary"]
            .as_str()
            .unwrap()
            .starts_with("replaced from a sheet: 1 unit(s) moved"),
        "{history}"
    );

    // The rules sheet: read, replaced as a change set guarded by the revision, refused
    // by line when a condition names a field no account has.
    let (_, _, nyc) = get(&app, "/api/alignments/nyc").await;
    let account = json!({"expected_revision": nyc["revision"], "changes": [{"op": "upsert_accounts",
        "accounts": {"A1": {"name": "Big Co", "lon": -73.97, "lat": 40.78, "metrics": {"employees": 500}}}}]});
    let upsert = test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(&account);
    let (status, outcome) = send(&app, upsert).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let revision = outcome["revision"].as_i64().unwrap();
    let rules = "rule,territory,condition\nbig,T1001,employees >= 200\n";
    let uri = |r: i64| format!("/api/alignments/nyc/rules?expected_revision={r}");
    let (status, problem) = send(&app, put(&uri(revision + 1), rules)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let bad = "rule,territory,condition\nbig,T1001,industry = 'Mining'\n";
    let (status, problem) = send(&app, put(&uri(revision), bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("line 2: rule 'big': ")
            && problem["detail"].as_str().unwrap().contains("industry"),
        "{problem}"
    );
    let (status, changed) = send(&app, put(&uri(revision), rules)).await;
    assert_eq!(
        (status, changed["revision"].as_i64()),
        (StatusCode::OK, Some(revision + 1)),
        "{changed}"
    );
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/alignments/nyc/rules")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(
        body,
        "rule,priority,territory,district,region,condition\nbig,1,T1001,Manhattan,North,employees >= 200\n"
    );
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/accounts?alignment=nyc")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let row = body.lines().find(|l| l.starts_with("A1,")).unwrap_or_default();
    assert!(
        row.ends_with(",T1001,T1001 > Manhattan > North,R1001,rule,big"),
        "{body}"
    );

    let (status, problem) = send(&app, test::TestRequest::delete().uri("/api/alignments/copy")).await;
    assert_eq!(
        (status, problem["parameter"].as_str()),
        (StatusCode::BAD_REQUEST, Some("expected_revision")),
        "{problem}"
    );
    let (status, _) = send(
        &app,
        test::TestRequest::delete().uri("/api/alignments/copy?expected_revision=0"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = send(
        &app,
        test::TestRequest::delete().uri("/api/alignments/copy?expected_revision=1"),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = get(&app, "/api/alignments/copy").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&app, "/api/alignments/nyc").await;
    assert_eq!(status, StatusCode::OK, "deleting one alignment touched another");
}

/// Teams (sales forces): each team's active alignment answers `team=` lookups, `all`
/// answers from every team's, activation moves within a team, and every refusal names
/// what is wrong and changes nothing.
#[actix_web::test]
async fn teams_answer_lookups_from_their_active_alignments() {
    let (_dir, engine) = common::sample_engine();
    common::add_accounts(
        &engine,
        "id,name,lon,lat,territory\nA1,Empire State,-73.9857,40.7484,\n",
    );
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state).configure(configure)).await;
    let patch = |alignment: &str, body: Value| {
        test::TestRequest::patch()
            .uri(&format!("/api/alignments/{alignment}"))
            .insert_header(("content-type", "application/merge-patch+json"))
            .set_payload(body.to_string())
    };
    let here = "lon=-73.9857&lat=40.7484"; // in ZIP 10001, territory T1000
    let (status, _, none) = get(&app, &format!("/api/lookup?team=all&{here}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{none}");
    assert!(
        none["detail"]
            .as_str()
            .unwrap()
            .contains("no team has an active alignment"),
        "{none}"
    );

    // A second sales force's plan: a copy where 10001 belongs to T1001.
    for name in ["oncology", "core-next"] {
        let (status, created) = send(
            &app,
            test::TestRequest::post()
                .uri("/api/alignments")
                .set_json(json!({"name": name, "copy_of": "nyc"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    let (_, _, oncology) = get(&app, "/api/alignments/oncology").await;
    let (status, moved) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/alignments/oncology/changes")
            .set_json(json!({
            "expected_revision": oncology["revision"],
            "changes": [{"op": "assign", "units": ["10001"], "territory": "T1001"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");

    let (status, nyc) = send(&app, patch("nyc", json!({"team": "core", "active": true}))).await;
    assert_eq!(status, StatusCode::OK, "{nyc}");
    assert_eq!(
        (nyc["team"].as_str(), nyc["active"].as_bool()),
        (Some("core"), Some(true))
    );
    let (status, _) = send(&app, patch("oncology", json!({"team": "oncology"}))).await;
    assert_eq!(status, StatusCode::OK);
    // In a team but not active: the team has no plan to answer from yet.
    let (status, _, inactive) = get(&app, &format!("/api/lookup?team=oncology&{here}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{inactive}");
    assert!(
        inactive["detail"].as_str().unwrap().contains("teams: core"),
        "{inactive}"
    );
    let (status, _) = send(&app, patch("oncology", json!({"active": true}))).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, all) = get(&app, &format!("/api/lookup?team=all&{here}")).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["team"], "all");
    let owners: Vec<(&str, &str, &str)> = all["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap();
            (
                s("team"),
                s("alignment"),
                a["owner"]["territory"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        owners,
        [("core", "nyc", "T1000"), ("oncology", "oncology", "T1001")]
    );
    let (_, _, core) = get(&app, &format!("/api/lookup?team=core&{here}")).await;
    assert_eq!(core["answers"].as_array().unwrap().len(), 1, "{core}");
    // The plain answer of one alignment is as before: no team in it.
    let (_, _, one) = get(&app, &format!("/api/lookup?alignment=oncology&{here}")).await;
    assert_eq!(
        (one["owner"]["territory"].as_str(), one.get("team")),
        (Some("T1001"), None)
    );

    let (status, _, geocoded) = get(&app, "/api/geocode?team=all&q=New%20York%2C%20NY%2010001").await;
    assert_eq!(status, StatusCode::OK, "{geocoded}");
    let territories: Vec<&str> = geocoded["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["owner"]["territory"].as_str().unwrap())
        .collect();
    assert_eq!(territories, ["T1000", "T1001"]);
    let (status, _, account) = get(&app, "/api/accounts/A1?team=all").await;
    assert_eq!(status, StatusCode::OK, "{account}");
    assert_eq!(account["answers"].as_array().unwrap().len(), 2, "{account}");

    // Making another alignment core's active plan moves the team's activation to it.
    let (status, _) = send(&app, patch("core-next", json!({"team": "core", "active": true}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, teams) = get(&app, "/api/teams").await;
    assert_eq!(
        teams,
        json!({"teams": {
            "core": {"active": "core-next", "alignments": ["core-next", "nyc"]},
            "oncology": {"active": "oncology", "alignments": ["oncology"]}}})
    );
    let (_, _, nyc) = get(&app, "/api/alignments/nyc").await;
    assert_eq!(
        (nyc["team"].as_str(), nyc["active"].as_bool()),
        (Some("core"), Some(false))
    );

    // Refusals, each naming what is wrong; none changes the teams.
    for (alignment, body, status, why) in [
        (
            "nyc",
            json!({"team": "all"}),
            StatusCode::BAD_REQUEST,
            "'all' asks for every team",
        ),
        (
            "nyc",
            json!({"team": " core"}),
            StatusCode::BAD_REQUEST,
            "white space",
        ),
        ("nyc", json!({"team": ""}), StatusCode::BAD_REQUEST, "is empty"),
        (
            "nyc",
            json!({"team": null, "active": true}),
            StatusCode::BAD_REQUEST,
            "give a team",
        ),
        ("nyc", json!({"colour": "red"}), StatusCode::BAD_REQUEST, "colour"),
        ("nyc", json!({"active": "yes"}), StatusCode::BAD_REQUEST, "active"),
        (
            "nope",
            json!({"team": "core"}),
            StatusCode::NOT_FOUND,
            "alignment 'nope' not found",
        ),
    ] {
        let (got, problem) = send(&app, patch(alignment, body.clone())).await;
        assert_eq!(got, status, "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap_or("").contains(why),
            "{body}: {problem}"
        );
    }
    let (_, _, after) = get(&app, "/api/teams").await;
    assert_eq!(after, teams);
    for (uri, why) in [
        (
            format!("/api/lookup?team=partners&{here}"),
            "team 'partners' has no active alignment; teams: core, oncology",
        ),
        (format!("/api/lookup?alignment=nyc&team=core&{here}"), "give one"),
        (
            "/api/accounts/NOPE?team=all".to_owned(),
            "account 'NOPE' not found",
        ),
    ] {
        let (status, _, problem) = get(&app, &uri).await;
        assert!(status.is_client_error(), "{uri}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{uri}: {problem}"
        );
    }

    // Out of its team, an alignment no longer answers for it.
    let (status, out) = send(&app, patch("oncology", json!({"team": null}))).await;
    assert_eq!(
        (status, out["team"].is_null(), out["active"].as_bool()),
        (StatusCode::OK, true, Some(false))
    );
    let (_, _, all) = get(&app, &format!("/api/lookup?team=all&{here}")).await;
    assert_eq!(all["answers"].as_array().unwrap().len(), 1, "{all}");
}

/// Lead routing: one lead (JSON), a batch (CSV, JSON array) and per team; a rule on the
/// lead's fields wins over its location; bad leads are refused naming the field.
#[actix_web::test]
async fn leads_are_routed_by_rules_then_location() {
    // Rules are checked against the fields the accounts have: these have a lead source.
    let (_dir, engine) = common::sample_engine();
    common::add_accounts(
        &engine,
        "id,name,lon,lat,territory,lead_source\nA1,Empire State,-73.9857,40.7484,,web\n",
    );
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    let app = test::init_service(App::new().app_data(state).configure(configure)).await;
    let (_, _, nyc) = get(&app, "/api/alignments/nyc").await;
    let rule = json!({"expected_revision": nyc["revision"], "changes": [{"op": "create_rule",
        "rule": "INSIDE", "territory": "T1006", "condition": "lead_source IN ('tradeshow', 'referral')"}]});
    let req = test::TestRequest::post()
        .uri("/api/alignments/nyc/changes")
        .set_json(&rule);
    let (status, outcome) = send(&app, req).await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let route = |uri: &str, body: String| test::TestRequest::post().uri(uri).set_payload(body);
    let one = |lead: Value| route("/api/route?alignment=nyc", lead.to_string());

    let (status, web) = send(
        &app,
        one(json!({"id": "L1", "lon": -73.9857, "lat": 40.7484, "lead_source": "web"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{web}");
    assert_eq!(
        (
            &web["id"],
            &web["unit"],
            &web["owner"]["territory"],
            &web["decided_by"],
            &web["reps"][0]["id"]
        ),
        (
            &json!("L1"),
            &json!("10001"),
            &json!("T1000"),
            &json!("unit"),
            &json!("R1000")
        )
    );
    let (_, show) = send(
        &app,
        one(json!({"lon": -73.9857, "lat": 40.7484, "lead_source": "tradeshow"})),
    )
    .await;
    assert_eq!(
        (
            &show["owner"]["territory"],
            &show["decided_by"],
            &show["rule"],
            &show["unit"]
        ),
        (&json!("T1006"), &json!("rule"), &json!("INSIDE"), &json!("10001"))
    );
    let (_, addressed) = send(&app, one(json!({"address": "20 W 34th St, New York, NY 10001"}))).await;
    assert_eq!(
        (&addressed["unit"], &addressed["geocoded"]),
        (&json!("10001"), &json!("postal_code")),
        "{addressed}"
    );

    for (body, why) in [
        (
            json!({"lon": "x", "lat": 40.7}).to_string(),
            "field `lon`: expected a number",
        ),
        (json!({"lat": 40.7}).to_string(), "lat without lon"),
        (json!({"lon": -73.9, "lat": 95}).to_string(), "lon/lat"),
        (json!({"tags": ["a"]}).to_string(), "field `tags`"),
        ("{\"lon\": ".to_owned(), "EOF"),
        ("".to_owned(), "empty; send a lead"),
        (
            "name,vertical\nx,y\n".to_owned(),
            "lon and lat columns or an address",
        ),
    ] {
        let (status, problem) = send(&app, route("/api/route?alignment=nyc", body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(why),
            "{body}: {problem}"
        );
    }
    let (status, _) = send(&app, route("/api/route?alignment=nyc&team=core", "{}".into())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(&app, route("/api/route?alignment=nope", "{}".into())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let csv =
        "id,lon,lat,lead_source\nL1,-73.9857,40.7484,web\nL2,abc,40,web\nL3,-73.9857,40.7484,tradeshow\n";
    let res = test::call_service(&app, route("/api/route?alignment=nyc", csv.into()).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/csv");
    let text = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let revision = nyc["revision"].as_i64().unwrap() + 1;
    assert_eq!(
        lines[0],
        "id,team,alignment,revision,unit,territory,chain,reps,decided_by,rule,reason"
    );
    assert_eq!(
        lines[1],
        format!("L1,,nyc,{revision},10001,T1000,T1000 > Manhattan > North,R1000,unit,,")
    );
    assert!(
        lines[2].starts_with("L2,,nyc,") && lines[2].contains("error: row 2: column `lon`"),
        "{text}"
    );
    assert!(
        lines[3].starts_with(&format!("L3,,nyc,{revision},10001,T1006,T1006 > ")),
        "{text}"
    );
    assert!(lines[3].ends_with(",rule,INSIDE,"), "{text}");
    assert_eq!(lines.len(), 4);

    let batch = json!([{"id": "L1", "lon": -73.9857, "lat": 40.7484}, {"id": "L2", "lon": 1}]);
    let (status, answers) = send(&app, route("/api/route?alignment=nyc", batch.to_string())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answers[0]["owner"]["territory"], "T1000");
    assert!(
        answers[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("row 2: lon without lat"),
        "{answers}"
    );
    assert_eq!(answers[1]["id"], "L2");

    // Per team: the owner in each team's active plan.
    let patch = test::TestRequest::patch()
        .uri("/api/alignments/nyc")
        .set_json(json!({"team": "core", "active": true}));
    assert_eq!(send(&app, patch).await.0, StatusCode::OK);
    let (status, by_team) = send(
        &app,
        route(
            "/api/route?team=all",
            json!({"lon": -73.9857, "lat": 40.7484}).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{by_team}");
    assert_eq!(
        (
            &by_team["answers"][0]["team"],
            &by_team["answers"][0]["owner"]["territory"]
        ),
        (&json!("core"), &json!("T1000"))
    );
}

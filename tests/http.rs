//! The HTTP skeleton on the sample: health, datasets, units, problems, OpenAPI.

mod common;

use std::sync::Arc;

use actix_web::{App, http::StatusCode, test, web};
use geoalign::http::{AppState, configure};
use serde_json::Value;

async fn sample_app() -> (
    tempfile::TempDir,
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
) {
    let (dir, store) = common::store();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    geoalign::demo::load_sample(&store, &data, false).expect("sample");
    let state = web::Data::new(AppState {
        store: Arc::new(store),
    });
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

//! `GET /api/datasets`, `GET /api/datasets/{name}`, `GET /api/datasets/{name}/units/{id}`.

use actix_web::{HttpResponse, get, web};
use geozero::ToJson;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::auth::Viewer;
use super::body::{Feature, UnitProperties};
use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking};
use crate::store::DatasetInfo;

/// Body of `GET /api/datasets`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetList {
    /// Every dataset in the store.
    pub datasets: Vec<DatasetInfo>,
}

/// List datasets.
#[utoipa::path(get, path = "/api/datasets", operation_id = "listDatasets", tag = "datasets",
    responses((status = 200, description = "All datasets", body = DatasetList),
        (status = 500, response = ProblemResponse)))]
#[get("/api/datasets")]
pub async fn list(_: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let datasets = blocking(move || store.datasets()).await?;
    Ok(HttpResponse::Ok().json(DatasetList { datasets }))
}

/// One dataset.
#[utoipa::path(get, path = "/api/datasets/{name}", operation_id = "getDataset", tag = "datasets",
    params(("name" = String, Path, description = "Dataset name", example = "nyc")),
    responses((status = 200, description = "The dataset", body = DatasetInfo),
        (status = 404, response = ProblemResponse)))]
#[get("/api/datasets/{name}")]
pub async fn show(
    _: Viewer,
    state: web::Data<AppState>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let dataset = blocking(move || store.dataset(&name)).await?;
    Ok(HttpResponse::Ok().json(dataset))
}

/// One unit as a GeoJSON Feature (EPSG:4326).
///
/// Properties: the unit's attributes and metrics, `kind` (polygon or point) and, for a
/// point unit, `parent_unit`.
#[utoipa::path(get, path = "/api/datasets/{name}/units/{id}", operation_id = "getUnit", tag = "datasets",
    params(("name" = String, Path, description = "Dataset name", example = "nyc"),
        ("id" = String, Path, description = "Unit id (e.g. a ZIP code)", example = "10001")),
    responses((status = 200, description = "The unit", body = Feature<UnitProperties>,
            content_type = "application/geo+json"),
        (status = 404, response = ProblemResponse)))]
#[get("/api/datasets/{name}/units/{id}")]
pub async fn unit(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (dataset, id) = path.into_inner();
    let store = state.store.clone();
    let unit = blocking(move || store.unit(&dataset, &id)).await?;
    let mut properties = UnitProperties::default();
    for (k, v) in unit.properties.attributes {
        properties.0.insert(k, Value::String(v));
    }
    for (k, v) in unit.properties.metrics {
        properties.0.insert(k, json!(v));
    }
    properties.0.insert("kind".into(), json!(unit.kind));
    if let Some(parent) = unit.parent {
        properties.0.insert("parent_unit".into(), Value::String(parent));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .json(Feature::new(unit.id, properties, unit.geometry.to_json().ok())))
}

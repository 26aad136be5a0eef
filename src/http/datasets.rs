//! `GET /api/datasets`, `GET /api/datasets/{name}`, `GET /api/datasets/{name}/units/{id}`.

use actix_web::{HttpResponse, get, web};
use geozero::ToJson;
use serde_json::{Map, Value, json};

use super::{ApiError, AppState, blocking};

/// Lists the datasets in the store.
#[get("/api/datasets")]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let datasets = blocking(move || store.datasets()).await?;
    Ok(HttpResponse::Ok().json(json!({ "datasets": datasets })))
}

/// One dataset.
#[get("/api/datasets/{name}")]
pub async fn show(state: web::Data<AppState>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let dataset = blocking(move || store.dataset(&name)).await?;
    Ok(HttpResponse::Ok().json(dataset))
}

/// One unit as a GeoJSON Feature (`application/geo+json`).
#[get("/api/datasets/{name}/units/{id}")]
pub async fn unit(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (dataset, id) = path.into_inner();
    let store = state.store.clone();
    let unit = blocking(move || store.unit(&dataset, &id)).await?;
    let geometry: Value = unit
        .geometry
        .to_json()
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    let mut properties = Map::new();
    for (k, v) in unit.properties.attributes {
        properties.insert(k, Value::String(v));
    }
    for (k, v) in unit.properties.metrics {
        properties.insert(k, json!(v));
    }
    properties.insert("kind".into(), json!(unit.kind));
    if let Some(parent) = unit.parent {
        properties.insert("parent_unit".into(), Value::String(parent));
    }
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .json(json!({
            "type": "Feature",
            "id": unit.id,
            "properties": properties,
            "geometry": geometry,
        })))
}

//! `GET /health`.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use super::{ApiError, AppState, blocking};

/// Liveness and store readiness.
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let datasets = blocking(move || store.datasets()).await?.len();
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "datasets": datasets,
    })))
}

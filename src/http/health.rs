//! `GET /health`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking};

/// Body of `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` when the store takes no writes (see `store_error`).
    pub status: &'static str,
    /// Why the store takes no writes, when it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
    /// Server version.
    pub version: &'static str,
    /// Datasets in the store.
    pub datasets: usize,
}

/// Liveness and store readiness.
#[utoipa::path(get, path = "/health", operation_id = "health", tag = "system",
    responses((status = 200, description = "Server is up", body = Health),
        (status = 500, response = ProblemResponse)))]
#[get("/health")]
pub async fn health(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (writable, datasets) = blocking(move || {
        let writable = store.check_writable();
        store.dataset_count().map(|n| (writable, n))
    })
    .await?;
    if let Err(e) = &writable {
        tracing::warn!(error = %e, "health: the store takes no writes");
    }
    Ok(HttpResponse::Ok().json(Health {
        status: if writable.is_ok() { "ok" } else { "degraded" },
        store_error: writable.err().map(|e| e.to_string()),
        version: env!("CARGO_PKG_VERSION"),
        datasets,
    }))
}

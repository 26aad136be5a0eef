//! `GET /health`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking};

/// Body of `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
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
    let datasets = blocking(move || store.datasets()).await?.len();
    Ok(HttpResponse::Ok().json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        datasets,
    }))
}

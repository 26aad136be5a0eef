//! `GET /api/openapi.json`: the OpenAPI 3.0 description of the API.

use actix_web::{HttpResponse, get};

/// The OpenAPI document, kept beside the handlers it describes.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// Serves the OpenAPI document.
#[get("/api/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(DOCUMENT)
}

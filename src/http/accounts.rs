//! `GET /api/accounts/{id}`: an account, its point and who owns it.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, AppState, snapshot};

/// Query of `GET /api/accounts/{id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// Alignment name.
    pub alignment: String,
}

/// An account with its unit, territory chain, reps and whether it is an override.
#[get("/api/accounts/{id}")]
pub async fn show(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = snapshot(&state, query.into_inner().alignment).await?;
    let view = s.account_view(&id).ok_or_else(|| {
        ApiError::NotFound(format!("account '{id}' not found in alignment '{}'", s.alignment))
    })?;
    Ok(HttpResponse::Ok().json(json!({
        "alignment": s.alignment, "revision": s.revision, "account": view,
    })))
}

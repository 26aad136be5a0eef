//! `GET /api/accounts/{id}`: an account, its point and who owns it.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Viewer;
use super::problem::ProblemResponse;
use super::query::Query;
use super::{ApiError, AppState, snapshot};
use crate::lookup::account::AccountView;

/// Query of `GET /api/accounts/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// Alignment name.
    pub alignment: String,
}

/// Body of `GET /api/accounts/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBody {
    /// Alignment name.
    pub alignment: String,
    /// Revision answered from.
    pub revision: i64,
    /// The account and who owns it.
    pub account: AccountView,
}

/// An account: its point, the unit there, the owning territory chain and reps, and
/// whether ownership is an override (explicitly assigned to a territory other than its unit's).
#[utoipa::path(get, path = "/api/accounts/{id}", operation_id = "getAccount", tag = "lookup",
    params(("id" = String, Path, description = "Account id"), AccountQuery),
    responses((status = 200, description = "The account", body = AccountBody),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/accounts/{id}")]
pub async fn show(
    _: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: Query<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let s = snapshot(&state, query.into_inner().alignment).await?;
    let view = s.account_view(&id).ok_or_else(|| {
        ApiError::NotFound(format!("account '{id}' not found in alignment '{}'", s.alignment))
    })?;
    Ok(HttpResponse::Ok().json(AccountBody {
        alignment: s.alignment.clone(),
        revision: s.revision,
        account: view,
    }))
}

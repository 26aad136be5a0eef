//! `GET /api/accounts/{id}`: an account, its point and who owns it; `GET /api/accounts`:
//! every account with its owner per plan, as CSV.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Viewer;
use super::problem::ProblemResponse;
use super::query::Query;
use super::teams::{OneOrByTeam, Plans};
use super::{ApiError, AppState, blocking};
use crate::lookup::account::AccountView;

/// Query of `GET /api/accounts/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AccountQuery {
    /// Alignment name (or give `team`).
    pub alignment: Option<String>,
    /// Answer from this team's active alignment, or every team's with `all` (instead of
    /// `alignment`): the teams whose active alignment has the account.
    pub team: Option<String>,
}

/// Body of `GET /api/accounts/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountBody {
    /// The team whose active alignment answered (asked with `team=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
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
    responses((status = 200, description = "The account; per team with `team`", body = OneOrByTeam<AccountBody>),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/accounts/{id}")]
pub async fn show(
    _: Viewer,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: Query<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let plans = Plans::from_query(q.alignment, q.team)?;
    let snapshots = plans.snapshots(&state).await?;
    let answers: Vec<AccountBody> = snapshots
        .iter()
        .filter_map(|(team, s)| {
            Some(AccountBody {
                team: team.clone(),
                alignment: s.alignment.clone(),
                revision: s.revision,
                account: s.account_view(&id)?,
            })
        })
        .collect();
    if answers.is_empty() {
        let names: Vec<&str> = snapshots.iter().map(|(_, s)| s.alignment.as_str()).collect();
        return Err(ApiError::NotFound(format!(
            "account '{id}' not found in alignment '{}'",
            names.join("', '")
        )));
    }
    Ok(plans.answer(answers))
}

/// Every account with its owner in each plan asked for, as CSV (one row per account and
/// plan: `id,name,lon,lat,team,alignment,revision,unit,territory,chain,reps,placed_by,rule`):
/// with `team=all`, its owner in every team's active alignment.
#[utoipa::path(get, path = "/api/accounts", operation_id = "exportAccounts", tag = "lookup",
    params(AccountQuery),
    responses((status = 200, description = "The accounts and their owners (CSV)", content_type = "text/csv", body = String),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/accounts")]
pub async fn export(
    _: Viewer,
    state: web::Data<AppState>,
    query: Query<AccountQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let plans = Plans::from_query(q.alignment, q.team)?;
    let snapshots = plans.snapshots(&state).await?;
    let name = snapshots
        .iter()
        .map(|(_, s)| s.alignment.as_str())
        .collect::<Vec<_>>()
        .join("+");
    let csv = blocking(move || {
        let mut out = Vec::new();
        crate::export::accounts::write(&snapshots, &mut out).map(|()| out)
    })
    .await?;
    Ok(super::sheets::csv_attachment(&format!("{name}-accounts"), csv))
}

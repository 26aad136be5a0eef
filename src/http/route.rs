//! `POST /api/route`: lead routing for CRMs and web forms. One lead (a JSON object)
//! gets its owner from an alignment, or from each team's active plan; a batch (a JSON
//! array or CSV) gets one answer per lead and plan, in input order.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Viewer;
use super::problem::ProblemResponse;
use super::query::Query;
use super::teams::{OneOrByTeam, Plans};
use super::{ApiError, AppState, blocking, read_batch_body};
use crate::lookup::geocode::Country;
use crate::lookup::route::{self as routing, Lead, Location, Routed};
use crate::snapshot::Snapshot;
use crate::store::Store;

/// Query of `POST /api/route`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RouteQuery {
    /// Alignment name (or give `team`).
    pub alignment: Option<String>,
    /// Route by this team's active alignment, or by every team's with `all` (instead of `alignment`).
    pub team: Option<String>,
    /// Postal code format of addresses: us (default), uk, ca, de.
    pub country: Option<String>,
}

/// A lead routed by one plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteAnswer {
    /// The team whose active alignment routed it (asked with `team=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Alignment name.
    pub alignment: String,
    /// Revision answered from.
    pub revision: i64,
    /// Who gets the lead.
    #[serde(flatten)]
    pub routed: Routed,
}

/// A row of a JSON batch that could not be routed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteRowError {
    /// The row's id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why (`row N: ...`).
    pub error: String,
}

/// Who gets a lead: a JSON object with `lon`/`lat` or `address` and any fields (`lead_source`, `vertical`, `employees`, `partner_id`); the first matching rule of the alignment decides, else the territory of the unit at its location. With `team`, the owner in each team's active alignment. A JSON array or CSV (`id,lon,lat|address,...`, up to 100,000 leads) answers one row per lead and plan, in input order; bad rows are reported by row number.
#[utoipa::path(post, path = "/api/route", operation_id = "routeLeads", tag = "lookup", params(RouteQuery),
    request_body(description = "A lead, or a batch of leads", content(
        (Object = "application/json", example = json!({"id": "L1", "lon": -73.9857, "lat": 40.7484,
            "lead_source": "tradeshow", "employees": 1200})),
        (String = "text/csv", example = "id,address,lead_source\nL1,\"20 W 34th St, New York, NY 10001\",web\n"))),
    responses((status = 200, description = "The owner (one lead; per team with `team`), or one answer per lead and plan (a batch)",
            content((OneOrByTeam<RouteAnswer> = "application/json"), (String = "text/csv"))),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[post("/api/route")]
pub async fn route_leads(
    _: Viewer,
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Query<RouteQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let country = super::geocode_batch::country(q.country.as_deref())?;
    let plans = Plans::from_query(q.alignment, q.team)?;
    let body = read_batch_body(
        &request,
        payload,
        "a lead (JSON object), or leads (a JSON array or CSV)",
    )
    .await?;
    let snapshots = plans.snapshots(&state).await?;
    let store = state.engine.store().clone();
    if routing::first_byte(&body) != Some(b'{') {
        return batch(store, snapshots, body, country).await;
    }
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| ApiError::bad("body", e))?;
    let lead = Lead::from_json(&value).map_err(|e| ApiError::bad("body", e))?;
    let answers = if matches!(lead.location, Location::Address(_)) {
        blocking(move || route_all(&store, &snapshots, &lead, country)).await?
    } else {
        // A point is routed from memory alone: no store read, no thread hop.
        route_all(&store, &snapshots, &lead, country)?
    };
    Ok(plans.answer(answers))
}

/// One lead routed by every plan (located once per dataset).
fn route_all(
    store: &Store,
    snapshots: &[(Option<String>, Arc<Snapshot>)],
    lead: &Lead,
    country: Country,
) -> Result<Vec<RouteAnswer>, ApiError> {
    let routed = routing::route_by_plans(store, snapshots, lead, country)?;
    Ok((snapshots.iter().zip(routed))
        .map(|((team, s), routed)| RouteAnswer {
            team: team.clone(),
            alignment: s.alignment.clone(),
            revision: s.revision,
            routed,
        })
        .collect())
}

/// A batch: one answer per lead and plan, as JSON (for a JSON array) or CSV.
async fn batch(
    store: Arc<Store>,
    snapshots: Vec<(Option<String>, Arc<Snapshot>)>,
    body: web::BytesMut,
    country: Country,
) -> Result<HttpResponse, ApiError> {
    let json = routing::first_byte(&body) == Some(b'[');
    let (content_type, out) = blocking(move || -> Result<_, ApiError> {
        let leads = routing::parse_batch(&body).map_err(|e| ApiError::bad("body", e))?;
        let rows = routing::route_batch(&store, &snapshots, &leads, country)?;
        let written = if json {
            let values = rows.into_iter().map(|row| match row.routed {
                Ok(routed) => serde_json::to_value(RouteAnswer {
                    team: row.team.map(str::to_owned),
                    alignment: row.snapshot.alignment.clone(),
                    revision: row.snapshot.revision,
                    routed,
                }),
                Err(error) => serde_json::to_value(RouteRowError {
                    id: row.id.map(str::to_owned),
                    error,
                }),
            });
            (values.collect::<Result<Vec<_>, _>>())
                .and_then(|values| serde_json::to_vec(&values))
                .map_err(|e| e.to_string())
        } else {
            routing::write_csv(&rows).map_err(|e| e.to_string())
        };
        let bytes = written.map_err(|e| ApiError::Worker(format!("writing the answer: {e}")))?;
        Ok((if json { "application/json" } else { "text/csv" }, bytes))
    })
    .await?;
    Ok(HttpResponse::Ok().content_type(content_type).body(out))
}

//! `POST /api/geocode`: a batch of addresses (CSV `id,address` or a JSON array of
//! `{id, address}`), geocoded by the whole ladder and streamed back in input
//! order, chunk by chunk, in the format it came in.

use std::sync::Arc;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, post, web};
use futures_util::stream;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::Viewer;
use super::problem::ProblemResponse;
use super::query::Query;
use super::{ApiError, AppState, blocking, is_json_array, read_batch_body, snapshot};
use crate::lookup::geocode::Country;
use crate::lookup::geocode_batch::{self, AddressRow, CHUNK};
use crate::snapshot::Snapshot;
use crate::store::Store;

/// Query of `POST /api/geocode`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GeocodeBatchQuery {
    /// Alignment name.
    pub alignment: String,
    /// Postal code format: us (default), uk, ca, de.
    pub country: Option<String>,
}

/// The `country` parameter (postal code format), `us` when absent.
pub fn country(param: Option<&str>) -> Result<Country, ApiError> {
    param
        .unwrap_or("us")
        .parse()
        .map_err(|e| ApiError::bad("country", e))
}

/// What the stream needs between chunks.
struct Pending {
    s: Arc<Snapshot>,
    store: Arc<Store>,
    rows: Arc<Vec<AddressRow>>,
    next: usize,
    json: bool,
    country: Country,
    done: bool,
}

/// One address of a JSON geocoding batch.
#[derive(Debug, ToSchema)]
pub struct BatchAddress {
    /// Row id (string or number), echoed back.
    #[schema(value_type = Object)]
    pub id: Option<String>,
    /// Free-text address.
    pub address: String,
}

/// Geocode a batch of addresses: CSV with `id,address` columns or a JSON array of {id, address}; streamed back in input order in the same format with match level, lon/lat, unit, owner chain, reps and note; rows that are empty or match nothing carry an error with their row number and do not fail the rest.
#[utoipa::path(post, path = "/api/geocode", operation_id = "geocodeBatch", tag = "lookup",
    params(GeocodeBatchQuery),
    request_body(description = "Addresses", content(
        (String = "text/csv", example = "id,address\na,\"350 5th Ave, New York, NY 10118\"\n"),
        (Vec<BatchAddress> = "application/json"))),
    responses((status = 200,
            description = "One result per input row, in order (CSV columns: id,match,lon,lat,unit,<levels>,reps,note,error)",
            content((String = "text/csv"), (Vec<Object> = "application/json"))),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[post("/api/geocode")]
pub async fn addresses(
    _: Viewer,
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Query<GeocodeBatchQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let country = country(q.country.as_deref())?;
    let body = read_batch_body(
        &request,
        payload,
        "CSV (id,address) or a JSON array of {id, address}",
    )
    .await?;
    let json = is_json_array(&body);
    let s = snapshot(&state, q.alignment).await?;
    let rows = blocking(move || {
        if json {
            geocode_batch::parse_json(&body)
        } else {
            geocode_batch::parse_csv(&body)
        }
        .map_err(|e| ApiError::bad("body", e))
    })
    .await?;
    let start = Pending {
        s,
        store: state.store.clone(),
        rows: Arc::new(rows),
        next: 0,
        json,
        country,
        done: false,
    };
    let body = stream::unfold(start, |mut p| async move {
        if p.done {
            return None;
        }
        let (s, store, rows, from, json, country) = (
            p.s.clone(),
            p.store.clone(),
            p.rows.clone(),
            p.next,
            p.json,
            p.country,
        );
        let piece = web::block(move || {
            let mut out = Vec::new();
            if from == 0 {
                out = if json {
                    b"[".to_vec()
                } else {
                    geocode_batch::csv_header(&s)
                };
            }
            let part = &rows[from..(from + CHUNK).min(rows.len())];
            let results = geocode_batch::geocode_rows(&s, &store, part, from + 1, country);
            if json {
                geocode_batch::write_json(part, &results, from == 0, &mut out);
                if from + CHUNK >= rows.len() {
                    out.push(b']');
                }
            } else {
                geocode_batch::write_csv(&s, part, &results, &mut out);
            }
            out
        })
        .await;
        p.next = from + CHUNK;
        p.done = p.next >= p.rows.len();
        let item = piece
            .map(Bytes::from)
            .map_err(|e| ApiError::Worker(e.to_string()));
        if item.is_err() {
            p.done = true;
        }
        Some((item, p))
    });
    Ok(HttpResponse::Ok()
        .content_type(if json { "application/json" } else { "text/csv" })
        .streaming(body))
}

//! Lookups for field apps: point in territory (single and batch) and nearest reps.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, AppState, blocking, is_json_array, read_batch_body, snapshot};
use crate::lookup::batch;
use crate::lookup::{Owner, check};
use crate::snapshot::Snapshot;

/// Largest batch body accepted by default (bytes; the `max_batch_mb` setting of
/// [`crate::config`]): a million CSV rows fit in about 40 MB.
pub const MAX_BATCH_BYTES: usize = 128 << 20;

/// Query of `GET /api/lookup`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointQuery {
    /// Alignment name.
    pub alignment: String,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Snap to the nearest unit within this many km when the point is in none.
    pub snap_km: Option<f64>,
}

fn owner_json(s: &Snapshot, lon: f64, lat: f64, owner: Option<Owner>) -> Value {
    match owner {
        Some(o) => json!({
            "alignment": s.alignment, "revision": s.revision, "lon": lon, "lat": lat,
            "found": true, "unit": o.unit, "owner": o.levels, "reps": o.reps, "distance_km": o.distance_km,
        }),
        None => json!({
            "alignment": s.alignment, "revision": s.revision, "lon": lon, "lat": lat,
            "found": false, "reason": "the point is in no unit of the dataset",
        }),
    }
}

/// Who owns a point.
#[get("/api/lookup")]
pub async fn point(
    state: web::Data<AppState>,
    query: web::Query<PointQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    check(q.lon, q.lat).map_err(|e| ApiError::bad("lon/lat", e))?;
    if let Some(k) = q.snap_km
        && !(k.is_finite() && k >= 0.0)
    {
        return Err(ApiError::bad("snap_km", format!("{k} is not a distance in km")));
    }
    let s = snapshot(&state, q.alignment).await?;
    let owner = s
        .lookup(q.lon, q.lat, q.snap_km)
        .map_err(|e| ApiError::bad("lon/lat", e))?;
    Ok(HttpResponse::Ok().json(owner_json(&s, q.lon, q.lat, owner)))
}

/// Query of `POST /api/lookup`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// Alignment name.
    pub alignment: String,
}

/// Looks up a batch of points (CSV `id,lon,lat` or a JSON array), answered in
/// input order in the same format; bad rows are reported by row number.
#[post("/api/lookup")]
pub async fn points(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<BatchQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_batch_body(
        &request,
        payload,
        "CSV (id,lon,lat) or a JSON array of {id, lon, lat}",
    )
    .await?;
    let is_json = is_json_array(&body);
    let s = snapshot(&state, query.into_inner().alignment).await?;
    let (content_type, bytes) = blocking(move || -> Result<_, ApiError> {
        if !is_json {
            let out = batch::lookup_csv(&s, &body).map_err(|e| ApiError::bad("body", e))?;
            return Ok(("text/csv", out));
        }
        let rows = batch::parse_json(&body).map_err(|e| ApiError::bad("body", e))?;
        let owners = batch::resolve(&s, &rows);
        Ok(("application/json", batch::write_json(&s, &rows, &owners)))
    })
    .await?;
    Ok(HttpResponse::Ok().content_type(content_type).body(bytes))
}

/// Query of `GET /api/reps/nearest`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NearestQuery {
    /// Alignment name.
    pub alignment: String,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// How many reps (default 5, at most 1000).
    pub k: Option<usize>,
    /// Only reps within this many km.
    pub max_km: Option<f64>,
    /// `same`: only reps of the territory that owns the point.
    pub territory: Option<String>,
}

/// The k nearest reps by great-circle distance, with their territories.
#[get("/api/reps/nearest")]
pub async fn nearest_reps(
    state: web::Data<AppState>,
    query: web::Query<NearestQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    check(q.lon, q.lat).map_err(|e| ApiError::bad("lon/lat", e))?;
    let k = q.k.unwrap_or(5);
    if k == 0 || k > 1000 {
        return Err(ApiError::bad("k", format!("{k}: between 1 and 1000")));
    }
    if let Some(m) = q.max_km
        && !(m.is_finite() && m > 0.0)
    {
        return Err(ApiError::bad(
            "max_km",
            format!("{m} is not a positive distance in km"),
        ));
    }
    let s = snapshot(&state, q.alignment).await?;
    let same = match q.territory.as_deref() {
        None => None,
        Some("same") => Some(
            s.lookup(q.lon, q.lat, None)
                .map_err(|e| ApiError::bad("lon/lat", e))?
                .and_then(|o| o.levels.get(&s.state.levels[0]).cloned())
                .ok_or_else(|| ApiError::bad("territory", "the point has no owning territory"))?,
        ),
        Some(other) => {
            return Err(ApiError::bad(
                "territory",
                format!("'{other}': only 'same' is supported"),
            ));
        }
    };
    let territories_of = |rep: &str| -> Vec<&str> {
        s.state.territories[0]
            .iter()
            .filter(|(_, t)| t.reps.contains(rep))
            .map(|(c, _)| c.as_str())
            .collect()
    };
    let near = s.rep_index.nearest_where(q.lon, q.lat, k, q.max_km, |rep| {
        same.as_deref().is_none_or(|t| territories_of(rep).contains(&t))
    });
    let reps: Vec<Value> = near
        .iter()
        .map(|r| {
            let rep = s.state.reps.get(&r.id);
            json!({
                "id": r.id, "name": rep.map(|x| x.name.as_str()), "email": rep.and_then(|x| x.email.as_deref()),
                "distance_km": r.distance_km, "lon": r.lon, "lat": r.lat, "territories": territories_of(&r.id),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "alignment": s.alignment, "revision": s.revision, "reps": reps })))
}

/// Query of `GET /api/geocode`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeocodeQuery {
    /// Alignment name.
    pub alignment: String,
    /// Free-text address.
    pub q: String,
    /// Postal code format: us (default), uk, ca, de.
    pub country: Option<String>,
}

/// Owner of an address, by address point, postal code or city, with the match level and point used.
#[get("/api/geocode")]
pub async fn geocode(
    state: web::Data<AppState>,
    query: web::Query<GeocodeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if q.q.trim().is_empty() {
        return Err(ApiError::bad("q", "empty address"));
    }
    let country = super::geocode_batch::country(q.country.as_deref())?;
    let s = snapshot(&state, q.alignment).await?;
    let store = state.store.clone();
    let text = q.q.clone();
    let snap = s.clone();
    let found = blocking(move || snap.geocode_with(&store, &text, country)).await?;
    Ok(HttpResponse::Ok().json(json!({
        "alignment": s.alignment, "revision": s.revision, "query": q.q,
        "match": found.level, "understood": found.understood, "point": found.point,
        "unit": found.owner.unit, "owner": found.owner.levels, "reps": found.owner.reps,
        "address": found.address, "note": found.note,
    })))
}

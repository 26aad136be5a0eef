//! Lookups for field apps: point in territory (single and batch) and nearest reps.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Viewer;
use super::problem::ProblemResponse;
use super::query::Query;
use super::teams::{OneOrByTeam, Plans};
use super::{ApiError, AppState, blocking, is_json_array, read_batch_body, snapshot};
use crate::geom::check;
use crate::lookup::batch;
use crate::lookup::geocode::{Geocoded, MatchLevel, Understood};
use crate::lookup::{Owner, RepRef};
use crate::snapshot::Snapshot;
use crate::store::AddressPoint;

/// Query of `GET /api/lookup`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PointQuery {
    /// Alignment name (or give `team`).
    pub alignment: Option<String>,
    /// Answer from this team's active alignment, or every team's with `all` (instead of `alignment`).
    pub team: Option<String>,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Outside every unit: snap to the nearest unit within this many km.
    pub snap_km: Option<f64>,
}

/// Body of `GET /api/lookup`: the owner, or `found: false` with a reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointOwner {
    /// The team whose active alignment answered (asked with `team=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Alignment name.
    pub alignment: String,
    /// Revision answered from.
    pub revision: i64,
    /// Longitude asked.
    pub lon: f64,
    /// Latitude asked.
    pub lat: f64,
    /// Whether the point is in (or snapped to) a unit that can have an owner (not a
    /// placeholder unit such as `99999`).
    pub found: bool,
    /// The unit containing the point (found, or the placeholder unit it is in).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Code per level name of the owning chain (found only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<BTreeMap<String, String>>,
    /// Reps of the owning leaf territory (found only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reps: Option<Vec<RepRef>>,
    /// Distance to the unit in km when snapped, else null (found only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub distance_km: Option<Option<f64>>,
    /// Why nothing was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// A placeholder unit (no owner), or a point in one snapped to the nearest real unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn owner_json(s: &Snapshot, lon: f64, lat: f64, owner: Option<Owner>) -> PointOwner {
    let found = owner.as_ref().is_some_and(|o| !o.is_placeholder());
    let (unit, levels, reps, distance_km, note) = match owner {
        Some(o) => (
            Some(o.unit),
            Some(o.levels),
            Some(o.reps),
            Some(o.distance_km),
            o.note,
        ),
        None => (None, None, None, None, None),
    };
    let reason = match (found, &unit) {
        (true, _) => None,
        (false, Some(_)) => Some("the point is in a placeholder unit, which no territory owns"),
        (false, None) => Some("the point is in no unit of the dataset"),
    };
    PointOwner {
        team: None,
        alignment: s.alignment.clone(),
        revision: s.revision,
        lon,
        lat,
        found,
        unit,
        owner: levels,
        reps,
        distance_km,
        reason,
        note,
    }
}

/// Who owns a point: unit, territory chain, reps and the revision. A point on a shared border belongs to the unit with the smallest id. With `team`, the owner in each team's active alignment.
#[utoipa::path(get, path = "/api/lookup", operation_id = "lookup", tag = "lookup", params(PointQuery),
    responses((status = 200, description = "Owner (found=false when the point is in no unit); per team with `team`",
            body = OneOrByTeam<PointOwner>),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/lookup")]
pub async fn point(
    _: Viewer,
    state: web::Data<AppState>,
    query: Query<PointQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    check(q.lon, q.lat).map_err(|e| ApiError::bad("lon/lat", e))?;
    if let Some(k) = q.snap_km
        && !(k.is_finite() && k >= 0.0)
    {
        return Err(ApiError::bad("snap_km", format!("{k} is not a distance in km")));
    }
    let plans = Plans::from_query(q.alignment, q.team)?;
    let mut answers = Vec::new();
    for (team, s) in plans.snapshots(&state).await? {
        let owner = s
            .lookup(q.lon, q.lat, q.snap_km)
            .map_err(|e| ApiError::bad("lon/lat", e))?;
        answers.push(PointOwner {
            team,
            ..owner_json(&s, q.lon, q.lat, owner)
        });
    }
    Ok(plans.answer(answers))
}

/// Query of `POST /api/lookup`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// Alignment name.
    pub alignment: String,
}

/// Batch lookup: CSV (id,lon,lat) or a JSON array of {id, lon, lat}; up to 1,000,000 points, answered in input order in the same format; bad rows are reported by row number.
#[utoipa::path(post, path = "/api/lookup", operation_id = "lookupBatch", tag = "lookup", params(BatchQuery),
    request_body(description = "Points", content(
        (String = "text/csv", example = "id,lon,lat\na,-73.9857,40.7484\n"),
        (Vec<BatchPoint> = "application/json"))),
    responses((status = 200, description = "Owners, one per input row, in order", content(
            (String = "text/csv"), (Vec<Object> = "application/json"))),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[post("/api/lookup")]
pub async fn points(
    _: Viewer,
    state: web::Data<AppState>,
    request: HttpRequest,
    query: Query<BatchQuery>,
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

/// One point of a JSON batch lookup.
#[derive(Debug, ToSchema)]
pub struct BatchPoint {
    /// Row id (string or number), echoed back.
    #[schema(value_type = Object)]
    pub id: Option<String>,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
}

/// Query of `GET /api/reps/nearest`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
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

/// A rep near a point.
#[derive(Debug, Serialize, ToSchema)]
pub struct NearbyRep {
    /// Rep id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Great-circle distance in km.
    pub distance_km: f64,
    /// Home longitude.
    pub lon: f64,
    /// Home latitude.
    pub lat: f64,
    /// Leaf territories the rep serves.
    pub territories: Vec<String>,
}

/// Body of `GET /api/reps/nearest`.
#[derive(Debug, Serialize, ToSchema)]
pub struct NearestReps {
    /// Alignment name.
    pub alignment: String,
    /// Revision answered from.
    pub revision: i64,
    /// Nearest first.
    pub reps: Vec<NearbyRep>,
}

/// The k nearest reps by great-circle distance, with their territories.
#[utoipa::path(get, path = "/api/reps/nearest", operation_id = "nearestReps", tag = "lookup",
    params(NearestQuery),
    responses((status = 200, description = "Reps", body = NearestReps),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/reps/nearest")]
pub async fn nearest_reps(
    _: Viewer,
    state: web::Data<AppState>,
    query: Query<NearestQuery>,
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
    let territories_of = |rep: &str| -> Vec<&String> {
        s.state.territories[0]
            .iter()
            .filter(|(_, t)| t.reps.contains(rep))
            .map(|(c, _)| c)
            .collect()
    };
    let near = s.rep_index.nearest_where(q.lon, q.lat, k, q.max_km, |rep| {
        same.as_ref().is_none_or(|t| territories_of(rep).contains(&t))
    });
    let reps: Vec<NearbyRep> = near
        .iter()
        .map(|r| {
            let rep = s.state.reps.get(&r.id);
            NearbyRep {
                id: r.id.clone(),
                name: rep.map(|x| x.name.clone()),
                email: rep.and_then(|x| x.email.clone()),
                distance_km: r.distance_km,
                lon: r.lon,
                lat: r.lat,
                territories: territories_of(&r.id).into_iter().cloned().collect(),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(NearestReps {
        alignment: s.alignment.clone(),
        revision: s.revision,
        reps,
    }))
}

/// Query of `GET /api/geocode`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GeocodeQuery {
    /// Alignment name (or give `team`).
    pub alignment: Option<String>,
    /// Answer from this team's active alignment, or every team's with `all` (instead of `alignment`).
    pub team: Option<String>,
    /// Free-text address.
    pub q: String,
    /// Postal code format: us (default), uk, ca, de.
    pub country: Option<String>,
}

/// Body of `GET /api/geocode`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeocodeAnswer {
    /// The team whose active alignment answered (asked with `team=`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Alignment name.
    pub alignment: String,
    /// Revision answered from.
    pub revision: i64,
    /// The address asked.
    pub query: String,
    /// How it matched.
    #[serde(rename = "match")]
    pub level: MatchLevel,
    /// What was understood of the text.
    pub understood: Understood,
    /// The point used: [lon, lat].
    pub point: [f64; 2],
    /// The unit of that point.
    pub unit: String,
    /// Code per level name of the owning chain.
    pub owner: BTreeMap<String, String>,
    /// Reps of the owning leaf territory.
    pub reps: Vec<RepRef>,
    /// The address point matched (address level only).
    pub address: Option<AddressPoint>,
    /// What was approximated (street spelling, nearest house number).
    pub note: Option<String>,
}

/// Owner of a free-text address by a ladder: an address point (house number and street, when the dataset has address points; misspelt streets match by trigrams and edit distance, a missing number takes the nearest on the street with a note), else the postal code in it (ZIP5, ZIP+4; UK, Canadian, German formats with `country`), else city and state; answers the match level (address, postal_code, city), the point used and the address point matched, or 404 with what was understood.
#[utoipa::path(get, path = "/api/geocode", operation_id = "geocode", tag = "lookup", params(GeocodeQuery),
    responses((status = 200, description = "Match; per team with `team`", body = OneOrByTeam<GeocodeAnswer>),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/geocode")]
pub async fn geocode(
    _: Viewer,
    state: web::Data<AppState>,
    query: Query<GeocodeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    if q.q.trim().is_empty() {
        return Err(ApiError::bad("q", "empty address"));
    }
    let country = super::geocode_batch::country(q.country.as_deref())?;
    let plans = Plans::from_query(q.alignment, q.team)?;
    let mut answers = Vec::new();
    // Geocoded once per dataset: another plan on the same units only owns the match.
    let mut geocoded: Vec<(Arc<Snapshot>, Geocoded)> = Vec::new();
    for (team, s) in plans.snapshots(&state).await? {
        let known = geocoded
            .iter()
            .find(|(other, _)| Arc::ptr_eq(&other.dataset, &s.dataset));
        let found = match known {
            Some((_, found)) => found.owned_by(&s),
            None => {
                let store = state.store.clone();
                let text = q.q.clone();
                let snap = s.clone();
                let found = blocking(move || snap.geocode_with(&store, &text, country)).await?;
                geocoded.push((s.clone(), found.clone()));
                found
            }
        };
        answers.push(GeocodeAnswer {
            team,
            alignment: s.alignment.clone(),
            revision: s.revision,
            query: q.q.clone(),
            level: found.level,
            understood: found.understood,
            point: found.point,
            unit: found.owner.unit,
            owner: found.owner.levels,
            reps: found.owner.reps,
            address: found.address,
            note: found.note,
        });
    }
    Ok(plans.answer(answers))
}

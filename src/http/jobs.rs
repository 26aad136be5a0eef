//! Auto-build and rebalance over HTTP, as background jobs ([`crate::engine::jobs`]):
//! `POST /api/alignments/{a}/build` and `/rebalance` check their parameters at once
//! (400/404/409 before any work), queue the job and answer 202 with its status and
//! `Location`; `GET /api/jobs/{id}` tells its progress and, once done, its result;
//! `DELETE /api/jobs/{id}` cancels it (or forgets a finished one). A build writes a new alignment; a rebalance
//! commits nothing: its result is a change set for review, accepted by posting it to
//! `/api/alignments/{a}/changes`.

use std::collections::BTreeMap;

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Editor, Viewer};
use super::body::AlignmentPath;
use super::guard::SameOrigin;
use super::json_body::JsonBody;
use super::problem::{Problem, ProblemResponse, align_problem};
use super::{ApiError, AppState, blocking};
use crate::align::RepRecord;
use crate::build::{Params, RebalanceParams};
use crate::engine::jobs::{JobKind, JobState, JobStatus};
use crate::engine::{BuildRequest, MaxMoved, RebalanceRequest, Within};

/// Body of `POST /api/alignments/{alignment}/build`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"dataset": "nyc", "territories": 8, "balance": "population"}))]
pub struct BuildBody {
    /// Dataset of units.
    pub dataset: String,
    /// Number of territories (k).
    #[schema(minimum = 1)]
    pub territories: usize,
    /// Metrics to balance: `population`, or a weighted mix `population:0.6,households:0.4`.
    pub balance: String,
    /// Allowed relative deviation from the mean (default 0.02 = 2%).
    pub tolerance: Option<f64>,
    /// Seed of the random choices (default 1): the same seed gives the same territories.
    pub seed: Option<u64>,
    /// Independent restarts (default 2); the best is kept.
    #[schema(minimum = 1, maximum = 8)]
    pub restarts: Option<usize>,
    /// Reps to build for, by id (each with `lon`, `lat`): each gets one territory, the one
    /// holding its home or nearest it. At most `territories`.
    #[schema(value_type = Option<Object>, example = json!({"R1": {"name": "Ann", "lon": -73.99, "lat": 40.75}}))]
    pub seeds: Option<BTreeMap<String, RepRecord>>,
    /// Grow each rep's territory from the unit holding its home and keep it there.
    pub keep_homes: Option<bool>,
    /// Group the territories into this many districts (whole territories, balanced,
    /// contiguous).
    #[schema(minimum = 1)]
    pub districts: Option<usize>,
    /// Group the districts into this many regions (needs `districts`).
    #[schema(minimum = 1)]
    pub regions: Option<usize>,
    /// Build inside the groups of this level (`district`, `region`) of alignment `from`,
    /// which the new alignment keeps with the levels above.
    pub within: Option<String>,
    /// The alignment whose groups `within` keeps (same dataset).
    pub from: Option<String>,
}

/// Body of `POST /api/alignments/{alignment}/rebalance`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"balance": "population", "tolerance": 0.05, "max_moved": "10%"}))]
pub struct RebalanceBody {
    /// Metrics to balance: `population`, or a weighted mix `population:0.6,households:0.4`;
    /// unit metrics or the alignment's account metrics (`potential`; `accounts`: their count).
    pub balance: String,
    /// Allowed relative deviation from the mean (default 0.02 = 2%).
    pub tolerance: Option<f64>,
    /// Most units moved: a number (`250`) or a percentage of the alignment's units
    /// (`"10%"`; default 10%).
    #[schema(value_type = String, example = "10%")]
    pub max_moved: Option<serde_json::Value>,
    /// Seed of the random order of moves (default 1).
    pub seed: Option<u64>,
}

/// A job: where it is, and its result or error once finished.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobBody {
    /// Job id.
    pub id: u64,
    /// `build` or `rebalance`.
    pub kind: JobKind,
    /// The alignment it builds or rebalances.
    pub alignment: String,
    /// `queued`, `running`, `succeeded`, `failed` or `cancelled`.
    pub state: JobState,
    /// The step it is in (`grow`, `balance`, `polish`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// Fraction done, 0 to 1.
    pub progress: f64,
    /// Largest relative deviation from the balance target so far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_deviation: Option<f64>,
    /// Whether a cancel was asked for (a running job stops at its next step).
    pub cancel_requested: bool,
    /// When it was submitted (RFC 3339).
    pub submitted_at: String,
    /// When it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// A build's outcome (the alignment and its quality report) or a rebalance's
    /// proposal (`changes`, `expected_revision`, quality before and after, transfers).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed, as the problem the request would have been answered with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Problem>,
    /// This job's address.
    pub href: String,
}

impl From<JobStatus> for JobBody {
    fn from(job: JobStatus) -> JobBody {
        JobBody {
            href: format!("/api/jobs/{}", job.id),
            id: job.id,
            kind: job.kind,
            alignment: job.alignment,
            state: job.state,
            phase: job.phase,
            progress: job.progress,
            max_deviation: job.max_deviation,
            cancel_requested: job.cancel_requested,
            submitted_at: job.submitted_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
            result: job.result,
            error: job.error.as_deref().map(align_problem),
        }
    }
}

/// Body of `GET /api/jobs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    /// Jobs known (queued, running, and the latest finished), newest first.
    pub jobs: Vec<JobBody>,
}

/// Path of `/api/jobs/{id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct JobPath {
    /// Job id.
    pub id: u64,
}

/// A job's result as the JSON its status carries.
fn job_result(result: &impl Serialize) -> Result<serde_json::Value, crate::engine::AlignError> {
    serde_json::to_value(result).map_err(|e| {
        crate::engine::AlignError::Invalid(format!("the job's result could not be written as JSON: {e}"))
    })
}

fn accepted(job: JobStatus) -> HttpResponse {
    let body = JobBody::from(job);
    HttpResponse::Accepted()
        .insert_header((LOCATION, body.href.clone()))
        .json(body)
}

/// Build a new alignment of k balanced, contiguous, compact territories, as a job.
#[utoipa::path(post, path = "/api/alignments/{alignment}/build", operation_id = "buildAlignment",
    tag = "jobs", params(AlignmentPath), request_body = BuildBody,
    responses((status = 202, description = "Queued; poll the job at Location", body = JobBody),
        (status = 400, response = ProblemResponse), (status = 403, response = ProblemResponse),
        (status = 404, response = ProblemResponse), (status = 409, response = ProblemResponse),
        (status = 503, response = ProblemResponse)))]
#[post("/api/alignments/{alignment}/build")]
pub async fn build(
    _: Editor,
    _: SameOrigin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<BuildBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let defaults = Params::default();
    let request = BuildRequest {
        alignment: path.into_inner(),
        dataset: body.dataset,
        balance: body.balance,
        params: Params {
            territories: body.territories,
            tolerance: body.tolerance.unwrap_or(defaults.tolerance),
            seed: body.seed.unwrap_or(defaults.seed),
            restarts: body.restarts.unwrap_or(defaults.restarts),
            ..defaults
        },
        seeds: body.seeds.unwrap_or_default(),
        keep_homes: body.keep_homes.unwrap_or(false),
        districts: body.districts,
        regions: body.regions,
        within: match (body.within, body.from) {
            (Some(level), Some(alignment)) => Some(Within { alignment, level }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(ApiError::bad("from", "the alignment whose groups `within` keeps"));
            }
            (None, Some(_)) => return Err(ApiError::bad("within", "the level of `from` to build inside")),
        },
    };
    if !(1..=8).contains(&request.params.restarts) {
        return Err(ApiError::bad("restarts", "from 1 to 8"));
    }
    let (engine, jobs) = (state.engine.clone(), state.jobs.clone());
    let job = blocking(move || {
        engine.check_build(&request)?;
        let alignment = request.alignment.clone();
        let id = jobs.submit(
            JobKind::Build,
            &alignment,
            Box::new(move |job| {
                let outcome = engine.build(&request, &|p| job.progress(p.phase, p.done, p.max_deviation))?;
                job_result(&outcome)
            }),
        )?;
        Ok::<_, ApiError>(jobs.status(id)?)
    })
    .await?;
    Ok(accepted(job))
}

/// Propose a rebalance of an alignment, as a job: its result is a change set for
/// review (nothing is committed), with the quality before and after and the transfers.
#[utoipa::path(post, path = "/api/alignments/{alignment}/rebalance", operation_id = "rebalanceAlignment",
    tag = "jobs", params(AlignmentPath), request_body = RebalanceBody,
    responses((status = 202, description = "Queued; poll the job at Location", body = JobBody),
        (status = 400, response = ProblemResponse), (status = 403, response = ProblemResponse),
        (status = 404, response = ProblemResponse), (status = 503, response = ProblemResponse)))]
#[post("/api/alignments/{alignment}/rebalance")]
pub async fn rebalance(
    _: Editor,
    _: SameOrigin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<RebalanceBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let max_moved = match &body.max_moved {
        None => MaxMoved::Fraction(0.1),
        Some(serde_json::Value::String(text)) => {
            MaxMoved::parse(text).map_err(|e| ApiError::bad("max_moved", e))?
        }
        Some(serde_json::Value::Number(n)) => match n.as_u64() {
            Some(units) => MaxMoved::Units(units as usize),
            None => {
                return Err(ApiError::bad(
                    "max_moved",
                    "a whole number of units or a percentage (\"10%\")",
                ));
            }
        },
        Some(_) => {
            return Err(ApiError::bad(
                "max_moved",
                "a whole number of units or a percentage (\"10%\")",
            ));
        }
    };
    let defaults = RebalanceParams::default();
    let request = RebalanceRequest {
        alignment: path.into_inner(),
        balance: body.balance,
        max_moved,
        params: RebalanceParams {
            tolerance: body.tolerance.unwrap_or(defaults.tolerance),
            seed: body.seed.unwrap_or(defaults.seed),
            ..defaults
        },
    };
    let (engine, jobs) = (state.engine.clone(), state.jobs.clone());
    let job = blocking(move || {
        engine.check_rebalance(&request)?;
        let alignment = request.alignment.clone();
        let id = jobs.submit(
            JobKind::Rebalance,
            &alignment,
            Box::new(move |job| {
                let proposal =
                    engine.rebalance(&request, &|p| job.progress(p.phase, p.done, p.max_deviation))?;
                job_result(&proposal)
            }),
        )?;
        Ok::<_, ApiError>(jobs.status(id)?)
    })
    .await?;
    Ok(accepted(job))
}

/// Jobs: queued, running and the latest finished, newest first.
#[utoipa::path(get, path = "/api/jobs", operation_id = "listJobs", tag = "jobs",
    responses((status = 200, description = "The jobs", body = JobList)))]
#[get("/api/jobs")]
pub async fn list(_: Viewer, state: web::Data<AppState>) -> HttpResponse {
    let jobs = state.jobs.list().into_iter().map(JobBody::from).collect();
    HttpResponse::Ok().json(JobList { jobs })
}

/// A job's progress, and its result or error once finished.
#[utoipa::path(get, path = "/api/jobs/{id}", operation_id = "getJob", tag = "jobs", params(JobPath),
    responses((status = 200, description = "The job", body = JobBody),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/jobs/{id}")]
pub async fn show(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<JobPath>,
) -> Result<HttpResponse, ApiError> {
    let job = state.jobs.status(path.id)?;
    Ok(HttpResponse::Ok().json(JobBody::from(job)))
}

/// Cancel a job (a queued one at once, a running one at its next step), or forget a
/// finished one.
#[utoipa::path(delete, path = "/api/jobs/{id}", operation_id = "deleteJob", tag = "jobs", params(JobPath),
    responses((status = 200, description = "Cancelled, asked to stop, or forgotten", body = JobBody),
        (status = 400, response = ProblemResponse), (status = 403, response = ProblemResponse),
        (status = 404, response = ProblemResponse)))]
#[delete("/api/jobs/{id}")]
pub async fn delete(
    _: Editor,
    _: SameOrigin,
    state: web::Data<AppState>,
    path: web::Path<JobPath>,
) -> Result<HttpResponse, ApiError> {
    let job = state.jobs.delete(path.id)?;
    Ok(HttpResponse::Ok().json(JobBody::from(job)))
}

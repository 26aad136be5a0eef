//! An alignment's sheet over HTTP (`unit_id,territory,district,region,rep`, the CSV
//! planners keep): read it, and create or replace an alignment from one. A
//! replacement is one change set (in the history, undone like any other).

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::alignments::{ChangeOutcome, outcome_body};
use super::auth::{Editor, Viewer};
use super::body::AlignmentPath;
use super::guard::SameOrigin;
use super::problem::ProblemResponse;
use super::query::Query;
use super::{ApiError, AppState, blocking, read_batch_body};
use crate::align::sheet::{SheetColumns, SheetReport};
use crate::align::state::DEFAULT_LEVELS;
use crate::store::StoreError;

/// An alignment's sheet: one row per explicitly assigned unit with its territory, the
/// territory's parents and reps.
#[utoipa::path(get, path = "/api/alignments/{alignment}/sheet", operation_id = "getSheet",
    tag = "alignments", params(AlignmentPath),
    responses((status = 200, description = "The sheet (CSV)", content_type = "text/csv", body = String),
        (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}/sheet")]
pub async fn show(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let engine = state.engine.clone();
    let name = alignment.clone();
    let csv = blocking(move || {
        let mut out = Vec::new();
        engine.export_sheet(&name, &mut out).map(|()| out)
    })
    .await?;
    Ok(csv_attachment(&alignment, csv))
}

/// A CSV download named `{name}.csv`.
pub(super) fn csv_attachment(name: &str, csv: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}.csv\"", name.replace(['"', ';'], "_")),
        ))
        .body(csv)
}

/// The body of a request that must be `text/csv` (400 naming the Content-Type otherwise).
async fn read_csv_body(
    req: &HttpRequest,
    payload: web::Payload,
    what: &str,
) -> Result<web::BytesMut, ApiError> {
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if !content_type.is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/csv")) {
        return Err(ApiError::bad(
            "Content-Type",
            format!(
                "{}: expected text/csv (send the header `Content-Type: text/csv`)",
                content_type.unwrap_or("none")
            ),
        ));
    }
    read_batch_body(req, payload, what).await
}

/// An alignment's rules sheet: one row per rule territory, first first
/// (`rule,priority,territory,district,region,condition`).
#[utoipa::path(get, path = "/api/alignments/{alignment}/rules", operation_id = "getRules",
    tag = "alignments", params(AlignmentPath),
    responses((status = 200, description = "The rules sheet (CSV)", content_type = "text/csv", body = String),
        (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}/rules")]
pub async fn show_rules(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let engine = state.engine.clone();
    let name = alignment.clone();
    let csv = blocking(move || {
        let mut out = Vec::new();
        engine.export_rules(&name, &mut out).map(|()| out)
    })
    .await?;
    Ok(csv_attachment(&format!("{alignment}-rules"), csv))
}

/// Query of `PUT /api/alignments/{alignment}/rules`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PutRulesQuery {
    /// The revision the rules sheet is based on (409 when stale).
    pub expected_revision: i64,
    /// Who (ignored when the request has a token: its name is the author).
    pub author: Option<String>,
}

/// Make an alignment's rules say what a rules sheet says, as one change set based on
/// `expected_revision` (undone with `undo`): rules the sheet lacks are deleted, the
/// others created or changed, territories it names that do not exist are created with
/// the parents it gives. Refused whole, naming every bad line (a condition over a field
/// no account has: 422).
#[utoipa::path(put, path = "/api/alignments/{alignment}/rules", operation_id = "putRules",
    tag = "alignments", params(AlignmentPath, PutRulesQuery),
    request_body(description = "The rules sheet", content(
        (String = "text/csv", example = "rule,priority,territory,condition\nhc,1,ENT-HC-1,vertical = 'Healthcare'\n"))),
    responses((status = 200, description = "Replaced", body = ChangeOutcome),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse),
        (status = 403, response = ProblemResponse), (status = 409, response = ProblemResponse),
        (status = 422, response = ProblemResponse)))]
#[put("/api/alignments/{alignment}/rules")]
pub async fn put_rules(
    Editor(caller): Editor,
    _: SameOrigin,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: Query<PutRulesQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let q = query.into_inner();
    let body = read_csv_body(
        &req,
        payload,
        "a CSV rules sheet (rule,priority,territory,...,condition)",
    )
    .await?;
    let author = caller.author(q.author.as_deref().unwrap_or("")).to_owned();
    let engine = state.engine.clone();
    let outcome =
        blocking(move || engine.replace_rules(&alignment, q.expected_revision, &body[..], &author)).await?;
    state.metrics.change(&outcome.timings);
    Ok(HttpResponse::Ok().json(outcome_body(&outcome)))
}

/// Query of `PUT /api/alignments/{alignment}/sheet`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PutSheetQuery {
    /// The revision the sheet is based on: required to replace an existing alignment
    /// (409 when stale), refused when creating one.
    pub expected_revision: Option<i64>,
    /// Dataset of units: required to create the alignment; when replacing, it must be
    /// the alignment's.
    pub dataset: Option<String>,
    /// Level names, leaf first, comma-separated (creating only; default
    /// territory,district,region). They are also the sheet's column names.
    pub levels: Option<String>,
    /// Column holding the unit id (default `unit_id`).
    pub unit_column: Option<String>,
    /// Who (ignored when the request has a token: its name is the author).
    pub author: Option<String>,
}

/// Body of `PUT /api/alignments/{alignment}/sheet`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetOutcome {
    /// Alignment name.
    pub alignment: String,
    /// Its revision now.
    pub revision: i64,
    /// Data rows read.
    pub rows: usize,
    /// Units the sheet assigns.
    pub assigned: usize,
    /// Polygon units the sheet does not mention (unassigned now).
    pub unassigned: Vec<String>,
    /// The change set committed when an existing alignment was replaced (absent when
    /// the alignment was created; `revision` equal to `previous_revision` when the
    /// sheet said what the alignment said).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeOutcome>,
}

/// Create an alignment from a sheet (201), or make an existing one say what the sheet
/// says as one change set based on `expected_revision` (200; undone with `undo`).
/// Territory names, locks, rep records and accounts are kept; so are the levels and
/// reps a sheet has no column for. The sheet is refused whole, naming every bad line.
#[utoipa::path(put, path = "/api/alignments/{alignment}/sheet", operation_id = "putSheet",
    tag = "alignments", params(AlignmentPath, PutSheetQuery),
    request_body(description = "The sheet", content(
        (String = "text/csv", example = "unit_id,territory,district,region,rep\n10001,T1,D1,R1,r1\n"))),
    responses((status = 200, description = "Replaced", body = SheetOutcome),
        (status = 201, description = "Created", body = SheetOutcome),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse),
        (status = 403, response = ProblemResponse), (status = 409, response = ProblemResponse),
        (status = 422, response = ProblemResponse)))]
#[put("/api/alignments/{alignment}/sheet")]
pub async fn put(
    Editor(caller): Editor,
    _: SameOrigin,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: Query<PutSheetQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let q = query.into_inner();
    let body = read_csv_body(&req, payload, "a CSV sheet (unit_id,territory,...)").await?;
    let author = caller.author(q.author.as_deref().unwrap_or("")).to_owned();
    let engine = state.engine.clone();
    let (status, outcome, timings) = blocking(move || -> Result<_, ApiError> {
        let unit_column = q.unit_column.unwrap_or_else(|| "unit_id".into());
        match engine.snapshot(&alignment) {
            Ok(current) => {
                let Some(expected_revision) = q.expected_revision else {
                    return Err(ApiError::bad(
                        "expected_revision",
                        format!(
                            "required to replace alignment '{alignment}' (now at revision {})",
                            current.revision
                        ),
                    ));
                };
                if let Some(d) = q.dataset.filter(|d| *d != current.dataset.name) {
                    return Err(ApiError::bad(
                        "dataset",
                        format!("'{d}': alignment '{alignment}' aligns '{}'", current.dataset.name),
                    ));
                }
                if q.levels.is_some() {
                    return Err(ApiError::bad(
                        "levels",
                        "only when creating: an existing alignment keeps its levels",
                    ));
                }
                let columns = SheetColumns {
                    unit: unit_column,
                    ..SheetColumns::for_levels(&current.state.levels)
                };
                let (outcome, report) =
                    engine.replace_sheet(&alignment, expected_revision, Some(columns), &body[..], &author)?;
                let change = outcome_body(&outcome);
                let body = SheetOutcome::new(&alignment, change.revision, report, Some(change));
                Ok((StatusCode::OK, body, Some(outcome.timings)))
            }
            Err(StoreError::AlignmentNotFound(_)) if q.expected_revision.is_none() => {
                let dataset = q.dataset.ok_or_else(|| {
                    ApiError::bad(
                        "dataset",
                        format!("required to create alignment '{alignment}' from the sheet"),
                    )
                })?;
                let levels: Vec<String> = match q.levels {
                    Some(l) => l.split(',').map(|s| s.trim().to_owned()).collect(),
                    None => DEFAULT_LEVELS.map(String::from).to_vec(),
                };
                let columns = SheetColumns {
                    unit: unit_column,
                    ..SheetColumns::for_levels(&levels)
                };
                let (info, report) =
                    engine.import_sheet(&alignment, &dataset, Some(levels), Some(columns), &body[..])?;
                let body = SheetOutcome::new(&alignment, info.revision, report, None);
                Ok((StatusCode::CREATED, body, None))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    if let Some(timings) = &timings {
        state.metrics.change(timings);
    }
    Ok(HttpResponse::build(status).json(outcome))
}

impl SheetOutcome {
    fn new(
        alignment: &str,
        revision: i64,
        report: SheetReport,
        change: Option<ChangeOutcome>,
    ) -> SheetOutcome {
        SheetOutcome {
            alignment: alignment.to_owned(),
            revision,
            rows: report.rows,
            assigned: report.assigned,
            unassigned: report.unassigned,
            change,
        }
    }
}

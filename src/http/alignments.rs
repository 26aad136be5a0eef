//! Alignments: list, create, inspect levels and metrics, change sets, history,
//! undo and diff.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use geozero::ToJson;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::{Editor, Viewer};
use super::body::{AlignmentPath, Feature, LevelPath};
use super::guard::SameOrigin;
use super::idempotency::{IdempotencyHeader, IdempotencyKey, json, respond};
use super::json_body::JsonBody;
use super::problem::ProblemResponse;
use super::query::Query;
use super::{ApiError, AppState, blocking, snapshot};
use crate::align::metrics::{MetricSummary, TerritoryMetrics, deviation, summarise};
use crate::align::{Op, plural};
use crate::engine::{Applied, Keyed};
use crate::snapshot::{Snapshot, UnitDifference};
use crate::store::{AlignmentInfo, ChangeRecord};
use crate::topo::DissolveMethod;

/// Body of `GET /api/alignments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlignmentList {
    /// Every alignment.
    pub alignments: Vec<AlignmentInfo>,
}

/// List alignments.
#[utoipa::path(get, path = "/api/alignments", operation_id = "listAlignments", tag = "alignments",
    responses((status = 200, description = "All alignments", body = AlignmentList),
        (status = 500, response = ProblemResponse)))]
#[get("/api/alignments")]
pub async fn list(_: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.engine.store().clone();
    let alignments = blocking(move || store.alignments()).await?;
    Ok(HttpResponse::Ok().json(AlignmentList { alignments }))
}

/// Body of `POST /api/alignments`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// New alignment name.
    pub name: String,
    /// Dataset to align (required unless `copy_of`).
    pub dataset: Option<String>,
    /// Level names, leaf first (default territory, district, region).
    #[schema(min_items = 1, max_items = 6)]
    pub levels: Option<Vec<String>>,
    /// Alignment to copy (a what-if scenario).
    pub copy_of: Option<String>,
}

/// Create an alignment, empty or as a copy (what-if scenario).
#[utoipa::path(post, path = "/api/alignments", operation_id = "createAlignment", tag = "alignments",
    request_body = CreateBody, params(IdempotencyHeader),
    responses((status = 201, description = "Created", body = AlignmentInfo),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse),
        (status = 403, response = ProblemResponse), (status = 409, response = ProblemResponse)))]
#[post("/api/alignments")]
pub async fn create(
    Editor(caller): Editor,
    _: SameOrigin,
    key: IdempotencyKey,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: JsonBody<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.name.trim().is_empty() {
        return Err(ApiError::bad("name", "is empty"));
    }
    let fingerprint = IdempotencyKey::fingerprint(&req, &body);
    let scope = caller.key_scope();
    let engine = state.engine.clone();
    let applied = blocking(move || {
        let render = |info: &AlignmentInfo| json(info);
        let keyed = key.0.as_deref().map(|key| Keyed {
            scope: &scope,
            key,
            fingerprint: &fingerprint,
            status: StatusCode::CREATED.as_u16(),
            render: &render,
        });
        engine.create_keyed(
            body.name.trim(),
            body.dataset.as_deref(),
            body.levels,
            body.copy_of.as_deref(),
            keyed.as_ref(),
        )
    })
    .await?;
    Ok(respond(applied, StatusCode::CREATED, json))
}

/// Body of `GET /api/alignments/{alignment}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlignmentOverview {
    /// Alignment name.
    pub name: String,
    /// Dataset it aligns.
    pub dataset: String,
    /// Current revision.
    pub revision: i64,
    /// Level names, leaf first.
    pub levels: Vec<String>,
    /// Territories per level name.
    pub counts: BTreeMap<String, usize>,
    /// Units of the dataset.
    pub units: usize,
    /// Units owned by a leaf territory.
    pub assigned_units: usize,
    /// Units owned by none.
    pub unassigned_units: usize,
    /// Reps.
    pub reps: usize,
    /// Accounts.
    pub accounts: usize,
    /// The team (sales force) whose plan it is, if any.
    pub team: Option<String>,
    /// Whether it is its team's active plan.
    pub active: bool,
}

/// One alignment: dataset, revision, levels, counts.
#[utoipa::path(get, path = "/api/alignments/{alignment}", operation_id = "getAlignment", tag = "alignments",
    params(AlignmentPath),
    responses((status = 200, description = "The alignment", body = AlignmentOverview),
        (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}")]
pub async fn show(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let s = snapshot(&state, path.into_inner()).await?;
    let store = state.engine.store().clone();
    let name = s.alignment.clone();
    let info = blocking(move || store.alignment(&name)).await?;
    let (units, assigned) = (s.dataset.units.len(), s.assigned_units());
    Ok(HttpResponse::Ok().json(AlignmentOverview {
        name: s.alignment.clone(),
        dataset: s.dataset.name.clone(),
        revision: s.revision,
        levels: s.state.levels.clone(),
        counts: s.territory_counts(),
        units,
        assigned_units: assigned,
        unassigned_units: units - assigned,
        reps: s.state.reps.len(),
        accounts: s.state.accounts.len(),
        team: info.team,
        active: info.active,
    }))
}

/// The level a collection name means: `territories` -> `territory`.
fn level_of(s: &Snapshot, collection: &str) -> Result<usize, ApiError> {
    s.state
        .levels
        .iter()
        .position(|l| plural(l).eq_ignore_ascii_case(collection) || l.eq_ignore_ascii_case(collection))
        .ok_or_else(|| {
            let known: Vec<String> = s.state.levels.iter().map(|l| plural(l)).collect();
            ApiError::NoRoute(format!(
                "/{collection} (levels of this alignment: {})",
                known.join(", ")
            ))
        })
}

/// How a territory's outline was dissolved.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Dissolve {
    /// From the shared-edge topology.
    Topology,
    /// By polygon union (the topology outline failed its checks).
    Fallback,
    /// Both failed their checks: no outline is served.
    Failed,
}

impl From<DissolveMethod> for Dissolve {
    fn from(method: DissolveMethod) -> Dissolve {
        match method {
            DissolveMethod::Topology => Dissolve::Topology,
            DissolveMethod::Fallback => Dissolve::Fallback,
            DissolveMethod::Failed => Dissolve::Failed,
        }
    }
}

/// A territory (district, region) with its metrics.
#[derive(Debug, Serialize, ToSchema)]
pub struct TerritoryItem {
    /// Code.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Parent code one level up.
    pub parent: Option<String>,
    /// Locked against edits.
    pub locked: bool,
    /// Rep ids (leaf territories only).
    pub reps: Vec<String>,
    /// The account rules giving it accounts (leaf territories only), by id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Metrics of the dissolved territory.
    pub metrics: TerritoryMetrics,
    /// How the outline was dissolved.
    pub dissolve: Dissolve,
    /// In a level listing: (value - level mean) / level mean per summarised metric
    /// (absent for a rule territory holding no unit: it is not in the level's balance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deviation: Option<BTreeMap<String, f64>>,
}

fn item(s: &Snapshot, level: usize, code: &str) -> Option<TerritoryItem> {
    let territory = s.state.territories[level].get(code)?;
    let shape = s.shapes[level].get(code)?;
    let reps: Vec<String> = if level == 0 {
        territory.reps.iter().cloned().collect()
    } else {
        Vec::new()
    };
    Some(TerritoryItem {
        code: code.to_owned(),
        name: territory.name.clone(),
        parent: territory.parent.clone(),
        locked: territory.locked,
        reps,
        rules: if level == 0 { s.rules_of(code) } else { Vec::new() },
        metrics: shape.metrics.clone(),
        dissolve: shape.method.into(),
        deviation: None,
    })
}

/// Body of `GET /api/alignments/{alignment}/{collection}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelItems {
    /// Alignment name.
    pub alignment: String,
    /// Revision answered from.
    pub revision: i64,
    /// Level name.
    pub level: String,
    /// Every territory of the level, with its deviation.
    pub items: Vec<TerritoryItem>,
    /// Per metric: mean, min, max, cv, max_abs_deviation over the level (its rule
    /// territories holding no unit left out).
    pub summary: BTreeMap<String, MetricSummary>,
}

/// Territories of a level with metrics, deviation from the level mean, and a summary per metric (mean, min, max, cv, max_abs_deviation).
#[utoipa::path(get, path = "/api/alignments/{alignment}/{collection}", operation_id = "listLevel",
    tag = "alignments", params(LevelPath),
    responses((status = 200, description = "Items and summary", body = LevelItems),
        (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}/{collection}")]
pub async fn level_items(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, collection) = path.into_inner();
    let s = snapshot(&state, alignment).await?;
    let level = level_of(&s, &collection)?;
    let balanced = |code: &str| level > 0 || !s.is_rule_only(code);
    let summary = summarise(
        &(s.shapes[level].iter())
            .filter(|(code, _)| balanced(code))
            .map(|(_, shape)| &shape.metrics)
            .collect::<Vec<_>>(),
    );
    let items: Vec<TerritoryItem> = (s.shapes[level].iter())
        .filter_map(|(code, shape)| {
            let mut item = item(&s, level, code)?;
            item.deviation = balanced(code).then(|| deviation(&shape.metrics, &summary));
            Some(item)
        })
        .collect();
    Ok(HttpResponse::Ok().json(LevelItems {
        alignment: s.alignment.clone(),
        revision: s.revision,
        level: s.state.levels[level].clone(),
        items,
        summary,
    }))
}

/// One territory (district, region) as a GeoJSON feature with its dissolved outline and metrics.
#[utoipa::path(get, path = "/api/alignments/{alignment}/{collection}/{code}", operation_id = "getTerritory",
    tag = "alignments",
    params(LevelPath, ("code" = String, Path, description = "Territory code", example = "T1000")),
    responses((status = 200, description = "Feature", body = Feature<TerritoryItem>,
            content_type = "application/geo+json"),
        (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}/{collection}/{code}")]
pub async fn feature(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, collection, code) = path.into_inner();
    let s = snapshot(&state, alignment).await?;
    let level = level_of(&s, &collection)?;
    let properties = item(&s, level, &code)
        .ok_or_else(|| ApiError::NotFound(format!("{} '{code}' not found", s.state.levels[level])))?;
    let geometry = s.shapes[level]
        .get(&code)
        .and_then(|shape| geo::Geometry::MultiPolygon(shape.geometry.clone()).to_json().ok());
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .json(Feature::new(code, properties, geometry)))
}

/// Body of `POST /api/alignments/{a}/changes`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// The revision the client's view is based on.
    pub expected_revision: i64,
    /// Operations, applied in order, all or nothing.
    pub changes: Vec<Op>,
    /// Who makes the change (ignored when the request has a token: its name is the author).
    #[serde(default)]
    pub author: String,
}

/// Body of a committed change set or undo.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOutcome {
    /// The alignment's new revision (the current one when the change set changed nothing).
    pub revision: i64,
    /// The revision the change set was applied to.
    pub previous_revision: i64,
    /// Codes whose shape or metrics changed, per level name.
    pub touched: BTreeMap<String, Vec<String>>,
    /// `[west, south, east, north]` of everything that changed on the map, or null.
    pub bbox: Option<[f64; 4]>,
    /// Level name -> code -> metrics of the touched territories (null: deleted).
    #[schema(value_type = BTreeMap<String, BTreeMap<String, TerritoryMetrics>>)]
    pub metrics: BTreeMap<String, BTreeMap<String, Option<TerritoryMetrics>>>,
}

/// The body of a committed change set.
pub(super) fn outcome_body(outcome: &crate::engine::ChangeOutcome) -> ChangeOutcome {
    let s = &outcome.snapshot;
    let change = &outcome.change;
    let mut metrics = BTreeMap::new();
    for (level_name, codes) in &change.touched {
        let Some(level) = s.level(level_name) else {
            continue;
        };
        let entries = codes
            .iter()
            .map(|code| {
                (
                    code.clone(),
                    s.shapes[level].get(code).map(|sh| sh.metrics.clone()),
                )
            })
            .collect();
        metrics.insert(level_name.clone(), entries);
    }
    ChangeOutcome {
        revision: change.revision,
        previous_revision: change.previous_revision,
        touched: change.touched.clone(),
        bbox: change.bbox,
        metrics,
    }
}

/// Apply a change set, all or nothing.
#[utoipa::path(post, path = "/api/alignments/{alignment}/changes", operation_id = "applyChanges",
    tag = "alignments", params(AlignmentPath, IdempotencyHeader), request_body = ChangeBody,
    responses((status = 200, description = "Committed", body = ChangeOutcome),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse),
        (status = 403, response = ProblemResponse), (status = 409, response = ProblemResponse), (status = 422, response = ProblemResponse)))]
#[post("/api/alignments/{alignment}/changes")]
pub async fn changes(
    Editor(caller): Editor,
    _: SameOrigin,
    key: IdempotencyKey,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<ChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let body = body.into_inner();
    let fingerprint = IdempotencyKey::fingerprint(&req, &body);
    let (scope, author) = (caller.key_scope(), caller.author(&body.author).to_owned());
    let engine = state.engine.clone();
    let applied = blocking(move || {
        let keyed = keyed_outcome(&scope, key.0.as_deref(), &fingerprint);
        engine.apply_keyed(
            &alignment,
            body.expected_revision,
            &body.changes,
            &author,
            keyed.as_ref(),
        )
    })
    .await?;
    if let Applied::Done(outcome) = &applied {
        state.metrics.change(&outcome.timings);
    }
    Ok(respond(applied, StatusCode::OK, render_outcome))
}

fn render_outcome(outcome: &crate::engine::ChangeOutcome) -> String {
    json(&outcome_body(outcome))
}

/// The [`Keyed`] of a change set or undo sent with `key`.
fn keyed_outcome<'a>(
    scope: &'a str,
    key: Option<&'a str>,
    fingerprint: &'a str,
) -> Option<Keyed<'a, crate::engine::ChangeOutcome>> {
    key.map(|key| Keyed {
        scope,
        key,
        fingerprint,
        status: StatusCode::OK.as_u16(),
        render: &render_outcome,
    })
}

/// Body of `GET /api/alignments/{alignment}/history`.
#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// Change sets, oldest first: the `limit` latest before `before`.
    pub changes: Vec<ChangeRecord>,
    /// `before` of the next (older) page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// Largest page of the change log.
pub const MAX_HISTORY_PAGE: usize = 1000;

/// Query of `GET /api/alignments/{alignment}/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Change sets per page, 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// Only change sets with a revision below this one (the `next_before` of the previous page).
    pub before: Option<i64>,
}

/// Change sets, oldest first, a page at a time (the latest first).
#[utoipa::path(get, path = "/api/alignments/{alignment}/history", operation_id = "history",
    tag = "alignments", params(AlignmentPath, HistoryQuery),
    responses((status = 200, description = "Change log", body = History),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}/history")]
pub async fn history(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    let store = state.engine.store().clone();
    let alignment = path.into_inner();
    let HistoryQuery { limit, before } = query.into_inner();
    let limit = limit.unwrap_or(100);
    if !(1..=MAX_HISTORY_PAGE).contains(&limit) {
        return Err(ApiError::bad(
            "limit",
            format!("{limit}: expected 1 to {MAX_HISTORY_PAGE}"),
        ));
    }
    let (page, more) = blocking(move || store.history_page(&alignment, before, limit)).await?;
    let next_before = more.then(|| page.first().map(|c| c.revision)).flatten();
    Ok(HttpResponse::Ok().json(History {
        changes: page,
        next_before,
    }))
}

/// Body of `POST /api/alignments/{a}/undo`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UndoBody {
    /// The revision the client's view is based on (409 when stale).
    pub expected_revision: i64,
    /// Revision to undo (default: the latest not yet undone).
    pub revision: Option<i64>,
    /// Undo even when later change sets changed the same units.
    #[serde(default)]
    pub force: bool,
    /// Who (ignored when the request has a token: its name is the author).
    #[serde(default)]
    pub author: String,
}

/// Undo the latest change set not yet undone (or `revision`) by appending its inverse.
/// The body is required: a request whose body cannot be read is a 400 and undoes
/// nothing; a stale `expected_revision`, a revision undone already, or one whose units
/// later change sets moved again (without `force`) is a 409.
#[utoipa::path(post, path = "/api/alignments/{alignment}/undo", operation_id = "undo",
    tag = "alignments", params(AlignmentPath, IdempotencyHeader), request_body(content = UndoBody),
    responses((status = 200, description = "Committed", body = ChangeOutcome),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse),
        (status = 403, response = ProblemResponse), (status = 409, response = ProblemResponse), (status = 422, response = ProblemResponse)))]
#[post("/api/alignments/{alignment}/undo")]
pub async fn undo(
    Editor(caller): Editor,
    _: SameOrigin,
    key: IdempotencyKey,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<UndoBody>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let body = body.into_inner();
    let fingerprint = IdempotencyKey::fingerprint(&req, &body);
    let (scope, author) = (caller.key_scope(), caller.author(&body.author).to_owned());
    let engine = state.engine.clone();
    let undo = crate::engine::Undo {
        expected_revision: body.expected_revision,
        revision: body.revision,
        force: body.force,
    };
    let applied = blocking(move || {
        let keyed = keyed_outcome(&scope, key.0.as_deref(), &fingerprint);
        engine.undo_keyed(&alignment, undo, &author, keyed.as_ref())
    })
    .await?;
    if let Applied::Done(outcome) = &applied {
        state.metrics.change(&outcome.timings);
    }
    Ok(respond(applied, StatusCode::OK, render_outcome))
}

/// Query of `DELETE /api/alignments/{alignment}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// The revision the client last saw: the alignment is deleted only if it is still
    /// at this revision (409 otherwise), so no one deletes edits they have not seen.
    pub expected_revision: i64,
}

/// Delete an alignment with its reps, accounts and change history. There is no undo:
/// `expected_revision` is required.
#[utoipa::path(delete, path = "/api/alignments/{alignment}", operation_id = "deleteAlignment",
    tag = "alignments", params(AlignmentPath, DeleteQuery),
    responses((status = 204, description = "Deleted"),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse),
        (status = 403, response = ProblemResponse), (status = 409, response = ProblemResponse)))]
#[delete("/api/alignments/{alignment}")]
pub async fn delete(
    _: Editor,
    _: SameOrigin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let expected = query.into_inner().expected_revision;
    let engine = state.engine.clone();
    blocking(move || engine.delete(&alignment, Some(expected))).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Query of the diff endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The other alignment.
    pub against: String,
}

/// Body of `GET /api/alignments/{alignment}/diff`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Diff {
    /// Alignment name.
    pub alignment: String,
    /// Its revision.
    pub revision: i64,
    /// The other alignment.
    pub against: String,
    /// Its revision.
    pub against_revision: i64,
    /// Units whose leaf territory differs.
    pub units: Vec<UnitDifference>,
}

/// Units whose owner differs from another alignment of the same dataset.
#[utoipa::path(get, path = "/api/alignments/{alignment}/diff", operation_id = "diff",
    tag = "alignments", params(AlignmentPath, DiffQuery),
    responses((status = 200, description = "Differences", body = Diff),
        (status = 400, response = ProblemResponse), (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}/diff")]
pub async fn diff(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: Query<DiffQuery>,
) -> Result<HttpResponse, ApiError> {
    let a = snapshot(&state, path.into_inner()).await?;
    let b = snapshot(&state, query.into_inner().against).await?;
    if a.dataset.name != b.dataset.name {
        return Err(ApiError::bad(
            "against",
            format!(
                "'{}' aligns dataset '{}', not '{}'",
                b.alignment, b.dataset.name, a.dataset.name
            ),
        ));
    }
    Ok(HttpResponse::Ok().json(Diff {
        alignment: a.alignment.clone(),
        revision: a.revision,
        against: b.alignment.clone(),
        against_revision: b.revision,
        units: a.differences(&b),
    }))
}

//! Alignments: list, create, inspect levels and metrics, change sets, history,
//! undo and diff.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use geozero::ToJson;
use serde::Deserialize;
use serde_json::{Value, json};

use super::guard::SameOrigin;
use super::{ApiError, AppState, blocking, snapshot};
use crate::align::metrics::summarise;
use crate::align::{Op, plural};
use crate::snapshot::Snapshot;

/// Lists alignments.
#[get("/api/alignments")]
pub async fn list(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.engine.store().clone();
    let alignments = blocking(move || store.alignments()).await?;
    Ok(HttpResponse::Ok().json(json!({ "alignments": alignments })))
}

/// Body of `POST /api/alignments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// New alignment name.
    pub name: String,
    /// Dataset to align (required unless `copy_of`).
    pub dataset: Option<String>,
    /// Level names, leaf first (default territory, district, region).
    pub levels: Option<Vec<String>>,
    /// Alignment to copy (a what-if scenario).
    pub copy_of: Option<String>,
}

/// Creates an alignment, empty or as a copy.
#[post("/api/alignments")]
pub async fn create(
    _: SameOrigin,
    state: web::Data<AppState>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.name.trim().is_empty() {
        return Err(ApiError::bad("name", "is empty"));
    }
    let engine = state.engine.clone();
    let info = blocking(move || {
        engine.create(
            body.name.trim(),
            body.dataset.as_deref(),
            body.levels,
            body.copy_of.as_deref(),
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(info))
}

/// One alignment: dataset, revision, levels and counts.
#[get("/api/alignments/{alignment}")]
pub async fn show(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let s = snapshot(&state, path.into_inner()).await?;
    let units = &s.dataset.units;
    let assigned = (0..units.len() as u32)
        .filter(|&i| s.state.owner(units, i).is_some())
        .count();
    let counts: BTreeMap<&str, usize> = s
        .state
        .levels
        .iter()
        .zip(&s.state.territories)
        .map(|(name, t)| (name.as_str(), t.len()))
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "name": s.alignment,
        "dataset": s.dataset.name,
        "revision": s.revision,
        "levels": s.state.levels,
        "counts": counts,
        "units": units.len(),
        "assigned_units": assigned,
        "unassigned_units": units.len() - assigned,
        "reps": s.state.reps.len(),
        "accounts": s.state.accounts.len(),
    })))
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

fn item(s: &Snapshot, level: usize, code: &str) -> Option<Value> {
    let territory = s.state.territories[level].get(code)?;
    let shape = s.shapes[level].get(code)?;
    let reps: Vec<&String> = if level == 0 {
        territory.reps.iter().collect()
    } else {
        Vec::new()
    };
    Some(json!({
        "code": code,
        "name": territory.name,
        "parent": territory.parent,
        "locked": territory.locked,
        "reps": reps,
        "metrics": shape.metrics,
        "dissolve": if shape.fallback { "fallback" } else { "topology" },
    }))
}

/// Every territory of a level with metrics, deviation from the level mean and a summary.
#[get("/api/alignments/{alignment}/{collection}")]
pub async fn level_items(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, collection) = path.into_inner();
    let s = snapshot(&state, alignment).await?;
    let level = level_of(&s, &collection)?;
    let shapes: Vec<(&String, &std::sync::Arc<crate::snapshot::Shape>)> = s.shapes[level].iter().collect();
    let summary = summarise(&shapes.iter().map(|(_, sh)| &sh.metrics).collect::<Vec<_>>());
    let items: Vec<Value> = shapes
        .iter()
        .filter_map(|(code, shape)| {
            let mut value = item(&s, level, code)?;
            let deviation: BTreeMap<&String, f64> = summary
                .iter()
                .map(|(name, stats)| {
                    let v = shape.metrics.value(name).unwrap_or(0.0);
                    (
                        name,
                        if stats.mean != 0.0 {
                            (v - stats.mean) / stats.mean
                        } else {
                            0.0
                        },
                    )
                })
                .collect();
            value["deviation"] = json!(deviation);
            Some(value)
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "alignment": s.alignment,
        "revision": s.revision,
        "level": s.state.levels[level],
        "items": items,
        "summary": summary,
    })))
}

/// One territory (district, region) as a GeoJSON feature with its metrics.
#[get("/api/alignments/{alignment}/{collection}/{code}")]
pub async fn feature(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, collection, code) = path.into_inner();
    let s = snapshot(&state, alignment).await?;
    let level = level_of(&s, &collection)?;
    let properties = item(&s, level, &code)
        .ok_or_else(|| ApiError::NotFound(format!("{} '{code}' not found", s.state.levels[level])))?;
    let geometry: Value = s.shapes[level]
        .get(&code)
        .and_then(|shape| geo::Geometry::MultiPolygon(shape.geometry.clone()).to_json().ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null);
    Ok(HttpResponse::Ok()
        .content_type("application/geo+json")
        .json(json!({
            "type": "Feature",
            "id": code,
            "properties": properties,
            "geometry": geometry,
        })))
}

/// Body of `POST /api/alignments/{a}/changes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    /// The revision the client's view is based on.
    pub expected_revision: i64,
    /// Operations, applied in order, all or nothing.
    pub changes: Vec<Op>,
    /// Who makes the change.
    #[serde(default)]
    pub author: String,
}

fn outcome_body(outcome: &crate::engine::ChangeOutcome) -> Value {
    let s = &outcome.snapshot;
    let change = &outcome.change;
    let mut metrics = serde_json::Map::new();
    for (level_name, codes) in &change.touched {
        let Some(level) = s.level(level_name) else {
            continue;
        };
        let entries: serde_json::Map<String, Value> = codes
            .iter()
            .map(|code| {
                let value = s.shapes[level]
                    .get(code)
                    .map_or(Value::Null, |sh| json!(sh.metrics));
                (code.clone(), value)
            })
            .collect();
        metrics.insert(level_name.clone(), Value::Object(entries));
    }
    json!({
        "revision": change.revision,
        "previous_revision": change.previous_revision,
        "touched": change.touched,
        "bbox": change.bbox,
        "metrics": metrics,
    })
}

/// Applies a change set.
#[post("/api/alignments/{alignment}/changes")]
pub async fn changes(
    _: SameOrigin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let body = body.into_inner();
    let engine = state.engine.clone();
    let outcome =
        blocking(move || engine.apply(&alignment, body.expected_revision, &body.changes, &body.author))
            .await?;
    Ok(HttpResponse::Ok().json(outcome_body(&outcome)))
}

/// The change log.
#[get("/api/alignments/{alignment}/history")]
pub async fn history(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let store = state.engine.store().clone();
    let alignment = path.into_inner();
    let history = blocking(move || store.history(&alignment)).await?;
    Ok(HttpResponse::Ok().json(json!({ "changes": history })))
}

/// Body of `POST /api/alignments/{a}/undo`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UndoBody {
    /// The revision the client's view is based on (409 when stale).
    pub expected_revision: i64,
    /// Revision to undo (default: the latest not yet undone).
    pub revision: Option<i64>,
    /// Undo even when later change sets changed the same units.
    #[serde(default)]
    pub force: bool,
    /// Who.
    #[serde(default)]
    pub author: String,
}

/// Undoes a change set by appending its inverse. The body is required: a request whose
/// body cannot be read is a 400 and undoes nothing.
#[post("/api/alignments/{alignment}/undo")]
pub async fn undo(
    _: SameOrigin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<UndoBody>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let body = body.into_inner();
    let engine = state.engine.clone();
    let undo = crate::engine::Undo {
        expected_revision: body.expected_revision,
        revision: body.revision,
        force: body.force,
    };
    let outcome = blocking(move || engine.undo(&alignment, undo, &body.author)).await?;
    Ok(HttpResponse::Ok().json(outcome_body(&outcome)))
}

/// Query of the diff endpoint.
#[derive(Debug, Deserialize)]
pub struct DiffQuery {
    /// The other alignment.
    pub against: String,
}

/// Units whose owner differs between two alignments of the same dataset.
#[get("/api/alignments/{alignment}/diff")]
pub async fn diff(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DiffQuery>,
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
    let units = &a.dataset.units;
    let differences: Vec<Value> = (0..units.len() as u32)
        .filter_map(|i| {
            let (x, y) = (a.state.owner(units, i), b.state.owner(units, i));
            (x != y).then(|| json!({ "unit": units.get(i).id, "territory": x, "against": y }))
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({
        "alignment": a.alignment,
        "revision": a.revision,
        "against": b.alignment,
        "against_revision": b.revision,
        "units": differences,
    })))
}

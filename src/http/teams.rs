//! Teams (sales forces): `PATCH /api/alignments/{a}` puts an alignment in a team and
//! makes it the team's active plan; `GET /api/teams` lists them; and the `team=`
//! parameter of the lookups picks the active plans to answer from.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpResponse, get, patch, web};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::auth::{Admin, Viewer};
use super::body::AlignmentPath;
use super::guard::SameOrigin;
use super::json_body::JsonBody;
use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking, snapshot};
use crate::snapshot::Snapshot;
use crate::store::AlignmentInfo;

/// Which plans a lookup answers from: one alignment, or the active plans of a team
/// (every team's with `all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plans {
    /// The alignment of this name.
    Alignment(String),
    /// The active alignment of this team, or of every team (`all`).
    Team(String),
}

impl Plans {
    /// From a request's `alignment` and `team` parameters: exactly one is given.
    pub fn from_query(alignment: Option<String>, team: Option<String>) -> Result<Plans, ApiError> {
        match (alignment, team) {
            (Some(a), None) => Ok(Plans::Alignment(a)),
            (None, Some(t)) => Ok(Plans::Team(t)),
            (Some(_), Some(_)) => Err(ApiError::bad(
                "alignment/team",
                "give one: an alignment, or a team (`all` for every team's active alignment)",
            )),
            (None, None) => Err(ApiError::bad(
                "alignment",
                "missing: give an alignment, or a team (`all` for every team's active alignment)",
            )),
        }
    }

    /// The snapshots to answer from, each with its team (None for a named alignment).
    pub async fn snapshots(
        &self,
        state: &web::Data<AppState>,
    ) -> Result<Vec<(Option<String>, Arc<Snapshot>)>, ApiError> {
        let team = match self {
            Plans::Alignment(a) => return Ok(vec![(None, snapshot(state, a.clone()).await?)]),
            Plans::Team(t) => t.clone(),
        };
        let found = match state.engine.loaded_team_snapshots(&team) {
            Some(found) => found?,
            None => {
                let engine = state.engine.clone();
                blocking(move || engine.team_snapshots(&team)).await?
            }
        };
        Ok(found.into_iter().map(|(t, s)| (Some(t), s)).collect())
    }

    /// The answer for `answers` (one per snapshot of [`Plans::snapshots`]): the one
    /// answer of an alignment, or every team's under the team asked for.
    pub fn answer<T: Serialize>(&self, mut answers: Vec<T>) -> HttpResponse {
        match self {
            Plans::Alignment(_) => match answers.pop() {
                Some(one) => HttpResponse::Ok().json(one),
                None => HttpResponse::NoContent().finish(),
            },
            Plans::Team(team) => HttpResponse::Ok().json(ByTeam {
                team: team.clone(),
                answers,
            }),
        }
    }
}

/// A lookup asked with `team=`: the answer of each team's active alignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct ByTeam<T> {
    /// The team asked for (`all`: every team).
    pub team: String,
    /// One answer per team, by team name; each names its team and alignment.
    pub answers: Vec<T>,
}

/// Either answer of a lookup: from one alignment, or per team.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OneOrByTeam<T> {
    /// Asked with `alignment=`.
    One(T),
    /// Asked with `team=`.
    ByTeam(ByTeam<T>),
}

/// Body of `PATCH /api/alignments/{alignment}` (a JSON merge patch): what is given
/// replaces what was.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamPatch {
    /// The team (sales force) whose plan the alignment is; null: no team.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub team: Option<Option<String>>,
    /// Whether it is its team's active plan (the team's previously active one stops being it).
    pub active: Option<bool>,
}

/// A field given in a merge patch, null included (absent stays `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Put an alignment in a team (sales force) and make it the team's active plan, the one
/// `team=` lookups and lead routing answer from (admin role: it decides who is paid).
#[utoipa::path(patch, path = "/api/alignments/{alignment}", operation_id = "patchAlignment",
    tag = "alignments", params(AlignmentPath), request_body(content = TeamPatch,
        content_type = "application/merge-patch+json"),
    responses((status = 200, description = "The alignment", body = AlignmentInfo),
        (status = 400, response = ProblemResponse), (status = 403, response = ProblemResponse),
        (status = 404, response = ProblemResponse)))]
#[patch("/api/alignments/{alignment}")]
pub async fn patch(
    _: Admin,
    _: SameOrigin,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: JsonBody<TeamPatch>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    let patch = body.into_inner();
    let engine = state.engine.clone();
    let info = blocking(move || {
        let team = patch.team.as_ref().map(Option::as_deref);
        engine.set_team(&alignment, team, patch.active)
    })
    .await?;
    Ok(HttpResponse::Ok().json(info))
}

/// Body of `GET /api/teams`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamList {
    /// Every team, by name.
    pub teams: BTreeMap<String, Team>,
}

/// A team and its plans.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Team {
    /// Its active alignment (none yet: null).
    pub active: Option<String>,
    /// Every alignment of the team, by name.
    pub alignments: Vec<String>,
}

/// Teams (sales forces) with their active alignment and every alignment of each.
#[utoipa::path(get, path = "/api/teams", operation_id = "listTeams", tag = "alignments",
    responses((status = 200, description = "Teams", body = TeamList)))]
#[get("/api/teams")]
pub async fn list(_: Viewer, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.engine.store().clone();
    let alignments = blocking(move || store.alignments()).await?;
    let mut teams: BTreeMap<String, Team> = BTreeMap::new();
    for a in alignments {
        if let Some(name) = a.team {
            let team = teams.entry(name).or_default();
            if a.active {
                team.active = Some(a.name.clone());
            }
            team.alignments.push(a.name);
        }
    }
    Ok(HttpResponse::Ok().json(TeamList { teams }))
}

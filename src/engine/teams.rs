//! Teams (sales forces): several alignments may share a dataset, each the plan of one
//! team (`core`, `oncology-overlay`, `partners`), one of them the team's active plan.
//! Lookups and lead routing with `team=` answer from the active plans.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError};

use super::{AlignError, Engine, MAX_NAME_CHARS};
use crate::snapshot::Snapshot;
use crate::store::{AlignmentInfo, StoreError};

/// The team name that asks for every team.
pub const ALL_TEAMS: &str = "all";

/// Snapshots by team name.
pub type TeamSnapshots = Vec<(String, Arc<Snapshot>)>;

/// The snapshots a request answers from, each with the team it answers for (`None` for
/// an alignment asked for by name).
pub type PlanSnapshots = Vec<(Option<String>, Arc<Snapshot>)>;

impl Engine {
    /// Makes `alignment` the plan of `team` (`Some(None)`: of no team) and its team's
    /// active plan or not (the team's previously active alignment stops being it);
    /// what is not given stays as it is.
    pub fn set_team(
        &self,
        alignment: &str,
        team: Option<Option<&str>>,
        active: Option<bool>,
    ) -> Result<AlignmentInfo, AlignError> {
        let now = self.store().alignment(alignment)?;
        let team = team.unwrap_or(now.team.as_deref());
        let active = active.unwrap_or(now.active && team.is_some());
        if let Some(team) = team {
            check_team_name(team)?;
        } else if active {
            return Err(AlignError::Invalid(format!(
                "alignment '{alignment}': only an alignment in a team can be its active plan; give a team"
            )));
        }
        let info = self.store().set_team(alignment, team, active)?;
        self.forget_teams();
        Ok(info)
    }

    /// The snapshots `team` answers from, by team name: `all` is every team's active
    /// alignment, else the named team's. Reads the store when the teams are not cached
    /// or an alignment is not loaded yet.
    pub fn team_snapshots(&self, team: &str) -> Result<TeamSnapshots, AlignError> {
        let active = match self.cached_teams() {
            Some(active) => active,
            None => self.read_teams()?,
        };
        chosen(&active, team)?
            .into_iter()
            .map(|(team, alignment)| Ok((team, self.snapshot(&alignment)?)))
            .collect()
    }

    /// [`Engine::team_snapshots`] from memory alone: None when that would need the store
    /// (cheap enough for async handlers).
    pub fn loaded_team_snapshots(&self, team: &str) -> Option<Result<TeamSnapshots, AlignError>> {
        let active = self.cached_teams()?;
        let chosen = match chosen(&active, team) {
            Ok(chosen) => chosen,
            Err(e) => return Some(Err(e)),
        };
        chosen
            .into_iter()
            .map(|(team, alignment)| Some((team, self.loaded_snapshot(&alignment)?)))
            .collect::<Option<TeamSnapshots>>()
            .map(Ok)
    }

    fn cached_teams(&self) -> Option<Arc<BTreeMap<String, String>>> {
        self.teams
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .active
            .clone()
    }

    /// Reads each team's active alignment from the store and caches it, unless teams
    /// changed while it read (the newer state is read next time).
    pub(super) fn read_teams(&self) -> Result<Arc<BTreeMap<String, String>>, StoreError> {
        let changes = self.teams.read().unwrap_or_else(PoisonError::into_inner).changes;
        let active = Arc::new(self.store().active_alignments()?);
        let mut cache = self.teams.write().unwrap_or_else(PoisonError::into_inner);
        if cache.changes == changes {
            cache.active = Some(active.clone());
        }
        Ok(active)
    }

    /// Drops the cached teams after a change to them.
    pub(super) fn forget_teams(&self) {
        let mut cache = self.teams.write().unwrap_or_else(PoisonError::into_inner);
        cache.changes += 1;
        cache.active = None;
    }
}

/// Each team's active alignment as last read from the store (None: read it again), and
/// how many times teams changed in this process, so that a read begun before a change
/// is not cached after it.
#[derive(Debug, Default)]
pub(super) struct TeamCache {
    changes: u64,
    active: Option<Arc<BTreeMap<String, String>>>,
}

/// The (team, alignment) pairs `team` names among the active ones.
fn chosen(active: &BTreeMap<String, String>, team: &str) -> Result<Vec<(String, String)>, AlignError> {
    let chosen: Vec<(String, String)> = active
        .iter()
        .filter(|(t, _)| team == ALL_TEAMS || t.as_str() == team)
        .map(|(t, a)| (t.clone(), a.clone()))
        .collect();
    if chosen.is_empty() {
        return Err(StoreError::NoActiveAlignment {
            team: team.to_owned(),
            teams: active.keys().cloned().collect(),
        }
        .into());
    }
    Ok(chosen)
}

/// A team name: 1 to [`MAX_NAME_CHARS`] characters, no control characters, not padded,
/// and not `all` (which asks for every team).
fn check_team_name(team: &str) -> Result<(), AlignError> {
    let refuse = |why: &str| Err(AlignError::Invalid(format!("team name {team:?}: {why}")));
    if team.trim().is_empty() {
        return refuse("is empty");
    }
    if team.trim() != team {
        return refuse("starts or ends with white space");
    }
    if team.chars().count() > MAX_NAME_CHARS {
        return refuse(&format!("longer than {MAX_NAME_CHARS} characters"));
    }
    if team.chars().any(char::is_control) {
        return refuse("holds a control character");
    }
    if team == ALL_TEAMS {
        return refuse("'all' asks for every team in lookups; choose another name");
    }
    Ok(())
}

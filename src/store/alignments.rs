//! Alignments: their territories, assignments, locks, reps, accounts and the
//! append-only change log. The in-memory [`AlignmentState`] is the model; this
//! file persists the difference between two states in one transaction.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;

use super::Store;
use super::tokens::{IdempotentAnswer, store_answer};
use crate::align::state::Account;
use crate::align::{AccountRecord, AlignmentState, Op, RepRecord, Rule, Territory, UnitIndex};
use crate::store::StoreError;

/// An alignment as listed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Alignment)]
pub struct AlignmentInfo {
    /// Alignment name.
    pub name: String,
    /// Dataset of units it aligns.
    pub dataset: String,
    /// Current revision (number of change sets applied).
    pub revision: i64,
    /// Level names, leaf first.
    pub levels: Vec<String>,
    /// When it was created (UTC, ISO 8601).
    pub created_at: String,
    /// The team (sales force) whose plan it is, if any.
    pub team: Option<String>,
    /// Whether it is its team's active plan (the one `team=` lookups answer from).
    pub active: bool,
}

/// One entry of the change log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeRecord {
    /// Revision this change set produced.
    pub revision: i64,
    /// When (UTC, ISO 8601).
    pub created_at: String,
    /// Who.
    pub author: String,
    /// What, in words.
    pub summary: String,
    /// The operations.
    pub changes: Vec<Op>,
    /// Operations that undo it.
    #[serde(skip)]
    pub inverse: Vec<Op>,
    /// The revision this change set undid, if it is an undo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undoes: Option<i64>,
}

/// A change set to append to the log.
#[derive(Debug, Clone)]
pub struct NewChange<'a> {
    /// Who.
    pub author: &'a str,
    /// What, in words.
    pub summary: &'a str,
    /// The operations applied.
    pub changes: &'a [Op],
    /// Operations that undo them.
    pub inverse: &'a [Op],
    /// The revision this change set undoes, if it is an undo.
    pub undoes: Option<i64>,
}

impl Store {
    /// All alignments, by name.
    pub fn alignments(&self) -> Result<Vec<AlignmentInfo>, StoreError> {
        self.read(|conn| {
            let mut statement = conn
                .prepare(&format!("{ALIGNMENT_COLUMNS} ORDER BY a.name"))
                .map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([], info_from_row)
                .map_err(|e| self.sqlite_error(e))?;
            rows.map(|r| r.map_err(|e| self.sqlite_error(e))).collect()
        })
    }

    /// One alignment.
    pub fn alignment(&self, name: &str) -> Result<AlignmentInfo, StoreError> {
        self.read(|conn| {
            alignment_info(conn, name)
                .map_err(|e| self.sqlite_error(e))?
                .ok_or_else(|| not_found(name))
        })
    }

    /// Creates an alignment holding `state` at revision 0; with `answer`, stores the
    /// answer it makes of the new alignment in the same transaction (an idempotent request).
    pub fn create_alignment(
        &self,
        name: &str,
        dataset: &str,
        state: &AlignmentState,
        units: &UnitIndex,
        answer: Option<&dyn Fn(&AlignmentInfo) -> IdempotentAnswer>,
    ) -> Result<AlignmentInfo, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        if alignment_id(&tx, name)
            .map_err(|e| self.sqlite_error(e))?
            .is_some()
        {
            return Err(StoreError::AlignmentExists(name.to_owned()));
        }
        let count: usize = tx
            .query_row("SELECT count(*) FROM alignments", [], |r| r.get(0))
            .map_err(|e| self.sqlite_error(e))?;
        if count >= self.max_alignments() {
            return Err(StoreError::TooManyAlignments {
                limit: self.max_alignments(),
            });
        }
        let dataset_id: i64 = tx
            .query_row("SELECT id FROM datasets WHERE name = ?1", [dataset], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite_error(e))?
            .ok_or_else(|| StoreError::DatasetNotFound(dataset.to_owned()))?;
        let levels = serde_json::to_string(&state.levels).unwrap_or_else(|_| "[]".into());
        let write = |tx: &Transaction| -> rusqlite::Result<()> {
            tx.execute(
                "INSERT INTO alignments (name, dataset_id, levels) VALUES (?1, ?2, ?3)",
                params![name, dataset_id, levels],
            )?;
            let id = tx.last_insert_rowid();
            write_difference(tx, id, &state.emptied(), state, units)
        };
        write(&tx).map_err(|e| self.sqlite_error(e))?;
        let info = alignment_info(&tx, name)
            .map_err(|e| self.sqlite_error(e))?
            .ok_or_else(|| not_found(name))?;
        if let Some(answer) = answer {
            store_answer(&tx, &answer(&info)).map_err(|e| self.sqlite_error(e))?;
        }
        tx.commit().map_err(|e| self.sqlite_error(e))?;
        Ok(info)
    }

    /// Deletes an alignment with its territories, assignments, reps, accounts and change
    /// history, if it is still at `expected_revision` (when given): one transaction.
    pub fn delete_alignment(&self, name: &str, expected_revision: Option<i64>) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        let (id, _) = self.guarded(&tx, name, expected_revision)?;
        tx.execute("DELETE FROM alignments WHERE id = ?1", [id])
            .map_err(|e| self.sqlite_error(e))?;
        tx.commit().map_err(|e| self.sqlite_error(e))
    }

    /// Makes an alignment the plan of `team` (or of none), and its team's active plan
    /// when `active`: the team's previously active alignment stops being it, in the same
    /// transaction, so a team never has two.
    pub fn set_team(
        &self,
        name: &str,
        team: Option<&str>,
        active: bool,
    ) -> Result<AlignmentInfo, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        let write = |tx: &Transaction| -> rusqlite::Result<usize> {
            if active {
                tx.execute(
                    "UPDATE alignments SET active = 0 WHERE team = ?1 AND active = 1 AND name <> ?2",
                    params![team, name],
                )?;
            }
            tx.execute(
                "UPDATE alignments SET team = ?1, active = ?2 WHERE name = ?3",
                params![team, active && team.is_some(), name],
            )
        };
        if write(&tx).map_err(|e| self.sqlite_error(e))? == 0 {
            return Err(not_found(name));
        }
        let info = alignment_info(&tx, name)
            .map_err(|e| self.sqlite_error(e))?
            .ok_or_else(|| not_found(name))?;
        tx.commit().map_err(|e| self.sqlite_error(e))?;
        Ok(info)
    }

    /// The active alignment of each team, by team name.
    pub fn active_alignments(&self) -> Result<BTreeMap<String, String>, StoreError> {
        self.read(|conn| {
            let mut statement = conn
                .prepare_cached("SELECT team, name FROM alignments WHERE active = 1 AND team IS NOT NULL")
                .map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.sqlite_error(e))?;
            rows.map(|r| r.map_err(|e| self.sqlite_error(e))).collect()
        })
    }

    /// An alignment's row id and revision, read in the write transaction `tx`, refused
    /// when it is not at `expected_revision` (when given).
    fn guarded(
        &self,
        tx: &Transaction,
        name: &str,
        expected_revision: Option<i64>,
    ) -> Result<(i64, i64), StoreError> {
        let (id, current): (i64, i64) = tx
            .query_row(
                "SELECT id, revision FROM alignments WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.sqlite_error(e))?
            .ok_or_else(|| not_found(name))?;
        match expected_revision {
            Some(expected) if expected != current => Err(StoreError::StaleRevision {
                alignment: name.to_owned(),
                expected,
                current,
            }),
            _ => Ok((id, current)),
        }
    }

    /// Loads an alignment's state over its dataset's units.
    pub fn load_alignment(
        &self,
        name: &str,
        units: &UnitIndex,
    ) -> Result<(AlignmentInfo, AlignmentStamp, AlignmentState), StoreError> {
        self.read(|conn| {
            // One read transaction: the state, its revision and stamp agree.
            let tx = conn.unchecked_transaction().map_err(|e| self.sqlite_error(e))?;
            let info = alignment_info(&tx, name)
                .map_err(|e| self.sqlite_error(e))?
                .ok_or_else(|| not_found(name))?;
            let (_, stamp) = tx
                .query_row(&format!("{STAMP_COLUMNS} WHERE a.name = ?1"), [name], |r| {
                    self.stamp_from_row(r)
                })
                .map_err(|e| self.sqlite_error(e))?;
            let id = alignment_id(&tx, name)
                .map_err(|e| self.sqlite_error(e))?
                .ok_or_else(|| not_found(name))?;
            let mut state = load_state(&tx, id, &info.levels, units).map_err(|e| self.sqlite_error(e))?;
            // Rules were compiled when saved: one that no longer does (a store edited by
            // hand, or an older build's syntax) refuses the alignment rather than
            // silently giving its accounts to the next rule or to geography.
            for (code, territory, condition, priority) in
                load_rules(&tx, id).map_err(|e| self.sqlite_error(e))?
            {
                let rule = Rule::new(territory, condition, priority).map_err(|e| StoreError::Corrupt {
                    path: self.path.clone(),
                    what: format!("rule '{code}' of alignment '{name}'"),
                    reason: format!("its condition does not compile: {}", e.reason),
                })?;
                state.rules.insert(code, rule);
            }
            Ok((info, stamp, state))
        })
    }

    /// Appends a change set: checks `expected_revision`, writes what differs
    /// between `old` and `new`, bumps the revision, and stores `answer` (of a request
    /// sent with an `Idempotency-Key`) in the same transaction. Returns the new revision.
    #[allow(clippy::too_many_arguments)]
    pub fn commit_change(
        &self,
        name: &str,
        expected_revision: i64,
        old: &AlignmentState,
        new: &AlignmentState,
        units: &UnitIndex,
        change: &NewChange,
        answer: Option<&IdempotentAnswer>,
    ) -> Result<i64, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction().map_err(|e| self.sqlite_error(e))?;
        let (id, current) = self.guarded(&tx, name, Some(expected_revision))?;
        let revision = current + 1;
        let write = |tx: &Transaction| -> rusqlite::Result<()> {
            write_difference(tx, id, old, new, units)?;
            tx.execute(
                "UPDATE alignments SET revision = ?1 WHERE id = ?2",
                params![revision, id],
            )?;
            tx.execute(
                "INSERT INTO change_sets (alignment_id, revision, author, summary, changes, inverse, undoes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    revision,
                    change.author,
                    change.summary,
                    serde_json::to_string(change.changes).unwrap_or_default(),
                    serde_json::to_string(change.inverse).unwrap_or_default(),
                    change.undoes,
                ],
            )?;
            if let Some(answer) = answer {
                store_answer(tx, answer)?;
            }
            Ok(())
        };
        write(&tx).map_err(|e| self.sqlite_error(e))?;
        tx.commit().map_err(|e| self.sqlite_error(e))?;
        Ok(revision)
    }

    /// The change log, oldest first.
    pub fn history(&self, name: &str) -> Result<Vec<ChangeRecord>, StoreError> {
        self.changes(name, None)
    }

    /// A page of the change log: the `limit` latest change sets before revision `before`
    /// (all when `None`), oldest first, and whether older ones remain.
    pub fn history_page(
        &self,
        name: &str,
        before: Option<i64>,
        limit: usize,
    ) -> Result<(Vec<ChangeRecord>, bool), StoreError> {
        let below = before.unwrap_or(i64::MAX);
        let mut page: Vec<ChangeRecord> = self
            .changes(name, None)?
            .into_iter()
            .filter(|c| c.revision < below)
            .collect();
        let more = page.len() > limit;
        page.drain(..page.len().saturating_sub(limit));
        Ok((page, more))
    }

    /// One change set.
    pub fn change(&self, name: &str, revision: i64) -> Result<ChangeRecord, StoreError> {
        self.changes(name, Some(revision))?
            .pop()
            .ok_or_else(|| StoreError::ChangeNotFound {
                alignment: name.to_owned(),
                revision,
            })
    }

    fn changes(&self, name: &str, revision: Option<i64>) -> Result<Vec<ChangeRecord>, StoreError> {
        self.read(|conn| {
            let id = alignment_id(conn, name)
                .map_err(|e| self.sqlite_error(e))?
                .ok_or_else(|| not_found(name))?;
            let mut statement = conn
                .prepare(
                    "SELECT revision, created_at, author, summary, changes, inverse, undoes FROM change_sets
                     WHERE alignment_id = ?1 AND (?2 IS NULL OR revision = ?2) ORDER BY revision",
                )
                .map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map(params![id, revision], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                    ))
                })
                .map_err(|e| self.sqlite_error(e))?;
            let mut out = Vec::new();
            for row in rows {
                let (revision, created_at, author, summary, changes, inverse, undoes) =
                    row.map_err(|e| self.sqlite_error(e))?;
                let corrupt = |e: serde_json::Error| StoreError::Corrupt {
                    path: self.path.clone(),
                    what: format!("change set {revision} of '{name}'"),
                    reason: e.to_string(),
                };
                out.push(ChangeRecord {
                    revision,
                    created_at,
                    author,
                    summary,
                    changes: serde_json::from_str(&changes).map_err(corrupt)?,
                    inverse: serde_json::from_str(&inverse).map_err(corrupt)?,
                    undoes,
                });
            }
            Ok(out)
        })
    }
}

const ALIGNMENT_COLUMNS: &str = "SELECT a.name, d.name, a.revision, a.levels, a.created_at, a.team, a.active
     FROM alignments a JOIN datasets d ON d.id = a.dataset_id";

fn info_from_row(r: &rusqlite::Row) -> rusqlite::Result<AlignmentInfo> {
    let levels: String = r.get(3)?;
    Ok(AlignmentInfo {
        name: r.get(0)?,
        dataset: r.get(1)?,
        revision: r.get(2)?,
        levels: serde_json::from_str(&levels).unwrap_or_default(),
        created_at: r.get(4)?,
        team: r.get(5)?,
        active: r.get(6)?,
    })
}

fn alignment_info(conn: &Connection, name: &str) -> rusqlite::Result<Option<AlignmentInfo>> {
    conn.query_row(
        &format!("{ALIGNMENT_COLUMNS} WHERE a.name = ?1"),
        [name],
        info_from_row,
    )
    .optional()
}

fn alignment_id(conn: &Connection, name: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row("SELECT id FROM alignments WHERE name = ?1", [name], |r| r.get(0))
        .optional()
}

fn not_found(name: &str) -> StoreError {
    StoreError::AlignmentNotFound(name.to_owned())
}

fn load_state(
    conn: &Connection,
    id: i64,
    levels: &[String],
    units: &UnitIndex,
) -> rusqlite::Result<AlignmentState> {
    let mut state = AlignmentState::empty(levels.to_vec(), units.len());
    let mut statement = conn
        .prepare("SELECT level, code, name, parent_code, locked FROM territories WHERE alignment_id = ?1")?;
    let rows = statement.query_map([id], |r| {
        Ok((
            r.get::<_, usize>(0)?,
            r.get::<_, String>(1)?,
            Territory {
                name: r.get(2)?,
                parent: r.get(3)?,
                locked: r.get(4)?,
                reps: BTreeSet::new(),
            },
        ))
    })?;
    for row in rows {
        let (level, code, territory) = row?;
        if let Some(map) = state.territories.get_mut(level) {
            map.insert(code, territory);
        }
    }
    let mut statement =
        conn.prepare("SELECT rep_code, territory_code FROM rep_territories WHERE alignment_id = ?1")?;
    for row in statement.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (rep, territory) = row?;
        if let Some(t) = state.territories[0].get_mut(&territory) {
            t.reps.insert(rep);
        }
    }
    let mut interned: BTreeMap<String, Arc<str>> = BTreeMap::new();
    let mut statement =
        conn.prepare("SELECT unit_code, territory_code FROM assignments WHERE alignment_id = ?1")?;
    for row in statement.query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (unit, territory) = row?;
        if let Some(i) = units.resolve(&unit) {
            let shared = interned
                .entry(territory)
                .or_insert_with_key(|k| Arc::from(k.as_str()))
                .clone();
            state.assignment[i as usize] = Some(shared);
        }
    }
    let mut statement = conn.prepare("SELECT unit_code FROM unit_locks WHERE alignment_id = ?1")?;
    for row in statement.query_map([id], |r| r.get::<_, String>(0))? {
        if let Some(i) = units.resolve(&row?) {
            state.unit_locks.insert(i);
        }
    }
    let mut statement =
        conn.prepare("SELECT code, name, email, lon, lat FROM reps WHERE alignment_id = ?1")?;
    for row in statement.query_map([id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            RepRecord {
                name: r.get(1)?,
                email: r.get(2)?,
                lon: r.get(3)?,
                lat: r.get(4)?,
            },
        ))
    })? {
        let (code, rep) = row?;
        state.reps.insert(code, rep);
    }
    let mut statement = conn.prepare(
        "SELECT code, name, lon, lat, metrics, override_territory, attributes FROM accounts WHERE alignment_id = ?1",
    )?;
    for row in statement.query_map([id], |r| {
        let metrics: String = r.get(4)?;
        let attributes: String = r.get(6)?;
        Ok((
            r.get::<_, String>(0)?,
            Account {
                record: Arc::new(AccountRecord {
                    name: r.get(1)?,
                    lon: r.get(2)?,
                    lat: r.get(3)?,
                    metrics: serde_json::from_str(&metrics).unwrap_or_default(),
                    attributes: serde_json::from_str(&attributes).unwrap_or_default(),
                }),
                override_territory: r.get(5)?,
            },
        ))
    })? {
        let (code, account) = row?;
        Arc::make_mut(&mut state.accounts).insert(code, account);
    }
    Ok(state)
}

/// An alignment's rules as stored: (code, territory, condition, priority).
fn load_rules(conn: &Connection, id: i64) -> rusqlite::Result<Vec<(String, String, String, i64)>> {
    let mut statement =
        conn.prepare("SELECT code, territory, condition, priority FROM rules WHERE alignment_id = ?1")?;
    let rows = statement.query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    rows.collect()
}

/// Writes the rows that differ between `old` and `new`.
fn write_difference(
    tx: &Transaction,
    id: i64,
    old: &AlignmentState,
    new: &AlignmentState,
    units: &UnitIndex,
) -> rusqlite::Result<()> {
    for (level, (before, after)) in old.territories.iter().zip(&new.territories).enumerate() {
        let mut upsert = tx.prepare_cached(
            "INSERT OR REPLACE INTO territories (alignment_id, level, code, name, parent_code, locked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut delete = tx
            .prepare_cached("DELETE FROM territories WHERE alignment_id = ?1 AND level = ?2 AND code = ?3")?;
        let mut unlink =
            tx.prepare_cached("DELETE FROM rep_territories WHERE alignment_id = ?1 AND territory_code = ?2")?;
        let mut link = tx.prepare_cached(
            "INSERT INTO rep_territories (alignment_id, rep_code, territory_code) VALUES (?1, ?2, ?3)",
        )?;
        for (code, t) in after {
            let previous = before.get(code);
            if previous != Some(t) {
                upsert.execute(params![id, level, code, t.name, t.parent, t.locked])?;
            }
            if level == 0 && previous.map(|p| &p.reps) != Some(&t.reps) {
                unlink.execute(params![id, code])?;
                for rep in &t.reps {
                    link.execute(params![id, rep, code])?;
                }
            }
        }
        for code in before.keys().filter(|c| !after.contains_key(*c)) {
            delete.execute(params![id, level, code])?;
            if level == 0 {
                unlink.execute(params![id, code])?;
            }
        }
    }
    let mut assign = tx.prepare_cached(
        "INSERT OR REPLACE INTO assignments (alignment_id, unit_code, territory_code) VALUES (?1, ?2, ?3)",
    )?;
    let mut unassign =
        tx.prepare_cached("DELETE FROM assignments WHERE alignment_id = ?1 AND unit_code = ?2")?;
    for (i, (a, b)) in old.assignment.iter().zip(&new.assignment).enumerate() {
        if a != b {
            let unit = &units.get(i as u32).id;
            match b {
                Some(t) => assign.execute(params![id, unit, &**t])?,
                None => unassign.execute(params![id, unit])?,
            };
        }
    }
    let mut lock =
        tx.prepare_cached("INSERT OR IGNORE INTO unit_locks (alignment_id, unit_code) VALUES (?1, ?2)")?;
    let mut unlock =
        tx.prepare_cached("DELETE FROM unit_locks WHERE alignment_id = ?1 AND unit_code = ?2")?;
    for i in new.unit_locks.difference(&old.unit_locks) {
        lock.execute(params![id, units.get(*i).id])?;
    }
    for i in old.unit_locks.difference(&new.unit_locks) {
        unlock.execute(params![id, units.get(*i).id])?;
    }
    let mut upsert_rep = tx.prepare_cached(
        "INSERT OR REPLACE INTO reps (alignment_id, code, name, email, lon, lat) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut delete_rep = tx.prepare_cached("DELETE FROM reps WHERE alignment_id = ?1 AND code = ?2")?;
    for (code, rep) in &new.reps {
        if old.reps.get(code) != Some(rep) {
            upsert_rep.execute(params![id, code, rep.name, rep.email, rep.lon, rep.lat])?;
        }
    }
    for code in old.reps.keys().filter(|c| !new.reps.contains_key(*c)) {
        delete_rep.execute(params![id, code])?;
    }
    let mut upsert_account = tx.prepare_cached(
        "INSERT OR REPLACE INTO accounts (alignment_id, code, name, lon, lat, metrics, override_territory, attributes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut delete_account =
        tx.prepare_cached("DELETE FROM accounts WHERE alignment_id = ?1 AND code = ?2")?;
    // Shared (unchanged) accounts need no row compared.
    let changed_accounts = !Arc::ptr_eq(&old.accounts, &new.accounts);
    for (code, a) in new.accounts.iter().filter(|_| changed_accounts) {
        if old.accounts.get(code) != Some(a) {
            let metrics = serde_json::to_string(&a.record.metrics).unwrap_or_else(|_| "{}".into());
            let attributes = serde_json::to_string(&a.record.attributes).unwrap_or_else(|_| "{}".into());
            upsert_account.execute(params![
                id,
                code,
                a.record.name,
                a.record.lon,
                a.record.lat,
                metrics,
                a.override_territory,
                attributes
            ])?;
        }
    }
    for code in (old.accounts.keys()).filter(|c| changed_accounts && !new.accounts.contains_key(*c)) {
        delete_account.execute(params![id, code])?;
    }
    let mut upsert_rule = tx.prepare_cached(
        "INSERT OR REPLACE INTO rules (alignment_id, code, territory, condition, priority) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut delete_rule = tx.prepare_cached("DELETE FROM rules WHERE alignment_id = ?1 AND code = ?2")?;
    for (code, r) in &new.rules {
        if old.rules.get(code) != Some(r) {
            upsert_rule.execute(params![id, code, r.territory, r.condition, r.priority])?;
        }
    }
    for code in old.rules.keys().filter(|c| !new.rules.contains_key(*c)) {
        delete_rule.execute(params![id, code])?;
    }
    Ok(())
}

/// What identifies an alignment's stored state: which instance (store file, row and
/// creation time: an alignment deleted and created again under the same name is
/// another), its revision and its dataset's generation. A server compares these with
/// its snapshots to notice commits made by another process on the same store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlignmentStamp {
    /// The instance: a hash of the store path, the row id and the creation time.
    pub instance: u64,
    /// Current revision.
    pub revision: i64,
    /// Generation of its dataset's units.
    pub dataset_generation: i64,
}

impl Store {
    /// The stamp of one alignment.
    pub fn alignment_stamp(&self, name: &str) -> Result<AlignmentStamp, StoreError> {
        self.read(|conn| {
            conn.query_row(&format!("{STAMP_COLUMNS} WHERE a.name = ?1"), [name], |r| {
                self.stamp_from_row(r)
            })
            .optional()
            .map_err(|e| self.sqlite_error(e))?
            .map(|(_, stamp)| stamp)
            .ok_or_else(|| not_found(name))
        })
    }

    /// The stamps of every alignment, by name.
    pub fn alignment_stamps(&self) -> Result<BTreeMap<String, AlignmentStamp>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare(STAMP_COLUMNS).map_err(|e| self.sqlite_error(e))?;
            let rows = statement
                .query_map([], |r| self.stamp_from_row(r))
                .map_err(|e| self.sqlite_error(e))?;
            rows.map(|r| r.map_err(|e| self.sqlite_error(e))).collect()
        })
    }

    fn stamp_from_row(&self, r: &rusqlite::Row) -> rusqlite::Result<(String, AlignmentStamp)> {
        use sha2::Digest;
        let (id, created_at): (i64, String) = (r.get(1)?, r.get(4)?);
        let digest = sha2::Sha256::new()
            .chain_update(self.path.as_os_str().as_encoded_bytes())
            .chain_update([0])
            .chain_update(id.to_le_bytes())
            .chain_update(created_at.as_bytes())
            .finalize();
        let mut instance = [0u8; 8];
        instance.copy_from_slice(&digest[..8]);
        Ok((
            r.get(0)?,
            AlignmentStamp {
                instance: u64::from_le_bytes(instance),
                revision: r.get(2)?,
                dataset_generation: r.get(3)?,
            },
        ))
    }
}

const STAMP_COLUMNS: &str = "SELECT a.name, a.id, a.revision, d.generation, a.created_at
     FROM alignments a JOIN datasets d ON d.id = a.dataset_id";

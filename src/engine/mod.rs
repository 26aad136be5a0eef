//! The alignment engine: loads datasets and alignments into snapshots, applies
//! change sets (validate in memory, commit to SQLite, build the next snapshot,
//! swap it in atomically) and undoes them. One writer per alignment; readers
//! take the current `Arc<Snapshot>` without waiting.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::align::rule_sheet;
use crate::align::sheet::{self, SheetColumns, SheetReport};
use crate::align::state::DEFAULT_LEVELS;
use crate::align::{AlignmentState, Op, RepRecord, replace};
use crate::change::Change;
use crate::snapshot::{DatasetModel, Snapshot};
use crate::store::{
    AlignmentInfo, AlignmentStamp, ChangeRecord, IdempotentAnswer, NewChange, Store, StoreError,
};

mod build;
mod error;
pub mod jobs;
mod rebalance;
mod teams;
mod texts;

use texts::check_texts;

pub use build::{BuildOutcome, BuildRequest, SeedPlacement, UnitGraph, Within};
pub use error::AlignError;
pub use rebalance::{MaxMoved, RebalanceProposal, RebalanceRequest, Transfer};
pub use teams::{ALL_TEAMS, PlanSnapshots, TeamSnapshots};

struct Live {
    /// The writer lock; it guards the stamp of the stored state `snapshot` was built from.
    writer: Mutex<AlignmentStamp>,
    snapshot: ArcSwap<Snapshot>,
}

/// Called with the new snapshot and what changed after each committed change set (undo
/// and reloads from the store included), in commit order per alignment. The writer lock
/// is still held: a hook hands long work to a worker of its own.
pub type CommitHook = Arc<dyn Fn(&Arc<Snapshot>, &Change) + Send + Sync>;

/// Alignments in memory over the store.
///
/// The store is the one truth: before every change set the engine checks the stored
/// revision inside the alignment's writer lock and reloads when another process (the
/// CLI on the same store) committed; [`Engine::refresh`] does the same for every loaded
/// alignment, so a server notices such commits without a change of its own.
pub struct Engine {
    store: Arc<Store>,
    datasets: Mutex<HashMap<String, Arc<DatasetModel>>>,
    live: Mutex<HashMap<String, Arc<Live>>>,
    hooks: RwLock<Vec<CommitHook>>,
    /// Each team's active alignment, as last read from the store.
    teams: RwLock<teams::TeamCache>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({})", self.store.path().display())
    }
}

/// The outcome of a committed change set.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    /// What changed (revision, touched codes, extent).
    #[serde(flatten)]
    pub change: Change,
    /// The snapshot at the new revision.
    #[serde(skip)]
    pub snapshot: Arc<Snapshot>,
    /// How long building the next snapshot (dissolve) and the store commit took.
    #[serde(skip)]
    pub timings: Timings,
}

/// Where a change set's time went (zero for a change set that changed nothing).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Building the next snapshot: applying, dissolving, metrics.
    pub dissolve: std::time::Duration,
    /// The store's write transaction (fsync included).
    pub commit: std::time::Duration,
}

/// What to undo: the revision the caller's view is based on, the change set to undo
/// (default: the latest not undone), and whether to overwrite later changes of the
/// same units.
#[derive(Debug, Clone, Copy)]
pub struct Undo {
    /// The revision the caller's view is based on (409 when stale).
    pub expected_revision: i64,
    /// The change set to undo (default: the latest that is neither an undo nor undone).
    pub revision: Option<i64>,
    /// Undo even when later change sets changed the same units.
    pub force: bool,
}

/// A state-changing request sent with an `Idempotency-Key`, and how to answer it.
pub struct Keyed<'a, T> {
    /// Who sent it (the token id, empty without a token): keys of two clients never meet.
    pub scope: &'a str,
    /// The key.
    pub key: &'a str,
    /// What was asked, hashed: the same key asking something else is refused.
    pub fingerprint: &'a str,
    /// Status of the answer when the request succeeds.
    pub status: u16,
    /// The body of the answer of a success, stored with the change it made.
    pub render: &'a dyn Fn(&T) -> String,
}

impl<T> std::fmt::Debug for Keyed<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyed({:?}, {:?})", self.scope, self.key)
    }
}

impl<T> Keyed<'_, T> {
    fn answer(&self, outcome: &T) -> IdempotentAnswer {
        IdempotentAnswer {
            scope: self.scope.to_owned(),
            key: self.key.to_owned(),
            fingerprint: self.fingerprint.to_owned(),
            status: self.status,
            body: (self.render)(outcome),
        }
    }
}

/// What a request that may carry an `Idempotency-Key` got.
#[derive(Debug)]
pub enum Applied<T> {
    /// It was carried out now.
    Done(T),
    /// A request with the same key and the same content was carried out before: its answer.
    Replayed(IdempotentAnswer),
}

impl<T> Applied<T> {
    fn done(self) -> Result<T, AlignError> {
        match self {
            Applied::Done(outcome) => Ok(outcome),
            Applied::Replayed(answer) => Err(AlignError::KeyReused { key: answer.key }),
        }
    }
}

impl Engine {
    /// An engine over `store`; nothing is loaded until asked for.
    pub fn new(store: Arc<Store>) -> Engine {
        Engine {
            store,
            datasets: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            hooks: RwLock::new(Vec::new()),
            teams: RwLock::new(teams::TeamCache::default()),
        }
    }

    /// Registers `hook`, called after every committed change set (undo included) once
    /// the new snapshot is current, in commit order per alignment (the writer lock is
    /// still held, so a hook should hand long work to another thread).
    pub fn on_commit(&self, hook: CommitHook) {
        self.hooks
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(hook);
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// A dataset's model, loaded (topology built) on first use.
    pub fn dataset(&self, name: &str) -> Result<Arc<DatasetModel>, StoreError> {
        let mut datasets = self.datasets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(d) = datasets.get(name) {
            return Ok(d.clone());
        }
        let model = Arc::new(DatasetModel::load(&self.store, name)?);
        datasets.insert(name.to_owned(), model.clone());
        Ok(model)
    }

    fn live(&self, alignment: &str) -> Result<Arc<Live>, StoreError> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = live.get(alignment) {
            return Ok(l.clone());
        }
        let (stamp, snapshot) = self.load(alignment)?;
        let l = Arc::new(Live {
            writer: Mutex::new(stamp),
            snapshot: ArcSwap::from_pointee(snapshot),
        });
        live.insert(alignment.to_owned(), l.clone());
        Ok(l)
    }

    /// Builds an alignment's snapshot from the store, reloading its dataset when the
    /// store's generation of it is newer than the one in memory.
    fn load(&self, alignment: &str) -> Result<(AlignmentStamp, Snapshot), StoreError> {
        let info = self.store.alignment(alignment)?;
        let mut dataset = self.dataset(&info.dataset)?;
        if self.store.dataset_generation(&info.dataset)? != dataset.generation {
            self.datasets
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&info.dataset);
            dataset = self.dataset(&info.dataset)?;
        }
        let (info, stamp, state) = self.store.load_alignment(alignment, &dataset.units)?;
        Ok((
            stamp,
            Snapshot::build(alignment, stamp.instance, info.revision, dataset, state),
        ))
    }

    /// Brings one loaded alignment up to date with the store; the caller holds its
    /// writer lock (`stamp`). Returns whether it was reloaded.
    fn sync(&self, alignment: &str, live: &Live, stamp: &mut AlignmentStamp) -> Result<bool, StoreError> {
        let stored = match self.store.alignment_stamp(alignment) {
            Ok(s) => s,
            Err(StoreError::AlignmentNotFound(name)) => {
                self.forget(alignment, live);
                return Err(StoreError::AlignmentNotFound(name));
            }
            Err(e) => return Err(e),
        };
        if stored == *stamp {
            return Ok(false);
        }
        self.reload(alignment, live, stamp)?;
        Ok(true)
    }

    fn reload(&self, alignment: &str, live: &Live, stamp: &mut AlignmentStamp) -> Result<(), StoreError> {
        let before = live.snapshot.load_full();
        let (new_stamp, snapshot) = self.load(alignment)?;
        let snapshot = Arc::new(snapshot);
        let same_instance = before.instance == snapshot.instance;
        let change = Change::reloaded(same_instance.then_some(&*before), &snapshot);
        tracing::info!(
            alignment,
            from = before.revision,
            to = snapshot.revision,
            "reloaded: the store was changed by another process"
        );
        live.snapshot.store(snapshot.clone());
        *stamp = new_stamp;
        self.run_hooks(&snapshot, &change);
        Ok(())
    }

    /// Drops an alignment that is gone from the store.
    fn forget(&self, alignment: &str, live: &Live) {
        let mut map = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        if map.get(alignment).is_some_and(|l| std::ptr::eq(&**l, live)) {
            map.remove(alignment);
            tracing::info!(alignment, "dropped: the alignment is gone from the store");
        }
    }

    /// Reloads every loaded alignment whose stored state changed under another process
    /// (a commit, a re-ingested dataset) and drops those deleted from the store.
    /// Returns how many were reloaded or dropped. Cheap when nothing changed: one query.
    pub fn refresh(&self) -> Result<usize, StoreError> {
        let stamps = self.store.alignment_stamps()?;
        let loaded: Vec<(String, Arc<Live>)> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(name, l)| (name.clone(), l.clone()))
            .collect();
        self.read_teams()?;
        let mut refreshed = 0;
        for (name, live) in loaded {
            let mut stamp = live.writer.lock().unwrap_or_else(PoisonError::into_inner);
            // `stamps` was read before this lock: a commit of this process since then
            // moved the stamp on. Only a second read under the lock tells whether the
            // store changed under us (else every long commit would be reloaded after).
            if stamps.get(&name) != Some(&*stamp) {
                match self.sync(&name, &live, &mut stamp) {
                    Ok(true) | Err(StoreError::AlignmentNotFound(_)) => refreshed += 1,
                    Ok(false) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(refreshed)
    }

    /// Runs [`Engine::refresh`] every `period` on a thread of its own for as long as the
    /// engine lives: a server started beside CLI writers serves what they committed.
    pub fn watch_store(self: &Arc<Engine>, period: std::time::Duration) -> std::io::Result<()> {
        let weak = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("store-watch".into())
            .spawn(move || {
                while let Some(engine) = weak.upgrade() {
                    if let Err(e) = engine.refresh() {
                        tracing::warn!(error = %e, "store watch: refresh failed");
                    }
                    drop(engine);
                    std::thread::sleep(period);
                }
            })
            .map(drop)
    }

    /// The alignments in memory and the revision of each, by name.
    pub fn loaded(&self) -> Vec<(String, i64)> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<(String, i64)> = live
            .iter()
            .map(|(name, l)| (name.clone(), l.snapshot.load().revision))
            .collect();
        out.sort();
        out
    }

    /// The current snapshot of an alignment already in memory, without touching the
    /// store (None when it has not been loaded yet): cheap enough for async handlers.
    pub fn loaded_snapshot(&self, alignment: &str) -> Option<Arc<Snapshot>> {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        live.get(alignment).map(|l| l.snapshot.load_full())
    }

    /// The current snapshot of an alignment.
    pub fn snapshot(&self, alignment: &str) -> Result<Arc<Snapshot>, StoreError> {
        Ok(self.live(alignment)?.snapshot.load_full())
    }

    /// Creates an alignment over `dataset`: empty with the given levels, or a copy of another.
    pub fn create(
        &self,
        name: &str,
        dataset: Option<&str>,
        levels: Option<Vec<String>>,
        copy_of: Option<&str>,
    ) -> Result<AlignmentInfo, AlignError> {
        self.create_keyed(name, dataset, levels, copy_of, None)?.done()
    }

    /// [`Engine::create`]; with `keyed`, the answer of a request sent with that key
    /// before, or the new alignment with its answer stored in the same transaction.
    pub fn create_keyed(
        &self,
        name: &str,
        dataset: Option<&str>,
        levels: Option<Vec<String>>,
        copy_of: Option<&str>,
        keyed: Option<&Keyed<AlignmentInfo>>,
    ) -> Result<Applied<AlignmentInfo>, AlignError> {
        if let Some(answer) = self.replay(keyed)? {
            return Ok(Applied::Replayed(answer));
        }
        check_name(name)?;
        let (dataset, state) = match copy_of {
            Some(source) => {
                let snapshot = self.snapshot(source)?;
                if let Some(d) = dataset
                    && d != snapshot.dataset.name
                {
                    return Err(AlignError::Invalid(format!(
                        "'{source}' aligns dataset '{}', not '{d}'",
                        snapshot.dataset.name
                    )));
                }
                (snapshot.dataset.clone(), (*snapshot.state).clone())
            }
            None => {
                let dataset =
                    dataset.ok_or_else(|| AlignError::Invalid("a dataset or copy_of is required".into()))?;
                let model = self.dataset(dataset)?;
                let levels =
                    levels.unwrap_or_else(|| DEFAULT_LEVELS.iter().map(|s| (*s).to_owned()).collect());
                let state = AlignmentState::new(levels, model.units.len())
                    .map_err(|r| AlignError::Invalid(r.to_string()))?;
                (model, state)
            }
        };
        let answer = keyed.map(|k| move |info: &AlignmentInfo| k.answer(info));
        let answer = answer
            .as_ref()
            .map(|f| f as &dyn Fn(&AlignmentInfo) -> IdempotentAnswer);
        match self
            .store
            .create_alignment(name, &dataset.name, &state, &dataset.units, answer)
        {
            Ok(info) => Ok(Applied::Done(info)),
            // The same request twice at once: the first created it, the second answers
            // what the first did.
            Err(StoreError::AlignmentExists(e)) => match self.replay(keyed)? {
                Some(answer) => Ok(Applied::Replayed(answer)),
                None => Err(StoreError::AlignmentExists(e).into()),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// The stored answer of the request `keyed` repeats, if any (refused when it asked
    /// something else under the same key).
    fn replay<T>(&self, keyed: Option<&Keyed<T>>) -> Result<Option<IdempotentAnswer>, AlignError> {
        let Some(k) = keyed else {
            return Ok(None);
        };
        match self.store.idempotent_answer(k.scope, k.key)? {
            Some(answer) if answer.fingerprint == k.fingerprint => {
                tracing::info!(key = ?k.key, "repeated request: the stored answer");
                Ok(Some(answer))
            }
            Some(_) => Err(AlignError::KeyReused {
                key: k.key.to_owned(),
            }),
            None => Ok(None),
        }
    }

    /// Creates an alignment from a sheet (all or nothing).
    pub fn import_sheet(
        &self,
        name: &str,
        dataset: &str,
        levels: Option<Vec<String>>,
        columns: Option<SheetColumns>,
        reader: impl std::io::Read,
    ) -> Result<(AlignmentInfo, SheetReport), AlignError> {
        self.import_sheet_with_reps(name, dataset, levels, columns, reader, BTreeMap::new())
    }

    /// [`Engine::import_sheet`], with the records (name, e-mail, home) of reps the sheet
    /// names by id.
    pub(crate) fn import_sheet_with_reps(
        &self,
        name: &str,
        dataset: &str,
        levels: Option<Vec<String>>,
        columns: Option<SheetColumns>,
        reader: impl std::io::Read,
        reps: BTreeMap<String, RepRecord>,
    ) -> Result<(AlignmentInfo, SheetReport), AlignError> {
        check_name(name)?;
        let model = self.dataset(dataset)?;
        let levels = levels.unwrap_or_else(|| DEFAULT_LEVELS.iter().map(|s| (*s).to_owned()).collect());
        AlignmentState::new(levels.clone(), 0).map_err(|r| AlignError::Invalid(r.to_string()))?;
        let columns = columns.unwrap_or_else(|| SheetColumns::for_levels(&levels));
        let (mut state, report) = sheet::import(reader, &levels, &columns, &model.units)?;
        state.reps.extend(reps);
        let info = self
            .store
            .create_alignment(name, dataset, &state, &model.units, None)?;
        Ok((info, report))
    }

    /// Deletes an alignment (its history with it), if it is at `expected_revision` when
    /// given; it is no longer served, here or (within a refresh) by other processes.
    pub fn delete(&self, alignment: &str, expected_revision: Option<i64>) -> Result<(), AlignError> {
        let live = self.live(alignment)?;
        let stamp = live.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.store.delete_alignment(alignment, expected_revision)?;
        self.forget_teams();
        drop(stamp);
        self.forget(alignment, &live);
        Ok(())
    }

    /// Writes an alignment's sheet.
    pub fn export_sheet(&self, alignment: &str, out: impl std::io::Write) -> Result<(), AlignError> {
        let snapshot = self.snapshot(alignment)?;
        let columns = SheetColumns::for_levels(&snapshot.state.levels);
        sheet::export(&snapshot.state, &snapshot.dataset.units, &columns, out)
            .map_err(|e| AlignError::Invalid(format!("writing the sheet: {e}")))
    }

    /// Applies a change set based on `expected_revision`, all or nothing. A change set
    /// that leaves the alignment as it was (assigning a unit to its own territory)
    /// creates no revision: the outcome is the current revision with nothing touched.
    pub fn apply(
        &self,
        alignment: &str,
        expected_revision: i64,
        ops: &[Op],
        author: &str,
    ) -> Result<ChangeOutcome, AlignError> {
        self.apply_keyed(alignment, expected_revision, ops, author, None)?
            .done()
    }

    /// [`Engine::apply`]; with `keyed`, the answer of a request sent with that key
    /// before, or the change set committed with its answer in the same transaction.
    pub fn apply_keyed(
        &self,
        alignment: &str,
        expected_revision: i64,
        ops: &[Op],
        author: &str,
        keyed: Option<&Keyed<ChangeOutcome>>,
    ) -> Result<Applied<ChangeOutcome>, AlignError> {
        if ops.is_empty() {
            return Err(AlignError::Invalid(
                "a change set needs at least one operation".into(),
            ));
        }
        check_texts(ops)?;
        self.commit(alignment, expected_revision, author, keyed, |_| {
            Ok(Plan {
                ops: Cow::Borrowed(ops),
                undoes: None,
                summary: None,
            })
        })
    }

    /// Makes an alignment say what a sheet says, as one change set based on
    /// `expected_revision` (see [`replace::replacement`] for what is kept): in the
    /// history like any other, and undone like any other. A sheet that says what the
    /// alignment says creates no revision. The sheet is refused, changing nothing, when
    /// any row is.
    pub fn replace_sheet(
        &self,
        alignment: &str,
        expected_revision: i64,
        columns: Option<SheetColumns>,
        reader: impl std::io::Read,
        author: &str,
    ) -> Result<(ChangeOutcome, SheetReport), AlignError> {
        let base = self.snapshot(alignment)?;
        let levels = base.state.levels.clone();
        let columns = columns.unwrap_or_else(|| SheetColumns::for_levels(&levels));
        let (sheet, report) = sheet::import(reader, &levels, &columns, &base.dataset.units)?;
        let outcome = self
            .commit(alignment, expected_revision, author, None, |current| {
                if current.state.assignment.len() != sheet.assignment.len() {
                    return Err(AlignError::Invalid(format!(
                        "alignment '{alignment}' was recreated while the sheet was read; send it again"
                    )));
                }
                let ops = replace::replacement(&current.state, &sheet, &report, &current.dataset.units);
                check_texts(&ops)?;
                Ok(Plan {
                    summary: Some(replace::summary(&ops)),
                    ops: Cow::Owned(ops),
                    undoes: None,
                })
            })?
            .done()?;
        Ok((outcome, report))
    }

    /// Writes an alignment's rules sheet ([`rule_sheet::export`]).
    pub fn export_rules(&self, alignment: &str, out: impl std::io::Write) -> Result<(), AlignError> {
        let snapshot = self.snapshot(alignment)?;
        rule_sheet::export(&snapshot.state, out)
            .map_err(|e| AlignError::Invalid(format!("writing the rules sheet: {e}")))
    }

    /// Makes an alignment's rules say what a rules sheet says, as one change set based
    /// on `expected_revision` (see [`rule_sheet::RuleSheet::replacement`]). The sheet is
    /// refused, changing nothing, when any row is.
    pub fn replace_rules(
        &self,
        alignment: &str,
        expected_revision: i64,
        reader: impl std::io::Read,
        author: &str,
    ) -> Result<ChangeOutcome, AlignError> {
        let levels = self.snapshot(alignment)?.state.levels.clone();
        let sheet = rule_sheet::read(reader, &levels)?;
        self.commit(alignment, expected_revision, author, None, |current| {
            let ops = sheet.replacement(&current.state)?;
            check_texts(&ops)?;
            Ok(Plan {
                summary: Some(rule_sheet::summary(&ops)),
                ops: Cow::Owned(ops),
                undoes: None,
            })
        })?
        .done()
    }

    /// Undoes a change set by appending its inverse as a new change set, guarded like
    /// any change set by `expected_revision`. Undoing a revision twice is refused, and so
    /// is undoing one whose units later change sets changed again, unless `force`.
    pub fn undo(&self, alignment: &str, undo: Undo, author: &str) -> Result<ChangeOutcome, AlignError> {
        self.undo_keyed(alignment, undo, author, None)?.done()
    }

    /// [`Engine::undo`]; with `keyed`, the answer of a request sent with that key
    /// before, or the undo committed with its answer in the same transaction.
    pub fn undo_keyed(
        &self,
        alignment: &str,
        undo: Undo,
        author: &str,
        keyed: Option<&Keyed<ChangeOutcome>>,
    ) -> Result<Applied<ChangeOutcome>, AlignError> {
        self.commit(alignment, undo.expected_revision, author, keyed, |_| {
            let history = self.store.history(alignment)?;
            let undone_by = |revision: i64| history.iter().find(|u| u.undoes == Some(revision));
            let target = match undo.revision {
                Some(r) => history
                    .iter()
                    .find(|c| c.revision == r)
                    .ok_or(StoreError::ChangeNotFound {
                        alignment: alignment.to_owned(),
                        revision: r,
                    })?,
                None => history
                    .iter()
                    .rev()
                    .find(|c| c.undoes.is_none() && undone_by(c.revision).is_none())
                    .ok_or_else(|| AlignError::NothingToUndo(alignment.to_owned()))?,
            };
            if let Some(by) = undone_by(target.revision) {
                return Err(AlignError::AlreadyUndone {
                    alignment: alignment.to_owned(),
                    revision: target.revision,
                    by: by.revision,
                });
            }
            if !undo.force {
                check_undo_conflicts(alignment, target, &history)?;
            }
            Ok(Plan {
                ops: Cow::Owned(target.inverse.clone()),
                undoes: Some(target.revision),
                summary: Some(format!("undo of revision {}", target.revision)),
            })
        })
    }

    /// Under the alignment's writer lock: syncs with the store, answers a repeated
    /// `keyed` request from the store, checks the expected revision, asks `plan` for the
    /// [`Plan`] against the current snapshot, applies it in memory, builds the next
    /// snapshot, persists the difference (with the keyed answer), swaps the snapshot in
    /// and runs the hooks with the one [`Change`].
    fn commit<'p>(
        &self,
        alignment: &str,
        expected_revision: i64,
        author: &str,
        keyed: Option<&Keyed<ChangeOutcome>>,
        plan: impl FnOnce(&Snapshot) -> Result<Plan<'p>, AlignError>,
    ) -> Result<Applied<ChangeOutcome>, AlignError> {
        let live = self.live(alignment)?;
        let mut stamp = live.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.sync(alignment, &live, &mut stamp)?;
        if let Some(answer) = self.replay(keyed)? {
            return Ok(Applied::Replayed(answer));
        }
        let current = live.snapshot.load_full();
        if expected_revision != current.revision {
            return Err(StoreError::StaleRevision {
                alignment: alignment.to_owned(),
                expected: expected_revision,
                current: current.revision,
            }
            .into());
        }
        let Plan { ops, undoes, summary } = plan(&current)?;
        let units = &current.dataset.units;
        let (next, inverse) =
            current
                .state
                .apply_all(&ops, units)
                .map_err(|(index, reason)| AlignError::Rejected {
                    alignment: alignment.to_owned(),
                    index,
                    op: ops[index].summary(),
                    reason: Box::new(reason),
                })?;
        if next == *current.state {
            tracing::info!(
                alignment,
                revision = current.revision,
                "change set changes nothing: no revision"
            );
            let outcome = ChangeOutcome {
                change: Change::none(&current),
                snapshot: current,
                timings: Timings::default(),
            };
            if let Some(k) = keyed {
                self.store.store_idempotent_answer(&k.answer(&outcome))?;
            }
            return Ok(Applied::Done(outcome));
        }
        let summary = summary.unwrap_or_else(|| ops.iter().map(Op::summary).collect::<Vec<_>>().join("; "));
        let record = NewChange {
            author,
            summary: &summary,
            changes: &ops,
            inverse: &inverse,
            undoes,
        };
        // The next snapshot is built before the commit, so that a keyed answer is stored
        // with the change set; a commit that fails leaves it unused.
        let revision = current.revision + 1;
        let started = std::time::Instant::now();
        let (snapshot, mut change) = current.next(revision, next, summary.clone());
        change.author = author.to_owned();
        let mut outcome = ChangeOutcome {
            change,
            snapshot: Arc::new(snapshot),
            timings: Timings {
                dissolve: started.elapsed(),
                commit: std::time::Duration::ZERO,
            },
        };
        let answer = keyed.map(|k| k.answer(&outcome));
        let started = std::time::Instant::now();
        let committed = self.store.commit_change(
            alignment,
            current.revision,
            &current.state,
            &outcome.snapshot.state,
            units,
            &record,
            answer.as_ref(),
        )?;
        debug_assert_eq!(committed, revision);
        outcome.timings.commit = started.elapsed();
        stamp.revision = revision;
        live.snapshot.store(outcome.snapshot.clone());
        tracing::info!(alignment, revision, "change set committed");
        self.run_hooks(&outcome.snapshot, &outcome.change);
        Ok(Applied::Done(outcome))
    }

    fn run_hooks(&self, snapshot: &Arc<Snapshot>, change: &Change) {
        let hooks = self.hooks.read().unwrap_or_else(PoisonError::into_inner).clone();
        for hook in hooks {
            hook(snapshot, change);
        }
    }
}

/// What a commit applies: the operations, the revision they undo, and the change
/// log's summary (default: the operations' summaries).
struct Plan<'p> {
    /// Borrowed from the caller when it has them.
    ops: Cow<'p, [Op]>,
    undoes: Option<i64>,
    summary: Option<String>,
}

/// Longest alignment name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// Refuses alignment names that would break URLs, file names or log lines: empty,
/// padded with spaces, longer than [`MAX_NAME_CHARS`], or holding control characters
/// (newlines, NUL, ANSI escapes) or `/` and `\`.
pub(crate) fn check_name(name: &str) -> Result<(), AlignError> {
    let refuse = |why: &str| Err(AlignError::Invalid(format!("alignment name {name:?}: {why}")));
    let chars = name.chars().count();
    if name.trim().is_empty() {
        return refuse("is empty");
    }
    if name.trim() != name {
        return refuse("starts or ends with white space");
    }
    if chars > MAX_NAME_CHARS {
        return Err(AlignError::Invalid(format!(
            "alignment name of {chars} characters: at most {MAX_NAME_CHARS}"
        )));
    }
    if let Some(c) = name.chars().find(|c| c.is_control() || matches!(c, '/' | '\\')) {
        return refuse(&format!(
            "holds {c:?}; names take letters, digits, spaces and punctuation but / and \\"
        ));
    }
    Ok(())
}

pub use crate::align::MAX_TEXT_CHARS;

/// Refuses to undo `target` when a later change set that still stands changed one of
/// the units `target` changed (named by its operations or their inverse). Pairs of a
/// later change set and its undo, both after `target`, cancel out.
fn check_undo_conflicts(
    alignment: &str,
    target: &ChangeRecord,
    history: &[ChangeRecord],
) -> Result<(), AlignError> {
    let units_of = |c: &ChangeRecord| -> BTreeSet<String> {
        c.changes
            .iter()
            .chain(&c.inverse)
            .flat_map(Op::units)
            .cloned()
            .collect()
    };
    let mine = units_of(target);
    if mine.is_empty() {
        return Ok(());
    }
    let later: Vec<&ChangeRecord> = history.iter().filter(|c| c.revision > target.revision).collect();
    let cancelled = |c: &ChangeRecord| {
        later.iter().any(|u| u.undoes == Some(c.revision)) || c.undoes.is_some_and(|r| r > target.revision)
    };
    let mut units = BTreeSet::new();
    let mut revisions = Vec::new();
    for c in later.iter().filter(|c| !cancelled(c)) {
        let overlap: Vec<String> = units_of(c).intersection(&mine).cloned().collect();
        if !overlap.is_empty() {
            units.extend(overlap);
            revisions.push(c.revision);
        }
    }
    if units.is_empty() {
        return Ok(());
    }
    Err(AlignError::UndoConflict {
        alignment: alignment.to_owned(),
        revision: target.revision,
        units: units.into_iter().take(20).collect(),
        later: revisions,
    })
}

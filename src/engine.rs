//! The alignment engine: loads datasets and alignments into snapshots, applies
//! change sets (validate in memory, commit to SQLite, build the next snapshot,
//! swap it in atomically) and undoes them. One writer per alignment; readers
//! take the current `Arc<Snapshot>` without waiting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::align::sheet::{self, SheetColumns, SheetReport};
use crate::align::state::DEFAULT_LEVELS;
use crate::align::{AlignmentState, Op};
use crate::error::{AlignError, StoreError};
use crate::snapshot::{DatasetModel, Snapshot};
use crate::store::{AlignmentInfo, NewChange, Store};

struct Live {
    writer: Mutex<()>,
    snapshot: ArcSwap<Snapshot>,
}

/// Called with the alignment and its new snapshot after each committed change set.
pub type CommitHook = Arc<dyn Fn(&str, &Arc<Snapshot>) + Send + Sync>;

/// Alignments in memory over the store.
pub struct Engine {
    store: Arc<Store>,
    datasets: Mutex<HashMap<String, Arc<DatasetModel>>>,
    live: Mutex<HashMap<String, Arc<Live>>>,
    hooks: RwLock<Vec<CommitHook>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Engine({})", self.store.path().display())
    }
}

/// The outcome of a committed change set.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeOutcome {
    /// The alignment's new revision.
    pub revision: i64,
    /// Codes whose shape or metrics changed, per level name.
    pub touched: HashMap<String, Vec<String>>,
    /// The snapshot at the new revision.
    #[serde(skip)]
    pub snapshot: Arc<Snapshot>,
}

impl Engine {
    /// An engine over `store`; nothing is loaded until asked for.
    pub fn new(store: Arc<Store>) -> Engine {
        Engine {
            store,
            datasets: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            hooks: RwLock::new(Vec::new()),
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
        let info = self.store.alignment(alignment)?;
        let dataset = self.dataset(&info.dataset)?;
        let (info, state) = self.store.load_alignment(alignment, &dataset.units)?;
        let snapshot = Snapshot::build(alignment, info.revision, dataset, state);
        let l = Arc::new(Live {
            writer: Mutex::new(()),
            snapshot: ArcSwap::from_pointee(snapshot),
        });
        live.insert(alignment.to_owned(), l.clone());
        Ok(l)
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
                let state = AlignmentState::new(levels, model.units.len()).map_err(AlignError::Invalid)?;
                (model, state)
            }
        };
        Ok(self
            .store
            .create_alignment(name, &dataset.name, &state, &dataset.units)?)
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
        let model = self.dataset(dataset)?;
        let levels = levels.unwrap_or_else(|| DEFAULT_LEVELS.iter().map(|s| (*s).to_owned()).collect());
        AlignmentState::new(levels.clone(), 0).map_err(AlignError::Invalid)?;
        let columns = columns.unwrap_or_else(|| SheetColumns::for_levels(&levels));
        let (state, report) = sheet::import(reader, &levels, &columns, &model.units)?;
        let info = self.store.create_alignment(name, dataset, &state, &model.units)?;
        Ok((info, report))
    }

    /// Writes an alignment's sheet.
    pub fn export_sheet(&self, alignment: &str, out: impl std::io::Write) -> Result<(), AlignError> {
        let snapshot = self.snapshot(alignment)?;
        let columns = SheetColumns::for_levels(&snapshot.state.levels);
        sheet::export(&snapshot.state, &snapshot.dataset.units, &columns, out)
            .map_err(|e| AlignError::Invalid(format!("writing the sheet: {e}")))
    }

    /// Applies a change set based on `expected_revision`, all or nothing.
    pub fn apply(
        &self,
        alignment: &str,
        expected_revision: i64,
        ops: &[Op],
        author: &str,
    ) -> Result<ChangeOutcome, AlignError> {
        self.commit(alignment, Some(expected_revision), ops, author, None)
    }

    /// Undoes a change set (the latest one not yet undone, or `revision`) by
    /// appending its inverse as a new change set.
    pub fn undo(
        &self,
        alignment: &str,
        revision: Option<i64>,
        author: &str,
    ) -> Result<ChangeOutcome, AlignError> {
        let history = self.store.history(alignment)?;
        let target = match revision {
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
                .find(|c| c.undoes.is_none() && !history.iter().any(|u| u.undoes == Some(c.revision)))
                .ok_or_else(|| AlignError::NothingToUndo(alignment.to_owned()))?,
        };
        self.commit(alignment, None, &target.inverse, author, Some(target.revision))
    }

    fn commit(
        &self,
        alignment: &str,
        expected_revision: Option<i64>,
        ops: &[Op],
        author: &str,
        undoes: Option<i64>,
    ) -> Result<ChangeOutcome, AlignError> {
        if ops.is_empty() {
            return Err(AlignError::Invalid(
                "a change set needs at least one operation".into(),
            ));
        }
        let live = self.live(alignment)?;
        let _writer = live.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let current = live.snapshot.load_full();
        let expected = expected_revision.unwrap_or(current.revision);
        if expected != current.revision {
            return Err(StoreError::StaleRevision {
                alignment: alignment.to_owned(),
                expected,
                current: current.revision,
            }
            .into());
        }
        let units = &current.dataset.units;
        let (next, inverse) =
            current
                .state
                .apply_all(ops, units)
                .map_err(|(index, reason)| AlignError::Rejected {
                    alignment: alignment.to_owned(),
                    index,
                    op: ops[index].summary(),
                    reason,
                })?;
        let summary = match undoes {
            Some(r) => format!("undo of revision {r}"),
            None => ops.iter().map(Op::summary).collect::<Vec<_>>().join("; "),
        };
        let change = NewChange {
            author,
            summary: &summary,
            changes: ops,
            inverse: &inverse,
            undoes,
        };
        let revision =
            self.store
                .commit_change(alignment, current.revision, &current.state, &next, units, &change)?;
        let snapshot = Arc::new(current.next(revision, next));
        let mut touched: HashMap<String, Vec<String>> = HashMap::new();
        for (level, name) in snapshot.state.levels.iter().enumerate() {
            let before = current.shapes.get(level);
            let changed: Vec<String> = snapshot.shapes[level]
                .iter()
                .filter(|(code, shape)| {
                    before
                        .and_then(|b| b.get(*code))
                        .is_none_or(|old| !Arc::ptr_eq(old, shape))
                })
                .map(|(code, _)| code.clone())
                .chain(
                    before
                        .into_iter()
                        .flat_map(|b| b.keys())
                        .filter(|code| !snapshot.shapes[level].contains_key(*code))
                        .cloned(),
                )
                .collect();
            if !changed.is_empty() {
                touched.insert(name.clone(), changed);
            }
        }
        live.snapshot.store(snapshot.clone());
        tracing::info!(alignment, revision, "change set committed");
        let hooks = self.hooks.read().unwrap_or_else(PoisonError::into_inner).clone();
        for hook in hooks {
            hook(alignment, &snapshot);
        }
        Ok(ChangeOutcome {
            revision,
            touched,
            snapshot,
        })
    }
}

//! The tile service: alignments' views by revision, the tile cache and its
//! carry-forward across revisions.
//!
//! When a change set is committed (engine hook, see [`TileService::attached`]), or
//! failing that when a tile request finds the engine at a new revision, the service
//! prepares a view of it from the previous one and records which world boxes changed
//! between them. A tile missing from the cache at the current revision is first looked up at
//! the earlier revisions it did not change through; only tiles a change touched are
//! rendered again.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use super::cache::{EncodedTile, TileCache, TileKey};
use super::prepared::{WorldBox, intersects};
use super::render::render;
use super::tile_id::{TileId, lonlat_to_world};
use super::view::{AlignmentView, DatasetTiles};
use super::{TileError, TileOptions};
use crate::change::Change;
use crate::engine::Engine;
use crate::snapshot::Snapshot;

/// Views kept per alignment (to serve recent versioned URLs of earlier revisions).
const VIEWS_KEPT: usize = 3;
/// Change records kept per alignment (to carry tiles forward).
const DELTAS_KEPT: usize = 64;
/// Every world box: the dirty area of a change not known in detail.
const WHOLE_WORLD: WorldBox = [f64::NEG_INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::INFINITY];
/// Commits queued for the view worker; past that, tile requests prepare views.
pub const PENDING_COMMITS: usize = 16;

struct Delta {
    from: i64,
    to: i64,
    dirty: Vec<WorldBox>,
}

#[derive(Default)]
struct History {
    views: VecDeque<Arc<AlignmentView>>,
    deltas: VecDeque<Delta>,
}

struct AlignmentTiles {
    id: u32,
    history: Mutex<History>,
    /// What each commit changed, as the engine's [`Change`] said (world boxes), in
    /// commit order: recorded by the commit hook, read when the next view is prepared.
    /// A lock of its own, so a commit never waits for a view being prepared.
    changes: Mutex<VecDeque<Delta>>,
}

impl AlignmentTiles {
    /// Records a commit's change.
    fn record(&self, change: &Change) {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        changes.push_back(Delta {
            from: change.previous_revision,
            to: change.revision,
            dirty: change
                .areas
                .iter()
                .map(|&[west, south, east, north]| {
                    let ([x0, y0], [x1, y1]) = (lonlat_to_world(west, south), lonlat_to_world(east, north));
                    [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]
                })
                .collect(),
        });
        if changes.len() > DELTAS_KEPT {
            changes.pop_front();
        }
    }

    /// World boxes whose tiles the commits from revision `from` to `to` changed (but
    /// for colours): the whole world unless every commit between them was recorded.
    fn changed_between(&self, from: i64, to: i64) -> Vec<WorldBox> {
        let changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        let mut dirty = Vec::new();
        let mut cursor = to;
        for d in changes.iter().rev() {
            if cursor == from {
                break;
            }
            if d.to == cursor {
                dirty.extend_from_slice(&d.dirty);
                cursor = d.from;
            } else if d.to < cursor {
                break;
            }
        }
        if cursor != from {
            return vec![WHOLE_WORLD];
        }
        dirty
    }
}

/// Lowest zoom whose cold tiles render on the caller's thread (an HTTP worker) when the
/// alignment's view is prepared: from z4 a tile renders in 0.05-15 ms on national data,
/// and a hop to the blocking pool and back cost about 15% of a cold tile's CPU; z0-3
/// tiles (up to ~30 ms) and preparing a view (store reads, seconds) leave the worker.
pub const INLINE_MINZOOM: u8 = 4;

/// The answer of [`TileService::tile_inline`].
#[derive(Debug)]
pub enum Inline {
    /// The revision served and the tile.
    Ready(i64, Arc<EncodedTile>),
    /// Too slow for the caller's thread: call [`TileService::tile`] on a blocking pool.
    Blocking,
}

/// Renders, caches and carries forward the tiles of an engine's alignments.
pub struct TileService {
    engine: Arc<Engine>,
    options: TileOptions,
    cache: TileCache,
    datasets: Mutex<HashMap<String, Arc<DatasetTiles>>>,
    alignments: RwLock<HashMap<String, Arc<AlignmentTiles>>>,
    next_id: AtomicU32,
}

impl std::fmt::Debug for TileService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TileService({:?}, {:?})", self.engine, self.cache)
    }
}

impl TileService {
    /// A service over `engine`.
    pub fn new(engine: Arc<Engine>, options: TileOptions) -> TileService {
        TileService {
            cache: TileCache::new(options.cache_bytes),
            engine,
            options,
            datasets: Mutex::new(HashMap::new()),
            alignments: RwLock::new(HashMap::new()),
            next_id: AtomicU32::new(0),
        }
    }

    /// A service over `engine` that prepares the next view of an alignment it serves as
    /// soon as a change set is committed, so the changed area is known and the tiles
    /// outside it carry forward before the next tile request. The commit hook only
    /// queues the new snapshot for one worker thread (at most [`PENDING_COMMITS`]
    /// waiting; past that a tile request prepares the view itself); a reload from the
    /// store forgets the alignment's tiles at once, since its revisions may have started
    /// over.
    pub fn attached(engine: Arc<Engine>, options: TileOptions) -> Arc<TileService> {
        let service = Arc::new(TileService::new(engine.clone(), options));
        let (queue, pending) = std::sync::mpsc::sync_channel::<Arc<Snapshot>>(PENDING_COMMITS);
        let worker = Arc::downgrade(&service);
        let spawned = std::thread::Builder::new()
            .name("tiles-commit".into())
            .spawn(move || {
                while let Ok(snapshot) = pending.recv() {
                    let Some(service) = worker.upgrade() else {
                        return;
                    };
                    service.view_of(snapshot);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "tiles: no worker to prepare views at commit; tile requests will");
        }
        let weak = Arc::downgrade(&service);
        engine.on_commit(Arc::new(move |snapshot: &Arc<Snapshot>, change: &Change| {
            let Some(service) = weak.upgrade() else {
                return;
            };
            if change.reloaded {
                service.forget(&snapshot.alignment);
            } else if let Some(entry) = service.served(&snapshot.alignment) {
                entry.record(change);
                if queue.try_send(snapshot.clone()).is_err() {
                    tracing::debug!(alignment = %snapshot.alignment, "tiles: commit queue full");
                }
            }
        }));
        service
    }

    /// Forgets an alignment's views and carry-forward records; its cached tiles are
    /// never looked up again (the next view gets a new cache id).
    fn forget(&self, alignment: &str) {
        self.alignments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(alignment);
    }

    /// The tiles of `alignment`, if they were asked for before.
    fn served(&self, alignment: &str) -> Option<Arc<AlignmentTiles>> {
        self.alignments
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(alignment)
            .cloned()
    }

    /// The options.
    pub fn options(&self) -> &TileOptions {
        &self.options
    }

    /// The cache.
    pub fn cache(&self) -> &TileCache {
        &self.cache
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    fn alignment(&self, name: &str) -> Arc<AlignmentTiles> {
        if let Some(a) = self.served(name) {
            return a;
        }
        let mut map = self.alignments.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(name.to_owned())
            .or_insert_with(|| {
                Arc::new(AlignmentTiles {
                    id: self.next_id.fetch_add(1, Ordering::Relaxed),
                    history: Mutex::new(History::default()),
                    changes: Mutex::new(VecDeque::new()),
                })
            })
            .clone()
    }

    fn dataset(&self, view_of: &Snapshot) -> Arc<DatasetTiles> {
        let mut datasets = self.datasets.lock().unwrap_or_else(PoisonError::into_inner);
        let name = &view_of.dataset.name;
        if let Some(d) = datasets.get(name)
            && Arc::ptr_eq(&d.dataset, &view_of.dataset)
        {
            return d.clone();
        }
        let d = Arc::new(DatasetTiles::new(view_of.dataset.clone(), &self.options));
        datasets.insert(name.clone(), d.clone());
        d
    }

    /// The current view of an alignment (prepared from the previous one on a new revision).
    pub fn view(&self, alignment: &str) -> Result<Arc<AlignmentView>, TileError> {
        Ok(self.view_of(self.engine.snapshot(alignment)?))
    }

    /// The view of `snapshot`, prepared from the alignment's latest view; a snapshot
    /// older than that view (a late commit notice) gets the latest view.
    fn view_of(&self, snapshot: Arc<Snapshot>) -> Arc<AlignmentView> {
        let alignment = snapshot.alignment.clone();
        let alignment = alignment.as_str();
        let entry = self.alignment(alignment);
        let mut history = entry.history.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(latest) = history.views.back() {
            if latest.snapshot.instance != snapshot.instance {
                // Re-created under the same name: its revisions start over, so its tiles
                // get a new cache id.
                drop(history);
                self.forget(alignment);
                return self.view_of(snapshot);
            }
            if Arc::ptr_eq(&latest.snapshot, &snapshot) || latest.snapshot.revision >= snapshot.revision {
                return latest.clone();
            }
        }
        let dataset = self.dataset(&snapshot);
        let previous = history.views.back().cloned();
        let view = Arc::new(AlignmentView::new(
            snapshot,
            dataset,
            previous.as_deref(),
            &self.options,
        ));
        if let Some(previous) = previous {
            let mut dirty = entry.changed_between(previous.snapshot.revision, view.snapshot.revision);
            dirty.extend(view.recoloured_since(&previous));
            tracing::debug!(
                alignment,
                from = previous.snapshot.revision,
                to = view.snapshot.revision,
                boxes = dirty.len(),
                "tiles carried forward outside the changed area"
            );
            history.deltas.push_back(Delta {
                from: previous.snapshot.revision,
                to: view.snapshot.revision,
                dirty,
            });
            if history.deltas.len() > DELTAS_KEPT {
                history.deltas.pop_front();
            }
        }
        history.views.push_back(view.clone());
        if history.views.len() > VIEWS_KEPT {
            history.views.pop_front();
        }
        view
    }

    /// A cached tile, without rendering or touching the store: for the hot path.
    /// `revision` `None` is the current one, known only if the alignment was served before.
    pub fn cached(
        &self,
        alignment: &str,
        revision: Option<i64>,
        tile: TileId,
    ) -> Option<(i64, Arc<EncodedTile>)> {
        let entry = self.served(alignment)?;
        let revision = match revision {
            Some(r) => r,
            None => self.engine.loaded_snapshot(alignment)?.revision,
        };
        let key = TileKey {
            alignment: entry.id,
            revision,
            tile,
        };
        self.cache.get(&key).map(|t| (revision, t))
    }

    /// A tile at `revision` (`None`: the current one), from the cache, carried forward
    /// from an earlier revision it did not change through, or rendered. Returns the
    /// revision served and the tile.
    pub fn tile(
        &self,
        alignment: &str,
        revision: Option<i64>,
        tile: TileId,
    ) -> Result<(i64, Arc<EncodedTile>), TileError> {
        if let Some(hit) = self.cached(alignment, revision, tile) {
            return Ok(hit);
        }
        let view = self.view(alignment)?;
        self.tile_in(&view, alignment, revision, tile)
    }

    /// The current view of an alignment when it is already prepared for the loaded
    /// snapshot: no store read and no preparation, so a caller may render on its own
    /// thread with [`TileService::tile_in`].
    pub fn prepared_view(&self, alignment: &str) -> Option<Arc<AlignmentView>> {
        let snapshot = self.engine.loaded_snapshot(alignment)?;
        let entry = self.served(alignment)?;
        let history = entry.history.lock().unwrap_or_else(PoisonError::into_inner);
        history
            .views
            .back()
            .filter(|v| Arc::ptr_eq(&v.snapshot, &snapshot))
            .cloned()
    }

    /// A tile when it is cheap enough for the caller's thread: a cache hit, or from
    /// [`INLINE_MINZOOM`] a tile of an alignment whose view is prepared. Else
    /// [`Inline::Blocking`], and nothing was done.
    pub fn tile_inline(
        &self,
        alignment: &str,
        revision: Option<i64>,
        tile: TileId,
    ) -> Result<Inline, TileError> {
        if let Some((served, encoded)) = self.cached(alignment, revision, tile) {
            return Ok(Inline::Ready(served, encoded));
        }
        if tile.z < INLINE_MINZOOM {
            return Ok(Inline::Blocking);
        }
        match self.prepared_view(alignment) {
            Some(view) => {
                let (served, encoded) = self.tile_in(&view, alignment, revision, tile)?;
                Ok(Inline::Ready(served, encoded))
            }
            None => Ok(Inline::Blocking),
        }
    }

    /// [`TileService::tile`] with `view`, the alignment's current view.
    pub fn tile_in(
        &self,
        view: &Arc<AlignmentView>,
        alignment: &str,
        revision: Option<i64>,
        tile: TileId,
    ) -> Result<(i64, Arc<EncodedTile>), TileError> {
        let entry = self.alignment(alignment);
        let current = view.snapshot.revision;
        let wanted = revision.unwrap_or(current);
        let key = |revision: i64| TileKey {
            alignment: entry.id,
            revision,
            tile,
        };
        if let Some(t) = self.cache.get(&key(wanted)) {
            return Ok((wanted, t));
        }
        if wanted > current {
            return Err(TileError::UnknownRevision {
                alignment: alignment.to_owned(),
                revision: wanted,
                current,
            });
        }
        let margin = f64::from(self.options.buffer) / f64::from(self.options.extent);
        let bounds = tile.world_bounds(margin);
        let (source, older) = {
            let history = entry.history.lock().unwrap_or_else(PoisonError::into_inner);
            if wanted < current {
                if let Some(v) = history.views.iter().find(|v| v.snapshot.revision == wanted) {
                    (v.clone(), Vec::new())
                } else if clean_between(&history.deltas, wanted, current, &bounds) {
                    (view.clone(), Vec::new())
                } else {
                    return Err(TileError::RevisionGone {
                        alignment: alignment.to_owned(),
                        revision: wanted,
                        current,
                        tile,
                    });
                }
            } else {
                // Earlier revisions this tile did not change through, newest first.
                let mut older = Vec::new();
                let mut cursor = current;
                for d in history.deltas.iter().rev() {
                    if d.to != cursor || d.dirty.iter().any(|b| intersects(b, &bounds)) {
                        break;
                    }
                    older.push(d.from);
                    cursor = d.from;
                }
                (view.clone(), older)
            }
        };
        for r in older {
            if let Some(t) = self.cache.get(&key(r)) {
                self.cache.insert(key(current), t.clone());
                return Ok((current, t));
            }
        }
        let served = source.snapshot.revision;
        if let Some(t) = self.cache.get(&key(served)) {
            self.cache.insert(key(wanted), t.clone());
            return Ok((wanted, t));
        }
        let encoded = Arc::new(EncodedTile::new(render(&source, tile, &self.options)));
        self.cache.insert(key(served), encoded.clone());
        if served != wanted {
            self.cache.insert(key(wanted), encoded.clone());
        }
        Ok((wanted, encoded))
    }

    /// Renders a tile of the current revision without the cache (benchmarks, exports).
    pub fn render(&self, alignment: &str, tile: TileId) -> Result<Vec<u8>, TileError> {
        let view = self.view(alignment)?;
        Ok(render(&view, tile, &self.options))
    }
}

/// Whether no recorded change between revisions `from` and `to` touched `bounds` (and
/// the records cover the whole way).
fn clean_between(deltas: &VecDeque<Delta>, from: i64, to: i64, bounds: &WorldBox) -> bool {
    let mut cursor = to;
    for d in deltas.iter().rev() {
        if cursor == from {
            break;
        }
        if d.to != cursor || d.dirty.iter().any(|b| intersects(b, bounds)) {
            return false;
        }
        cursor = d.from;
    }
    cursor == from
}

//! What one commit changed, worked out once (by [`Snapshot::next`], or on a reload
//! from the store) and handed to every consumer: the HTTP response of the change set,
//! the tile service's commit hook and the live event stream.

use std::collections::{BTreeMap, BTreeSet};

use geo::BoundingRect;
use serde::Serialize;

use crate::snapshot::Snapshot;

/// The whole world, for changes whose extent is not known (a reload).
const WORLD: [f64; 4] = [-180.0, -90.0, 180.0, 90.0];

/// One committed change of an alignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Alignment name.
    pub alignment: String,
    /// The revision it produced.
    pub revision: i64,
    /// The revision it was applied to.
    pub previous_revision: i64,
    /// The change set's summary, in words.
    pub summary: String,
    /// Who made it.
    pub author: String,
    /// Codes whose shape or metrics changed (or that were removed), per level name.
    pub touched: BTreeMap<String, Vec<String>>,
    /// `[west, south, east, north]` of everything that changed on the map (old and new
    /// outlines of the touched codes, reps and accounts that moved or changed); `None`
    /// when nothing on the map changed.
    pub bbox: Option<[f64; 4]>,
    /// The boxes `bbox` is the union of, `[west, south, east, north]` each: per touched
    /// code (and per code whose name, parent, reps or lock changed) its old and new
    /// outline, per territory whose reps' names changed its outline, per rep or account that changed its old and new place. Tiles outside
    /// all of them are the same before and after (but for colours, which are the tile
    /// view's own). The whole world on a reload.
    #[serde(skip)]
    pub areas: Vec<[f64; 4]>,
    /// The snapshot was reloaded from the store (a commit by another process, or a
    /// re-ingested dataset): anything may have changed.
    pub reloaded: bool,
}

impl Change {
    /// The change from `before` to `after`, given the codes per level whose shapes
    /// `after` replaced or removed.
    pub(crate) fn between(
        before: &Snapshot,
        after: &Snapshot,
        changed: Vec<BTreeSet<String>>,
        summary: String,
    ) -> Change {
        let mut areas = Areas::default();
        let mut touched = BTreeMap::new();
        let outline = |snapshot: &Snapshot, level: usize, code: &str| {
            snapshot
                .shapes
                .get(level)
                .and_then(|s| s.get(code))
                .and_then(|s| s.geometry.bounding_rect())
        };
        for (level, codes) in changed.into_iter().enumerate() {
            if codes.is_empty() {
                continue;
            }
            for code in &codes {
                areas.outlines([outline(before, level, code), outline(after, level, code)]);
            }
            touched.insert(after.state.levels[level].clone(), codes.into_iter().collect());
        }
        // Territories whose record changed (name, parent, reps, lock) with their shape kept.
        for (level, (old, new)) in before
            .state
            .territories
            .iter()
            .zip(&after.state.territories)
            .enumerate()
        {
            for (code, t) in new {
                if old.get(code).is_some_and(|o| o != t) {
                    areas.outlines([outline(before, level, code), outline(after, level, code)]);
                }
            }
        }
        // Reps: where they stand, and the territories that list them by name.
        let (old_reps, new_reps) = (&before.state.reps, &after.state.reps);
        let mut changed_reps = BTreeSet::new();
        for (id, rep) in old_reps.iter().chain(new_reps) {
            if old_reps.get(id) == new_reps.get(id) {
                continue;
            }
            if let (Some(lon), Some(lat)) = (rep.lon, rep.lat) {
                areas.point(lon, lat);
            }
            changed_reps.insert(id);
        }
        if !changed_reps.is_empty() {
            for snapshot in [before, after] {
                for (code, t) in &snapshot.state.territories[0] {
                    if t.reps.iter().any(|r| changed_reps.contains(r)) {
                        areas.outlines([outline(snapshot, 0, code), None]);
                    }
                }
            }
        }
        // A rep taken off or given a territory: its point's list of territories changed.
        for code in touched.get(&after.state.levels[0]).into_iter().flatten() {
            let no_reps = BTreeSet::new();
            let old = before.state.territories[0]
                .get(code)
                .map_or(&no_reps, |t| &t.reps);
            let new = after.state.territories[0].get(code).map_or(&no_reps, |t| &t.reps);
            for id in old.symmetric_difference(new) {
                for rep in [old_reps.get(id), new_reps.get(id)].into_iter().flatten() {
                    if let (Some(lon), Some(lat)) = (rep.lon, rep.lat) {
                        areas.point(lon, lat);
                    }
                }
            }
        }
        // Accounts whose record or owner changed: where they were and are.
        for (_, old, new) in before.account_changes(&after.state, &after.places) {
            for (account, _) in [old, new].into_iter().flatten() {
                areas.point(account.record.lon, account.record.lat);
            }
        }
        Change {
            alignment: after.alignment.clone(),
            revision: after.revision,
            previous_revision: before.revision,
            summary,
            author: String::new(),
            touched,
            bbox: areas.bbox(),
            areas: areas.0,
            reloaded: false,
        }
    }

    /// The change of a snapshot reloaded from the store: every code of `after` (and of
    /// `before`, when there was one) is touched, anywhere.
    pub fn reloaded(before: Option<&Snapshot>, after: &Snapshot) -> Change {
        let mut touched: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (level, name) in after.state.levels.iter().enumerate() {
            let mut codes: BTreeSet<&String> = after.state.territories[level].keys().collect();
            if let Some(b) = before.and_then(|b| b.state.territories.get(level)) {
                codes.extend(b.keys());
            }
            if !codes.is_empty() {
                touched.insert(name.clone(), codes.into_iter().cloned().collect());
            }
        }
        Change {
            alignment: after.alignment.clone(),
            revision: after.revision,
            previous_revision: before.map_or(0, |b| b.revision),
            summary: "reloaded from the store".into(),
            author: String::new(),
            touched,
            bbox: Some(WORLD),
            areas: vec![WORLD],
            reloaded: true,
        }
    }

    /// No change: a change set that left `snapshot`'s state as it was.
    pub fn none(snapshot: &Snapshot) -> Change {
        Change {
            alignment: snapshot.alignment.clone(),
            revision: snapshot.revision,
            previous_revision: snapshot.revision,
            summary: String::new(),
            author: String::new(),
            touched: BTreeMap::new(),
            bbox: None,
            areas: Vec::new(),
            reloaded: false,
        }
    }

    /// Whether nothing changed (a change set whose operations left the state as it was).
    pub fn is_empty(&self) -> bool {
        self.touched.is_empty() && self.bbox.is_none() && !self.reloaded
    }
}

/// The boxes a change covers.
#[derive(Debug, Default)]
struct Areas(Vec<[f64; 4]>);

impl Areas {
    /// The union of the outlines given (a code's old and new one), if any.
    fn outlines(&mut self, rects: [Option<geo::Rect>; 2]) {
        let mut extent = Extent::default();
        for rect in rects.into_iter().flatten() {
            extent.add(rect.min().x, rect.min().y);
            extent.add(rect.max().x, rect.max().y);
        }
        self.0.extend(extent.finish());
    }

    fn point(&mut self, lon: f64, lat: f64) {
        self.0.push([lon, lat, lon, lat]);
    }

    /// The box around them all.
    fn bbox(&self) -> Option<[f64; 4]> {
        let mut extent = Extent::default();
        for b in &self.0 {
            extent.add(b[0], b[1]);
            extent.add(b[2], b[3]);
        }
        extent.finish()
    }
}

/// A growing bounding box.
#[derive(Debug, Clone, Copy)]
struct Extent([f64; 4]);

impl Default for Extent {
    fn default() -> Extent {
        Extent([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY])
    }
}

impl Extent {
    fn add(&mut self, x: f64, y: f64) {
        let b = &mut self.0;
        (b[0], b[1], b[2], b[3]) = (b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y));
    }

    fn finish(self) -> Option<[f64; 4]> {
        (self.0[0] <= self.0[2]).then_some(self.0)
    }
}

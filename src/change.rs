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
        let mut bbox = Extent::default();
        let mut touched = BTreeMap::new();
        for (level, codes) in changed.into_iter().enumerate() {
            if codes.is_empty() {
                continue;
            }
            for code in &codes {
                for shapes in [before.shapes.get(level), after.shapes.get(level)] {
                    if let Some(rect) = shapes
                        .and_then(|s| s.get(code))
                        .and_then(|s| s.geometry.bounding_rect())
                    {
                        bbox.add(rect.min().x, rect.min().y);
                        bbox.add(rect.max().x, rect.max().y);
                    }
                }
            }
            touched.insert(after.state.levels[level].clone(), codes.into_iter().collect());
        }
        for (id, rep) in before.state.reps.iter().chain(&after.state.reps) {
            if before.state.reps.get(id) != after.state.reps.get(id)
                && let (Some(lon), Some(lat)) = (rep.lon, rep.lat)
            {
                bbox.add(lon, lat);
            }
        }
        for (id, account) in before.state.accounts.iter().chain(&after.state.accounts) {
            if before.state.accounts.get(id) != after.state.accounts.get(id)
                || before.account_owner(id) != after.account_owner(id)
            {
                bbox.add(account.record.lon, account.record.lat);
            }
        }
        Change {
            alignment: after.alignment.clone(),
            revision: after.revision,
            previous_revision: before.revision,
            summary,
            author: String::new(),
            touched,
            bbox: bbox.finish(),
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
            reloaded: false,
        }
    }

    /// Whether nothing changed (a change set whose operations left the state as it was).
    pub fn is_empty(&self) -> bool {
        self.touched.is_empty() && self.bbox.is_none() && !self.reloaded
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

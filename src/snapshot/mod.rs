//! Immutable, shareable state of an alignment at one revision: its units,
//! assignment, dissolved territories at every level and their metrics, plus the
//! dataset's R-tree. Readers hold an `Arc<Snapshot>` and never lock; a committed
//! change builds the next snapshot from this one, re-dissolving only what moved.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use geo::{BoundingRect, Geometry, MultiPolygon, Point};
use rstar::{AABB, RTree, RTreeObject};
use serde::Serialize;

use crate::align::metrics::TerritoryMetrics;
use crate::align::state::Account;
use crate::align::{AlignmentState, PlacedBy, UnitIndex};
use crate::change::Change;
use crate::index::RepIndex;
use crate::index::grid::PointGrid;
use crate::store::Store;
use crate::store::StoreError;
use crate::topo::{self, DissolveMethod, Topology};

mod account_totals;
mod places;

use account_totals::AccountTotals;
pub use places::{AccountPlace, AccountPlaces};

/// Snapping tolerance for building a dataset's topology, in degrees (~1 cm).
pub const TOPOLOGY_TOLERANCE: f64 = 1e-7;

/// A dataset loaded for alignment work: units, geometries, topology, R-tree.
pub struct DatasetModel {
    /// Dataset name.
    pub name: String,
    /// The store's generation of the dataset's units when they were loaded.
    pub generation: i64,
    /// Units by index.
    pub units: UnitIndex,
    /// Unit metrics averaged per territory (not summed), each with the metric weighing it.
    pub means: BTreeMap<String, String>,
    /// Polygon geometry per polygon unit, in topology order.
    pub polygons: Vec<MultiPolygon<f64>>,
    /// Topology index of each unit (None for point units).
    pub topo_of_unit: Vec<Option<u32>>,
    /// Unit index of each topology polygon.
    pub unit_of_topo: Vec<u32>,
    /// Location of each point unit.
    pub points: HashMap<u32, Point<f64>>,
    /// Shared-arc topology of the polygon units.
    pub topology: Topology,
    /// R-tree over polygon units' bounding boxes (payload: topology index).
    pub tree: RTree<Indexed>,
    /// Grid for point location (payload: topology index).
    pub grid: PointGrid,
}

impl std::fmt::Debug for DatasetModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatasetModel({}, {} units)", self.name, self.units.len())
    }
}

/// A polygon's bounding box in the R-tree.
#[derive(Debug, Clone)]
pub struct Indexed {
    /// Topology index.
    pub index: u32,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Indexed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl DatasetModel {
    /// Loads a dataset from the store and builds its topology and R-tree.
    pub fn load(store: &Store, name: &str) -> Result<DatasetModel, StoreError> {
        // Read before the units: a re-ingest in between then shows as a newer generation.
        let generation = store.dataset_generation(name)?;
        let means = store.dataset_means(name)?;
        let stored = store.units(name)?;
        let units = UnitIndex::new(&stored);
        let mut polygons = Vec::new();
        let mut topo_of_unit = vec![None; stored.len()];
        let mut unit_of_topo = Vec::new();
        let mut points = HashMap::new();
        for unit in stored {
            let Some(i) = units.resolve(&unit.id) else {
                continue;
            };
            match unit.geometry {
                Geometry::MultiPolygon(mp) => {
                    topo_of_unit[i as usize] = Some(polygons.len() as u32);
                    unit_of_topo.push(i);
                    polygons.push(mp);
                }
                Geometry::Polygon(p) => {
                    topo_of_unit[i as usize] = Some(polygons.len() as u32);
                    unit_of_topo.push(i);
                    polygons.push(MultiPolygon::new(vec![p]));
                }
                Geometry::Point(p) => {
                    points.insert(i, p);
                }
                _ => {}
            }
        }
        let started = std::time::Instant::now();
        let topology = Topology::build(&polygons, TOPOLOGY_TOLERANCE);
        tracing::info!(
            dataset = name,
            polygons = polygons.len(),
            ms = started.elapsed().as_millis() as u64,
            "topology built"
        );
        let tree = RTree::bulk_load(
            polygons
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    let r = p.bounding_rect()?;
                    Some(Indexed {
                        index: i as u32,
                        envelope: AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    })
                })
                .collect(),
        );
        // Units are indexed in id order, so the unit index ranks polygons for border ties.
        let grid = PointGrid::new(&polygons, unit_of_topo.clone());
        Ok(DatasetModel {
            grid,
            name: name.to_owned(),
            generation,
            units,
            means,
            polygons,
            topo_of_unit,
            unit_of_topo,
            points,
            topology,
            tree,
        })
    }

    /// The polygon unit containing a point; on a shared border the smallest unit id wins.
    pub fn unit_at(&self, lon: f64, lat: f64) -> Option<u32> {
        self.grid.locate(lon, lat).map(|p| self.unit_of_topo[p as usize])
    }

    /// Dissolves units (by index) into an outline that passed the topology's checks;
    /// `code` names the territory for the log when it did not come from the topology.
    fn dissolve(&self, code: &str, members: &[u32]) -> (MultiPolygon<f64>, DissolveMethod) {
        let polygons: Vec<u32> = members
            .iter()
            .filter_map(|&u| self.topo_of_unit[u as usize])
            .collect();
        if polygons.is_empty() {
            return (MultiPolygon::new(Vec::new()), DissolveMethod::Topology);
        }
        let dissolved = topo::dissolve(&self.topology, &polygons);
        if let Some(problem) = &dissolved.problem {
            tracing::warn!(
                dataset = %self.name,
                territory = code,
                units = polygons.len(),
                method = ?dissolved.method,
                problem = %problem,
                "territory not dissolved from the topology"
            );
        }
        (dissolved.geometry, dissolved.method)
    }
}

/// A dissolved territory (or district, region) and its metrics.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Units it owns, by index, sorted.
    pub members: Vec<u32>,
    /// Its outline.
    pub geometry: MultiPolygon<f64>,
    /// How the outline was made: topology, overlay fallback, or failed (then empty).
    pub method: DissolveMethod,
    /// Its metrics.
    pub metrics: TerritoryMetrics,
}

/// An alignment at one revision.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Alignment name.
    pub alignment: String,
    /// Which instance of the alignment (see [`crate::store::AlignmentStamp`]): one deleted
    /// and created again under the same name is another, whose revisions start over.
    pub instance: u64,
    /// Revision.
    pub revision: i64,
    /// The dataset.
    pub dataset: Arc<DatasetModel>,
    /// Territories, assignment, reps, accounts.
    pub state: Arc<AlignmentState>,
    /// Dissolved shapes per level (index 0 = leaf), by code.
    pub shapes: Vec<BTreeMap<String, Arc<Shape>>>,
    /// Each account's unit and owner, in account order.
    pub places: Arc<AccountPlaces>,
    /// Reps' home locations for nearest-rep queries.
    pub rep_index: Arc<RepIndex>,
}

fn rep_index(state: &AlignmentState) -> RepIndex {
    RepIndex::new(
        state
            .reps
            .iter()
            .filter_map(|(id, r)| Some((id.as_str(), r.lon?, r.lat?))),
    )
}

impl Snapshot {
    /// Builds a snapshot from scratch (every territory dissolved).
    pub fn build(
        alignment: &str,
        instance: u64,
        revision: i64,
        dataset: Arc<DatasetModel>,
        state: AlignmentState,
    ) -> Snapshot {
        let places = Arc::new(AccountPlaces::new(&state, &dataset));
        let touched: Vec<BTreeSet<String>> = state
            .territories
            .iter()
            .map(|l| l.keys().cloned().collect())
            .collect();
        let empty = Snapshot {
            alignment: alignment.to_owned(),
            instance,
            revision,
            dataset,
            rep_index: Arc::new(rep_index(&state)),
            state: Arc::new(state),
            shapes: Vec::new(),
            places,
        };
        empty.refresh(touched).0
    }

    /// The snapshot after a change set (`state` is the new state at `revision`) and
    /// what it changed: the one [`Change`] every consumer is handed.
    pub fn next(&self, revision: i64, state: AlignmentState, summary: String) -> (Snapshot, Change) {
        let places = (self.places.next(&self.state, &state, &self.dataset))
            .map_or_else(|| self.places.clone(), Arc::new);
        let touched = self.touched_by(&state, &places);
        let reps = if state.reps == self.state.reps {
            self.rep_index.clone()
        } else {
            Arc::new(rep_index(&state))
        };
        let next = Snapshot {
            alignment: self.alignment.clone(),
            instance: self.instance,
            revision,
            dataset: self.dataset.clone(),
            rep_index: reps,
            state: Arc::new(state),
            shapes: self.shapes.clone(),
            places,
        };
        let (next, changed) = next.refresh(touched);
        let change = Change::between(self, &next, changed, summary);
        (next, change)
    }

    /// Codes per level whose shape or metrics may differ in `state`.
    fn touched_by(&self, state: &AlignmentState, places: &Arc<AccountPlaces>) -> Vec<BTreeSet<String>> {
        let units = &self.dataset.units;
        let mut touched: Vec<BTreeSet<String>> = vec![BTreeSet::new(); state.levels.len()];
        touched[0] = self.state.moved_territories(state, units);
        for (level, (before, after)) in self.state.territories.iter().zip(&state.territories).enumerate() {
            for (code, t) in after {
                if before.get(code) != Some(t) {
                    touched[level].insert(code.clone());
                }
            }
            touched[level].extend(before.keys().filter(|c| !after.contains_key(*c)).cloned());
        }
        // Accounts whose record or owner changed: their old and new owners.
        for (_, old, new) in self.account_changes(state, places) {
            touched[0].extend(old.and_then(|(_, p)| p.owner()).map(|(t, _)| t.to_owned()));
            touched[0].extend(new.and_then(|(_, p)| p.owner()).map(|(t, _)| t.to_owned()));
        }
        // Parents (before and after) of everything touched are touched too.
        for level in 1..state.levels.len() {
            let below: Vec<String> = touched[level - 1].iter().cloned().collect();
            for code in below {
                for territories in [&self.state.territories[level - 1], &state.territories[level - 1]] {
                    if let Some(parent) = territories.get(&code).and_then(|t| t.parent.clone()) {
                        touched[level].insert(parent);
                    }
                }
            }
        }
        touched
    }

    /// The accounts whose record or owner differs between this snapshot and `state`
    /// placed by `places` (none when both are shared).
    pub(crate) fn account_changes<'a>(
        &'a self,
        state: &'a AlignmentState,
        places: &'a Arc<AccountPlaces>,
    ) -> impl Iterator<Item = places::Paired<'a>> {
        let same_accounts = Arc::ptr_eq(&self.state.accounts, &state.accounts);
        let unchanged = same_accounts && Arc::ptr_eq(&self.places, places);
        (!unchanged)
            .then(|| places::paired((&self.state, &self.places), (state, places)))
            .into_iter()
            .flatten()
            .filter(move |(_, old, new)| match (old, new) {
                (Some((a, p)), Some((b, q))) => p.owner() != q.owner() || (!same_accounts && a != b),
                _ => true,
            })
    }

    /// The unit containing an account of this snapshot.
    pub fn account_unit(&self, id: &str) -> Option<u32> {
        let account = self.state.accounts.get(id)?;
        self.dataset.unit_at(account.record.lon, account.record.lat)
    }

    /// The leaf territory owning an account, and what decided it.
    pub fn account_owner(&self, id: &str) -> Option<(&str, PlacedBy<'_>)> {
        let account = self.state.accounts.get(id)?;
        self.state.placement(
            &self.dataset.units,
            &*account.record,
            account.override_territory.as_deref(),
            self.account_unit(id),
        )
    }

    /// The rules giving accounts to a leaf territory, by id.
    pub fn rules_of(&self, code: &str) -> Vec<String> {
        (self.state.rules.iter())
            .filter(|(_, r)| r.territory == code)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Whether a leaf territory is a rule territory holding no unit: its accounts come
    /// by rule, so it has no part in balancing the units (level summaries, rebalances).
    pub fn is_rule_only(&self, code: &str) -> bool {
        self.state.rules.values().any(|r| r.territory == code)
            && self.shapes[0].get(code).is_none_or(|s| s.members.is_empty())
    }

    /// Per dataset unit, the sum of the account metric `name` (`accounts`: their count)
    /// over the accounts that follow their unit: not placed by a rule or an override, so
    /// a unit moved to another territory takes exactly these with it. `None` when no
    /// account has the metric.
    pub fn unit_account_sums(&self, name: &str) -> Option<Vec<f64>> {
        let mut sums = vec![0.0; self.dataset.units.len()];
        let mut any = false;
        for (_, account, place) in self.placed_accounts() {
            let value = match name {
                "accounts" => Some(1.0),
                _ => account.record.metrics.get(name).copied(),
            };
            let Some(value) = value else { continue };
            any = true;
            let follows_unit = place.owner().is_none_or(|(_, by)| by == PlacedBy::Unit);
            if let (true, Some(u)) = (follows_unit, place.unit) {
                sums[u as usize] += value;
            }
        }
        any.then_some(sums)
    }

    /// Every account with its place, in id order.
    pub fn placed_accounts(&self) -> impl Iterator<Item = (&str, &Account, &AccountPlace)> {
        (self.state.accounts.iter())
            .zip(self.places.iter())
            .map(|((id, a), p)| (id.as_str(), a, p))
    }

    /// Recomputes the shapes of the touched codes, leaf level first; returns the
    /// snapshot and the codes per level whose shape was replaced or removed.
    fn refresh(mut self, touched: Vec<BTreeSet<String>>) -> (Snapshot, Vec<BTreeSet<String>>) {
        let mut changed: Vec<BTreeSet<String>> = vec![BTreeSet::new(); touched.len()];
        let state = self.state.clone();
        let units = &self.dataset.units;
        self.shapes.resize(state.levels.len(), BTreeMap::new());
        // Leaf members in one pass over the units.
        let mut members: HashMap<&str, Vec<u32>> = touched[0]
            .iter()
            .filter(|c| state.territories[0].contains_key(*c))
            .map(|c| (c.as_str(), Vec::new()))
            .collect();
        for i in 0..units.len() as u32 {
            if let Some(owner) = state.owner(units, i)
                && let Some(list) = members.get_mut(owner)
            {
                list.push(i);
            }
        }
        let places = self.places.clone();
        let mut accounts = AccountTotals::of_leaves(&state, &places, &touched[0]);
        for (level, codes) in touched.iter().enumerate() {
            for code in codes {
                if !state.territories[level].contains_key(code) {
                    if self.shapes[level].remove(code).is_some() {
                        changed[level].insert(code.clone());
                    }
                    continue;
                }
                let members: Vec<u32> = if level == 0 {
                    members.remove(code.as_str()).unwrap_or_default()
                } else {
                    let mut all: Vec<u32> = state.territories[level - 1]
                        .iter()
                        .filter(|(_, t)| t.parent.as_deref() == Some(code))
                        .filter_map(|(child, _)| self.shapes[level - 1].get(child))
                        .flat_map(|s| s.members.iter().copied())
                        .collect();
                    all.sort_unstable();
                    all
                };
                // The same members keep their outline, and its measures.
                let kept = self.shapes[level].get(code).filter(|old| old.members == members);
                let (geometry, method) = match kept {
                    Some(old) => (old.geometry.clone(), old.method),
                    None => self.dataset.dissolve(code, &members),
                };
                // A leaf's accounts are those it owns; a parent's, its children's.
                let totals = if level == 0 {
                    accounts.remove(code.as_str()).unwrap_or_default()
                } else {
                    let children = state.territories[level - 1]
                        .iter()
                        .filter(|(_, t)| t.parent.as_deref() == Some(code))
                        .filter_map(|(child, _)| self.shapes[level - 1].get(child));
                    AccountTotals::of_children(children.map(|s| &s.metrics))
                };
                let shape = match kept {
                    Some(old) => {
                        let m = &old.metrics;
                        (m.area_km2, m.perimeter_km, m.parts, m.polsby_popper)
                    }
                    None => TerritoryMetrics::shape(&geometry),
                };
                let metrics = self.metrics(&members, shape, totals);
                if let Some(old) = self.shapes[level].get(code)
                    && old.members == members
                    && old.metrics == metrics
                {
                    continue; // unchanged: keep the shared shape
                }
                changed[level].insert(code.clone());
                self.shapes[level].insert(
                    code.clone(),
                    Arc::new(Shape {
                        members,
                        geometry,
                        method,
                        metrics,
                    }),
                );
            }
        }
        (self, changed)
    }

    fn metrics(
        &self,
        members: &[u32],
        shape: (f64, f64, usize, f64),
        accounts: AccountTotals,
    ) -> TerritoryMetrics {
        let mut m = TerritoryMetrics {
            units: members.len(),
            ..TerritoryMetrics::default()
        };
        let means = &self.dataset.means;
        // Per averaged field: Σ value × weight and Σ weight over the units having both.
        let mut weighted: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
        for &u in members {
            let unit = &self.dataset.units.get(u).metrics;
            for (name, value) in unit {
                match means.get(name) {
                    None => *m.sums.entry(name.clone()).or_default() += value,
                    Some(weight) => {
                        if let Some(w) = unit.get(weight) {
                            let entry = weighted.entry(name).or_default();
                            entry.0 += value * w;
                            entry.1 += w;
                        }
                    }
                }
            }
        }
        for (name, (total, weight)) in weighted {
            if weight > 0.0 {
                m.means.insert(name.to_owned(), total / weight);
            }
        }
        (m.accounts, m.account_sums) = (accounts.count, accounts.sums);
        (m.area_km2, m.perimeter_km, m.parts, m.polsby_popper) = shape;
        m
    }

    /// Index of a level by name.
    pub fn level(&self, name: &str) -> Option<usize> {
        self.state.level(Some(name)).ok()
    }
}

/// A unit whose owner differs between two alignments of the same dataset.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UnitDifference {
    /// Unit id.
    pub unit: String,
    /// Its leaf territory in this alignment (null: unassigned).
    pub territory: Option<String>,
    /// Its leaf territory in the other alignment (null: unassigned).
    pub against: Option<String>,
}

impl Snapshot {
    /// Units owned by a leaf territory.
    pub fn assigned_units(&self) -> usize {
        let units = &self.dataset.units;
        (0..units.len() as u32)
            .filter(|&i| self.state.owner(units, i).is_some())
            .count()
    }

    /// Number of territories per level name.
    pub fn territory_counts(&self) -> BTreeMap<String, usize> {
        self.state
            .levels
            .iter()
            .zip(&self.state.territories)
            .map(|(name, t)| (name.clone(), t.len()))
            .collect()
    }

    /// Units whose leaf territory differs in `other` (an alignment of the same dataset).
    pub fn differences(&self, other: &Snapshot) -> Vec<UnitDifference> {
        let units = &self.dataset.units;
        (0..units.len() as u32)
            .filter_map(|i| {
                let (x, y) = (self.state.owner(units, i), other.state.owner(units, i));
                (x != y).then(|| UnitDifference {
                    unit: units.get(i).id.clone(),
                    territory: x.map(str::to_owned),
                    against: y.map(str::to_owned),
                })
            })
            .collect()
    }
}

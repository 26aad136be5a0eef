//! What the renderer reads: a dataset prepared for tiling (arcs and units projected and
//! ranked once) and an alignment at one revision prepared on top of it (territory
//! outlines, label points, colours, who owns each unit, which arcs are boundaries).
//!
//! A view is built from the previous one: shapes the change did not touch (the same
//! `Arc<Shape>`) keep their prepared geometry; colours are a function of the state. Where tiles of
//! two views differ is what the commits between them changed (the engine's
//! [`crate::change::Change`], recorded by the tile service) and the codes whose colour
//! changed ([`AlignmentView::recoloured_since`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use rstar::{AABB, RTree, RTreeObject};

use super::TileOptions;
use super::chains::BoundaryChains;
use super::colour::colour;
use super::label::pole_of_inaccessibility;
use super::prepared::{ArcIndex, EMPTY_BOX, PreparedLine, PreparedPolygons, WorldBox, extend, union};
use super::repair::repair_crossings;
use super::tile_id::lonlat_to_world;
use super::zoomed::{ByZoom, Kept};
use crate::align::PlacedBy;
use crate::snapshot::{DatasetModel, Shape, Snapshot};
use crate::topo::DissolveMethod;

/// Marks "no owner" in [`AlignmentView::owner`] and "not a boundary" in arc ranks.
pub const NONE: u32 = u32::MAX;

/// A box in an R-tree of world coordinates.
#[derive(Debug, Clone)]
pub struct Boxed {
    /// Index of the thing boxed.
    pub index: u32,
    envelope: AABB<[f64; 2]>,
}

impl Boxed {
    /// A boxed index.
    pub fn new(index: u32, bbox: WorldBox) -> Boxed {
        Boxed {
            index,
            envelope: AABB::from_corners([bbox[0], bbox[1]], [bbox[2], bbox[3]]),
        }
    }
}

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// A dataset prepared for tiling.
pub struct DatasetTiles {
    /// The dataset.
    pub dataset: Arc<DatasetModel>,
    /// Every arc of the topology, projected and ranked, kept from crossing each other.
    pub arcs: ArcIndex,
    /// Unit polygons by topology index, prepared on first use.
    units: OnceLock<Vec<PreparedPolygons>>,
    /// Arc vertices kept per zoom, built on first use.
    arcs_kept: ByZoom,
    /// Zooms of the units layer and their tolerances: unit vertices kept at each are
    /// built with the unit polygons, not in the first tile of each zoom.
    unit_zooms: Vec<(u8, f64)>,
    /// World box of the dataset.
    pub bbox: WorldBox,
    /// World box of the dataset with `x0 > x1` when the data lies on both sides of the
    /// antimeridian: the span the data covers ([`crate::geom::circular_span`]).
    pub span: WorldBox,
}

impl std::fmt::Debug for DatasetTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DatasetTiles({}, {} arcs)",
            self.dataset.name,
            self.arcs.lines().len()
        )
    }
}

impl DatasetTiles {
    /// Projects and ranks every arc of a dataset's topology, and keeps them from crossing
    /// at the tolerance of every zoom up to `options.maxzoom`.
    pub fn new(dataset: Arc<DatasetModel>, options: &TileOptions) -> DatasetTiles {
        let started = std::time::Instant::now();
        let topology = &dataset.topology;
        let mut arcs = Vec::with_capacity(topology.arc_count());
        let mut bbox = EMPTY_BOX;
        for a in 0..topology.arc_count() {
            let line = PreparedLine::new(topology.arc(a));
            bbox = union(bbox, line.bbox);
            arcs.push(line);
        }
        let tolerances: Vec<f64> = (0..=options.maxzoom).map(|z| options.tolerance_at(z)).collect();
        let mut pairs: Vec<(Vec<[f64; 2]>, Vec<f32>)> =
            arcs.into_iter().map(|l| (l.coords, l.importance)).collect();
        let restored = repair_crossings(&mut pairs, &tolerances);
        let arcs: Vec<PreparedLine> = pairs
            .into_iter()
            .map(|(coords, importance)| {
                let mut bbox = EMPTY_BOX;
                for p in &coords {
                    extend(&mut bbox, *p);
                }
                PreparedLine {
                    coords,
                    importance,
                    bbox,
                }
            })
            .collect();
        tracing::info!(
            dataset = %dataset.name,
            arcs = arcs.len(),
            restored,
            ms = started.elapsed().as_millis() as u64,
            "dataset prepared for tiles"
        );
        let span = match crate::geom::circular_span(arcs.iter().map(|l| (l.bbox[0], l.bbox[2])), 1.0) {
            Some((x0, x1)) => [x0, bbox[1], x1, bbox[3]],
            None => EMPTY_BOX,
        };
        let arcs = ArcIndex::new(arcs, (0..topology.arc_count()).map(|a| topology.arc(a)));
        let prepared = DatasetTiles {
            dataset,
            arcs,
            units: OnceLock::new(),
            arcs_kept: ByZoom::default(),
            unit_zooms: (options.units_minzoom..=options.maxzoom)
                .map(|z| (z, options.tolerance_at(z)))
                .collect(),
            bbox,
            span,
        };
        // The boundaries layer of every zoom reads them: build them now rather than in
        // the first tile of each zoom.
        for (z, &t) in tolerances.iter().enumerate() {
            let _ = prepared.arcs_kept(z as u8, t);
        }
        prepared
    }

    /// The vertices of every arc kept at `zoom` (importance above `tolerance`).
    pub fn arcs_kept(&self, zoom: u8, tolerance: f64) -> std::borrow::Cow<'_, Kept> {
        self.arcs_kept.get(zoom, tolerance, |t| {
            Kept::new(
                self.arcs
                    .lines()
                    .iter()
                    .map(|l| (l.coords.as_slice(), l.importance.as_slice())),
                t,
            )
        })
    }

    /// Unit polygons by topology index (as the topology rebuilt them, so neighbours share
    /// edges bit for bit) with their vertices kept at every zoom of the units layer,
    /// prepared on first call.
    pub fn units(&self) -> &[PreparedPolygons] {
        self.units.get_or_init(|| {
            let started = std::time::Instant::now();
            let topology = &self.dataset.topology;
            let units: Vec<PreparedPolygons> = (0..topology.unit_count())
                .map(|t| {
                    let unit = PreparedPolygons::new(&topology.unit_geometry(t), &self.arcs);
                    for &(zoom, tolerance) in &self.unit_zooms {
                        let _ = unit.kept(zoom, tolerance);
                    }
                    unit
                })
                .collect();
            tracing::info!(
                dataset = %self.dataset.name,
                units = units.len(),
                ms = started.elapsed().as_millis() as u64,
                "unit polygons prepared for tiles"
            );
            units
        })
    }
}

/// A territory (district, region) outline prepared for tiling.
#[derive(Debug)]
pub struct PreparedShape {
    /// The snapshot's shape.
    pub shape: Arc<Shape>,
    /// Its outline in world coordinates, ranked.
    pub geometry: PreparedPolygons,
    /// Label point (pole of inaccessibility of the largest part), world coordinates.
    pub label: Option<[f64; 2]>,
    /// For an outline from the overlay fallback (not built from the topology's arcs):
    /// its polygon units by topology index, drawn as their union so that its edges
    /// match its neighbours' at every zoom.
    pub members: Option<Vec<u32>>,
}

impl PreparedShape {
    fn new(shape: Arc<Shape>, dataset: &DatasetTiles, options: &TileOptions) -> PreparedShape {
        let geometry = PreparedPolygons::new(&shape.geometry, &dataset.arcs);
        // Built lazily, the kept vertices of a zoom cost the first tile to touch the
        // outline there a scan of every vertex: build them with the shape (views reuse
        // the shapes a change did not touch).
        for z in options.minzoom..=options.maxzoom {
            let _ = geometry.kept(z, options.tolerance_at(z));
        }
        let label = label_point(&geometry);
        let members = (shape.method == DissolveMethod::Fallback).then(|| {
            shape
                .members
                .iter()
                .filter_map(|&u| dataset.dataset.topo_of_unit[u as usize])
                .collect()
        });
        PreparedShape {
            shape,
            geometry,
            label,
            members,
        }
    }
}

fn label_point(geometry: &PreparedPolygons) -> Option<[f64; 2]> {
    let largest = geometry.polygons.iter().max_by(|a, b| {
        let area = |p: &super::prepared::Polygon| {
            let r = &geometry.rings[p.start as usize];
            (r.bbox[2] - r.bbox[0]) * (r.bbox[3] - r.bbox[1])
        };
        area(a).total_cmp(&area(b))
    })?;
    let rings: Vec<&[[f64; 2]]> = geometry.rings[largest.start as usize..largest.end as usize]
        .iter()
        .map(|r| geometry.ring(r).0)
        .collect();
    let b = geometry.rings[largest.start as usize].bbox;
    let precision = ((b[2] - b[0]).min(b[3] - b[1]) / 50.0).max(1e-12);
    Some(pole_of_inaccessibility(&rings, precision))
}

/// One level (territories, districts, regions) of a view.
#[derive(Debug)]
pub struct LevelView {
    /// Level name (`territory`).
    pub name: String,
    /// Layer name (`territories`).
    pub layer: String,
    /// Codes, sorted; an item's index is its feature id.
    pub codes: Vec<String>,
    /// Prepared shapes, by index.
    pub shapes: Vec<Arc<PreparedShape>>,
    /// Colour index, by index.
    pub colours: Vec<u8>,
    /// R-tree of the shapes' boxes.
    pub tree: RTree<Boxed>,
}

/// A point feature (rep or account) in world coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct PointItem {
    /// Id.
    pub id: String,
    /// Where.
    pub at: [f64; 2],
    /// Properties: name, owner, metrics.
    pub properties: Vec<(String, PointValue)>,
}

/// A point property value.
#[derive(Debug, Clone, PartialEq)]
pub enum PointValue {
    /// Text.
    Text(String),
    /// Number.
    Number(f64),
}

/// An alignment at one revision, prepared for tiling.
pub struct AlignmentView {
    /// The snapshot.
    pub snapshot: Arc<Snapshot>,
    /// Its dataset prepared.
    pub dataset: Arc<DatasetTiles>,
    /// Levels, leaf first.
    pub levels: Vec<LevelView>,
    /// `owner[level][topology unit]`: item index at that level, or [`NONE`].
    pub owner: Vec<Vec<u32>>,
    /// Per arc: the highest level whose items differ on its two sides (0 next to an
    /// unassigned unit), or `u8::MAX` (internal to a territory, or on the outside).
    pub arc_rank: Vec<u8>,
    /// Reps with a location.
    pub reps: Vec<PointItem>,
    /// Accounts.
    pub accounts: Vec<PointItem>,
    /// The boundary arcs (rank not `u8::MAX`) joined into chains.
    boundary_chains: BoundaryChains,
}

impl std::fmt::Debug for AlignmentView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AlignmentView({} at revision {})",
            self.snapshot.alignment, self.snapshot.revision
        )
    }
}

/// Layer name of a level: its name in the plural (`territory` -> `territories`).
pub fn layer_name(level: &str) -> String {
    let lower = level.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") || lower.ends_with("sh") {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

impl AlignmentView {
    /// Prepares `snapshot`, reusing what `previous` (an earlier view of the same
    /// alignment) already prepared.
    pub fn new(
        snapshot: Arc<Snapshot>,
        dataset: Arc<DatasetTiles>,
        previous: Option<&AlignmentView>,
        options: &TileOptions,
    ) -> AlignmentView {
        let started = std::time::Instant::now();
        let state = &snapshot.state;
        let units = &snapshot.dataset.units;
        let topo_units = snapshot.dataset.unit_of_topo.len();
        let previous = previous.filter(|p| Arc::ptr_eq(&p.dataset, &dataset));
        // Prepared shapes, reused when the snapshot shares the shape.
        let mut levels: Vec<LevelView> = Vec::with_capacity(state.levels.len());
        for (level, name) in state.levels.iter().enumerate() {
            let old: HashMap<&str, &Arc<PreparedShape>> = previous
                .and_then(|p| p.levels.get(level))
                .map(|l| l.codes.iter().map(String::as_str).zip(l.shapes.iter()).collect())
                .unwrap_or_default();
            let mut codes = Vec::new();
            let mut shapes = Vec::new();
            for (code, shape) in &snapshot.shapes[level] {
                let prepared = match old.get(code.as_str()) {
                    Some(p) if Arc::ptr_eq(&p.shape, shape) => (*p).clone(),
                    _ => Arc::new(PreparedShape::new(shape.clone(), &dataset, options)),
                };
                codes.push(code.clone());
                shapes.push(prepared);
            }
            let tree = RTree::bulk_load(
                shapes
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| !s.geometry.is_empty())
                    .map(|(i, s)| Boxed::new(i as u32, s.geometry.bbox))
                    .collect(),
            );
            levels.push(LevelView {
                name: name.clone(),
                layer: layer_name(name),
                codes,
                shapes,
                colours: Vec::new(),
                tree,
            });
        }
        // Owner of every polygon unit at every level.
        let index_of: Vec<HashMap<&str, u32>> = levels
            .iter()
            .map(|l| {
                l.codes
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.as_str(), i as u32))
                    .collect()
            })
            .collect();
        let mut owner: Vec<Vec<u32>> = vec![vec![NONE; topo_units]; levels.len()];
        for (t, &u) in snapshot.dataset.unit_of_topo.iter().enumerate() {
            let Some(leaf) = state.owner(units, u) else {
                continue;
            };
            let mut code: Option<&str> = Some(leaf);
            for level in 0..levels.len() {
                let Some(c) = code else { break };
                owner[level][t] = index_of[level].get(c).copied().unwrap_or(NONE);
                code = state.territories[level].get(c).and_then(|t| t.parent.as_deref());
            }
        }
        // Boundary rank of every arc, and adjacency per level.
        let topology = &snapshot.dataset.topology;
        let mut arc_rank = vec![u8::MAX; topology.arc_count()];
        let mut edges: Vec<BTreeSet<(u32, u32)>> = vec![BTreeSet::new(); levels.len()];
        for (a, rank) in arc_rank.iter_mut().enumerate() {
            let (Some(l), Some(r)) = topology.arc_sides(a) else {
                continue;
            };
            // An edge facing an unassigned unit bounds a territory, not a whole region.
            let unassigned = owner[0][l as usize] == NONE || owner[0][r as usize] == NONE;
            for level in (0..levels.len()).rev() {
                let (ol, or) = (owner[level][l as usize], owner[level][r as usize]);
                if ol != or {
                    if *rank == u8::MAX {
                        *rank = if unassigned { 0 } else { level as u8 };
                    }
                    if ol != NONE && or != NONE {
                        edges[level].insert((ol.min(or), ol.max(or)));
                    }
                }
            }
        }
        // Colours are a function of the state: each code starts from a colour of its
        // own (a hash of the code), so undo, redo and a restart give the same map, and
        // an edit recolours only where adjacency changed.
        for (level, view) in levels.iter_mut().enumerate() {
            let preferred: Vec<Option<u8>> = view
                .codes
                .iter()
                .map(|c| Some(preferred_colour(c, options.max_colours)))
                .collect();
            let edges: Vec<(u32, u32)> = edges[level].iter().copied().collect();
            view.colours = colour(view.codes.len(), &edges, &preferred, options.max_colours);
        }
        let (reps, accounts) = points(&snapshot);
        let boundary_chains = BoundaryChains::new(&arc_rank, dataset.arcs.lines());
        tracing::debug!(
            alignment = %snapshot.alignment,
            revision = snapshot.revision,
            ms = started.elapsed().as_millis() as u64,
            "alignment prepared for tiles"
        );
        AlignmentView {
            snapshot,
            dataset,
            levels,
            owner,
            arc_rank,
            reps,
            accounts,
            boundary_chains,
        }
    }

    /// The arcs drawn in the boundaries layer, joined into chains: a tile's query does
    /// not walk the arcs inside territories, nor join arcs itself.
    pub fn boundary_chains(&self) -> &BoundaryChains {
        &self.boundary_chains
    }

    /// World boxes where tiles of `self` differ from those of `older` by what the
    /// commits between them cannot say: the colours, which this view gives (a code kept
    /// from `older` may take another colour where adjacency changed). The whole world
    /// when the dataset or the levels differ.
    pub fn recoloured_since(&self, older: &AlignmentView) -> Vec<WorldBox> {
        if !Arc::ptr_eq(&self.dataset, &older.dataset) || self.levels.len() != older.levels.len() {
            return vec![[f64::NEG_INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::INFINITY]];
        }
        let mut dirty = Vec::new();
        for (new, old) in self.levels.iter().zip(&older.levels) {
            let old_colours: HashMap<&str, (u8, WorldBox)> = old
                .codes
                .iter()
                .zip(&old.colours)
                .zip(&old.shapes)
                .map(|((c, &colour), shape)| (c.as_str(), (colour, shape.geometry.bbox)))
                .collect();
            for ((code, colour), shape) in new.codes.iter().zip(&new.colours).zip(&new.shapes) {
                if let Some(&(was, old_box)) = old_colours.get(code.as_str())
                    && was != *colour
                {
                    dirty.push(union(shape.geometry.bbox, old_box));
                }
            }
        }
        dirty.retain(|b| b[0] <= b[2]);
        dirty
    }

    /// World box of the dataset.
    pub fn bbox(&self) -> WorldBox {
        self.dataset.bbox
    }

    /// World box of the dataset, `x0 > x1` across the antimeridian ([`DatasetTiles::span`]).
    pub fn span(&self) -> WorldBox {
        self.dataset.span
    }
}

fn points(snapshot: &Snapshot) -> (Vec<PointItem>, Vec<PointItem>) {
    let state = &snapshot.state;
    let mut territories_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (code, t) in &state.territories[0] {
        for rep in &t.reps {
            territories_of
                .entry(rep.as_str())
                .or_default()
                .push(code.as_str());
        }
    }
    let reps = state
        .reps
        .iter()
        .filter_map(|(id, rep)| {
            let (lon, lat) = (rep.lon?, rep.lat?);
            let mut properties = vec![("name".to_owned(), PointValue::Text(rep.name.clone()))];
            if let Some(list) = territories_of.get(id.as_str()) {
                properties.push(("territories".to_owned(), PointValue::Text(list.join(","))));
            }
            Some(PointItem {
                id: id.clone(),
                at: lonlat_to_world(lon, lat),
                properties,
            })
        })
        .collect();
    let accounts = snapshot
        .placed_accounts()
        .map(|(id, a, place)| {
            let mut properties = vec![("name".to_owned(), PointValue::Text(a.record.name.clone()))];
            if let Some((owner, by)) = place.owner() {
                properties.push((state.levels[0].clone(), PointValue::Text(owner.to_owned())));
                properties.push((
                    "override".to_owned(),
                    PointValue::Number(f64::from(u8::from(by == PlacedBy::Override))),
                ));
                properties.push(("placed_by".to_owned(), PointValue::Text(by.name().to_owned())));
                if let Some(rule) = by.rule() {
                    properties.push(("rule".to_owned(), PointValue::Text(rule.to_owned())));
                }
            }
            for (name, value) in &a.record.metrics {
                properties.push((name.to_owned(), PointValue::Number(*value)));
            }
            for (name, value) in &a.record.attributes {
                if !properties.iter().any(|(n, _)| n == name) {
                    properties.push((name.to_owned(), PointValue::Text(value.to_string())));
                }
            }
            PointItem {
                id: id.to_owned(),
                at: lonlat_to_world(a.record.lon, a.record.lat),
                properties,
            }
        })
        .collect();
    (reps, accounts)
}

/// The colour a code takes when no neighbour has it: FNV-1a of the code, so the same
/// on every run and machine.
fn preferred_colour(code: &str, max: u8) -> u8 {
    let hash = code.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash % u64::from(max.max(1))) as u8
}

/// The world box of a set of points, or `None`.
pub fn points_box(points: &[PointItem]) -> Option<WorldBox> {
    let mut b = EMPTY_BOX;
    for p in points {
        extend(&mut b, p.at);
    }
    (b[0] <= b[2]).then_some(b)
}

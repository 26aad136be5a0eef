//! Renders one tile of an [`AlignmentView`]: picks what the tile (plus buffer) touches,
//! keeps the vertices important at its zoom, snaps them to the tile grid, clips and
//! repairs, and encodes the layers.
//!
//! Layers: one per level (`regions`, `districts`, `territories`: id, name, parent, reps,
//! metrics, `color`), `units` from [`TileOptions::units_minzoom`] (id, the owning code
//! at every level, unit metrics), `boundaries` (lines between neighbours, `level` the
//! highest level whose items differ across them), `labels` (one point per item, in
//! the tile holding it), `reps` and `accounts` (points).

use super::TileOptions;
use super::clip::{GridPolygon, clip_line, clip_polygons, pre_clip_ring};
use super::encode::{LayerBuilder, Value, encode_tile};
use super::prepared::{PreparedPolygons, WorldBox, intersects};
use super::tile_id::TileId;
use super::view::{AlignmentView, NONE, PointValue};
use super::zoomed::Kept;

/// Name of the boundaries layer.
pub const BOUNDARIES: &str = "boundaries";
/// Name of the labels layer.
pub const LABELS: &str = "labels";
/// Name of the units layer.
pub const UNITS: &str = "units";
/// Name of the reps layer.
pub const REPS: &str = "reps";
/// Name of the accounts layer.
pub const ACCOUNTS: &str = "accounts";

/// World-to-grid transform of one tile and the thresholds of its zoom.
#[derive(Debug, Clone, Copy)]
pub struct Grid {
    scale: f64,
    origin: [f64; 2],
    /// Importance a vertex needs to be kept (world units).
    pub tolerance: f64,
    /// World box of the tile plus its buffer.
    pub clip: WorldBox,
    /// World box of the tile itself.
    pub inner: WorldBox,
    /// World box of the tile plus twice its buffer: rings are pre-clipped to it.
    pub window: WorldBox,
    /// Zoom.
    pub zoom: u8,
    extent: i32,
    buffer: i32,
    /// Parts smaller than this on both axes (grid units) are dropped.
    min_size: f64,
}

impl Grid {
    /// The grid of `tile`.
    pub fn new(tile: TileId, options: &TileOptions) -> Grid {
        let extent = f64::from(options.extent);
        let scale = tile.span() * extent;
        Grid {
            scale,
            origin: [f64::from(tile.x) * extent, f64::from(tile.y) * extent],
            tolerance: options.tolerance_at(tile.z),
            clip: tile.world_bounds(f64::from(options.buffer) / extent),
            inner: tile.world_bounds(0.0),
            window: tile.world_bounds(2.0 * f64::from(options.buffer) / extent),
            zoom: tile.z,
            extent: options.extent as i32,
            buffer: options.buffer as i32,
            min_size: options.min_size,
        }
    }

    fn to_grid(self, p: [f64; 2]) -> [f64; 2] {
        [
            p[0] * self.scale - self.origin[0],
            p[1] * self.scale - self.origin[1],
        ]
    }

    fn snap(self, p: [f64; 2]) -> [i32; 2] {
        let g = self.to_grid(p);
        [g[0].round() as i32, g[1].round() as i32]
    }

    fn size(self, b: &WorldBox) -> f64 {
        ((b[2] - b[0]) * self.scale).max((b[3] - b[1]) * self.scale)
    }
}

/// Renders a tile to MVT bytes (empty when nothing is in it).
pub fn render(view: &AlignmentView, tile: TileId, options: &TileOptions) -> Vec<u8> {
    let grid = Grid::new(tile, options);
    let mut layers = Vec::new();
    let state = &view.snapshot.state;
    let extent = options.extent;

    // Levels, top first (so a reader sees regions before territories).
    for (level, lv) in view.levels.iter().enumerate().rev() {
        let mut layer = LayerBuilder::new(&lv.layer, extent);
        let envelope = rstar::AABB::from_corners([grid.clip[0], grid.clip[1]], [grid.clip[2], grid.clip[3]]);
        let mut hits: Vec<u32> = lv
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|b| b.index)
            .collect();
        hits.sort_unstable();
        for i in hits {
            let shape = &lv.shapes[i as usize];
            let polygons = match &shape.members {
                Some(members) => {
                    let units = view.dataset.units();
                    union_geometry(members.iter().filter_map(|&t| units.get(t as usize)), &grid)
                }
                None => polygon_geometry(&shape.geometry, &grid),
            };
            if polygons.is_empty() {
                continue;
            }
            let code = &lv.codes[i as usize];
            let mut props: Vec<(&str, Value)> = vec![("id", Value::from(code.as_str()))];
            if let Some(t) = state.territories[level].get(code) {
                props.push(("name", Value::from(t.name.as_str())));
                if let Some(parent) = &t.parent {
                    props.push(("parent", Value::from(parent.as_str())));
                }
                if !t.reps.is_empty() {
                    let ids: Vec<&str> = t.reps.iter().map(String::as_str).collect();
                    props.push(("reps", Value::from(ids.join(","))));
                    let names: Vec<&str> = t
                        .reps
                        .iter()
                        .filter_map(|r| state.reps.get(r).map(|r| r.name.as_str()))
                        .collect();
                    props.push(("rep_names", Value::from(names.join(", "))));
                }
            }
            props.push(("color", Value::Uint(u64::from(lv.colours[i as usize]))));
            let m = &shape.shape.metrics;
            props.push(("units", Value::Uint(m.units as u64)));
            props.push(("accounts", Value::Uint(m.accounts as u64)));
            props.push(("area_km2", Value::from(round(m.area_km2, 100.0))));
            for (name, value) in m.sums.iter().chain(&m.means).chain(&m.account_sums) {
                props.push((name.as_str(), Value::from(round(*value, 1000.0))));
            }
            layer.polygons(Some(u64::from(i)), &props, &polygons);
        }
        layers.push(layer);
    }

    if tile.z >= options.units_minzoom {
        layers.push(units_layer(view, &grid, extent));
    }
    layers.push(boundaries_layer(view, &grid, extent));
    layers.push(labels_layer(view, &grid, extent));
    if tile.z >= options.points_minzoom {
        layers.push(points_layer(REPS, &view.reps, &grid, extent));
        layers.push(points_layer(ACCOUNTS, &view.accounts, &grid, extent));
    }
    encode_tile(layers)
}

/// A label's size class: log2 of the area in km² (few distinct values, cheap in tiles).
fn size_class(area_km2: f64) -> u64 {
    (area_km2.max(0.0) + 1.0).log2().round() as u64
}

fn round(v: f64, factor: f64) -> f64 {
    (v * factor).round() / factor
}

/// Keeps the important vertices of each ring, snaps, clips and repairs. Parts too small
/// to see are dropped, except the largest when every part is.
pub fn polygon_geometry(geometry: &PreparedPolygons, grid: &Grid) -> Vec<GridPolygon> {
    if !intersects(&geometry.bbox, &grid.clip) {
        return Vec::new();
    }
    let kept = geometry.kept(grid.zoom, grid.tolerance);
    let mut input: Vec<GridPolygon> = Vec::new();
    let mut largest_small: Option<(f64, usize)> = None;
    for (p, polygon) in geometry.polygons.iter().enumerate() {
        let exterior = &geometry.rings[polygon.start as usize];
        if !intersects(&exterior.bbox, &grid.clip) {
            continue;
        }
        let size = grid.size(&exterior.bbox);
        if size < grid.min_size {
            if largest_small.is_none_or(|(s, _)| size > s) {
                largest_small = Some((size, p));
            }
            continue;
        }
        if let Some(rings) = polygon_rings(geometry, &kept, p, grid, grid.min_size) {
            input.push(rings);
        }
    }
    if input.is_empty()
        && let Some((_, p)) = largest_small
        && let Some(rings) = polygon_rings(geometry, &kept, p, grid, grid.min_size)
    {
        input.push(rings);
    }
    if input.is_empty() {
        return Vec::new();
    }
    clip_polygons(&input, grid.extent, grid.buffer, 0)
}

/// The union of parts (units sharing arcs), snapped, clipped and repaired in one
/// overlay: edges inside the union cancel, edges outside match the neighbours'.
pub fn union_geometry<'a>(
    parts: impl Iterator<Item = &'a PreparedPolygons>,
    grid: &Grid,
) -> Vec<GridPolygon> {
    let mut input: Vec<GridPolygon> = Vec::new();
    for geometry in parts {
        if !intersects(&geometry.bbox, &grid.clip) {
            continue;
        }
        let kept = geometry.kept(grid.zoom, grid.tolerance);
        for (p, polygon) in geometry.polygons.iter().enumerate() {
            if intersects(&geometry.rings[polygon.start as usize].bbox, &grid.clip)
                && let Some(rings) = polygon_rings(geometry, &kept, p, grid, 0.0)
            {
                input.push(rings);
            }
        }
    }
    if input.is_empty() {
        return Vec::new();
    }
    clip_polygons(&input, grid.extent, grid.buffer, 0)
}

/// The rings of polygon `p` on the grid: kept vertices, runs beside the window reduced
/// to their ends, far parts pre-clipped into integer range, snapped.
fn polygon_rings(
    geometry: &PreparedPolygons,
    kept: &Kept,
    p: usize,
    grid: &Grid,
    min_size: f64,
) -> Option<GridPolygon> {
    let polygon = &geometry.polygons[p];
    let mut out: GridPolygon = Vec::new();
    let window = f64::from(grid.buffer * 2);
    let (lo, hi) = (-window, f64::from(grid.extent) + window);
    let mut floats: Vec<[f64; 2]> = Vec::new();
    for r in polygon.start as usize..polygon.end as usize {
        let ring = &geometry.rings[r];
        let exterior = r == polygon.start as usize;
        if !exterior && (!intersects(&ring.bbox, &grid.clip) || grid.size(&ring.bbox) < min_size) {
            continue;
        }
        let coords = &geometry.coords[ring.start as usize..ring.end as usize];
        let g0 = grid.to_grid([ring.bbox[0], ring.bbox[1]]);
        let g1 = grid.to_grid([ring.bbox[2], ring.bbox[3]]);
        let inside = g0[0] >= lo && g0[1] >= lo && g1[0] <= hi && g1[1] <= hi;
        let mut snapped: Vec<[i32; 2]> = Vec::with_capacity(kept.ring(r).len() + 4);
        let mut push = |p: [f64; 2]| {
            let s = [p[0].round() as i32, p[1].round() as i32];
            if snapped.last() != Some(&s) {
                snapped.push(s);
            }
        };
        if inside {
            kept.ring(r)
                .iter()
                .for_each(|&i| push(grid.to_grid(coords[i as usize])));
        } else {
            floats.clear();
            kept.visit(r, coords, &grid.window, |c| floats.push(grid.to_grid(c)));
            pre_clip_ring(&floats, lo, hi).into_iter().for_each(&mut push);
        }
        while snapped.len() > 1 && snapped.first() == snapped.last() {
            snapped.pop();
        }
        if snapped.len() < 3 {
            if exterior {
                return None;
            }
            continue;
        }
        out.push(snapped);
    }
    Some(out)
}

fn units_layer(view: &AlignmentView, grid: &Grid, extent: u32) -> LayerBuilder {
    let mut layer = LayerBuilder::new(UNITS, extent);
    let dataset = &view.snapshot.dataset;
    let prepared = view.dataset.units();
    let [west, south, east, north] = {
        let [x0, y0, x1, y1] = grid.clip;
        let a = super::tile_id::world_to_lonlat(x0, y0);
        let b = super::tile_id::world_to_lonlat(x1, y1);
        [a[0], b[1], b[0], a[1]]
    };
    let envelope = rstar::AABB::from_corners([west, south], [east, north]);
    let mut hits: Vec<u32> = dataset
        .tree
        .locate_in_envelope_intersecting(&envelope)
        .map(|c| c.index)
        .collect();
    hits.sort_unstable();
    for t in hits {
        let Some(geometry) = prepared.get(t as usize) else {
            continue;
        };
        let polygons = polygon_geometry(geometry, grid);
        if polygons.is_empty() {
            continue;
        }
        let u = dataset.unit_of_topo[t as usize];
        let info = dataset.units.get(u);
        let mut props: Vec<(&str, Value)> = vec![("id", Value::from(info.id.as_str()))];
        for (level, lv) in view.levels.iter().enumerate() {
            let owner = view.owner[level][t as usize];
            if owner != NONE {
                props.push((lv.name.as_str(), Value::from(lv.codes[owner as usize].as_str())));
            }
        }
        for (name, value) in &info.metrics {
            props.push((name.as_str(), Value::from(*value)));
        }
        layer.polygons(Some(u64::from(u)), &props, &polygons);
    }
    layer
}

fn boundaries_layer(view: &AlignmentView, grid: &Grid, extent: u32) -> LayerBuilder {
    let mut layer = LayerBuilder::new(BOUNDARIES, extent);
    let envelope = rstar::AABB::from_corners([grid.clip[0], grid.clip[1]], [grid.clip[2], grid.clip[3]]);
    let chains = view.boundary_chains();
    let mut hits: Vec<u32> = chains
        .tree()
        .locate_in_envelope_intersecting(&envelope)
        .map(|b| b.index)
        .collect();
    hits.sort_unstable();
    let kept = view.dataset.arcs_kept(grid.zoom, grid.tolerance);
    let lines = view.dataset.arcs.lines();
    let (lo, hi) = (-f64::from(grid.buffer), f64::from(grid.extent + grid.buffer));
    let mut per_level: Vec<Vec<Vec<[i32; 2]>>> = vec![Vec::new(); view.levels.len()];
    // The line being followed (grid coordinates, before clipping).
    let mut line: Vec<[f64; 2]> = Vec::new();
    let mut reversed: Vec<[f64; 2]> = Vec::new();
    let mut flush = |line: &mut Vec<[f64; 2]>, rank: u8| {
        if line.len() >= 2 {
            per_level[usize::from(rank)].extend(clip_line(line, lo, hi));
        }
        line.clear();
    };
    let mut previous: Option<usize> = None;
    for p in hits.into_iter().map(|p| p as usize) {
        let rank = chains.rank(p);
        // Consecutive pieces of one chain continue the same line.
        let continues = previous.is_some_and(|q| q + 1 == p && chains.chain(q) == chains.chain(p));
        if !continues && let Some(q) = previous {
            flush(&mut line, chains.rank(q));
        }
        previous = Some(p);
        for &(a, forward) in chains.arcs(p) {
            let arc = &lines[a as usize];
            if !intersects(&arc.bbox, &grid.clip) {
                flush(&mut line, rank);
                continue;
            }
            if forward {
                kept.visit(a as usize, &arc.coords, &grid.clip, |c| {
                    line.push(grid.to_grid(c))
                });
            } else {
                reversed.clear();
                kept.visit(a as usize, &arc.coords, &grid.clip, |c| {
                    reversed.push(grid.to_grid(c))
                });
                line.extend(reversed.iter().rev());
            }
        }
    }
    if let Some(q) = previous {
        flush(&mut line, chains.rank(q));
    }
    for (level, parts) in per_level.into_iter().enumerate() {
        if parts.is_empty() {
            continue;
        }
        let props = [
            ("level", Value::from(view.levels[level].name.as_str())),
            ("rank", Value::Uint(level as u64)),
        ];
        layer.lines(Some(level as u64), &props, &parts);
    }
    layer
}

fn labels_layer(view: &AlignmentView, grid: &Grid, extent: u32) -> LayerBuilder {
    let mut layer = LayerBuilder::new(LABELS, extent);
    let state = &view.snapshot.state;
    let envelope = rstar::AABB::from_corners([grid.inner[0], grid.inner[1]], [grid.inner[2], grid.inner[3]]);
    let mut id = 0u64;
    for (level, lv) in view.levels.iter().enumerate().rev() {
        let mut hits: Vec<u32> = lv
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|b| b.index)
            .collect();
        hits.sort_unstable();
        for i in hits {
            let shape = &lv.shapes[i as usize];
            let Some(at) = shape.label else { continue };
            // Only in the tile holding the point (half-open), so it is drawn once.
            if !(at[0] >= grid.inner[0]
                && at[0] < grid.inner[2]
                && at[1] >= grid.inner[1]
                && at[1] < grid.inner[3])
            {
                continue;
            }
            let code = &lv.codes[i as usize];
            let name = state.territories[level]
                .get(code)
                .map(|t| t.name.as_str())
                .filter(|n| !n.is_empty())
                .unwrap_or(code.as_str());
            let props = [
                ("level", Value::from(lv.name.as_str())),
                ("rank", Value::Uint(level as u64)),
                ("id", Value::from(code.as_str())),
                ("name", Value::from(name)),
                ("color", Value::Uint(u64::from(lv.colours[i as usize]))),
                ("size", Value::Uint(size_class(shape.shape.metrics.area_km2))),
            ];
            layer.point(Some(id), &props, grid.snap(at));
            id += 1;
        }
    }
    layer
}

fn points_layer(name: &str, points: &[super::view::PointItem], grid: &Grid, extent: u32) -> LayerBuilder {
    let mut layer = LayerBuilder::new(name, extent);
    for (i, p) in points.iter().enumerate() {
        if !(p.at[0] >= grid.inner[0]
            && p.at[0] < grid.inner[2]
            && p.at[1] >= grid.inner[1]
            && p.at[1] < grid.inner[3])
        {
            continue;
        }
        let mut props: Vec<(&str, Value)> = vec![("id", Value::from(p.id.as_str()))];
        for (key, value) in &p.properties {
            props.push((
                key.as_str(),
                match value {
                    PointValue::Text(t) => Value::from(t.as_str()),
                    PointValue::Number(n) => Value::from(*n),
                },
            ));
        }
        layer.point(Some(i as u64), &props, grid.snap(p.at));
    }
    layer
}

//! Point location by an adaptive grid: a uniform root grid over the dataset whose
//! cells split 4 × 4 (up to [`MAX_DEPTH`] times) while a ring edge crosses them and
//! they hold more than [`LEAF_EDGES`] edges. Every cell is one of
//!
//! - **constant**: crossed by no edge, so one answer (a polygon, or outside every
//!   polygon) found once at build; a lookup is a few array reads;
//! - **leaf**: crossed by a few edges, grouped by polygon, with a reference point `r`
//!   whose owner is known. A polygon contains `q` iff it contains `r` XOR the segment
//!   `r → q` crosses its edges in the cell an odd number of times (the segment stays in
//!   the cell, so no other edge can cross it). A lookup tests only those short edge
//!   lists, not whole polygons.
//!
//! All orientation tests use exact predicates (`robust::orient2d`). When `q` lies on
//! an edge's line, or `r → q` passes through a vertex, the polygon is decided by the
//! full crossing-number test instead, which detects "on the boundary" exactly.
//!
//! Border rule: a point in (or on the boundary of) several polygons belongs to the
//! one with the smallest rank (the caller's unit order), so answers are deterministic.

use geo::{BoundingRect, MultiPolygon};
use robust::{Coord, orient2d};
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

/// Children per side when a cell splits.
const FANOUT: usize = 4;
/// A cell crossed by at most this many edges becomes a leaf.
const LEAF_EDGES: usize = 8;
/// Deepest split below the root grid (cells 4^-MAX_DEPTH of a root cell per side).
const MAX_DEPTH: u32 = 4;
/// Root cells per polygon.
const ROOT_CELLS_PER_POLYGON: usize = 4;

/// Node word: a split cell; the low 30 bits index the first of its 16 children.
const SPLIT: u32 = 1 << 31;
/// Node word: a leaf cell; the low 30 bits index its header in [`PointGrid::slots`].
const LEAF: u32 = 1 << 30;
/// Node word: outside every polygon (checked before the tag bits).
const OUTSIDE: u32 = u32::MAX;
/// Mask of a node word's payload.
const PAYLOAD: u32 = LEAF - 1;

/// A polygon's rings, flattened.
#[derive(Debug, Clone)]
struct Flat {
    /// Bounding box: min x, min y, max x, max y.
    bbox: [f64; 4],
    /// Ring ranges into `coords` (each ring closed: first == last).
    rings: Vec<(u32, u32)>,
}

/// One 48-byte slot of a leaf block. A leaf is a header slot (`a` = reference point
/// `r`, `polygon`/`rank` = the smallest-rank polygon containing the whole cell or
/// [`OUTSIDE`], `count` = edge slots that follow, `flags` = [`TRUSTED`]) followed by
/// its edges grouped by polygon in rank order, so a lookup reads one contiguous block.
#[derive(Debug, Clone, Copy)]
struct Slot {
    a: [f64; 2],
    b: [f64; 2],
    polygon: u32,
    rank: u32,
    flags: u32,
    count: u32,
}

/// Header flag: `r` is on no edge's line, so crossings from it decide.
const TRUSTED: u32 = 1;
/// Edge flag: `orient2d(a, b, r) > 0`.
const R_LEFT: u32 = 1;
/// Edge flag: the edge's polygon contains `r`.
const CONTAINS_R: u32 = 2;

/// An edge while building: polygon and index of its first vertex in `coords`.
type EdgeRef = (u32, u32);

/// Where a point lies relative to one polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Outside,
    Inside,
    Boundary,
}

/// Counts of a built grid, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GridStats {
    /// Root cells.
    pub root_cells: usize,
    /// Nodes (root cells and split children).
    pub nodes: usize,
    /// Leaf cells.
    pub leaves: usize,
    /// Slots of all leaf blocks (a header per leaf and its edges).
    pub leaf_slots: usize,
}

/// The point-location index.
#[derive(Debug, Clone, Default)]
pub struct PointGrid {
    min_x: f64,
    min_y: f64,
    /// Root cell size and its inverse.
    cell: f64,
    inv_cell: f64,
    nx: usize,
    ny: usize,
    /// Root cells (`ny × nx`, row-major), then blocks of 16 children.
    nodes: Vec<u32>,
    /// Leaf blocks.
    slots: Vec<Slot>,
    leaves: usize,
    polygons: Vec<Flat>,
    coords: Vec<[f64; 2]>,
    /// Rank of each polygon for ties (smaller wins).
    rank: Vec<u32>,
}

fn c(p: [f64; 2]) -> Coord<f64> {
    Coord { x: p[0], y: p[1] }
}

/// Whether segment `a b` may touch the box (conservative: the box is already widened).
fn touches(a: [f64; 2], b: [f64; 2], bx: [f64; 4]) -> bool {
    if a[0].max(b[0]) < bx[0] || a[0].min(b[0]) > bx[2] || a[1].max(b[1]) < bx[1] || a[1].min(b[1]) > bx[3] {
        return false;
    }
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let side = |x: f64, y: f64| dx * (y - a[1]) - dy * (x - a[0]);
    let s = [
        side(bx[0], bx[1]),
        side(bx[2], bx[1]),
        side(bx[0], bx[3]),
        side(bx[2], bx[3]),
    ];
    !(s.iter().all(|v| *v > 0.0) || s.iter().all(|v| *v < 0.0))
}

/// Where a leaf's reference point may go, as fractions of the cell (centre first).
const REFERENCE_SPOTS: [(f64, f64); 9] = [
    (0.5, 0.5),
    (0.31, 0.67),
    (0.71, 0.29),
    (0.23, 0.19),
    (0.83, 0.77),
    (0.41, 0.87),
    (0.59, 0.13),
    (0.13, 0.47),
    (0.89, 0.53),
];

/// The growing index while building.
struct Builder {
    grid: PointGrid,
    bboxes: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
}

/// The polygons containing a point, known exactly while building.
#[derive(Debug, Clone)]
struct Status {
    p: [f64; 2],
    owners: Vec<u32>,
}

impl PointGrid {
    /// Builds the index; `rank[i]` orders polygon `i` for border ties.
    pub fn new(polygons: &[MultiPolygon<f64>], rank: Vec<u32>) -> PointGrid {
        let mut flats = Vec::with_capacity(polygons.len());
        let mut coords = Vec::new();
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for polygon in polygons {
            let Some(r) = polygon.bounding_rect() else {
                flats.push(Flat {
                    bbox: [f64::MAX, f64::MAX, f64::MIN, f64::MIN],
                    rings: Vec::new(),
                });
                continue;
            };
            let mut rings = Vec::new();
            for ring in polygon
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            {
                let start = coords.len() as u32;
                coords.extend(ring.coords().map(|c| [c.x, c.y]));
                rings.push((start, coords.len() as u32));
            }
            min_x = min_x.min(r.min().x);
            min_y = min_y.min(r.min().y);
            max_x = max_x.max(r.max().x);
            max_y = max_y.max(r.max().y);
            flats.push(Flat {
                bbox: [r.min().x, r.min().y, r.max().x, r.max().y],
                rings,
            });
        }
        if flats.iter().all(|f| f.rings.is_empty()) || flats.len() >= PAYLOAD as usize {
            return PointGrid::default();
        }
        let (width, height) = ((max_x - min_x).max(1e-9), (max_y - min_y).max(1e-9));
        let target_cells = (flats.len() * ROOT_CELLS_PER_POLYGON).max(16) as f64;
        let cell = (width * height / target_cells).sqrt().max(1e-9);
        // One cell more than needed, so the top and right edges fall inside the grid.
        let nx = (width / cell) as usize + 1;
        let ny = (height / cell) as usize + 1;
        let bboxes = RTree::bulk_load(
            flats
                .iter()
                .enumerate()
                .filter(|(_, f)| !f.rings.is_empty())
                .map(|(i, f)| {
                    GeomWithData::new(
                        Rectangle::from_corners([f.bbox[0], f.bbox[1]], [f.bbox[2], f.bbox[3]]),
                        i as u32,
                    )
                })
                .collect(),
        );
        let mut b = Builder {
            grid: PointGrid {
                min_x,
                min_y,
                cell,
                inv_cell: 1.0 / cell,
                nx,
                ny,
                nodes: vec![OUTSIDE; nx * ny],
                slots: Vec::new(),
                leaves: 0,
                polygons: flats,
                coords,
                rank,
            },
            bboxes,
        };
        // Edges per root cell.
        let mut root: Vec<Vec<EdgeRef>> = vec![Vec::new(); nx * ny];
        let g = &b.grid;
        for (p, f) in g.polygons.iter().enumerate() {
            for &(start, end) in &f.rings {
                for i in start..end.saturating_sub(1) {
                    let (a, z) = (g.coords[i as usize], g.coords[i as usize + 1]);
                    if a == z {
                        continue; // a repeated vertex is no edge
                    }
                    let range = |lo: f64, hi: f64, origin: f64, n: usize| {
                        let m = cell * 1e-6;
                        let first = (((lo - m - origin) / cell).floor().max(0.0) as usize).min(n - 1);
                        let last = (((hi + m - origin) / cell).floor().max(0.0) as usize).min(n - 1);
                        first..=last
                    };
                    for y in range(a[1].min(z[1]), a[1].max(z[1]), min_y, ny) {
                        for x in range(a[0].min(z[0]), a[0].max(z[0]), min_x, nx) {
                            if touches(a, z, g.cell_box(0, x, y)) {
                                root[y * nx + x].push((p as u32, i));
                            }
                        }
                    }
                }
            }
        }
        for (i, edges) in root.into_iter().enumerate() {
            let bx = b.grid.cell_box(0, i % nx, i / nx);
            let centre = [(bx[0] + bx[2]) / 2.0, (bx[1] + bx[3]) / 2.0];
            let here = Status {
                p: centre,
                owners: b.grid.owners_by_bbox(&b.bboxes, centre),
            };
            let node = b.build(0, i % nx, i / nx, edges, here);
            b.grid.nodes[i] = node;
        }
        let grid = b.grid;
        let stats = grid.stats();
        tracing::debug!(?stats, "point grid built");
        grid
    }

    /// Counts of the built index.
    pub fn stats(&self) -> GridStats {
        GridStats {
            root_cells: self.nx * self.ny,
            nodes: self.nodes.len(),
            leaves: self.leaves,
            leaf_slots: self.slots.len(),
        }
    }

    /// The box of cell `(x, y)` at `depth` (indices at that depth), widened by a
    /// margin far above rounding, so every point a lookup sends to the cell is in it.
    fn cell_box(&self, depth: u32, x: usize, y: usize) -> [f64; 4] {
        let size = self.cell / (FANOUT as f64).powi(depth as i32);
        let m = size * 1e-6;
        [
            self.min_x + x as f64 * size - m,
            self.min_y + y as f64 * size - m,
            self.min_x + (x + 1) as f64 * size + m,
            self.min_y + (y + 1) as f64 * size + m,
        ]
    }

    /// The polygon containing `(x, y)`, or on whose boundary it lies (smallest rank
    /// among all that do).
    pub fn locate(&self, x: f64, y: f64) -> Option<u32> {
        let mut u = (x - self.min_x) * self.inv_cell;
        let mut v = (y - self.min_y) * self.inv_cell;
        if !(u >= 0.0 && v >= 0.0 && u < self.nx as f64 && v < self.ny as f64) {
            return None; // also NaN, and an empty grid (nx = 0)
        }
        let mut node = *self.nodes.get(v as usize * self.nx + u as usize)?;
        loop {
            if node == OUTSIDE {
                return None;
            }
            if node & SPLIT != 0 {
                u *= FANOUT as f64;
                v *= FANOUT as f64;
                let child = (v as u64 as usize % FANOUT) * FANOUT + u as u64 as usize % FANOUT;
                node = *self.nodes.get((node & !SPLIT) as usize + child)?;
                continue;
            }
            if node & LEAF != 0 {
                return self.in_leaf((node & PAYLOAD) as usize, [x, y]);
            }
            return Some(node);
        }
    }

    /// The answer in a leaf: the first polygon (by rank) containing `q`, else the base.
    fn in_leaf(&self, header: usize, q: [f64; 2]) -> Option<u32> {
        let h = &self.slots[header];
        let edges = &self.slots[header + 1..header + 1 + h.count as usize];
        let mut rest = edges;
        while let Some(first) = rest.first() {
            if first.rank > h.rank {
                break;
            }
            let n = rest.iter().take_while(|e| e.polygon == first.polygon).count();
            let (group, tail) = rest.split_at(n);
            rest = tail;
            let parity = if h.flags & TRUSTED != 0 {
                crosses_odd(h.a, q, group)
            } else {
                None
            };
            let contains = match parity {
                Some(odd) => (first.flags & CONTAINS_R != 0) != odd,
                None => self.side(first.polygon, q[0], q[1]) != Side::Outside,
            };
            if contains {
                return Some(first.polygon);
            }
        }
        (h.polygon != OUTSIDE).then_some(h.polygon)
    }

    fn rank_of(&self, polygon: u32) -> u32 {
        if polygon == OUTSIDE {
            u32::MAX
        } else {
            self.rank[polygon as usize]
        }
    }

    /// Every polygon containing `p` (inside or on its boundary), by the full test.
    fn owners_by_bbox(
        &self,
        bboxes: &RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
        p: [f64; 2],
    ) -> Vec<u32> {
        bboxes
            .locate_all_at_point(&p)
            .map(|g| g.data)
            .filter(|&i| self.side(i, p[0], p[1]) != Side::Outside)
            .collect()
    }

    /// The smallest-rank polygon of `owners`, or [`OUTSIDE`].
    fn first_by_rank(&self, owners: impl IntoIterator<Item = u32>) -> u32 {
        owners
            .into_iter()
            .min_by_key(|&i| self.rank[i as usize])
            .unwrap_or(OUTSIDE)
    }

    /// Crossing-number test with exact on-boundary detection.
    fn side(&self, i: u32, x: f64, y: f64) -> Side {
        let f = &self.polygons[i as usize];
        if x < f.bbox[0] || x > f.bbox[2] || y < f.bbox[1] || y > f.bbox[3] {
            return Side::Outside;
        }
        let p = Coord { x, y };
        let mut inside = false;
        for &(start, end) in &f.rings {
            let ring = &self.coords[start as usize..end as usize];
            for w in ring.windows(2) {
                let ([x1, y1], [x2, y2]) = (w[0], w[1]);
                if (y1 > y) != (y2 > y) {
                    let cross = orient2d(c(w[0]), c(w[1]), p);
                    if cross == 0.0 {
                        return Side::Boundary;
                    }
                    // The edge crosses the horizontal ray to the right of the point.
                    if (cross > 0.0) == (y2 > y1) {
                        inside = !inside;
                    }
                } else if y1 == y && y2 == y && x >= x1.min(x2) && x <= x1.max(x2) {
                    return Side::Boundary; // on a horizontal edge
                } else if (x1 == x && y1 == y) || (x2 == x && y2 == y) {
                    return Side::Boundary; // on a vertex
                }
            }
        }
        if inside { Side::Inside } else { Side::Outside }
    }
}

/// Whether segment `r → q` crosses the edges an odd number of times; `None` when
/// `q` is on an edge's line or the segment passes through a vertex (then only the
/// full test decides).
fn crosses_odd(r: [f64; 2], q: [f64; 2], edges: &[Slot]) -> Option<bool> {
    let mut odd = false;
    for e in edges {
        let side_q = orient2d(c(e.a), c(e.b), c(q));
        if side_q == 0.0 {
            return None;
        }
        if (side_q > 0.0) == (e.flags & R_LEFT != 0) {
            continue; // r and q strictly on one side of the edge's line
        }
        let (sa, sb) = (orient2d(c(r), c(q), c(e.a)), orient2d(c(r), c(q), c(e.b)));
        if sa == 0.0 || sb == 0.0 {
            return None;
        }
        if (sa > 0.0) != (sb > 0.0) {
            odd = !odd;
        }
    }
    Some(odd)
}

impl Builder {
    /// The status at `to` from the status at `from.p`, both in one cell crossed by
    /// `edges` (grouped by polygon): a polygon with no edge there keeps its answer,
    /// the others flip on each crossing (the full test decides degenerate cases).
    fn status_at(&self, from: &Status, edges: &[EdgeRef], to: [f64; 2]) -> Status {
        let runs: Vec<&[EdgeRef]> = edges.chunk_by(|a, b| a.0 == b.0).collect();
        let mut owners: Vec<u32> = from
            .owners
            .iter()
            .copied()
            .filter(|p| !runs.iter().any(|run| run[0].0 == *p))
            .collect();
        let coords = &self.grid.coords;
        for run in runs {
            let polygon = run[0].0;
            let was = from.owners.contains(&polygon);
            let mut odd = Some(false);
            for &(_, i) in run {
                let (a, b) = (c(coords[i as usize]), c(coords[i as usize + 1]));
                let (s_from, s_to) = (orient2d(a, b, c(from.p)), orient2d(a, b, c(to)));
                if s_from == 0.0 || s_to == 0.0 {
                    odd = None;
                    break;
                }
                if (s_from > 0.0) == (s_to > 0.0) {
                    continue;
                }
                let (sa, sb) = (orient2d(c(from.p), c(to), a), orient2d(c(from.p), c(to), b));
                if sa == 0.0 || sb == 0.0 {
                    odd = None;
                    break;
                }
                if (sa > 0.0) != (sb > 0.0) {
                    odd = odd.map(|o| !o);
                }
            }
            let now = match odd {
                Some(odd) => was != odd,
                None => self.grid.side(polygon, to[0], to[1]) != Side::Outside,
            };
            if now {
                owners.push(polygon);
            }
        }
        Status { p: to, owners }
    }

    /// Builds cell `(x, y)` at `depth` from the edges touching it (grouped by polygon)
    /// and the status of a point in it; returns its node word.
    fn build(&mut self, depth: u32, x: usize, y: usize, edges: Vec<EdgeRef>, here: Status) -> u32 {
        if edges.is_empty() {
            return self.grid.first_by_rank(here.owners);
        }
        let bx = self.grid.cell_box(depth, x, y);
        if edges.len() > LEAF_EDGES && depth < MAX_DEPTH {
            let base = self.grid.nodes.len();
            if base + FANOUT * FANOUT < PAYLOAD as usize {
                self.grid.nodes.resize(base + FANOUT * FANOUT, OUTSIDE);
                for k in 0..FANOUT * FANOUT {
                    let (cx, cy) = (x * FANOUT + k % FANOUT, y * FANOUT + k / FANOUT);
                    let child_box = self.grid.cell_box(depth + 1, cx, cy);
                    let coords = &self.grid.coords;
                    let inner: Vec<EdgeRef> = edges
                        .iter()
                        .copied()
                        .filter(|&(_, i)| touches(coords[i as usize], coords[i as usize + 1], child_box))
                        .collect();
                    let centre = [
                        (child_box[0] + child_box[2]) / 2.0,
                        (child_box[1] + child_box[3]) / 2.0,
                    ];
                    let status = self.status_at(&here, &edges, centre);
                    let node = self.build(depth + 1, cx, cy, inner, status);
                    self.grid.nodes[base + k] = node;
                }
                return SPLIT | base as u32;
            }
        }
        self.leaf(bx, edges, &here)
    }

    /// Makes a leaf block for a cell crossed by `edges`.
    fn leaf(&mut self, bx: [f64; 4], mut edges: Vec<EdgeRef>, here: &Status) -> u32 {
        let coords = &self.grid.coords;
        let at = |p: u32| coords[p as usize];
        // A reference point on no edge's line.
        let trusted = REFERENCE_SPOTS
            .iter()
            .map(|&(fx, fy)| [bx[0] + fx * (bx[2] - bx[0]), bx[1] + fy * (bx[3] - bx[1])])
            .find(|&r| {
                edges
                    .iter()
                    .all(|&(_, i)| orient2d(c(at(i)), c(at(i + 1)), c(r)) != 0.0)
            });
        if trusted.is_none() {
            // Pathological: every spot lies on some edge's line; lookups here take the
            // full test per polygon.
            tracing::debug!(?bx, "no reference point for a grid leaf");
        }
        let r = trusted.unwrap_or([(bx[0] + bx[2]) / 2.0, (bx[1] + bx[3]) / 2.0]);
        let status = self.status_at(here, &edges, r);
        let g = &mut self.grid;
        edges.sort_unstable_by_key(|&(p, i)| (g.rank[p as usize], p, i));
        let base = g.first_by_rank(
            status
                .owners
                .iter()
                .copied()
                .filter(|p| edges.iter().all(|e| e.0 != *p)),
        );
        let header = g.slots.len();
        g.slots.push(Slot {
            a: r,
            b: r,
            polygon: base,
            rank: g.rank_of(base),
            flags: if trusted.is_some() { TRUSTED } else { 0 },
            count: edges.len() as u32,
        });
        for &(polygon, i) in &edges {
            let (a, b) = (g.coords[i as usize], g.coords[i as usize + 1]);
            let mut flags = 0;
            if orient2d(c(a), c(b), c(r)) > 0.0 {
                flags |= R_LEFT;
            }
            if status.owners.contains(&polygon) {
                flags |= CONTAINS_R;
            }
            g.slots.push(Slot {
                a,
                b,
                polygon,
                rank: g.rank[polygon as usize],
                flags,
                count: 0,
            });
        }
        g.leaves += 1;
        LEAF | header as u32
    }
}

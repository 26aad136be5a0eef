//! Point location by a uniform grid over the dataset: each cell lists the
//! polygons whose bounding box overlaps it, and each polygon keeps its rings in
//! one flat coordinate buffer for a tight crossing-number test. A lookup is one
//! cell computation and a handful of point-in-polygon tests, no tree walk.
//!
//! Border rule: a point exactly on the boundary of several polygons belongs to
//! the one with the smallest unit id (the caller's ranking), so answers are
//! deterministic.

use geo::{BoundingRect, MultiPolygon};

/// A polygon's rings, flattened.
#[derive(Debug, Clone)]
struct Flat {
    /// Bounding box: min x, min y, max x, max y.
    bbox: [f64; 4],
    /// Ring ranges into `coords` (each ring closed: first == last).
    rings: Vec<(u32, u32)>,
}

/// The grid index.
#[derive(Debug, Clone, Default)]
pub struct PointGrid {
    min_x: f64,
    min_y: f64,
    cell: f64,
    nx: usize,
    ny: usize,
    /// Cell i lists `items[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<u32>,
    items: Vec<u32>,
    polygons: Vec<Flat>,
    coords: Vec<[f64; 2]>,
    /// Rank of each polygon for ties on borders (smaller wins).
    rank: Vec<u32>,
    /// Per cell: the polygon covering the whole cell, [`OUTSIDE`] when no polygon
    /// touches it, or [`MIXED`] when a ring edge crosses it (test the candidates).
    fixed: Vec<u32>,
}

/// A cell crossed by some ring edge.
const MIXED: u32 = u32::MAX;
/// A cell outside every polygon.
const OUTSIDE: u32 = u32::MAX - 1;

/// Where a point lies relative to one polygon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Outside,
    Inside,
    Boundary,
}

impl PointGrid {
    /// Builds the grid; `rank[i]` orders polygon `i` for border ties. Cells are
    /// sized so that there are about as many cells as polygons × 4.
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
        if flats.iter().all(|f| f.rings.is_empty()) {
            return PointGrid::default();
        }
        let (width, height) = ((max_x - min_x).max(1e-9), (max_y - min_y).max(1e-9));
        let target_cells = (flats.len() * 16).max(16) as f64;
        let cell = (width * height / target_cells).sqrt().max(1e-9);
        let nx = ((width / cell).ceil() as usize).max(1);
        let ny = ((height / cell).ceil() as usize).max(1);
        let cell_range = |lo: f64, hi: f64, origin: f64, n: usize| {
            let a = (((lo - origin) / cell).floor().max(0.0) as usize).min(n - 1);
            let b = (((hi - origin) / cell).floor().max(0.0) as usize).min(n - 1);
            a..=b
        };
        let mut counts = vec![0u32; nx * ny + 1];
        for f in flats.iter().filter(|f| !f.rings.is_empty()) {
            for y in cell_range(f.bbox[1], f.bbox[3], min_y, ny) {
                for x in cell_range(f.bbox[0], f.bbox[2], min_x, nx) {
                    counts[y * nx + x + 1] += 1;
                }
            }
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let offsets = counts.clone();
        let mut fill = counts;
        let mut items = vec![0u32; offsets[nx * ny] as usize];
        for (i, f) in flats.iter().enumerate().filter(|(_, f)| !f.rings.is_empty()) {
            for y in cell_range(f.bbox[1], f.bbox[3], min_y, ny) {
                for x in cell_range(f.bbox[0], f.bbox[2], min_x, nx) {
                    let slot = &mut fill[y * nx + x];
                    items[*slot as usize] = i as u32;
                    *slot += 1;
                }
            }
        }
        let mut grid = PointGrid {
            min_x,
            min_y,
            cell,
            nx,
            ny,
            offsets,
            items,
            polygons: flats,
            coords,
            rank,
            fixed: Vec::new(),
        };
        grid.classify_cells();
        grid
    }

    /// Marks cells crossed by an edge as mixed; every other cell has one answer,
    /// found once by testing its centre.
    fn classify_cells(&mut self) {
        let mut mixed = vec![false; self.nx * self.ny];
        let clamp = |v: f64, n: usize| (v.floor().max(0.0) as usize).min(n - 1);
        for f in &self.polygons {
            for &(start, end) in &f.rings {
                for w in self.coords[start as usize..end as usize].windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let x0 = clamp((a[0].min(b[0]) - self.min_x) / self.cell, self.nx);
                    let x1 = clamp((a[0].max(b[0]) - self.min_x) / self.cell, self.nx);
                    let y0 = clamp((a[1].min(b[1]) - self.min_y) / self.cell, self.ny);
                    let y1 = clamp((a[1].max(b[1]) - self.min_y) / self.cell, self.ny);
                    for y in y0..=y1 {
                        mixed[y * self.nx + x0..=y * self.nx + x1].fill(true);
                    }
                }
            }
        }
        self.fixed = (0..self.nx * self.ny)
            .map(|cell| {
                if mixed[cell] {
                    return MIXED;
                }
                let (cx, cy) = (cell % self.nx, cell / self.nx);
                let x = self.min_x + (cx as f64 + 0.5) * self.cell;
                let y = self.min_y + (cy as f64 + 0.5) * self.cell;
                self.locate_in(cell, x, y).unwrap_or(OUTSIDE)
            })
            .collect();
    }

    /// The polygon containing `(x, y)`, or on whose boundary it lies (smallest rank on ties).
    pub fn locate(&self, x: f64, y: f64) -> Option<u32> {
        if self.nx == 0 {
            return None;
        }
        let cx = (x - self.min_x) / self.cell;
        let cy = (y - self.min_y) / self.cell;
        if !(cx >= 0.0 && cy >= 0.0 && cx < (self.nx as f64) + 1e-9 && cy < (self.ny as f64) + 1e-9) {
            return None;
        }
        let (cx, cy) = ((cx as usize).min(self.nx - 1), (cy as usize).min(self.ny - 1));
        let cell = cy * self.nx + cx;
        match self.fixed.get(cell) {
            Some(&OUTSIDE) => None,
            Some(&MIXED) | None => self.locate_in(cell, x, y),
            Some(&polygon) => Some(polygon),
        }
    }

    /// Tests the candidates of one cell.
    fn locate_in(&self, cell: usize, x: f64, y: f64) -> Option<u32> {
        let candidates = &self.items[self.offsets[cell] as usize..self.offsets[cell + 1] as usize];
        let mut boundary: Option<u32> = None;
        for &i in candidates {
            match self.side(i, x, y) {
                Side::Inside if boundary.is_none() => return Some(i),
                Side::Inside | Side::Boundary => {
                    if boundary.is_none_or(|b| self.rank[i as usize] < self.rank[b as usize]) {
                        boundary = Some(i);
                    }
                }
                Side::Outside => {}
            }
        }
        if boundary.is_some() {
            // A boundary point: every candidate touching it competes on rank.
            return candidates
                .iter()
                .copied()
                .filter(|&i| self.side(i, x, y) != Side::Outside)
                .min_by_key(|&i| self.rank[i as usize]);
        }
        None
    }

    /// Crossing-number test with exact on-segment detection.
    fn side(&self, i: u32, x: f64, y: f64) -> Side {
        let f = &self.polygons[i as usize];
        if x < f.bbox[0] || x > f.bbox[2] || y < f.bbox[1] || y > f.bbox[3] {
            return Side::Outside;
        }
        let mut inside = false;
        for &(start, end) in &f.rings {
            let ring = &self.coords[start as usize..end as usize];
            for w in ring.windows(2) {
                let ([x1, y1], [x2, y2]) = (w[0], w[1]);
                if (y1 > y) != (y2 > y) {
                    let cross = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1);
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

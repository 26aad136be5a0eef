//! Label points: the pole of inaccessibility of a polygon (the interior point farthest
//! from its outline), found by the quadtree search of Mapbox's `polylabel`.
//!
//! ```
//! use geoalign::tiles::label::pole_of_inaccessibility;
//! // An L shape: the label goes into the thick corner, not the bbox centre.
//! let l = vec![[0.0, 0.0], [10.0, 0.0], [10.0, 2.0], [2.0, 2.0], [2.0, 10.0], [0.0, 10.0]];
//! let p = pole_of_inaccessibility(&[l.as_slice()], 0.01);
//! assert!(p[0] < 2.0 && p[1] < 2.0);
//! ```

use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, Copy)]
struct Cell {
    x: f64,
    y: f64,
    half: f64,
    distance: f64,
    max: f64,
}

impl Cell {
    fn new(x: f64, y: f64, half: f64, rings: &[&[[f64; 2]]]) -> Cell {
        let distance = signed_distance(x, y, rings);
        Cell {
            x,
            y,
            half,
            distance,
            max: distance + half * std::f64::consts::SQRT_2,
        }
    }
}

impl PartialEq for Cell {
    fn eq(&self, other: &Self) -> bool {
        self.max == other.max
    }
}

impl Eq for Cell {}

impl PartialOrd for Cell {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cell {
    fn cmp(&self, other: &Self) -> Ordering {
        self.max.total_cmp(&other.max)
    }
}

/// Distance from `(x, y)` to the outline, positive inside (even-odd over all rings).
fn signed_distance(x: f64, y: f64, rings: &[&[[f64; 2]]]) -> f64 {
    let mut inside = false;
    let mut min_sq = f64::INFINITY;
    for ring in rings {
        let n = ring.len();
        for i in 0..n {
            let a = ring[i];
            let b = ring[(i + 1) % n];
            if (a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0] {
                inside = !inside;
            }
            min_sq = min_sq.min(segment_distance_sq(x, y, a, b));
        }
    }
    let d = min_sq.sqrt();
    if inside { d } else { -d }
}

fn segment_distance_sq(x: f64, y: f64, a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len = dx * dx + dy * dy;
    let t = if len > 0.0 {
        (((x - a[0]) * dx + (y - a[1]) * dy) / len).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a[0] + t * dx - x, a[1] + t * dy - y);
    ex * ex + ey * ey
}

/// The pole of inaccessibility of a polygon (exterior first, then holes; rings not
/// closed), to within `precision` (same units as the coordinates).
pub fn pole_of_inaccessibility(rings: &[&[[f64; 2]]], precision: f64) -> [f64; 2] {
    let Some(exterior) = rings.first().filter(|r| !r.is_empty()) else {
        return [0.0, 0.0];
    };
    let (mut x0, mut y0, mut x1, mut y1) =
        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in exterior.iter() {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let size = (x1 - x0).min(y1 - y0);
    if size <= 0.0 {
        return [x0, y0];
    }
    let half = size / 2.0;
    let mut queue = BinaryHeap::new();
    let mut y = y0;
    while y < y1 {
        let mut x = x0;
        while x < x1 {
            queue.push(Cell::new(x + half, y + half, half, rings));
            x += size;
        }
        y += size;
    }
    let mut best = centroid_cell(exterior, rings);
    let bbox_centre = Cell::new((x0 + x1) / 2.0, (y0 + y1) / 2.0, 0.0, rings);
    if bbox_centre.distance > best.distance {
        best = bbox_centre;
    }
    let mut budget = 10_000usize;
    while let Some(cell) = queue.pop() {
        if cell.distance > best.distance {
            best = cell;
        }
        if cell.max - best.distance <= precision || budget == 0 {
            continue;
        }
        budget -= 1;
        let h = cell.half / 2.0;
        for (dx, dy) in [(-h, -h), (h, -h), (-h, h), (h, h)] {
            queue.push(Cell::new(cell.x + dx, cell.y + dy, h, rings));
        }
    }
    [best.x, best.y]
}

fn centroid_cell(exterior: &[[f64; 2]], rings: &[&[[f64; 2]]]) -> Cell {
    let n = exterior.len();
    let (mut area, mut cx, mut cy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let a = exterior[i];
        let b = exterior[(i + 1) % n];
        let f = a[0] * b[1] - b[0] * a[1];
        cx += (a[0] + b[0]) * f;
        cy += (a[1] + b[1]) * f;
        area += f * 3.0;
    }
    if area == 0.0 {
        return Cell::new(exterior[0][0], exterior[0][1], 0.0, rings);
    }
    Cell::new(cx / area, cy / area, 0.0, rings)
}

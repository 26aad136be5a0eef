//! Clipping to a tile (plus buffer) on the integer tile grid.
//!
//! Polygons are snapped to the grid first, then intersected with the clip square by
//! an integer overlay (`i_overlay`, OGC output mode). The overlay also repairs what
//! simplification and snapping may break (self-intersections, rings touching along an
//! edge, collapsed spikes), so every polygon written is valid on the grid it is
//! encoded in, with exterior rings of positive area (clockwise with y down, as MVT
//! 2.1 wants) and holes negative.
//!
//! Rings without holes that come out of a plain side-by-side clip simple, apart and
//! not nested ([`super::simple`]) skip the overlay.
//!
//! Lines are clipped segment by segment (Liang-Barsky) and snapped afterwards.
//!
//! ```
//! use geoalign::tiles::clip::{clip_polygons, signed_area};
//! // A square sticking out of a 4096 tile on the right, clipped with a 64 buffer.
//! let square = vec![[3000, 1000], [3000, 2000], [5000, 2000], [5000, 1000]];
//! let shapes = clip_polygons(&[vec![square]], 4096, 64, 0);
//! assert_eq!(shapes.len(), 1);
//! let exterior = &shapes[0][0];
//! assert!(exterior.iter().all(|p| p[0] <= 4096 + 64));
//! assert_eq!(signed_area(exterior), 1160 * 1000 * 2); // twice the area, positive
//! ```

use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay::{ContourDirection, IntOverlayOptions, Overlay, ShapeType};
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::i_float::int::point::IntPoint;

use super::simple::are_simple_and_apart;

/// A ring on the tile grid (not closed).
pub type GridRing = Vec<[i32; 2]>;

/// A polygon on the tile grid: exterior first, then holes.
pub type GridPolygon = Vec<GridRing>;

/// Twice the signed area (surveyor's formula) of a ring; positive is clockwise with y
/// pointing down, the MVT exterior winding.
pub fn signed_area(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    let mut sum = 0i64;
    for i in 0..n {
        let [x0, y0] = ring[i];
        let [x1, y1] = ring[(i + 1) % n];
        sum += i64::from(x0) * i64::from(y1) - i64::from(x1) * i64::from(y0);
    }
    sum
}

/// Clips polygons (each exterior first, any winding) to the square
/// `[-buffer, extent + buffer]²`, repairing them on the grid. Parts of less than
/// `min_area` (grid units²) are dropped. Returns polygons with positive exteriors and
/// negative holes.
pub fn clip_polygons(polygons: &[GridPolygon], extent: i32, buffer: i32, min_area: u64) -> Vec<GridPolygon> {
    if min_area == 0
        && let Some(valid) = without_overlay(polygons, -buffer, extent + buffer)
    {
        return valid;
    }
    thread_local! {
        // One overlay per thread, cleared between calls: its buffers are reused.
        static OVERLAY: std::cell::RefCell<Option<Overlay>> = const { std::cell::RefCell::new(None) };
    }
    OVERLAY.with(|cell| {
        let mut cell = cell.borrow_mut();
        let overlay = cell.get_or_insert_with(|| {
            let options = IntOverlayOptions {
                output_direction: ContourDirection::CounterClockwise,
                ..IntOverlayOptions::ogc()
            };
            Overlay::new_custom(1024, options, Default::default())
        });
        overlay.options.min_output_area = min_area;
        overlay.clear();
        clip_with(overlay, polygons, extent, buffer)
    })
}

/// Polygons without holes whose rings, clipped to the square `[lo, hi]²` edge by edge
/// (Sutherland-Hodgman), come out simple, apart from each other, not nested and of
/// non-zero area are valid as they are: returned wound for MVT, the overlay skipped.
/// Clipping preserves the winding number at every point of the square, so they cover
/// what the overlay would return. Most units at z8+ and many territories at z4-z7
/// are such rings; a ring that leaves and re-enters across one side usually comes out
/// touching itself along the side and goes to the overlay.
fn without_overlay(polygons: &[GridPolygon], lo: i32, hi: i32) -> Option<Vec<GridPolygon>> {
    if polygons.iter().any(|p| p.len() != 1) {
        return None;
    }
    let mut rings: Vec<GridRing> = Vec::with_capacity(polygons.len());
    for polygon in polygons {
        let ring = &polygon[0];
        let area = signed_area(ring);
        if area == 0 {
            return None;
        }
        let mut clipped = clip_ring(ring, lo, hi);
        let clipped_area = signed_area(&clipped);
        if clipped.len() < 3 || clipped_area == 0 {
            continue; // nothing of it inside the square
        }
        if (clipped_area > 0) != (area > 0) {
            return None;
        }
        if clipped_area < 0 {
            clipped.reverse();
        }
        rings.push(clipped);
    }
    if !are_simple_and_apart(&rings) {
        return None;
    }
    // Apart, so one ring inside another has all its vertices strictly inside it.
    let boxes: Vec<[i32; 4]> = rings.iter().map(|r| ring_box(r)).collect();
    for (i, a) in boxes.iter().enumerate() {
        for (j, b) in boxes.iter().enumerate() {
            if i != j
                && a[0] >= b[0]
                && a[1] >= b[1]
                && a[2] <= b[2]
                && a[3] <= b[3]
                && winds_around(&rings[j], rings[i][0])
            {
                return None;
            }
        }
    }
    Some(rings.into_iter().map(|r| vec![r]).collect())
}

fn ring_box(ring: &[[i32; 2]]) -> [i32; 4] {
    ring.iter()
        .fold([i32::MAX, i32::MAX, i32::MIN, i32::MIN], |b, p| {
            [b[0].min(p[0]), b[1].min(p[1]), b[2].max(p[0]), b[3].max(p[1])]
        })
}

/// Whether `ring` winds around `p` (non-zero winding number; `p` not on the ring).
fn winds_around(ring: &[[i32; 2]], p: [i32; 2]) -> bool {
    let side = |a: [i32; 2], b: [i32; 2]| {
        (i64::from(b[0]) - i64::from(a[0])) * (i64::from(p[1]) - i64::from(a[1]))
            - (i64::from(p[0]) - i64::from(a[0])) * (i64::from(b[1]) - i64::from(a[1]))
    };
    let mut winding = 0i32;
    for (i, &a) in ring.iter().enumerate() {
        let b = ring[(i + 1) % ring.len()];
        if a[1] <= p[1] && b[1] > p[1] && side(a, b) > 0 {
            winding += 1;
        } else if a[1] > p[1] && b[1] <= p[1] && side(a, b) < 0 {
            winding -= 1;
        }
    }
    winding != 0
}

/// Sutherland-Hodgman: the ring clipped to `[lo, hi]²` side by side, cut points rounded
/// to the grid (computed from the lower end of the edge, so both rings along a shared
/// edge get the same point), repeated points dropped.
fn clip_ring(ring: &[[i32; 2]], lo: i32, hi: i32) -> GridRing {
    let inside_all = ring
        .iter()
        .all(|p| p[0] >= lo && p[0] <= hi && p[1] >= lo && p[1] <= hi);
    if inside_all {
        return ring.to_vec();
    }
    let mut current: GridRing = ring.to_vec();
    let mut next: GridRing = Vec::with_capacity(ring.len() + 8);
    for (axis, bound, keep_above) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        let keeps = |p: [i32; 2]| {
            if keep_above {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        next.clear();
        let n = current.len();
        for i in 0..n {
            let (a, b) = (current[(i + n - 1) % n], current[i]);
            let (in_a, in_b) = (keeps(a), keeps(b));
            if in_a != in_b {
                let cut = cut_at(a, b, axis, bound);
                if next.last() != Some(&cut) {
                    next.push(cut);
                }
            }
            if in_b && next.last() != Some(&b) {
                next.push(b);
            }
        }
        while next.len() > 1 && next.first() == next.last() {
            next.pop();
        }
        std::mem::swap(&mut current, &mut next);
        if current.len() < 3 {
            current.clear();
            break;
        }
    }
    current
}

/// The grid point where segment `ab` crosses the line `axis = bound`.
fn cut_at(a: [i32; 2], b: [i32; 2], axis: usize, bound: i32) -> [i32; 2] {
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    let other = 1 - axis;
    let num = (i64::from(bound) - i64::from(a[axis])) * (i64::from(b[other]) - i64::from(a[other]));
    let den = i64::from(b[axis]) - i64::from(a[axis]);
    let step = (num as f64 / den as f64).round() as i64;
    let mut p = [0; 2];
    p[axis] = bound;
    p[other] = (i64::from(a[other]) + step) as i32;
    p
}

fn clip_with(overlay: &mut Overlay, polygons: &[GridPolygon], extent: i32, buffer: i32) -> Vec<GridPolygon> {
    let mut points: Vec<IntPoint> = Vec::new();
    for polygon in polygons {
        for (i, ring) in polygon.iter().enumerate() {
            if ring.len() < 3 {
                continue;
            }
            let area = signed_area(ring);
            if area == 0 {
                continue;
            }
            // Exteriors positive, holes negative, whatever the input's winding.
            let forward = (area > 0) == (i == 0);
            points.clear();
            if forward {
                points.extend(ring.iter().map(|p| IntPoint::new(p[0], p[1])));
            } else {
                points.extend(ring.iter().rev().map(|p| IntPoint::new(p[0], p[1])));
            }
            overlay.add_contour(&points, ShapeType::Subject);
        }
    }
    let (lo, hi) = (-buffer, extent + buffer);
    let square = [
        IntPoint::new(lo, lo),
        IntPoint::new(hi, lo),
        IntPoint::new(hi, hi),
        IntPoint::new(lo, hi),
    ];
    overlay.add_contour(&square, ShapeType::Clip);
    let shapes = overlay.overlay(OverlayRule::Intersect, FillRule::Positive);
    shapes
        .into_iter()
        .map(|shape| {
            shape
                .into_iter()
                .enumerate()
                .filter_map(|(i, contour)| {
                    let mut ring: GridRing = contour.into_iter().map(|p| [p.x, p.y]).collect();
                    let area = signed_area(&ring);
                    if area == 0 {
                        return None;
                    }
                    // The overlay's OGC mode can hand back a hole that touches its
                    // exterior at a vertex with the exterior's winding: enforce MVT's.
                    if (area > 0) != (i == 0) {
                        ring.reverse();
                    }
                    Some(ring)
                })
                .collect::<GridPolygon>()
        })
        .filter(|shape: &GridPolygon| !shape.is_empty())
        .collect()
}

/// Clips a polyline (world-to-grid transformed, as floats) to `[lo, hi]²` and snaps the
/// pieces to the grid, dropping repeated points and pieces shorter than one unit.
pub fn clip_line(line: &[[f64; 2]], lo: f64, hi: f64) -> Vec<Vec<[i32; 2]>> {
    let mut out: Vec<Vec<[i32; 2]>> = Vec::new();
    let mut current: Vec<[i32; 2]> = Vec::new();
    let snap = |p: [f64; 2]| [p[0].round() as i32, p[1].round() as i32];
    let mut flush = |current: &mut Vec<[i32; 2]>| {
        if current.len() >= 2 {
            out.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for w in line.windows(2) {
        let Some((a, b, a_cut, b_cut)) = liang_barsky(w[0], w[1], lo, hi) else {
            flush(&mut current);
            continue;
        };
        let (sa, sb) = (snap(a), snap(b));
        if a_cut || current.is_empty() {
            flush(&mut current);
            current.push(sa);
        }
        if current.last() != Some(&sb) {
            current.push(sb);
        }
        if b_cut {
            flush(&mut current);
        }
    }
    flush(&mut current);
    out
}

/// Clips segment `ab` to the square; returns the clipped ends and whether each was cut.
fn liang_barsky(a: [f64; 2], b: [f64; 2], lo: f64, hi: f64) -> Option<([f64; 2], [f64; 2], bool, bool)> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a[0] - lo),
        (dx, hi - a[0]),
        (-dy, a[1] - lo),
        (dy, hi - a[1]),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    let at = |t: f64| [a[0] + t * dx, a[1] + t * dy];
    Some((at(t0), at(t1), t0 > 0.0, t1 < 1.0))
}

/// Clips a ring (floats on the grid scale) to `[lo, hi]²` by Sutherland-Hodgman. Used
/// only to bring far-away coordinates into integer range before the exact overlay.
pub fn pre_clip_ring(ring: &[[f64; 2]], lo: f64, hi: f64) -> Vec<[f64; 2]> {
    let mut current: Vec<[f64; 2]> = ring.to_vec();
    for (axis, bound, keep_above) in [(0, lo, true), (0, hi, false), (1, lo, true), (1, hi, false)] {
        if current.is_empty() {
            break;
        }
        let inside = |p: &[f64; 2]| {
            if keep_above {
                p[axis] >= bound
            } else {
                p[axis] <= bound
            }
        };
        let mut next = Vec::with_capacity(current.len() + 4);
        for i in 0..current.len() {
            let a = current[i];
            let b = current[(i + 1) % current.len()];
            let (ia, ib) = (inside(&a), inside(&b));
            if ia {
                next.push(a);
            }
            if ia != ib {
                let t = (bound - a[axis]) / (b[axis] - a[axis]);
                let mut p = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                p[axis] = bound;
                next.push(p);
            }
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bow_tie_is_repaired_and_holes_are_negative() {
        // Lobes of different sizes: the larger one's winding wins, the other is dropped.
        let bow_tie = vec![[0, 0], [100, 100], [100, 0], [0, 40]];
        let shapes = clip_polygons(&[vec![bow_tie]], 4096, 64, 0);
        assert!(!shapes.is_empty());
        for shape in &shapes {
            assert!(signed_area(&shape[0]) > 0);
        }
        let outer = vec![[0, 0], [0, 100], [100, 100], [100, 0]];
        let hole = vec![[10, 10], [90, 10], [90, 90], [10, 90]];
        let shapes = clip_polygons(&[vec![outer, hole]], 4096, 64, 0);
        assert_eq!(shapes.len(), 1);
        assert_eq!(shapes[0].len(), 2);
        assert!(signed_area(&shapes[0][0]) > 0 && signed_area(&shapes[0][1]) < 0);
    }

    #[test]
    fn a_simple_ring_inside_skips_the_overlay_with_the_same_area() {
        // Concave, counter-clockwise (negative): returned reversed, area kept.
        let ring = vec![[0, 0], [0, 100], [50, 40], [100, 100], [100, 0]];
        let fast = clip_polygons(&[vec![ring.clone()]], 4096, 64, 0);
        assert_eq!(fast.len(), 1);
        assert_eq!(signed_area(&fast[0][0]), signed_area(&ring).abs());
        let mut overlay = Overlay::new_custom(
            16,
            IntOverlayOptions {
                output_direction: ContourDirection::CounterClockwise,
                ..IntOverlayOptions::ogc()
            },
            Default::default(),
        );
        let slow = clip_with(&mut overlay, &[vec![ring]], 4096, 64);
        assert_eq!(signed_area(&slow[0][0]), signed_area(&fast[0][0]));
        // Sticking out of the square: clipped by the overlay.
        let out = vec![[0, 0], [0, 100], [5000, 100], [5000, 0]];
        let clipped = clip_polygons(&[vec![out]], 4096, 64, 0);
        assert!(clipped[0][0].iter().all(|p| p[0] <= 4096 + 64));
    }

    #[test]
    fn lines_are_cut_at_the_square() {
        let parts = clip_line(&[[-10.0, 5.0], [20.0, 5.0], [20.0, -30.0]], 0.0, 10.0);
        assert_eq!(parts, vec![vec![[0, 5], [10, 5]]]);
        let ring = pre_clip_ring(
            &[[-5.0, -5.0], [15.0, -5.0], [15.0, 15.0], [-5.0, 15.0]],
            0.0,
            10.0,
        );
        assert_eq!(ring.len(), 4);
    }
}

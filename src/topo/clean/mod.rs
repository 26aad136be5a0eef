//! Coverage cleaning: a set of polygon units, digitised one by one, made into a clean
//! coverage, as GEOS's `CoverageCleaner` and mapshaper's `-clean` do.
//!
//! 1. **Noding** ([`node`]): vertices closer than the snap tolerance become one, a vertex
//!    within the tolerance of another ring's segment is inserted into it, and crossing
//!    segments get their crossing point, until the rings form a planar graph.
//! 2. **Faces** ([`arrangement`]): the faces of that graph, and which units cover each.
//! 3. **Rules** ([`assign`]): every face gets at most one owner. Overlap slivers go to
//!    the covering unit with the longest shared border, wider overlaps to the smallest
//!    covering unit (an enclave drawn on top of its surroundings keeps its area), enclosed
//!    gaps no wider than the gap width to the neighbour with the longest shared border;
//!    wider gaps stay holes.
//! 4. **Polygons** ([`polygons`]): each unit is the union of its faces, with simple
//!    rings, shells counter-clockwise and holes clockwise.
//!
//! Neighbouring units then share every boundary vertex exactly, so the shared-arc
//! [`Topology`](super::Topology) of the result is clean and every dissolve is stitched
//! from arcs. A clean coverage comes out unchanged, up to vertex order and the
//! removal of repeated vertices.
//!
//! ```
//! use geo::{Area, MultiPolygon, polygon};
//! use geoalign::topo::clean::{CleanOptions, clean};
//! // Two squares overlapping in a 0.01-wide sliver, and a third leaving a 0.01 gap.
//! let rect = |x0: f64, x1: f64| MultiPolygon::new(vec![polygon![
//!     (x: x0, y: 0.), (x: x1, y: 0.), (x: x1, y: 1.), (x: x0, y: 1.)]]);
//! let units = vec![rect(0., 1.01), rect(1., 2.), rect(2.01, 3.)];
//! let cleaned = clean(&units, &CleanOptions { snap: 1e-9, gap_width: 0.02 });
//! let total: f64 = cleaned.units.iter().map(|u| u.unsigned_area()).sum();
//! assert!((total - 2.99).abs() < 1e-9); // the overlap counted once
//! assert_eq!(cleaned.report.overlaps, 1);
//! assert_eq!(cleaned.report.gaps_filled, 0); // the gap is open to the outside: kept
//! ```

mod arrangement;
mod assign;
mod node;
mod polygons;

use geo::MultiPolygon;

use super::{BuildStats, NONE, area, build};
use assign::Kind;

/// Metres per degree of latitude (and of longitude at the equator), for converting
/// tolerances and reporting areas.
pub const METRES_PER_DEGREE: f64 = 111_320.0;

/// Tolerances of a cleaning run, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CleanOptions {
    /// Vertices closer than this become one; a vertex this close to a segment is put on it.
    pub snap: f64,
    /// Enclosed gaps and overlaps no wider than this are slivers: gaps are filled, and
    /// overlaps go to the unit with the longest shared border.
    pub gap_width: f64,
}

impl CleanOptions {
    /// Options from tolerances in metres (converted at [`METRES_PER_DEGREE`]).
    pub fn from_metres(snap: f64, gap_width: f64) -> CleanOptions {
        CleanOptions {
            snap: snap / METRES_PER_DEGREE,
            gap_width: gap_width / METRES_PER_DEGREE,
        }
    }
}

/// Area moved between one unit and its neighbours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitMove {
    /// Unit index.
    pub unit: u32,
    /// Area it covered that went to another unit (overlaps), m².
    pub lost_m2: f64,
    /// Area it covered with another unit and kept, or gained from a gap, m².
    pub gained_m2: f64,
    /// Its area as given, m².
    pub area_m2: f64,
}

/// What cleaning did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanReport {
    /// Input vertices moved by snapping.
    pub snapped: usize,
    /// The largest distance a vertex moved, metres.
    pub max_displacement_m: f64,
    /// Vertices inserted into a neighbour's segment.
    pub inserted: usize,
    /// Crossing points added.
    pub crossings: usize,
    /// Rings that collapsed under snapping and were dropped.
    pub collapsed_rings: usize,
    /// Overlap faces (covered by two or more units).
    pub overlaps: usize,
    /// Their area counted once per unit that gave it up, m².
    pub overlap_area_m2: f64,
    /// Overlaps wider than the gap width (a unit drawn on another): each covering unit
    /// and who got it.
    pub wide_overlaps: Vec<WideOverlap>,
    /// Enclosed gaps filled.
    pub gaps_filled: usize,
    /// Their area, m².
    pub gap_area_m2: f64,
    /// Enclosed gaps wider than the gap width, left as holes.
    pub gaps_kept: usize,
    /// Units whose area changed, with how much.
    pub moves: Vec<UnitMove>,
    /// Units left with no area (wholly inside units that kept the overlap).
    pub emptied: Vec<u32>,
    /// Segment pairs still crossing after noding (0 unless it did not converge).
    pub unresolved: usize,
    /// Faces whose coverage disagreed between two paths (0 unless noding failed).
    pub inconsistent: usize,
    /// Units whose cleaned rings did not assemble, kept as given (0 unless noding failed).
    pub unassembled: usize,
}

/// An overlap wider than the gap width.
#[derive(Debug, Clone, PartialEq)]
pub struct WideOverlap {
    /// The units covering it.
    pub units: Vec<u32>,
    /// Who got it (the smallest of them).
    pub owner: u32,
    /// Its area, m².
    pub area_m2: f64,
}

impl CleanReport {
    /// Total area that changed hands (overlaps given up plus gaps filled), m².
    pub fn area_moved_m2(&self) -> f64 {
        self.overlap_area_m2 + self.gap_area_m2
    }
}

/// Cleaned units and the report.
#[derive(Debug, Clone)]
pub struct Cleaned {
    /// The units as a clean coverage, index for index with the input.
    pub units: Vec<MultiPolygon<f64>>,
    /// What changed.
    pub report: CleanReport,
}

/// Cleans a set of polygon units into a coverage; see the module documentation.
pub fn clean(units: &[MultiPolygon<f64>], options: &CleanOptions) -> Cleaned {
    let mut stats = BuildStats::default();
    let (coords, off, meta) = build::oriented_rings(units, &mut stats);
    let ring_unit: Vec<u32> = meta.iter().map(|m| m.unit).collect();
    let noded = node::node(&coords, &off, &ring_unit, options.snap.max(0.0));
    let mut report = CleanReport {
        snapped: noded.snapped,
        max_displacement_m: noded.max_displacement * METRES_PER_DEGREE,
        inserted: noded.inserted,
        crossings: noded.crossings,
        collapsed_rings: noded.collapsed_rings + stats.dropped_rings,
        unresolved: noded.unresolved,
        ..CleanReport::default()
    };
    let arrangement = arrangement::build(noded);
    report.inconsistent = arrangement.inconsistent;
    let assignment = assign::assign(&arrangement, units.len(), options.gap_width.max(0.0));
    let traced = polygons::polygons(&arrangement, &assignment.owner, units.len());
    // A unit whose outline did not assemble keeps its geometry as given.
    let cleaned: Vec<MultiPolygon<f64>> = traced
        .into_iter()
        .zip(units)
        .map(|(traced, given)| {
            traced.unwrap_or_else(|| {
                report.unassembled += 1;
                given.clone()
            })
        })
        .collect();

    let m2 = |twice: f64, latitude: f64| {
        twice.abs() / 2.0 * METRES_PER_DEGREE * METRES_PER_DEGREE * latitude.to_radians().cos()
    };
    let mut lost = vec![0.0f64; units.len()];
    let mut gained = vec![0.0f64; units.len()];
    let mut latitude = vec![0.0f64; units.len()];
    for (f, face) in arrangement.faces.iter().enumerate().skip(1) {
        let area = m2(face.twice_area, face.latitude);
        let owner = assignment.owner[f];
        for &u in arrangement.covering(f as u32) {
            latitude[u as usize] = face.latitude;
        }
        match assignment.kind[f] {
            Kind::Kept | Kind::GapKept => {
                report.gaps_kept += usize::from(assignment.kind[f] == Kind::GapKept);
            }
            Kind::Sliver | Kind::WideOverlap => {
                report.overlaps += 1;
                let covering = arrangement.covering(f as u32);
                for &u in covering {
                    if u == owner {
                        gained[u as usize] += area;
                    } else {
                        lost[u as usize] += area;
                        report.overlap_area_m2 += area;
                    }
                }
                if assignment.kind[f] == Kind::WideOverlap {
                    report.wide_overlaps.push(WideOverlap {
                        units: covering.to_vec(),
                        owner,
                        area_m2: area,
                    });
                }
            }
            Kind::GapFilled => {
                report.gaps_filled += 1;
                report.gap_area_m2 += area;
                if owner != NONE {
                    gained[owner as usize] += area;
                }
            }
        }
    }
    for u in 0..units.len() {
        if lost[u] > 0.0 || gained[u] > 0.0 {
            report.moves.push(UnitMove {
                unit: u as u32,
                lost_m2: lost[u],
                gained_m2: gained[u],
                area_m2: m2(assignment.twice_area[u], latitude[u]),
            });
        }
        if cleaned[u].0.is_empty() && !units[u].0.is_empty() {
            report.emptied.push(u as u32);
        }
    }
    check_areas(&arrangement, &assignment.owner, &cleaned);
    tracing::debug!(
        units = units.len(),
        snapped = report.snapped,
        inserted = report.inserted,
        crossings = report.crossings,
        overlaps = report.overlaps,
        gaps_filled = report.gaps_filled,
        "coverage cleaned"
    );
    Cleaned {
        units: cleaned,
        report,
    }
}

/// Each cleaned unit's area must equal the sum of its faces' (a ring lost or traced
/// wrongly shows here); a mismatch is logged with the unit and both figures.
fn check_areas(arrangement: &arrangement::Arrangement, owner: &[u32], cleaned: &[MultiPolygon<f64>]) {
    let mut expected = vec![0.0f64; cleaned.len()];
    for (f, face) in arrangement.faces.iter().enumerate().skip(1) {
        if owner[f] != NONE {
            expected[owner[f] as usize] += face.twice_area;
        }
    }
    for (u, multi) in cleaned.iter().enumerate() {
        let twice: f64 = multi
            .iter()
            .map(|p| {
                let ring = |r: &geo::LineString<f64>| area::twice_signed(&r.0);
                ring(p.exterior()) + p.interiors().iter().map(ring).sum::<f64>()
            })
            .sum();
        if (twice - expected[u]).abs() > 1e-9 * expected[u].abs().max(f64::MIN_POSITIVE) {
            tracing::warn!(
                unit = u,
                area = twice / 2.0,
                faces = expected[u] / 2.0,
                "cleaned unit's area differs from its faces'"
            );
        }
    }
}

/// The snap tolerance a dataset's coordinates suggest, in degrees: the finest decimal
/// step they are written in (a file rounded to 6 decimals gives 1e-6), clamped to
/// 1e-7..=1e-5 (about 1 cm to 1 m); 1e-7 when the coordinates show no rounding.
///
/// ```
/// use geo::{MultiPolygon, polygon};
/// use geoalign::topo::clean::precision;
/// let unit = MultiPolygon::new(vec![polygon![
///     (x: -73.123456, y: 40.654321), (x: -73.1, y: 40.654321), (x: -73.1, y: 40.7)]]);
/// assert_eq!(precision(&[unit]), 1e-6);
/// ```
pub fn precision(units: &[MultiPolygon<f64>]) -> f64 {
    let mut finest = 0u32;
    let mut seen = 0usize;
    'units: for multi in units {
        for polygon in multi {
            for c in polygon.exterior().0.iter() {
                for v in [c.x, c.y] {
                    finest = finest.max(decimals(v));
                }
                seen += 1;
                if seen >= 20_000 {
                    break 'units;
                }
            }
        }
    }
    10f64.powi(-(finest as i32)).clamp(1e-7, 1e-5)
}

/// Decimal places of `v` (at most 8: 8 means more, or not a short decimal): the
/// fewest `d` such that rounding `v` to `d` decimals gives `v` back exactly.
fn decimals(v: f64) -> u32 {
    let mut scale = 1.0;
    for d in 0..8 {
        if (v * scale).round() / scale == v {
            return d;
        }
        scale *= 10.0;
    }
    8
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, BooleanOps, polygon};

    fn square(x: f64, y: f64, size: f64) -> MultiPolygon<f64> {
        MultiPolygon::new(vec![polygon![
            (x: x, y: y), (x: x + size, y: y), (x: x + size, y: y + size), (x: x, y: y + size)]])
    }

    fn total(units: &[MultiPolygon<f64>]) -> f64 {
        units.iter().map(|u| u.unsigned_area()).sum()
    }

    fn options() -> CleanOptions {
        CleanOptions {
            snap: 1e-9,
            gap_width: 0.05,
        }
    }

    #[test]
    fn a_clean_coverage_is_unchanged() {
        let units = vec![square(0., 0., 1.), square(1., 0., 1.), square(0., 1., 2.)];
        let cleaned = clean(&units, &options());
        for (a, b) in units.iter().zip(&cleaned.units) {
            assert_eq!(a.unsigned_area(), b.unsigned_area());
            assert!(crate::geom::validity::is_valid(b));
        }
        assert_eq!(cleaned.report.overlaps, 0);
        assert!(cleaned.report.moves.is_empty());
    }

    #[test]
    fn an_enclave_drawn_over_its_surroundings_keeps_its_area() {
        // A 3x3 square with no hole and a 1x1 square drawn inside it.
        let units = vec![square(0., 0., 3.), square(1., 1., 1.)];
        let cleaned = clean(&units, &options());
        assert_eq!(cleaned.units[1].unsigned_area(), 1.0);
        assert_eq!(cleaned.units[0].unsigned_area(), 8.0);
        assert_eq!(cleaned.units[0].0[0].interiors().len(), 1);
        assert_eq!(cleaned.report.wide_overlaps.len(), 1);
        assert_eq!(cleaned.report.wide_overlaps[0].owner, 1);
    }

    #[test]
    fn an_enclosed_sliver_gap_is_filled_and_a_wide_hole_kept() {
        // A ring of four units around a 1x1 hole, and one around a 0.02-wide slot.
        let frame = |hole: MultiPolygon<f64>| {
            let outer = square(0., 0., 3.);
            outer.difference(&hole)
        };
        let wide = vec![frame(square(1., 1., 1.))];
        let cleaned = clean(&wide, &options());
        assert_eq!((cleaned.report.gaps_kept, cleaned.report.gaps_filled), (1, 0));
        assert_eq!(cleaned.units[0].unsigned_area(), 8.0);
        // Two units leaving a narrow enclosed slot between them.
        let left = MultiPolygon::new(vec![polygon![
            (x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 0.2), (x: 0.99, y: 0.2),
            (x: 0.99, y: 0.8), (x: 1., y: 0.8), (x: 1., y: 1.), (x: 0., y: 1.)]]);
        let right = square(1., 0., 1.);
        let cleaned = clean(&[left, right], &options());
        assert_eq!(cleaned.report.gaps_filled, 1);
        assert!((total(&cleaned.units) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn reversed_rings_and_lenses_clean_to_the_union() {
        // Two neighbours whose shared border is drawn twice, 1e-4 apart (a lens), one
        // with its ring reversed.
        let a = MultiPolygon::new(vec![polygon![
            (x: 0., y: 0.), (x: 0., y: 1.), (x: 1.0001, y: 1.), (x: 1.0001, y: 0.)]]);
        let b = MultiPolygon::new(vec![polygon![
            (x: 1., y: 0.), (x: 2., y: 0.), (x: 2., y: 1.), (x: 1., y: 1.)]]);
        let cleaned = clean(&[a, b], &options());
        assert!((total(&cleaned.units) - 2.0).abs() < 1e-12);
        for u in &cleaned.units {
            assert!(crate::geom::validity::is_valid(u));
        }
        assert_eq!(cleaned.report.overlaps, 1);
        assert_eq!(cleaned.report.moves.len(), 2);
    }

    #[test]
    fn touching_at_a_point_and_holes_stay_simple() {
        // A unit of two squares touching at a corner, next to a unit with a hole whose
        // corner touches its own shell.
        let bow = MultiPolygon::new(vec![
            square(0., 0., 1.).0[0].clone(),
            square(1., 1., 1.).0[0].clone(),
        ]);
        let framed = MultiPolygon::new(vec![polygon![
            exterior: [(x: 3., y: 0.), (x: 6., y: 0.), (x: 6., y: 3.), (x: 3., y: 3.)],
            interiors: [[(x: 3., y: 1.), (x: 4., y: 2.), (x: 4., y: 1.)]],
        ]]);
        let cleaned = clean(&[bow.clone(), framed.clone()], &options());
        assert_eq!(cleaned.units[0].0.len(), 2);
        assert_eq!(cleaned.units[0].unsigned_area(), 2.0);
        assert_eq!(cleaned.units[1].unsigned_area(), framed.unsigned_area());
        assert!(
            crate::geom::validity::is_valid(&cleaned.units[1]),
            "{:?}",
            cleaned.units[1]
        );
    }

    #[test]
    fn precision_reads_the_decimals() {
        assert_eq!(decimals(40.5), 1);
        assert_eq!(decimals(-73.123456), 6);
        assert_eq!(decimals(1.0 / 3.0), 8);
    }
}

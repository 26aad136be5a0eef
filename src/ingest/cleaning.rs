//! Coverage cleaning at ingest: the validated polygon units made into a clean coverage
//! ([`crate::topo::clean`]) before they are stored, and what moved, for the summary.

use std::fmt;

use geo::{Geometry, MultiPolygon};

use super::Rejection;
use crate::feature::Unit;
use crate::topo::clean::{self, CleanOptions, CleanReport, METRES_PER_DEGREE};

/// How a polygon dataset is cleaned at ingest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cleaning {
    /// Whether to clean (`--no-clean` keeps the raw geometry).
    pub enabled: bool,
    /// Snap tolerance in metres; `None`: from the coordinates' precision.
    pub snap_m: Option<f64>,
    /// Enclosed gaps and overlaps up to this width (metres) are slivers to resolve.
    pub gap_m: f64,
}

/// The default gap width, metres.
pub const DEFAULT_GAP_M: f64 = 1.0;

/// Largest tolerance accepted, metres: beyond it cleaning would redraw the map.
pub const MAX_TOLERANCE_M: f64 = 1000.0;

impl Default for Cleaning {
    fn default() -> Cleaning {
        Cleaning {
            enabled: true,
            snap_m: None,
            gap_m: DEFAULT_GAP_M,
        }
    }
}

impl Cleaning {
    /// Checks a tolerance given by a user (`--snap`, `--gap`): a finite number of metres
    /// from 0 to [`MAX_TOLERANCE_M`].
    pub fn check_tolerance(name: &'static str, metres: f64) -> Result<f64, String> {
        if metres.is_finite() && (0.0..=MAX_TOLERANCE_M).contains(&metres) {
            Ok(metres)
        } else {
            Err(format!(
                "{name} must be a number of metres from 0 to {MAX_TOLERANCE_M}, not {metres}"
            ))
        }
    }
}

/// The units with the most area moved are listed, at most this many (and as many wide
/// overlaps).
const LIST_MAX: usize = 10;

/// What cleaning did to a dataset, with unit ids.
#[derive(Debug, Clone, PartialEq)]
pub struct CleaningSummary {
    /// Snap tolerance used, metres.
    pub snap_m: f64,
    /// Whether the snap tolerance came from the coordinates' precision.
    pub snap_from_precision: bool,
    /// Gap width used, metres.
    pub gap_m: f64,
    /// The cleaner's figures (unit indexes refer to `unit_ids`).
    pub report: CleanReport,
    /// Ids of the units, index for index with the report's unit numbers.
    pub unit_ids: Vec<String>,
}

/// Cleans the polygon units in place; units left with no area are taken out and
/// returned as rejections.
pub(super) fn clean_units(
    units: &mut Vec<Unit>,
    indexes: &[usize],
    cleaning: &Cleaning,
) -> (CleaningSummary, Vec<Rejection>) {
    let polygons: Vec<MultiPolygon<f64>> = units
        .iter()
        .map(|u| match &u.geometry {
            Geometry::MultiPolygon(mp) => mp.clone(),
            _ => MultiPolygon::new(Vec::new()),
        })
        .collect();
    let snap_deg = match cleaning.snap_m {
        Some(m) => m / METRES_PER_DEGREE,
        None => clean::precision(&polygons),
    };
    let options = CleanOptions {
        snap: snap_deg,
        gap_width: cleaning.gap_m / METRES_PER_DEGREE,
    };
    let cleaned = clean::clean(&polygons, &options);
    drop(polygons);
    let summary = CleaningSummary {
        snap_m: snap_deg * METRES_PER_DEGREE,
        snap_from_precision: cleaning.snap_m.is_none(),
        gap_m: cleaning.gap_m,
        unit_ids: units.iter().map(|u| u.id.clone()).collect(),
        report: cleaned.report,
    };
    for (unit, geometry) in units.iter_mut().zip(cleaned.units) {
        unit.geometry = Geometry::MultiPolygon(geometry);
    }
    let mut rejected = Vec::new();
    let emptied = &summary.report.emptied;
    if !emptied.is_empty() {
        let mut i = 0usize;
        units.retain(|u| {
            let gone = emptied.binary_search(&(i as u32)).is_ok();
            if gone {
                rejected.push(Rejection {
                    index: indexes[i],
                    id: Some(u.id.clone()),
                    reason: "lies wholly under other units: cleaning gave its area to them".into(),
                });
            }
            i += 1;
            !gone
        });
    }
    (summary, rejected)
}

impl fmt::Display for CleaningSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        let id = |u: u32| self.unit_ids.get(u as usize).map_or("?", String::as_str);
        writeln!(
            f,
            "  cleaned (snap {} m{}, gap {} m): {} overlap(s) ({}) and {} gap(s) ({}) given to one unit, {} moved in all; largest vertex move {:.3} m",
            trim(self.snap_m),
            if self.snap_from_precision {
                " from the coordinates' precision"
            } else {
                ""
            },
            trim(self.gap_m),
            r.overlaps,
            area(r.overlap_area_m2),
            r.gaps_filled,
            area(r.gap_area_m2),
            area(r.area_moved_m2()),
            r.max_displacement_m,
        )?;
        if r.gaps_kept > 0 {
            writeln!(
                f,
                "  {} enclosed gap(s) wider than {} m kept as holes",
                r.gaps_kept,
                trim(self.gap_m)
            )?;
        }
        let mut listed: Vec<_> = r.moves.iter().collect();
        listed.sort_by(|a, b| (b.lost_m2 + b.gained_m2).total_cmp(&(a.lost_m2 + a.gained_m2)));
        for m in listed.iter().take(LIST_MAX) {
            writeln!(
                f,
                "  moved {}: gave up {}, kept or gained {} ({:.3}% of its {})",
                id(m.unit),
                area(m.lost_m2),
                area(m.gained_m2),
                100.0 * (m.lost_m2 + m.gained_m2) / m.area_m2.max(f64::MIN_POSITIVE),
                area(m.area_m2)
            )?;
        }
        if listed.len() > LIST_MAX {
            writeln!(
                f,
                "  ... and {} more unit(s) with less moved",
                listed.len() - LIST_MAX
            )?;
        }
        for w in r.wide_overlaps.iter().take(LIST_MAX) {
            let units: Vec<&str> = w.units.iter().map(|&u| id(u)).collect();
            writeln!(
                f,
                "  overlap wider than the gap: {} cover {}; given to {} (the smallest)",
                units.join(", "),
                area(w.area_m2),
                id(w.owner)
            )?;
        }
        if r.unresolved > 0 || r.inconsistent > 0 || r.unassembled > 0 {
            writeln!(
                f,
                "  warning: {} crossing(s) left after noding, {} inconsistent face(s), {} unit(s) kept as given: dissolves there may fall back",
                r.unresolved, r.inconsistent, r.unassembled
            )?;
        }
        Ok(())
    }
}

/// A tolerance without trailing zeros.
fn trim(metres: f64) -> String {
    let text = format!("{metres:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// An area in m² or km².
fn area(m2: f64) -> String {
    if m2 >= 1e6 {
        format!("{:.2} km²", m2 / 1e6)
    } else {
        format!("{m2:.1} m²")
    }
}

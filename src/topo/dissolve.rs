//! Dissolving groups of units on the topology.
//!
//! A group's outline is the set of arcs with the group on exactly one side, oriented
//! with the group on the left; [`super::stitch`] turns them into rings and
//! [`super::assemble`] into a MultiPolygon. The cost is one pass over the group's arc
//! references plus the outline's coordinates: the units' interiors are never overlaid.
//!
//! Every result is checked before it is returned: the outline must be OGC-valid and its
//! area must equal the sum of the units' areas (to 1e-9 relative). With both, and the
//! outline made exactly of the arcs with the group on one side, it *is* the union of the
//! units: a valid polygon is determined by its boundary. A group that fails, or that
//! holds a unit claiming the same side of an edge as another unit, is dissolved by the
//! [`overlay_union`] instead, which must pass the same checks (its area within
//! [`OVERLAY_AREA_TOLERANCE`], as the overlay rounds coordinates to a grid; no more than
//! the units' sum where they overlap) and is marked [`DissolveMethod::Fallback`]. An
//! overlay that fails too gives an empty outline marked [`DissolveMethod::Failed`]: a
//! wrong outline is never served.

use geo::{Area, MultiPolygon, Polygon};

use super::stitch::{self, Directed};
use super::{NONE, Topology, assemble, overlay_union};
use crate::geom::validity;

/// Relative tolerance of the area check of a topology outline.
pub const AREA_TOLERANCE: f64 = 1e-9;

/// Relative tolerance of the area check of an overlay union, which rounds coordinates
/// to a fixed grid.
pub const OVERLAY_AREA_TOLERANCE: f64 = 1e-7;

/// How a dissolved geometry was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DissolveMethod {
    /// Stitched from shared arcs.
    Topology,
    /// The [`overlay_union`], because the topology outline failed its checks.
    Fallback,
    /// Both failed their checks: the outline is empty rather than wrong.
    Failed,
}

impl DissolveMethod {
    /// The method's name in the API and in exports: `topology`, `fallback`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DissolveMethod::Topology => "topology",
            DissolveMethod::Fallback => "fallback",
            DissolveMethod::Failed => "failed",
        }
    }
}

/// A dissolved group.
#[derive(Debug, Clone, PartialEq)]
pub struct Dissolved {
    /// The group's outline: a valid MultiPolygon, exterior rings counter-clockwise,
    /// holes clockwise. Empty for a group without units, or when the dissolve failed.
    pub geometry: MultiPolygon<f64>,
    /// How it was produced.
    pub method: DissolveMethod,
    /// Why the topology outline was not served, with the figures (None when it was).
    pub problem: Option<String>,
}

/// Dissolves one group of units into a valid MultiPolygon (exterior CCW, holes CW).
/// Unknown and repeated unit indexes are ignored.
///
/// ```
/// use geo::{MultiPolygon, polygon};
/// use geoalign::topo::{Topology, dissolve};
/// let unit = |x: f64| MultiPolygon::new(vec![polygon![
///     (x: x, y: 0.), (x: x + 1., y: 0.), (x: x + 1., y: 1.), (x: x, y: 1.)]]);
/// let topology = Topology::build(&[unit(0.), unit(1.), unit(2.)], 1e-7);
/// let outline = dissolve(&topology, &[0, 1]).geometry;
/// // A 2×1 rectangle; (1, 0) and (1, 1) stay: arcs end there.
/// assert_eq!(outline.0[0].exterior().0.len(), 7);
/// ```
pub fn dissolve(topology: &Topology, units: &[u32]) -> Dissolved {
    let n = topology.unit_count();
    let mut list: Vec<u32> = units.iter().copied().filter(|&u| (u as usize) < n).collect();
    list.sort_unstable();
    list.dedup();
    let mut member = vec![0u64; n.div_ceil(64)];
    for &u in &list {
        member[(u >> 6) as usize] |= 1 << (u & 63);
    }
    let in_group = |u: u32| u != NONE && member[(u >> 6) as usize] & (1 << (u & 63)) != 0;
    let mut outline = Vec::new();
    let mut expected = 0.0;
    let mut dirty = false;
    for &u in &list {
        expected += topology.unit_area[u as usize];
        dirty |= topology.dirty[u as usize];
        for &arc_ref in topology.unit_refs(u as usize) {
            let arc = &topology.arcs[(arc_ref >> 1) as usize];
            let reversed = arc_ref & 1 == 1;
            let other = if reversed { arc.left } else { arc.right };
            if !in_group(other) {
                outline.push(directed(topology, arc_ref));
            }
        }
    }
    finish(topology, &list, outline, expected, dirty)
}

/// Dissolves every group at once: `owner[i]` is unit i's group (None = unassigned);
/// returns one [`Dissolved`] per group `0..groups`. Units past the end of `owner`, and
/// groups `>= groups`, count as unassigned.
pub fn dissolve_all(topology: &Topology, owner: &[Option<u32>], groups: usize) -> Vec<Dissolved> {
    let n = topology.unit_count();
    let group_of = |u: u32| -> u32 {
        match owner.get(u as usize) {
            Some(&Some(g)) if (g as usize) < groups && (u as usize) < n => g,
            _ => NONE,
        }
    };
    // Units per group (for the area check and the fallback).
    let mut unit_off = vec![0u32; groups + 1];
    for u in 0..n as u32 {
        let g = group_of(u);
        if g != NONE {
            unit_off[g as usize + 1] += 1;
        }
    }
    for g in 0..groups {
        unit_off[g + 1] += unit_off[g];
    }
    let mut members = vec![0u32; unit_off[groups] as usize];
    let mut fill = unit_off.clone();
    let mut expected = vec![0.0f64; groups];
    let mut dirty = vec![false; groups];
    for u in 0..n as u32 {
        let g = group_of(u);
        if g != NONE {
            let g = g as usize;
            members[fill[g] as usize] = u;
            fill[g] += 1;
            expected[g] += topology.unit_area[u as usize];
            dirty[g] |= topology.dirty[u as usize];
        }
    }
    // Outline arcs per group, in one pass over the arcs.
    let mut outline_off = vec![0u32; groups + 1];
    for arc in &topology.arcs {
        let (l, r) = (group_of(arc.left), group_of(arc.right));
        if l != r {
            if l != NONE {
                outline_off[l as usize + 1] += 1;
            }
            if r != NONE {
                outline_off[r as usize + 1] += 1;
            }
        }
    }
    for g in 0..groups {
        outline_off[g + 1] += outline_off[g];
    }
    let mut outline = vec![
        Directed {
            from: 0,
            arc_ref: 0,
            to: 0
        };
        outline_off[groups] as usize
    ];
    let mut fill = outline_off.clone();
    for (i, arc) in topology.arcs.iter().enumerate() {
        let (l, r) = (group_of(arc.left), group_of(arc.right));
        if l != r {
            let i = i as u32;
            if l != NONE {
                outline[fill[l as usize] as usize] = directed(topology, i << 1);
                fill[l as usize] += 1;
            }
            if r != NONE {
                outline[fill[r as usize] as usize] = directed(topology, (i << 1) | 1);
                fill[r as usize] += 1;
            }
        }
    }
    (0..groups)
        .map(|g| {
            let units = &members[unit_off[g] as usize..unit_off[g + 1] as usize];
            let arcs = outline[outline_off[g] as usize..outline_off[g + 1] as usize].to_vec();
            finish(topology, units, arcs, expected[g], dirty[g])
        })
        .collect()
}

/// The outline entry of an arc reference.
fn directed(topology: &Topology, arc_ref: u32) -> Directed {
    let arc = &topology.arcs[(arc_ref >> 1) as usize];
    if arc_ref & 1 == 0 {
        Directed {
            from: arc.from,
            arc_ref,
            to: arc.to,
        }
    } else {
        Directed {
            from: arc.to,
            arc_ref,
            to: arc.from,
        }
    }
}

/// Stitches, assembles and checks a group's outline; falls back to an overlay when the
/// topology cannot give a right result.
fn finish(
    topology: &Topology,
    units: &[u32],
    mut outline: Vec<Directed>,
    expected_area: f64,
    dirty: bool,
) -> Dissolved {
    if units.is_empty() {
        return Dissolved {
            geometry: MultiPolygon::new(Vec::new()),
            method: DissolveMethod::Topology,
            problem: None,
        };
    }
    if dirty {
        return fallback(
            topology,
            units,
            expected_area,
            "a unit overlaps another along an edge".into(),
        );
    }
    let loops = match stitch::stitch(topology, &mut outline) {
        Ok(loops) => loops,
        Err(reason) => return fallback(topology, units, expected_area, reason.into()),
    };
    let (geometry, area) = match assemble::assemble(topology, &loops) {
        Ok(done) => done,
        Err(reason) => return fallback(topology, units, expected_area, reason.into()),
    };
    if !within(area, expected_area, AREA_TOLERANCE) {
        return fallback(
            topology,
            units,
            expected_area,
            format!("outline area {area:e} differs from the units' {expected_area:e}"),
        );
    }
    if !validity::is_valid(&geometry) {
        return fallback(topology, units, expected_area, "outline is not OGC-valid".into());
    }
    Dissolved {
        geometry,
        method: DissolveMethod::Topology,
        problem: None,
    }
}

/// Whether `area` equals `expected` to `tolerance` relative.
fn within(area: f64, expected: f64, tolerance: f64) -> bool {
    (area - expected).abs() <= tolerance * expected.abs().max(f64::MIN_POSITIVE)
}

/// The [`overlay_union`] of the units as built, checked: valid, and its area the units'
/// sum (no more than it where the units overlap or cross).
fn fallback(topology: &Topology, units: &[u32], expected_area: f64, why: String) -> Dissolved {
    tracing::debug!(units = units.len(), reason = %why, "dissolve falls back to the overlay");
    let polygons: Vec<Polygon<f64>> = units
        .iter()
        .flat_map(|&u| topology.unit_geometry(u as usize).0)
        .collect();
    let geometry = overlay_union(&polygons);
    let area = geometry.unsigned_area();
    let overlapping = units
        .iter()
        .any(|&u| topology.unclean[u as usize] || topology.dirty[u as usize]);
    let area_ok = if overlapping {
        area <= expected_area * (1.0 + OVERLAY_AREA_TOLERANCE)
    } else {
        within(area, expected_area, OVERLAY_AREA_TOLERANCE)
    };
    let valid = validity::is_valid(&geometry);
    if valid && area_ok {
        return Dissolved {
            geometry,
            method: DissolveMethod::Fallback,
            problem: Some(why),
        };
    }
    Dissolved {
        geometry: MultiPolygon::new(Vec::new()),
        method: DissolveMethod::Failed,
        problem: Some(format!(
            "{why}; the overlay {} (area {area:e}, units' {expected_area:e})",
            if valid {
                "has the wrong area"
            } else {
                "is not OGC-valid"
            }
        )),
    }
}

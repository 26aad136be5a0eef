//! Dissolving groups of units on the topology.
//!
//! A group's outline is the set of arcs with the group on exactly one side, oriented
//! with the group on the left; [`super::stitch`] turns them into rings and
//! [`super::assemble`] into a MultiPolygon. The cost is one pass over the group's arc
//! references plus the outline's coordinates: the units' interiors are never overlaid.
//!
//! The result is checked before it is returned: the rings must close, holes must find
//! a shell, the area must equal the sum of the units' areas, and where the build found
//! the group's units overlapping or crossing something the geometry is validated. A
//! group that fails, or that holds a unit claiming the same side of an edge as another
//! unit, is dissolved with `geo::unary_union` instead and marked
//! [`DissolveMethod::Fallback`].

use geo::orient::Direction;
use geo::{MultiPolygon, Orient, Polygon, unary_union};

use super::stitch::{self, Directed};
use super::{NONE, Topology, assemble};
use crate::geom::validity;

/// Relative tolerance of the area check.
const AREA_TOLERANCE: f64 = 1e-9;

/// How a dissolved geometry was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DissolveMethod {
    /// Stitched from shared arcs.
    Topology,
    /// `geo::unary_union` (i_overlay), because the units' topology was not clean.
    Fallback,
}

/// A dissolved group.
#[derive(Debug, Clone, PartialEq)]
pub struct Dissolved {
    /// The group's outline: a valid MultiPolygon, exterior rings counter-clockwise,
    /// holes clockwise. Empty for a group without units.
    pub geometry: MultiPolygon<f64>,
    /// How it was produced.
    pub method: DissolveMethod,
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
/// topology cannot give a clean result.
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
        };
    }
    if dirty {
        return fallback(topology, units, "a unit overlaps another along an edge");
    }
    let loops = match stitch::stitch(topology, &mut outline) {
        Ok(loops) => loops,
        Err(reason) => return fallback(topology, units, reason),
    };
    let (geometry, area) = match assemble::assemble(topology, &loops) {
        Ok(done) => done,
        Err(reason) => return fallback(topology, units, reason),
    };
    if (area - expected_area).abs() > AREA_TOLERANCE * expected_area.abs().max(f64::MIN_POSITIVE) {
        return fallback(topology, units, "outline area differs from the units' area");
    }
    // Where the build found overlaps or crossings around the group's units, the result
    // must prove itself valid (then it is the exact union: overlapping units would give
    // its rings a winding number of 2 somewhere).
    let suspect = units.iter().any(|&u| topology.unclean[u as usize]);
    if suspect && !validity::is_valid(&geometry) {
        return fallback(topology, units, "units overlap or cross");
    }
    Dissolved {
        geometry,
        method: DissolveMethod::Topology,
    }
}

/// `geo::unary_union` of the units as built.
fn fallback(topology: &Topology, units: &[u32], reason: &'static str) -> Dissolved {
    tracing::debug!(units = units.len(), reason, "dissolve falls back to unary_union");
    let polygons: Vec<Polygon<f64>> = units
        .iter()
        .flat_map(|&u| topology.unit_geometry(u as usize).0)
        .collect();
    let geometry = unary_union(&polygons).orient(Direction::Default);
    if !validity::is_valid(&geometry) {
        tracing::warn!(
            units = units.len(),
            "unary_union fallback gave an invalid geometry"
        );
    }
    Dissolved {
        geometry,
        method: DissolveMethod::Fallback,
    }
}

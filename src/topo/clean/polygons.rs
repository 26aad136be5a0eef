//! Each unit's polygons from the faces it owns.
//!
//! A unit's outline is made of the half-edges with one of its faces on the left and
//! another owner's (or nobody's) on the right. From each such half-edge the next one is
//! found by turning clockwise around its end, past the unit's own interior edges: the
//! tightest turn that keeps the unit on the left. Where an outline passes a vertex twice
//! (a hole touching its shell, two parts meeting at a point) it is cut there into simple
//! rings, as OGC requires. Counter-clockwise rings are shells, clockwise ones holes; each
//! hole goes into the smallest shell around it ([`crate::topo::assemble`]).

use geo::{Coord, MultiPolygon};

use super::arrangement::Arrangement;
use crate::topo::{NONE, area, assemble};

/// The polygons of every unit `0..units` (exterior rings counter-clockwise, holes
/// clockwise); a unit owning no face gets an empty MultiPolygon, one whose rings do
/// not assemble (a hole in no shell: noding failed there) `None`.
pub(super) fn polygons(
    arrangement: &Arrangement,
    owner: &[u32],
    units: usize,
) -> Vec<Option<MultiPolygon<f64>>> {
    let owner_of = |h: u32| owner[arrangement.face_of[h as usize] as usize];
    let half_count = arrangement.face_of.len() as u32;
    // Outline half-edges grouped by unit.
    let mut by_unit: Vec<(u32, u32)> = (0..half_count)
        .filter_map(|h| {
            let u = owner_of(h);
            (u != NONE && owner_of(h ^ 1) != u).then_some((u, h))
        })
        .collect();
    by_unit.sort_unstable();
    let mut used = vec![false; half_count as usize];
    let mut seen_at = vec![NONE; arrangement.points.len()];
    let mut out: Vec<Option<MultiPolygon<f64>>> = vec![Some(MultiPolygon::new(Vec::new())); units];
    let mut k = 0;
    while k < by_unit.len() {
        let u = by_unit[k].0;
        let mut rings: Vec<Vec<Coord<f64>>> = Vec::new();
        while k < by_unit.len() && by_unit[k].0 == u {
            let start = by_unit[k].1;
            k += 1;
            if used[start as usize] {
                continue;
            }
            let mut walk: Vec<u32> = Vec::new();
            let mut h = start;
            loop {
                used[h as usize] = true;
                walk.push(arrangement.origin(h));
                let mut g = arrangement.clockwise[(h ^ 1) as usize];
                while owner_of(g ^ 1) == u {
                    g = arrangement.clockwise[g as usize];
                }
                h = g;
                if h == start {
                    break;
                }
            }
            for ring in simple_rings(&walk, &mut seen_at) {
                let mut coords: Vec<Coord<f64>> =
                    ring.iter().map(|&p| arrangement.points[p as usize]).collect();
                coords.push(coords[0]);
                if area::twice_signed(&coords) != 0.0 {
                    rings.push(coords);
                }
            }
        }
        out[u as usize] = match assemble::rings_to_polygons(rings.into_iter()) {
            Ok((polygons, _)) => Some(polygons),
            Err(reason) => {
                tracing::warn!(unit = u, reason, "cleaned outline could not be assembled");
                None
            }
        };
    }
    out
}

/// Cuts a closed walk of point ids into simple rings at every repeated point.
/// `seen_at` is scratch space (all `NONE` on entry and on return).
fn simple_rings(walk: &[u32], seen_at: &mut [u32]) -> Vec<Vec<u32>> {
    let mut rings = Vec::new();
    let mut stack: Vec<u32> = Vec::with_capacity(walk.len());
    for &p in walk {
        let at = seen_at[p as usize];
        if at != NONE {
            // A loop from p back to p: cut it off, keep p.
            let ring: Vec<u32> = stack.drain(at as usize + 1..).collect();
            for &q in &ring {
                seen_at[q as usize] = NONE;
            }
            let mut ring = ring;
            ring.insert(0, p);
            rings.push(ring);
            continue;
        }
        seen_at[p as usize] = stack.len() as u32;
        stack.push(p);
    }
    for &q in &stack {
        seen_at[q as usize] = NONE;
    }
    rings.push(stack);
    rings.retain(|r| r.len() >= 3);
    rings
}

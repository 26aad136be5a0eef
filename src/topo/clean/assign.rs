//! Who gets each face of the arrangement.
//!
//! | face | goes to |
//! |---|---|
//! | covered by one unit | that unit |
//! | covered by several, no wider than the gap width (a sliver where neighbours were digitised apart) | the covering unit sharing the longest border with it |
//! | covered by several, wider (a unit drawn on top of another) | the smallest covering unit, so an enclave drawn over its surroundings keeps its area |
//! | covered by none, enclosed, no wider than the gap width | the neighbour sharing the longest border with it |
//! | covered by none, enclosed, wider | nobody: a hole the data means |
//! | the unbounded face | nobody |
//!
//! A face's width is estimated as twice its area over its perimeter (a sliver of length
//! `l` and width `w` has area `l·w` and perimeter about `2l`). Ties go to the larger unit,
//! then to the lower unit index, so the result does not depend on the order of faces.

use super::arrangement::Arrangement;
use crate::topo::NONE;

/// How a face was given away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Covered by exactly one unit, or by none and left so.
    Kept,
    /// An overlap sliver, given to the unit with the longest shared border.
    Sliver,
    /// A wide overlap, given to the smallest covering unit.
    WideOverlap,
    /// A narrow gap, filled by the neighbour with the longest shared border.
    GapFilled,
    /// A wide enclosed gap, left empty.
    GapKept,
}

/// The owner of every face (`NONE`: nobody) and how it was decided.
pub(super) struct Assignment {
    /// Owner unit per face.
    pub(super) owner: Vec<u32>,
    /// Why, per face.
    pub(super) kind: Vec<Kind>,
    /// Each unit's area as given (sum of the faces covering it), twice, deg².
    pub(super) twice_area: Vec<f64>,
}

/// Applies the rules of the module documentation; `gap_width` in degrees.
pub(super) fn assign(arrangement: &Arrangement, units: usize, gap_width: f64) -> Assignment {
    let faces = arrangement.faces.len();
    let mut twice_area = vec![0.0f64; units];
    for f in 1..faces as u32 {
        for &u in arrangement.covering(f) {
            twice_area[u as usize] += arrangement.faces[f as usize].twice_area;
        }
    }
    let mut owner = vec![NONE; faces];
    let mut kind = vec![Kind::Kept; faces];
    let width = |f: u32| {
        let face = &arrangement.faces[f as usize];
        if face.perimeter > 0.0 {
            face.twice_area.abs() / face.perimeter
        } else {
            0.0
        }
    };
    // Single coverage first: the borders the other rules measure are with these.
    for f in 1..faces as u32 {
        if let [u] = arrangement.covering(f) {
            owner[f as usize] = *u;
        }
    }
    // The longest-border choice among `candidates` (None: all of them share no border).
    let longest_border = |f: u32, owner: &[u32], candidates: &dyn Fn(u32) -> bool| -> Option<u32> {
        let mut border: Vec<(u32, f64)> = Vec::new();
        for &h in arrangement.half_edges(f) {
            let other = owner[arrangement.face_of[(h ^ 1) as usize] as usize];
            if other == NONE || !candidates(other) {
                continue;
            }
            let length = arrangement.length(h);
            match border.iter_mut().find(|(u, _)| *u == other) {
                Some(entry) => entry.1 += length,
                None => border.push((other, length)),
            }
        }
        border
            .into_iter()
            .max_by(|(u, a), (v, b)| {
                a.total_cmp(b)
                    .then(twice_area[*u as usize].total_cmp(&twice_area[*v as usize]))
                    .then(v.cmp(u))
            })
            .map(|(u, _)| u)
    };
    for f in 1..faces as u32 {
        let covering = arrangement.covering(f);
        if covering.len() < 2 {
            continue;
        }
        let is_covering = |u: u32| covering.contains(&u);
        let largest = || {
            covering.iter().copied().max_by(|&u, &v| {
                twice_area[u as usize]
                    .total_cmp(&twice_area[v as usize])
                    .then(v.cmp(&u))
            })
        };
        let (chosen, why) = if width(f) <= gap_width {
            (
                longest_border(f, &owner, &is_covering).or_else(largest),
                Kind::Sliver,
            )
        } else {
            let smallest = covering.iter().copied().min_by(|&u, &v| {
                twice_area[u as usize]
                    .total_cmp(&twice_area[v as usize])
                    .then(u.cmp(&v))
            });
            (smallest, Kind::WideOverlap)
        };
        owner[f as usize] = chosen.unwrap_or(NONE);
        kind[f as usize] = why;
    }
    for f in 1..faces as u32 {
        if !arrangement.covering(f).is_empty() {
            continue;
        }
        if width(f) <= gap_width
            && let Some(u) = longest_border(f, &owner, &|_| true)
        {
            owner[f as usize] = u;
            kind[f as usize] = Kind::GapFilled;
            continue;
        }
        kind[f as usize] = Kind::GapKept;
    }
    Assignment {
        owner,
        kind,
        twice_area,
    }
}

//! From stitched rings to a MultiPolygon: counter-clockwise rings are shells,
//! clockwise rings are holes, each hole goes to the smallest shell that contains it.
//!
//! With the group on the left of every outline arc, shells come out counter-clockwise
//! and holes clockwise already. A hole is placed by bounding boxes when only one shell
//! can hold it, else by a point-in-ring test on the midpoint of its first segment
//! (never on another ring: rings meet only at nodes).

use geo::{Coord, LineString, MultiPolygon, Polygon};

use super::stitch::Loops;
use super::{Topology, area};

/// A materialised ring.
struct Ring {
    coords: Vec<Coord<f64>>,
    twice_area: f64,
    min: Coord<f64>,
    max: Coord<f64>,
}

/// The MultiPolygon of the stitched rings, with its area (shells minus holes).
pub(crate) fn assemble(topology: &Topology, loops: &Loops) -> Result<(MultiPolygon<f64>, f64), &'static str> {
    rings_to_polygons((0..loops.len()).map(|r| topology.ring_coords(loops.ring(r).iter().copied())))
}

/// The MultiPolygon of closed rings that meet only at vertices (counter-clockwise:
/// shells, clockwise: holes), with its area.
pub(crate) fn rings_to_polygons(
    rings: impl Iterator<Item = Vec<Coord<f64>>>,
) -> Result<(MultiPolygon<f64>, f64), &'static str> {
    let mut shells: Vec<Ring> = Vec::new();
    let mut holes: Vec<Ring> = Vec::new();
    let mut total = 0.0;
    for coords in rings {
        if coords.len() < 4 || coords.first() != coords.last() {
            return Err("ring with fewer than three vertices");
        }
        let twice_area = area::twice_signed(&coords);
        let (mut min, mut max) = (coords[0], coords[0]);
        for c in &coords {
            min.x = min.x.min(c.x);
            min.y = min.y.min(c.y);
            max.x = max.x.max(c.x);
            max.y = max.y.max(c.y);
        }
        total += twice_area / 2.0;
        let ring = Ring {
            coords,
            twice_area,
            min,
            max,
        };
        if twice_area > 0.0 {
            shells.push(ring);
        } else if twice_area < 0.0 {
            holes.push(ring);
        } else {
            return Err("zero-area ring");
        }
    }
    let mut shell_holes: Vec<Vec<LineString<f64>>> = (0..shells.len()).map(|_| Vec::new()).collect();
    for hole in holes {
        let target = if shells.len() == 1 {
            0
        } else {
            containing_shell(&shells, &hole).ok_or("hole outside every shell")?
        };
        shell_holes[target].push(LineString::new(hole.coords));
    }
    let polygons = shells
        .into_iter()
        .zip(shell_holes)
        .map(|(shell, holes)| Polygon::new(LineString::new(shell.coords), holes))
        .collect();
    Ok((MultiPolygon::new(polygons), total))
}

/// The smallest shell containing the hole.
fn containing_shell(shells: &[Ring], hole: &Ring) -> Option<usize> {
    let inside_box = |s: &Ring| {
        s.min.x <= hole.min.x && s.min.y <= hole.min.y && s.max.x >= hole.max.x && s.max.y >= hole.max.y
    };
    let mut candidates = shells.iter().enumerate().filter(|(_, s)| inside_box(s));
    let first = candidates.next()?;
    let Some(second) = candidates.next() else {
        return Some(first.0);
    };
    let probe = Coord {
        x: (hole.coords[0].x + hole.coords[1].x) / 2.0,
        y: (hole.coords[0].y + hole.coords[1].y) / 2.0,
    };
    [first, second]
        .into_iter()
        .chain(candidates)
        .filter(|(_, s)| contains(&s.coords, probe))
        .min_by(|a, b| a.1.twice_area.total_cmp(&b.1.twice_area))
        .map(|(i, _)| i)
}

/// Even-odd point-in-ring test (the point is never on the ring here).
fn contains(ring: &[Coord<f64>], p: Coord<f64>) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a.y > p.y) != (b.y > p.y) {
            let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    inside
}

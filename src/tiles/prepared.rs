//! Geometry prepared once for tiling: projected to world coordinates, every vertex
//! with its simplification importance, every ring with its bounding box.

use geo::MultiPolygon;

use std::collections::HashMap;

use super::simplify::write_chain_importance;
use super::tile_id::lonlat_to_world;
use super::zoomed::{ByZoom, Kept};

/// A world box `[min_x, min_y, max_x, max_y]`.
pub type WorldBox = [f64; 4];

/// An empty box that any point extends.
pub const EMPTY_BOX: WorldBox = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];

/// Grows `b` to hold point `p`.
pub fn extend(b: &mut WorldBox, p: [f64; 2]) {
    b[0] = b[0].min(p[0]);
    b[1] = b[1].min(p[1]);
    b[2] = b[2].max(p[0]);
    b[3] = b[3].max(p[1]);
}

/// The union of two boxes.
pub fn union(a: WorldBox, b: WorldBox) -> WorldBox {
    [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])]
}

/// Whether two boxes overlap (touching counts).
pub fn intersects(a: &WorldBox, b: &WorldBox) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// One ring: a range of [`PreparedPolygons::coords`] (not closed) and its box.
#[derive(Debug, Clone)]
pub struct Ring {
    /// First vertex.
    pub start: u32,
    /// One past the last vertex.
    pub end: u32,
    /// Bounding box.
    pub bbox: WorldBox,
}

/// One polygon: rings `start..end` of [`PreparedPolygons::rings`], the exterior first.
#[derive(Debug, Clone)]
pub struct Polygon {
    /// First ring (the exterior).
    pub start: u32,
    /// One past the last ring.
    pub end: u32,
}

/// A multipolygon in world coordinates with per-vertex importance.
#[derive(Debug, Clone, Default)]
pub struct PreparedPolygons {
    /// Vertices in world coordinates.
    pub coords: Vec<[f64; 2]>,
    /// Importance of each vertex (see [`super::simplify`]).
    pub importance: Vec<f32>,
    /// Rings.
    pub rings: Vec<Ring>,
    /// Polygons.
    pub polygons: Vec<Polygon>,
    /// Bounding box of everything.
    pub bbox: WorldBox,
    /// Vertices kept per zoom, built on first use.
    kept: ByZoom,
}

impl PreparedPolygons {
    /// Projects a multipolygon given in degrees; each vertex takes its importance from
    /// the topology arc it lies on.
    pub fn new(geometry: &MultiPolygon<f64>, arcs: &ArcIndex) -> PreparedPolygons {
        let mut out = PreparedPolygons {
            bbox: EMPTY_BOX,
            ..PreparedPolygons::default()
        };
        let mut ring_coords: Vec<[f64; 2]> = Vec::new();
        for polygon in geometry {
            let first_ring = out.rings.len() as u32;
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                let mut pts = ring.0.as_slice();
                if pts.len() > 1 && pts.first() == pts.last() {
                    pts = &pts[..pts.len() - 1];
                }
                if pts.len() < 3 {
                    if out.rings.len() as u32 == first_ring {
                        break; // no exterior: skip the polygon
                    }
                    continue;
                }
                ring_coords.clear();
                ring_coords.extend(pts.iter().map(|c| lonlat_to_world(c.x, c.y)));
                let start = out.coords.len();
                out.importance.extend(pts.iter().map(|c| arcs.importance(c)));
                let mut bbox = EMPTY_BOX;
                for p in &ring_coords {
                    extend(&mut bbox, *p);
                }
                out.coords.extend_from_slice(&ring_coords);
                out.bbox = union(out.bbox, bbox);
                out.rings.push(Ring {
                    start: start as u32,
                    end: out.coords.len() as u32,
                    bbox,
                });
            }
            let end = out.rings.len() as u32;
            if end > first_ring {
                out.polygons.push(Polygon {
                    start: first_ring,
                    end,
                });
            }
        }
        out
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.polygons.is_empty()
    }

    /// The vertices of every ring kept at `zoom` (importance above `tolerance`).
    pub fn kept(&self, zoom: u8, tolerance: f64) -> std::borrow::Cow<'_, Kept> {
        self.kept.get(zoom, tolerance, |t| {
            Kept::new(self.rings.iter().map(|r| self.ring(r)), t)
        })
    }

    /// Vertices and importance of a ring.
    pub fn ring(&self, ring: &Ring) -> (&[[f64; 2]], &[f32]) {
        let r = ring.start as usize..ring.end as usize;
        (&self.coords[r.clone()], &self.importance[r])
    }
}

/// A line (a topology arc) in world coordinates with per-vertex importance.
#[derive(Debug, Clone)]
pub struct PreparedLine {
    /// Vertices in world coordinates.
    pub coords: Vec<[f64; 2]>,
    /// Importance of each vertex.
    pub importance: Vec<f32>,
    /// Bounding box.
    pub bbox: WorldBox,
}

impl PreparedLine {
    /// Projects and ranks an arc given in degrees.
    pub fn new(arc: &[geo::Coord<f64>]) -> PreparedLine {
        let coords: Vec<[f64; 2]> = arc.iter().map(|c| lonlat_to_world(c.x, c.y)).collect();
        let mut importance = vec![0.0; coords.len()];
        write_chain_importance(&coords, &mut importance);
        let mut bbox = EMPTY_BOX;
        for p in &coords {
            extend(&mut bbox, *p);
        }
        PreparedLine {
            coords,
            importance,
            bbox,
        }
    }
}

/// The importance of every arc vertex by its coordinates (degrees, bit for bit), so a
/// polygon ring takes the importance of the arcs it runs along: the same kept vertices
/// as its neighbour across the arc and as the boundary line drawn on it. Vertices of no
/// arc (made by an overlay fallback) are always kept.
#[derive(Debug, Default)]
pub struct ArcIndex {
    vertices: HashMap<(u64, u64), f32>,
    lines: Vec<PreparedLine>,
}

impl ArcIndex {
    /// Indexes prepared arcs; `coords` gives each arc's coordinates in degrees.
    pub fn new<'a>(
        lines: Vec<PreparedLine>,
        coords: impl Iterator<Item = &'a [geo::Coord<f64>]>,
    ) -> ArcIndex {
        let mut vertices: HashMap<(u64, u64), f32> = HashMap::new();
        for (line, c) in lines.iter().zip(coords) {
            for (p, imp) in c.iter().zip(&line.importance) {
                let v = vertices.entry((p.x.to_bits(), p.y.to_bits())).or_insert(*imp);
                *v = v.max(*imp);
            }
        }
        ArcIndex { vertices, lines }
    }

    /// The prepared arcs.
    pub fn lines(&self) -> &[PreparedLine] {
        &self.lines
    }

    /// Importance of a vertex (infinite for one on no arc).
    pub fn importance(&self, c: &geo::Coord<f64>) -> f32 {
        self.vertices
            .get(&(c.x.to_bits(), c.y.to_bits()))
            .copied()
            .unwrap_or(f32::INFINITY)
    }
}

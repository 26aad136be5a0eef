//! Shared-arc topology of a dataset's polygon units and the dissolve built on it.
//!
//! [`Topology::build`] snaps the units' vertices (closer than a tolerance), inserts
//! vertices that lie on another unit's segment (the T-junctions of a near-coverage), and
//! cuts every ring into *arcs*: maximal chains of edges with the same unit on the left
//! and the same unit (or nothing) on the right, as TopoJSON and mapshaper do. A unit's
//! rings become lists of arc references; arcs meet at integer *nodes*.
//!
//! [`dissolve`] and [`dissolve_all`] then build a group's outline from the arcs whose
//! two sides lie in different groups, stitched into rings through node ids, without any
//! overlay: the cost grows with the group's boundary, not with the dataset. Neighbouring
//! groups get bit-identical shared edges, so no gap or sliver can open between them.
//!
//! Arc coordinates live in one contiguous buffer ([`Topology::arc`]), so they can be
//! simplified once per zoom level and shared by both sides.
//!
//! Every dissolve is checked: the outline must be OGC-valid and its area the sum of its
//! units' areas. Where it is not — the input is not a clean coverage (see [`clean`],
//! which makes it one at ingest), a unit overlaps another along an edge, stitching
//! fails — that group is dissolved by the [`overlay_union`] instead, checked the same
//! way, and says so in [`Dissolved::method`]; an overlay that fails too is not served
//! ([`DissolveMethod::Failed`]).
//!
//! ```
//! use geo::{MultiPolygon, Area, polygon};
//! use geoalign::topo::{Topology, DissolveMethod, dissolve};
//! let square = |x: f64, y: f64| MultiPolygon::new(vec![polygon![
//!     (x: x, y: y), (x: x + 1., y: y), (x: x + 1., y: y + 1.), (x: x, y: y + 1.)]]);
//! let units = vec![square(0., 0.), square(1., 0.), square(0., 1.)];
//! let topology = Topology::build(&units, 1e-7);
//! assert_eq!(topology.neighbours(0), &[1, 2]);
//! let l_shape = dissolve(&topology, &[0, 1, 2]);
//! assert_eq!(l_shape.method, DissolveMethod::Topology);
//! assert_eq!(l_shape.geometry.0.len(), 1);
//! assert_eq!(l_shape.geometry.unsigned_area(), 3.0);
//! ```

mod area;
mod assemble;
mod build;
pub mod clean;
mod dissolve;
mod faces;
mod overlay;
mod planar;
mod snap;
mod split;
mod stitch;
mod strips;

use geo::{Coord, LineString, MultiPolygon, Polygon};

pub use dissolve::{DissolveMethod, Dissolved, dissolve, dissolve_all};
pub use overlay::overlay_union;

/// Marks "no unit" on a side of an arc.
pub(crate) const NONE: u32 = u32::MAX;

/// One arc: a chain of coordinates between two nodes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arc {
    /// First coordinate in [`Topology::coords`].
    pub(crate) start: u32,
    /// One past the last coordinate.
    pub(crate) end: u32,
    /// Unit on the left when walking from `start` to `end`, or [`NONE`].
    pub(crate) left: u32,
    /// Unit on the right, or [`NONE`].
    pub(crate) right: u32,
    /// Node at the first coordinate.
    pub(crate) from: u32,
    /// Node at the last coordinate.
    pub(crate) to: u32,
}

/// Counts describing how a [`Topology`] was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Input ring vertices (without the repeated closing vertex).
    pub vertices: usize,
    /// Distinct points after snapping.
    pub points: usize,
    /// Input vertices moved by snapping onto a nearby vertex.
    pub snapped: usize,
    /// Vertices inserted into a segment they lay on (within the tolerance).
    pub inserted: usize,
    /// Rings dropped because snapping collapsed them (or they were degenerate).
    pub dropped_rings: usize,
    /// Arcs.
    pub arcs: usize,
    /// Nodes.
    pub nodes: usize,
    /// Pairs of edges that cross or overlap (the input is not a clean coverage there).
    pub conflicts: usize,
    /// Units claiming the same side of an edge as another unit (overlapping along it):
    /// groups holding one always fall back to an overlay.
    pub dirty_units: usize,
    /// Units that are dirty, lie along a crossing, or border a face that two units (or a
    /// unit and the outside) claim: dissolves holding them are validated.
    pub unclean_units: usize,
}

/// The shared-arc topology of a set of polygon units.
///
/// Unit `i` is `units[i]` of [`Topology::build`]. Each unit's rings are stored as lists
/// of arc references (exterior rings counter-clockwise, holes clockwise, the unit on the
/// left); each arc knows the unit on its left and on its right.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Coordinates of all arcs, each arc a contiguous range.
    pub(crate) coords: Vec<Coord<f64>>,
    /// Arcs.
    pub(crate) arcs: Vec<Arc>,
    /// Number of nodes (node ids are `0..node_count`).
    pub(crate) node_count: usize,
    /// Unit `u`'s polygons are `unit_polygons[u]..unit_polygons[u + 1]`.
    pub(crate) unit_polygons: Vec<u32>,
    /// Polygon `p`'s rings (exterior first) are `polygon_rings[p]..polygon_rings[p + 1]`.
    pub(crate) polygon_rings: Vec<u32>,
    /// Ring `r`'s arc references are `refs[ring_refs[r]..ring_refs[r + 1]]`.
    pub(crate) ring_refs: Vec<u32>,
    /// Arc references: `arc << 1 | reversed`.
    pub(crate) refs: Vec<u32>,
    /// Unit `u`'s neighbours are `neighbours[neighbour_offsets[u]..neighbour_offsets[u + 1]]`.
    pub(crate) neighbour_offsets: Vec<u32>,
    /// Neighbour lists, sorted per unit.
    pub(crate) neighbours: Vec<u32>,
    /// Planar area of each unit as built.
    pub(crate) unit_area: Vec<f64>,
    /// Units claiming the same side of an edge as another unit.
    pub(crate) dirty: Vec<bool>,
    /// Units that are dirty, lie along crossing edges, or border an inconsistent face:
    /// dissolves holding them are validated.
    pub(crate) unclean: Vec<bool>,
    /// How the topology was built.
    pub(crate) stats: BuildStats,
}

impl Topology {
    /// Builds the topology of polygon units (index = position in `units`), snapping
    /// vertices closer than `tolerance` (degrees; e.g. 1e-7) so near-coverages become
    /// clean. A vertex within `tolerance` of another ring's segment is inserted into that
    /// segment, so both sides share the edge.
    pub fn build(units: &[MultiPolygon<f64>], tolerance: f64) -> Topology {
        build::build(units, tolerance)
    }

    /// Number of units (as passed to [`Topology::build`]).
    pub fn unit_count(&self) -> usize {
        self.unit_polygons.len().saturating_sub(1)
    }

    /// Units sharing at least one arc (a positive-length edge) with `unit`, sorted and
    /// deduplicated. Empty for an unknown unit.
    pub fn neighbours(&self, unit: usize) -> &[u32] {
        match (
            self.neighbour_offsets.get(unit),
            self.neighbour_offsets.get(unit + 1),
        ) {
            (Some(&a), Some(&b)) => &self.neighbours[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Planar area (deg²) of each unit as built (after snapping), for checks; 0 for an
    /// unknown unit.
    pub fn unit_area(&self, unit: usize) -> f64 {
        self.unit_area.get(unit).copied().unwrap_or(0.0)
    }

    /// The unit's geometry as built (snapped, with inserted vertices), rebuilt from its
    /// arcs: exterior rings counter-clockwise, holes clockwise.
    pub fn unit_geometry(&self, unit: usize) -> MultiPolygon<f64> {
        if unit >= self.unit_count() {
            return MultiPolygon::new(Vec::new());
        }
        let polygons = self.unit_polygons[unit] as usize..self.unit_polygons[unit + 1] as usize;
        let mut out = Vec::with_capacity(polygons.len());
        for p in polygons {
            let rings = self.polygon_rings[p] as usize..self.polygon_rings[p + 1] as usize;
            let mut rings = rings.map(|r| {
                let refs = &self.refs[self.ring_refs[r] as usize..self.ring_refs[r + 1] as usize];
                LineString::new(self.ring_coords(refs.iter().copied()))
            });
            if let Some(exterior) = rings.next() {
                out.push(Polygon::new(exterior, rings.collect()));
            }
        }
        MultiPolygon::new(out)
    }

    /// Whether the unit is part of a clean coverage around it: it overlaps no other unit,
    /// none of its edges crosses another edge. A dissolve involving a unit that is not
    /// clean is validated, and falls back to an overlay if needed.
    pub fn is_clean(&self, unit: usize) -> bool {
        !self.unclean.get(unit).copied().unwrap_or(true)
    }

    /// Number of arcs.
    pub fn arc_count(&self) -> usize {
        self.arcs.len()
    }

    /// Number of nodes (arc end points).
    pub fn node_count(&self) -> usize {
        self.node_count
    }

    /// Coordinates of arc `arc` (at least two; the first and last are nodes). Panics if
    /// `arc >= arc_count()`.
    pub fn arc(&self, arc: usize) -> &[Coord<f64>] {
        let a = &self.arcs[arc];
        &self.coords[a.start as usize..a.end as usize]
    }

    /// Units on the left and on the right of arc `arc` (walking it from its first to its
    /// last coordinate); `None` is the outside. Panics if `arc >= arc_count()`.
    pub fn arc_sides(&self, arc: usize) -> (Option<u32>, Option<u32>) {
        let a = &self.arcs[arc];
        let side = |u: u32| (u != NONE).then_some(u);
        (side(a.left), side(a.right))
    }

    /// Node ids at the first and last coordinate of arc `arc`. Panics if
    /// `arc >= arc_count()`.
    pub fn arc_nodes(&self, arc: usize) -> (u32, u32) {
        let a = &self.arcs[arc];
        (a.from, a.to)
    }

    /// Counts describing the build (snapped and inserted vertices, conflicts).
    pub fn stats(&self) -> &BuildStats {
        &self.stats
    }

    /// All arc references of a unit's rings.
    pub(crate) fn unit_refs(&self, unit: usize) -> &[u32] {
        let first_ring = self.polygon_rings[self.unit_polygons[unit] as usize] as usize;
        let end_ring = self.polygon_rings[self.unit_polygons[unit + 1] as usize] as usize;
        &self.refs[self.ring_refs[first_ring] as usize..self.ring_refs[end_ring] as usize]
    }

    /// The closed ring made of consecutive arc references.
    pub(crate) fn ring_coords(&self, refs: impl IntoIterator<Item = u32>) -> Vec<Coord<f64>> {
        let mut out: Vec<Coord<f64>> = Vec::new();
        for arc_ref in refs {
            self.push_arc(&mut out, arc_ref);
        }
        out
    }

    /// Appends an arc, as traversed by `arc_ref`, to a ring under construction (without
    /// repeating the shared node when `out` is not empty).
    pub(crate) fn push_arc(&self, out: &mut Vec<Coord<f64>>, arc_ref: u32) {
        let coords = self.arc((arc_ref >> 1) as usize);
        let skip = usize::from(!out.is_empty());
        if arc_ref & 1 == 0 {
            out.extend_from_slice(&coords[skip..]);
        } else {
            out.extend(coords[..coords.len() - skip].iter().rev());
        }
    }
}

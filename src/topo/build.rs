//! Building the topology: rings → snapped points → T-junctions removed → edges with the
//! unit on each side → nodes → arcs → rings as arc references.
//!
//! 1. Every ring is oriented (exterior counter-clockwise, holes clockwise), so its unit
//!    is on the left of each of its edges.
//! 2. Vertices are snapped ([`super::snap`]) and points lying on another segment are
//!    inserted into it ([`super::split`]); rings that collapse are dropped.
//! 3. Each undirected edge gets the unit that walks it forward (low → high point id) as
//!    its left side and the one that walks it backward as its right side. A second unit
//!    on an already taken side means two units overlap: both are marked dirty.
//! 4. A point is a node when its degree is not 2 or the sides change there; a cycle of
//!    edges without any node gets its lowest point as node. Arcs are the edge chains
//!    between nodes.
//! 5. Faces are checked for consistency ([`super::faces`]): units overlapping without
//!    sharing or crossing an edge are marked unclean.
//! 6. Each ring becomes the list of arcs it walks, and the edge set is checked for
//!    crossings ([`super::planar`]); units along a crossing are marked unclean.

use geo::{Coord, MultiPolygon};
use rayon::prelude::*;

use super::faces::{self, Sided as Edge};
use super::split::Rings;
use super::{Arc, BuildStats, NONE, Topology, area, planar, snap, split};

/// Which unit, polygon and role a ring has.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RingMeta {
    /// The ring's unit.
    pub(crate) unit: u32,
    /// The polygon, numbered over all units.
    pub(crate) polygon: u32,
    /// Whether the ring is a hole.
    pub(crate) hole: bool,
}

/// See the module documentation.
pub(super) fn build(units: &[MultiPolygon<f64>], tolerance: f64) -> Topology {
    let tolerance = if tolerance.is_finite() && tolerance > 0.0 {
        tolerance
    } else {
        0.0
    };
    let mut stats = BuildStats::default();

    // 1. Oriented rings.
    let (input, input_off, meta) = oriented_rings(units, &mut stats);

    // 2. Snap, drop collapsed rings, insert T-junction vertices.
    let snapped = snap::snap(&input, tolerance);
    stats.snapped = snapped.moved;
    let points = snapped.points;
    let mut rings = Rings {
        pts: Vec::with_capacity(input.len()),
        off: vec![0],
    };
    let mut kept_meta: Vec<RingMeta> = Vec::with_capacity(meta.len());
    let mut dropped_polygon = None;
    for (r, m) in meta.iter().enumerate() {
        if m.hole && dropped_polygon == Some(m.polygon) {
            stats.dropped_rings += 1;
            continue;
        }
        let ring = &snapped.ids[input_off[r] as usize..input_off[r + 1] as usize];
        if !rings.push(ring.iter().copied()) {
            stats.dropped_rings += 1;
            if !m.hole {
                dropped_polygon = Some(m.polygon);
            }
            continue;
        }
        kept_meta.push(*m);
    }
    let meta = renumber_polygons(kept_meta);
    stats.inserted = split::split(&points, &mut rings, tolerance);
    stats.points = points.len();

    // 3. Edges and their sides.
    let (edges, seg_edge, mut dirty) = edges(&rings, &meta, units.len());
    stats.dirty_units = dirty.iter().filter(|&&d| d).count();

    // 4. Nodes.
    let (adj_off, adj) = adjacency(points.len(), &edges);
    let mut node_id = vec![NONE; points.len()];
    let mut node_count = 0u32;
    for p in 0..points.len() {
        let incident = &adj[adj_off[p] as usize..adj_off[p + 1] as usize];
        let is_node = match incident {
            [] => false,
            [e1, e2] => {
                let (e1, e2) = (&edges[*e1 as usize], &edges[*e2 as usize]);
                let p = p as u32;
                // Sides of e1 walking into p, and of e2 walking out of p.
                let into = if e1.b == p {
                    (e1.left, e1.right)
                } else {
                    (e1.right, e1.left)
                };
                let out = if e2.a == p {
                    (e2.left, e2.right)
                } else {
                    (e2.right, e2.left)
                };
                into != out
            }
            _ => true,
        };
        if is_node {
            node_id[p] = node_count;
            node_count += 1;
        }
    }

    // 5. Arcs: chains from each node, then the node-free cycles.
    let mut w = Walker {
        edges: &edges,
        points: &points,
        adj_off: &adj_off,
        adj: &adj,
        coords: Vec::with_capacity(points.len() + edges.len() / 2),
        arcs: Vec::new(),
        edge_arc: vec![NONE; edges.len()],
        edge_fwd: vec![false; edges.len()],
    };
    for p in 0..points.len() {
        if node_id[p] == NONE {
            continue;
        }
        for k in adj_off[p]..adj_off[p + 1] {
            let e = adj[k as usize];
            if w.edge_arc[e as usize] == NONE {
                w.walk(p as u32, e, &node_id);
            }
        }
    }
    for (e, edge) in edges.iter().enumerate() {
        if w.edge_arc[e] == NONE {
            let a = edge.a;
            node_id[a as usize] = node_count;
            node_count += 1;
            w.walk(a, e as u32, &node_id);
        }
    }
    let Walker {
        coords,
        arcs,
        edge_arc,
        edge_fwd,
        ..
    } = w;
    stats.arcs = arcs.len();
    let mut unclean = dirty.clone();
    for u in faces::inconsistent_units(&points, &edges, &adj_off, &adj, &arcs, &coords) {
        unclean[u as usize] = true;
    }
    stats.nodes = node_count as usize;

    // 6. Rings as arc references, and the unit / polygon / ring offsets.
    let mut refs: Vec<u32> = Vec::with_capacity(rings.pts.len() / 4);
    let mut ring_refs = Vec::with_capacity(rings.len() + 1);
    let mut polygon_rings = Vec::new();
    let mut unit_polygons = Vec::with_capacity(units.len() + 1);
    let mut unit_area = vec![0.0f64; units.len()];
    ring_refs.push(0u32);
    let mut polygon = u32::MAX;
    let mut unit_next = 0usize;
    for (r, m) in meta.iter().enumerate() {
        if m.polygon != polygon {
            polygon = m.polygon;
            polygon_rings.push(r as u32);
            while unit_next <= m.unit as usize {
                unit_polygons.push(polygon);
                unit_next += 1;
            }
        }
        let ring = rings.ring(r);
        let base = rings.off[r] as usize;
        let len = ring.len();
        let Some(k0) = ring.iter().position(|&p| node_id[p as usize] != NONE) else {
            // Unreachable: every cycle of edges has a node.
            tracing::warn!(ring = r, unit = m.unit, "ring without a node; unit marked dirty");
            dirty[m.unit as usize] = true;
            ring_refs.push(refs.len() as u32);
            continue;
        };
        let mut k = k0;
        let mut covered = 0usize;
        let ring_start = refs.len();
        while covered < len {
            let e = seg_edge[base + k] as usize;
            let arc = edge_arc[e];
            let forward_on_ring = ring[k] == edges[e].a;
            let reversed = forward_on_ring != edge_fwd[e];
            refs.push(arc << 1 | u32::from(reversed));
            let a = &arcs[arc as usize];
            let segments = (a.end - a.start - 1) as usize;
            covered += segments;
            k = (k + segments) % len;
        }
        if covered != len {
            tracing::warn!(
                ring = r,
                unit = m.unit,
                "ring does not follow its arcs; unit marked dirty"
            );
            dirty[m.unit as usize] = true;
        }
        ring_refs.push(refs.len() as u32);
        let twice = area::twice_signed_iter(ring.iter().map(|&p| points[p as usize]));
        unit_area[m.unit as usize] += twice / 2.0;
        debug_assert!(refs.len() > ring_start);
    }
    polygon_rings.push(meta.len() as u32);
    let polygons_total = polygon_rings.len() as u32 - 1;
    while unit_polygons.len() < units.len() + 1 {
        unit_polygons.push(polygons_total);
    }

    // 7. Neighbours.
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for a in &arcs {
        if a.left != NONE && a.right != NONE && a.left != a.right {
            pairs.push((a.left, a.right));
            pairs.push((a.right, a.left));
        }
    }
    let (neighbour_offsets, neighbours) = csr(units.len(), pairs);

    // 8. Crossing and overlapping edges: the units on their sides.
    let edge_points: Vec<(u32, u32)> = edges.iter().map(|e| (e.a, e.b)).collect();
    let crossing_edges = planar::conflicts(&points, &edge_points);
    stats.conflicts = crossing_edges.len();
    for (i, j) in crossing_edges {
        for e in [i, j] {
            for u in [edges[e as usize].left, edges[e as usize].right] {
                if u != NONE {
                    unclean[u as usize] = true;
                }
            }
        }
    }
    stats.unclean_units = unclean.iter().filter(|&&u| u).count();

    tracing::debug!(
        units = units.len(),
        vertices = stats.vertices,
        points = stats.points,
        snapped = stats.snapped,
        inserted = stats.inserted,
        arcs = stats.arcs,
        nodes = stats.nodes,
        conflicts = stats.conflicts,
        dirty_units = stats.dirty_units,
        unclean_units = stats.unclean_units,
        "topology built"
    );
    Topology {
        coords,
        arcs,
        node_count: node_count as usize,
        unit_polygons,
        polygon_rings,
        ring_refs,
        refs,
        neighbour_offsets,
        neighbours,
        unit_area,
        dirty,
        unclean,
        stats,
    }
}

/// Every ring of every unit, oriented so that its unit lies on its left (exterior rings
/// counter-clockwise, holes clockwise), without the repeated closing vertex: the
/// coordinates, ring `r` being `coords[off[r]..off[r + 1]]`, and each ring's unit,
/// polygon and role. Degenerate rings (fewer than three vertices, no area, a non-finite
/// coordinate) and the holes of a dropped exterior are left out and counted in `stats`.
pub(crate) fn oriented_rings(
    units: &[MultiPolygon<f64>],
    stats: &mut BuildStats,
) -> (Vec<Coord<f64>>, Vec<u32>, Vec<RingMeta>) {
    let mut input: Vec<Coord<f64>> = Vec::new();
    let mut input_off = vec![0u32];
    let mut meta: Vec<RingMeta> = Vec::new();
    let mut polygon_count = 0u32;
    for (unit, multi) in units.iter().enumerate() {
        for polygon in multi {
            let mut exterior_kept = false;
            for (k, ring) in std::iter::once(polygon.exterior())
                .chain(polygon.interiors())
                .enumerate()
            {
                let hole = k > 0;
                if hole && !exterior_kept {
                    break;
                }
                let mut coords = ring.0.as_slice();
                if coords.len() > 1 && coords.first() == coords.last() {
                    coords = &coords[..coords.len() - 1];
                }
                stats.vertices += coords.len();
                let finite = coords.iter().all(|c| c.x.is_finite() && c.y.is_finite());
                let twice = if finite { area::twice_signed(coords) } else { 0.0 };
                if coords.len() < 3 || twice == 0.0 {
                    stats.dropped_rings += 1;
                    continue;
                }
                if (twice > 0.0) == hole {
                    input.extend(coords.iter().rev());
                } else {
                    input.extend_from_slice(coords);
                }
                input_off.push(input.len() as u32);
                meta.push(RingMeta {
                    unit: unit as u32,
                    polygon: polygon_count,
                    hole,
                });
                exterior_kept |= !hole;
            }
            polygon_count += u32::from(exterior_kept);
        }
    }
    (input, input_off, meta)
}

/// Cuts the edge graph into arcs.
struct Walker<'a> {
    edges: &'a [Edge],
    points: &'a [Coord<f64>],
    adj_off: &'a [u32],
    adj: &'a [u32],
    coords: Vec<Coord<f64>>,
    arcs: Vec<Arc>,
    /// Arc of each edge.
    edge_arc: Vec<u32>,
    /// Whether that arc walks the edge from `a` to `b`.
    edge_fwd: Vec<bool>,
}

impl Walker<'_> {
    /// Walks from node `start_point` along `first_edge` to the next node, adding one arc.
    fn walk(&mut self, start_point: u32, first_edge: u32, node_id: &[u32]) {
        let arc = self.arcs.len() as u32;
        let start = self.coords.len() as u32;
        let e0 = &self.edges[first_edge as usize];
        let (left, right) = if e0.a == start_point {
            (e0.left, e0.right)
        } else {
            (e0.right, e0.left)
        };
        self.coords.push(self.points[start_point as usize]);
        let (mut at, mut e) = (start_point, first_edge);
        loop {
            let edge = &self.edges[e as usize];
            let next = if edge.a == at { edge.b } else { edge.a };
            self.edge_arc[e as usize] = arc;
            self.edge_fwd[e as usize] = edge.a == at;
            self.coords.push(self.points[next as usize]);
            if node_id[next as usize] != NONE {
                self.arcs.push(Arc {
                    start,
                    end: self.coords.len() as u32,
                    left,
                    right,
                    from: node_id[start_point as usize],
                    to: node_id[next as usize],
                });
                return;
            }
            // Not a node: exactly two incident edges.
            let incident =
                &self.adj[self.adj_off[next as usize] as usize..self.adj_off[next as usize + 1] as usize];
            e = if incident[0] == e {
                incident[1]
            } else {
                incident[0]
            };
            at = next;
        }
    }
}

/// Makes polygon numbers consecutive after rings (and whole polygons) were dropped.
fn renumber_polygons(mut meta: Vec<RingMeta>) -> Vec<RingMeta> {
    let mut last = u32::MAX;
    let mut next = 0u32;
    for m in &mut meta {
        if m.polygon != last {
            last = m.polygon;
            next += 1;
        }
        m.polygon = next - 1;
    }
    meta
}

/// Unique undirected edges with their sides, the edge of every ring segment, and the
/// units found overlapping another unit along an edge.
fn edges(rings: &Rings, meta: &[RingMeta], unit_count: usize) -> (Vec<Edge>, Vec<u32>, Vec<bool>) {
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(rings.pts.len());
    for r in 0..rings.len() {
        let ring = rings.ring(r);
        let base = rings.off[r] as usize;
        for (k, &p) in ring.iter().enumerate() {
            let q = ring[(k + 1) % ring.len()];
            let key = (u64::from(p.min(q)) << 32) | u64::from(p.max(q));
            keyed.push((key, (base + k) as u32));
        }
    }
    keyed.par_sort_unstable();
    let mut seg_ring = vec![0u32; rings.pts.len()];
    for r in 0..rings.len() {
        seg_ring[rings.off[r] as usize..rings.off[r + 1] as usize].fill(r as u32);
    }
    let mut edges: Vec<Edge> = Vec::with_capacity(keyed.len() / 2 + 1);
    let mut seg_edge = vec![0u32; rings.pts.len()];
    let mut dirty = vec![false; unit_count];
    let mut last_key = u64::MAX;
    for &(key, seg) in &keyed {
        if key != last_key {
            last_key = key;
            edges.push(Edge {
                a: (key >> 32) as u32,
                b: key as u32,
                left: NONE,
                right: NONE,
            });
        }
        let e = edges.len() - 1;
        seg_edge[seg as usize] = e as u32;
        let r = seg_ring[seg as usize] as usize;
        let unit = meta[r].unit;
        let p = rings.pts[seg as usize];
        let edge = &mut edges[e];
        let slot = if p == edge.a {
            &mut edge.left
        } else {
            &mut edge.right
        };
        if *slot == NONE {
            *slot = unit;
        } else {
            // Two units (or one unit twice) on the same side: they overlap.
            dirty[unit as usize] = true;
            dirty[*slot as usize] = true;
        }
    }
    (edges, seg_edge, dirty)
}

/// Incident edges of every point (compressed rows).
fn adjacency(point_count: usize, edges: &[Edge]) -> (Vec<u32>, Vec<u32>) {
    let mut off = vec![0u32; point_count + 1];
    for e in edges {
        off[e.a as usize + 1] += 1;
        off[e.b as usize + 1] += 1;
    }
    for i in 0..point_count {
        off[i + 1] += off[i];
    }
    let mut fill = off.clone();
    let mut adj = vec![0u32; 2 * edges.len()];
    for (i, e) in edges.iter().enumerate() {
        for p in [e.a, e.b] {
            adj[fill[p as usize] as usize] = i as u32;
            fill[p as usize] += 1;
        }
    }
    (off, adj)
}

/// Compressed rows of `(row, value)` pairs: values sorted and deduplicated per row.
fn csr(rows: usize, mut pairs: Vec<(u32, u32)>) -> (Vec<u32>, Vec<u32>) {
    pairs.sort_unstable();
    pairs.dedup();
    let mut off = vec![0u32; rows + 1];
    for &(r, _) in &pairs {
        off[r as usize + 1] += 1;
    }
    for i in 0..rows {
        off[i + 1] += off[i];
    }
    (off, pairs.into_iter().map(|(_, v)| v).collect())
}

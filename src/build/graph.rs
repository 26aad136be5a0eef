//! The unit graph a build works on: units sharing an arc of the topology are
//! neighbours, the edge weighted by the length of their shared border; every unit has
//! an area, a perimeter and a representative point. Components that share no arc with
//! the rest (islands, Alaska, Hawaii) are joined by *proxy edges* of length zero to the
//! nearest unit of another component, so every territory can be grown and checked as a
//! connected set.

use geo::{Centroid, Coord};
use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::topo::Topology;

/// Kilometres per degree of latitude (and of longitude at the equator).
const KM_PER_DEGREE: f64 = 111.32;

/// The weighted unit graph (compressed adjacency lists).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Unit `u`'s neighbours are `targets[offsets[u]..offsets[u + 1]]`.
    offsets: Vec<u32>,
    targets: Vec<u32>,
    /// Shared-border length (km) of each entry of `targets`; 0 for a proxy edge.
    lengths: Vec<f64>,
    /// Area of each unit (km², equirectangular at the unit's latitude).
    pub(crate) area: Vec<f64>,
    /// Perimeter of each unit (km), outside coast included.
    pub(crate) perimeter: Vec<f64>,
    /// Representative point of each unit: (x, y) in km (x scaled by the cosine of the
    /// latitude), for distances.
    pub(crate) point: Vec<[f64; 2]>,
    /// The proxy edges added to join components.
    pub(crate) proxies: Vec<(u32, u32)>,
    /// Connected components before the proxy edges.
    pub(crate) components: usize,
}

impl Graph {
    /// The graph of a topology's units (index = topology unit index), with proxy edges
    /// joining its components.
    pub fn from_topology(topology: &Topology) -> Graph {
        let n = topology.unit_count();
        let mut perimeter = vec![0.0; n];
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for a in 0..topology.arc_count() {
            let length = arc_length(topology.arc(a));
            let (left, right) = topology.arc_sides(a);
            for side in [left, right].into_iter().flatten() {
                if let Some(p) = perimeter.get_mut(side as usize) {
                    *p += length;
                }
            }
            if let (Some(l), Some(r)) = (left, right)
                && l != r
            {
                edges.push((l.min(r), l.max(r), length));
            }
        }
        let mut lonlat = Vec::with_capacity(n);
        let mut area = Vec::with_capacity(n);
        for u in 0..n {
            let geometry = topology.unit_geometry(u);
            let c = geometry
                .centroid()
                .map(|p| p.0)
                .or_else(|| geometry.0.first().and_then(|p| p.exterior().0.first().copied()))
                .unwrap_or(Coord { x: 0.0, y: 0.0 });
            let cos = c.y.to_radians().cos().abs().max(0.01);
            area.push(topology.unit_area(u) * KM_PER_DEGREE * KM_PER_DEGREE * cos);
            lonlat.push(c);
        }
        let point = lonlat.iter().map(|c| project(*c)).collect();
        Graph::assemble(n, edges, area, perimeter, point)
    }

    /// A graph from explicit parts (tests and benches): `edges` as (a, b, border
    /// length); proxy edges are added where the edges leave components apart.
    pub fn from_parts(
        edges: Vec<(u32, u32, f64)>,
        area: Vec<f64>,
        perimeter: Vec<f64>,
        point: Vec<[f64; 2]>,
    ) -> Graph {
        let n = area.len();
        let edges = edges
            .into_iter()
            .filter(|&(a, b, _)| a != b && (a as usize) < n && (b as usize) < n)
            .map(|(a, b, l)| (a.min(b), a.max(b), l))
            .collect();
        Graph::assemble(n, edges, area, perimeter, point)
    }

    /// A `w` × `h` grid of unit squares, 4-connected (unit tests).
    #[cfg(test)]
    pub(crate) fn grid(w: u32, h: u32) -> Graph {
        let mut edges = Vec::new();
        let mut points = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let u = y * w + x;
                if x + 1 < w {
                    edges.push((u, u + 1, 1.0));
                }
                if y + 1 < h {
                    edges.push((u, u + w, 1.0));
                }
                points.push([x as f64 + 0.5, y as f64 + 0.5]);
            }
        }
        let n = (w * h) as usize;
        Graph::from_parts(edges, vec![1.0; n], vec![4.0; n], points)
    }

    fn assemble(
        n: usize,
        mut edges: Vec<(u32, u32, f64)>,
        area: Vec<f64>,
        perimeter: Vec<f64>,
        point: Vec<[f64; 2]>,
    ) -> Graph {
        edges.sort_by_key(|a| (a.0, a.1));
        edges.dedup_by(|next, kept| {
            if (next.0, next.1) == (kept.0, kept.1) {
                kept.2 += next.2;
                true
            } else {
                false
            }
        });
        let outside = edges_outside(n, &edges, &perimeter);
        let (proxies, components) = join_components(n, &edges, &point, &outside);
        edges.extend(proxies.iter().map(|&(a, b)| (a, b, 0.0)));
        let mut degree = vec![0u32; n + 1];
        for &(a, b, _) in &edges {
            degree[a as usize + 1] += 1;
            degree[b as usize + 1] += 1;
        }
        for i in 1..=n {
            degree[i] += degree[i - 1];
        }
        let offsets = degree;
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; edges.len() * 2];
        let mut lengths = vec![0.0; edges.len() * 2];
        for &(a, b, l) in &edges {
            for (from, to) in [(a, b), (b, a)] {
                let at = fill[from as usize] as usize;
                targets[at] = to;
                lengths[at] = l;
                fill[from as usize] += 1;
            }
        }
        // Sorted neighbour lists: a deterministic order for every pass.
        for u in 0..n {
            let range = offsets[u] as usize..offsets[u + 1] as usize;
            let mut pairs: Vec<(u32, f64)> = targets[range.clone()]
                .iter()
                .copied()
                .zip(lengths[range.clone()].iter().copied())
                .collect();
            pairs.sort_by_key(|p| p.0);
            for (i, (t, l)) in pairs.into_iter().enumerate() {
                targets[range.start + i] = t;
                lengths[range.start + i] = l;
            }
        }
        Graph {
            offsets,
            targets,
            lengths,
            area,
            perimeter,
            point,
            proxies,
            components,
        }
    }

    /// The graph of the units `keep` marks (a flag per unit), with its components
    /// joined by proxy edges anew, and the index in `self` of each unit kept (in order).
    /// Units left out (unassigned ones for a rebalance, placeholders) open the borders
    /// they shared: a kept neighbour counts as on the outside there.
    pub fn subgraph(&self, keep: &[bool]) -> (Graph, Vec<u32>) {
        let kept: Vec<u32> = (0..self.len() as u32)
            .filter(|&u| keep.get(u as usize).copied().unwrap_or(false))
            .collect();
        let mut index = vec![u32::MAX; self.len()];
        for (i, &u) in kept.iter().enumerate() {
            index[u as usize] = i as u32;
        }
        let proxy: std::collections::HashSet<(u32, u32)> = self.proxies.iter().copied().collect();
        let edges = self
            .edges()
            .filter(|&(a, b, _)| !proxy.contains(&(a, b)))
            .filter_map(|(a, b, l)| {
                let (na, nb) = (index[a as usize], index[b as usize]);
                (na != u32::MAX && nb != u32::MAX).then_some((na, nb, l))
            })
            .collect();
        let pick = |values: &[f64]| kept.iter().map(|&u| values[u as usize]).collect::<Vec<f64>>();
        let (area, perimeter) = (pick(&self.area), pick(&self.perimeter));
        let point = kept.iter().map(|&u| self.point[u as usize]).collect();
        let graph = Graph::assemble(kept.len(), edges, area, perimeter, point);
        (graph, kept)
    }

    /// Every unit, nearest to the lon/lat point first (by its representative point).
    pub fn units_by_distance(&self, lon: f64, lat: f64) -> Vec<u32> {
        let d = self.distances_from(lon, lat);
        let mut units: Vec<u32> = (0..self.len() as u32).collect();
        units.sort_by(|&a, &b| d[a as usize].total_cmp(&d[b as usize]).then(a.cmp(&b)));
        units
    }

    /// Distance (km) from a lon/lat point to every unit's representative point.
    pub fn distances_from(&self, lon: f64, lat: f64) -> Vec<f64> {
        let p = project(Coord { x: lon, y: lat });
        self.point.iter().map(|&q| super::seed::d2(q, p).sqrt()).collect()
    }

    /// Distance (km) from a lon/lat point to unit `u`'s representative point.
    pub fn distance_to(&self, u: u32, lon: f64, lat: f64) -> f64 {
        super::seed::d2(self.point[u as usize], project(Coord { x: lon, y: lat })).sqrt()
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.area.len()
    }

    /// Whether the graph has no units.
    pub fn is_empty(&self) -> bool {
        self.area.is_empty()
    }

    /// Neighbours of `u` with the shared-border length (0 for a proxy edge).
    pub fn neighbours(&self, u: u32) -> impl Iterator<Item = (u32, f64)> + '_ {
        let range = self.offsets[u as usize] as usize..self.offsets[u as usize + 1] as usize;
        self.targets[range.clone()]
            .iter()
            .copied()
            .zip(self.lengths[range].iter().copied())
    }

    /// Every edge once, as (a, b, length) with a < b (proxy edges have length 0).
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, f64)> + '_ {
        (0..self.len() as u32).flat_map(move |a| {
            self.neighbours(a)
                .filter(move |&(b, _)| b > a)
                .map(move |(b, l)| (a, b, l))
        })
    }

    /// The proxy edges that join components (a, b).
    pub fn proxies(&self) -> &[(u32, u32)] {
        &self.proxies
    }

    /// Connected components before the proxy edges were added.
    pub fn components(&self) -> usize {
        self.components
    }
}

/// Planar km coordinates of a lon/lat point (longitude scaled at its latitude).
fn project(c: Coord<f64>) -> [f64; 2] {
    [c.x * KM_PER_DEGREE * c.y.to_radians().cos(), c.y * KM_PER_DEGREE]
}

/// Length of a lon/lat polyline in km (equirectangular per segment).
fn arc_length(coords: &[Coord<f64>]) -> f64 {
    coords
        .windows(2)
        .map(|w| {
            let mid = ((w[0].y + w[1].y) / 2.0).to_radians().cos();
            let dx = (w[1].x - w[0].x) * mid;
            let dy = w[1].y - w[0].y;
            (dx * dx + dy * dy).sqrt() * KM_PER_DEGREE
        })
        .sum()
}

/// Whether each unit has some perimeter not shared with another unit (a coast or an
/// outer border): the units where a component can be joined to another.
fn edges_outside(n: usize, edges: &[(u32, u32, f64)], perimeter: &[f64]) -> Vec<bool> {
    let mut shared = vec![0.0; n];
    for &(a, b, l) in edges {
        shared[a as usize] += l;
        shared[b as usize] += l;
    }
    (0..n)
        .map(|u| perimeter[u] - shared[u] > 1e-9 * perimeter[u].max(1.0) || perimeter[u] == 0.0)
        .collect()
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        parent[x as usize] = parent[parent[x as usize] as usize];
        x = parent[x as usize];
    }
    x
}

/// Proxy edges joining the components (Borůvka rounds: every component but the one
/// holding the most units links its outside units to the nearest unit of another
/// component), and the number of components before them.
fn join_components(
    n: usize,
    edges: &[(u32, u32, f64)],
    point: &[[f64; 2]],
    outside: &[bool],
) -> (Vec<(u32, u32)>, usize) {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for &(a, b, _) in edges {
        let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    let roots = |parent: &mut Vec<u32>| -> Vec<u32> { (0..n as u32).map(|u| find(parent, u)).collect() };
    let mut root = roots(&mut parent);
    let mut distinct: Vec<u32> = root.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let components = distinct.len();
    let tree: RTree<GeomWithData<[f64; 2], u32>> = RTree::bulk_load(
        (0..n as u32)
            .filter(|&u| outside[u as usize])
            .map(|u| GeomWithData::new(point[u as usize], u))
            .collect(),
    );
    let mut proxies = Vec::new();
    loop {
        let mut size = vec![0usize; n];
        for &r in &root {
            size[r as usize] += 1;
        }
        let mut distinct: Vec<u32> = root.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() <= 1 {
            break;
        }
        let mainland = distinct
            .iter()
            .copied()
            .max_by(|a, b| size[*a as usize].cmp(&size[*b as usize]).then(b.cmp(a)))
            .unwrap_or(0);
        // Nearest (distance², from, to) per component.
        let mut best: Vec<Option<(f64, u32, u32)>> = vec![None; n];
        for u in 0..n as u32 {
            let r = root[u as usize];
            if r == mainland || !outside[u as usize] {
                continue;
            }
            let p = point[u as usize];
            let found = tree
                .nearest_neighbor_iter_with_distance_2(&p)
                .find(|(other, _)| root[other.data as usize] != r);
            if let Some((other, d2)) = found {
                let slot = &mut best[r as usize];
                if slot.is_none_or(|(bd, _, _)| d2 < bd) {
                    *slot = Some((d2, u, other.data));
                }
            }
        }
        let mut joined = false;
        for &(_, a, b) in best.iter().flatten() {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb) as usize] = ra.min(rb);
                proxies.push((a.min(b), a.max(b)));
                joined = true;
            }
        }
        if !joined {
            // Components without any outside unit (cannot happen for polygons); stop.
            break;
        }
        root = roots(&mut parent);
    }
    proxies.sort_unstable();
    proxies.dedup();
    (proxies, components)
}

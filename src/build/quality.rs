//! The quality report of a partition: balance per metric, contiguity, compactness,
//! cut edges.

use serde::Serialize;

use super::graph::Graph;
use super::partition::Partition;

/// Balance of one metric over the territories.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MetricQuality {
    /// Metric name (`balance` for the weighted mix when there are several).
    pub name: String,
    /// Mean per territory (the target).
    pub target: f64,
    /// Largest |value - target| / target.
    pub max_abs_deviation: f64,
    /// Coefficient of variation (standard deviation / mean).
    pub cv: f64,
    /// Territories within the tolerance on this metric.
    pub within_tolerance: usize,
}

/// How good a partition is.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Quality {
    /// Territories asked for.
    pub territories: usize,
    /// Units partitioned.
    pub units: usize,
    /// The balance tolerance (relative).
    pub tolerance: f64,
    /// Balance of each metric; the weighted mix first when there are several.
    pub metrics: Vec<MetricQuality>,
    /// Territories in more than one part (adjacency by shared borders and proxy edges).
    pub non_contiguous: usize,
    /// Most parts of one territory (1 when all are contiguous, 0 when there are none).
    pub max_parts: usize,
    /// Territories without units.
    pub empty: usize,
    /// Mean Polsby-Popper score (4πA/P², from unit areas and cut-border lengths).
    pub mean_polsby_popper: f64,
    /// Smallest Polsby-Popper score.
    pub min_polsby_popper: f64,
    /// Unit adjacencies (shared borders) between two territories.
    pub cut_edges: usize,
    /// Components of the unit graph before the proxy edges.
    pub components: usize,
    /// Proxy edges joining those components (each from a unit to the nearest unit of
    /// another component).
    pub proxy_edges: usize,
}

fn balance(name: &str, values: &[f64], owner: &[u32], k: usize, tolerance: f64) -> MetricQuality {
    let mut load = vec![0.0; k];
    for (u, &t) in owner.iter().enumerate() {
        if let Some(l) = load.get_mut(t as usize) {
            *l += values.get(u).copied().unwrap_or(0.0);
        }
    }
    let target = load.iter().sum::<f64>() / k.max(1) as f64;
    let deviation = |l: f64| {
        if target > 0.0 {
            (l - target).abs() / target
        } else {
            0.0
        }
    };
    let variance = load.iter().map(|l| (l - target).powi(2)).sum::<f64>() / k.max(1) as f64;
    MetricQuality {
        name: name.to_owned(),
        target,
        max_abs_deviation: load.iter().map(|&l| deviation(l)).fold(0.0, f64::max),
        cv: if target > 0.0 {
            variance.sqrt() / target
        } else {
            0.0
        },
        within_tolerance: load
            .iter()
            .filter(|&&l| deviation(l) <= tolerance + 1e-12)
            .count(),
    }
}

/// Parts (connected pieces) of every territory.
pub fn parts(graph: &Graph, owner: &[u32], k: usize) -> Vec<usize> {
    let n = graph.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for (a, b, _) in graph.edges() {
        if owner[a as usize] == owner[b as usize] {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb) as usize] = ra.min(rb);
            }
        }
    }
    let mut out = vec![0usize; k];
    for u in 0..n as u32 {
        if find(&mut parent, u) == u
            && let Some(p) = out.get_mut(owner[u as usize] as usize)
        {
            *p += 1;
        }
    }
    out
}

impl Quality {
    /// Measures `owner` (territory `0..k` per unit of `graph`): balance of the combined
    /// `weight` and of each of `metrics` (name, value per unit), contiguity,
    /// Polsby-Popper and cut edges.
    pub fn measure(
        graph: &Graph,
        owner: &[u32],
        k: usize,
        tolerance: f64,
        weight: &[f64],
        metrics: &[(String, Vec<f64>)],
    ) -> Quality {
        let mut balances = Vec::new();
        if metrics.len() != 1 {
            balances.push(balance("balance", weight, owner, k, tolerance));
        }
        for (name, values) in metrics {
            balances.push(balance(name, values, owner, k, tolerance));
        }
        let parts = parts(graph, owner, k);
        let locked = vec![false; graph.len()];
        let partition = Partition::new(graph, weight, &locked, owner.to_vec(), k);
        let scores: Vec<f64> = (0..k)
            .filter(|&t| partition.size[t] > 0)
            .map(|t| Partition::pp(partition.area[t], partition.perimeter[t]))
            .collect();
        let cut_edges = graph
            .edges()
            .filter(|&(a, b, l)| l > 0.0 && owner[a as usize] != owner[b as usize])
            .count();
        Quality {
            territories: k,
            units: graph.len(),
            tolerance,
            metrics: balances,
            non_contiguous: parts.iter().filter(|&&p| p > 1).count(),
            max_parts: parts.iter().copied().max().unwrap_or(0),
            empty: parts.iter().filter(|&&p| p == 0).count(),
            mean_polsby_popper: scores.iter().sum::<f64>() / scores.len().max(1) as f64,
            min_polsby_popper: scores.iter().copied().fold(f64::INFINITY, f64::min).min(1.0),
            cut_edges,
            components: graph.components(),
            proxy_edges: graph.proxies().len(),
        }
    }

    /// The balance figures of the first metric (the one the build balanced).
    pub fn balance(&self) -> Option<&MetricQuality> {
        self.metrics.first()
    }
}

impl std::fmt::Display for Quality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} territories from {} units (tolerance {:.1}%)",
            self.territories,
            self.units,
            self.tolerance * 100.0
        )?;
        for m in &self.metrics {
            writeln!(
                f,
                "  {:<12} target {:.0}, max |deviation| {:.2}%, CV {:.2}%, within tolerance {}/{}",
                m.name,
                m.target,
                m.max_abs_deviation * 100.0,
                m.cv * 100.0,
                m.within_tolerance,
                self.territories
            )?;
        }
        writeln!(
            f,
            "  contiguity   {} territories in more than one part (most parts {}), {} empty",
            self.non_contiguous, self.max_parts, self.empty
        )?;
        writeln!(
            f,
            "  compactness  Polsby-Popper mean {:.3}, min {:.3}",
            self.mean_polsby_popper, self.min_polsby_popper
        )?;
        write!(
            f,
            "  cut edges    {}; {} components joined by {} proxy edges",
            self.cut_edges, self.components, self.proxy_edges
        )
    }
}

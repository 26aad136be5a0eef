//! Upper levels of a build: districts made of whole territories (and regions of whole
//! districts) by the same build, run on the *territory graph*: one node per territory
//! (its weight, area and perimeter summed from its units, its point their
//! area-weighted centre), neighbours where territories share a border (border lengths
//! summed; a proxy edge between two territories keeps them neighbours with length 0).
//! A contiguous set of contiguous territories is contiguous on the unit graph, so every
//! district is.

use super::graph::Graph;
use super::{BuildError, Params, Progress, build};

/// Groups the `k` territories of `owner` (a territory per unit of `graph`) into
/// `params.territories` balanced, contiguous, compact groups: the group (0..) of every
/// territory.
pub fn group(
    graph: &Graph,
    weight: &[f64],
    owner: &[u32],
    k: usize,
    params: &Params,
    progress: &(dyn Fn(Progress) -> bool + Sync),
) -> Result<Vec<u32>, BuildError> {
    let (territories, load) = territory_graph(graph, weight, owner, k);
    build(&territories, &load, &[], params, progress)
}

/// The graph of the territories of `owner`, and each territory's weight.
pub(crate) fn territory_graph(graph: &Graph, weight: &[f64], owner: &[u32], k: usize) -> (Graph, Vec<f64>) {
    let mut load = vec![0.0; k];
    let mut area = vec![0.0; k];
    let mut perimeter = vec![0.0; k];
    let mut centre = vec![[0.0, 0.0]; k];
    let mut placed = vec![0.0; k];
    for (u, &t) in owner.iter().enumerate() {
        let t = t as usize;
        load[t] += weight[u];
        area[t] += graph.area[u];
        perimeter[t] += graph.perimeter[u];
        // A unit of no area still places its territory (a point unit, a sliver).
        let a = graph.area[u].max(1e-9);
        centre[t][0] += a * graph.point[u][0];
        centre[t][1] += a * graph.point[u][1];
        placed[t] += a;
    }
    let mut edges: Vec<(u32, u32, f64)> = Vec::new();
    for (a, b, l) in graph.edges() {
        let (ta, tb) = (owner[a as usize], owner[b as usize]);
        if ta == tb {
            perimeter[ta as usize] -= 2.0 * l;
        } else {
            edges.push((ta.min(tb), ta.max(tb), l));
        }
    }
    for (c, w) in centre.iter_mut().zip(&placed) {
        if *w > 0.0 {
            c[0] /= w;
            c[1] /= w;
        }
    }
    (Graph::from_parts(edges, area, perimeter, centre), load)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn territories_of_a_grid_become_a_graph_of_summed_parts() {
        // Four 2 × 2 quadrants.
        let owner: Vec<u32> = (0..16u32).map(|u| (u % 4) / 2 + 2 * ((u / 4) / 2)).collect();
        let (g, load) = territory_graph(&Graph::grid(4, 4), &[1.0; 16], &owner, 4);
        assert_eq!(load, vec![4.0; 4]);
        assert_eq!(g.area, vec![4.0; 4]);
        // A 2 × 2 quadrant's outline: 8 unit edges.
        assert_eq!(g.perimeter, vec![8.0; 4]);
        assert_eq!(g.point[0], [1.0, 1.0]);
        let mut n: Vec<(u32, f64)> = g.neighbours(0).collect();
        n.sort_by_key(|x| x.0);
        // Quadrant 0 borders 1 (right) and 2 (above) along two unit edges each; not 3.
        assert_eq!(n, vec![(1, 2.0), (2, 2.0)]);
        let groups = group(
            &Graph::grid(4, 4),
            &[1.0; 16],
            &owner,
            4,
            &Params {
                territories: 2,
                tolerance: 0.0,
                ..Params::default()
            },
            &|_| true,
        )
        .unwrap();
        assert_eq!(groups.len(), 4);
        let in_first = groups.iter().filter(|&&g| g == groups[0]).count();
        assert_eq!(in_first, 2, "{groups:?}");
        assert!(
            g.neighbours(0).any(|(t, _)| groups[t as usize] == groups[0]),
            "{groups:?}"
        );
    }
}

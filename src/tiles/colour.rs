//! Map colouring: a colour index per territory so that no two adjacent territories
//! share one, stable across small edits.
//!
//! Every territory gets the colour it prefers (the tile view prefers a hash of the
//! code) unless a neighbour earlier in code order took it; the others are coloured
//! greedily in smallest-last (degeneracy) order, which needs at most 6 colours on a
//! planar adjacency graph. The result depends only on the graph and the preferences,
//! so an edit recolours at most the territories whose adjacency it changed (and
//! those their new colours displace), and undoing it restores every colour.
//!
//! ```
//! use geoalign::tiles::colour::colour;
//! // A wheel: a hub touching a ring of five.
//! let edges = [(0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 2), (2, 3), (3, 4), (4, 5), (5, 1)];
//! let colours = colour(6, &edges, &[None; 6], 8);
//! for (a, b) in edges {
//!     assert_ne!(colours[a as usize], colours[b as usize]);
//! }
//! // Stable: recolouring from the result changes nothing.
//! let previous: Vec<Option<u8>> = colours.iter().map(|c| Some(*c)).collect();
//! assert_eq!(colour(6, &edges, &previous, 8), colours);
//! ```

/// Colours `n` nodes joined by `edges` with at most `max` colours where possible,
/// keeping the colours `previous` prefers (one entry per node) where no earlier
/// neighbour took the same one. Adjacent nodes never share a colour
/// when the graph allows it within `max`.
pub fn colour(n: usize, edges: &[(u32, u32)], previous: &[Option<u8>], max: u8) -> Vec<u8> {
    let adjacency = adjacency(n, edges);
    let mut colours: Vec<Option<u8>> = vec![None; n];
    // Keep previous colours where no lower-index neighbour kept the same one.
    for v in 0..n {
        if let Some(c) = previous.get(v).copied().flatten().filter(|c| *c < max)
            && !adjacency[v].iter().any(|&w| colours[w as usize] == Some(c))
        {
            colours[v] = Some(c);
        }
    }
    let pending: Vec<usize> = (0..n).filter(|&v| colours[v].is_none()).collect();
    if greedy(&adjacency, &pending, &mut colours, max) {
        return colours.into_iter().map(|c| c.unwrap_or(0)).collect();
    }
    // The kept colours left no room: start over.
    let mut fresh = vec![None; n];
    let all: Vec<usize> = (0..n).collect();
    greedy(&adjacency, &all, &mut fresh, u8::MAX);
    fresh.into_iter().map(|c| c.unwrap_or(0)).collect()
}

fn adjacency(n: usize, edges: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut adjacency: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        if a != b && (a as usize) < n && (b as usize) < n {
            adjacency[a as usize].push(b);
            adjacency[b as usize].push(a);
        }
    }
    for list in &mut adjacency {
        list.sort_unstable();
        list.dedup();
    }
    adjacency
}

/// Colours `nodes` (others fixed) in smallest-last order; false if some node needed
/// colour `max` or more.
fn greedy(adjacency: &[Vec<u32>], nodes: &[usize], colours: &mut [Option<u8>], max: u8) -> bool {
    let order = smallest_last(adjacency, nodes);
    let mut ok = true;
    let mut used: Vec<bool> = Vec::new();
    for v in order {
        used.clear();
        used.resize(adjacency[v].len() + 2, false);
        for &w in &adjacency[v] {
            if let Some(c) = colours[w as usize]
                && (c as usize) < used.len()
            {
                used[c as usize] = true;
            }
        }
        let c = used.iter().position(|u| !u).unwrap_or(used.len()) as u8;
        if c >= max {
            ok = false;
        }
        colours[v] = Some(c);
    }
    ok
}

/// Smallest-last order of `nodes` in the subgraph they induce: repeatedly remove a node
/// of least remaining degree (lowest index on ties); colour in reverse removal order.
fn smallest_last(adjacency: &[Vec<u32>], nodes: &[usize]) -> Vec<usize> {
    let mut member = vec![false; adjacency.len()];
    for &v in nodes {
        member[v] = true;
    }
    let mut degree: Vec<usize> = vec![0; adjacency.len()];
    for &v in nodes {
        degree[v] = adjacency[v].iter().filter(|&&w| member[w as usize]).count();
    }
    let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(usize, usize)>> =
        nodes.iter().map(|&v| std::cmp::Reverse((degree[v], v))).collect();
    let mut removed = vec![false; adjacency.len()];
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(std::cmp::Reverse((d, v))) = heap.pop() {
        if removed[v] || d != degree[v] {
            continue;
        }
        removed[v] = true;
        order.push(v);
        for &w in &adjacency[v] {
            let w = w as usize;
            if member[w] && !removed[w] {
                degree[w] -= 1;
                heap.push(std::cmp::Reverse((degree[w], w)));
            }
        }
    }
    order.reverse();
    order
}

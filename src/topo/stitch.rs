//! Stitching a group's outline arcs into closed rings through their node ids.
//!
//! Every outline arc is oriented with the group on its left. Sorted by start node, the
//! arcs leaving a node form one contiguous run, so the successor of an arc is found by
//! a binary search on its end node — integers only, no coordinate hashing. Where several
//! outline arcs leave the same node (the group touches itself there), the successor is
//! the first one clockwise from the incoming arc, which keeps tracing the same face; a
//! traced cycle that passes such a node twice is cut there into simple rings, so no ring
//! touches itself (the OGC rule) and a hole touching its shell becomes a separate ring.

use super::Topology;

/// One outline arc, oriented with the group on its left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Directed {
    /// Node the arc leaves.
    pub(crate) from: u32,
    /// Arc reference (`arc << 1 | reversed`).
    pub(crate) arc_ref: u32,
    /// Node the arc reaches.
    pub(crate) to: u32,
}

/// Closed rings as runs of arc references.
#[derive(Debug, Default)]
pub(crate) struct Loops {
    /// Arc references of all rings.
    pub(crate) refs: Vec<u32>,
    /// Ring `r` is `refs[off[r]..off[r + 1]]`.
    pub(crate) off: Vec<u32>,
}

impl Loops {
    /// Number of rings.
    pub(crate) fn len(&self) -> usize {
        self.off.len().saturating_sub(1)
    }

    /// The arc references of ring `r`.
    pub(crate) fn ring(&self, r: usize) -> &[u32] {
        &self.refs[self.off[r] as usize..self.off[r + 1] as usize]
    }
}

/// Stitches the outline into closed rings. Sorts `outline` (by start node, then arc) so
/// that the result does not depend on the order the arcs were found in.
pub(crate) fn stitch(topology: &Topology, outline: &mut [Directed]) -> Result<Loops, &'static str> {
    outline.sort_unstable();
    let n = outline.len();
    // Arcs leaving the same node are contiguous; `multi[i]` when more than one leaves
    // outline[i].from.
    let mut multi = vec![false; n];
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        while j < n && outline[j].from == outline[i].from {
            j += 1;
        }
        if j - i > 1 {
            multi[i..j].fill(true);
        }
        i = j;
    }
    let mut used = vec![false; n];
    let mut loops = Loops {
        refs: Vec::with_capacity(n),
        off: vec![0],
    };
    let mut cycle: Vec<usize> = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    let mut seen: Vec<(u32, usize)> = Vec::new();
    for start in 0..n {
        if used[start] {
            continue;
        }
        cycle.clear();
        let mut current = start;
        loop {
            used[current] = true;
            cycle.push(current);
            let node = outline[current].to;
            let first = outline.partition_point(|d| d.from < node);
            let end = first + outline[first..].partition_point(|d| d.from == node);
            let next = match end - first {
                0 => return Err("open ring: no outline arc leaves a node"),
                1 => first,
                _ => clockwise_next(topology, outline, current, first..end),
            };
            if next == start {
                break;
            }
            if used[next] {
                return Err("outline arcs do not alternate around a node");
            }
            current = next;
        }
        // Cut the cycle where it passes a node twice.
        stack.clear();
        seen.clear();
        for &c in &cycle {
            if multi[c] {
                let node = outline[c].from;
                if let Some(k) = seen.iter().position(|&(m, _)| m == node) {
                    let at = seen[k].1;
                    loops.refs.extend(stack[at..].iter().map(|&s| outline[s].arc_ref));
                    loops.off.push(loops.refs.len() as u32);
                    stack.truncate(at);
                    seen.truncate(k);
                }
                seen.push((node, stack.len()));
            }
            stack.push(c);
        }
        if !stack.is_empty() {
            loops.refs.extend(stack.iter().map(|&s| outline[s].arc_ref));
            loops.off.push(loops.refs.len() as u32);
        }
    }
    Ok(loops)
}

/// Among the arcs `candidates` leaving the end node of `incoming`, the first one
/// clockwise from the direction back along `incoming`: the one bounding the same face.
fn clockwise_next(
    topology: &Topology,
    outline: &[Directed],
    incoming: usize,
    candidates: std::ops::Range<usize>,
) -> usize {
    let arc = |r: u32| topology.arc((r >> 1) as usize);
    let back = {
        let c = arc(outline[incoming].arc_ref);
        // The vertex before the node, walking the arc as referenced.
        let (node, before) = if outline[incoming].arc_ref & 1 == 0 {
            (c[c.len() - 1], c[c.len() - 2])
        } else {
            (c[0], c[1])
        };
        (before.y - node.y).atan2(before.x - node.x)
    };
    let mut best = candidates.start;
    let mut best_turn = f64::INFINITY;
    for i in candidates {
        let c = arc(outline[i].arc_ref);
        let (node, after) = if outline[i].arc_ref & 1 == 0 {
            (c[0], c[1])
        } else {
            (c[c.len() - 1], c[c.len() - 2])
        };
        let angle = (after.y - node.y).atan2(after.x - node.x);
        // Clockwise turn from `back` to this arc, in (0, 2π].
        let mut turn = (back - angle).rem_euclid(std::f64::consts::TAU);
        if turn == 0.0 {
            turn = std::f64::consts::TAU;
        }
        if turn < best_turn {
            best_turn = turn;
            best = i;
        }
    }
    best
}

//! Boundary chains: the arcs of the boundaries layer joined, once per view, into
//! chains of one rank that pass through nodes where exactly two arcs of that rank meet,
//! cut into pieces of at most [`PIECE`] arcs, each piece boxed in an R-tree.
//!
//! A tile walks the pieces its box meets, in chain order, and writes each run of
//! consecutive pieces as one line: no per-tile search for arcs that meet end to end,
//! and at low zooms, where thousands of sub-pixel arcs fall into a tile, one line per
//! border instead of one per arc.
//!
//! ```
//! use geoalign::tiles::chains::BoundaryChains;
//! use geoalign::tiles::prepared::PreparedLine;
//! use geo::Coord;
//! let arc = |a: [f64; 2], b: [f64; 2]| PreparedLine::new(&[Coord { x: a[0], y: a[1] }, Coord { x: b[0], y: b[1] }]);
//! // Two arcs of rank 0 meeting end to start, one of rank 1, one not drawn.
//! let lines = [arc([0.0, 0.0], [1.0, 0.0]), arc([1.0, 0.0], [2.0, 0.0]), arc([1.0, 0.0], [1.0, 1.0]), arc([5.0, 5.0], [6.0, 6.0])];
//! let chains = BoundaryChains::new(&[0, 0, 1, u8::MAX], &lines);
//! assert_eq!(chains.len(), 2);
//! ```

use rstar::RTree;

use super::prepared::{EMPTY_BOX, PreparedLine, union};
use super::view::Boxed;

/// Arcs per piece: bounds the arcs a tile looks at beyond its box.
pub const PIECE: usize = 64;

/// Boundary arcs joined into chains of one rank, cut into boxed pieces.
#[derive(Debug)]
pub struct BoundaryChains {
    /// Arcs of every piece, piece after piece, each with its direction (`true`: as
    /// stored, first vertex to last).
    arcs: Vec<(u32, bool)>,
    /// Piece `p` is `arcs[starts[p]..starts[p + 1]]`.
    starts: Vec<u32>,
    /// Per piece: its chain.
    chain: Vec<u32>,
    /// Per piece: the rank of its arcs.
    rank: Vec<u8>,
    /// R-tree of the pieces' boxes.
    tree: RTree<Boxed>,
}

impl BoundaryChains {
    /// Chains of the arcs whose `ranks` entry is not `u8::MAX`; `lines` are the arcs.
    pub fn new(ranks: &[u8], lines: &[PreparedLine]) -> BoundaryChains {
        let key = |p: [f64; 2]| (p[0].to_bits(), p[1].to_bits());
        // Ends of every drawn arc, sorted by (rank, point): arcs meeting at a node are a run.
        let mut ends: Vec<(u8, (u64, u64), u32)> = Vec::new();
        for (a, &rank) in ranks.iter().enumerate() {
            let coords = &lines[a].coords;
            if rank == u8::MAX || coords.len() < 2 {
                continue;
            }
            ends.push((rank, key(coords[0]), a as u32));
            ends.push((rank, key(coords[coords.len() - 1]), a as u32));
        }
        ends.sort_unstable();
        // The other arc at a node of degree two, if there is exactly one.
        let other = |rank: u8, at: (u64, u64), arc: u32| -> Option<u32> {
            let from = ends.partition_point(|e| (e.0, e.1) < (rank, at));
            let mut run = ends[from..]
                .iter()
                .take_while(|e| (e.0, e.1) == (rank, at))
                .map(|e| e.2);
            match (run.next(), run.next(), run.next()) {
                (Some(x), Some(y), None) if x == arc && y != arc => Some(y),
                (Some(x), Some(y), None) if y == arc && x != arc => Some(x),
                _ => None,
            }
        };
        let mut chains = BoundaryChains {
            arcs: Vec::new(),
            starts: vec![0],
            chain: Vec::new(),
            rank: Vec::new(),
            tree: RTree::new(),
        };
        let mut used = vec![false; ranks.len()];
        let mut boxes = Vec::new();
        let mut chain_count = 0u32;
        for (a, &rank) in ranks.iter().enumerate() {
            if rank == u8::MAX || used[a] || lines[a].coords.len() < 2 {
                continue;
            }
            used[a] = true;
            let first = |arc: u32, forward: bool| {
                let c = &lines[arc as usize].coords;
                key(if forward { c[0] } else { c[c.len() - 1] })
            };
            let last = |arc: u32, forward: bool| first(arc, !forward);
            // Forward from the arc's end, then backward from its start.
            let mut chain: std::collections::VecDeque<(u32, bool)> = [(a as u32, true)].into();
            while let Some(&(arc, forward)) = chain.back() {
                let at = last(arc, forward);
                let Some(next) = other(rank, at, arc).filter(|&n| !used[n as usize]) else {
                    break;
                };
                used[next as usize] = true;
                chain.push_back((next, first(next, true) == at));
            }
            while let Some(&(arc, forward)) = chain.front() {
                let at = first(arc, forward);
                let Some(next) = other(rank, at, arc).filter(|&n| !used[n as usize]) else {
                    break;
                };
                used[next as usize] = true;
                chain.push_front((next, last(next, true) == at));
            }
            let chain: Vec<(u32, bool)> = chain.into();
            for piece in chain.chunks(PIECE) {
                let bbox = piece
                    .iter()
                    .fold(EMPTY_BOX, |b, &(arc, _)| union(b, lines[arc as usize].bbox));
                boxes.push(Boxed::new(chains.rank.len() as u32, bbox));
                chains.arcs.extend_from_slice(piece);
                chains.starts.push(chains.arcs.len() as u32);
                chains.chain.push(chain_count);
                chains.rank.push(rank);
            }
            chain_count += 1;
        }
        chains.tree = RTree::bulk_load(boxes);
        chains
    }

    /// Number of pieces.
    pub fn len(&self) -> usize {
        self.rank.len()
    }

    /// Whether there is no boundary arc.
    pub fn is_empty(&self) -> bool {
        self.rank.is_empty()
    }

    /// R-tree of the pieces (the index of a [`Boxed`] is the piece).
    pub fn tree(&self) -> &RTree<Boxed> {
        &self.tree
    }

    /// Arcs of piece `p`, in chain order, with their directions.
    pub fn arcs(&self, p: usize) -> &[(u32, bool)] {
        &self.arcs[self.starts[p] as usize..self.starts[p + 1] as usize]
    }

    /// The chain piece `p` belongs to (pieces of a chain are numbered in order).
    pub fn chain(&self, p: usize) -> u32 {
        self.chain[p]
    }

    /// Rank of piece `p`'s arcs.
    pub fn rank(&self, p: usize) -> u8 {
        self.rank[p]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Coord;

    fn arc(points: &[[f64; 2]]) -> PreparedLine {
        let coords: Vec<Coord<f64>> = points.iter().map(|p| Coord { x: p[0], y: p[1] }).collect();
        PreparedLine::new(&coords)
    }

    /// The chain's vertices in order, checking that each arc starts where the last ended.
    fn walk(chains: &BoundaryChains, lines: &[PreparedLine], p: usize) -> Vec<[f64; 2]> {
        let mut out: Vec<[f64; 2]> = Vec::new();
        for &(a, forward) in chains.arcs(p) {
            let mut c = lines[a as usize].coords.clone();
            if !forward {
                c.reverse();
            }
            if let Some(last) = out.last() {
                assert_eq!(*last, c[0], "arc {a} does not start where the chain is");
            }
            out.extend(c);
        }
        out
    }

    #[test]
    fn arcs_in_either_direction_join_and_nodes_of_degree_three_end_chains() {
        let lines = [
            arc(&[[0.0, 0.0], [1.0, 0.0]]),
            arc(&[[2.0, 0.0], [1.0, 0.0]]), // stored the other way round
            arc(&[[2.0, 0.0], [3.0, 0.0]]),
            // Three arcs of rank 1 meet at (3, 1): no chain runs through it.
            arc(&[[3.0, 0.0], [3.0, 1.0]]),
            arc(&[[3.0, 1.0], [3.0, 2.0]]),
            arc(&[[3.0, 1.0], [4.0, 1.0]]),
        ];
        let chains = BoundaryChains::new(&[0, 0, 0, 1, 1, 1], &lines);
        assert_eq!(chains.len(), 4);
        let rank0: Vec<usize> = (0..chains.len()).filter(|&p| chains.rank(p) == 0).collect();
        assert_eq!(rank0.len(), 1);
        let path = walk(&chains, &lines, rank0[0]);
        assert_eq!(chains.arcs(rank0[0]).len(), 3);
        let ends = [path[0], path[path.len() - 1]];
        let (a, b) = (lines[0].coords[0], lines[2].coords[1]);
        assert!(ends == [a, b] || ends == [b, a], "{ends:?}");
        for p in (0..chains.len()).filter(|&p| chains.rank(p) == 1) {
            assert_eq!(chains.arcs(p).len(), 1);
        }
    }

    #[test]
    fn long_chains_are_cut_into_consecutive_pieces() {
        let lines: Vec<PreparedLine> = (0..PIECE * 2 + 5)
            .map(|i| arc(&[[i as f64 * 0.01, 0.0], [(i + 1) as f64 * 0.01, 0.0]]))
            .collect();
        let chains = BoundaryChains::new(&vec![0; lines.len()], &lines);
        assert_eq!(chains.len(), 3);
        assert!((0..3).all(|p| chains.chain(p) == chains.chain(0)));
        let mut path: Vec<[f64; 2]> = Vec::new();
        for p in 0..3 {
            let piece = walk(&chains, &lines, p);
            if let Some(last) = path.last() {
                assert_eq!(*last, piece[0]);
            }
            path.extend(piece);
        }
        assert_eq!(path.len(), lines.len() * 2);
    }
}

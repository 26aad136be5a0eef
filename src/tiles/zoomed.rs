//! The vertices kept at one zoom, computed once per geometry and zoom and shared by
//! every tile of that zoom, with a box per run of [`CHUNK`] kept vertices.
//!
//! A tile then walks only kept vertices (at zoom 4 a territory keeps ~1% of them), and
//! a run whose box lies beside the tile's window is replaced by its first and last
//! vertex. That replacement never changes what is drawn: the run and the straight
//! segment between its ends both lie in the open half-plane beside the window (a box
//! that misses an axis-aligned box is separated from it along one axis), which is
//! convex, so the two paths are homotopic away from every point of the window. The
//! winding number of every point in the window, all that the clip and the overlay's
//! fill rule look at, stays the same; a line's clipped pieces are the same too, as both
//! paths are wholly outside.
//!
//! ```
//! use geoalign::tiles::zoomed::Kept;
//! let coords: Vec<[f64; 2]> = (0..100).map(|i| [f64::from(i), 50.0]).collect();
//! let importance = vec![1.0f32; 100];
//! let kept = Kept::new([(&coords[..], &importance[..])].into_iter(), 0.5);
//! // A window far to the right of the first 96 vertices: 3 runs become their ends.
//! let mut seen = Vec::new();
//! kept.visit(0, &coords, &[98.0, 0.0, 200.0, 100.0], |p| seen.push(p[0]));
//! assert_eq!(seen, [0.0, 31.0, 32.0, 63.0, 64.0, 95.0, 96.0, 97.0, 98.0, 99.0]);
//! ```

use std::borrow::Cow;
use std::sync::OnceLock;

use super::prepared::{EMPTY_BOX, WorldBox, extend, intersects};
use super::tile_id::MAX_ZOOM;

/// Kept vertices per box.
pub const CHUNK: usize = 32;

/// The vertices of some rings (or lines) kept at one tolerance.
#[derive(Debug, Clone)]
pub struct Kept {
    tolerance: f64,
    /// Kept vertex indices, local to their ring, ring after ring.
    indices: Vec<u32>,
    /// Ring `r` keeps `indices[ring_starts[r]..ring_starts[r + 1]]`.
    ring_starts: Vec<u32>,
    /// Ring `r`'s boxes are `chunks[chunk_starts[r]..chunk_starts[r + 1]]`.
    chunk_starts: Vec<u32>,
    /// Box of each run of [`CHUNK`] kept vertices.
    chunks: Vec<WorldBox>,
}

impl Kept {
    /// The vertices of importance above `tolerance` of each (coordinates, importance)
    /// ring or line.
    pub fn new<'a>(rings: impl Iterator<Item = (&'a [[f64; 2]], &'a [f32])>, tolerance: f64) -> Kept {
        let mut kept = Kept {
            tolerance,
            indices: Vec::new(),
            ring_starts: vec![0],
            chunk_starts: vec![0],
            chunks: Vec::new(),
        };
        for (coords, importance) in rings {
            let start = kept.indices.len();
            kept.indices.extend(
                importance
                    .iter()
                    .enumerate()
                    .filter(|(_, imp)| f64::from(**imp) > tolerance)
                    .map(|(i, _)| i as u32),
            );
            for run in kept.indices[start..].chunks(CHUNK) {
                let mut bbox = EMPTY_BOX;
                for &i in run {
                    extend(&mut bbox, coords[i as usize]);
                }
                kept.chunks.push(bbox);
            }
            kept.ring_starts.push(kept.indices.len() as u32);
            kept.chunk_starts.push(kept.chunks.len() as u32);
        }
        kept
    }

    /// The tolerance it was built at.
    pub fn tolerance(&self) -> f64 {
        self.tolerance
    }

    /// Kept indices of ring `r` (into its own coordinates).
    pub fn ring(&self, r: usize) -> &[u32] {
        &self.indices[self.ring_starts[r] as usize..self.ring_starts[r + 1] as usize]
    }

    /// Calls `f` with the kept vertices of ring `r` (whose coordinates are `coords`) in
    /// order, a run of [`CHUNK`] that lies beside `window` reduced to its two ends.
    pub fn visit(&self, r: usize, coords: &[[f64; 2]], window: &WorldBox, mut f: impl FnMut([f64; 2])) {
        let indices = self.ring(r);
        let boxes = &self.chunks[self.chunk_starts[r] as usize..self.chunk_starts[r + 1] as usize];
        for (run, bbox) in indices.chunks(CHUNK).zip(boxes) {
            if intersects(bbox, window) {
                run.iter().for_each(|&i| f(coords[i as usize]));
            } else if let (Some(&first), Some(&last)) = (run.first(), run.last()) {
                f(coords[first as usize]);
                if last != first {
                    f(coords[last as usize]);
                }
            }
        }
    }
}

/// [`Kept`] per zoom, each built on first use and then shared.
#[derive(Debug, Clone, Default)]
pub struct ByZoom {
    zooms: OnceLock<Box<[OnceLock<Box<Kept>>]>>,
}

impl ByZoom {
    /// The kept vertices at `zoom`, built by `build(tolerance)` the first time. A
    /// tolerance other than the one cached for the zoom (another set of tile options)
    /// is built afresh and not cached.
    pub fn get(&self, zoom: u8, tolerance: f64, build: impl FnOnce(f64) -> Kept) -> Cow<'_, Kept> {
        let zooms = self.zooms.get_or_init(|| {
            (0..=MAX_ZOOM)
                .map(|_| OnceLock::new())
                .collect::<Vec<_>>()
                .into_boxed_slice()
        });
        let Some(slot) = zooms.get(usize::from(zoom)) else {
            return Cow::Owned(build(tolerance));
        };
        let mut build = Some(build);
        let kept = slot.get_or_init(|| {
            Box::new(
                build
                    .take()
                    .map_or_else(|| Kept::new(std::iter::empty(), tolerance), |b| b(tolerance)),
            )
        });
        match build {
            Some(b) if kept.tolerance != tolerance => Cow::Owned(b(tolerance)),
            _ => Cow::Borrowed(kept),
        }
    }
}

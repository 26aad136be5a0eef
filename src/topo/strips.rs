//! Broad phase for segment tests: horizontal strips, each swept along x.
//!
//! Boxes are registered in every strip their y-range covers and sorted by their left
//! edge within a strip; a sweep then only compares boxes whose x-ranges overlap. Strips
//! keep the sweep short where the data is dense along one longitude band (the US east
//! coast), and a long segment costs only the strips it crosses.

use geo::Coord;
use rayon::prelude::*;

/// An axis-aligned box.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bbox {
    pub(crate) min_x: f64,
    pub(crate) min_y: f64,
    pub(crate) max_x: f64,
    pub(crate) max_y: f64,
}

impl Bbox {
    /// The box of a segment, grown by `margin` on every side.
    pub(crate) fn of_segment(a: Coord<f64>, b: Coord<f64>, margin: f64) -> Bbox {
        Bbox {
            min_x: a.x.min(b.x) - margin,
            min_y: a.y.min(b.y) - margin,
            max_x: a.x.max(b.x) + margin,
            max_y: a.y.max(b.y) + margin,
        }
    }
}

/// Horizontal strips over a y-range.
struct Strips {
    y0: f64,
    inv_height: f64,
    count: u32,
}

impl Strips {
    fn new(boxes: &[Bbox]) -> Strips {
        let y0 = boxes.iter().map(|b| b.min_y).fold(f64::INFINITY, f64::min);
        let y1 = boxes.iter().map(|b| b.max_y).fold(f64::NEG_INFINITY, f64::max);
        let count = ((boxes.len() as f64).sqrt().ceil() as u32).clamp(1, 1 << 16);
        let extent = y1 - y0;
        let inv_height = if extent > 0.0 && extent.is_finite() {
            f64::from(count) / extent
        } else {
            0.0
        };
        Strips {
            y0,
            inv_height,
            count,
        }
    }

    fn of(&self, y: f64) -> u32 {
        let s = ((y - self.y0) * self.inv_height).floor();
        if s >= 0.0 {
            (s as u32).min(self.count - 1)
        } else {
            0
        }
    }

    /// `(strip, box)` for every strip each box covers, sorted by strip then left edge.
    fn register(&self, boxes: &[Bbox]) -> Vec<(u32, u32)> {
        let mut keyed: Vec<(u32, u64, u32)> = Vec::with_capacity(boxes.len() + boxes.len() / 4);
        for (i, b) in boxes.iter().enumerate() {
            let x = ordered(b.min_x);
            for s in self.of(b.min_y)..=self.of(b.max_y) {
                keyed.push((s, x, i as u32));
            }
        }
        keyed.par_sort_unstable();
        keyed.into_iter().map(|(s, _, i)| (s, i)).collect()
    }
}

/// The bits of a float, as an integer in the same order (for sorting by integer keys).
pub(crate) fn ordered(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 { !bits } else { bits | (1 << 63) }
}

/// Boxes indexed by strip, for horizontal line queries.
pub(crate) struct StripIndex {
    strips: Strips,
    entries: Vec<(u32, u32)>,
    /// Strip `s` is `entries[starts[s]..starts[s + 1]]`.
    starts: Vec<u32>,
}

impl StripIndex {
    /// Indexes the boxes.
    pub(crate) fn new(boxes: &[Bbox]) -> StripIndex {
        let strips = Strips::new(boxes);
        let entries = if boxes.is_empty() {
            Vec::new()
        } else {
            strips.register(boxes)
        };
        let mut starts = vec![0u32; strips.count as usize + 1];
        for &(s, _) in &entries {
            starts[s as usize + 1] += 1;
        }
        for s in 0..strips.count as usize {
            starts[s + 1] += starts[s];
        }
        StripIndex {
            strips,
            entries,
            starts,
        }
    }

    /// The boxes of the strip holding `y`, by increasing left edge: every box whose
    /// y-range holds `y` is among them.
    pub(crate) fn near(&self, y: f64) -> impl Iterator<Item = u32> + '_ {
        let s = self.strips.of(y) as usize;
        let range = match (self.starts.get(s), self.starts.get(s + 1)) {
            (Some(&a), Some(&b)) => a as usize..b as usize,
            _ => 0..0,
        };
        self.entries[range].iter().map(|e| e.1)
    }
}

/// The strips of `entries` (sorted by strip): `(strip, start, end)` ranges.
fn strip_runs(entries: &[(u32, u32)]) -> Vec<(u32, usize, usize)> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < entries.len() {
        let strip = entries[start].0;
        let end = start + entries[start..].partition_point(|e| e.0 == strip);
        runs.push((strip, start, end));
        start = end;
    }
    runs
}

/// `f(i, j)` for every pair `i != j` of overlapping boxes (closed boxes: touching
/// counts), each pair once; the `Some` answers, collected. Strips run in parallel; the
/// answers come in a fixed order (by strip, then by box), whatever the thread count.
pub(crate) fn overlapping_pairs<T: Send>(boxes: &[Bbox], f: impl Fn(u32, u32) -> Option<T> + Sync) -> Vec<T> {
    if boxes.len() < 2 {
        return Vec::new();
    }
    let strips = Strips::new(boxes);
    let entries = strips.register(boxes);
    let runs = strip_runs(&entries);
    let per_strip: Vec<Vec<T>> = runs
        .par_iter()
        .map(|&(strip, start, end)| {
            let mut found = Vec::new();
            let run = &entries[start..end];
            for (k, &(_, i)) in run.iter().enumerate() {
                let a = &boxes[i as usize];
                for &(_, j) in &run[k + 1..] {
                    let b = &boxes[j as usize];
                    if b.min_x > a.max_x {
                        break;
                    }
                    if b.min_y > a.max_y || b.max_y < a.min_y {
                        continue;
                    }
                    // Report the pair only in the lowest strip both boxes share.
                    if strips.of(a.min_y.max(b.min_y)) == strip
                        && let Some(answer) = f(i, j)
                    {
                        found.push(answer);
                    }
                }
            }
            found
        })
        .collect();
    per_strip.into_iter().flatten().collect()
}

/// `f(box, point)` for every point inside (or on the edge of) every box; the `Some`
/// answers, collected (strips in parallel, answers in a fixed order).
pub(crate) fn points_in_boxes<T: Send>(
    boxes: &[Bbox],
    points: &[Coord<f64>],
    f: impl Fn(u32, u32) -> Option<T> + Sync,
) -> Vec<T> {
    if boxes.is_empty() || points.is_empty() {
        return Vec::new();
    }
    let strips = Strips::new(boxes);
    let entries = strips.register(boxes);
    let mut keyed: Vec<(u32, u64, u32)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (strips.of(p.y), ordered(p.x), i as u32))
        .collect();
    keyed.par_sort_unstable();
    let by_strip: Vec<(u32, u32)> = keyed.into_iter().map(|(s, _, i)| (s, i)).collect();
    let runs = strip_runs(&entries);
    let per_strip: Vec<Vec<T>> = runs
        .par_iter()
        .map(|&(strip, start, end)| {
            let mut found = Vec::new();
            let lo = by_strip.partition_point(|e| e.0 < strip);
            let hi = lo + by_strip[lo..].partition_point(|e| e.0 == strip);
            let strip_points = &by_strip[lo..hi];
            for &(_, i) in &entries[start..end] {
                let b = &boxes[i as usize];
                let first = strip_points.partition_point(|e| points[e.1 as usize].x < b.min_x);
                for &(_, p) in &strip_points[first..] {
                    let c = points[p as usize];
                    if c.x > b.max_x {
                        break;
                    }
                    if c.y >= b.min_y
                        && c.y <= b.max_y
                        && let Some(answer) = f(i, p)
                    {
                        found.push(answer);
                    }
                }
            }
            found
        })
        .collect();
    per_strip.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    fn bx(min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Bbox {
        Bbox {
            min_x,
            min_y,
            max_x,
            max_y,
        }
    }

    #[test]
    fn pairs_match_brute_force() {
        let mut boxes = Vec::new();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..400 {
            let (x, y, w, h) = (
                next() * 10.0,
                next() * 10.0,
                next() * next(),
                next() * next() * 3.0,
            );
            boxes.push(bx(x, y, x + w, y + h));
        }
        let mut found = Vec::new();
        found.extend(overlapping_pairs(&boxes, |i, j| Some((i.min(j), i.max(j)))));
        found.sort_unstable();
        let before = found.len();
        found.dedup();
        assert_eq!(before, found.len(), "a pair reported twice");
        let mut expected = Vec::new();
        for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                let (a, b) = (&boxes[i], &boxes[j]);
                if a.min_x <= b.max_x && b.min_x <= a.max_x && a.min_y <= b.max_y && b.min_y <= a.max_y {
                    expected.push((i as u32, j as u32));
                }
            }
        }
        assert_eq!(found, expected);

        let points: Vec<Coord<f64>> = (0..300)
            .map(|_| coord! { x: next() * 10.0, y: next() * 10.0 })
            .collect();
        let mut hits = Vec::new();
        hits.extend(points_in_boxes(&boxes, &points, |b, p| Some((b, p))));
        hits.sort_unstable();
        let mut expected = Vec::new();
        for (i, b) in boxes.iter().enumerate() {
            for (j, p) in points.iter().enumerate() {
                if p.x >= b.min_x && p.x <= b.max_x && p.y >= b.min_y && p.y <= b.max_y {
                    expected.push((i as u32, j as u32));
                }
            }
        }
        assert_eq!(hits, expected);
    }
}

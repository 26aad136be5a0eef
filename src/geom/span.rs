//! The smallest longitude span covering a set of intervals on a circle, so an extent of
//! data on both sides of the antimeridian (the Aleutians, Fiji) is the few degrees the
//! data covers, not the whole world.

/// The smallest span `(west, east)` of the circle `[start, start + period)` covering every
/// interval `(west, east)` (each `west <= east`, within the circle): `west > east` when the
/// span crosses the circle's seam (for degrees, the antimeridian); `None` without
/// intervals. The span leaves out the widest stretch no interval covers.
///
/// ```
/// use geoalign::geom::circular_span;
/// // Islands west and east of 180°: a 10° span across it, not 358°.
/// let span = circular_span([(172.0, 179.5), (-179.9, -178.0)], 360.0);
/// assert_eq!(span, Some((172.0, -178.0)));
/// assert_eq!(circular_span([(-74.3, -73.7)], 360.0), Some((-74.3, -73.7)));
/// ```
pub fn circular_span(intervals: impl IntoIterator<Item = (f64, f64)>, period: f64) -> Option<(f64, f64)> {
    let mut all: Vec<(f64, f64)> = intervals
        .into_iter()
        .filter(|(w, e)| w.is_finite() && e.is_finite() && w <= e)
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(all.len());
    for (w, e) in all {
        match merged.last_mut() {
            Some(last) if w <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((w, e)),
        }
    }
    let (first, last) = (*merged.first()?, *merged.last()?);
    // The stretch from the last interval's east round to the first one's west.
    let mut widest = (first.0 + period - last.1, None);
    for (i, pair) in merged.windows(2).enumerate() {
        let gap = pair[1].0 - pair[0].1;
        if gap > widest.0 {
            widest = (gap, Some(i));
        }
    }
    Some(match widest.1 {
        None => (first.0, last.1),
        Some(i) => (merged[i + 1].0, merged[i].1),
    })
}

#[cfg(test)]
mod tests {
    use super::circular_span;

    #[test]
    fn the_widest_gap_is_left_out() {
        assert_eq!(circular_span([], 360.0), None);
        // Overlapping intervals merge; of the gaps (4° across the seam, 195° east of
        // -175°, 140° east of 30°) the 195° one is left out.
        let span = circular_span(
            [(170.0, 175.0), (174.0, 178.0), (-178.0, -175.0), (20.0, 30.0)],
            360.0,
        );
        assert_eq!(span, Some((20.0, -175.0)));
        // World coordinates (period 1): a span across the seam.
        assert_eq!(
            circular_span([(0.98, 0.99), (0.01, 0.02)], 1.0),
            Some((0.98, 0.02))
        );
        assert_eq!(circular_span([(0.2, 0.3), (0.6, 0.7)], 1.0), Some((0.2, 0.7)));
    }
}

//! Planar ring area by the shoelace formula, shifted to the ring's first vertex so that
//! small rings far from the origin keep their precision (as `geo`'s `Area` does).

use geo::Coord;

/// Twice the signed area of a ring given by its vertices, closed or not (the closing
/// vertex may be repeated or left out): positive when counter-clockwise.
pub(crate) fn twice_signed(ring: &[Coord<f64>]) -> f64 {
    twice_signed_iter(ring.iter().copied())
}

/// [`twice_signed`] over any sequence of vertices.
pub(crate) fn twice_signed_iter(mut ring: impl Iterator<Item = Coord<f64>>) -> f64 {
    let Some(first) = ring.next() else {
        return 0.0;
    };
    let mut sum = 0.0;
    let (mut px, mut py) = (0.0, 0.0);
    for c in ring {
        let (x, y) = (c.x - first.x, c.y - first.y);
        sum += px * y - x * py;
        (px, py) = (x, y);
    }
    // The closing edge back to `first` (the origin) adds nothing.
    sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::coord;

    #[test]
    fn unit_square_both_ways() {
        let ring = [
            coord! { x: 10., y: 10. },
            coord! { x: 11., y: 10. },
            coord! { x: 11., y: 11. },
            coord! { x: 10., y: 11. },
        ];
        assert_eq!(twice_signed(&ring), 2.0);
        let mut closed = ring.to_vec();
        closed.push(ring[0]);
        assert_eq!(twice_signed(&closed), 2.0);
        closed.reverse();
        assert_eq!(twice_signed(&closed), -2.0);
    }
}

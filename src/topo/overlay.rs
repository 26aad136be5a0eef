//! The overlay union: the dissolve of last resort, for units whose topology is not a
//! clean coverage.
//!
//! `geo::unary_union` picks its fill rule from the winding of the *first* ring it is
//! given (positive for counter-clockwise, negative for clockwise), so one input drawn the
//! other way round would be dropped or punched out as a hole. Every polygon is oriented
//! first (exterior counter-clockwise, holes clockwise): then a point is filled when its
//! winding number is positive, which is being inside at least one polygon and outside
//! its holes, whatever the files' winding.

use geo::orient::Direction;
use geo::{MultiPolygon, Orient, Polygon, unary_union};

/// The union of polygons given with any ring winding; the result is oriented (exterior
/// rings counter-clockwise, holes clockwise).
///
/// ```
/// use geo::{Area, polygon};
/// use geoalign::topo::overlay_union;
/// // The same unit square twice, once clockwise, and a clockwise square beside it.
/// let ccw = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)];
/// let cw = polygon![(x: 0., y: 0.), (x: 0., y: 1.), (x: 1., y: 1.), (x: 1., y: 0.)];
/// let beside = polygon![(x: 1., y: 0.), (x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 0.)];
/// let union = overlay_union(&[cw, ccw, beside]);
/// assert_eq!(union.unsigned_area(), 2.0);
/// ```
pub fn overlay_union<'a>(polygons: impl IntoIterator<Item = &'a Polygon<f64>>) -> MultiPolygon<f64> {
    let oriented: Vec<Polygon<f64>> = polygons
        .into_iter()
        .map(|p| p.orient(Direction::Default))
        .collect();
    unary_union(&oriented).orient(Direction::Default)
}

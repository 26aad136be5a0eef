//! Reps' home locations on the unit sphere, searched by the k-d tree.

use serde::Serialize;

use super::kdtree;
use crate::geom::EARTH_RADIUS_KM;

/// A rep's home on the unit sphere, so that Euclidean nearest neighbours are
/// great-circle nearest neighbours everywhere, across the antimeridian and at the poles.
#[derive(Debug, Clone)]
pub struct RepPoint {
    /// Rep id.
    pub id: String,
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    xyz: [f64; 3],
}

fn unit_sphere(lon: f64, lat: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Great-circle distance in km from a chord length on the unit sphere.
fn chord_to_km(chord: f64) -> f64 {
    2.0 * (chord / 2.0).clamp(0.0, 1.0).asin() * EARTH_RADIUS_KM
}

/// An index of reps' home locations.
#[derive(Debug, Clone, Default)]
pub struct RepIndex {
    reps: Vec<RepPoint>,
    tree: kdtree::KdTree,
}

/// A rep near a point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearRep {
    /// Rep id.
    pub id: String,
    /// Great-circle distance in km.
    pub distance_km: f64,
    /// Home longitude.
    pub lon: f64,
    /// Home latitude.
    pub lat: f64,
}

impl RepIndex {
    /// Indexes reps with a home location.
    ///
    /// ```
    /// use geoalign::index::RepIndex;
    /// // Two reps either side of the antimeridian, one far away.
    /// let index = RepIndex::new([("fiji", 179.9, -17.0), ("samoa", -179.9, -17.0), ("paris", 2.35, 48.85)]);
    /// let near = index.nearest(-179.95, -17.0, 2, None);
    /// assert_eq!(near.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["samoa", "fiji"]);
    /// assert!(near[1].distance_km < 20.0);
    /// ```
    pub fn new<'a>(reps: impl IntoIterator<Item = (&'a str, f64, f64)>) -> RepIndex {
        let reps: Vec<RepPoint> = reps
            .into_iter()
            .map(|(id, lon, lat)| RepPoint {
                id: id.to_owned(),
                lon,
                lat,
                xyz: unit_sphere(lon, lat),
            })
            .collect();
        let tree = kdtree::KdTree::new(&reps.iter().map(|r| r.xyz).collect::<Vec<_>>());
        RepIndex { reps, tree }
    }

    /// The `k` nearest reps (ties by id), optionally within `max_km`, accepted by `keep`.
    pub fn nearest_where(
        &self,
        lon: f64,
        lat: f64,
        k: usize,
        max_km: Option<f64>,
        keep: impl Fn(&str) -> bool,
    ) -> Vec<NearRep> {
        // A great-circle distance d is a chord of 2 sin(d / 2R).
        let max_d2 = max_km.map_or(f64::INFINITY, |km| {
            let half = (km / EARTH_RADIUS_KM / 2.0).min(std::f64::consts::FRAC_PI_2);
            (2.0 * half.sin()).powi(2) * (1.0 + 1e-9) // the km filter below decides exactly
        });
        let keep_index = |i: u32| keep(&self.reps[i as usize].id);
        self.tree
            .nearest(unit_sphere(lon, lat), k, max_d2, &keep_index)
            .into_iter()
            .map(|(d2, i)| (&self.reps[i as usize], chord_to_km(d2.sqrt())))
            .filter(|(_, km)| max_km.is_none_or(|max| *km <= max))
            .map(|(rep, km)| NearRep {
                id: rep.id.clone(),
                distance_km: km,
                lon: rep.lon,
                lat: rep.lat,
            })
            .collect()
    }

    /// The `k` nearest reps, optionally within `max_km`.
    pub fn nearest(&self, lon: f64, lat: f64, k: usize, max_km: Option<f64>) -> Vec<NearRep> {
        self.nearest_where(lon, lat, k, max_km, |_| true)
    }
}

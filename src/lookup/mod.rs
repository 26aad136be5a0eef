//! Lookups for field apps on a snapshot: which unit, territory (and parents) and
//! reps own a point; batches of points; the nearest reps.
//!
//! **Border rule:** a point exactly on a border shared by several units belongs to
//! the unit with the smallest id (lexicographic), so every answer is deterministic.

use std::collections::BTreeMap;

use geo::{Closest, ClosestPoint, Distance, Haversine, Point};
use rstar::AABB;
use serde::Serialize;

use crate::snapshot::Snapshot;

pub mod account;
pub mod address;
pub mod batch;
pub mod batch_csv;
pub mod geocode;
pub mod geocode_batch;
pub mod grid;
pub mod kdtree;
pub mod street;

/// Mean Earth radius used for great-circle distances, in km.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Why a coordinate cannot be looked up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointError {
    /// Not finite, or outside [-180, 180] x [-90, 90].
    #[error("({lon}, {lat}) is not a lon/lat coordinate (lon -180..180, lat -90..90)")]
    OutOfRange {
        /// Longitude given.
        lon: f64,
        /// Latitude given.
        lat: f64,
    },
}

/// Checks a lon/lat pair.
pub fn check(lon: f64, lat: f64) -> Result<(), PointError> {
    if lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0 {
        Ok(())
    } else {
        Err(PointError::OutOfRange { lon, lat })
    }
}

/// A rep as a lookup names it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RepRef {
    /// Rep id.
    pub id: String,
    /// Name.
    pub name: String,
    /// E-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The owner of a point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Owner {
    /// The unit containing the point (or the nearest, when snapped).
    pub unit: String,
    /// Code per level name (`territory`, `district`, `region`); absent when unassigned.
    pub levels: BTreeMap<String, String>,
    /// Reps of the leaf territory.
    pub reps: Vec<RepRef>,
    /// Distance to the unit in km, when the point was outside every unit and snapped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_km: Option<f64>,
}

impl Snapshot {
    /// The owner of a unit (by index).
    pub fn owner_of_unit(&self, unit: u32) -> Owner {
        self.owner_of_polygon_unit(unit, None)
    }

    fn owner_of_polygon(&self, polygon: u32, distance_km: Option<f64>) -> Owner {
        self.owner_of_polygon_unit(self.dataset.unit_of_topo[polygon as usize], distance_km)
    }

    fn owner_of_polygon_unit(&self, unit: u32, distance_km: Option<f64>) -> Owner {
        let units = &self.dataset.units;
        let mut levels = BTreeMap::new();
        let mut reps = Vec::new();
        if let Some(leaf) = self.state.owner(units, unit) {
            for (name, code) in self.state.levels.iter().zip(self.state.ancestry(leaf)) {
                if let Some(code) = code {
                    levels.insert(name.clone(), code);
                }
            }
            if let Some(t) = self.state.territories[0].get(leaf) {
                reps = t
                    .reps
                    .iter()
                    .filter_map(|id| {
                        let r = self.state.reps.get(id)?;
                        Some(RepRef {
                            id: id.clone(),
                            name: r.name.clone(),
                            email: r.email.clone(),
                        })
                    })
                    .collect();
            }
        }
        Owner {
            unit: units.get(unit).id.clone(),
            levels,
            reps,
            distance_km,
        }
    }

    /// Who owns the point: the unit containing it and its territory chain. Outside
    /// every unit, `snap_km` allows the nearest unit within that distance.
    pub fn lookup(&self, lon: f64, lat: f64, snap_km: Option<f64>) -> Result<Option<Owner>, PointError> {
        check(lon, lat)?;
        if let Some(polygon) = self.dataset.polygon_at(lon, lat) {
            return Ok(Some(self.owner_of_polygon(polygon, None)));
        }
        let Some(max_km) = snap_km.filter(|k| *k > 0.0) else {
            return Ok(None);
        };
        Ok(self
            .dataset
            .nearest_polygon(lon, lat, max_km)
            .map(|(polygon, km)| self.owner_of_polygon(polygon, Some(km))))
    }
}

impl crate::snapshot::DatasetModel {
    /// The polygon (topology index) containing a point; smallest unit id on borders.
    pub fn polygon_at(&self, lon: f64, lat: f64) -> Option<u32> {
        self.unit_at(lon, lat).and_then(|u| self.topo_of_unit[u as usize])
    }

    /// The nearest polygon within `max_km` of a point, with the distance in km.
    pub fn nearest_polygon(&self, lon: f64, lat: f64, max_km: f64) -> Option<(u32, f64)> {
        let point = Point::new(lon, lat);
        // A degree of latitude is ~111 km; a degree of longitude less, by cos(lat).
        let dy = max_km / 111.0;
        let dx = (max_km / (111.0 * lat.to_radians().cos().max(0.01))).min(360.0);
        let window = AABB::from_corners([lon - dx, lat - dy], [lon + dx, lat + dy]);
        self.tree
            .locate_in_envelope_intersecting(&window)
            .filter_map(|c| {
                let nearest = match self.polygons[c.index as usize].closest_point(&point) {
                    Closest::Intersection(p) | Closest::SinglePoint(p) => p,
                    Closest::Indeterminate => return None,
                };
                let km = Haversine.distance(point, nearest) / 1000.0;
                (km <= max_km).then_some((c.index, km))
            })
            .min_by(|a, b| {
                a.1.total_cmp(&b.1)
                    .then(self.unit_of_topo[a.0 as usize].cmp(&self.unit_of_topo[b.0 as usize]))
            })
    }
}

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
    /// use geoalign::lookup::RepIndex;
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

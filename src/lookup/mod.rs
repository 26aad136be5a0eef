//! Lookups for field apps on a snapshot: which unit, territory (and parents) and
//! reps own a point; batches of points; the nearest reps.
//!
//! **Border rule:** a point exactly on a border shared by several units belongs to
//! the unit with the smallest id (lexicographic), so every answer is deterministic.

use std::collections::BTreeMap;

use geo::{Closest, ClosestPoint, Distance, Haversine, Point};
use rstar::AABB;
use serde::Serialize;

use crate::feature::is_placeholder_id;
use crate::geom::{PointError, check};
use crate::snapshot::Snapshot;

pub mod account;
pub mod address;
pub mod batch;
pub mod batch_csv;
pub mod geocode;
pub mod geocode_batch;
pub mod route;

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
    /// Why the unit has no owner whatever the alignment says, or how it was reached
    /// (a placeholder unit; a point in one snapped to the nearest real unit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Owner {
    /// Whether the unit is a placeholder ([`crate::feature::is_placeholder_id`]): no
    /// territory owns it.
    pub fn is_placeholder(&self) -> bool {
        is_placeholder_id(&self.unit)
    }
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
        let id = &units.get(unit).id;
        let placeholder = is_placeholder_id(id);
        // A placeholder is not a real unit: whatever a sheet said, it owns no customer.
        let leaf = (!placeholder).then(|| self.state.owner(units, unit)).flatten();
        let (levels, reps) = leaf.map(|leaf| self.chain(leaf)).unwrap_or_default();
        Owner {
            unit: id.clone(),
            levels,
            reps,
            distance_km,
            note: placeholder.then(|| {
                format!("{id} is a placeholder unit (parks, airports, water), not a real one: no owner")
            }),
        }
    }

    /// The owning chain of a leaf territory (code per level name, leaf upwards) and its reps.
    pub fn chain(&self, leaf: &str) -> (BTreeMap<String, String>, Vec<RepRef>) {
        let mut levels = BTreeMap::new();
        for (name, code) in self.state.levels.iter().zip(self.state.ancestry(leaf)) {
            levels.extend(code.map(|c| (name.clone(), c)));
        }
        let rep_ids = self.state.territories[0].get(leaf).map(|t| &t.reps);
        let reps = rep_ids
            .into_iter()
            .flatten()
            .filter_map(|id| {
                let r = self.state.reps.get(id)?;
                Some(RepRef {
                    id: id.clone(),
                    name: r.name.clone(),
                    email: r.email.clone(),
                })
            })
            .collect();
        (levels, reps)
    }

    /// Who owns the point: the unit containing it and its territory chain. Outside
    /// every unit, `snap_km` allows the nearest unit within that distance; in a
    /// placeholder unit, the nearest real unit within it (else the placeholder, with
    /// its note and no owner).
    pub fn lookup(&self, lon: f64, lat: f64, snap_km: Option<f64>) -> Result<Option<Owner>, PointError> {
        check(lon, lat)?;
        let max_km = snap_km.filter(|k| *k > 0.0);
        let inside = self
            .dataset
            .polygon_at(lon, lat)
            .map(|p| self.owner_of_polygon(p, None));
        match (inside, max_km) {
            (Some(owner), Some(km)) if owner.is_placeholder() => {
                Ok(Some(match self.dataset.nearest_polygon(lon, lat, km) {
                    Some((polygon, distance)) => {
                        let mut snapped = self.owner_of_polygon(polygon, Some(distance));
                        snapped.note = Some(format!(
                            "in placeholder unit {}: snapped to the nearest real unit",
                            owner.unit
                        ));
                        snapped
                    }
                    None => owner,
                }))
            }
            (Some(owner), _) => Ok(Some(owner)),
            (None, None) => Ok(None),
            (None, Some(km)) => Ok(self
                .dataset
                .nearest_polygon(lon, lat, km)
                .map(|(polygon, distance)| self.owner_of_polygon(polygon, Some(distance)))),
        }
    }
}

impl crate::snapshot::DatasetModel {
    /// The polygon (topology index) containing a point; smallest unit id on borders.
    pub fn polygon_at(&self, lon: f64, lat: f64) -> Option<u32> {
        self.unit_at(lon, lat).and_then(|u| self.topo_of_unit[u as usize])
    }

    /// The nearest polygon within `max_km` of a point, with the distance in km; never a
    /// placeholder unit's.
    pub fn nearest_polygon(&self, lon: f64, lat: f64, max_km: f64) -> Option<(u32, f64)> {
        let point = Point::new(lon, lat);
        // A degree of latitude is ~111 km; a degree of longitude less, by cos(lat).
        let dy = max_km / 111.0;
        let dx = (max_km / (111.0 * lat.to_radians().cos().max(0.01))).min(360.0);
        let window = AABB::from_corners([lon - dx, lat - dy], [lon + dx, lat + dy]);
        self.tree
            .locate_in_envelope_intersecting(&window)
            .filter(|c| !is_placeholder_id(&self.units.get(self.unit_of_topo[c.index as usize]).id))
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

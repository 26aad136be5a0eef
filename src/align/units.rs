//! The units of a dataset as alignments see them: ids, kinds, metrics,
//! point-unit parents, and id normalisation for sheets and API calls.

use std::collections::{BTreeMap, HashMap};

use crate::feature::StoredUnit;
use crate::feature::UnitKind;

/// One unit of a dataset, by index.
#[derive(Debug, Clone)]
pub struct UnitInfo {
    /// Unit id (ZIP code, ...).
    pub id: String,
    /// Polygon or point unit.
    pub kind: UnitKind,
    /// For a point unit, the index of the polygon unit containing it.
    pub parent: Option<u32>,
    /// Numeric properties.
    pub metrics: BTreeMap<String, f64>,
    /// Text properties (names, city, state, ...).
    pub attributes: BTreeMap<String, String>,
}

/// The units of a dataset, indexed 0..n in id order.
#[derive(Debug, Clone, Default)]
pub struct UnitIndex {
    units: Vec<UnitInfo>,
    by_id: HashMap<String, u32>,
    /// Width of the ids when every id is the same number of ASCII digits (ZIP5: 5).
    digit_width: Option<usize>,
}

impl UnitIndex {
    /// Indexes stored units (any order); ids are sorted.
    pub fn new(stored: &[StoredUnit]) -> UnitIndex {
        let mut order: Vec<&StoredUnit> = stored.iter().collect();
        order.sort_by(|a, b| a.id.cmp(&b.id));
        let by_id: HashMap<String, u32> = order
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.clone(), i as u32))
            .collect();
        let units = order
            .iter()
            .map(|u| UnitInfo {
                id: u.id.clone(),
                kind: u.kind,
                parent: u.parent.as_ref().and_then(|p| by_id.get(p).copied()),
                metrics: u.properties.metrics.clone(),
                attributes: u.properties.attributes.clone(),
            })
            .collect();
        let first_width = order.first().map(|u| u.id.len());
        let digit_width = first_width.filter(|w| {
            order
                .iter()
                .all(|u| u.id.len() == *w && u.id.bytes().all(|b| b.is_ascii_digit()))
        });
        UnitIndex {
            units,
            by_id,
            digit_width,
        }
    }

    /// Indexes bare unit ids (polygon units without properties): enough to resolve ids
    /// against a dataset without loading its units.
    pub fn from_ids(ids: impl IntoIterator<Item = String>) -> UnitIndex {
        let stored: Vec<StoredUnit> = ids
            .into_iter()
            .map(|id| StoredUnit {
                id,
                kind: UnitKind::Polygon,
                parent: None,
                properties: Default::default(),
                geometry: geo::Point::new(0.0, 0.0).into(),
            })
            .collect();
        UnitIndex::new(&stored)
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether there are no units.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The unit at `index`.
    pub fn get(&self, index: u32) -> &UnitInfo {
        &self.units[index as usize]
    }

    /// All units in index order.
    pub fn iter(&self) -> impl Iterator<Item = &UnitInfo> {
        self.units.iter()
    }

    /// Finds a unit by id after normalising it: trimmed, ZIP+4 reduced to ZIP5,
    /// zero-padded when the dataset's ids are fixed-width digits.
    ///
    /// ```
    /// use geoalign::align::units::UnitIndex;
    /// # use geoalign::feature::StoredUnit;
    /// # let unit = |id: &str| StoredUnit { id: id.into(), kind: geoalign::feature::UnitKind::Polygon, parent: None,
    /// #     properties: Default::default(), geometry: geo::Point::new(0.0, 0.0).into() };
    /// let index = UnitIndex::new(&[unit("06001"), unit("06002")]);
    /// assert_eq!(index.resolve(" 6001 "), Some(0));
    /// assert_eq!(index.resolve("06002-1234"), Some(1));
    /// assert_eq!(index.resolve("99999"), None);
    /// ```
    pub fn resolve(&self, raw: &str) -> Option<u32> {
        let id = raw.trim();
        if let Some(&i) = self.by_id.get(id) {
            return Some(i);
        }
        let width = self.digit_width?;
        let digits = match id.split_once('-') {
            Some((head, plus4)) if plus4.len() == 4 && plus4.bytes().all(|b| b.is_ascii_digit()) => head,
            _ if id.len() == width + 4 && id.bytes().all(|b| b.is_ascii_digit()) => &id[..width],
            _ => id,
        };
        if digits.is_empty() || digits.len() > width || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.by_id.get(&format!("{digits:0>width$}")).copied()
    }
}

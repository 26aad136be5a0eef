//! Territory metrics: summed unit metrics, accounts, area, contiguity,
//! compactness, and the balance of a level (deviation from its mean).

use std::collections::BTreeMap;

use geo::{ChamberlainDuquetteArea, Haversine, Length, MultiPolygon};
use serde::Serialize;

/// What a planner balances territories by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TerritoryMetrics {
    /// Units owned (polygon and point units).
    pub units: usize,
    /// Every numeric unit metric, summed (but those averaged).
    pub sums: BTreeMap<String, f64>,
    /// The unit metrics the dataset averages (`--mean-weighted-by`): the mean of the
    /// units', weighted by another metric (Σ value × weight / Σ weight).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub means: BTreeMap<String, f64>,
    /// Accounts owned.
    pub accounts: usize,
    /// Every numeric account metric, summed.
    pub account_sums: BTreeMap<String, f64>,
    /// Area in km² (on the sphere).
    pub area_km2: f64,
    /// Perimeter in km (haversine).
    pub perimeter_km: f64,
    /// Number of separate parts (1 = contiguous).
    pub parts: usize,
    /// Polsby-Popper compactness 4πA/P², 1 for a circle.
    pub polsby_popper: f64,
}

impl TerritoryMetrics {
    /// Geometry-derived fields from a dissolved outline.
    pub fn shape(geometry: &MultiPolygon<f64>) -> (f64, f64, usize, f64) {
        let area_km2 = geometry.chamberlain_duquette_unsigned_area() / 1e6;
        let perimeter_km: f64 = geometry
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|ring| Haversine.length(ring))
            // From +0.0: an empty sum of f64 is -0.0, served as `-0.0` for empty territories.
            .fold(0.0, |total, length| total + length)
            / 1e3;
        let polsby_popper = if perimeter_km > 0.0 {
            4.0 * std::f64::consts::PI * area_km2 / (perimeter_km * perimeter_km)
        } else {
            0.0
        };
        (area_km2, perimeter_km, geometry.0.len(), polsby_popper)
    }

    /// The value of a named metric: a unit sum or weighted mean, an account sum, or
    /// `accounts`, `area_km2`, `units`.
    pub fn value(&self, name: &str) -> Option<f64> {
        match name {
            "units" => Some(self.units as f64),
            "accounts" => Some(self.accounts as f64),
            "area_km2" => Some(self.area_km2),
            _ => self
                .sums
                .get(name)
                .or_else(|| self.means.get(name))
                .or_else(|| self.account_sums.get(name))
                .copied(),
        }
    }
}

/// Balance of one metric across a level.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MetricSummary {
    /// Mean over the level's territories.
    pub mean: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Coefficient of variation (standard deviation / mean).
    pub cv: f64,
    /// Largest |value - mean| / mean.
    pub max_abs_deviation: f64,
}

/// Summarises each metric over `values` (one map per territory).
pub fn summarise(metrics: &[&TerritoryMetrics]) -> BTreeMap<String, MetricSummary> {
    let mut names: Vec<String> = vec!["units".into(), "accounts".into(), "area_km2".into()];
    for m in metrics {
        for name in m.sums.keys().chain(m.means.keys()).chain(m.account_sums.keys()) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let values: Vec<f64> = metrics.iter().map(|m| m.value(&name).unwrap_or(0.0)).collect();
            summary(&values).map(|s| (name, s))
        })
        .collect()
}

/// Relative deviation of each summarised metric of a territory from the level mean:
/// (value - mean) / mean, 0 where the mean is 0.
pub fn deviation(
    metrics: &TerritoryMetrics,
    summary: &BTreeMap<String, MetricSummary>,
) -> BTreeMap<String, f64> {
    summary
        .iter()
        .map(|(name, stats)| {
            let v = metrics.value(name).unwrap_or(0.0);
            let d = if stats.mean != 0.0 {
                (v - stats.mean) / stats.mean
            } else {
                0.0
            };
            (name.clone(), d)
        })
        .collect()
}

/// Summary statistics of a list of values, `None` when empty.
///
/// ```
/// let s = geoalign::align::metrics::summary(&[10.0, 20.0, 30.0]).unwrap();
/// assert_eq!((s.mean, s.min, s.max), (20.0, 10.0, 30.0));
/// assert!((s.max_abs_deviation - 0.5).abs() < 1e-12);
/// ```
pub fn summary(values: &[f64]) -> Option<MetricSummary> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let relative = |v: f64| if mean != 0.0 { v / mean } else { 0.0 };
    Some(MetricSummary {
        mean,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        cv: relative(variance.sqrt()),
        max_abs_deviation: values
            .iter()
            .map(|v| relative((v - mean).abs()))
            .fold(0.0, f64::max),
    })
}

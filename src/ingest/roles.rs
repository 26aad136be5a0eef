//! Which numeric fields are metrics (summed per territory) and which are attributes.
//!
//! Readers give every number as a metric. A number that names something (a FIPS code,
//! an id, a ZIP) or that is an average of something (a median income, a rate, a
//! coordinate) must not be summed per territory: `county_fips` summed to 180305, or a
//! median income summed over ZIPs, is a number no planner can use. Such fields become
//! attributes (the number kept as text), decided once per dataset from the field's
//! name, unless the user says otherwise (`--metric`, `--attribute`), or asks for the
//! average's territory value: `--mean-weighted-by median_income=households` keeps the
//! field a number and gives each territory the mean of its units weighted by another
//! metric (Σ income × households / Σ households). Codes written with leading zeros
//! (`01001`) are text already: the readers keep zero-padded numbers as text.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use crate::feature::{MAX_SUMMABLE, RawFeature, format_number};

/// The user's choices, which win over the rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleChoices {
    /// Numeric fields to sum whatever the rules say.
    pub metrics: Vec<String>,
    /// Fields to keep as attributes.
    pub attributes: Vec<String>,
    /// Fields averaged per territory, each weighted by a summed metric: `(field, weight)`.
    pub means: Vec<(String, String)>,
}

/// Why a numeric field is not summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSummed {
    /// Its name says it is a code or an id (`fips`, `id`, `code`, `zip`, `geoid`, ...).
    CodeName,
    /// Its name says it is an average, median, rate, share or coordinate.
    Average,
    /// The user asked (`--attribute`).
    Chosen,
    /// A value is beyond ±[`MAX_SUMMABLE`]: its sums would lose whole units or overflow.
    TooLarge,
}

impl NotSummed {
    fn as_str(self) -> &'static str {
        match self {
            NotSummed::CodeName => "a code by its name",
            NotSummed::Average => "an average, median, rate or coordinate: not summable",
            NotSummed::Chosen => "--attribute",
            NotSummed::TooLarge => "a value beyond ±2^53: its sums would overflow",
        }
    }
}

/// The role each field got, for the ingest summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldRoles {
    /// Numeric fields summed per territory.
    pub metrics: Vec<String>,
    /// Numeric fields kept as attributes, with the reason.
    pub not_summed: Vec<(String, NotSummed)>,
    /// Numeric fields averaged per territory, with their weight: `(field, weight)`.
    pub means: Vec<(String, String)>,
}

impl fmt::Display for FieldRoles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.metrics.is_empty() {
            write!(f, "no metrics")?;
        } else {
            write!(f, "metrics (summed) {}", self.metrics.join(", "))?;
        }
        if !self.means.is_empty() {
            let list: Vec<String> = self
                .means
                .iter()
                .map(|(name, weight)| format!("{name} (by {weight})"))
                .collect();
            write!(f, "; weighted means {}", list.join(", "))?;
        }
        if !self.not_summed.is_empty() {
            let list: Vec<String> = self
                .not_summed
                .iter()
                .map(|(name, why)| format!("{name} ({})", why.as_str()))
                .collect();
            write!(
                f,
                "; attributes, not summed: {} (--metric NAME to sum one, \
                 --mean-weighted-by NAME=WEIGHT to average one)",
                list.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Words in a field name that make it a code.
const CODE_WORDS: &[&str] = &[
    "id",
    "fips",
    "code",
    "zip",
    "zip5",
    "zip3",
    "zcta",
    "modzcta",
    "geoid",
    "fid",
    "gid",
    "oid",
    "objectid",
    "uid",
    "key",
    "statefp",
    "countyfp",
    "placefp",
    "tractce",
    "ansi",
    "gnis",
    "naics",
    "sic",
    "cbsa",
    "msa",
    "dma",
    "fips_code",
];
/// Words in a field name that make it an average (or otherwise not a quantity to add up).
const AVERAGE_WORDS: &[&str] = &[
    "median",
    "mean",
    "average",
    "avg",
    "rate",
    "ratio",
    "pct",
    "percent",
    "percentage",
    "share",
    "density",
    "index",
    "per",
    "lat",
    "lon",
    "lng",
    "latitude",
    "longitude",
    "x",
    "y",
    "elevation",
    "rank",
    "score",
    "year",
];

/// Decides the role of every numeric field of `features` and moves the fields that are
/// not summed from metrics to attributes (their numbers as text). `id_field` is left
/// alone (the id is taken out later).
pub fn apply(features: &mut [RawFeature], id_field: &str, choices: &RoleChoices) -> FieldRoles {
    let numeric: BTreeSet<&str> = features
        .iter()
        .flat_map(|f| f.properties.metrics.keys())
        .filter(|name| *name != id_field)
        .map(String::as_str)
        .collect();
    let mut roles = FieldRoles {
        means: choices.means.clone(),
        ..FieldRoles::default()
    };
    let too_large: BTreeSet<&str> = features
        .iter()
        .flat_map(|f| f.properties.metrics.iter())
        .filter(|(_, v)| v.abs() > MAX_SUMMABLE)
        .map(|(name, _)| name.as_str())
        .collect();
    for name in &numeric {
        if choices.means.iter().any(|(field, _)| field == name) {
            continue;
        }
        let role = if too_large.contains(name) {
            Some(NotSummed::TooLarge)
        } else {
            role(name, choices)
        };
        match role {
            None => roles.metrics.push((*name).to_owned()),
            Some(why) => roles.not_summed.push(((*name).to_owned(), why)),
        }
    }
    if !roles.not_summed.is_empty() {
        let moved: HashSet<&str> = roles.not_summed.iter().map(|(n, _)| n.as_str()).collect();
        for f in features.iter_mut() {
            let properties = &mut f.properties;
            let taken: Vec<(String, f64)> = properties
                .metrics
                .iter()
                .filter(|(n, _)| moved.contains(n.as_str()))
                .map(|(n, v)| (n.clone(), *v))
                .collect();
            for (name, value) in taken {
                properties.metrics.remove(&name);
                properties.attributes.insert(name, format_number(value));
            }
        }
    }
    roles
}

/// `None`: summed; else why not.
fn role(name: &str, choices: &RoleChoices) -> Option<NotSummed> {
    if choices.metrics.iter().any(|m| m == name) {
        return None;
    }
    if choices.attributes.iter().any(|a| a == name) {
        return Some(NotSummed::Chosen);
    }
    // Words without a trailing year or number (`GEOID10`, `pop2020`).
    let words: Vec<String> = words(name)
        .into_iter()
        .map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |list: &[&str]| {
        words.iter().any(|w| list.contains(&w.as_str()))
            || list
                .iter()
                .any(|l| l.len() >= 4 && words.last().is_some_and(|w| w.ends_with(l)))
    };
    if has(CODE_WORDS) {
        return Some(NotSummed::CodeName);
    }
    if has(AVERAGE_WORDS) {
        return Some(NotSummed::Average);
    }
    None
}

/// The lower-case words of a field name: split at `_`, `-`, spaces, dots and camel case.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::Properties;
    use std::collections::BTreeMap;

    fn feature(pairs: &[(&str, f64)]) -> RawFeature {
        let mut properties = Properties::default();
        for (name, value) in pairs {
            properties.number(name, *value);
        }
        RawFeature {
            index: 0,
            properties,
            geometry: None,
            defect: None,
            repairs: Vec::new(),
        }
    }

    #[test]
    fn codes_and_averages_are_not_summed() {
        let mut features: Vec<RawFeature> = (0..30)
            .map(|i| {
                feature(&[
                    ("population", 1000.0 + f64::from(i) * 7.0),
                    ("households", 400.0),
                    ("county_fips", 36061.0),
                    ("median_household_income", 50000.0 + f64::from(i)),
                    ("GEOID10", 1001.0 + f64::from(i)),
                    ("ALAND", 5_000_000.0 + f64::from(i) * 100_001.0),
                ])
            })
            .collect();
        let roles = apply(&mut features, "zip", &RoleChoices::default());
        assert_eq!(roles.metrics, ["ALAND", "households", "population"]);
        let why: BTreeMap<&str, NotSummed> = roles.not_summed.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        assert_eq!(why["county_fips"], NotSummed::CodeName);
        assert_eq!(why["GEOID10"], NotSummed::CodeName);
        assert_eq!(why["median_household_income"], NotSummed::Average);
        let p = &features[3].properties;
        assert_eq!(p.attributes["county_fips"], "36061");
        assert_eq!(p.attributes["median_household_income"], "50003");
        assert!(!p.metrics.contains_key("county_fips"));
        assert_eq!(p.metrics["population"], 1021.0);
        assert!(
            roles.to_string().contains("county_fips (a code by its name)"),
            "{roles}"
        );
    }

    #[test]
    fn the_users_choice_wins() {
        let mut features = vec![feature(&[("median_age", 40.0), ("population", 5.0)])];
        let choices = RoleChoices {
            metrics: vec!["median_age".into()],
            attributes: vec!["population".into()],
            means: Vec::new(),
        };
        let roles = apply(&mut features, "id", &choices);
        assert_eq!(roles.metrics, ["median_age"]);
        assert_eq!(roles.not_summed, [("population".to_owned(), NotSummed::Chosen)]);
        let mut features = vec![feature(&[("median_age", 40.0), ("population", 5.0)])];
        let choices = RoleChoices {
            means: vec![("median_age".into(), "population".into())],
            ..RoleChoices::default()
        };
        let roles = apply(&mut features, "id", &choices);
        assert_eq!(
            (roles.metrics.as_slice(), roles.not_summed.as_slice()),
            (&["population".to_owned()][..], &[][..])
        );
        assert_eq!(
            features[0].properties.metrics["median_age"], 40.0,
            "an averaged field stays a number"
        );
    }

    #[test]
    fn a_field_too_large_to_sum_is_an_attribute() {
        let mut features = vec![
            feature(&[("population", 5.0), ("bytes", 1e308)]),
            feature(&[("population", 7.0), ("bytes", 1e308)]),
        ];
        let choices = RoleChoices {
            metrics: vec!["bytes".into()],
            ..RoleChoices::default()
        };
        let roles = apply(&mut features, "id", &choices);
        assert_eq!(roles.metrics, ["population"]);
        assert_eq!(roles.not_summed, [("bytes".to_owned(), NotSummed::TooLarge)]);
        assert_eq!(features[1].properties.attributes["bytes"], format_number(1e308));
        assert!(
            roles.to_string().contains("bytes (a value beyond ±2^53"),
            "{roles}"
        );
    }

    #[test]
    fn words_split_at_case_and_separators() {
        assert_eq!(words("medianHouseholdIncome"), ["median", "household", "income"]);
        assert_eq!(words("COUNTY_FIPS"), ["county", "fips"]);
        assert_eq!(words("pop2020"), ["pop2020"]);
        assert_eq!(words("ZipCode"), ["zip", "code"]);
    }
}

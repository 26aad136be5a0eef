//! Address to owner, by a ladder of match levels: address points (see
//! [`super::address`], which needs the store), then the postal code parsed from
//! the text, else a city (and state) match against the dataset's unit attributes.
//! Each answer names the level it matched at and the point it used.

use geo::InteriorPoint;
use serde::Serialize;

use super::Owner;
use crate::feature::UnitKind;
use crate::snapshot::Snapshot;

/// Postal code formats the parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Country {
    /// US ZIP5 and ZIP+4 (`10001`, `10001-1234`).
    Us,
    /// UK postcodes (`SW1A 1AA`): the dataset ids are full postcodes or districts.
    Uk,
    /// Canadian postal codes (`K1A 0B1`).
    Ca,
    /// German Postleitzahlen (five digits).
    De,
}

impl std::str::FromStr for Country {
    type Err = String;
    fn from_str(s: &str) -> Result<Country, String> {
        match s.to_ascii_lowercase().as_str() {
            "us" => Ok(Country::Us),
            "uk" | "gb" => Ok(Country::Uk),
            "ca" => Ok(Country::Ca),
            "de" => Ok(Country::De),
            other => Err(format!("unknown country '{other}' (us, uk, ca, de)")),
        }
    }
}

/// What the parser understood of an address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Understood {
    /// House number, when the text starts with a number and a street.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Normalised street name that follows the number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    /// Postal code found (normalised: ZIP5, `SW1A 1AA`, `K1A 0B1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// City, when a `City, ST` pattern was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State or province.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// The level an address matched at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchLevel {
    /// By an address point (house number on a street).
    Address,
    /// By the postal code in the text.
    PostalCode,
    /// By city (and state).
    City,
}

/// A geocoded address and its owner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Geocoded {
    /// How it matched.
    #[serde(rename = "match")]
    pub level: MatchLevel,
    /// What was understood of the text.
    pub understood: Understood,
    /// The point used: [lon, lat].
    pub point: [f64; 2],
    /// The owner of that point's unit.
    pub owner: Owner,
    /// The address point matched (address level only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<crate::store::AddressPoint>,
    /// What was approximated (street spelling, nearest house number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Geocoded {
    /// This match as `other`, a plan on the same dataset, owns it: the point, the unit
    /// and the notes stay; the owning chain and reps are `other`'s.
    pub fn owned_by(&self, other: &Snapshot) -> Geocoded {
        let mut found = self.clone();
        if let Some(unit) = other.dataset.units.resolve(&self.owner.unit) {
            let owner = other.owner_of_unit(unit);
            (found.owner.levels, found.owner.reps) = (owner.levels, owner.reps);
        }
        found
    }
}

/// Parses the postal code and city of an address.
///
/// ```
/// use geoalign::lookup::geocode::{parse, Country};
/// let u = parse("350 5th Ave, New York, NY 10118-0110", Country::Us);
/// assert_eq!(u.postal_code.as_deref(), Some("10118"));
/// assert_eq!((u.city.as_deref(), u.state.as_deref()), (Some("New York"), Some("NY")));
/// assert_eq!(parse("10 Downing St, London SW1A 2AA", Country::Uk).postal_code.as_deref(), Some("SW1A 2AA"));
/// assert_eq!(parse("24 Sussex Dr, Ottawa ON k1m1m4", Country::Ca).postal_code.as_deref(), Some("K1M 1M4"));
/// assert_eq!(parse("Unter den Linden 1, 10117 Berlin", Country::De).postal_code.as_deref(), Some("10117"));
/// ```
pub fn parse(text: &str, country: Country) -> Understood {
    let upper = text.to_ascii_uppercase();
    let tokens: Vec<&str> = upper
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|t| !t.is_empty())
        .collect();
    let postal_code = match country {
        Country::Us => tokens.iter().rev().find_map(|t| us_zip(t)),
        Country::De => tokens
            .iter()
            .rev()
            .find(|t| t.len() == 5 && t.bytes().all(|b| b.is_ascii_digit()))
            .map(|t| (*t).to_owned()),
        Country::Uk => pairs(&tokens).find_map(|(a, b)| uk_postcode(a, b)),
        Country::Ca => tokens
            .iter()
            .find_map(|t| ca_postcode(t))
            .or_else(|| pairs(&tokens).find_map(|(a, b)| ca_postcode(&format!("{a}{b}")))),
    };
    let street = super::address::parse_street(text);
    let (city, state) = city_state(street.as_ref().and_then(|s| s.rest.as_deref()).unwrap_or(text));
    Understood {
        number: street.as_ref().map(|s| s.number.clone()),
        street: street.map(|s| s.street),
        postal_code,
        city,
        state,
    }
}

fn pairs<'a>(tokens: &'a [&'a str]) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
    tokens.windows(2).rev().map(|w| (w[0], w[1]))
}

fn us_zip(token: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match token.split_once('-') {
        Some((zip, plus4)) if digits(zip, 5) && digits(plus4, 4) => Some(zip.to_owned()),
        None if digits(token, 5) => Some(token.to_owned()),
        None if digits(token, 9) => Some(token[..5].to_owned()),
        _ => None,
    }
}

fn uk_postcode(outward: &str, inward: &str) -> Option<String> {
    let out_ok = (2..=4).contains(&outward.len())
        && outward.starts_with(|c: char| c.is_ascii_alphabetic())
        && outward.bytes().any(|b| b.is_ascii_digit())
        && outward.bytes().all(|b| b.is_ascii_alphanumeric());
    let b = inward.as_bytes();
    let in_ok =
        b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic();
    (out_ok && in_ok).then(|| format!("{outward} {inward}"))
}

fn ca_postcode(token: &str) -> Option<String> {
    let b = token.as_bytes();
    let ok = b.len() == 6
        && b.iter().enumerate().all(|(i, c)| {
            if i % 2 == 0 {
                c.is_ascii_alphabetic()
            } else {
                c.is_ascii_digit()
            }
        });
    ok.then(|| format!("{} {}", &token[..3], &token[3..]))
}

/// US state, district and territory codes (USPS).
const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS",
    "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC",
    "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
];

/// `..., City, ST 12345` or `..., City ST`: the part before the last comma-separated
/// state token (a USPS state code: `Rd` in `1 Fake Rd` is not one). Without a state,
/// the last comma-separated part without digits after a first part (`1 Fake Rd,
/// Springfield`), or the whole text when it is one such part.
fn city_state(text: &str) -> (Option<String>, Option<String>) {
    let parts: Vec<&str> = text.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    let is_state = |t: &str| US_STATES.iter().any(|s| s.eq_ignore_ascii_case(t));
    let no_digits = |t: &str| !t.bytes().any(|b| b.is_ascii_digit());
    for (i, part) in parts.iter().enumerate().rev() {
        let words: Vec<&str> = part.split_whitespace().filter(|w| us_zip(w).is_none()).collect();
        match words.as_slice() {
            [state] if is_state(state) && i > 0 && no_digits(parts[i - 1]) => {
                return (Some(parts[i - 1].to_owned()), Some(state.to_ascii_uppercase()));
            }
            [city @ .., state]
                if is_state(state) && !city.is_empty() && city.iter().all(|w| no_digits(w)) =>
            {
                return (Some(city.join(" ")), Some(state.to_ascii_uppercase()));
            }
            _ => {}
        }
    }
    match parts.as_slice() {
        [only] if no_digits(only) => (Some((*only).to_owned()), None),
        [_, .., last] if no_digits(last) => (Some((*last).to_owned()), None),
        _ => (None, None),
    }
}

impl Snapshot {
    /// Geocodes an address to its owner; `Err` carries what was understood.
    pub fn geocode(&self, text: &str, country: Country) -> Result<Geocoded, Understood> {
        let understood = parse(text, country);
        let units = &self.dataset.units;
        let by_code = understood
            .postal_code
            .as_deref()
            .and_then(|code| units.resolve(code));
        let mut note = None;
        let (level, unit) = match by_code {
            Some(u) => (MatchLevel::PostalCode, u),
            None if understood.postal_code.is_none() => match self.city_units(&understood) {
                Some((u, spans)) => {
                    note = Some(self.city_note(&understood, u, &spans));
                    (MatchLevel::City, u)
                }
                None => return Err(understood),
            },
            None => return Err(understood),
        };
        let info = units.get(unit);
        // A point unit (PO box) is located by its point and, unless assigned
        // explicitly, owned through the polygon containing it.
        let point = match (info.kind, self.dataset.topo_of_unit[unit as usize]) {
            (UnitKind::Polygon, Some(t)) => self.dataset.polygons[t as usize].interior_point(),
            _ => self.dataset.points.get(&unit).copied(),
        };
        let Some(point) = point else {
            return Err(understood);
        };
        Ok(Geocoded {
            level,
            understood,
            point: [point.x(), point.y()],
            owner: self.owner_of_unit(unit),
            address: None,
            note,
        })
    }

    /// Says that the match is a whole city and which territories it spans.
    fn city_note(&self, understood: &Understood, unit: u32, units: &[u32]) -> String {
        let city = match (&understood.city, &understood.state) {
            (Some(c), Some(s)) => format!("{c}, {s}"),
            (Some(c), None) => c.clone(),
            _ => String::new(),
        };
        let leaf = &self.state.levels[0];
        let mut territories: Vec<&str> = units
            .iter()
            .filter_map(|&u| self.state.owner(&self.dataset.units, u))
            .collect();
        territories.sort();
        territories.dedup();
        let id = &self.dataset.units.get(unit).id;
        let spans = match territories.len() {
            0 => "no territory owns any of them".to_owned(),
            1 => format!("all in {leaf} {}", territories[0]),
            n => format!("it spans {n} {leaf} codes: {}", territories.join(", ")),
        };
        format!(
            "matched the city {city} only, not an address: its {} unit(s); the answer is its most populous unit {id}; {spans}",
            units.len()
        )
    }

    /// The units whose `city` (and `state`) attributes match, and the most populous
    /// of them (placeholders never).
    fn city_units(&self, understood: &Understood) -> Option<(u32, Vec<u32>)> {
        let city = understood.city.as_deref()?.trim();
        let units = &self.dataset.units;
        let matching: Vec<u32> = units
            .iter()
            .enumerate()
            .filter(|(_, u)| {
                !crate::feature::is_placeholder_id(&u.id)
                    && u.attributes
                        .get("city")
                        .is_some_and(|c| c.eq_ignore_ascii_case(city))
                    && understood.state.as_deref().is_none_or(|s| {
                        u.attributes
                            .get("state")
                            .is_some_and(|us| us.eq_ignore_ascii_case(s))
                    })
            })
            .map(|(i, _)| i as u32)
            .collect();
        let pop = |u: u32| units.get(u).metrics.get("population").copied().unwrap_or(0.0);
        let best = matching
            .iter()
            .copied()
            .max_by(|&a, &b| pop(a).total_cmp(&pop(b)).then(b.cmp(&a)))?;
        Some((best, matching))
    }
}

//! Level 1 of the geocoding ladder: street addresses against the dataset's
//! address points. The number and street are parsed from the text, candidate
//! streets come from the store (exact normalised name, then FTS5 trigrams), and
//! the best is chosen by edit distance between normalised names (digits and
//! directionals must agree), then by locality (postcode or city, when given),
//! then by house number: the exact number, else the nearest on that street, with
//! a note saying so.

use serde::Serialize;

use super::geocode::{Country, Geocoded, MatchLevel, Understood, parse};
use crate::snapshot::Snapshot;
use crate::store::StoreError;
use crate::store::{AddressPoint, Store};
use crate::text::street::{is_suffix, normalize};

/// Why an address could not be geocoded.
#[derive(Debug, thiserror::Error)]
pub enum GeocodeError {
    /// No level of the ladder matched; carries what was understood.
    #[error("no unit matches '{text}' (understood: {})", serde_json::to_string(.understood).unwrap_or_default())]
    NotFound {
        /// The text as given.
        text: String,
        /// What the parser understood.
        understood: Box<Understood>,
    },
    /// The address points could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A house number and street parsed from free text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreetAddress {
    /// House number as written (`350`, `37-02`, `12A`).
    pub number: String,
    /// Normalised street name.
    pub street: String,
    /// Without commas, the words after the street (city, state, ZIP).
    #[serde(skip)]
    pub rest: Option<String>,
}

/// Unit designators whose value follows them (`Apt 5`, `Suite 100`).
const UNIT_WORDS: &[&str] = &[
    "APT",
    "APARTMENT",
    "SUITE",
    "STE",
    "UNIT",
    "FL",
    "FLOOR",
    "RM",
    "ROOM",
];

/// Parses the house number and street out of an address.
///
/// ```
/// use geoalign::lookup::address::parse_street;
/// let a = parse_street("350 Fifth Avenue, New York, NY 10118").unwrap();
/// assert_eq!((a.number.as_str(), a.street.as_str()), ("350", "5TH AVE"));
/// let b = parse_street("20 W 34th St Apt 4 New York NY 10001").unwrap();
/// assert_eq!((b.number.as_str(), b.street.as_str()), ("20", "W 34TH ST"));
/// assert_eq!(parse_street("37-02 90th St, Queens").unwrap().number, "37-02");
/// assert_eq!(parse_street("PO Box 123, New York, NY 10008"), None);
/// assert_eq!(parse_street("Brooklyn, NY"), None);
/// assert_eq!(parse_street("10001"), None);
/// ```
pub fn parse_street(text: &str) -> Option<StreetAddress> {
    let upper = text.to_ascii_uppercase().replace('.', "");
    if upper.contains("PO BOX") || upper.contains("POST OFFICE BOX") {
        return None;
    }
    let first = upper.split(',').map(str::trim).find(|p| !p.is_empty())?;
    let tokens: Vec<&str> = first.split_whitespace().collect();
    let (number, rest) = tokens.split_first()?;
    let is_number = number.starts_with(|c: char| c.is_ascii_digit())
        && number
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/');
    if !is_number || rest.is_empty() {
        return None;
    }
    // Stop at a unit designator; without a comma, also after the last suffix
    // (what follows is the city).
    let mut street: Vec<&str> = Vec::new();
    for t in rest {
        if t.starts_with('#') || UNIT_WORDS.contains(t) {
            break;
        }
        street.push(t);
    }
    let mut after = None;
    if !text.contains(',') {
        if let Some(last) = street.iter().rposition(|t| is_suffix(t))
            && last > 0
        {
            // A trailing directional ("Park Ave S") is part of the street only with commas.
            street.truncate(last + 1);
        }
        let mut tail = rest[street.len()..].iter().peekable();
        if tail.next_if(|t| UNIT_WORDS.contains(t)).is_some() {
            tail.next();
        }
        let tail: Vec<&str> = tail.skip_while(|t| t.starts_with('#')).copied().collect();
        after = Some(tail.join(" "));
    }
    let street = normalize(&street.join(" "));
    (!street.is_empty()).then(|| StreetAddress {
        number: (*number).to_owned(),
        street,
        rest: after,
    })
}

/// The digits of a string, in order (`W 34TH ST` → `34`).
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// The directional tokens of a normalised street.
fn directionals(s: &str) -> Vec<&str> {
    s.split(' ')
        .filter(|t| matches!(*t, "N" | "S" | "E" | "W" | "NE" | "NW" | "SE" | "SW"))
        .collect()
}

/// Edit distance between two normalised streets, or `None` when they cannot be
/// the same street: numbers in names and directionals given on both sides must
/// agree, and at most a quarter of the query's letters may differ.
///
/// ```
/// use geoalign::lookup::address::street_distance;
/// assert_eq!(street_distance("BROADWY", "BROADWAY"), Some(1));
/// assert_eq!(street_distance("W 34TH ST", "W 35TH ST"), None);
/// assert_eq!(street_distance("W 34TH ST", "E 34TH ST"), None);
/// assert_eq!(street_distance("5TH ST", "5TH AVE"), None);
/// ```
pub fn street_distance(query: &str, candidate: &str) -> Option<usize> {
    if digits(query) != digits(candidate) {
        return None;
    }
    let (q, c) = (directionals(query), directionals(candidate));
    if !q.is_empty() && !c.is_empty() && q != c {
        return None;
    }
    let d = strsim::levenshtein(query, candidate);
    (d <= (query.len() / 4).max(1)).then_some(d)
}

/// Leading digits of a house number (`12A` → 12, `37-02` → 37).
fn house_number(n: &str) -> Option<u64> {
    let lead: String = n.chars().take_while(char::is_ascii_digit).collect();
    lead.parse().ok()
}

/// An address point chosen for a query, with a note when it is not exact.
#[derive(Debug, Clone, PartialEq)]
pub struct AddressMatch {
    /// The address point.
    pub point: AddressPoint,
    /// What was approximated (street spelling, house number).
    pub note: Option<String>,
}

/// Chooses among the points of the closest candidate streets: those in the
/// given postcode or city (when the text names any), then the exact number,
/// else the nearest number.
pub fn choose(
    query: &StreetAddress,
    understood: &Understood,
    points: &[AddressPoint],
) -> Option<AddressMatch> {
    let local = |p: &&AddressPoint| {
        let zip = understood.postal_code.as_deref();
        let city = understood.city.as_deref();
        (zip.is_none() && city.is_none())
            || zip.is_some_and(|z| p.postcode.eq_ignore_ascii_case(z))
            || city.is_some_and(|c| p.city.eq_ignore_ascii_case(c.trim()))
    };
    let near: Vec<&AddressPoint> = points.iter().filter(local).collect();
    let mut notes = Vec::new();
    let point = match near.iter().find(|p| p.number.eq_ignore_ascii_case(&query.number)) {
        Some(p) => *p,
        None => {
            let wanted = house_number(&query.number)?;
            let p = near
                .iter()
                .filter_map(|p| Some((*p, house_number(&p.number)?)))
                .min_by_key(|(p, n)| (n.abs_diff(wanted), n % 2 != wanted % 2, p.number.clone()))?
                .0;
            notes.push(format!(
                "no number {} on {}; nearest is {}",
                query.number, p.street_norm, p.number
            ));
            p
        }
    };
    if point.street_norm != query.street {
        notes.insert(
            0,
            format!("street '{}' matched as '{}'", query.street, point.street_norm),
        );
    }
    Some(AddressMatch {
        point: point.clone(),
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

impl Snapshot {
    /// Geocodes with the whole ladder: address points (when the dataset has
    /// any), then postal code, then city.
    pub fn geocode_with(
        &self,
        store: &Store,
        text: &str,
        country: Country,
    ) -> Result<Geocoded, GeocodeError> {
        let understood = parse(text, country);
        if let Some(hit) = self.address_level(store, &understood)? {
            return Ok(hit);
        }
        self.geocode(text, country)
            .map_err(|understood| GeocodeError::NotFound {
                text: text.to_owned(),
                understood: Box::new(understood),
            })
    }

    fn address_level(&self, store: &Store, understood: &Understood) -> Result<Option<Geocoded>, StoreError> {
        let (Some(number), Some(street)) = (&understood.number, &understood.street) else {
            return Ok(None);
        };
        let dataset = &self.dataset.name;
        if !store.has_addresses(dataset)? {
            return Ok(None);
        }
        let query = StreetAddress {
            number: number.clone(),
            street: street.clone(),
            rest: None,
        };
        let mut scored: Vec<(usize, i64)> = store
            .street_candidates(dataset, &query.street)?
            .into_iter()
            .filter_map(|(id, norm)| Some((street_distance(&query.street, &norm)?, id)))
            .collect();
        scored.sort_unstable();
        // Closest spelling first; a farther one only when the closer has no local point.
        let mut distances: Vec<usize> = scored.iter().map(|(d, _)| *d).collect();
        distances.dedup();
        for d in distances {
            let mut points = Vec::new();
            for (_, id) in scored.iter().filter(|(x, _)| *x == d) {
                points.extend(store.addresses_on(*id)?);
            }
            let Some(found) = choose(&query, understood, &points) else {
                continue;
            };
            let Ok(Some(owner)) = self.lookup(found.point.lon, found.point.lat, Some(ADDRESS_SNAP_KM)) else {
                continue;
            };
            return Ok(Some(Geocoded {
                level: MatchLevel::Address,
                understood: understood.clone(),
                point: [found.point.lon, found.point.lat],
                owner,
                address: Some(found.point),
                note: found.note,
            }));
        }
        Ok(None)
    }
}

/// An address point just outside every unit (a pier, a coastline simplified
/// away) is owned by the nearest unit within this distance.
pub const ADDRESS_SNAP_KM: f64 = 0.2;

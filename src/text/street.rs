//! Street-name normalisation, applied alike to stored address points and to the
//! text being geocoded so that spellings of one street compare equal: upper case,
//! no punctuation, USPS suffix and directional abbreviations, and ordinals as
//! digits with their suffix ("Fifth" and "5" before a suffix both become `5TH`).

/// USPS street suffixes (Publication 28) as (spelling, abbreviation).
const SUFFIXES: &[(&str, &str)] = &[
    ("STREET", "ST"),
    ("STR", "ST"),
    ("AVENUE", "AVE"),
    ("AV", "AVE"),
    ("AVEN", "AVE"),
    ("ROAD", "RD"),
    ("BOULEVARD", "BLVD"),
    ("BOUL", "BLVD"),
    ("DRIVE", "DR"),
    ("DRIV", "DR"),
    ("LANE", "LN"),
    ("COURT", "CT"),
    ("PLACE", "PL"),
    ("PARKWAY", "PKWY"),
    ("PKY", "PKWY"),
    ("HIGHWAY", "HWY"),
    ("TERRACE", "TER"),
    ("CIRCLE", "CIR"),
    ("SQUARE", "SQ"),
    ("EXPRESSWAY", "EXPY"),
    ("TURNPIKE", "TPKE"),
    ("TRAIL", "TRL"),
    ("ALLEY", "ALY"),
    ("PLAZA", "PLZ"),
    ("WAY", "WAY"),
];

/// Abbreviated suffixes, for recognising a token that is already short.
const SHORT_SUFFIXES: &[&str] = &[
    "ST", "AVE", "RD", "BLVD", "DR", "LN", "CT", "PL", "PKWY", "HWY", "TER", "CIR", "SQ", "EXPY", "TPKE",
    "TRL", "ALY", "PLZ", "WAY",
];

const DIRECTIONALS: &[(&str, &str)] = &[
    ("NORTH", "N"),
    ("SOUTH", "S"),
    ("EAST", "E"),
    ("WEST", "W"),
    ("NORTHEAST", "NE"),
    ("NORTHWEST", "NW"),
    ("SOUTHEAST", "SE"),
    ("SOUTHWEST", "SW"),
];

const ORDINAL_WORDS: &[&str] = &[
    "FIRST",
    "SECOND",
    "THIRD",
    "FOURTH",
    "FIFTH",
    "SIXTH",
    "SEVENTH",
    "EIGHTH",
    "NINTH",
    "TENTH",
    "ELEVENTH",
    "TWELFTH",
    "THIRTEENTH",
    "FOURTEENTH",
    "FIFTEENTH",
    "SIXTEENTH",
    "SEVENTEENTH",
    "EIGHTEENTH",
    "NINETEENTH",
    "TWENTIETH",
];

/// Whether a normalised token is a street suffix (`ST`, `AVE`, ...).
pub fn is_suffix(token: &str) -> bool {
    SHORT_SUFFIXES.contains(&token) || SUFFIXES.iter().any(|(long, _)| *long == token)
}

/// `5` → `5TH`, `1` → `1ST`, `22` → `22ND`, `13` → `13TH`.
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "TH",
        (1, _) => "ST",
        (2, _) => "ND",
        (3, _) => "RD",
        _ => "TH",
    };
    format!("{n}{suffix}")
}

/// One token: suffix, directional or ordinal form; `before_suffix` says whether a
/// suffix follows, which makes a bare number an ordinal (`5 AVENUE` → `5TH AVE`).
fn token(word: &str, before_suffix: bool, alone: bool) -> String {
    if let Some((_, short)) = SUFFIXES.iter().find(|(long, _)| *long == word) {
        return (*short).to_owned();
    }
    // "North Street": a directional that is the whole name stays a word.
    if !alone && let Some((_, short)) = DIRECTIONALS.iter().find(|(long, _)| *long == word) {
        return (*short).to_owned();
    }
    if word == "SAINT" {
        return "ST".to_owned();
    }
    if let Some(i) = ORDINAL_WORDS.iter().position(|w| *w == word) {
        return ordinal(i as u32 + 1);
    }
    if let Ok(n) = word.parse::<u32>()
        && before_suffix
    {
        return ordinal(n);
    }
    // "34th", "1st": canonical suffix for the digits (fixes "3th", "22th").
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if !digits.is_empty()
        && digits.len() < word.len()
        && matches!(&word[digits.len()..], "ST" | "ND" | "RD" | "TH")
        && let Ok(n) = digits.parse::<u32>()
    {
        return ordinal(n);
    }
    word.to_owned()
}

/// Normalises a street name.
///
/// ```
/// use geoalign::text::street::normalize;
/// assert_eq!(normalize("West 34th Street"), "W 34TH ST");
/// assert_eq!(normalize("WEST 34 STREET"), "W 34TH ST");
/// assert_eq!(normalize("w. 34th st."), "W 34TH ST");
/// assert_eq!(normalize("Fifth Avenue"), "5TH AVE");
/// assert_eq!(normalize("5 AVENUE"), "5TH AVE");
/// assert_eq!(normalize("N Main St"), normalize("North Main Street"));
/// assert_eq!(normalize("Southwest Oak Blvd"), "SW OAK BLVD");
/// assert_eq!(normalize("North Street"), "NORTH ST");
/// assert_eq!(normalize("Saint Mark's Place"), "ST MARKS PL");
/// assert_eq!(normalize("Pacific Coast Hwy"), normalize("Pacific Coast Highway"));
/// assert_eq!(normalize("  Broadway "), "BROADWAY");
/// ```
pub fn normalize(street: &str) -> String {
    let cleaned: String = street
        .chars()
        .filter(|c| *c != '\'' && *c != '.')
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                ' '
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let suffix_at: Vec<bool> = words.iter().map(|w| is_suffix(w)).collect();
    // Words that are neither suffixes nor directionals: when there is none, a
    // directional is the name itself.
    let named = words
        .iter()
        .zip(&suffix_at)
        .filter(|(w, s)| !**s && !DIRECTIONALS.iter().any(|(l, a)| l == *w || a == *w))
        .count();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| token(w, suffix_at.get(i + 1).copied().unwrap_or(false), named == 0))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_get_their_english_suffix() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111].map(ordinal).into();
        assert_eq!(
            got,
            [
                "1ST", "2ND", "3RD", "4TH", "11TH", "12TH", "13TH", "21ST", "22ND", "23RD", "101ST", "111TH"
            ]
        );
        assert_eq!(normalize("E 22th St"), "E 22ND ST");
    }

    #[test]
    fn directionals_and_suffixes_both_ways() {
        assert_eq!(normalize("SW 8th Street"), normalize("Southwest Eighth St"));
        assert_eq!(normalize("Ocean Pkwy"), normalize("Ocean Parkway"));
        assert_eq!(normalize("Sunset Boulevard"), "SUNSET BLVD");
        assert_eq!(normalize("Park Avenue South"), "PARK AVE S");
        assert_eq!(normalize("Avenue A"), "AVE A");
        assert_ne!(normalize("W 34th St"), normalize("E 34th St"));
    }
}

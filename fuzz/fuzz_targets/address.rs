//! Address parsing (free text, every country) and street matching: never a panic.
#![no_main]
use geoalign::lookup::geocode::{Country, parse};
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for country in [Country::Us, Country::Uk, Country::Ca, Country::De] {
        let _ = parse(&text, country);
    }
    let _ = geoalign::lookup::address::parse_street(&text);
    let middle = (0..=text.len() / 2)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    let (a, b) = text.split_at(middle);
    let _ = geoalign::lookup::address::street_distance(a, b);
});

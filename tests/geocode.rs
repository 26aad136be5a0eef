//! Street-level geocoding on the NYC sample with the Midtown address fixture
//! (tests/fixtures/nyc_addresses.csv), address ingest errors, batches and accounts.

mod common;

use common::sample_engine;
use geoalign::engine::Engine;
use geoalign::error::AddressError;
use geoalign::ingest::addresses::ingest_addresses;
use geoalign::lookup::address::GeocodeError;
use geoalign::lookup::geocode::{Country, MatchLevel};

/// The sample engine with the address fixture stored under its dataset.
fn engine_with_addresses() -> (tempfile::TempDir, Engine) {
    let (dir, engine) = sample_engine();
    let report = ingest_addresses(
        engine.store(),
        &common::fixture("nyc_addresses.csv"),
        geoalign::demo::DATASET,
        false,
    )
    .expect("address fixture");
    assert!(report.points > 3000 && report.streets > 90, "{report}");
    (dir, engine)
}

/// The fixture row for a number on a street as written in the file.
fn fixture_point(number: &str, street: &str) -> (f64, f64, String) {
    let mut reader = csv::Reader::from_path(common::fixture("nyc_addresses.csv")).unwrap();
    reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[2] == number && &r[3] == street)
        .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap(), r[8].to_owned()))
        .unwrap_or_else(|| panic!("{number} {street} not in the fixture"))
}

#[test]
fn exact_address_matches_its_point_and_owner() {
    let (_dir, engine) = engine_with_addresses();
    let s = engine.snapshot("nyc").unwrap();
    let store = engine.store();
    let hit = s
        .geocode_with(store, "350 5th Ave, New York, NY 10001", Country::Us)
        .unwrap();
    assert_eq!(hit.level, MatchLevel::Address);
    let (lon, lat, zip) = fixture_point("350", "5 AVENUE");
    assert_eq!(hit.point, [lon, lat]);
    let address = hit.address.as_ref().unwrap();
    assert_eq!(
        (address.number.as_str(), address.street.as_str()),
        ("350", "5 AVENUE")
    );
    assert_eq!(hit.note, None);
    let owner = s.lookup(lon, lat, None).unwrap().unwrap();
    assert_eq!(
        (hit.owner.unit.as_str(), zip.as_str()),
        (owner.unit.as_str(), "10001")
    );
    assert_eq!(hit.owner.levels["territory"], "T1000");
    assert_eq!(hit.owner.reps, owner.reps);
}

#[test]
fn suffix_directional_and_ordinal_spellings_agree() {
    let (_dir, engine) = engine_with_addresses();
    let s = engine.snapshot("nyc").unwrap();
    let store = engine.store();
    let (lon, lat, _) = fixture_point("101", "EAST 42 STREET");
    for text in [
        "101 E 42nd St, New York, NY",
        "101 East 42nd Street, New York, NY",
        "101 E. 42 St., New York NY 10017",
        "101 east 42ND STREET New York NY",
    ] {
        let hit = s
            .geocode_with(store, text, Country::Us)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(hit.level, MatchLevel::Address, "{text}");
        assert_eq!(hit.point, [lon, lat], "{text}");
        assert_eq!(hit.note, None, "{text}");
    }
    // Fifth spelt out, and West/W, both reach the same points.
    let fifth = s
        .geocode_with(store, "350 Fifth Avenue, New York, NY", Country::Us)
        .unwrap();
    let (lon, lat, _) = fixture_point("350", "5 AVENUE");
    assert_eq!((fifth.level, fifth.point), (MatchLevel::Address, [lon, lat]));
    let west = s
        .geocode_with(store, "50 West 34th Street, New York, NY", Country::Us)
        .unwrap();
    let w = s
        .geocode_with(store, "50 W 34 St, New York, NY", Country::Us)
        .unwrap();
    assert_eq!((west.level, west.point), (MatchLevel::Address, w.point));
    // East and West 34th are different streets.
    let east = s
        .geocode_with(store, "50 E 34th St, New York, NY", Country::Us)
        .unwrap();
    assert_ne!(east.point, west.point);
}

#[test]
fn misspelt_street_and_missing_number_match_with_a_note() {
    let (_dir, engine) = engine_with_addresses();
    let s = engine.snapshot("nyc").unwrap();
    let store = engine.store();
    let (lon, lat, _) = fixture_point("1330", "BROADWAY");
    let hit = s
        .geocode_with(store, "1330 Broadwy, New York, NY 10001", Country::Us)
        .unwrap();
    assert_eq!((hit.level, hit.point), (MatchLevel::Address, [lon, lat]));
    let note = hit.note.unwrap();
    assert!(note.contains("'BROADWY' matched as 'BROADWAY'"), "{note}");
    let lex = s
        .geocode_with(store, "150 Lexingtn Ave, New York, NY", Country::Us)
        .unwrap();
    assert_eq!(lex.address.unwrap().street, "LEXINGTON AVENUE");

    // 20 W 34th St is not in the fixture (numbers 1, 50, 51, ...): the nearest is 1.
    let near = s
        .geocode_with(store, "20 W 34th St, New York, NY 10001", Country::Us)
        .unwrap();
    assert_eq!(near.level, MatchLevel::Address);
    assert_eq!(near.address.as_ref().unwrap().number, "1");
    assert_eq!(
        near.note.as_deref(),
        Some("no number 20 on W 34TH ST; nearest is 1")
    );
    assert_eq!(near.point, {
        let p = fixture_point("1", "WEST 34 STREET");
        [p.0, p.1]
    });
}

#[test]
fn the_ladder_falls_through_to_postal_code_and_city() {
    let (_dir, engine) = engine_with_addresses();
    let s = engine.snapshot("nyc").unwrap();
    let store = engine.store();
    // ZIP+4 with a street the fixture lacks: postal code level, ZIP5 understood.
    let zip4 = s
        .geocode_with(store, "1 Main St, New York, NY 10118-0110", Country::Us)
        .unwrap();
    assert_eq!(
        (zip4.level, zip4.owner.unit.as_str()),
        (MatchLevel::PostalCode, "10118")
    );
    assert_eq!(zip4.understood.street.as_deref(), Some("MAIN ST"));
    // The same street address with a ZIP+4 still matches the address point.
    let addr4 = s
        .geocode_with(store, "350 5th Ave, New York, NY 10001-0110", Country::Us)
        .unwrap();
    assert_eq!(addr4.level, MatchLevel::Address);
    // A PO-box ZIP: no street, located by its point unit.
    let po = s
        .geocode_with(store, "PO Box 123, New York, NY 10008", Country::Us)
        .unwrap();
    assert_eq!(
        (po.level, po.owner.unit.as_str()),
        (MatchLevel::PostalCode, "10008")
    );
    // No ZIP and no known street: the city.
    let city = s
        .geocode_with(store, "12 Flatbush Ave, Brooklyn, NY", Country::Us)
        .unwrap();
    assert_eq!(city.level, MatchLevel::City);
    assert_eq!(city.owner.levels["district"], "Brooklyn");
    // A street that exists, in another city and ZIP: not the Manhattan point.
    let Err(GeocodeError::NotFound { understood, .. }) =
        s.geocode_with(store, "350 5th Ave, Chicago, IL 60601", Country::Us)
    else {
        panic!("Chicago's 5th Ave is not in the NYC dataset");
    };
    assert_eq!(
        (
            understood.postal_code.as_deref(),
            understood.number.as_deref(),
            understood.street.as_deref()
        ),
        (Some("60601"), Some("350"), Some("5TH AVE"))
    );
    // A ZIP not in the dataset.
    assert!(matches!(
        s.geocode_with(store, "9641 Sunset Blvd, Beverly Hills, CA 90210", Country::Us),
        Err(GeocodeError::NotFound { .. })
    ));
}

#[test]
fn address_ingest_reports_bad_rows_by_line_and_column_and_stores_nothing() {
    let (_dir, engine) = sample_engine();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.csv");
    std::fs::write(
        &path,
        "lon,lat,number,street,unit,city,district,region,postcode,hash\n\
         -73.98,40.75,1,W 34th St,,New York,,NY,10001,ab\n\
         abc,40.75,2,W 34th St,,New York,,NY,10001,cd\n\
         -73.98,95,3,W 34th St,,New York,,NY,10001,ef\n\
         -73.98,40.75,,W 34th St,,New York,,NY,10001,gh\n\
         -73.98,40.75,5,...,,New York,,NY,10001,ij\n",
    )
    .unwrap();
    let err = ingest_addresses(engine.store(), &path, "nyc", false).unwrap_err();
    let AddressError::BadRows { count, shown, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(*count, 4, "{err}");
    assert_eq!(shown[0], "line 3: column LON: 'abc' is not a number");
    assert!(
        shown[1].starts_with("line 4: column LON: (-73.98, 95) is not a lon/lat"),
        "{}",
        shown[1]
    );
    assert_eq!(shown[2], "line 5: column NUMBER: empty house number");
    assert_eq!(shown[3], "line 6: column STREET: '...' has no street name");
    assert!(!engine.store().has_addresses("nyc").unwrap(), "all or nothing");

    std::fs::write(&path, "x,y,housenumber,road\n1,2,3,Main St\n").unwrap();
    let err = ingest_addresses(engine.store(), &path, "nyc", false).unwrap_err();
    assert!(
        err.to_string()
            .contains("missing column(s) LON, LAT, NUMBER, STREET"),
        "{err}"
    );
    let err = ingest_addresses(
        engine.store(),
        &common::fixture("nyc_addresses.csv"),
        "nope",
        false,
    )
    .unwrap_err();
    assert!(err.to_string().contains("dataset 'nope' not found"), "{err}");
}

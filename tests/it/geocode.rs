//! Street-level geocoding on the NYC sample with the Midtown address fixture
//! (tests/fixtures/nyc_addresses.csv), address ingest errors, batches and accounts.

use crate::common;

use common::sample_engine;
use geoalign::engine::Engine;
use geoalign::ingest::AddressError;
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
    // Never a silent guess: the note says it is the city, and which territories it spans.
    let note = city.note.as_deref().expect("a city match says so");
    assert!(
        note.starts_with("matched the city Brooklyn, NY only, not an address"),
        "{note}"
    );
    let spans: usize = note
        .split("it spans ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{note}"));
    let brooklyn_territories: std::collections::BTreeSet<&String> = s.state.territories[0]
        .iter()
        .filter(|(_, t)| t.parent.as_deref() == Some("Brooklyn"))
        .map(|(code, _)| code)
        .collect();
    assert_eq!(spans, brooklyn_territories.len(), "{note}");
    assert!(
        note.contains(&format!("most populous unit {}", city.owner.unit)),
        "{note}"
    );
    // A street without a ZIP before a city without a state: "Rd" is not a state.
    let understood = geoalign::lookup::geocode::parse("1 Fake Rd, Springfield", Country::Us);
    assert_eq!(
        (understood.city.as_deref(), understood.state.as_deref()),
        (Some("Springfield"), None)
    );
    let understood = geoalign::lookup::geocode::parse("1 Fake Rd, Springfield, IL", Country::Us);
    assert_eq!(
        (understood.city.as_deref(), understood.state.as_deref()),
        (Some("Springfield"), Some("IL"))
    );
    assert!(matches!(
        s.geocode_with(store, "1 Fake Rd, Springfield", Country::Us),
        Err(GeocodeError::NotFound { .. })
    ));
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

#[test]
fn batches_keep_order_and_report_rows_that_match_nothing() {
    use geoalign::lookup::geocode_batch::{csv_header, geocode_rows, parse_csv, write_csv};
    let (_dir, engine) = engine_with_addresses();
    let s = engine.snapshot("nyc").unwrap();
    let csv = "id,address\n\
               a,\"350 5th Ave, New York, NY 10118\"\n\
               b,\n\
               c,\"PO Box 1, New York, NY 10008\"\n\
               d,\"1 Nowhere Rd, Springfield, IL 62701\"\n\
               e,\"Brooklyn, NY\"\n";
    let rows = parse_csv(csv.as_bytes()).unwrap();
    let results = geocode_rows(&s, engine.store(), &rows, 1, Country::Us);
    let mut out = csv_header(&s);
    write_csv(&s, &rows, &results, &mut out);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,match,lon,lat,unit,territory,district,region,reps,note,error"
    );
    let (lon, lat, _) = fixture_point("350", "5 AVENUE");
    assert_eq!(
        lines[1],
        format!("a,address,{lon},{lat},10001,T1000,Manhattan,North,R1000,,")
    );
    assert_eq!(lines[2], "b,,,,,,,,,,row 2: empty address");
    assert!(lines[3].starts_with("c,postal_code,"), "{}", lines[3]);
    assert!(lines[3].contains(",10008,T1000,"), "{}", lines[3]);
    assert!(
        lines[4].starts_with("d,,,,,,,,,,\"row 4: no unit matches"),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with("e,city,") && lines[5].contains(",Brooklyn,"),
        "{}",
        lines[5]
    );
    assert_eq!(lines.len(), 6);
    assert!(
        parse_csv(b"id,street\n1,Main St\n")
            .unwrap_err()
            .0
            .contains("address column")
    );
}

#[test]
fn account_import_places_addresses_and_refuses_unplaced_rows_unless_skipped() {
    use geoalign::align::records::accounts_placed;
    let (_dir, engine) = engine_with_addresses();
    let s = engine.snapshot("nyc").unwrap();
    let store = engine.store();
    let place = |a: &str| {
        s.geocode_with(store, a, Country::Us)
            .map(|g| (g.point[0], g.point[1]))
            .map_err(|e| e.to_string())
    };
    let sheet = "id,name,lon,lat,address,revenue\n\
                 A1,Chelsea Market,-74.0061,40.7424,,100\n\
                 A2,Empire State,,,\"350 5th Ave, New York, NY\",50\n\
                 A3,Nowhere,,,\"1 Nowhere Rd, Springfield, IL 62701\",5\n\
                 A4,Empty,,,,1\n";
    let err = accounts_placed(sheet.as_bytes(), &s.state, &place, false).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("line 4: account 'A3' not placed: no unit matches"),
        "{text}"
    );
    assert!(
        text.contains("\"postal_code\":\"62701\""),
        "what was understood: {text}"
    );
    assert!(
        text.contains("line 5: account 'A4' has no lon/lat and no address"),
        "{text}"
    );
    // Without the empty row: refused unless skipped.
    let sheet: String = sheet.lines().take(4).map(|l| format!("{l}\n")).collect();
    let err = accounts_placed(sheet.as_bytes(), &s.state, &place, false).unwrap_err();
    assert!(
        err.to_string()
            .contains("nothing imported (skip them with --skip-unplaced)")
    );
    let before = s.state.accounts.len();
    let import = accounts_placed(sheet.as_bytes(), &s.state, &place, true).unwrap();
    assert_eq!((import.placed, import.unplaced.len()), (1, 1));
    let outcome = engine.apply("nyc", s.revision, &import.ops, "t").unwrap();
    let next = &outcome.snapshot;
    assert_eq!(next.state.accounts.len(), before + 2);
    let a2 = &next.state.accounts["A2"].record;
    assert_eq!((a2.lon, a2.lat), {
        let p = fixture_point("350", "5 AVENUE");
        (p.0, p.1)
    });
    assert_eq!(
        next.account_owner("A2"),
        Some(("T1000", geoalign::align::PlacedBy::Unit))
    );
    assert!(!next.state.accounts.contains_key("A3"));
}

mod http {
    use std::sync::Arc;

    use actix_web::{App, http::StatusCode, test, web};
    use geoalign::align::Op;
    use geoalign::http::{AppState, configure};
    use serde_json::Value;

    #[actix_web::test]
    async fn accounts_geocode_batches_and_bad_input_over_http() {
        let (_dir, engine) = super::engine_with_addresses();
        let ops = crate::common::add_accounts(
            &engine,
            "id,name,lon,lat,territory\nA1,Empire State,-73.9857,40.7484,\nA2,Macy's,-73.9892,40.7508,T1001\nA3,Herald Sq,-73.9877,40.7497,T1000\n",
        );
        assert!(matches!(ops.last(), Some(Op::OverrideAccount { .. })));
        let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
        let app = test::init_service(App::new().app_data(state).configure(configure)).await;
        let call = |req: test::TestRequest| {
            let app = &app;
            async move {
                let res = test::call_service(app, req.to_request()).await;
                let status = res.status();
                let body = test::read_body(res).await;
                (status, String::from_utf8_lossy(&body).into_owned())
            }
        };
        let json = |text: &str| serde_json::from_str::<Value>(text).unwrap();

        // An account owned by its unit, one overridden elsewhere, one overridden to its own.
        let (status, body) = call(test::TestRequest::get().uri("/api/accounts/A1?alignment=nyc")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let a1 = json(&body)["account"].clone();
        assert_eq!(
            (
                a1["unit"].as_str(),
                a1["owner"]["territory"].as_str(),
                a1["override"].as_bool()
            ),
            (Some("10001"), Some("T1000"), Some(false))
        );
        assert_eq!(a1["reps"][0]["id"], "R1000");
        assert_eq!(a1["owner"]["district"], "Manhattan");
        let a2 = json(
            &call(test::TestRequest::get().uri("/api/accounts/A2?alignment=nyc"))
                .await
                .1,
        )["account"]
            .clone();
        assert_eq!(
            (a2["unit_territory"].as_str(), a2["owner"]["territory"].as_str()),
            (Some("T1000"), Some("T1001"))
        );
        assert_eq!(a2["override"], true);
        let a3 = json(
            &call(test::TestRequest::get().uri("/api/accounts/A3?alignment=nyc"))
                .await
                .1,
        )["account"]
            .clone();
        assert_eq!(
            (a3["owner"]["territory"].as_str(), a3["override"].as_bool()),
            (Some("T1000"), Some(false))
        );
        let (status, body) = call(test::TestRequest::get().uri("/api/accounts/NOPE?alignment=nyc")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            json(&body)["detail"]
                .as_str()
                .unwrap()
                .contains("account 'NOPE' not found")
        );
        let (status, _) = call(test::TestRequest::get().uri("/api/accounts/A1")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // Single geocode at the address level.
        let (status, body) = call(
            test::TestRequest::get()
                .uri("/api/geocode?alignment=nyc&q=1330%20Broadwy%2C%20New%20York%2C%20NY"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let hit = json(&body);
        assert_eq!(
            (hit["match"].as_str(), hit["address"]["street"].as_str()),
            (Some("address"), Some("BROADWAY"))
        );
        assert!(hit["note"].as_str().unwrap().contains("matched as 'BROADWAY'"));

        // Batches: CSV and JSON, streamed in order.
        let csv = "id,address\n1,\"350 5th Ave, New York, NY\"\n2,\n3,\"Atlantis\"\n";
        let (status, body) = call(
            test::TestRequest::post()
                .uri("/api/geocode?alignment=nyc")
                .set_payload(csv),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let lines: Vec<&str> = body.lines().collect();
        assert_eq!(lines.len(), 4, "{body}");
        assert!(lines[1].starts_with("1,address,") && lines[2] == "2,,,,,,,,,,row 2: empty address");
        assert!(
            lines[3].starts_with("3,,,,,,,,,,\"row 3: no unit matches 'Atlantis'"),
            "{}",
            lines[3]
        );
        let many: Vec<Value> = (0..600)
            .map(|i| serde_json::json!({"id": i, "address": if i % 2 == 0 { "350 5th Ave, New York, NY" } else { "10008" }}))
            .collect();
        let (status, body) = call(
            test::TestRequest::post()
                .uri("/api/geocode?alignment=nyc")
                .set_json(&many),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let out = json(&body);
        let out = out.as_array().unwrap();
        assert_eq!(out.len(), 600, "across several streamed chunks");
        assert!(
            out.iter()
                .enumerate()
                .all(|(i, r)| r["id"].as_str() == Some(i.to_string().as_str())
                    && r["match"] == if i % 2 == 0 { "address" } else { "postal_code" })
        );

        // Bad input: empty, wrong columns, not JSON, unknown alignment, oversize.
        for (payload, wanted) in [
            ("", "empty"),
            ("  \n", "empty"),
            ("id,street\n1,Main St\n", "address column"),
            ("[{\"id\": 1}", "invalid body"),
        ] {
            let (status, body) = call(
                test::TestRequest::post()
                    .uri("/api/geocode?alignment=nyc")
                    .set_payload(payload),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{payload:?}: {body}");
            assert!(
                json(&body)["detail"].as_str().unwrap().contains(wanted),
                "{payload:?}: {body}"
            );
        }
        let huge = test::TestRequest::post()
            .uri("/api/geocode?alignment=nyc")
            .set_payload("id,address\n")
            .insert_header((
                "content-length",
                (geoalign::config::MAX_BATCH_BYTES + 1).to_string(),
            ));
        let (status, body) = call(huge).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(body.contains("bytes per batch"));
        let (status, _) = call(
            test::TestRequest::post()
                .uri("/api/geocode?alignment=gone")
                .set_payload(csv),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = call(test::TestRequest::get().uri("/api/geocode?alignment=nyc&q=%20")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // The new routes are documented.
        let doc = json(&call(test::TestRequest::get().uri("/api/openapi.json")).await.1);
        assert!(doc["paths"]["/api/geocode"]["post"]["requestBody"].is_object());
        assert!(doc["paths"]["/api/accounts/{id}"]["get"]["responses"]["404"].is_object());
    }
}

#[test]
fn address_points_on_the_full_us_dataset() {
    let (Some(polygons), Some(points)) = (common::shared("zip5_us.fgb"), common::shared("zip_points_us.csv"))
    else {
        return;
    };
    let (_dir, store) = common::store();
    geoalign::ingest::ingest(&store, &common::options(polygons, "us")).unwrap();
    let mut opts = common::options(points.clone(), "us");
    opts.points = true;
    geoalign::ingest::ingest(&store, &opts).unwrap();
    ingest_addresses(&store, &common::fixture("nyc_addresses.csv"), "us", false).unwrap();
    let store = std::sync::Arc::new(store);
    let engine = Engine::new(store.clone());
    engine.create("us", Some("us"), None, None).unwrap();
    let s = engine.snapshot("us").unwrap();
    // Every 40th fixture address, spelt the way people write it, with a ZIP+4.
    let mut reader = csv::Reader::from_path(common::fixture("nyc_addresses.csv")).unwrap();
    let mut checked = 0;
    for row in reader.records().map(Result::unwrap).step_by(40) {
        let street = row[3]
            .replace("WEST ", "W ")
            .replace("EAST ", "E ")
            .replace(" STREET", " St")
            .replace(" AVENUE", " Ave");
        let text = format!("{} {street}, New York, NY {}-0001", &row[2], &row[8]);
        let hit = s
            .geocode_with(&store, &text, Country::Us)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        let point = [row[0].parse::<f64>().unwrap(), row[1].parse::<f64>().unwrap()];
        assert_eq!(
            (hit.level, hit.point, hit.note.as_deref()),
            (MatchLevel::Address, point, None),
            "{text}"
        );
        let owner = s.lookup(point[0], point[1], Some(0.2)).unwrap().unwrap();
        assert_eq!(hit.owner.unit, owner.unit, "{text}");
        checked += 1;
    }
    assert!(checked > 80, "{checked}");
    // PO-box ZIPs, a ZIP not in the dataset and the city level still work beside address points.
    let po = s
        .geocode_with(&store, "PO Box 5, New York, NY 10008", Country::Us)
        .unwrap();
    assert_eq!(
        (po.level, po.owner.unit.as_str()),
        (MatchLevel::PostalCode, "10008")
    );
    let city = s
        .geocode_with(&store, "12 Elm St, Springfield, IL", Country::Us)
        .unwrap();
    assert_eq!(city.level, MatchLevel::City);
    assert!(city.owner.unit.starts_with("627"), "{}", city.owner.unit);
    assert!(
        s.geocode_with(&store, "1 Main St, Nowhere, NY 00000", Country::Us)
            .is_err()
    );
}

//! Lookups on the NYC sample: point in territory, snapping, borders, batches,
//! nearest reps; and agreement with GDAL/GEOS on the full US dataset.

use crate::common;

use common::sample_engine;
use geo::{CoordsIter, Intersects, Point};
use geoalign::lookup::batch;

const EMPIRE_STATE: (f64, f64) = (-73.9857, 40.7484);

#[test]
fn a_point_resolves_to_unit_territory_chain_and_reps() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let owner = s
        .lookup(EMPIRE_STATE.0, EMPIRE_STATE.1, None)
        .unwrap()
        .expect("in a unit");
    assert_eq!(owner.unit, "10001", "ZCTA 10118 is part of MODZCTA 10001");
    assert_eq!(owner.levels["territory"], "T1000");
    assert_eq!(owner.levels["district"], "Manhattan");
    assert_eq!(owner.levels["region"], "North");
    assert_eq!(owner.reps[0].id, "R1000");
    assert_eq!(owner.distance_km, None);
}

#[test]
fn points_outside_every_unit_say_so_or_snap() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let sea = (-73.80, 40.45); // Lower New York Bay, south of Breezy Point
    assert_eq!(s.lookup(sea.0, sea.1, None).unwrap(), None);
    let snapped = s.lookup(sea.0, sea.1, Some(30.0)).unwrap().expect("within 30 km");
    let km = snapped.distance_km.unwrap();
    assert!(km > 0.0 && km < 30.0, "{km}");
    assert_eq!(
        s.lookup(sea.0, sea.1, Some(0.5)).unwrap(),
        None,
        "nothing within 500 m"
    );
    assert!(s.lookup(-73.9, 95.0, None).is_err());
    assert!(s.lookup(f64::NAN, 40.0, None).is_err());
}

/// NYC's `99999` (parks, airports, water, 29 parts) is a placeholder: a lookup in it
/// answers "no owner" with a note, in single and batch lookups; snapping goes to the
/// nearest real ZIP, never to the placeholder.
#[test]
fn a_point_in_a_placeholder_unit_has_no_owner_and_says_why() {
    use geo::InteriorPoint;
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let ds = &s.dataset;
    let placeholder = ds.units.resolve("99999").expect("unit 99999");
    let topo = ds.topo_of_unit[placeholder as usize].unwrap() as usize;
    let largest = ds.polygons[topo]
        .0
        .iter()
        .max_by(|a, b| geo::Area::unsigned_area(*a).total_cmp(&geo::Area::unsigned_area(*b)))
        .unwrap();
    let p = largest.interior_point().unwrap();
    let (lon, lat) = (p.x(), p.y());
    let owner = s.lookup(lon, lat, None).unwrap().expect("in 99999");
    assert_eq!(owner.unit, "99999");
    assert!(owner.levels.is_empty() && owner.reps.is_empty());
    assert!(
        owner.note.as_deref().unwrap().contains("placeholder"),
        "{owner:?}"
    );
    let snapped = s
        .lookup(lon, lat, Some(5.0))
        .unwrap()
        .expect("a real ZIP within 5 km");
    assert_ne!(snapped.unit, "99999");
    assert!(snapped.levels.contains_key("territory"), "{snapped:?}");
    assert!(snapped.distance_km.unwrap() > 0.0);
    assert!(
        snapped.note.as_deref().unwrap().contains("snapped"),
        "{snapped:?}"
    );
    // Snapping from the sea never lands on the placeholder either.
    for (x, y) in [(-73.80, 40.45), (-73.87, 40.77), (-74.02, 40.69)] {
        if let Some(o) = s.lookup(x, y, Some(30.0)).unwrap() {
            assert!(o.unit != "99999" || s.dataset.polygon_at(x, y).is_some(), "{o:?}");
        }
    }
    let csv = format!("id,lon,lat\np,{lon},{lat}\n");
    let rows = batch::parse_csv(csv.as_bytes()).unwrap();
    let owners = batch::resolve(&s, &rows);
    let out = String::from_utf8(batch::write_csv(&s, &rows, &owners)).unwrap();
    let line = out.lines().nth(1).unwrap();
    assert!(line.starts_with(&format!("p,{lon},{lat},99999,,,,,")), "{line}");
    assert!(line.contains("placeholder"), "{line}");
    let json = String::from_utf8(batch::write_json(&s, &rows, &owners)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value[0]["found"], false, "{json}");
    assert_eq!(value[0]["unit"], "99999");
}

#[test]
fn shared_border_points_go_to_the_smallest_unit_id() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let ds = &s.dataset;
    // A vertex of 10001 that lies on another unit's boundary too.
    let a = ds.topo_of_unit[ds.units.resolve("10001").unwrap() as usize].unwrap() as usize;
    let shared = ds.polygons[a]
        .coords_iter()
        .find(|c| {
            ds.polygons
                .iter()
                .enumerate()
                .any(|(i, p)| i != a && p.intersects(&Point::from(*c)))
        })
        .expect("10001 has neighbours");
    let owners: Vec<&str> = ds
        .polygons
        .iter()
        .enumerate()
        .filter(|(_, p)| p.intersects(&Point::from(shared)))
        .map(|(i, _)| ds.units.get(ds.unit_of_topo[i]).id.as_str())
        .collect();
    assert!(owners.len() >= 2);
    let got = s.lookup(shared.x, shared.y, None).unwrap().unwrap();
    assert_eq!(got.unit, *owners.iter().min().unwrap());
}

#[test]
fn batches_keep_order_and_report_bad_rows() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let csv = "id,lon,lat\na,-73.9857,40.7484\nb,abc,40.7\nc,-73.80,40.45\nd,-73.95,95\ne,-73.9442,40.6782\n";
    let rows = batch::parse_csv(csv.as_bytes()).unwrap();
    let owners = batch::resolve(&s, &rows);
    let out = String::from_utf8(batch::write_csv(&s, &rows, &owners)).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "id,lon,lat,unit,territory,district,region,reps,error");
    assert_eq!(lines[1], "a,-73.9857,40.7484,10001,T1000,Manhattan,North,R1000,");
    assert_eq!(lines[2], "b,,,,,,,,row 2: lon 'abc' / lat '40.7' are not numbers");
    assert_eq!(lines[3], "c,-73.8,40.45,,,,,,in no unit");
    assert!(
        lines[4].starts_with("d,,,,,,,,\"row 4: (-73.95, 95) is not a lon/lat"),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].starts_with("e,-73.9442,40.6782,112"),
        "Brooklyn: {}",
        lines[5]
    );
    assert!(
        batch::parse_csv(b"name,x1,y1\na,1,2\n")
            .unwrap_err()
            .0
            .contains("lon and lat")
    );
}

#[test]
fn the_parallel_csv_path_writes_what_the_general_path_writes() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let mut next = uniform(11);
    let mut csv = String::from("ID, Lat ,lon,extra\r\n");
    for i in 0..20_000 {
        let (lon, lat) = (-74.3 + next() * 0.7, 40.45 + next() * 0.5);
        match i % 997 {
            0 => csv.push_str(&format!("bad{i},{lat},east,x\n")),
            1 => csv.push_str(&format!("far{i},95,{lon}\n")),
            2 => csv.push('\n'), // a blank line is no row
            3 => csv.push_str(&format!("short{i}\r\n")),
            4 => csv.push_str(&format!("int{i},41,-74\n")),
            5 => csv.push_str(&format!("tiny{i},-0.0,0.00001\n")),
            6 => csv.push_str(&format!("long{i},40.712345678901234,-73.99999999999999\n")),
            _ => csv.push_str(&format!(" {i} ,{lat:.6},{lon:.6},{}\n", i % 3)),
        }
    }
    csv.push_str("last,40.7484,-73.9857"); // no final newline
    let general = {
        let rows = batch::parse_csv(csv.as_bytes()).unwrap();
        let owners = batch::resolve(&s, &rows);
        batch::write_csv(&s, &rows, &owners)
    };
    let fast = geoalign::lookup::batch_csv::lookup_unquoted_csv(&s, csv.as_bytes())
        .unwrap()
        .expect("unquoted");
    assert_eq!(
        String::from_utf8(fast).unwrap(),
        String::from_utf8(general).unwrap()
    );
    // Quoted CSV goes the general way, with the same answers.
    let quoted = "id,lon,lat\n\"a,1\",-73.9857,40.7484\n";
    assert!(
        geoalign::lookup::batch_csv::lookup_unquoted_csv(&s, quoted.as_bytes())
            .unwrap()
            .is_none()
    );
    let out = String::from_utf8(batch::lookup_csv(&s, quoted.as_bytes()).unwrap()).unwrap();
    assert!(
        out.lines()
            .nth(1)
            .unwrap()
            .starts_with("\"a,1\",-73.9857,40.7484,10001,"),
        "{out}"
    );
    assert!(batch::lookup_csv(&s, b"name,x1,y1\na,1,2\n").is_err());
}

#[test]
fn nearest_reps_by_great_circle_distance() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let near = s.rep_index.nearest(EMPIRE_STATE.0, EMPIRE_STATE.1, 3, None);
    assert_eq!(near.len(), 3);
    assert_eq!(near[0].id, "R1000");
    assert!(near.windows(2).all(|w| w[0].distance_km <= w[1].distance_km));
    for r in &near {
        let km = common::metres((r.lon, r.lat), EMPIRE_STATE) / 1000.0;
        assert!((km - r.distance_km).abs() < 1e-3, "{} vs {km}", r.distance_km);
    }
    assert!(
        s.rep_index
            .nearest(EMPIRE_STATE.0, EMPIRE_STATE.1, 3, Some(0.1))
            .is_empty()
    );
}

/// Deterministic uniform numbers in [0, 1) (xorshift).
fn uniform(mut seed: u64) -> impl FnMut() -> f64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The unit the grid should answer: the smallest unit index among the polygons whose
/// closure holds the point, found by the R-tree and `geo`'s own `Intersects`.
fn brute_force(ds: &geoalign::snapshot::DatasetModel, x: f64, y: f64) -> Option<u32> {
    let point = Point::new(x, y);
    ds.tree
        .locate_in_envelope_intersecting(&rstar::AABB::from_point([x, y]))
        .filter(|c| ds.polygons[c.index as usize].intersects(&point))
        .map(|c| ds.unit_of_topo[c.index as usize])
        .min()
}

/// Random points in a box, every vertex (on boundaries, often shared) and the
/// midpoints of a share of the edges: the grid agrees with the brute force on each.
fn grid_agrees_with_polygons(ds: &geoalign::snapshot::DatasetModel, bbox: [f64; 4], n: usize) -> usize {
    let mut next = uniform(0x9e37_79b9_7f4a_7c15);
    let mut points: Vec<(f64, f64)> = (0..n)
        .map(|_| {
            (
                bbox[0] + next() * (bbox[2] - bbox[0]),
                bbox[1] + next() * (bbox[3] - bbox[1]),
            )
        })
        .collect();
    for (i, polygon) in ds.polygons.iter().enumerate() {
        let coords: Vec<_> = polygon.coords_iter().collect();
        let step = if i % 7 == 0 { 1 } else { 13 };
        for w in coords.windows(2).step_by(step) {
            points.push((w[0].x, w[0].y));
            points.push(((w[0].x + w[1].x) / 2.0, (w[0].y + w[1].y) / 2.0));
        }
    }
    let mut found = 0;
    for &(x, y) in &points {
        let expected = brute_force(ds, x, y);
        assert_eq!(ds.unit_at(x, y), expected, "({x}, {y})");
        found += usize::from(expected.is_some());
    }
    found
}

#[test]
fn grid_answers_equal_polygon_answers_on_the_sample() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let found = grid_agrees_with_polygons(&s.dataset, [-74.3, 40.45, -73.65, 40.95], 200_000);
    assert!(found > 50_000, "{found}");
    let stats = s.dataset.grid.stats();
    assert!(stats.leaves > 0 && stats.nodes > stats.root_cells, "{stats:?}");
}

#[test]
fn grid_answers_equal_polygon_answers_on_zip5_us() {
    let Some(path) = common::shared("zip5_us.fgb") else {
        return;
    };
    let (_dir, store) = common::store();
    geoalign::ingest::ingest(&store, &common::options(path, "us")).unwrap();
    let engine = geoalign::engine::Engine::new(std::sync::Arc::new(store));
    engine.create("us", Some("us"), None, None).unwrap();
    let s = engine.snapshot("us").unwrap();
    // The contiguous US, then the whole extent (Alaska across the antimeridian, Hawaii).
    let found = grid_agrees_with_polygons(&s.dataset, [-124.7, 24.5, -66.9, 49.4], 200_000);
    assert!(found > 100_000, "{found}");
    grid_agrees_with_polygons(&s.dataset, [-180.0, -15.0, 180.0, 72.0], 50_000);
}

#[cfg(feature = "gdal")]
#[test]
fn owners_agree_with_gdal_geos_on_random_us_points() {
    use gdal::vector::{Geometry, LayerAccess};
    let Some(path) = common::shared("zip5_us.fgb") else {
        return;
    };
    let (_dir, store) = common::store();
    geoalign::ingest::ingest(&store, &common::options(path.clone(), "us")).unwrap();
    let engine = geoalign::engine::Engine::new(std::sync::Arc::new(store));
    engine.create("us", Some("us"), None, None).unwrap();
    let s = engine.snapshot("us").unwrap();
    let dataset = gdal::Dataset::open(&path).unwrap();
    let mut layer = dataset.layer(0).unwrap();
    let mut next = uniform(42);
    let (mut agree, mut border) = (0, 0);
    for _ in 0..2_000 {
        let (lon, lat) = (-124.0 + next() * 57.0, 25.0 + next() * 24.0);
        let ours = s
            .dataset
            .polygon_at(lon, lat)
            .map(|p| s.dataset.units.get(s.dataset.unit_of_topo[p as usize]).id.clone());
        let point = Geometry::from_wkt(&format!("POINT ({lon} {lat})")).unwrap();
        layer.set_spatial_filter(&point);
        let theirs: Vec<String> = layer
            .features()
            .filter(|f| f.geometry().is_some_and(|g| g.intersects(&point)))
            .filter_map(|f| {
                f.field_index("zip")
                    .ok()
                    .and_then(|i| f.field_as_string(i).ok().flatten())
            })
            .collect();
        match (&ours, theirs.as_slice()) {
            (None, []) => agree += 1,
            (Some(a), [b]) if a == b => agree += 1,
            (Some(a), many) if many.len() > 1 && many.contains(a) => border += 1,
            other => panic!("({lon}, {lat}): ours {:?} vs GEOS {:?}", other.0, other.1),
        }
    }
    assert_eq!(agree + border, 2_000);
}

#[test]
fn geocoding_ladder_on_the_sample() {
    use geoalign::lookup::geocode::{Country, MatchLevel};
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let hit = s
        .geocode("20 W 34th St, New York, NY 10001-1234", Country::Us)
        .unwrap();
    assert_eq!(
        (hit.level, hit.owner.unit.as_str()),
        (MatchLevel::PostalCode, "10001")
    );
    assert_eq!(hit.owner.levels["territory"], "T1000");
    assert_eq!(
        s.lookup(hit.point[0], hit.point[1], None).unwrap().unwrap().unit,
        "10001",
        "the point lies in its unit"
    );

    // A PO-box ZIP: located by its point, owned through the polygon containing it.
    let po = s.geocode("PO Box 123, New York, NY 10008", Country::Us).unwrap();
    assert_eq!(po.owner.unit, "10008");
    let polygon = s.lookup(po.point[0], po.point[1], None).unwrap().unwrap();
    assert_eq!(po.owner.levels, polygon.levels);

    // The Empire State Building's own ZIP is a point unit inside 10001.
    let unique = s.geocode("350 5th Ave, New York, NY 10118", Country::Us).unwrap();
    assert_eq!(
        (
            unique.owner.unit.as_str(),
            unique.owner.levels["territory"].as_str()
        ),
        ("10118", "T1000")
    );

    // A ZIP that is not in the dataset is not silently replaced by the city.
    let missing = s
        .geocode("9641 Sunset Blvd, New York, NY 90210", Country::Us)
        .unwrap_err();
    assert_eq!(missing.postal_code.as_deref(), Some("90210"));

    // No ZIP: the most populous unit of the city.
    let city = s.geocode("Brooklyn, NY", Country::Us).unwrap();
    assert_eq!(city.level, MatchLevel::City);
    assert_eq!(city.owner.levels["district"], "Brooklyn");
    assert!(s.geocode("Atlantis", Country::Us).is_err());
}

#[test]
fn real_addresses_from_the_us_zip_points() {
    use geoalign::lookup::geocode::{Country, MatchLevel};
    let (Some(polygons), Some(points)) = (common::shared("zip5_us.fgb"), common::shared("zip_points_us.csv"))
    else {
        return;
    };
    let (_dir, store) = common::store();
    geoalign::ingest::ingest(&store, &common::options(polygons, "us")).unwrap();
    let mut opts = common::options(points.clone(), "us");
    opts.points = true;
    geoalign::ingest::ingest(&store, &opts).unwrap();
    let engine = geoalign::engine::Engine::new(std::sync::Arc::new(store));
    engine.create("us", Some("us"), None, None).unwrap();
    let s = engine.snapshot("us").unwrap();
    let mut reader = csv::Reader::from_path(points).unwrap();
    let (mut by_zip, mut by_city, mut po_boxes) = (0, 0, 0);
    for (i, row) in reader.records().enumerate().filter(|(i, _)| i % 97 == 0) {
        let row = row.unwrap();
        let (zip, state, city, kind) = (&row[0], &row[1], &row[2], &row[10]);
        let address = format!("{} Main St, {city}, {state} {zip}-{:04}", i % 900 + 1, i % 10_000);
        let hit = s
            .geocode(&address, Country::Us)
            .unwrap_or_else(|u| panic!("{address}: {u:?}"));
        assert_eq!(
            (hit.level, hit.owner.unit.as_str()),
            (MatchLevel::PostalCode, zip),
            "{address}"
        );
        by_zip += 1;
        po_boxes += usize::from(kind == "PO_Box");
        // The same street in a misspelt form without a ZIP still finds the city.
        if let Ok(hit) = s.geocode(
            &format!("{} Mian Stret, {city}, {state}", i % 900 + 1),
            Country::Us,
        ) {
            assert_eq!(hit.level, MatchLevel::City);
            let unit = s.dataset.units.resolve(&hit.owner.unit).unwrap();
            let attributes = &s.dataset.units.get(unit).attributes;
            assert!(attributes["city"].eq_ignore_ascii_case(city) && attributes["state"] == state);
            by_city += 1;
        }
    }
    assert!(
        by_zip > 400 && po_boxes > 20 && by_city > by_zip / 2,
        "{by_zip} {po_boxes} {by_city}"
    );
}

#[test]
fn nearest_reps_equal_a_brute_force_scan() {
    use geoalign::index::RepIndex;
    let mut next = uniform(3);
    let reps: Vec<(String, f64, f64)> = (0..3_000)
        .map(|i| {
            (
                format!("R{i:05}"),
                -180.0 + next() * 360.0,
                -90.0 + next() * 180.0,
            )
        })
        .collect();
    let index = RepIndex::new(reps.iter().map(|(id, x, y)| (id.as_str(), *x, *y)));
    for q in 0..300 {
        let (lon, lat) = (-180.0 + next() * 360.0, -90.0 + next() * 180.0);
        let (k, max_km) = (1 + q % 7, (q % 3 == 0).then_some(1500.0));
        let keep = |id: &str| !id.ends_with('3');
        let got: Vec<String> = index
            .nearest_where(lon, lat, k, max_km, keep)
            .into_iter()
            .map(|r| r.id)
            .collect();
        let mut all: Vec<(f64, &str)> = reps
            .iter()
            .filter(|(id, _, _)| keep(id))
            .map(|(id, x, y)| (common::metres((*x, *y), (lon, lat)) / 1000.0, id.as_str()))
            .filter(|(km, _)| max_km.is_none_or(|m| *km <= m))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        let expected: Vec<&str> = all.iter().take(k).map(|(_, id)| *id).collect();
        assert_eq!(got, expected, "({lon}, {lat}) k {k}");
    }
}

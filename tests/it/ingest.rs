//! Ingest of real boundary files in every native format, and of broken ones.

use crate::common;

use common::{fixture, ingest_fixture, metres, options, shared, store};
use geo::{Area, BoundingRect, CoordsIter, Geometry, Validation};
use geoalign::feature::UnitKind;
use geoalign::ingest::IngestError;
use geoalign::ingest::crs::CrsDef;
use geoalign::ingest::ingest;

const CT_ZIPS: usize = 22;

fn total_area(store: &geoalign::store::Store, dataset: &str) -> f64 {
    store
        .polygon_units(dataset)
        .expect("units")
        .iter()
        .map(|(_, g)| g.unsigned_area())
        .sum()
}

#[test]
fn every_native_format_ingests_the_same_units() {
    let (_dir, store) = store();
    let files = [
        "ct_060.geojson",
        "ct_060.fgb",
        "ct_060.gpkg",
        "ct_060_3857.gpkg",
        "ct_060_5070.fgb",
        "ct_060_utm18n/ct_060.shp",
        "ct_060_stateplane/ct_060.shp",
        "ct_060_wkt.csv",
    ];
    let reference = {
        ingest_fixture(&store, "ct_060.geojson", "reference");
        total_area(&store, "reference")
    };
    for (i, file) in files.iter().enumerate() {
        let name = format!("d{i}");
        let report = ingest_fixture(&store, file, &name);
        assert_eq!(report.read, CT_ZIPS, "{file}");
        assert_eq!(report.stored, CT_ZIPS, "{file}");
        assert!(report.rejected.is_empty(), "{file}: {:?}", report.rejected);
        let area = total_area(&store, &name);
        assert!(
            (area - reference).abs() / reference < 1e-6,
            "{file}: area {area} vs {reference}"
        );
        let unit = store.unit(&name, "06001").expect("unit 06001");
        assert_eq!(unit.kind, UnitKind::Polygon);
        assert_eq!(
            unit.properties.attributes.get("state").map(String::as_str),
            Some("CT"),
            "{file}"
        );
        assert_eq!(
            unit.properties.metrics.get("population"),
            Some(&19119.0),
            "{file}"
        );
        assert!(
            !unit.properties.metrics.contains_key("zip"),
            "{file}: id is not a metric"
        );
        assert!(unit.geometry.is_valid(), "{file}");
    }
}

#[test]
fn projected_files_land_within_a_metre_of_gdal() {
    let (_dir, store) = store();
    let reference = std::fs::read_to_string(fixture("reproj_reference.csv")).expect("reference");
    let mut checked = 0;
    for (i, file) in [
        "ct_060_utm18n/ct_060.shp",
        "ct_060_stateplane/ct_060.shp",
        "ct_060_5070.fgb",
        "ct_060_3857.gpkg",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("p{i}");
        let report = ingest_fixture(&store, file, &name);
        assert!(!report.crs_assumed);
        for line in reference
            .lines()
            .skip(1)
            .filter(|l| l.starts_with(&format!("{file},")))
        {
            let cols: Vec<&str> = line.split(',').collect();
            let (zip, lon, lat): (&str, f64, f64) =
                (cols[1], cols[2].parse().unwrap(), cols[3].parse().unwrap());
            let unit = store.unit(&name, zip).expect("unit");
            let nearest = unit
                .geometry
                .coords_iter()
                .map(|c| metres((c.x, c.y), (lon, lat)))
                .fold(f64::INFINITY, f64::min);
            assert!(nearest < 1.0, "{file} {zip}: {nearest:.3} m from GDAL's answer");
            checked += 1;
        }
    }
    assert_eq!(checked, 4 * CT_ZIPS);
}

#[test]
fn s_srs_overrides_and_missing_crs_is_refused() {
    let (_dir, store) = store();
    let no_crs = fixture("broken/no_crs/ct.shp");
    match ingest(&store, &options(no_crs.clone(), "x")) {
        Err(IngestError::NoCrs { path, .. }) => assert_eq!(path, no_crs),
        other => panic!("expected NoCrs, got {other:?}"),
    }
    assert!(store.datasets().unwrap().is_empty());
    let mut with_srs = options(no_crs, "x");
    with_srs.s_srs = CrsDef::parse_user("EPSG:32618");
    let report = ingest(&store, &with_srs).expect("with --s-srs");
    assert_eq!(report.crs, "EPSG:32618");
    let bbox = store.dataset("x").unwrap().bbox.unwrap();
    assert!(
        bbox[0] > -74.0 && bbox[2] < -71.0 && bbox[1] > 40.5 && bbox[3] < 42.5,
        "{bbox:?}"
    );

    let report = ingest(&store, &options(fixture("broken/no_crs_lonlat/ct.shp"), "y")).expect("lon/lat");
    assert!(report.crs_assumed);
    assert!(report.to_string().contains("assumed"));
}

#[test]
fn unknown_crs_is_refused_and_store_unchanged() {
    let (_dir, store) = store();
    let err = ingest(&store, &options(fixture("broken/unknown_crs/ct.shp"), "x")).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, IngestError::UnknownCrs { .. }), "{err:?}");
    assert!(
        message.contains("Bogus_Grid") && message.contains("Fantasy_Projection"),
        "{message}"
    );
    assert!(store.datasets().unwrap().is_empty());
}

#[test]
fn truncated_and_foreign_files_fail_cleanly() {
    let (_dir, store) = store();
    let err = ingest(&store, &options(fixture("broken/truncated.geojson"), "x")).unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::Malformed {
                format: "GeoJSON",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("EOF while parsing"), "{err}");
    let err = ingest(&store, &options(fixture("broken/not_a_file.fgb"), "x")).unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::Malformed {
                format: "FlatGeobuf",
                ..
            }
        ),
        "{err:?}"
    );
    let err = ingest(&store, &options(fixture("does_not_exist.geojson"), "x")).unwrap_err();
    assert!(matches!(err, IngestError::Open { .. }), "{err:?}");
    let err = ingest(&store, &options(fixture("README.md"), "x")).unwrap_err();
    assert!(
        matches!(err, IngestError::UnsupportedFormat { .. }) || cfg!(feature = "gdal"),
        "{err:?}"
    );
    assert!(store.datasets().unwrap().is_empty());
}

#[test]
fn wrong_id_field_names_the_fields_present() {
    let (_dir, store) = store();
    let mut opts = options(fixture("ct_060.gpkg"), "x");
    opts.id_field = "zcta".into();
    let err = ingest(&store, &opts).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: id field 'zcta' not found; fields present: zip, state, population, households",
            fixture("ct_060.gpkg").display()
        )
    );
    assert!(store.datasets().unwrap().is_empty());
}

#[test]
fn self_intersections_are_repaired_keeping_area() {
    let (_dir, store) = store();
    let report = ingest_fixture(&store, "broken/bowtie.geojson", "b");
    assert_eq!((report.read, report.stored), (3, 3));
    let repaired: Vec<&str> = report.repaired.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(repaired, ["00002", "00003"]);
    assert!(report.repaired[0].1.contains(&"rebuilt self-intersecting rings"));
    assert!(report.repaired[1].1.contains(&"closed open rings"));
    let bowtie = store.unit("b", "00002").unwrap();
    assert!(bowtie.geometry.is_valid());
    let Geometry::MultiPolygon(lobes) = &bowtie.geometry else {
        panic!("multipolygon")
    };
    assert_eq!(lobes.0.len(), 2, "a bow-tie becomes its two lobes");
    // Each lobe is a triangle of half-width 0.005 and height 0.01.
    assert!(
        (lobes.unsigned_area() - 2.0 * 0.5 * 0.01 * 0.005).abs() < 1e-12,
        "{}",
        lobes.unsigned_area()
    );
}

#[test]
fn degenerate_and_null_geometries_are_rejected_with_reasons() {
    let (_dir, store) = store();
    let report = ingest_fixture(&store, "broken/degenerate.geojson", "d");
    assert_eq!((report.read, report.stored), (4, 1));
    let reasons: Vec<(Option<&str>, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.id.as_deref(), r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (Some("00011"), "degenerate geometry: zero area"),
            (Some("00012"), "null geometry"),
            (Some("00013"), "empty geometry"),
        ]
    );
    assert!(
        report
            .to_string()
            .contains("rejected feature 1 [00011]: degenerate geometry: zero area")
    );
}

#[test]
fn duplicate_and_missing_ids_are_rejected() {
    let (_dir, store) = store();
    let report = ingest_fixture(&store, "broken/dup_ids.geojson", "d");
    assert_eq!((report.read, report.stored), (3, 1));
    assert_eq!(report.rejected[0].id.as_deref(), Some("06001"));
    assert_eq!(report.rejected[0].reason, "duplicate id (first at feature 0)");
    assert_eq!(report.rejected[1].id, None);
    assert_eq!(report.rejected[1].reason, "missing id field 'zip'");
    assert_eq!(
        store.unit("d", "06001").unwrap().properties.metrics["population"],
        19119.0
    );
}

#[test]
fn antimeridian_polygons_are_cut_not_wrapped_around_the_world() {
    let (_dir, store) = store();
    ingest_fixture(&store, "broken/antimeridian.geojson", "a");
    let unit = store.unit("a", "99501").unwrap();
    let Geometry::MultiPolygon(parts) = &unit.geometry else {
        panic!("multipolygon")
    };
    assert_eq!(parts.0.len(), 2);
    assert!(
        (parts.unsigned_area() - 1.0).abs() < 1e-9,
        "1 degree wide, not 359"
    );
    for part in &parts.0 {
        let r = part.bounding_rect().unwrap();
        assert!(r.width() <= 0.5 + 1e-9, "{r:?}");
    }
    // The real Aleutian ZIPs are already split at ±180 and stay as they are.
    let report = ingest_fixture(&store, "broken/aleutian.geojson", "al");
    assert!(report.repaired.is_empty(), "{:?}", report.repaired);
    assert_eq!(report.stored, 2);
}

#[test]
fn existing_dataset_needs_replace() {
    let (_dir, store) = store();
    ingest_fixture(&store, "ct_060.geojson", "ct");
    let err = ingest(&store, &options(fixture("ct_060.fgb"), "ct")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dataset 'ct' already exists; pass --replace to replace it"
    );
    let mut replace = options(fixture("broken/bowtie.geojson"), "ct");
    replace.replace = true;
    ingest(&store, &replace).unwrap();
    let info = store.dataset("ct").unwrap();
    assert_eq!(info.polygon_units, 3);
    assert!(store.unit("ct", "06001").is_err());
}

#[test]
fn failed_replace_keeps_the_old_dataset() {
    let (_dir, store) = store();
    ingest_fixture(&store, "ct_060.geojson", "ct");
    let mut replace = options(fixture("broken/truncated.geojson"), "ct");
    replace.replace = true;
    assert!(ingest(&store, &replace).is_err());
    assert_eq!(store.dataset("ct").unwrap().polygon_units, CT_ZIPS as i64);
}

#[test]
fn point_units_belong_to_the_polygon_containing_them() {
    let (_dir, store) = store();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let reports = geoalign::demo::load_sample(&store, &data, false).expect("sample");
    assert_eq!(reports[0].stored, 178);
    let points = &reports[1];
    assert_eq!(points.read, 305);
    assert_eq!(
        points.already_polygons + points.stored + points.rejected.len(),
        305
    );
    assert!(points.stored > 100, "{points}");
    let info = store.dataset("nyc").unwrap();
    assert_eq!(info.point_units, points.stored as i64);
    // 10008 is a Manhattan PO-box ZIP (Church Street Station, inside 10007).
    let po_box = store.unit("nyc", "10008").expect("PO box 10008");
    assert_eq!(po_box.kind, UnitKind::Point);
    assert_eq!(po_box.properties.attributes["zip_type"], "PO_Box");
    let parent = po_box.parent.expect("parent polygon");
    let polygon = store.unit("nyc", &parent).unwrap();
    use geo::Intersects;
    assert!(polygon.geometry.intersects(&po_box.geometry));
}

#[test]
fn points_need_an_existing_polygon_dataset() {
    let (_dir, store) = store();
    let mut opts = options(fixture("ct_060_lonlat.csv"), "nope");
    opts.points = true;
    assert_eq!(
        ingest(&store, &opts).unwrap_err().to_string(),
        "dataset 'nope' does not exist; ingest its polygons before its point units"
    );
}

#[test]
fn full_us_zip_dataset_ingests() {
    let Some(path) = shared("zip5_us.fgb") else { return };
    let (_dir, store) = store();
    let report = ingest(&store, &options(path, "us")).expect("zip5_us");
    assert_eq!(report.read, 33_791);
    assert_eq!(report.stored, 33_791, "{report}");
    let info = store.dataset("us").unwrap();
    assert_eq!(info.polygon_units, 33_791);
    let bbox = info.bbox.unwrap();
    assert!(bbox[0] >= -180.0 && bbox[2] <= 180.0, "{bbox:?}");
    if let Some(points) = shared("zip_points_us.csv") {
        let mut opts = options(points, "us");
        opts.points = true;
        let report = ingest(&store, &opts).expect("points");
        assert_eq!(report.read, 41_706);
        assert_eq!(
            report.already_polygons + report.stored + report.rejected.len(),
            41_706
        );
        assert!(report.stored > 7_000, "{report}");
    }
}

#[test]
fn national_grids_and_state_plane_match_gdal() {
    use geoalign::ingest::crs::Reprojector;
    // (EPSG, easting, northing) -> GDAL's `gdaltransform -t_srs EPSG:4326` answer, and our tolerance:
    // CH1903+/LV95 (oblique Mercator), NY Long Island state plane in US feet (Lambert),
    // British National Grid (Transverse Mercator; the OSGB36 datum shift is a 7-parameter
    // Helmert here, a few metres from the OSTN15 grid).
    let cases = [
        (
            2056,
            2_600_000.0,
            1_200_000.0,
            7.438_632_420_871_81,
            46.951_082_771_871_1,
            1.0,
        ),
        (
            2263,
            1_000_000.0,
            500_000.0,
            -73.942_474_388_424_7,
            41.538_971_080_217_3,
            1.0,
        ),
        (
            27700,
            530_000.0,
            180_000.0,
            -0.128_353_940_479_469,
            51.503_990_827_633_8,
            5.0,
        ),
    ];
    for (code, x, y, lon, lat, tolerance) in cases {
        let reprojector = Reprojector::new(&CrsDef::Epsg(code)).unwrap();
        let c = reprojector.coord(geo::coord! { x: x, y: y }).unwrap();
        let off = metres((c.x, c.y), (lon, lat));
        assert!(off < tolerance, "EPSG:{code}: {off:.2} m from GDAL");
    }
}

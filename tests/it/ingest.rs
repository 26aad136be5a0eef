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

/// A unit's id and a lon/lat.
type Vertex = (&'static str, f64, f64);

/// First exterior-ring vertex of 06001, 06002 and 06010 of each NAD27 fixture, as
/// `ogr2ogr -t_srs EPSG:4326` puts it (GDAL 3.6.2, PROJ 9.1, no grids: PROJ used
/// EPSG:1173 "NAD27 to WGS 84 (4)"). See tests/fixtures/README.md.
const NAD27_BY_OGR2OGR: [(&str, [Vertex; 3]); 3] = [
    (
        "ct_060_nad27.geojson",
        [
            ("06001", -72.869292996, 41.832754028),
            ("06002", -72.781137030, 41.844945956),
            ("06010", -72.983250007, 41.710812980),
        ],
    ),
    (
        "ct_060_nad27_26718.geojson",
        [
            ("06001", -72.869293002, 41.832754004),
            ("06002", -72.781136997, 41.844946002),
            ("06010", -72.983249997, 41.710813003),
        ],
    ),
    (
        "ct_060_nad27_utm18/ct_060.shp",
        [
            ("06001", -72.869292997, 41.832754000),
            ("06002", -72.781136997, 41.844946000),
            ("06010", -72.983249997, 41.710813000),
        ],
    ),
];

fn nad27_grid_installed() -> bool {
    let dirs: Vec<std::path::PathBuf> = geoalign::ingest::crs::GRID_DIRS.iter().map(Into::into).collect();
    !geoalign::ingest::crs::nad27_grids(&dirs).is_empty()
}

#[test]
fn nad27_files_ingest_where_ogr2ogr_puts_them_and_say_how() {
    let grid = nad27_grid_installed();
    // Without a grid both use the same 3-parameter shift; a grid moves points by up to ~10 m.
    let bound = if grid { 15.0 } else { 1.0 };
    let (_dir, store) = store();
    for (i, (file, expected)) in NAD27_BY_OGR2OGR.iter().enumerate() {
        let name = format!("n{i}");
        let report = ingest_fixture(&store, file, &name);
        assert_eq!((report.read, report.stored), (3, 3), "{file}");
        assert!(!report.crs_assumed);
        let [note] = report.notes.as_slice() else {
            panic!("{file}: one note expected, got {:?}", report.notes);
        };
        if grid {
            assert!(note.starts_with("NAD27 -> WGS84 with the grid"), "{file}: {note}");
        } else {
            assert_eq!(note, geoalign::ingest::crs::NAD27_WITHOUT_GRID, "{file}");
            assert!(
                note.starts_with("NAD27 -> WGS84 without the NADCON grid: errors up to ~10 m"),
                "{note}"
            );
        }
        assert!(
            report.to_string().contains(&format!("  note: {note}\n")),
            "{report}"
        );
        for (zip, lon, lat) in expected {
            let unit = store.unit(&name, zip).expect("unit");
            let nearest = unit
                .geometry
                .coords_iter()
                .map(|c| metres((c.x, c.y), (*lon, *lat)))
                .fold(f64::INFINITY, f64::min);
            eprintln!("{file} {zip}: {nearest:.4} m from ogr2ogr");
            assert!(
                nearest < bound,
                "{file} {zip}: {nearest:.3} m from ogr2ogr's answer"
            );
        }
    }
    assert_eq!(store.dataset("n0").unwrap().source_crs, "EPSG:4267");
    assert_eq!(store.dataset("n1").unwrap().source_crs, "EPSG:26718");
}

#[test]
fn other_crs_carry_no_datum_note() {
    let (_dir, store) = store();
    for (i, file) in [
        "ct_060_utm18n/ct_060.shp",
        "ct_060_stateplane/ct_060.shp",
        "ct_060.geojson",
    ]
    .iter()
    .enumerate()
    {
        let report = ingest_fixture(&store, file, &format!("o{i}"));
        assert!(report.notes.is_empty(), "{file}: {:?}", report.notes);
        assert!(!report.to_string().contains("note:"), "{file}");
    }
}

/// A one-subgrid NTv2 file named like Canada's NAD27 grid, covering lon -72.90..-72.75,
/// lat 41.80..41.90 with a constant shift of 1.5" north and 2.5" west.
fn write_test_ntv2(dir: &std::path::Path) -> std::path::PathBuf {
    fn record(out: &mut Vec<u8>, key: &str, value: &[u8]) {
        out.extend_from_slice(format!("{key:<8}").as_bytes());
        out.extend_from_slice(value);
    }
    let int = |v: i32| [v.to_le_bytes(), [0; 4]].concat();
    let text = |v: &str| format!("{v:<8}").into_bytes();
    let real = |v: f64| v.to_le_bytes().to_vec();
    let mut out = Vec::new();
    for (key, value) in [
        ("NUM_OREC", int(11)),
        ("NUM_SREC", int(11)),
        ("NUM_FILE", int(1)),
        ("GS_TYPE", text("SECONDS")),
        ("VERSION", text("NTv2.0")),
        ("SYSTEM_F", text("NAD27")),
        ("SYSTEM_T", text("NAD83")),
        ("MAJOR_F", real(6378206.4)),
        ("MINOR_F", real(6356583.8)),
        ("MAJOR_T", real(6378137.0)),
        ("MINOR_T", real(6356752.314)),
        ("SUB_NAME", text("TEST")),
        ("PARENT", text("NONE")),
        ("CREATED", text("20250101")),
        ("UPDATED", text("20250101")),
        ("S_LAT", real(41.80 * 3600.0)),
        ("N_LAT", real(41.90 * 3600.0)),
        ("E_LONG", real(72.75 * 3600.0)),
        ("W_LONG", real(72.90 * 3600.0)),
        ("LAT_INC", real(180.0)),
        ("LONG_INC", real(180.0)),
        ("GS_COUNT", int(12)),
    ] {
        record(&mut out, key, &value);
    }
    for _ in 0..12 {
        for v in [1.5f32, 2.5, 0.0, 0.0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    record(&mut out, "END", &real(0.0));
    let path = dir.join("ntv2_0.gsb");
    std::fs::write(&path, out).expect("write grid");
    path
}

#[test]
fn nad27_grid_is_used_inside_it_and_named_in_the_note() {
    use geoalign::ingest::crs::{NAD27_WITHOUT_GRID, Reprojector, nad27_grids};
    let dir = tempfile::tempdir().expect("tempdir");
    let grid = write_test_ntv2(dir.path());
    let dirs = vec![dir.path().to_owned()];
    assert_eq!(nad27_grids(&dirs), vec![grid.canonicalize().unwrap()]);
    let with_grid = Reprojector::with_grid_dirs(&CrsDef::Epsg(4267), &dirs).expect("grid reprojector");
    let without = Reprojector::with_grid_dirs(&CrsDef::Epsg(4267), &[]).expect("plain reprojector");
    assert_eq!(without.notes(), vec![NAD27_WITHOUT_GRID.to_owned()]);
    assert!(with_grid.notes()[0].contains(&grid.canonicalize().unwrap().display().to_string()));
    // Inside the grid: where `cs2cs +proj=longlat +ellps=clrk66 +nadgrids=<this grid>
    // +to +proj=longlat +datum=WGS84` puts it.
    let inside = geo::coord! { x: -72.8697683, y: 41.8327692 };
    let shifted = with_grid.coord(inside).expect("inside");
    let d = metres((shifted.x, shifted.y), (-72.870462744, 41.833185867));
    assert!(d < 0.01, "{d} m from cs2cs with the grid");
    // Outside it: the 3-parameter shift, counted in the note.
    let outside = geo::coord! { x: -72.9898, y: 41.7108 };
    assert_eq!(with_grid.coord(outside).unwrap(), without.coord(outside).unwrap());
    let note = &with_grid.notes()[0];
    assert!(note.starts_with("NAD27 -> WGS84 with the grid"), "{note}");
    assert!(note.contains("1 coordinate(s) outside the grid"), "{note}");
    // A projected NAD27 CRS uses the grid too.
    let utm = Reprojector::with_grid_dirs(&CrsDef::Epsg(26718), &dirs).expect("utm");
    let lonlat = utm
        .coord(geo::coord! { x: 676891.316, y: 4633189.507 })
        .expect("utm inside");
    let plain = Reprojector::with_grid_dirs(&CrsDef::Epsg(26718), &[])
        .unwrap()
        .coord(geo::coord! { x: 676891.316, y: 4633189.507 })
        .unwrap();
    let moved = metres((lonlat.x, lonlat.y), (plain.x, plain.y));
    assert!(
        moved > 10.0 && moved < 200.0,
        "the grid moved the point {moved} m"
    );
    assert!(utm.notes()[0].starts_with("NAD27 -> WGS84 with the grid"));
}

#[test]
fn installed_nad27_grid_is_named_in_the_summary() {
    if !nad27_grid_installed() {
        eprintln!(
            "skipped: no NTv2 NAD27 grid (conus, alaska, ntv2_0.gsb) in {:?}",
            geoalign::ingest::crs::GRID_DIRS
        );
        return;
    }
    let (_dir, store) = store();
    let report = ingest_fixture(&store, "ct_060_nad27.geojson", "g");
    assert!(
        report.notes[0].starts_with("NAD27 -> WGS84 with the grid"),
        "{:?}",
        report.notes
    );
}

fn robinson() -> CrsDef {
    CrsDef::parse_user("+proj=robin +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs").expect("proj")
}

#[cfg(not(feature = "gdal"))]
#[test]
fn a_crs_proj4rs_cannot_do_is_refused_without_gdal() {
    let (_dir, store) = store();
    let mut opts = options(fixture("ct_060_robinson.geojson"), "r");
    opts.s_srs = Some(robinson());
    match ingest(&store, &opts) {
        Err(IngestError::UnknownCrs { path, crs, .. }) => {
            assert_eq!(path, fixture("ct_060_robinson.geojson"));
            assert!(crs.contains("+proj=robin"), "{crs}");
        }
        other => panic!("expected UnknownCrs, got {other:?}"),
    }
    assert!(store.datasets().unwrap().is_empty());
}

#[cfg(feature = "gdal")]
#[test]
fn gdal_reprojects_a_crs_proj4rs_cannot_do() {
    let (_dir, store) = store();
    let mut opts = options(fixture("ct_060_robinson.geojson"), "r");
    opts.s_srs = Some(robinson());
    let report = ingest(&store, &opts).expect("GDAL does Robinson");
    assert_eq!((report.format, report.stored), ("GeoJSON", 3));
    let [note] = report.notes.as_slice() else {
        panic!("one note expected: {:?}", report.notes);
    };
    assert!(note.contains("by GDAL/PROJ (not supported natively"), "{note}");
    // ogr2ogr's answer: the first vertices of ct_060.geojson.
    for (zip, lon, lat) in [
        ("06001", -72.869293002, 41.832754003),
        ("06002", -72.781136998, 41.844946002),
        ("06010", -72.983249997, 41.710812995),
    ] {
        let unit = store.unit("r", zip).expect("unit");
        let nearest = unit
            .geometry
            .coords_iter()
            .map(|c| metres((c.x, c.y), (lon, lat)))
            .fold(f64::INFINITY, f64::min);
        assert!(nearest < 1.0, "{zip}: {nearest:.3} m from ogr2ogr");
    }
}

/// The demo's numbers are true: the PO-box points file lends `population` (and every
/// metric the polygons lack) to the 177 NYC ZIPs that have polygons, so the demo's
/// territories hold the file's whole population; code-like fields are not summed, and
/// the median income is averaged weighted by households.
#[test]
fn the_demo_holds_the_whole_population_of_its_points_file() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let (_dir, store) = store();
    let reports = geoalign::demo::load_sample(&store, &data, false).expect("sample");
    let summary = reports[1].to_string();
    assert!(
        summary.contains("metrics (summed) households, population"),
        "{summary}"
    );
    assert!(summary.contains("county_fips (a code by its name)"), "{summary}");
    assert!(
        summary.contains("weighted means median_household_income (by households)"),
        "{summary}"
    );
    let engine = geoalign::engine::Engine::new(std::sync::Arc::new(store));
    geoalign::demo::load_alignment(&engine, &data).expect("alignment");
    let snapshot = engine.snapshot(geoalign::demo::ALIGNMENT).expect("snapshot");
    let mut reader = csv::Reader::from_path(data.join(geoalign::demo::SAMPLE_POINTS)).expect("csv");
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "population")
        .unwrap();
    let in_file: f64 = reader
        .records()
        .map(|r| r.unwrap()[column].parse::<f64>().unwrap_or(0.0))
        .sum();
    assert!(in_file > 8_000_000.0, "{in_file}");
    for level in 0..snapshot.shapes.len() {
        let total: f64 = snapshot.shapes[level]
            .values()
            .map(|s| s.metrics.sums.get("population").copied().unwrap_or(0.0))
            .sum();
        assert_eq!(total, in_file, "level {level}");
        assert!(
            snapshot.shapes[level]
                .values()
                .all(|s| !s.metrics.sums.contains_key("county_fips")
                    && !s.metrics.sums.contains_key("median_household_income"))
        );
        let incomes: Vec<f64> = snapshot.shapes[level]
            .values()
            .filter_map(|s| s.metrics.means.get("median_household_income").copied())
            .collect();
        assert!(
            incomes.len() + 1 >= snapshot.shapes[level].len()
                && incomes.iter().all(|i| (20_000.0..300_000.0).contains(i)),
            "level {level}: {incomes:?}"
        );
    }
    let with_people = snapshot.shapes[0]
        .values()
        .filter(|s| s.metrics.sums.get("population").is_some_and(|p| *p > 0.0))
        .count();
    assert!(
        with_people >= snapshot.shapes[0].len() - 1,
        "{with_people} of {}",
        snapshot.shapes[0].len()
    );
}

#[test]
fn a_field_role_naming_no_field_is_refused_by_name() {
    let (_dir, store) = store();
    let mut o = options(fixture("ct_060.geojson"), "ct");
    o.roles.metrics = vec!["populaton".into()];
    let e = ingest(&store, &o).unwrap_err();
    assert!(matches!(e, IngestError::FieldRole { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("--metric populaton: no such field") && text.contains("population"),
        "{text}"
    );
    assert!(!store.dataset_exists("ct").unwrap());
    o.roles = geoalign::ingest::roles::RoleChoices {
        metrics: vec!["population".into()],
        attributes: vec!["population".into()],
        means: Vec::new(),
    };
    let text = ingest(&store, &o).unwrap_err().to_string();
    assert!(text.contains("named in two roles"), "{text}");
}

/// `--mean-weighted-by`: an average field is averaged per territory, weighted by a
/// summed metric (Σ value × weight / Σ weight), never summed; the summary says so, the
/// territory layers and tiles carry it, and a weight that is not a summed metric, a field
/// weighted by itself or one with no numbers is refused by name with nothing stored.
#[test]
fn an_average_field_is_averaged_per_territory_weighted_by_a_metric() {
    let mut collection: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("ct_060.geojson")).unwrap()).unwrap();
    for (i, f) in collection["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        f["properties"]["median_age"] = serde_json::json!(30.0 + (i * 7 % 19) as f64 * 0.5);
    }
    let features = collection["features"].as_array().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ct_ages.geojson");
    std::fs::write(&path, collection.to_string()).unwrap();
    let (_store_dir, store) = store();
    let mut o = options(path.clone(), "ct");
    o.roles.means = vec![("median_age".into(), "households".into())];
    let report = ingest(&store, &o).expect("ingest");
    let summary = report.to_string();
    assert!(
        summary
            .contains("metrics (summed) households, population; weighted means median_age (by households)"),
        "{summary}"
    );
    assert_eq!(store.dataset("ct").unwrap().means["median_age"], "households");
    assert_eq!(store.dataset("ct").unwrap().metrics, ["households", "population"]);

    let engine = geoalign::engine::Engine::new(std::sync::Arc::new(store));
    let zips: Vec<(String, f64, f64)> = features
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["zip"].as_str().unwrap().to_owned(),
                p["median_age"].as_f64().unwrap(),
                p["households"].as_f64().unwrap(),
            )
        })
        .collect();
    let sheet: String = std::iter::once("unit_id,territory\n".to_owned())
        .chain(
            zips.iter()
                .enumerate()
                .map(|(i, (zip, _, _))| format!("{zip},{}\n", if i < 9 { "A" } else { "B" })),
        )
        .collect();
    engine
        .import_sheet(
            "ages",
            "ct",
            Some(vec!["territory".into()]),
            None,
            sheet.as_bytes(),
        )
        .unwrap();
    let s = engine.snapshot("ages").unwrap();
    for (code, range) in [("A", 0..9), ("B", 9..zips.len())] {
        let part = &zips[range];
        let expected =
            part.iter().map(|(_, a, h)| a * h).sum::<f64>() / part.iter().map(|(_, _, h)| h).sum::<f64>();
        let m = &s.shapes[0][code].metrics;
        assert!(
            (m.means["median_age"] - expected).abs() < 1e-9,
            "{code}: {} vs {expected}",
            m.means["median_age"]
        );
        assert!(
            !m.sums.contains_key("median_age"),
            "{code}: the average was summed"
        );
        assert_eq!(m.value("median_age"), Some(m.means["median_age"]));
    }
    let layer = geoalign::export::Layer::new(&s, geoalign::export::Level::Alignment(0));
    let column = layer
        .columns
        .iter()
        .find(|c| c.name == "median_age")
        .expect("a median_age column");
    assert_eq!(column.kind, geoalign::export::ColumnKind::Real);

    let (_dir2, store) = common::store();
    for (means, named, problem) in [
        (
            ("median_age", "state"),
            "--mean-weighted-by state",
            "is not a summed metric",
        ),
        (
            ("median_age", "median_age"),
            "--mean-weighted-by median_age",
            "weighted by itself",
        ),
        (
            ("state", "households"),
            "--mean-weighted-by state",
            "holds no numbers",
        ),
        (
            ("median_agee", "households"),
            "--mean-weighted-by median_agee",
            "no such field",
        ),
    ] {
        let mut o = options(path.clone(), "bad");
        o.roles.means = vec![(means.0.into(), means.1.into())];
        let text = ingest(&store, &o).unwrap_err().to_string();
        assert!(text.contains(&format!("{named}: {problem}")), "{text}");
        assert!(!store.dataset_exists("bad").unwrap());
    }
}

/// Files the fuzz targets (fuzz/) found crashing or exhausting memory; each is refused
/// (or its feature rejected) with a reason now.
#[test]
fn inputs_the_fuzzers_found_are_refused_with_a_reason() {
    use geoalign::ingest::readers::read;
    let path = |name: &str| common::fixture(&format!("fuzz/{name}"));
    let refused = |name: &str| match read(&path(name), None, None) {
        Err(e) => e.to_string(),
        Ok(layer) => panic!("{name}: read {} features", layer.features.len()),
    };
    let size = refused("feature_size.fgb");
    assert!(
        size.contains("says it is") && size.contains("bytes; only"),
        "{size}"
    );
    // A header whose feature count was reserved up front, with a forged first feature.
    let count = refused("feature_count.fgb");
    assert!(count.contains("feature 0 at byte 1728 says it is"), "{count}");
    let layer = read(&path("property_length.fgb"), None, None).expect("the other features read");
    let defects: Vec<String> = layer.features.iter().filter_map(|f| f.defect.clone()).collect();
    assert!(
        defects.iter().any(|d| d.contains("runs past the feature's")),
        "{defects:?}"
    );
    // A point feature whose geometry has no coordinates (the crate indexed xy[0]).
    let layer = read(&path("point_without_xy.fgb"), None, None).expect("the file itself reads");
    let defects: Vec<String> = layer.features.iter().filter_map(|f| f.defect.clone()).collect();
    assert!(
        defects
            .iter()
            .any(|d| d == "unreadable geometry: a point without coordinates"),
        "{defects:?}"
    );
    let dbf = refused("dbf_header.shp");
    assert!(dbf.contains("the dBASE header says it is"), "{dbf}");
    let gpkg = match read(&path("point_count.gpkg"), None, None) {
        Ok(layer) => layer
            .features
            .iter()
            .filter_map(|f| f.defect.clone())
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => e.to_string(),
    };
    assert!(gpkg.contains("declared at byte"), "{gpkg}");
    // A column whose name is not UTF-8 (rusqlite panics on such a result column's name).
    let column = refused("column_name.gpkg");
    assert!(column.contains("layer 'units': unreadable columns"), "{column}");
    let prj = String::from_utf8_lossy(&std::fs::read(path("multibyte.prj")).unwrap()).into_owned();
    assert_eq!(geoalign::ingest::crs::epsg_of_wkt(&prj), None);
}

/// Unit metrics from another table: joined by normalised id, summed or averaged per
/// territory, replaced by a later import, and every bad file refused by line and column
/// with nothing changed.
#[test]
fn metrics_tables_join_units_by_id_and_feed_territory_metrics() {
    use geoalign::ingest::MetricsError;
    use geoalign::ingest::metrics_table::{MetricsImport, import};
    use geoalign::ingest::roles::RoleChoices;
    let (dir, engine) = common::sample_engine();
    let store = engine.store().clone();
    let s = engine.snapshot("nyc").unwrap();
    let ids: Vec<String> = s.dataset.units.iter().map(|u| u.id.clone()).collect();
    // Values derived from the id, so the expected sums are computed independently.
    let value = |id: &str| -> (f64, f64, f64) {
        let n: f64 = id.parse().unwrap();
        (
            30_000.0 + (n % 97.0) * 1000.0,
            100.0 + n % 13.0,
            (n % 31.0) * 10.5,
        )
    };
    let mut csv = String::from("zip,median_income,households,potential,segment\n");
    for (i, id) in ids.iter().enumerate().filter(|(i, _)| i % 2 == 0) {
        let (income, households, potential) = value(id);
        // One ZIP+4 id: normalised as sheets' ids are.
        let id = if i == 0 { format!("{id}-1234") } else { id.clone() };
        csv.push_str(&format!("{id},{income},{households},{potential},urban\n"));
    }
    csv.push_str("98765,1,1,1,x\nnot-a-zip,1,1,1,x\n");
    let file = dir.path().join("income.csv");
    std::fs::write(&file, &csv).unwrap();
    let options = |path: &std::path::Path, means: Vec<(String, String)>| MetricsImport {
        path: path.to_owned(),
        dataset: "nyc".into(),
        id_field: "zip".into(),
        choices: RoleChoices {
            means,
            ..RoleChoices::default()
        },
    };
    let weighted = vec![("median_income".to_owned(), "households".to_owned())];
    let report = import(&store, &options(&file, weighted.clone())).unwrap();
    let given = ids.len().div_ceil(2);
    assert_eq!(
        (report.units, report.units_without_row),
        (given, ids.len() - given)
    );
    assert_eq!(report.unknown_count, 2);
    assert_eq!(report.unknown[0], (given + 2, "98765".to_owned()));
    assert_eq!(report.text, ["segment"]);
    let text = report.to_string();
    assert!(text.contains("2 rows name no unit, skipped: line"), "{text}");

    let info = store.dataset("nyc").unwrap();
    assert!(
        info.metrics.contains(&"potential".to_owned()),
        "{:?}",
        info.metrics
    );
    assert_eq!(
        info.means.get("median_income").map(String::as_str),
        Some("households")
    );
    engine.refresh().unwrap();
    let s = engine.snapshot("nyc").unwrap();
    let with_values: std::collections::HashSet<&str> = ids
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, id)| id.as_str())
        .collect();
    for (code, shape) in &s.shapes[0] {
        let members: Vec<&str> = shape
            .members
            .iter()
            .map(|&u| s.dataset.units.get(u).id.as_str())
            .filter(|id| with_values.contains(id))
            .collect();
        let potential: f64 = members.iter().map(|id| value(id).2).sum();
        let got = shape.metrics.sums.get("potential").copied().unwrap_or(0.0);
        assert!(
            (got - potential).abs() < 1e-6,
            "{code}: potential {got} != {potential}"
        );
        let (num, den) = members.iter().fold((0.0, 0.0), |(a, b), id| {
            let (income, households, _) = value(id);
            (a + income * households, b + households)
        });
        if den > 0.0 {
            let mean = shape.metrics.means["median_income"];
            assert!(
                (mean - num / den).abs() < 1e-6,
                "{code}: mean income {mean} != {}",
                num / den
            );
            assert!(
                !shape.metrics.sums.contains_key("median_income"),
                "{code}: an average is not summed"
            );
        }
    }

    // Bad files change nothing.
    let before = store.dataset_generation("nyc").unwrap();
    for (body, want) in [
        (
            format!("zip,potential\n{},lots\n{},2\n", ids[0], ids[1]),
            "line 2: column potential: \"lots\" is not a number",
        ),
        (
            format!("zip,potential\n{},1\n{},2\n", ids[0], ids[0]),
            "line 3: unit",
        ),
        (
            "code,potential\n10001,1\n".to_owned(),
            "no id column 'zip'; header: code,potential",
        ),
        (
            "zip,potential\n98765,1\n".to_owned(),
            "no row's id is a unit of dataset 'nyc'",
        ),
    ] {
        std::fs::write(&file, &body).unwrap();
        let e = import(&store, &options(&file, Vec::new()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(want) && e.contains("income.csv"), "{body}: {e}");
    }
    let e = import(&store, &options(&file, vec![("potential".into(), "nope".into())])).unwrap_err();
    assert!(matches!(e, MetricsError::FieldRole { .. }), "{e}");
    assert_eq!(store.dataset_generation("nyc").unwrap(), before);

    // A later import of a column replaces it on every unit; other columns stay.
    std::fs::write(&file, format!("zip,potential\n{},7\n", ids[1])).unwrap();
    import(&store, &options(&file, Vec::new())).unwrap();
    engine.refresh().unwrap();
    let s = engine.snapshot("nyc").unwrap();
    let total = |name: &str| -> f64 {
        s.shapes[0]
            .values()
            .filter_map(|t| t.metrics.sums.get(name))
            .sum()
    };
    assert_eq!(total("potential"), 7.0);
    let households: f64 = with_values.iter().map(|id| value(id).1).sum();
    assert!((total("households") - households).abs() < 1e-6);
}

//! Exports round-tripped through a reader that is not ours: GDAL's `ogr2ogr`
//! (skipped with a message when GDAL's command-line tools are absent).

use crate::common;

use std::path::Path;
use std::process::Command;

use geo::ChamberlainDuquetteArea;
use geoalign::export::{Format, Layer, Level, export_file};
use geozero::ToGeo;
use serde_json::Value;

/// Whether `ogr2ogr` runs here; prints why a test is skipped when not.
fn gdal() -> bool {
    let ok = Command::new("ogr2ogr")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: ogr2ogr is absent (apt-get install gdal-bin)");
    }
    ok
}

/// Reads a file through GDAL as GeoJSON; asserts GDAL printed no warning.
fn read_with_gdal(path: &Path) -> Value {
    let out = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "/vsistdout/"])
        .arg(path)
        .output()
        .expect("run ogr2ogr");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ogr2ogr {}: {stderr}", path.display());
    assert!(
        stderr.trim().is_empty(),
        "GDAL warned on {}: {stderr}",
        path.display()
    );
    serde_json::from_slice(&out.stdout).expect("GeoJSON from ogr2ogr")
}

/// The field types GDAL reads from a file (`ogrinfo -so -al`): name -> type, e.g.
/// `units` -> `Integer64`, `locked` -> `Integer(Boolean)`.
fn gdal_field_types(path: &Path) -> std::collections::BTreeMap<String, String> {
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", "-al"])
        .arg(path)
        .output()
        .expect("run ogrinfo");
    assert!(out.status.success(), "ogrinfo {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once(": ")?;
            let kind = rest.split(' ').next()?;
            let known = ["String", "Integer", "Integer64", "Real", "Integer(Boolean)"];
            (known.contains(&kind) && !name.starts_with(' ')).then(|| (name.to_owned(), kind.to_owned()))
        })
        .collect()
}

fn area_km2(geometry: &Value) -> f64 {
    let g = geozero::geojson::GeoJson(&geometry.to_string())
        .to_geo()
        .expect("geometry");
    match g {
        geo::Geometry::MultiPolygon(mp) => mp.chamberlain_duquette_unsigned_area() / 1e6,
        geo::Geometry::Polygon(p) => p.chamberlain_duquette_unsigned_area() / 1e6,
        _ => 0.0,
    }
}

#[test]
fn every_format_and_level_round_trips_through_gdal() {
    let (_dir, engine) = common::sample_engine();
    let s = engine.snapshot("nyc").expect("snapshot");
    let out = tempfile::tempdir().expect("tempdir");
    let gdal = gdal();
    for (level, count) in [
        (Level::Unit, 306),
        (Level::Alignment(0), 28),
        (Level::Alignment(1), 5),
        (Level::Alignment(2), 3),
    ] {
        let layer = Layer::new(&s, level);
        assert_eq!(layer.len(), count);
        for format in [Format::Fgb, Format::GeoJson, Format::Gpkg, Format::Csv] {
            let path = out
                .path()
                .join(format!("{}.{}", level.name(&s), format.extension()));
            export_file(&layer, format, &path, &|_| {}).expect("export");
            if format == Format::Csv {
                export_file(&layer, Format::Csvt, &path.with_extension("csvt"), &|_| {}).expect("csvt");
                let mut csv = csv::Reader::from_path(&path).expect("csv");
                let headers = csv.headers().expect("headers").clone();
                assert_eq!(headers.len(), layer.columns.len());
                assert_eq!(csv.records().count(), count);
            }
            if !gdal {
                continue;
            }
            // Integer source fields (the sample's population) stay integers in every
            // format, as GDAL reads them; counts are integers, areas real, names text.
            let types = gdal_field_types(&path);
            let integer = |name: &str| {
                let kind = types.get(name).map(String::as_str);
                assert!(
                    matches!(kind, Some("Integer" | "Integer64")),
                    "{}: {name} is {kind:?} ({types:?})",
                    path.display()
                );
            };
            integer("population_estimate");
            if let Level::Alignment(_) = level {
                integer("units");
                assert_eq!(types["area_km2"], "Real", "{}", path.display());
                assert_eq!(types["name"], "String", "{}", path.display());
                assert_eq!(types["locked"], "Integer(Boolean)", "{}", path.display());
            }
            if format == Format::Csv {
                let read = read_with_gdal(&path);
                assert_eq!(read["features"].as_array().map(Vec::len), Some(count));
                continue;
            }
            let read = read_with_gdal(&path);
            let features = read["features"].as_array().expect("features");
            assert_eq!(features.len(), count, "{}", path.display());
            if let Level::Alignment(l) = level {
                for f in features {
                    let code = f["properties"]["code"].as_str().expect("code");
                    let shape = &s.shapes[l][code];
                    let name = &s.state.territories[l][code].name;
                    assert_eq!(f["properties"]["name"].as_str(), Some(name.as_str()));
                    assert_eq!(
                        f["properties"]["units"].as_i64(),
                        Some(shape.metrics.units as i64)
                    );
                    let area = area_km2(&f["geometry"]);
                    let expected = shape.metrics.area_km2;
                    assert!(
                        (area - expected).abs() <= 1e-6 * expected.max(1.0),
                        "{} {code}: area {area} vs {expected}",
                        path.display()
                    );
                    let stored = f["properties"]["area_km2"].as_f64().expect("area_km2");
                    assert!((stored - expected).abs() < 1e-9 * expected.max(1.0));
                }
            } else {
                let f = features
                    .iter()
                    .find(|f| f["properties"]["unit_id"] == "10001")
                    .expect("unit 10001");
                assert_eq!(f["properties"]["territory"], "T1000");
                assert_eq!(f["properties"]["district"], "Manhattan");
                assert_eq!(f["properties"]["rep"], "R1000");
                let points = features
                    .iter()
                    .filter(|f| f["geometry"]["type"] == "Point")
                    .count();
                assert_eq!(points, 128, "{}", path.display());
            }
        }
    }
}

#[test]
fn accounts_export_as_points_with_their_owner_in_every_format() {
    use geoalign::align::Op;
    let (_dir, engine) = common::sample_engine();
    let sheet = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nyc_accounts.csv"))
        .expect("accounts");
    let s = engine.snapshot("nyc").expect("snapshot");
    let mut ops = geoalign::align::records::accounts(sheet.as_bytes(), &s.state).expect("accounts sheet");
    ops.push(Op::CreateRule {
        rule: "BIG".into(),
        territory: "T1001".into(),
        condition: "employees >= 300".into(),
        priority: None,
    });
    let s = engine
        .apply("nyc", s.revision, &ops, "test")
        .expect("apply")
        .snapshot;
    let layer = Layer::new(&s, Level::parse(&s, "accounts").expect("accounts level"));
    assert_eq!(layer.len(), 120);
    let out = tempfile::tempdir().expect("tempdir");
    let gdal = gdal();
    for format in [Format::Fgb, Format::GeoJson, Format::Gpkg, Format::Csv] {
        let path = out.path().join(format!("accounts.{}", format.extension()));
        export_file(&layer, format, &path, &|_| {}).expect("export");
        if format == Format::Csv {
            export_file(&layer, Format::Csvt, &path.with_extension("csvt"), &|_| {}).expect("csvt");
        }
        if !gdal {
            continue;
        }
        let types = gdal_field_types(&path);
        assert!(
            matches!(types["employees"].as_str(), "Integer" | "Integer64"),
            "{types:?}"
        );
        assert_eq!(types["lon"], "Real", "{}", path.display());
        let read = read_with_gdal(&path);
        let features = read["features"].as_array().expect("features");
        assert_eq!(features.len(), 120, "{}", path.display());
        let mut by_rule = 0;
        // CSV has no null text: an empty cell is one.
        let text = |v: &Value| v.as_str().filter(|t| !t.is_empty()).map(str::to_owned);
        for f in features {
            let p = &f["properties"];
            let id = p["account_id"].as_str().expect("account_id");
            let view = s.account_view(id).expect("an account of the alignment");
            assert_eq!(
                text(&p["territory"]),
                view.owner.get("territory").cloned(),
                "{id}"
            );
            assert_eq!(text(&p["district"]), view.owner.get("district").cloned(), "{id}");
            assert_eq!(text(&p["placed_by"]).as_deref(), view.placed_by, "{id}");
            assert_eq!(text(&p["rule"]), view.rule, "{id}");
            assert_eq!(text(&p["unit_id"]), view.unit, "{id}");
            let big = p["employees"].as_i64().expect("employees") >= 300;
            assert_eq!(big, view.rule.is_some(), "{id}");
            by_rule += usize::from(big);
            if format != Format::Csv {
                let record = &s.state.accounts[id].record;
                assert_eq!(f["geometry"]["type"], "Point", "{}", path.display());
                let xy = &f["geometry"]["coordinates"];
                assert!((xy[0].as_f64().unwrap() - record.lon).abs() < 1e-9, "{id}");
                assert!((xy[1].as_f64().unwrap() - record.lat).abs() < 1e-9, "{id}");
            }
        }
        assert!(by_rule > 10, "{by_rule} accounts placed by the rule");
    }
}

#[test]
fn geojson_follows_the_right_hand_rule() {
    let (_dir, engine) = common::sample_engine();
    let s = engine.snapshot("nyc").expect("snapshot");
    let layer = Layer::new(&s, Level::Alignment(1));
    let mut out = Vec::new();
    geoalign::export::write(&layer, Format::GeoJson, &mut out, &|_| {}).expect("geojson");
    let doc: Value = serde_json::from_slice(&out).expect("json");
    let signed = |ring: &Value| {
        let pts: Vec<(f64, f64)> = ring
            .as_array()
            .expect("ring")
            .iter()
            .map(|c| (c[0].as_f64().expect("x"), c[1].as_f64().expect("y")))
            .collect();
        pts.windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum::<f64>()
            / 2.0
    };
    let mut rings = 0;
    for f in doc["features"].as_array().expect("features") {
        for polygon in f["geometry"]["coordinates"].as_array().expect("coordinates") {
            for (i, ring) in polygon.as_array().expect("polygon").iter().enumerate() {
                let area = signed(ring);
                assert!(
                    if i == 0 { area > 0.0 } else { area < 0.0 },
                    "ring {i} wound wrongly"
                );
                rings += 1;
            }
        }
    }
    assert!(rings >= 5);
}

#[test]
fn flatgeobuf_has_the_index_and_the_crs() {
    let (_dir, engine) = common::sample_engine();
    let s = engine.snapshot("nyc").expect("snapshot");
    let layer = Layer::new(&s, Level::Unit);
    let mut out = Vec::new();
    geoalign::export::write(&layer, Format::Fgb, &mut out, &|_| {}).expect("fgb");
    let reader = flatgeobuf::FgbReader::open(std::io::Cursor::new(&out)).expect("open");
    let header = reader.header();
    assert_eq!(header.features_count(), 306);
    assert_eq!(header.index_node_size(), 16, "packed Hilbert R-tree");
    assert_eq!(header.crs().map(|c| c.code()), Some(4326));
    let mut bbox = reader.select_bbox(-73.99, 40.74, -73.98, 40.75).expect("bbox");
    let mut n = 0;
    while let Some(_f) = flatgeobuf::FallibleStreamingIterator::next(&mut bbox).expect("next") {
        n += 1;
    }
    assert!(n > 0 && n < 30, "{n} features in a small bbox");
}

#[test]
fn unknown_levels_and_formats_are_refused() {
    let (_dir, engine) = common::sample_engine();
    let s = engine.snapshot("nyc").expect("snapshot");
    let e = Level::parse(&s, "county").unwrap_err().to_string();
    assert!(e.contains("territory, district, region"), "{e}");
    assert_eq!(Level::parse(&s, "districts").unwrap(), Level::Alignment(1));
    assert!("shp".parse::<Format>().is_err());
}

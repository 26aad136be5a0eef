//! Vector tiles of the sample: every tile of zooms 0-10 decodes (with geozero's
//! MVT protobuf types, independent of our encoder) into valid polygons with MVT winding; no
//! gap or overlap between territories; the HTTP semantics (TileJSON, ETag/304, gzip,
//! HEAD, 204, 404/400, CORS); a committed change alters exactly the tiles it should;
//! exports hold the served bytes.

use crate::common;

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use actix_web::test as atest;
use actix_web::{App, http::StatusCode, web};
use geo::{Area, BooleanOps, Coord, LineString, MultiPolygon, Polygon, Validation};
use geoalign::align::Op;
use geoalign::http::{AppState, configure};
use geoalign::tiles::export::{ExportOptions, Format, export, pyramid};
use geoalign::tiles::{TileId, TileOptions, TileService, lonlat_to_world};
use geozero::mvt::{self, Message};

// ---- MVT decoding (geozero's protobuf types) ------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Val {
    S(String),
    F(f64),
    I(i64),
    B(bool),
}

#[derive(Debug, Clone)]
struct Feature {
    id: Option<u64>,
    kind: u64,
    props: BTreeMap<String, Val>,
    geometry: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Layer {
    name: String,
    version: u64,
    extent: u64,
    features: Vec<Feature>,
}

fn value(v: &mvt::tile::Value) -> Val {
    if let Some(s) = &v.string_value {
        Val::S(s.clone())
    } else if let Some(f) = v.float_value {
        Val::F(f64::from(f))
    } else if let Some(d) = v.double_value {
        Val::F(d)
    } else if let Some(i) = v.int_value.or(v.sint_value) {
        Val::I(i)
    } else if let Some(u) = v.uint_value {
        Val::I(u as i64)
    } else {
        Val::B(v.bool_value.unwrap_or(false))
    }
}

/// The layers of a tile, decoded by geozero's MVT protobuf types; geometries stay as
/// command streams so that the tests check the encoding itself.
fn decode(tile: &[u8]) -> Vec<Layer> {
    let tile = mvt::Tile::decode(tile).expect("an MVT protobuf");
    tile.layers
        .into_iter()
        .map(|l| {
            let values: Vec<Val> = l.values.iter().map(value).collect();
            let features = l
                .features
                .into_iter()
                .map(|f| {
                    assert_eq!(f.tags.len() % 2, 0, "odd tags");
                    Feature {
                        id: f.id,
                        kind: f.r#type.unwrap_or(0) as u64,
                        props: f
                            .tags
                            .chunks(2)
                            .map(|kv| (l.keys[kv[0] as usize].clone(), values[kv[1] as usize].clone()))
                            .collect(),
                        geometry: f.geometry,
                    }
                })
                .collect();
            Layer {
                name: l.name,
                version: u64::from(l.version),
                extent: u64::from(l.extent.unwrap_or(4096)),
                features,
            }
        })
        .collect()
}

fn unzig(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

/// Rings (polygons) or parts (lines) of a geometry, as tile coordinates.
fn paths(geometry: &[u32], kind: u64) -> Vec<Vec<[i32; 2]>> {
    let (mut x, mut y) = (0i32, 0i32);
    let mut out: Vec<Vec<[i32; 2]>> = Vec::new();
    let mut i = 0;
    while i < geometry.len() {
        let (cmd, count) = (geometry[i] & 7, (geometry[i] >> 3) as usize);
        i += 1;
        match cmd {
            1 => {
                assert_eq!(count, 1, "MoveTo with count {count}");
                x += unzig(geometry[i]);
                y += unzig(geometry[i + 1]);
                i += 2;
                out.push(vec![[x, y]]);
            }
            2 => {
                assert!(count > 0);
                for _ in 0..count {
                    x += unzig(geometry[i]);
                    y += unzig(geometry[i + 1]);
                    i += 2;
                    out.last_mut().expect("LineTo before MoveTo").push([x, y]);
                }
            }
            7 => assert_eq!(kind, 3, "ClosePath outside a polygon"),
            c => panic!("command {c}"),
        }
    }
    out
}

fn area2(ring: &[[i32; 2]]) -> i64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            i64::from(a[0]) * i64::from(b[1]) - i64::from(b[0]) * i64::from(a[1])
        })
        .sum()
}

/// Polygons of a polygon feature, checking MVT winding: exterior positive area in
/// tile coordinates, holes negative, no repeated points, at least 3 distinct points.
fn polygons(feature: &Feature) -> MultiPolygon<f64> {
    let mut out: Vec<Polygon<f64>> = Vec::new();
    for ring in paths(&feature.geometry, 3) {
        assert!(ring.len() >= 3, "ring of {} points", ring.len());
        for w in ring.windows(2) {
            assert_ne!(w[0], w[1], "repeated point");
        }
        assert_ne!(ring.first(), ring.last(), "explicitly closed ring");
        let a = area2(&ring);
        assert_ne!(a, 0, "zero-area ring");
        let ls = LineString::new(
            ring.iter()
                .map(|p| Coord {
                    x: f64::from(p[0]),
                    y: f64::from(p[1]),
                })
                .collect(),
        );
        if a > 0 {
            out.push(Polygon::new(ls, vec![]));
        } else {
            let last = out.last_mut().expect("a hole before any exterior ring");
            last.interiors_push(ls);
        }
    }
    MultiPolygon::new(out)
}

fn sample_service() -> (tempfile::TempDir, Arc<TileService>) {
    let (dir, engine) = common::sample_engine();
    let service = Arc::new(TileService::new(Arc::new(engine), TileOptions::default()));
    (dir, service)
}

// ---- geometry -----------------------------------------------------------------

/// Every polygon of the zip5_us ZIP3 tiles holding every 40th ZIP, zooms 4-11, is valid
/// (real boundaries: long coasts, islands, rings leaving and re-entering a tile).
#[test]
fn zip3_tiles_of_the_whole_us_are_valid() {
    let Some(path) = common::shared("zip5_us.fgb") else {
        eprintln!("skipped: ../shared/data/zip5_us.fgb is absent");
        return;
    };
    let (_dir, store) = common::store();
    geoalign::ingest::ingest(&store, &common::options(path, "us")).unwrap();
    let engine = geoalign::engine::Engine::new(Arc::new(store));
    let units = engine.store().units("us").unwrap();
    let mut sheet = String::from("unit_id,territory\n");
    for u in &units {
        sheet.push_str(&format!("{},{}\n", u.id, &u.id[..3]));
    }
    engine
        .import_sheet(
            "zip3",
            "us",
            Some(vec!["territory".into()]),
            None,
            sheet.as_bytes(),
        )
        .unwrap();
    let service = TileService::new(Arc::new(engine), TileOptions::default());
    let view = service.view("zip3").unwrap();
    let mut tiles = std::collections::BTreeSet::new();
    for polygon in view.snapshot.dataset.polygons.iter().step_by(40) {
        let Some(c) = geo::InteriorPoint::interior_point(polygon) else {
            continue;
        };
        let [x, y] = geoalign::tiles::lonlat_to_world(c.x(), c.y());
        for z in 4..=11 {
            tiles.insert(TileId::containing(z, x, y));
        }
    }
    let mut checked = 0;
    for tile in &tiles {
        for layer in decode(&service.render("zip3", *tile).unwrap()) {
            for f in layer.features.iter().filter(|f| f.kind == 3) {
                if let Err(e) = polygons(f).check_validation() {
                    panic!(
                        "{tile} {} {:?}: invalid polygon: {e:?}",
                        layer.name,
                        f.props.get("id")
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 20_000, "{checked} polygons in {} tiles", tiles.len());
}

#[test]
fn every_tile_of_the_sample_to_zoom_10_is_valid_and_gap_free() {
    let (_dir, service) = sample_service();
    pyramid_is_valid_and_gap_free(&service);
}

/// The same on the sample with every second unit jittered by up to 0.5 m, as real files
/// are digitised: cleaning at ingest keeps the tiles gap-free.
#[test]
fn every_tile_of_the_jittered_sample_is_valid_and_gap_free() {
    let data = crate::clean::jittered_sample();
    let (_dir, engine) = common::engine_on(data.path());
    let service = Arc::new(TileService::new(Arc::new(engine), TileOptions::default()));
    pyramid_is_valid_and_gap_free(&service);
}

fn pyramid_is_valid_and_gap_free(service: &TileService) {
    let view = service.view("nyc").unwrap();
    let tiles = pyramid(&view, 0, 12, 64.0 / 4096.0);
    assert!(tiles.len() > 50, "{} tiles", tiles.len());
    let mut levels_seen = std::collections::BTreeSet::new();
    let mut polygons_checked = 0;
    let mut worst_gap = 0.0f64;
    for tile in &tiles {
        let bytes = service.render("nyc", *tile).unwrap();
        if bytes.is_empty() {
            continue;
        }
        let layers = decode(&bytes);
        let mut names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n, "duplicate layer names in {tile}");
        let mut by_layer: BTreeMap<&str, MultiPolygon<f64>> = BTreeMap::new();
        for layer in &layers {
            assert_eq!(layer.version, 2, "{}", layer.name);
            assert_eq!(layer.extent, 4096);
            let mut ids = std::collections::BTreeSet::new();
            for f in &layer.features {
                assert!(ids.insert(f.id), "duplicate feature id in {} {tile}", layer.name);
                match f.kind {
                    3 => {
                        let mp = polygons(f);
                        if let Err(e) = mp.check_validation() {
                            panic!(
                                "{tile} {} {:?}: invalid polygon: {e:?}\n{:?}",
                                layer.name,
                                f.props.get("id"),
                                paths(&f.geometry, 3)
                            );
                        }
                        polygons_checked += 1;
                        let all = by_layer
                            .entry(layer.name.as_str())
                            .or_insert_with(|| MultiPolygon::new(vec![]));
                        all.0.extend(mp.0);
                    }
                    2 => {
                        assert!(paths(&f.geometry, 2).iter().all(|p| p.len() >= 2));
                        if let Some(Val::S(level)) = f.props.get("level") {
                            levels_seen.insert(level.clone());
                        }
                    }
                    1 => assert_eq!(paths(&f.geometry, 1).len(), 1),
                    k => panic!("geometry type {k}"),
                }
            }
        }
        // Territories, districts and regions cover the same ground: neither overlaps
        // nor gaps between neighbours (both would change the areas below). Below zoom 6
        // the sample's territories are a few grid units wide, smaller than a screen pixel.
        let (Some(t), Some(r)) = (by_layer.get("territories"), by_layer.get("regions")) else {
            continue;
        };
        if tile.z < 6 {
            continue;
        }
        let sum_t: f64 = t.iter().map(|p| p.unsigned_area()).sum();
        let union_t = t.iter().fold(MultiPolygon::new(vec![]), |acc, p| {
            acc.union(&MultiPolygon::new(vec![p.clone()]))
        });
        let union_r = r.iter().fold(MultiPolygon::new(vec![]), |acc, p| {
            acc.union(&MultiPolygon::new(vec![p.clone()]))
        });
        // Relative to the area, with a few grid units² of slack for slivers of the buffer.
        let slack = |area: f64| 1e-3 * area + 16.0;
        let overlap = sum_t - union_t.unsigned_area();
        let gap = (union_r.unsigned_area() - union_t.unsigned_area()).abs();
        eprintln!(
            "{tile}: overlap {overlap:.1}, gap {gap:.1} of {:.0} grid units²",
            union_r.unsigned_area()
        );
        assert!(
            overlap <= slack(sum_t),
            "{tile}: territories overlap by {overlap} grid units²"
        );
        assert!(
            gap <= slack(union_r.unsigned_area()),
            "{tile}: territories and regions differ by {gap} grid units²"
        );
        let gap = gap / union_r.unsigned_area();
        worst_gap = worst_gap.max(gap);
    }
    assert!(polygons_checked > 1000, "{polygons_checked}");
    // The sample's boroughs (districts) share land borders only across regions.
    assert!(
        levels_seen.contains("territory") && levels_seen.contains("region"),
        "{levels_seen:?}"
    );
    assert!(
        levels_seen
            .iter()
            .all(|l| ["territory", "district", "region"].contains(&l.as_str()))
    );
    eprintln!(
        "{} tiles, {polygons_checked} polygons, worst coverage difference {worst_gap:.2e}",
        tiles.len()
    );
}

#[test]
fn layers_and_properties() {
    let (_dir, service) = sample_service();
    // Midtown Manhattan at z10 holds territories, units, boundaries, labels and reps.
    let bytes = service.render("nyc", TileId::new(10, 301, 384).unwrap()).unwrap();
    let layers = decode(&bytes);
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    for expected in [
        "regions",
        "districts",
        "territories",
        "units",
        "boundaries",
        "labels",
        "reps",
    ] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    let layer = |n: &str| layers.iter().find(|l| l.name == n).unwrap();
    let t = &layer("territories").features[0];
    for key in ["id", "name", "color", "units", "area_km2", "reps"] {
        assert!(
            t.props.contains_key(key),
            "territory property {key}: {:?}",
            t.props
        );
    }
    let u = &layer("units").features[0];
    for key in ["id", "territory", "district", "region"] {
        assert!(u.props.contains_key(key), "unit property {key}: {:?}", u.props);
    }
    assert!(
        layer("boundaries")
            .features
            .iter()
            .all(|f| f.kind == 2 && f.props.contains_key("level"))
    );
    // Colours: at most 8, and no two neighbouring territories share one.
    let view = service.view("nyc").unwrap();
    let territories = &view.levels[0];
    assert!(territories.colours.iter().all(|c| *c < 8));
    let distinct: std::collections::BTreeSet<u8> = territories.colours.iter().copied().collect();
    assert!(distinct.len() >= 3);
    let topology = &view.snapshot.dataset.topology;
    for a in 0..topology.arc_count() {
        if let (Some(l), Some(r)) = topology.arc_sides(a) {
            let (ol, or) = (view.owner[0][l as usize], view.owner[0][r as usize]);
            if ol != or && ol != u32::MAX && or != u32::MAX {
                assert_ne!(territories.colours[ol as usize], territories.colours[or as usize]);
            }
        }
    }
}

/// A commit's `Change` (recorded by the attached service's hook) and the view's colours
/// say exactly where tiles differ: served tiles (carried forward or rendered) equal a
/// fresh render after a unit move, a rep renamed (the territories that list the rep by
/// name, wherever the rep lives) and a rep taken off a territory.
#[test]
fn a_committed_change_alters_exactly_the_tiles_it_touches() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let service = TileService::attached(engine.clone(), TileOptions::default());
    let first = service.view("nyc").unwrap();
    let tiles = pyramid(&first, 0, 12, 64.0 / 4096.0);
    let fetch = |service: &TileService| -> BTreeMap<TileId, Vec<u8>> {
        tiles
            .iter()
            .map(|t| (*t, service.tile("nyc", None, *t).unwrap().1.raw.to_vec()))
            .collect()
    };
    let state = &first.snapshot.state;
    let (code, rep) = state.territories[0]
        .iter()
        .find_map(|(code, t)| Some((code.clone(), t.reps.first()?.clone())))
        .expect("a territory with a rep");
    let mut renamed = state.reps[&rep].clone();
    renamed.name = "Renamed Rep".into();
    let cases = [
        (
            "a unit moved",
            Op::Assign {
                units: vec!["10002".into()],
                territory: "T1001".into(),
            },
        ),
        (
            "a rep renamed",
            Op::UpsertReps {
                reps: BTreeMap::from([(rep.clone(), renamed)]),
            },
        ),
        (
            "a rep taken off",
            Op::SetRep {
                territory: code,
                reps: Vec::new(),
            },
        ),
    ];
    let margin = 64.0 / 4096.0;
    for (what, op) in cases {
        let before = service.view("nyc").unwrap();
        let old = fetch(&service);
        let outcome = engine
            .apply("nyc", before.snapshot.revision, &[op], "test")
            .unwrap();
        let after = service.view("nyc").unwrap();
        assert_eq!(after.snapshot.revision, outcome.change.revision);
        let new = fetch(&service);
        let fresh = TileService::new(engine.clone(), TileOptions::default());
        let mut changed = Vec::new();
        for t in &tiles {
            let rendered = fresh.render("nyc", *t).unwrap();
            assert!(
                new[t] == rendered,
                "{what}: stale tile {t} served after the change"
            );
            if old[t] != new[t] {
                changed.push(*t);
            }
        }
        // Every changed tile lies in the change's areas or where colours changed.
        let mut dirty: Vec<[f64; 4]> = outcome
            .change
            .areas
            .iter()
            .map(|&[w, s, e, n]| {
                let ([x0, y0], [x1, y1]) = (lonlat_to_world(w, s), lonlat_to_world(e, n));
                [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)]
            })
            .collect();
        dirty.extend(after.recoloured_since(&before));
        for t in &changed {
            let b = t.world_bounds(margin);
            assert!(
                dirty
                    .iter()
                    .any(|d| d[0] <= b[2] && b[0] <= d[2] && d[1] <= b[3] && b[1] <= d[3]),
                "{what}: {t} changed outside the dirty area"
            );
        }
        assert!(changed.iter().any(|t| t.z == 12), "{what}: no z12 tile changed");
        let unchanged_z12 = tiles.iter().filter(|t| t.z == 12 && !changed.contains(t)).count();
        assert!(unchanged_z12 > 0, "{what}: every z12 tile changed");
        eprintln!("{what}: {} of {} tiles changed", changed.len(), tiles.len());
    }
}

/// Colours are a function of the state: after a move and its undo every tile is byte
/// for byte what it was (colours included), and a fresh service (a restart) draws the
/// same tiles.
#[test]
fn undo_and_restart_restore_every_tile_with_its_colours() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let service = TileService::attached(engine.clone(), TileOptions::default());
    let view = service.view("nyc").unwrap();
    let tiles = pyramid(&view, 0, 12, 64.0 / 4096.0);
    let fetch = |service: &TileService| -> Vec<Vec<u8>> {
        tiles
            .iter()
            .map(|t| service.tile("nyc", None, *t).unwrap().1.raw.to_vec())
            .collect()
    };
    let before = fetch(&service);
    let colours = view.levels[0].colours.clone();
    // Moves that change adjacency: a unit of one territory into a neighbour, twice.
    for (unit, territory) in [("10002", "T1001"), ("11201", "T1000")] {
        let revision = engine.snapshot("nyc").unwrap().revision;
        engine
            .apply(
                "nyc",
                revision,
                &[Op::Assign {
                    units: vec![unit.into()],
                    territory: territory.into(),
                }],
                "test",
            )
            .unwrap();
    }
    let moved = fetch(&service);
    assert!(moved != before, "the moves changed no tile");
    common::undo(&engine, "nyc").unwrap();
    common::undo(&engine, "nyc").unwrap();
    let undone = fetch(&service);
    assert_eq!(service.view("nyc").unwrap().levels[0].colours, colours);
    for (i, t) in tiles.iter().enumerate() {
        assert!(undone[i] == before[i], "tile {t} differs after undo");
    }
    let restarted = TileService::new(engine.clone(), TileOptions::default());
    assert!(fetch(&restarted) == before, "a restart draws other tiles");
}

#[test]
fn commit_hooks_hear_every_change_and_an_attached_service_serves_it() {
    let (_dir, engine) = common::sample_engine();
    let engine = Arc::new(engine);
    let heard: Arc<std::sync::Mutex<Vec<(String, i64)>>> = Arc::default();
    let log = heard.clone();
    engine.on_commit(Arc::new(move |snapshot, change| {
        assert_eq!(change.revision, snapshot.revision);
        log.lock()
            .unwrap()
            .push((snapshot.alignment.clone(), snapshot.revision));
    }));
    let service = TileService::attached(engine.clone(), TileOptions::default());
    let tile = TileId::new(12, 1206, 1539).unwrap();
    let (first, _) = service.tile("nyc", None, tile).unwrap();
    let outcome = engine
        .apply(
            "nyc",
            first,
            &[Op::Assign {
                units: vec!["10002".into()],
                territory: "T1001".into(),
            }],
            "test",
        )
        .unwrap();
    assert_eq!(
        *heard.lock().unwrap(),
        vec![("nyc".to_owned(), outcome.change.revision)]
    );
    let (served, encoded) = service.tile("nyc", None, tile).unwrap();
    assert_eq!(served, outcome.change.revision);
    let fresh = TileService::new(engine.clone(), TileOptions::default());
    assert_eq!(encoded.raw.to_vec(), fresh.render("nyc", tile).unwrap());
}

// ---- exports ------------------------------------------------------------------

#[test]
fn exports_hold_the_served_bytes() {
    let (dir, service) = sample_service();
    for format in [Format::Mbtiles, Format::Pmtiles] {
        let output = dir.path().join(match format {
            Format::Mbtiles => "nyc.mbtiles",
            Format::Pmtiles => "nyc.pmtiles",
        });
        let options = ExportOptions {
            alignment: "nyc".into(),
            format,
            minzoom: 0,
            maxzoom: 9,
            output: output.clone(),
            threads: 2,
        };
        let summary = export(&service, &options, &|_, _| {}).unwrap();
        assert!(summary.tiles > 10, "{summary:?}");
        if format == Format::Mbtiles {
            let db = rusqlite::Connection::open(&output).unwrap();
            let (z, x, row, data): (u8, u32, u32, Vec<u8>) = db
                .query_row(
                    "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles WHERE zoom_level = 9 LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .unwrap();
            let tile = TileId::new(z, x, (1 << z) - 1 - row).unwrap();
            let served = service.tile("nyc", None, tile).unwrap().1;
            assert_eq!(
                data,
                served.gzip.to_vec(),
                "exported and served gzip bytes of {tile}"
            );
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(data.as_slice())
                .read_to_end(&mut raw)
                .unwrap();
            assert_eq!(raw, served.raw.to_vec());
            let format: String = db
                .query_row("SELECT value FROM metadata WHERE name = 'format'", [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(format, "pbf");
        } else {
            let bytes = std::fs::read(&output).unwrap();
            assert_eq!(&bytes[..7], b"PMTiles");
            assert_eq!(bytes[7], 3);
        }
        gdal_opens(&output);
    }
}

/// GDAL lists the file's layers: `ogrinfo`, or for PMTiles (GDAL 3.8+; Debian 12 has
/// 3.6) the GDAL inside pyogrio when `GEOALIGN_GDAL_PYTHON` names a Python that has it.
fn gdal_opens(path: &std::path::Path) {
    let out = std::process::Command::new("ogrinfo")
        .arg("-ro")
        .arg("-so")
        .arg(path)
        .output();
    let Ok(out) = out else {
        eprintln!("skipped: ogrinfo is not installed");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        assert!(text.contains("territories") && text.contains("units"), "{text}");
        return;
    }
    assert!(
        path.extension().is_some_and(|e| e == "pmtiles"),
        "ogrinfo {}: {text}",
        path.display()
    );
    let Ok(python) = std::env::var("GEOALIGN_GDAL_PYTHON") else {
        eprintln!("skipped: this GDAL has no PMTiles driver and GEOALIGN_GDAL_PYTHON is unset");
        return;
    };
    let script = "import sys, pyogrio\n\
        layers = [l[0] for l in pyogrio.list_layers(sys.argv[1])]\n\
        print(pyogrio.__gdal_version_string__, layers)\n\
        info = pyogrio.read_info(sys.argv[1], layer='territories')\n\
        assert info['features'] > 0, info\n";
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "pyogrio {}: {text}{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("territories") && text.contains("units"), "{text}");
    eprintln!("GDAL {text}");
}

// ---- HTTP ---------------------------------------------------------------------

async fn app() -> (
    tempfile::TempDir,
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
) {
    let (dir, engine) = common::sample_engine();
    let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
    (
        dir,
        atest::init_service(App::new().app_data(state).configure(configure)).await,
    )
}

fn header(res: &actix_web::dev::ServiceResponse, name: &str) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

#[actix_web::test]
async fn tilejson_tiles_and_http_semantics() {
    let (_dir, app) = app().await;
    let res = atest::call_service(
        &app,
        atest::TestRequest::get().uri("/tiles/nyc.json").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    let doc: serde_json::Value = atest::read_body_json(res).await;
    assert_eq!(doc["tilejson"], "3.0.0");
    let revision = doc["revision"].as_i64().unwrap();
    let url = doc["tiles"][0].as_str().unwrap();
    assert!(
        url.ends_with(&format!("/tiles/nyc/{revision}/{{z}}/{{x}}/{{y}}.mvt")),
        "{url}"
    );
    let layers: Vec<&str> = doc["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    for l in [
        "territories",
        "districts",
        "regions",
        "units",
        "boundaries",
        "labels",
        "reps",
        "accounts",
    ] {
        assert!(layers.contains(&l), "{l}");
    }
    let bounds = doc["bounds"].as_array().unwrap();
    assert!(bounds[0].as_f64().unwrap() < -73.9 && bounds[3].as_f64().unwrap() > 40.8);

    // Versioned: immutable; gzip when asked; ETag -> 304.
    let uri = format!("/tiles/nyc/{revision}/10/301/384.mvt");
    let res = atest::call_service(&app, atest::TestRequest::get().uri(&uri).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&res, "content-type"), "application/vnd.mapbox-vector-tile");
    let etag = header(&res, "etag");
    let raw = atest::read_body(res).await;
    assert!(!decode(&raw).is_empty());
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri(&uri)
            .insert_header(("accept-encoding", "gzip, br"))
            .to_request(),
    )
    .await;
    assert_eq!(header(&res, "content-encoding"), "gzip");
    assert_eq!(header(&res, "vary"), "Accept-Encoding");
    let gz_etag = header(&res, "etag");
    assert_ne!(gz_etag, etag);
    let zipped = atest::read_body(res).await;
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_ref())
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, raw.to_vec());
    for tag in [&etag, &gz_etag] {
        let res = atest::call_service(
            &app,
            atest::TestRequest::get()
                .uri(&uri)
                .insert_header(("if-none-match", tag.as_str()))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    }
    // HEAD: headers, no body.
    let res = atest::call_service(
        &app,
        atest::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&uri)
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "etag"), etag);

    // Unversioned: short max-age, same bytes.
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/tiles/nyc/10/301/384.mvt")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "public, max-age=30");
    assert_eq!(atest::read_body(res).await, raw);

    // Empty (mid-Atlantic) -> 204; out of range, unknown alignment or revision -> 404; bad y -> 400.
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/tiles/nyc/10/400/384.mvt")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for (uri, status) in [
        ("/tiles/nyc/3/8/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/nyc/23/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/nowhere/0/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/nowhere.json", StatusCode::NOT_FOUND),
        ("/tiles/nyc/999/0/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/nyc/0/0/x.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/nyc/z/0/0.mvt", StatusCode::BAD_REQUEST),
    ] {
        let res = atest::call_service(&app, atest::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), status, "{uri}");
        assert_eq!(header(&res, "content-type"), "application/problem+json", "{uri}");
    }
    // CORS preflight.
    let res = atest::call_service(
        &app,
        atest::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri(&uri)
            .insert_header(("origin", "http://elsewhere.example"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
}

#[actix_web::test]
async fn style_viewer_and_glyphs() {
    let (_dir, app) = app().await;
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri("/styles/default.json?alignment=nyc")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let style: serde_json::Value = atest::read_body_json(res).await;
    assert_eq!(style["version"], 8);
    let url = style["sources"]["alignment"]["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://") && url.ends_with("/tiles/nyc.json"),
        "{url}"
    );
    let glyphs = style["glyphs"].as_str().unwrap();
    assert!(glyphs.ends_with("/fonts/{fontstack}/{range}.pbf"), "{glyphs}");
    let font = style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|l| l["layout"]["text-font"][0].as_str())
        .unwrap();
    let res = atest::call_service(
        &app,
        atest::TestRequest::get()
            .uri(&format!("/fonts/{}/0-255.pbf", font.replace(' ', "%20")))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK, "glyphs of {font}");
    for (uri, status) in [
        ("/styles/default.json", StatusCode::BAD_REQUEST),
        ("/styles/default.json?alignment=nowhere", StatusCode::NOT_FOUND),
        ("/styles/nothing.json?alignment=nyc", StatusCode::NOT_FOUND),
        ("/web/../Cargo.toml", StatusCode::NOT_FOUND),
    ] {
        let res = atest::call_service(&app, atest::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), status, "{uri}");
    }
    let res = atest::call_service(&app, atest::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = String::from_utf8(atest::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("maplibre"), "viewer page");
}

#[actix_web::test]
async fn documented_map_routes_answer() {
    let (_dir, app) = app().await;
    let res = atest::call_service(
        &app,
        atest::TestRequest::get().uri("/api/openapi.json").to_request(),
    )
    .await;
    let doc: serde_json::Value = atest::read_body_json(res).await;
    let res = atest::call_service(
        &app,
        atest::TestRequest::get().uri("/tiles/nyc.json").to_request(),
    )
    .await;
    let tilejson: serde_json::Value = atest::read_body_json(res).await;
    let revision = tilejson["revision"].to_string();
    let mut checked = 0;
    for path in doc["paths"].as_object().unwrap().keys() {
        if !(path.starts_with("/tiles")
            || path.starts_with("/styles")
            || path.starts_with("/fonts")
            || path == "/")
        {
            continue;
        }
        let mut uri = path
            .replace("{alignment}", "nyc")
            .replace("{revision}", &revision)
            .replace("{z}/{x}/{y}", "10/301/384")
            .replace("{name}", "default")
            .replace("{fontstack}", "DejaVu%20Sans")
            .replace("{range}", "0-255");
        if path.starts_with("/styles") {
            uri.push_str("?alignment=nyc");
        }
        let res = atest::call_service(&app, atest::TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        checked += 1;
    }
    assert_eq!(checked, 6);
}

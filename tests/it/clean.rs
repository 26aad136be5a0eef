//! Coverage cleaning on real data perturbed the way real files are (vertices of every
//! second unit jittered by up to 0.5 m, a reversed ring, an enclave, an exclave, a unit
//! split into parts touching at a point): after ingest every dissolve comes from the
//! topology, is valid, keeps the units' area and equals GEOS's union of the same cleaned
//! units (through shapely, when `GEOALIGN_GDAL_PYTHON` names a Python that has it);
//! random groupings keep their area and share boundaries exactly (proptest); undo
//! restores bit-identical outlines; the overlay fallback does not depend on winding.

use crate::common;

use std::path::{Path, PathBuf};

use common::{options, shared, store};
use geo::{Area, BooleanOps, Coord, Geometry, InteriorPoint, MultiPolygon, Polygon, Rect, polygon};
use geoalign::feature::UnitKind;
use geoalign::geom::validity;
use geoalign::ingest::{IngestReport, ingest};
use geoalign::store::Store;
use geoalign::topo::{DissolveMethod, Topology, dissolve, dissolve_all, overlay_union};
use geozero::ToJson;
use proptest::prelude::*;

/// A small deterministic generator (xorshift64*), so fixtures are the same every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [-1, 1].
    fn signed(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// Polygon units of a file as given (not cleaned): ids and geometries, by id.
fn raw_units(path: PathBuf, id_field: &str) -> Vec<(String, MultiPolygon<f64>)> {
    let (_dir, store) = store();
    let mut opts = options(path, "raw");
    opts.id_field = id_field.into();
    opts.cleaning.enabled = false;
    ingest(&store, &opts).expect("ingest");
    polygon_units(&store, "raw")
}

fn polygon_units(store: &Store, dataset: &str) -> Vec<(String, MultiPolygon<f64>)> {
    store
        .units(dataset)
        .expect("units")
        .into_iter()
        .filter(|u| u.kind == UnitKind::Polygon)
        .map(|u| match u.geometry {
            Geometry::MultiPolygon(mp) => (u.id, mp),
            other => panic!("unit {} is a {other:?}", u.id),
        })
        .collect()
}

/// Moves every vertex by up to `metres` in x and y (the closing vertex with the first).
fn jitter(mp: &MultiPolygon<f64>, metres: f64, rng: &mut Rng) -> MultiPolygon<f64> {
    let ring = |r: &geo::LineString<f64>, rng: &mut Rng| {
        let mut coords: Vec<Coord<f64>> = r.0[..r.0.len() - 1]
            .iter()
            .map(|c| {
                let dy = metres / 111_320.0;
                let dx = dy / c.y.to_radians().cos();
                Coord {
                    x: c.x + dx * rng.signed(),
                    y: c.y + dy * rng.signed(),
                }
            })
            .collect();
        coords.push(coords[0]);
        geo::LineString::new(coords)
    };
    MultiPolygon::new(
        mp.iter()
            .map(|p| {
                let exterior = ring(p.exterior(), rng);
                let interiors = p.interiors().iter().map(|r| ring(r, rng)).collect();
                Polygon::new(exterior, interiors)
            })
            .collect(),
    )
}

/// A square of `size` degrees around a point.
fn square_around(c: Coord<f64>, size: f64) -> MultiPolygon<f64> {
    let h = size / 2.0;
    MultiPolygon::new(vec![polygon![
        (x: c.x - h, y: c.y - h), (x: c.x + h, y: c.y - h), (x: c.x + h, y: c.y + h), (x: c.x - h, y: c.y + h)]])
}

/// The unit with the largest area among the first `among`.
fn largest(units: &[(String, MultiPolygon<f64>)], skip: &[usize]) -> usize {
    (0..units.len())
        .filter(|i| !skip.contains(i))
        .max_by(|&a, &b| units[a].1.unsigned_area().total_cmp(&units[b].1.unsigned_area()))
        .expect("units")
}

/// Real units perturbed the way real files are (see the module documentation).
fn perturbed(mut units: Vec<(String, MultiPolygon<f64>)>) -> Vec<(String, MultiPolygon<f64>)> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // An enclave: a small unit inside the largest, which gets a hole for it.
    let host = largest(&units, &[]);
    let inner = units[host].1.interior_point().expect("interior point").0;
    let (min, max) = bbox(&units[host].1);
    let enclave = square_around(inner, (max.x - min.x).min(max.y - min.y) / 20.0);
    units[host].1 = units[host].1.difference(&enclave);
    // An exclave: a part of another unit inside the second largest (which gets a hole).
    let other = largest(&units, &[host]);
    let inside = units[other].1.interior_point().expect("interior point").0;
    let (min, max) = bbox(&units[other].1);
    let exclave = square_around(inside, (max.x - min.x).min(max.y - min.y) / 20.0);
    units[other].1 = units[other].1.difference(&exclave);
    let owner = (0..units.len())
        .find(|&i| i != host && i != other)
        .expect("a third unit");
    units[owner].1.0.extend(exclave.0);
    // A unit split into two parts touching at a point; the other two quarters are a
    // new unit, also touching itself at that point.
    let split = largest(&units, &[host, other]);
    let c = units[split].1.interior_point().expect("interior point").0;
    let far = 10.0;
    let quarter = |dx: f64, dy: f64| {
        let corner = Coord {
            x: c.x + far * dx,
            y: c.y + far * dy,
        };
        MultiPolygon::from(Rect::new(c, corner).to_polygon())
    };
    let ne_sw = quarter(1.0, 1.0).union(&quarter(-1.0, -1.0));
    let nw_se = quarter(-1.0, 1.0).union(&quarter(1.0, -1.0));
    let whole = units[split].1.clone();
    units[split].1 = whole.intersection(&ne_sw);
    units.push(("SPLIT".into(), whole.intersection(&nw_se)));
    units.push(("ENCLAVE".into(), enclave));
    // Every second unit's vertices jittered by up to 0.5 m: overlaps and gaps.
    for (i, unit) in units.iter_mut().enumerate() {
        if i % 2 == 1 {
            unit.1 = jitter(&unit.1, 0.5, &mut rng);
        }
    }
    // One ring reversed.
    let reversed = &mut units[0].1.0[0];
    let mut exterior = reversed.exterior().clone();
    exterior.0.reverse();
    *reversed = Polygon::new(exterior, reversed.interiors().to_vec());
    units
}

fn bbox(mp: &MultiPolygon<f64>) -> (Coord<f64>, Coord<f64>) {
    use geo::BoundingRect;
    let r = mp.bounding_rect().expect("bbox");
    (r.min(), r.max())
}

/// Writes units as a GeoJSON FeatureCollection with `id` and `group` properties.
fn write_geojson(path: &Path, units: &[(String, MultiPolygon<f64>)], groups: Option<&[u32]>) {
    write_units(path, "id", units, groups);
}

/// Writes units as a GeoJSON FeatureCollection, the id as property `id_field`.
fn write_units(path: &Path, id_field: &str, units: &[(String, MultiPolygon<f64>)], groups: Option<&[u32]>) {
    let mut text = String::from("{\"type\":\"FeatureCollection\",\"features\":[\n");
    for (i, (id, mp)) in units.iter().enumerate() {
        let geometry = Geometry::MultiPolygon(mp.clone()).to_json().expect("json");
        let group = groups.map_or(0, |g| g[i]);
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str(&format!(
            "{{\"type\":\"Feature\",\"properties\":{{\"{id_field}\":\"{id}\",\"group\":{group}}},\"geometry\":{geometry}}}"
        ));
    }
    text.push_str("\n]}\n");
    std::fs::write(path, text).expect("write geojson");
}

/// Ingests perturbed units (cleaning on) and returns the store's units and the report.
fn ingest_perturbed(
    dir: &Path,
    units: &[(String, MultiPolygon<f64>)],
) -> (Vec<(String, MultiPolygon<f64>)>, IngestReport) {
    let file = dir.join("perturbed.geojson");
    write_geojson(&file, units, None);
    let store = Store::open(&dir.join("clean.db")).expect("store");
    let mut opts = options(file, "clean");
    opts.id_field = "id".into();
    let report = ingest(&store, &opts).expect("ingest");
    (polygon_units(&store, "clean"), report)
}

/// Group of every unit: the first `prefix` characters of its id.
fn groups_by_prefix(units: &[(String, MultiPolygon<f64>)], prefix: usize) -> (Vec<u32>, usize) {
    let keys: Vec<String> = units
        .iter()
        .map(|(id, _)| id.chars().take(prefix).collect())
        .collect();
    let mut names = keys.clone();
    names.sort();
    names.dedup();
    let groups = keys
        .iter()
        .map(|k| names.binary_search(k).expect("key") as u32)
        .collect();
    (groups, names.len())
}

/// Every group's dissolve comes from the topology, is valid and keeps the area; the
/// groups together cover exactly the units.
fn check_dissolves(
    label: &str,
    units: &[(String, MultiPolygon<f64>)],
    groups: &[u32],
    count: usize,
) -> Vec<MultiPolygon<f64>> {
    let geometries: Vec<MultiPolygon<f64>> = units.iter().map(|(_, g)| g.clone()).collect();
    let topology = Topology::build(&geometries, 1e-7);
    assert_eq!(topology.stats().conflicts, 0, "{label}: crossings after cleaning");
    assert_eq!(
        topology.stats().dirty_units,
        0,
        "{label}: overlaps after cleaning"
    );
    let owner: Vec<Option<u32>> = groups.iter().map(|&g| Some(g)).collect();
    let dissolved = dissolve_all(&topology, &owner, count);
    let mut outlines = Vec::with_capacity(count);
    let mut total = 0.0;
    for (g, d) in dissolved.into_iter().enumerate() {
        assert_eq!(
            d.method,
            DissolveMethod::Topology,
            "{label}: group {g} {:?}",
            d.problem
        );
        assert!(validity::is_valid(&d.geometry), "{label}: group {g} invalid");
        let expected: f64 = (0..units.len())
            .filter(|&u| groups[u] == g as u32)
            .map(|u| topology.unit_area(u))
            .sum();
        let area = d.geometry.signed_area();
        assert!(
            (area - expected).abs() <= 1e-9 * expected,
            "{label}: group {g} area {area} vs units' {expected}"
        );
        total += area;
        outlines.push(d.geometry);
    }
    let everything: Vec<u32> = (0..units.len() as u32).collect();
    let whole = dissolve(&topology, &everything);
    assert_eq!(
        whole.method,
        DissolveMethod::Topology,
        "{label}: {:?}",
        whole.problem
    );
    let whole_area = whole.geometry.unsigned_area();
    assert!(
        (total - whole_area).abs() <= 1e-9 * whole_area,
        "{label}: groups sum to {total}, the whole is {whole_area}: gaps or overlaps between groups"
    );
    outlines
}

/// GEOS (shapely) on the same cleaned units: the coverage is valid, and each group's
/// union equals our dissolve within 1e-9 of its area. Skipped without a Python that has
/// shapely (required when `GEOALIGN_GDAL_PYTHON` is set, as `.ci/run` does).
fn check_against_geos(
    dir: &Path,
    label: &str,
    units: &[(String, MultiPolygon<f64>)],
    groups: &[u32],
    outlines: &[MultiPolygon<f64>],
) {
    let Ok(python) = std::env::var("GEOALIGN_GDAL_PYTHON") else {
        eprintln!("skipped GEOS comparison ({label}): GEOALIGN_GDAL_PYTHON is unset");
        return;
    };
    let units_file = dir.join(format!("{label}-units.geojson"));
    let outlines_file = dir.join(format!("{label}-groups.geojson"));
    write_geojson(&units_file, units, Some(groups));
    let named: Vec<(String, MultiPolygon<f64>)> = outlines
        .iter()
        .enumerate()
        .map(|(g, o)| (g.to_string(), o.clone()))
        .collect();
    let ids: Vec<u32> = (0..outlines.len() as u32).collect();
    write_geojson(&outlines_file, &named, Some(&ids));
    let script = r#"
import json, sys, shapely
from shapely.geometry import shape
units = json.load(open(sys.argv[1]))['features']
ours = {f['properties']['group']: shape(f['geometry']) for f in json.load(open(sys.argv[2]))['features']}
geoms = [shape(f['geometry']) for f in units]
assert shapely.coverage_is_valid(geoms), 'cleaned units are not a valid coverage for GEOS'
worst = 0.0
by_group = {}
for f, g in zip(units, geoms):
    by_group.setdefault(f['properties']['group'], []).append(g)
for group, members in by_group.items():
    union = shapely.union_all(members)
    mine = ours[group]
    assert mine.is_valid, f'group {group}: GEOS finds our outline invalid'
    worst = max(worst, mine.symmetric_difference(union).area / union.area)
print(json.dumps({'worst': worst, 'groups': len(by_group), 'geos': shapely.geos_version_string}))
"#;
    let out = std::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(&units_file)
        .arg(&outlines_file)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{label}: shapely check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let worst = result["worst"].as_f64().expect("worst");
    eprintln!(
        "{label}: GEOS {} over {} groups, worst symmetric difference {worst:e}",
        result["geos"], result["groups"]
    );
    assert!(
        worst < 1e-9,
        "{label}: symmetric difference with GEOS's union {worst:e} of the area"
    );
}

fn perturbed_dataset(label: &str, file: &str, id_field: &str, prefix: usize) {
    let Some(path) = shared(file) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let units = perturbed(raw_units(path, id_field));
    let (cleaned, report) = ingest_perturbed(dir.path(), &units);
    let cleaning = report.cleaning.as_ref().expect("cleaned at ingest");
    let r = &cleaning.report;
    eprintln!(
        "{label}: {} overlaps ({:.1} m²), {} gaps ({:.1} m²) moved; largest vertex move {:.3} m",
        r.overlaps, r.overlap_area_m2, r.gaps_filled, r.gap_area_m2, r.max_displacement_m
    );
    assert!(
        r.overlaps > 0 && r.gaps_filled > 0,
        "{label}: the jitter made no overlaps or gaps: {r:?}"
    );
    assert_eq!(
        (r.unresolved, r.inconsistent, r.unassembled),
        (0, 0, 0),
        "{label}"
    );
    assert!(r.emptied.is_empty(), "{label}: {:?}", r.emptied);
    assert_eq!(cleaned.len(), units.len(), "{label}: every unit stored");
    // The enclave keeps its area, but for the slivers along its border (the jitter's
    // 0.5 m on either side at most) and the split unit its parts.
    let area_of = |units: &[(String, MultiPolygon<f64>)], id: &str| {
        units
            .iter()
            .find(|(u, _)| u == id)
            .map(|(_, g)| g.unsigned_area())
            .expect(id)
    };
    let before = area_of(&units, "ENCLAVE");
    let slivers = 4.0 * before.sqrt() * 1.0 / 111_320.0;
    let after = area_of(&cleaned, "ENCLAVE");
    assert!(
        (after - before).abs() < slivers,
        "{label}: enclave {before} -> {after}"
    );
    let split = cleaned.iter().find(|(u, _)| u == "SPLIT").expect("split");
    assert!(
        split.1.0.len() >= 2,
        "{label}: the split unit keeps its two parts"
    );
    let text = report.to_string();
    assert!(
        text.contains("cleaned (snap") && text.contains("moved "),
        "{text}"
    );

    let (groups, count) = groups_by_prefix(&cleaned, prefix);
    let outlines = check_dissolves(label, &cleaned, &groups, count);
    check_against_geos(dir.path(), label, &cleaned, &groups, &outlines);
}

/// A copy of `data/` whose sample polygons have every second unit's vertices jittered
/// by up to 0.5 m (overlaps and gaps between neighbours), for the tile tests.
pub fn jittered_sample() -> tempfile::TempDir {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
    let dir = tempfile::tempdir().expect("tempdir");
    for entry in std::fs::read_dir(&data).expect("data") {
        let path = entry.expect("entry").path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let mut rng = Rng(7);
    let units: Vec<(String, MultiPolygon<f64>)> =
        raw_units(data.join(geoalign::demo::SAMPLE_POLYGONS), "modzcta")
            .into_iter()
            .enumerate()
            .map(|(i, (id, g))| (id, if i % 2 == 1 { jitter(&g, 0.5, &mut rng) } else { g }))
            .collect();
    write_units(
        &dir.path().join(geoalign::demo::SAMPLE_POLYGONS),
        "modzcta",
        &units,
        None,
    );
    dir
}

#[test]
fn perturbed_nyc_dissolves_equal_geos() {
    perturbed_dataset("nyc", "nyc_modzcta.geojson", "modzcta", 3);
}

#[test]
fn perturbed_connecticut_dissolves_equal_geos() {
    perturbed_dataset("ct", "zip5_CT.geojson", "zip", 3);
}

#[test]
fn no_clean_keeps_the_raw_geometry_and_says_so() {
    let Some(path) = shared("nyc_modzcta.geojson") else {
        return;
    };
    let (_dir, store) = store();
    let mut opts = options(path, "raw");
    opts.id_field = "modzcta".into();
    opts.cleaning.enabled = false;
    let report = ingest(&store, &opts).expect("ingest");
    assert!(report.cleaning.is_none());
    assert!(
        report.to_string().contains("not cleaned (--no-clean)"),
        "{report}"
    );
}

#[test]
fn the_overlay_fallback_does_not_depend_on_winding() {
    // A frame with a hole (the enclave's place), the enclave, an exclave part of the
    // enclave's unit drawn clockwise, and a neighbour drawn clockwise.
    let frame = polygon![
        exterior: [(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)],
        interiors: [[(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)]],
    ];
    let enclave = polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)];
    let clockwise_neighbour = polygon![(x: 4., y: 0.), (x: 4., y: 4.), (x: 6., y: 4.), (x: 6., y: 0.)];
    let clockwise_exclave = polygon![(x: 7., y: 0.), (x: 7., y: 1.), (x: 8., y: 1.), (x: 8., y: 0.)];
    let mut reversed_frame = frame.clone();
    reversed_frame.exterior_mut(|e| e.0.reverse());
    reversed_frame.interiors_mut(|holes| holes[0].0.reverse());
    for first in [&clockwise_neighbour, &frame, &reversed_frame] {
        let union = overlay_union([first, &frame, &enclave, &clockwise_neighbour, &clockwise_exclave]);
        assert_eq!(union.unsigned_area(), 16.0 + 8.0 + 1.0, "first ring {first:?}");
        assert!(validity::is_valid(&union));
    }
    // Without the enclave the hole stays a hole, whatever the winding.
    let holed = overlay_union([&reversed_frame, &clockwise_neighbour]);
    assert_eq!(holed.unsigned_area(), 15.0 + 8.0);
    assert_eq!(holed.0.iter().map(|p| p.interiors().len()).sum::<usize>(), 1);
}

#[test]
fn undo_restores_bit_identical_outlines() {
    let (_dir, engine) = common::sample_engine();
    let alignment = "nyc";
    let before = engine.snapshot(alignment).expect("snapshot");
    let territories: Vec<String> = before.state.territories[0].keys().cloned().collect();
    let units: Vec<String> = before
        .dataset
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::Polygon)
        .map(|u| u.id.clone())
        .collect();
    let mut rng = Rng(42);
    for round in 0..6 {
        let unit = &units[(rng.next() % units.len() as u64) as usize];
        let to = &territories[(rng.next() % territories.len() as u64) as usize];
        let start = engine.snapshot(alignment).expect("snapshot");
        let ops = [geoalign::align::Op::Assign {
            units: vec![unit.clone()],
            territory: to.clone(),
        }];
        match engine.apply(alignment, start.revision, &ops, "test") {
            Ok(outcome) if outcome.change.revision > start.revision => {}
            _ => continue, // locked, or already there: nothing to undo
        }
        common::undo(&engine, alignment).expect("undo");
        let after = engine.snapshot(alignment).expect("snapshot");
        for (level, shapes) in start.shapes.iter().enumerate() {
            for (code, shape) in shapes {
                let now = &after.shapes[level][code];
                assert!(
                    now.geometry == shape.geometry && now.members == shape.members,
                    "round {round}: {code} differs after moving {unit} to {to} and undoing"
                );
            }
        }
    }
}

/// Units of the NYC sample and of Colorado, cleaned at ingest, for the property tests.
fn cleaned(file: &str, id_field: &str) -> Option<(Vec<MultiPolygon<f64>>, Topology)> {
    let path = shared(file)?;
    let (_dir, store) = store();
    let mut opts = options(path, "units");
    opts.id_field = id_field.into();
    ingest(&store, &opts).expect("ingest");
    let units: Vec<MultiPolygon<f64>> = polygon_units(&store, "units")
        .into_iter()
        .map(|(_, g)| g)
        .collect();
    let topology = Topology::build(&units, 1e-7);
    Some((units, topology))
}

fn random_groupings(data: &(Vec<MultiPolygon<f64>>, Topology), seed: u64, count: u32) {
    let (units, topology) = data;
    let mut rng = Rng(seed | 1);
    let groups: Vec<u32> = (0..units.len())
        .map(|_| (rng.next() % u64::from(count)) as u32)
        .collect();
    let owner: Vec<Option<u32>> = groups.iter().map(|&g| Some(g)).collect();
    let dissolved = dissolve_all(topology, &owner, count as usize);
    let mut areas = vec![0.0; count as usize];
    for (g, d) in dissolved.iter().enumerate() {
        let expected: f64 = (0..units.len())
            .filter(|&u| groups[u] == g as u32)
            .map(|u| topology.unit_area(u))
            .sum();
        assert_eq!(d.method, DissolveMethod::Topology, "group {g}: {:?}", d.problem);
        assert!(validity::is_valid(&d.geometry), "group {g}");
        areas[g] = d.geometry.signed_area();
        assert!(
            (areas[g] - expected).abs() <= 1e-9 * expected.max(f64::MIN_POSITIVE),
            "group {g}"
        );
    }
    // Two groups merged dissolve to exactly their areas together: their shared
    // boundary is the same edges on both sides (a sliver between them would add area).
    let (a, b) = (0u32, 1u32);
    let merged: Vec<u32> = (0..units.len() as u32)
        .filter(|&u| groups[u as usize] == a || groups[u as usize] == b)
        .collect();
    let both = dissolve(topology, &merged);
    let sum = areas[a as usize] + areas[b as usize];
    assert!((both.geometry.signed_area() - sum).abs() <= 1e-9 * sum.max(f64::MIN_POSITIVE));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_groupings_keep_area_and_share_boundaries(seed in any::<u64>(), count in 2u32..60) {
        thread_local! {
            static DATA: Vec<(Vec<MultiPolygon<f64>>, Topology)> = [
                ("nyc_modzcta.geojson", "modzcta"),
                ("zip5_CO.geojson", "zip"),
            ]
            .iter()
            .filter_map(|(file, field)| cleaned(file, field))
            .collect();
        }
        DATA.with(|data| {
            for d in data {
                random_groupings(d, seed, count);
            }
        });
    }
}

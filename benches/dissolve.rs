//! Dissolve benchmarks on the whole US: 33,791 ZIP polygons (../shared/data/zip5_us.fgb),
//! ZIP3 (first three digits, ~900 groups) as territories and states as regions.
//!
//! - `dissolve_all/zip3`, `dissolve_all/state`: every group at once;
//! - `move/two_territories`: after moving ZIP 30307 from territory 303 to its neighbour
//!   300, re-dissolve those two.
//!
//! The topology is built once, outside the timed loops (its build time is printed).
//! Skips with a message when the data is absent. `scripts/bench dissolve` runs this and
//! compares it with shapely and PostGIS.

mod common;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::Criterion;
use geo::{Geometry, MultiPolygon};
use geoalign::feature::UnitKind;
use geoalign::topo::{DissolveMethod, Topology, dissolve, dissolve_all};

/// The unit moved in the move benchmark, and the territory it moves to.
const MOVED_ZIP: &str = "30307";
const MOVED_TO: &str = "300";

fn main() {
    let Some(path) = common::zip5_us() else { return };
    let (zips, states, units) = load(&path);
    let started = Instant::now();
    let topology = Topology::build(&units, 1e-7);
    let build = started.elapsed();
    eprintln!(
        "Topology::build: {:.3} s for {} units ({:?})",
        build.as_secs_f64(),
        units.len(),
        topology.stats()
    );

    let (zip3_owner, zip3_names) = group_by(zips.iter().map(|z| z[..3].to_string()));
    let (state_owner, state_names) = group_by(states.iter().cloned());
    for (label, owner, names) in [
        ("zip3", &zip3_owner, &zip3_names),
        ("state", &state_owner, &state_names),
    ] {
        let out = dissolve_all(&topology, owner, names.len());
        let fallbacks = out
            .iter()
            .filter(|d| d.method == DissolveMethod::Fallback)
            .count();
        eprintln!("{label}: {} groups, {fallbacks} fell back", names.len());
    }

    // The move: ZIP 30307 leaves 303 for its neighbour 300.
    let unit = zips
        .iter()
        .position(|z| z == MOVED_ZIP)
        .expect("ZIP 30307 in zip5_us");
    let from = zip3_owner[unit].expect("assigned");
    let to = zip3_names.iter().position(|n| n == MOVED_TO).expect("ZIP3 300") as u32;
    assert!(
        topology
            .neighbours(unit)
            .iter()
            .any(|&n| zip3_owner[n as usize] == Some(to)),
        "{MOVED_ZIP} does not border {MOVED_TO}"
    );
    let mut moved = zip3_owner.clone();
    moved[unit] = Some(to);
    let members = |g: u32| -> Vec<u32> {
        (0..moved.len() as u32)
            .filter(|&u| moved[u as usize] == Some(g))
            .collect()
    };
    let (from_units, to_units) = (members(from), members(to));
    eprintln!(
        "move: {MOVED_ZIP} from {} ({} units after) to {MOVED_TO} ({} units after)",
        zip3_names[from as usize],
        from_units.len(),
        to_units.len()
    );

    let mut c = Criterion::default().configure_from_args();
    let mut all = c.benchmark_group("dissolve_all");
    all.bench_function("zip3", |b| {
        b.iter(|| dissolve_all(black_box(&topology), black_box(&zip3_owner), zip3_names.len()))
    });
    all.bench_function("state", |b| {
        b.iter(|| dissolve_all(black_box(&topology), black_box(&state_owner), state_names.len()))
    });
    all.finish();
    let mut mv = c.benchmark_group("move");
    mv.bench_function("two_territories", |b| {
        b.iter(|| {
            (
                dissolve(black_box(&topology), black_box(&from_units)),
                dissolve(black_box(&topology), black_box(&to_units)),
            )
        })
    });
    mv.finish();
    c.final_summary();
}

/// ZIPs, states and geometries of the polygon units, ordered by ZIP (through a
/// temporary store, as the server ingests them).
fn load(path: &Path) -> (Vec<String>, Vec<String>, Vec<MultiPolygon<f64>>) {
    let (_dir, store) = common::ingested(path);
    let mut zips = Vec::new();
    let mut states = Vec::new();
    let mut units = Vec::new();
    for unit in store.units("us").expect("units") {
        if unit.kind != UnitKind::Polygon {
            continue;
        }
        if let Geometry::MultiPolygon(mp) = unit.geometry {
            states.push(
                unit.properties
                    .attributes
                    .get("state")
                    .cloned()
                    .unwrap_or_default(),
            );
            zips.push(unit.id);
            units.push(mp);
        }
    }
    (zips, states, units)
}

/// Group index of every unit by key, groups numbered in key order.
fn group_by(keys: impl Iterator<Item = String>) -> (Vec<Option<u32>>, Vec<String>) {
    let keys: Vec<String> = keys.collect();
    let mut index: BTreeMap<&str, u32> = keys.iter().map(|k| (k.as_str(), 0)).collect();
    for (i, v) in index.values_mut().enumerate() {
        *v = i as u32;
    }
    let owner = keys.iter().map(|k| index.get(k.as_str()).copied()).collect();
    let names = index.keys().map(|k| k.to_string()).collect();
    (owner, names)
}

//! The whole change on zip5_us with a ZIP3 alignment: commit to SQLite,
//! re-dissolve the touched territories, build and swap the snapshot. Prints
//! p50/p99 over repeated moves of a unit between two neighbouring territories,
//! and the resident memory with the dataset and alignment loaded.
//! Skips without ../shared/data.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use geoalign::align::Op;
use geoalign::engine::Engine;
use geoalign::ingest::{IngestOptions, ingest};
use geoalign::store::Store;

fn resident_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/zip5_us.fgb");
    if !data.exists() {
        eprintln!("skipped: {} is absent", data.display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("bench.db")).expect("store");
    let options = IngestOptions {
        path: data,
        dataset: "us".into(),
        id_field: "zip".into(),
        layer: None,
        s_srs: None,
        replace: false,
        points: false,
        progress: false,
    };
    ingest(&store, &options).expect("ingest");
    let engine = Engine::new(Arc::new(store));
    let units = engine.store().units("us").expect("units");
    let mut sheet = String::from("unit_id,territory,region\n");
    let mut region_of = std::collections::HashMap::new();
    for u in &units {
        let zip3 = &u.id[..3];
        let region = region_of
            .entry(zip3.to_owned())
            .or_insert_with(|| u.properties.attributes.get("state").cloned().unwrap_or_default());
        sheet.push_str(&format!("{},{zip3},{region}\n", u.id));
    }
    let started = Instant::now();
    engine
        .import_sheet(
            "zip3",
            "us",
            Some(vec!["territory".into(), "region".into()]),
            None,
            sheet.as_bytes(),
        )
        .expect("sheet");
    let snapshot = engine.snapshot("zip3").expect("snapshot");
    println!(
        "load: {:.2} s (topology + full dissolve of {} territories and {} regions); resident {:.0} MB",
        started.elapsed().as_secs_f64(),
        snapshot.shapes[0].len(),
        snapshot.shapes[1].len(),
        resident_mb()
    );

    // A unit of 100 (Manhattan) on the border with 112 (Brooklyn)? Pick any unit
    // of ZIP3 "100" with a neighbour in another ZIP3 of the same state.
    let ds = &snapshot.dataset;
    let (unit, from, to) = ds
        .unit_of_topo
        .iter()
        .enumerate()
        .find_map(|(t, &u)| {
            let from = snapshot.state.owner(&ds.units, u)?;
            ds.topology.neighbours(t).iter().find_map(|&n| {
                let to = snapshot.state.owner(&ds.units, ds.unit_of_topo[n as usize])?;
                (to != from && snapshot.shapes[0][to].members.len() > 20)
                    .then(|| (ds.units.get(u).id.clone(), from.to_owned(), to.to_owned()))
            })
        })
        .expect("a border unit");
    let mut times = Vec::new();
    for i in 0..400 {
        let target = if i % 2 == 0 { &to } else { &from };
        let revision = engine.snapshot("zip3").expect("snapshot").revision;
        let op = Op::Assign {
            units: vec![unit.clone()],
            territory: target.clone(),
        };
        let t = Instant::now();
        engine.apply("zip3", revision, &[op], "bench").expect("move");
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    println!(
        "change (move {unit} between {from} and {to}, 400 times): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        pct(0.5),
        pct(0.99),
        times[times.len() - 1]
    );
    println!("resident after changes: {:.0} MB", resident_mb());
}

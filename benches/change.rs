//! The whole change on zip5_us with a ZIP3 alignment: commit to SQLite,
//! re-dissolve the touched territories, build and swap the snapshot. Prints
//! p50/p99 over repeated moves of a unit between two neighbouring territories,
//! and the resident memory with the dataset and alignment loaded, for the store's
//! `synchronous = FULL` and for NORMAL (interleaved, so both see the same load).
//! Skips without ../shared/data.

mod common;

use std::time::Instant;

use geoalign::align::Op;

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
    let Some(data) = common::zip5_us() else { return };
    let (_dir, engine) = common::engine(&data);
    let sheet = common::zip3_sheet(&engine);
    let started = Instant::now();
    common::import_zip3(&engine, &sheet);
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
    // Durability A/B in the same run: moves alternate between synchronous = FULL (the
    // store's setting) and NORMAL, in blocks of 20, so both see the same machine load.
    let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for i in 0..800 {
        let full = (i / 20) % 2 == 0;
        engine
            .store()
            .set_synchronous(if full { "FULL" } else { "NORMAL" })
            .expect("pragma");
        let target = if i % 2 == 0 { &to } else { &from };
        let revision = engine.snapshot("zip3").expect("snapshot").revision;
        let op = Op::Assign {
            units: vec![unit.clone()],
            territory: target.clone(),
        };
        let t = Instant::now();
        engine.apply("zip3", revision, &[op], "bench").expect("move");
        times[usize::from(!full)].push(t.elapsed().as_secs_f64() * 1e3);
    }
    let mut p50 = [0.0; 2];
    for (i, name) in ["FULL", "NORMAL"].iter().enumerate() {
        let times = &mut times[i];
        times.sort_by(f64::total_cmp);
        let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
        p50[i] = pct(0.5);
        println!(
            "change (move {unit} between {from} and {to}, {} times, synchronous = {name}): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            times.len(),
            pct(0.5),
            pct(0.99),
            times[times.len() - 1]
        );
    }
    println!("FULL / NORMAL p50: {:.2}", p50[0] / p50[1]);
    println!("resident after changes: {:.0} MB", resident_mb());
}

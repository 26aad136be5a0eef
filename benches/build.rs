//! Auto-build benchmark (issue #15) on the whole US: 33,791 ZIP polygons
//! (../shared/data/zip5_us.fgb) into k = 500 territories balanced on population.
//! Prints the quality figures (max |deviation|, parts, mean Polsby-Popper) and the time
//! of one build, then lets criterion time it. Skips with a message when the data is
//! absent. `scripts/bench build` runs this and METIS (pymetis) on the same graph.
//!
//! Env: BUILD_K (500), BUILD_SEED (1).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use geoalign::build::{Params, build};

fn main() {
    let Some(path) = common::zip5_us() else { return };
    let (_dir, engine) = common::engine(&path);
    let k: usize = std::env::var("BUILD_K")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("BUILD_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let started = Instant::now();
    let graph = engine.unit_graph("us", "population").expect("unit graph");
    eprintln!(
        "unit graph: {:.2} s for {} units, {} components, {} proxy edges",
        started.elapsed().as_secs_f64(),
        graph.graph.len(),
        graph.graph.components(),
        graph.graph.proxies().len()
    );
    let params = Params {
        territories: k,
        seed,
        ..Params::default()
    };
    let started = Instant::now();
    let owner = build(&graph.graph, &graph.weight, &[], &params, &|_| true).expect("build");
    let seconds = started.elapsed().as_secs_f64();
    let q = graph.quality(&owner, k, params.tolerance);
    let b = q.balance().expect("population");
    eprintln!(
        "build k={k}: {seconds:.2} s, max |dev| {:.2}%, CV {:.2}%, within 2%: {}/{k}, non-contiguous {}, \
         most parts {}, mean PP {:.3}, min PP {:.3}, cut edges {}",
        b.max_abs_deviation * 100.0,
        b.cv * 100.0,
        b.within_tolerance,
        q.non_contiguous,
        q.max_parts,
        q.mean_polsby_popper,
        q.min_polsby_popper,
        q.cut_edges
    );
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    c.bench_function("build/zip5_us_k500", |bench| {
        bench.iter(|| {
            build(
                black_box(&graph.graph),
                black_box(&graph.weight),
                &[],
                &params,
                &|_| true,
            )
        })
    });
    c.final_summary();
}

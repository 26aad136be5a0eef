//! Automatic territory building (issue #15): contiguity of every territory on the
//! topology's adjacency, balance where it is achievable, determinism for a seed, locks,
//! refused parameters, and the CLI path.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use geoalign::build::{BuildError, Graph, Params, Quality, build};
use geoalign::engine::{AlignError, BuildOutcome, BuildRequest, Engine};
use geoalign::store::StoreError;

use crate::common;

fn request(alignment: &str, dataset: &str, k: usize, balance: &str, seed: u64) -> BuildRequest {
    BuildRequest {
        alignment: alignment.into(),
        dataset: dataset.into(),
        balance: balance.into(),
        params: Params {
            territories: k,
            seed,
            ..Params::default()
        },
    }
}

fn run(engine: &Engine, request: &BuildRequest) -> BuildOutcome {
    engine
        .build(request, &|_| {})
        .unwrap_or_else(|e| panic!("build {}: {e}", request.alignment))
}

/// Owner (territory code) of every polygon unit of the alignment, by unit id.
fn owners(engine: &Engine, alignment: &str) -> BTreeMap<String, String> {
    let s = engine.snapshot(alignment).unwrap();
    let units = &s.dataset.units;
    s.dataset
        .unit_of_topo
        .iter()
        .map(|&u| {
            (
                units.get(u).id.clone(),
                s.state.owner(units, u).unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// Checks, on the topology's own adjacency (units sharing an arc) plus the proxy
/// edges the build reports, that every territory of `alignment` is one connected
/// piece, and that every polygon unit is assigned. Returns the territory count.
fn assert_contiguous(engine: &Engine, alignment: &str, balance: &str) -> usize {
    let s = engine.snapshot(alignment).unwrap();
    let d = &s.dataset;
    let proxies = engine
        .unit_graph(&d.name, balance)
        .unwrap()
        .graph
        .proxies()
        .to_vec();
    let n = d.unit_of_topo.len();
    let owner: Vec<String> = d
        .unit_of_topo
        .iter()
        .map(|&u| {
            s.state
                .owner(&d.units, u)
                .expect("every polygon unit assigned")
                .to_owned()
        })
        .collect();
    let mut extra: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, b) in proxies {
        extra[a as usize].push(b as usize);
        extra[b as usize].push(a as usize);
    }
    let mut seen = vec![false; n];
    let mut parts: BTreeMap<&str, usize> = BTreeMap::new();
    for start in 0..n {
        if seen[start] {
            continue;
        }
        *parts.entry(owner[start].as_str()).or_default() += 1;
        seen[start] = true;
        let mut stack = vec![start];
        while let Some(u) = stack.pop() {
            let next = d
                .topology
                .neighbours(u)
                .iter()
                .map(|&v| v as usize)
                .chain(extra[u].iter().copied());
            for v in next.collect::<Vec<_>>() {
                if !seen[v] && owner[v] == owner[u] {
                    seen[v] = true;
                    stack.push(v);
                }
            }
        }
    }
    let split: Vec<_> = parts.iter().filter(|(_, p)| **p > 1).collect();
    assert!(
        split.is_empty(),
        "{alignment}: territories in several parts: {split:?}"
    );
    parts.len()
}

fn balance_of(q: &Quality) -> f64 {
    q.balance().expect("a balance metric").max_abs_deviation
}

#[test]
fn nyc_territories_are_contiguous_and_the_same_for_a_seed() {
    let (_dir, engine) = common::sample_engine();
    let first = run(&engine, &request("built", "nyc", 8, "population_estimate", 7));
    let again = run(
        &engine,
        &request("built again", "nyc", 8, "population_estimate", 7),
    );
    assert_eq!(owners(&engine, "built"), owners(&engine, "built again"));
    assert_eq!(first.quality, again.quality);
    assert_eq!(assert_contiguous(&engine, "built", "population_estimate"), 8);
    let q = &first.quality;
    assert_eq!((q.non_contiguous, q.max_parts, q.empty), (0, 1, 0), "{q}");
    // Staten Island is its own component, joined by one proxy edge.
    assert_eq!((q.components, q.proxy_edges), (2, 1), "{q}");
    // Measured 16-17% for seeds 1-3: MODZCTA 99999 (parks and airports, no population,
    // one unit bordering 44 others) walls territories in; see ARCHITECTURE, Known limits.
    assert!(balance_of(q) < 0.25, "{q}");
    run(
        &engine,
        &request("other seed", "nyc", 8, "population_estimate", 8),
    );
    assert_ne!(owners(&engine, "built"), owners(&engine, "other seed"));
    assert_contiguous(&engine, "other seed", "population_estimate");
}

#[test]
fn a_state_is_balanced_within_the_tolerance() {
    let Some(path) = common::shared("zip5_CO.geojson") else {
        return;
    };
    let (_dir, engine) = common::engine_with(path, "co", "zip");
    for (k, balance, bound) in [
        (10, "population", 0.02),
        (5, "population:0.6,households:0.4", 0.02),
    ] {
        let name = format!("co{k}");
        let outcome = run(&engine, &request(&name, "co", k, balance, 1));
        let q = &outcome.quality;
        assert_eq!(assert_contiguous(&engine, &name, balance), k);
        // Measured: 1.5% (k = 10), 1.9% (k = 5); the tolerance is 2%.
        assert!(balance_of(q) <= bound, "{q}");
        assert_eq!(q.balance().map(|b| b.within_tolerance), Some(k), "{q}");
        assert!(q.mean_polsby_popper > 0.3, "{q}");
        assert_eq!(outcome.alignment.dataset, "co");
    }
    // Colorado at k = 20: single ZIPs hold up to a quarter of a target, so 2% is not
    // always reachable; contiguity still holds and the deviation stays bounded.
    let outcome = run(&engine, &request("co20", "co", 20, "population", 1));
    assert_contiguous(&engine, "co20", "population");
    assert!(balance_of(&outcome.quality) < 0.10, "{}", outcome.quality);
}

#[test]
fn bad_parameters_are_refused_with_clear_messages() {
    let (_dir, engine) = common::sample_engine();
    let refused = |r: BuildRequest| engine.build(&r, &|_| {}).expect_err("refused");
    let message = |e: AlignError| e.to_string();

    let e = refused(request("b", "nyc", 0, "population_estimate", 1));
    assert!(matches!(e, AlignError::Build(BuildError::NoTerritories)), "{e}");
    assert_eq!(message(e), "--territories must be at least 1");

    let e = refused(request("b", "nyc", 500, "population_estimate", 1));
    assert!(
        matches!(
            e,
            AlignError::Build(BuildError::TooManyTerritories {
                territories: 500,
                units: 178
            })
        ),
        "{e}"
    );
    assert!(message(e).contains("only 178 polygon units"));

    let e = refused(request("b", "nyc", 5, "revenue", 1));
    assert!(
        matches!(&e, AlignError::Build(BuildError::UnknownMetric { name, .. }) if name == "revenue"),
        "{e}"
    );
    assert!(
        message(e).contains("population_estimate"),
        "lists the metrics the dataset has"
    );

    let mut negative = request("b", "nyc", 5, "population_estimate", 1);
    negative.params.tolerance = -0.01;
    let e = refused(negative);
    assert!(matches!(e, AlignError::Build(BuildError::BadTolerance(_))), "{e}");

    let e = refused(request("b", "nyc", 5, "population_estimate:0", 1));
    assert!(
        matches!(e, AlignError::Build(BuildError::BadBalance { .. })),
        "{e}"
    );

    // Never overwrites: the sample's alignment exists.
    let e = refused(request("nyc", "nyc", 5, "population_estimate", 1));
    assert!(
        matches!(e, AlignError::Store(StoreError::AlignmentExists(_))),
        "{e}"
    );
    let e = refused(request("b", "nowhere", 5, "population_estimate", 1));
    assert!(
        matches!(e, AlignError::Store(StoreError::DatasetNotFound(_))),
        "{e}"
    );
}

/// A `side` × `side` grid of unit squares, 4-connected.
fn grid(side: u32) -> Graph {
    let mut edges = Vec::new();
    let mut points = Vec::new();
    for y in 0..side {
        for x in 0..side {
            let u = y * side + x;
            if x + 1 < side {
                edges.push((u, u + 1, 1.0));
            }
            if y + 1 < side {
                edges.push((u, u + side, 1.0));
            }
            points.push([x as f64 + 0.5, y as f64 + 0.5]);
        }
    }
    let n = (side * side) as usize;
    Graph::from_parts(edges, vec![1.0; n], vec![4.0; n], points)
}

#[test]
fn a_grid_splits_exactly_and_locked_units_stay() {
    let graph = grid(12);
    let weight = vec![1.0; 144];
    let params = Params {
        territories: 4,
        tolerance: 0.0,
        ..Params::default()
    };
    let owner = build(&graph, &weight, &[], &params, &|_| {}).unwrap();
    let q = Quality::measure(
        &graph,
        &owner,
        4,
        0.0,
        &weight,
        &[("count".into(), weight.clone())],
    );
    assert_eq!(q.balance().unwrap().max_abs_deviation, 0.0, "{q}");
    assert_eq!(q.non_contiguous, 0, "{q}");
    assert!(q.mean_polsby_popper > 0.6, "{q}");

    // Corners locked to territories 0..4, and one more unit beside a corner.
    let mut locks = vec![None; 144];
    for (t, u) in [0usize, 11, 132, 143].into_iter().enumerate() {
        locks[u] = Some(t as u32);
    }
    locks[1] = Some(0);
    let owner = build(&graph, &weight, &locks, &params, &|_| {}).unwrap();
    for (u, l) in locks.iter().enumerate() {
        if let Some(t) = l {
            assert_eq!(owner[u], *t, "locked unit {u} moved");
        }
    }
    let q = Quality::measure(&graph, &owner, 4, 0.0, &weight, &[]);
    assert_eq!(q.non_contiguous, 0, "{q}");
    assert_eq!(
        build(&graph, &weight, &locks, &params, &|_| {}).unwrap(),
        owner,
        "deterministic"
    );

    let bad = vec![Some(9); 144];
    assert!(matches!(
        build(&graph, &weight, &bad, &params, &|_| {}),
        Err(BuildError::LockOutOfRange { territory: 9, .. })
    ));
}

#[test]
fn the_quality_report_counts_parts_and_cut_edges() {
    let graph = grid(4);
    let weight = vec![1.0; 16];
    // Territory 0: the left column and the right column (two parts); 1: the middle.
    let owner: Vec<u32> = (0..16)
        .map(|u| if u % 4 == 0 || u % 4 == 3 { 0 } else { 1 })
        .collect();
    let q = Quality::measure(&graph, &owner, 2, 0.02, &weight, &[]);
    assert_eq!((q.non_contiguous, q.max_parts, q.empty), (1, 2, 0));
    assert_eq!(q.cut_edges, 8);
    assert_eq!(q.balance().unwrap().max_abs_deviation, 0.0);
    let q = Quality::measure(&graph, &owner, 3, 0.02, &weight, &[]);
    assert_eq!(q.empty, 1);
}

fn geoalign(store: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_geoalign"));
    command
        .env("RUST_LOG", "warn")
        .env_remove("GEOALIGN_STORE")
        .env_remove("GEOALIGN_CONFIG");
    command.arg("--store").arg(store);
    command
}

#[test]
fn the_cli_builds_a_new_alignment_and_refuses_bad_parameters() {
    let (dir, engine) = common::sample_engine();
    drop(engine);
    let store = dir.path().join("test.db");
    let build = |args: &[&str]| {
        geoalign(&store)
            .args(["build", "--dataset", "nyc", "--balance", "population_estimate"])
            .args(args)
            .output()
            .expect("run geoalign")
    };
    let out = build(&["--alignment", "auto", "--territories", "6", "--seed", "3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("alignment 'auto' on 'nyc'"), "{stdout}");
    assert!(stdout.contains("0 territories in more than one part"), "{stdout}");
    assert!(stdout.contains("Polsby-Popper mean"), "{stdout}");

    let engine = Engine::new(std::sync::Arc::new(geoalign::store::Store::open(&store).unwrap()));
    assert_eq!(assert_contiguous(&engine, "auto", "population_estimate"), 6);
    drop(engine);

    let status = |args: &[&str]| {
        let out = build(args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = status(&["--alignment", "auto", "--territories", "6"]);
    assert_eq!(code, Some(4), "exists: {err}");
    assert!(err.contains("auto"), "{err}");
    let (code, err) = status(&["--alignment", "b", "--territories", "0"]);
    assert_eq!((code, err.contains("at least 1")), (Some(2), true), "{err}");
    let (code, err) = status(&["--alignment", "b", "--territories", "6", "--tolerance", "-0.5"]);
    assert_eq!((code, err.contains("--tolerance")), (Some(2), true), "{err}");
    let (code, err) = status(&["--alignment", "b", "--territories", "9999"]);
    assert_eq!((code, err.contains("only 178")), (Some(2), true), "{err}");
    let out = geoalign(&store)
        .args([
            "build",
            "--dataset",
            "nyc",
            "--balance",
            "income",
            "--alignment",
            "b",
            "--territories",
            "3",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown metric 'income'"), "{err}");
}

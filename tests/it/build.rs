//! Automatic territory building (issue #15): contiguity of every territory on the
//! topology's adjacency, balance where it is achievable, determinism for a seed, locks,
//! refused parameters, and the CLI path.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use geoalign::align::Op;
use geoalign::build::{BuildError, Graph, Params, Quality, RebalanceParams, build};
use geoalign::engine::{
    AlignError, BuildOutcome, BuildRequest, Engine, MaxMoved, RebalanceProposal, RebalanceRequest, Within,
};
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
        seeds: Default::default(),
        keep_homes: false,
        districts: None,
        regions: None,
        within: None,
    }
}

fn run(engine: &Engine, request: &BuildRequest) -> BuildOutcome {
    engine
        .build(request, &|_| true)
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
/// piece, and that every polygon unit but the placeholders (left out of builds) is
/// assigned. Returns the territory count.
fn assert_contiguous(engine: &Engine, alignment: &str, balance: &str) -> usize {
    let s = engine.snapshot(alignment).unwrap();
    let d = &s.dataset;
    let graph = engine.unit_graph(&d.name, balance).unwrap();
    // Proxy edges in topology indices (the build graph holds the non-placeholder units).
    let topo = |i: u32| d.topo_of_unit[graph.units[i as usize] as usize].expect("a polygon unit") as usize;
    let n = d.unit_of_topo.len();
    let owner: Vec<Option<String>> = d
        .unit_of_topo
        .iter()
        .map(|&u| {
            let owner = s.state.owner(&d.units, u).map(str::to_owned);
            let placeholder = geoalign::feature::is_placeholder_id(&d.units.get(u).id);
            assert_eq!(
                owner.is_none(),
                placeholder,
                "unit {}: placeholders alone stay unassigned",
                d.units.get(u).id
            );
            owner
        })
        .collect();
    let mut extra: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in graph.graph.proxies() {
        extra[topo(a)].push(topo(b));
        extra[topo(b)].push(topo(a));
    }
    let mut seen = vec![false; n];
    let mut parts: BTreeMap<&str, usize> = BTreeMap::new();
    for start in 0..n {
        let Some(code) = owner[start].as_deref() else {
            continue;
        };
        if seen[start] {
            continue;
        }
        *parts.entry(code).or_default() += 1;
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
    // MODZCTA 99999 (parks, airports, water: a placeholder) is left out of the graph and
    // unassigned (checked above); without it Staten Island and the units it alone joined
    // are components of their own, joined by proxy edges.
    assert_eq!((q.units, q.components, q.proxy_edges), (177, 6, 5), "{q}");
    // Measured 1.5-3.2% for seeds 1, 2, 3, 7 (16-17% while 99999, bordering 44 units,
    // walled territories in).
    assert!(balance_of(q) < 0.05, "{q}");
    // Another seed turns the bisection's sweep directions: on NYC the cuts with the most
    // compact sides are found either way, so the plan may be the same; it is as good.
    let other = run(
        &engine,
        &request("other seed", "nyc", 8, "population_estimate", 8),
    );
    assert_contiguous(&engine, "other seed", "population_estimate");
    assert!(balance_of(&other.quality) < 0.05, "{}", other.quality);
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
        // Measured: 1.1% (k = 10), 1.3% (k = 5); the tolerance is 2%. Mean
        // Polsby-Popper 0.60 for both (0.3-0.4 before the recursive bisection).
        assert!(balance_of(q) <= bound, "{q}");
        assert_eq!(q.balance().map(|b| b.within_tolerance), Some(k), "{q}");
        assert!(q.mean_polsby_popper > 0.5, "{q}");
        assert_eq!(outcome.alignment.dataset, "co");
    }
    // Colorado at k = 20: single ZIPs hold up to a quarter of a target, yet every cut
    // of the bisection is balanced where it is made, so the repair has only local
    // excesses to carry (measured 1.9%; 2-10% with growth from seeds).
    let outcome = run(&engine, &request("co20", "co", 20, "population", 1));
    assert_contiguous(&engine, "co20", "population");
    assert!(balance_of(&outcome.quality) <= 0.02, "{}", outcome.quality);
}

#[test]
fn districts_and_regions_are_made_of_whole_territories() {
    let (_dir, engine) = common::sample_engine();
    let mut req = request("levels", "nyc", 8, "population_estimate", 1);
    req.districts = Some(4);
    req.regions = Some(2);
    let outcome = run(&engine, &req);
    let s = engine.snapshot("levels").unwrap();
    assert_eq!(s.state.levels, ["territory", "district", "region"]);
    let [territories, districts, regions] = [0, 1, 2].map(|l| &s.state.territories[l]);
    assert_eq!((territories.len(), districts.len(), regions.len()), (8, 4, 2));
    // Every territory has one district, every district one region: the sheet's
    // columns were filled from the groups, and every district holds two territories
    // (equal shares of the weight, 8 / 4).
    let mut per_district: BTreeMap<&str, usize> = BTreeMap::new();
    for t in territories.values() {
        let d = t.parent.as_deref().expect("a district");
        assert!(districts.contains_key(d), "{d}");
        *per_district.entry(d).or_default() += 1;
    }
    assert!(per_district.values().all(|&n| n == 2), "{per_district:?}");
    assert!(
        districts
            .values()
            .all(|d| d.parent.as_deref().is_some_and(|r| regions.contains_key(r)))
    );
    // Contiguous and balanced on the units, as the territories are.
    for q in [outcome.districts.as_ref(), outcome.regions.as_ref()] {
        let q = q.expect("a quality report per level");
        assert_eq!((q.non_contiguous, q.empty), (0, 0), "{q}");
        assert!(balance_of(q) < balance_of(&outcome.quality) + 1e-9, "{q}");
    }
    // Bad level counts are refused before any work, naming the level.
    let mut bad = request("bad levels", "nyc", 8, "population_estimate", 1);
    bad.districts = Some(9);
    let e = engine.build(&bad, &|_| true).unwrap_err();
    assert_eq!(e.to_string(), "--districts 9: give from 1 to the 8 territories");
    bad.districts = None;
    bad.regions = Some(2);
    let e = engine.build(&bad, &|_| true).unwrap_err();
    assert_eq!(e.to_string(), "--regions groups districts: give --districts too");
    assert!(engine.snapshot("bad levels").is_err());
}

#[test]
fn a_build_within_districts_keeps_them_and_no_territory_crosses_one() {
    let (_dir, engine) = common::sample_engine();
    let mut req = request("districts", "nyc", 6, "population_estimate", 1);
    req.districts = Some(3);
    run(&engine, &req);
    let mut req = request("inside", "nyc", 12, "population_estimate", 1);
    req.within = Some(Within {
        alignment: "districts".into(),
        level: "district".into(),
    });
    let outcome = run(&engine, &req);
    assert_eq!(assert_contiguous(&engine, "inside", "population_estimate"), 12);
    let (from, inside) = (
        engine.snapshot("districts").unwrap(),
        engine.snapshot("inside").unwrap(),
    );
    assert_eq!(inside.state.levels, ["territory", "district"]);
    let district_of =
        |s: &geoalign::snapshot::Snapshot, leaf: &str| s.state.territories[0][leaf].parent.clone();
    let (before, after) = (owners(&engine, "districts"), owners(&engine, "inside"));
    let mut territory_district: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for (unit, leaf) in &after {
        if leaf.is_empty() {
            continue;
        }
        // Each unit is in the district it was in, and its territory in one district.
        let district = district_of(&inside, leaf);
        assert_eq!(district, district_of(&from, &before[unit]), "unit {unit}");
        let seen = territory_district.entry(leaf).or_insert_with(|| district.clone());
        assert_eq!(*seen, district, "territory {leaf} crosses districts");
    }
    // Twelve territories over three districts of about equal weight: four each.
    assert_eq!(territory_district.len(), 12);
    assert!(balance_of(&outcome.quality) < 0.15, "{}", outcome.quality);
    // Refused before any work: a leaf level; districts asked for as well.
    let mut bad = req.clone();
    bad.alignment = "bad".into();
    bad.within = Some(Within {
        alignment: "districts".into(),
        level: "territory".into(),
    });
    let e = engine.build(&bad, &|_| true).unwrap_err().to_string();
    assert!(
        e.contains("--within territory: districts has no such level above its territories"),
        "{e}"
    );
    bad.within = Some(Within {
        alignment: "districts".into(),
        level: "district".into(),
    });
    bad.districts = Some(2);
    let e = engine.build(&bad, &|_| true).unwrap_err().to_string();
    assert!(e.contains("--districts and --regions do not go with it"), "{e}");
    assert!(engine.snapshot("bad").is_err());
}

#[test]
fn bad_parameters_are_refused_with_clear_messages() {
    let (_dir, engine) = common::sample_engine();
    let refused = |r: BuildRequest| engine.build(&r, &|_| true).expect_err("refused");
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
    let owner = build(&graph, &weight, &[], &params, &|_| true).unwrap();
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
    let owner = build(&graph, &weight, &locks, &params, &|_| true).unwrap();
    for (u, l) in locks.iter().enumerate() {
        if let Some(t) = l {
            assert_eq!(owner[u], *t, "locked unit {u} moved");
        }
    }
    let q = Quality::measure(&graph, &owner, 4, 0.0, &weight, &[]);
    assert_eq!(q.non_contiguous, 0, "{q}");
    assert_eq!(
        build(&graph, &weight, &locks, &params, &|_| true).unwrap(),
        owner,
        "deterministic"
    );

    let bad = vec![Some(9); 144];
    assert!(matches!(
        build(&graph, &weight, &bad, &params, &|_| true),
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

    // Seeded by the sample's reps: one territory each (k from the file), and each rep's
    // line says where its territory started.
    let reps = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nyc_reps.csv");
    let out = build(&["--alignment", "by-reps", "--seeds", reps.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("28 territories from 177 units"), "{stdout}");
    assert!(stdout.contains("  R1000 -> T0"), "{stdout}");
    let (code, err) = status(&["--alignment", "b", "--seeds", "/nonexistent/reps.csv"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/nonexistent/reps.csv"), "{err}");
}

fn rebalance_request(alignment: &str, tolerance: f64, max_moved: MaxMoved) -> RebalanceRequest {
    RebalanceRequest {
        alignment: alignment.into(),
        balance: "population_estimate".into(),
        max_moved,
        params: RebalanceParams {
            tolerance,
            ..RebalanceParams::default()
        },
    }
}

/// Units moved by a proposal's change set, checked against its transfers.
fn moved_by(proposal: &RebalanceProposal) -> BTreeMap<String, String> {
    let mut moved = BTreeMap::new();
    for op in &proposal.changes {
        let Op::Assign { units, territory } = op else {
            panic!("a rebalance only assigns: {op:?}")
        };
        for u in units {
            assert!(
                moved.insert(u.clone(), territory.clone()).is_none(),
                "{u} moved twice"
            );
        }
    }
    let in_transfers: usize = proposal.transfers.iter().map(|t| t.units.len()).sum();
    assert_eq!(
        (moved.len(), in_transfers),
        (proposal.moved_units, proposal.moved_units)
    );
    moved
}

#[test]
fn a_rebalance_moves_few_units_honours_locks_and_applies_as_one_change_set() {
    let (_dir, engine) = common::sample_engine();
    // The demo alignment: 28 territories by borough and ZIP prefix, far from balanced.
    let request = rebalance_request("nyc", 0.25, MaxMoved::Units(30));
    let proposal = engine.rebalance(&request, &|_| true).unwrap();
    let (before, after) = (balance_of(&proposal.before), balance_of(&proposal.after));
    assert!(after < before, "max |dev| {before} -> {after}");
    assert!(
        proposal.moved_units > 0 && proposal.moved_units <= 30,
        "{}",
        proposal.moved_units
    );
    assert!(proposal.after.non_contiguous <= proposal.before.non_contiguous);
    assert_eq!(proposal.after.empty, 0);
    let moved = moved_by(&proposal);
    // The same request on the same revision gives the same proposal.
    assert_eq!(moved_by(&engine.rebalance(&request, &|_| true).unwrap()), moved);

    // Locks: the territory that gave most, and one moved unit of another, stay put,
    // and nothing moves into the locked territory.
    let giver = proposal.transfers[0].from.clone();
    let other = proposal
        .transfers
        .iter()
        .find(|t| t.from != giver && t.to != giver)
        .map(|t| t.units[0].clone())
        .expect("a transfer between two other territories");
    let lock = [Op::Lock {
        territories: vec![giver.clone()],
        units: vec![other.clone()],
        level: None,
        locked: true,
    }];
    let locked_at = engine
        .apply("nyc", proposal.expected_revision, &lock, "test")
        .unwrap();
    let guarded = engine.rebalance(&request, &|_| true).unwrap();
    assert_eq!(guarded.expected_revision, locked_at.change.revision);
    for t in &guarded.transfers {
        assert!(t.from != giver && t.to != giver, "locked {giver} in {t:?}");
        assert!(!t.units.contains(&other), "locked unit {other} moved: {t:?}");
    }
    assert!(guarded.locked_units > 1);

    // Accepting is posting the change set: one revision, and the quality the proposal
    // promised is the alignment's now; undo gives the quality it had.
    let applied = engine
        .apply("nyc", guarded.expected_revision, &guarded.changes, "test")
        .unwrap();
    assert_eq!(applied.change.revision, guarded.expected_revision + 1);
    let now = engine.rebalance(&request, &|_| true).unwrap();
    assert_eq!(now.before, guarded.after);
    common::undo(&engine, "nyc").unwrap();
    let undone = engine.rebalance(&request, &|_| true).unwrap();
    assert_eq!(undone.before, guarded.before);

    // A bound of 0 moves nothing; a percentage counts the units considered.
    let none = engine
        .rebalance(&rebalance_request("nyc", 0.25, MaxMoved::Units(0)), &|_| true)
        .unwrap();
    assert!(none.changes.is_empty() && none.transfers.is_empty());
    assert_eq!(none.before, none.after);
    let five = engine
        .rebalance(&rebalance_request("nyc", 0.25, MaxMoved::Fraction(0.05)), &|_| {
            true
        })
        .unwrap();
    assert_eq!(five.max_moved, (178 - five.left_out_units) * 5 / 100);
    assert!(five.moved_units <= five.max_moved);

    // Cancelled by its progress callback; bad parameters are refused before any work.
    let e = engine.rebalance(&request, &|_| false).unwrap_err();
    assert!(matches!(e, AlignError::Build(BuildError::Cancelled)), "{e}");
    let mut bad = rebalance_request("nyc", -1.0, MaxMoved::Units(3));
    assert!(matches!(
        engine.check_rebalance(&bad),
        Err(AlignError::Build(BuildError::BadTolerance(_)))
    ));
    bad.params.tolerance = 0.1;
    bad.balance = "revenue".into();
    assert!(matches!(
        engine.check_rebalance(&bad),
        Err(AlignError::Build(BuildError::UnknownMetric { .. }))
    ));
    assert!(matches!(
        engine.check_rebalance(&rebalance_request("nope", 0.1, MaxMoved::Units(3))),
        Err(AlignError::Store(StoreError::AlignmentNotFound(_)))
    ));
    assert!(MaxMoved::parse("110%").is_err() && MaxMoved::parse("-3").is_err());
}

#[test]
fn a_build_is_cancelled_by_its_progress_callback() {
    let (_dir, engine) = common::sample_engine();
    let heard = std::sync::atomic::AtomicUsize::new(0);
    let e = engine
        .build(&request("cancelled", "nyc", 8, "population_estimate", 1), &|_| {
            heard.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 2
        })
        .unwrap_err();
    assert!(matches!(e, AlignError::Build(BuildError::Cancelled)), "{e}");
    // Stopped at the third report, and no alignment was written.
    assert_eq!(heard.into_inner(), 3);
    assert!(engine.snapshot("cancelled").is_err());
}

mod over_http {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use actix_web::http::StatusCode;
    use actix_web::{App, test, web};
    use geoalign::http::{AppState, configure};
    use serde_json::{Value, json};

    use crate::common::{self, send};

    /// Polls a job until it has finished; its body.
    async fn finished(
        app: &impl actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse,
            Error = actix_web::Error,
        >,
        href: &str,
    ) -> Value {
        let started = Instant::now();
        loop {
            let (status, job) = send(app, test::TestRequest::get().uri(href)).await;
            assert_eq!(status, StatusCode::OK, "{job}");
            if !matches!(job["state"].as_str(), Some("queued" | "running")) {
                return job;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "job still {job}");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[actix_web::test]
    async fn build_and_rebalance_run_as_jobs_and_a_proposal_is_accepted_by_posting_it() {
        let (_dir, engine) = common::sample_engine();
        let state = web::Data::new(AppState::with_engine(Arc::new(engine)));
        let app = test::init_service(App::new().app_data(state).configure(configure)).await;

        let body = json!({"dataset": "nyc", "territories": 6, "balance": "population_estimate"});
        let res = test::call_service(
            &app,
            test::TestRequest::post()
                .uri("/api/alignments/six/build")
                .set_json(&body)
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
        let location = res
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let job: Value = test::read_body_json(res).await;
        assert_eq!(
            (job["kind"].as_str(), job["href"].as_str()),
            (Some("build"), Some(location.as_str()))
        );
        let job = finished(&app, &location).await;
        assert_eq!(job["state"], "succeeded", "{job}");
        assert_eq!(job["progress"], 1.0);
        assert_eq!(job["result"]["quality"]["territories"], 6);
        assert_eq!(job["result"]["quality"]["non_contiguous"], 0);
        let (status, six) = send(&app, test::TestRequest::get().uri("/api/alignments/six")).await;
        assert_eq!(
            (status, six["counts"]["territory"].as_u64()),
            (StatusCode::OK, Some(6))
        );

        // Refused at once, with no job: the alignment exists, an unknown dataset or
        // metric, a bad bound.
        let refusals = [
            ("/api/alignments/six/build", body.clone(), StatusCode::CONFLICT),
            (
                "/api/alignments/seven/build",
                json!({"dataset": "nope", "territories": 6, "balance": "population_estimate"}),
                StatusCode::NOT_FOUND,
            ),
            (
                "/api/alignments/six/rebalance",
                json!({"balance": "revenue"}),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/alignments/six/rebalance",
                json!({"balance": "population_estimate", "max_moved": "ten"}),
                StatusCode::BAD_REQUEST,
            ),
            (
                "/api/alignments/nope/rebalance",
                json!({"balance": "population_estimate"}),
                StatusCode::NOT_FOUND,
            ),
        ];
        for (uri, body, expected) in refusals {
            let (status, problem) = send(&app, test::TestRequest::post().uri(uri).set_json(&body)).await;
            assert_eq!(status, expected, "{uri} {body}: {problem}");
            assert_eq!(problem["status"], expected.as_u16());
        }
        let (_, problem) = send(
            &app,
            test::TestRequest::post()
                .uri("/api/alignments/six/rebalance")
                .set_json(json!({"balance": "population_estimate", "max_moved": "ten"})),
        )
        .await;
        assert_eq!(problem["parameter"], "max_moved", "{problem}");
        let (_, list) = send(&app, test::TestRequest::get().uri("/api/jobs")).await;
        assert_eq!(list["jobs"].as_array().map(Vec::len), Some(1), "{list}");

        // A rebalance of the demo alignment is a proposal; nothing changes until it is posted.
        let (_, nyc) = send(&app, test::TestRequest::get().uri("/api/alignments/nyc")).await;
        let (status, job) = send(
            &app,
            test::TestRequest::post()
                .uri("/api/alignments/nyc/rebalance")
                .set_json(json!({"balance": "population_estimate", "tolerance": 0.25, "max_moved": 20})),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{job}");
        let job = finished(&app, job["href"].as_str().unwrap()).await;
        assert_eq!(job["state"], "succeeded", "{job}");
        let proposal = &job["result"];
        assert_eq!(proposal["expected_revision"], nyc["revision"]);
        let moved = proposal["moved_units"].as_u64().unwrap();
        assert!(moved > 0 && moved <= 20, "{proposal}");
        let (_, still) = send(&app, test::TestRequest::get().uri("/api/alignments/nyc")).await;
        assert_eq!(still["revision"], nyc["revision"], "a proposal commits nothing");
        let (status, outcome) = send(
            &app,
            test::TestRequest::post()
                .uri("/api/alignments/nyc/changes")
                .set_json(json!({
                    "expected_revision": proposal["expected_revision"],
                    "changes": proposal["changes"],
                    "author": "planner"
                })),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{outcome}");
        assert_eq!(
            outcome["revision"].as_i64(),
            nyc["revision"].as_i64().map(|r| r + 1)
        );

        // Deleting a finished job forgets it; an unknown one is a 404.
        let href = job["href"].as_str().unwrap();
        let (status, _) = send(&app, test::TestRequest::delete().uri(href)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, problem) = send(&app, test::TestRequest::get().uri(href)).await;
        assert_eq!(
            (status, problem["title"].as_str()),
            (StatusCode::NOT_FOUND, Some("Job not found"))
        );
    }
}

#[test]
fn reps_get_the_territory_nearest_their_home_or_keep_it_inside() {
    let (_dir, engine) = common::sample_engine();
    let file = std::fs::File::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nyc_reps.csv")).unwrap();
    // Every third rep of the sample (spread over the boroughs), and one more living in
    // the first one's ZIP.
    let mut seeds: BTreeMap<String, geoalign::align::RepRecord> = geoalign::align::records::rep_records(file)
        .unwrap()
        .into_iter()
        .step_by(3)
        .take(8)
        .collect();
    let first = seeds.values().next().unwrap().clone();
    seeds.insert(
        "R9999".into(),
        geoalign::align::RepRecord {
            name: "Neighbour".into(),
            ..first
        },
    );
    let check = |name: &str, keep_homes: bool| {
        let mut req = request(name, "nyc", 9, "population_estimate", 1);
        req.seeds = seeds.clone();
        req.keep_homes = keep_homes;
        let outcome = run(&engine, &req);
        assert_eq!(assert_contiguous(&engine, name, "population_estimate"), 9);
        assert_eq!(outcome.seeds.len(), 9);
        let snapshot = engine.snapshot(name).unwrap();
        let units = &snapshot.dataset.units;
        let mut territories = std::collections::BTreeSet::new();
        for placed in &outcome.seeds {
            assert!(
                territories.insert(placed.territory.clone()),
                "one territory per rep: {placed:?}"
            );
            let territory = &snapshot.state.territories[0][&placed.territory];
            assert_eq!(
                territory.reps.iter().collect::<Vec<_>>(),
                vec![&placed.rep],
                "{placed:?}"
            );
            // The rep's record came with it: name and home.
            let record = &snapshot.state.reps[&placed.rep];
            assert_eq!(record, &seeds[&placed.rep]);
            let home = snapshot
                .dataset
                .unit_at(record.lon.unwrap(), record.lat.unwrap())
                .unwrap();
            let inside = snapshot.state.owner(units, home) == Some(placed.territory.as_str());
            assert_eq!(placed.home_inside, inside, "{placed:?}");
            assert_eq!(placed.distance_km == 0.0, inside, "{placed:?}");
            let unit = units.iter().position(|u| u.id == placed.unit).unwrap() as u32;
            assert_eq!(
                snapshot.state.owner(units, unit),
                Some(placed.territory.as_str()),
                "{placed:?}"
            );
        }
        outcome
    };
    // Balance first: the build is the one without reps; each rep gets the territory
    // holding its home when it can, else the nearest left.
    let matched = check("matched", false);
    let plain = run(&engine, &request("plain", "nyc", 9, "population_estimate", 1));
    assert_eq!(matched.quality, plain.quality);
    assert!(
        matched.seeds.iter().filter(|s| s.home_inside).count() >= 5,
        "{:?}",
        matched.seeds
    );
    // Homes kept: every rep but the neighbour (whose ZIP the first rep holds) is inside.
    let kept = check("kept", true);
    let outside: Vec<&str> = kept
        .seeds
        .iter()
        .filter(|s| !s.home_inside)
        .map(|s| s.rep.as_str())
        .collect();
    assert_eq!(outside, vec!["R9999"]);
    // Balance then follows where the reps live: measured 49% here (two reps in one ZIP,
    // three in Manhattan), 12.4% for ten reps spread over the boroughs, 81% for all 28
    // sample reps; the matched build above is within 3%.
    assert!(balance_of(&kept.quality) < 0.6, "{}", kept.quality);
    assert!(balance_of(&matched.quality) < 0.05, "{}", matched.quality);

    // More reps than territories, or a rep without a home, is refused before any work.
    let mut many = request("b", "nyc", 2, "population_estimate", 1);
    many.seeds = seeds.clone();
    let e = engine.build(&many, &|_| true).unwrap_err();
    assert!(
        matches!(
            e,
            AlignError::Build(BuildError::TooManySeeds {
                seeds: 9,
                territories: 2
            })
        ),
        "{e}"
    );
    let mut homeless = request("b", "nyc", 9, "population_estimate", 1);
    homeless.keep_homes = true;
    homeless.seeds = seeds;
    homeless.seeds.get_mut("R9999").unwrap().lon = None;
    let e = engine.build(&homeless, &|_| true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rep 'R9999' has no home (lon, lat): a seed needs one"
    );
}

#[test]
fn point_units_count_in_the_polygon_holding_them() {
    let (_dir, engine) = common::sample_engine();
    let mut request = rebalance_request("nyc", 0.25, MaxMoved::Units(0));
    request.balance = "population".into();
    let proposal = engine.rebalance(&request, &|_| true).unwrap();
    let snapshot = engine.snapshot("nyc").unwrap();
    let units = &snapshot.dataset.units;
    // What the territories' sums hold: every owned unit, PO-box points included.
    let (mut owned, mut in_points) = (0.0, 0.0);
    for (i, unit) in units.iter().enumerate() {
        if snapshot.state.owner(units, i as u32).is_some() {
            let v = unit.metrics.get("population").copied().unwrap_or(0.0);
            owned += v;
            if unit.kind == geoalign::feature::UnitKind::Point {
                in_points += v;
            }
        }
    }
    assert!(in_points > 0.0, "the sample's point units hold population");
    let q = &proposal.before;
    let counted = q.metrics[0].target * q.territories as f64;
    assert!(
        (counted - owned).abs() < 1e-6 * owned,
        "{counted} counted, {owned} in the territories"
    );
}

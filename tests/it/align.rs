//! Alignments on the NYC sample: sheets, change sets, locks, undo, diff, metrics
//! and the dissolved territories.

use crate::common;

use std::collections::BTreeMap;

use common::{sample_engine, shared};
use geo::{Area, BooleanOps, MultiPolygon, Validation};
use geoalign::align::Op;
use geoalign::engine::AlignError;
use geoalign::engine::Engine;
use geoalign::snapshot::Snapshot;
use geoalign::store::StoreError;

const SHEET: &str = include_str!("../../data/nyc_alignment.csv");

fn assign(units: &[&str], territory: &str) -> Op {
    Op::Assign {
        units: units.iter().map(|u| (*u).to_owned()).collect(),
        territory: territory.into(),
    }
}

/// Geometry and metrics of every level, for exact before/after comparisons.
fn fingerprint(s: &Snapshot) -> Vec<BTreeMap<String, (MultiPolygon<f64>, String)>> {
    s.shapes
        .iter()
        .map(|level| {
            level
                .iter()
                .map(|(code, shape)| {
                    (
                        code.clone(),
                        (shape.geometry.clone(), format!("{:?}", shape.metrics)),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn sheet_imports_and_exports_unchanged() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    assert_eq!(s.revision, 1, "the reps import is revision 1");
    let counts: Vec<usize> = s.state.territories.iter().map(|t| t.len()).collect();
    assert_eq!(counts, [28, 5, 3]);
    assert_eq!(
        s.state.territories[1]["Manhattan"].parent.as_deref(),
        Some("North")
    );
    assert_eq!(s.state.reps["R1000"].name, "Rep 1000");
    let mut out = Vec::new();
    engine.export_sheet("nyc", &mut out).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), SHEET);
}

#[test]
fn sheet_problems_are_reported_by_line_and_nothing_is_created() {
    let (_dir, engine) = sample_engine();
    let sheet = "unit_id,territory,district,region\n\
                 10001,T1,D1,R1\n\
                 99998,T1,D1,R1\n\
                 10001,T2,D1,R1\n\
                 10002,T1,D2,R1\n\
                 10003,,D1,R1\n";
    let err = engine
        .import_sheet("bad", "nyc", None, None, sheet.as_bytes())
        .unwrap_err();
    let AlignError::Sheet(sheet_error) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        sheet_error.problems,
        [
            "line 3: unknown unit id '99998'",
            "line 4: unit '10001' already assigned on line 2",
            "line 5: territory 'T1' has district 'D2' here but 'D1' on 1 other line(s) (first line 2)",
            "line 6: no territory for unit '10003'",
        ]
    );
    assert!(matches!(
        engine.snapshot("bad"),
        Err(StoreError::AlignmentNotFound(_))
    ));
}

/// One wrong district on one row of the demo's sheet is one problem (that row), not one
/// per row of the region the wrong district belongs to.
#[test]
fn one_wrong_parent_is_reported_once_at_its_root() {
    let (_dir, engine) = sample_engine();
    let sheet =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/nyc_alignment.csv")).unwrap();
    let mut lines: Vec<String> = sheet.lines().map(str::to_owned).collect();
    assert!(lines[4].contains(",Manhattan,North,"), "{}", lines[4]);
    lines[4] = lines[4].replace(",Manhattan,", ",Brooklyn,");
    let err = engine
        .import_sheet("bad", "nyc", None, None, lines.join("\n").as_bytes())
        .unwrap_err();
    let AlignError::Sheet(sheet_error) = err else {
        panic!("{err:?}")
    };
    assert_eq!(sheet_error.problems.len(), 1, "{:?}", sheet_error.problems);
    let problem = &sheet_error.problems[0];
    assert!(
        problem.starts_with("line 5: territory 'T1000' has district 'Brooklyn' here but 'Manhattan' on "),
        "{problem}"
    );
}

#[test]
fn zip_plus_four_and_unpadded_ids_match() {
    let (_dir, engine) = sample_engine();
    let sheet = "unit_id,territory\n10001-1234,A\n100020000,A\n 10003 ,B\n";
    let (_, report) = engine
        .import_sheet("z", "nyc", Some(vec!["territory".into()]), None, sheet.as_bytes())
        .unwrap();
    assert_eq!(report.assigned, 3);
    assert_eq!(report.unassigned.len(), 178 - 3);
    let s = engine.snapshot("z").unwrap();
    assert_eq!(
        s.shapes[0]["A"].members.len(),
        2 + point_units_in(&s, &["10001", "10002"])
    );
}

fn point_units_in(s: &Snapshot, polygons: &[&str]) -> usize {
    let units = &s.dataset.units;
    units
        .iter()
        .filter(|u| {
            u.parent
                .is_some_and(|p| polygons.contains(&units.get(p).id.as_str()))
        })
        .count()
}

#[test]
fn a_move_redissolves_and_updates_metrics() {
    let (_dir, engine) = sample_engine();
    let before = engine.snapshot("nyc").unwrap();
    let unit_pop = before
        .dataset
        .units
        .get(before.dataset.units.resolve("10002").unwrap())
        .metrics["population_estimate"];
    let outcome = engine
        .apply("nyc", before.revision, &[assign(&["10002"], "T1001")], "t")
        .unwrap();
    assert_eq!(outcome.change.revision, before.revision + 1);
    let mut touched = outcome.change.touched["territory"].clone();
    touched.sort();
    assert_eq!(touched, ["T1000", "T1001"]);
    assert!(
        !outcome.change.touched.contains_key("district"),
        "both in Manhattan: {:?}",
        outcome.change.touched
    );
    let after = &outcome.snapshot;
    let pop = |s: &Snapshot, t: &str| s.shapes[0][t].metrics.sums["population_estimate"];
    assert_eq!(pop(after, "T1000"), pop(&before, "T1000") - unit_pop);
    assert_eq!(pop(after, "T1001"), pop(&before, "T1001") + unit_pop);
    for code in ["T1000", "T1001"] {
        let g = &after.shapes[0][code].geometry;
        assert!(g.is_valid(), "{code}");
        let sum: f64 = after.shapes[0][code]
            .members
            .iter()
            .filter_map(|&u| after.dataset.topo_of_unit[u as usize])
            .map(|t| after.dataset.polygons[t as usize].unsigned_area())
            .sum();
        assert!(
            (g.unsigned_area() - sum).abs() / sum < 1e-6,
            "{code}: {} vs {sum}",
            g.unsigned_area()
        );
    }
    // Untouched territories keep their very shapes.
    assert!(std::sync::Arc::ptr_eq(
        &before.shapes[0]["T1120"],
        &after.shapes[0]["T1120"]
    ));
    // The store agrees with memory.
    let reloaded = Engine::new(engine.store().clone());
    assert_eq!(*reloaded.snapshot("nyc").unwrap().state, *after.state);
}

#[test]
fn stale_revisions_are_refused_and_nothing_is_lost() {
    let (_dir, engine) = sample_engine();
    let r = engine.snapshot("nyc").unwrap().revision;
    engine
        .apply("nyc", r, &[assign(&["10002"], "T1001")], "a")
        .unwrap();
    let err = engine
        .apply("nyc", r, &[assign(&["10003"], "T1001")], "b")
        .unwrap_err();
    assert!(
        matches!(err, AlignError::Store(StoreError::StaleRevision { expected, current, .. }) if expected == r && current == r + 1),
        "{err:?}"
    );
    let s = engine.snapshot("nyc").unwrap();
    assert_eq!(
        s.state
            .owner(&s.dataset.units, s.dataset.units.resolve("10002").unwrap()),
        Some("T1001")
    );
    assert_eq!(
        s.state
            .owner(&s.dataset.units, s.dataset.units.resolve("10003").unwrap()),
        Some("T1000")
    );
}

#[test]
fn concurrent_writers_on_one_revision_get_exactly_one_commit() {
    let (_dir, engine) = sample_engine();
    let engine = std::sync::Arc::new(engine);
    let r = engine.snapshot("nyc").unwrap().revision;
    let handles: Vec<_> = ["T1001", "T1002", "T1003", "T1004"]
        .into_iter()
        .map(|t| {
            let engine = engine.clone();
            std::thread::spawn(move || engine.apply("nyc", r, &[assign(&["10002"], t)], t).is_ok())
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(engine.snapshot("nyc").unwrap().revision, r + 1);
    assert_eq!(engine.store().history("nyc").unwrap().len() as i64, r + 1);
}

#[test]
fn change_sets_are_all_or_nothing_and_locks_refuse_edits() {
    let (_dir, engine) = sample_engine();
    let r = engine.snapshot("nyc").unwrap().revision;
    let err = engine
        .apply(
            "nyc",
            r,
            &[assign(&["10002"], "T1001"), assign(&["10003"], "NOPE")],
            "t",
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "alignment 'nyc': operation 1 (assign 1 unit(s) to NOPE) refused: unknown territory 'NOPE'"
    );
    assert_eq!(engine.snapshot("nyc").unwrap().revision, r);

    let lock = Op::Lock {
        territories: vec!["T1000".into()],
        units: vec!["11201".into()],
        level: None,
        locked: true,
    };
    let r = engine.apply("nyc", r, &[lock], "t").unwrap().change.revision;
    for (op, reason) in [
        (
            assign(&["10002"], "T1001"),
            "unit '10002' belongs to locked territory 'T1000'",
        ),
        (assign(&["11201"], "T1120"), "unit '11201' is locked"),
        (
            Op::RenameTerritory {
                code: "T1000".into(),
                name: "x".into(),
                level: None,
            },
            "territory 'T1000' is locked",
        ),
    ] {
        let err = engine.apply("nyc", r, &[op], "t").unwrap_err();
        assert!(
            matches!(&err, AlignError::Rejected { reason: got, .. } if got == reason),
            "{err}"
        );
    }
}

#[test]
fn twenty_moves_and_their_undos_restore_everything() {
    let (_dir, engine) = sample_engine();
    let start = engine.snapshot("nyc").unwrap();
    let original = fingerprint(&start);
    let units: Vec<String> = start
        .dataset
        .units
        .iter()
        .filter(|u| u.parent.is_none())
        .map(|u| u.id.clone())
        .collect();
    let territories: Vec<String> = start.state.territories[0].keys().cloned().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for _ in 0..20 {
        let s = engine.snapshot("nyc").unwrap();
        let op = assign(
            &[units[next(units.len())].as_str()],
            &territories[next(territories.len())],
        );
        engine.apply("nyc", s.revision, &[op], "random").unwrap();
    }
    assert_ne!(fingerprint(&engine.snapshot("nyc").unwrap()), original);
    for _ in 0..20 {
        common::undo(&engine, "nyc").unwrap();
    }
    let end = engine.snapshot("nyc").unwrap();
    assert_eq!(*end.state, *start.state);
    assert_eq!(fingerprint(&end), original);
    assert_eq!(end.revision, start.revision + 40);
    // Only the reps import is left to undo, then nothing.
    common::undo(&engine, "nyc").unwrap();
    assert!(matches!(
        common::undo(&engine, "nyc"),
        Err(AlignError::NothingToUndo(_))
    ));
}

#[test]
fn territory_operations_undo_exactly() {
    let (_dir, engine) = sample_engine();
    let start = engine.snapshot("nyc").unwrap();
    let ops = vec![
        Op::CreateTerritory {
            code: "T9000".into(),
            name: Some("Midtown".into()),
            level: None,
            parent: Some("Manhattan".into()),
        },
        assign(&["10001", "10018"], "T9000"),
        Op::RenameTerritory {
            code: "T1001".into(),
            name: "Chelsea".into(),
            level: None,
        },
        Op::MergeTerritories {
            from: vec!["T1002".into()],
            into: "T1001".into(),
            level: None,
        },
        Op::MoveTerritory {
            territory: "T1004".into(),
            parent: Some("Brooklyn".into()),
            level: None,
        },
        Op::SetRep {
            territory: "T9000".into(),
            reps: vec!["R1000".into(), "R1001".into()],
        },
        Op::DeleteTerritory {
            code: "Staten Island".into(),
            level: Some("district".into()),
            reassign_to: Some("Brooklyn".into()),
        },
    ];
    let outcome = engine.apply("nyc", start.revision, &ops, "t").unwrap();
    let s = &outcome.snapshot;
    assert!(s.state.territories[0].contains_key("T9000"));
    assert!(!s.state.territories[0].contains_key("T1002"));
    assert_eq!(s.state.territories[0]["T1001"].name, "Chelsea");
    assert_eq!(
        s.state.territories[0]["T1030"].parent.as_deref(),
        Some("Brooklyn")
    );
    let brooklyn_units = s.shapes[1]["Brooklyn"].members.len();
    assert!(brooklyn_units > start.shapes[1]["Brooklyn"].members.len());
    assert!(s.shapes[1]["Brooklyn"].geometry.is_valid());
    common::undo(&engine, "nyc").unwrap();
    let end = engine.snapshot("nyc").unwrap();
    assert_eq!(*end.state, *start.state);
    assert_eq!(fingerprint(&end), fingerprint(&start));
}

#[test]
fn copies_diff_and_accounts() {
    let (_dir, engine) = sample_engine();
    engine.create("what-if", None, None, Some("nyc")).unwrap();
    let s = engine.snapshot("what-if").unwrap();
    engine
        .apply(
            "what-if",
            s.revision,
            &[assign(&["10002", "10003"], "T1001")],
            "t",
        )
        .unwrap();
    let (a, b) = (
        engine.snapshot("what-if").unwrap(),
        engine.snapshot("nyc").unwrap(),
    );
    let units = &a.dataset.units;
    let differing: Vec<&str> = (0..units.len() as u32)
        .filter(|&i| a.state.owner(units, i) != b.state.owner(units, i))
        .map(|i| units.get(i).id.as_str())
        .collect();
    // The two polygons, and the PO boxes inside them that follow their polygon.
    assert!(
        differing.contains(&"10002") && differing.contains(&"10003"),
        "{differing:?}"
    );
    assert_eq!(differing.len(), 2 + point_units_in(&a, &["10002", "10003"]));

    // Accounts: owned by location unless overridden.
    let accounts = "id,name,lon,lat,revenue\nA1,Chelsea Market,-74.0061,40.7424,100\nA2,Far Away,-120,35,5\n";
    let ops = geoalign::align::records::accounts(accounts.as_bytes(), &a.state).unwrap();
    let outcome = engine.apply("what-if", a.revision, &ops, "t").unwrap();
    let s = &outcome.snapshot;
    let owner = s.account_owner("A1").unwrap();
    assert_eq!(owner, ("T1001", geoalign::align::PlacedBy::Unit));
    assert_eq!(s.shapes[0]["T1001"].metrics.accounts, 1);
    assert_eq!(s.shapes[0]["T1001"].metrics.account_sums["revenue"], 100.0);
    assert!(s.account_owner("A2").is_none(), "outside every unit");
    let outcome = engine
        .apply(
            "what-if",
            s.revision,
            &[Op::OverrideAccount {
                account: "A1".into(),
                territory: Some("T1120".into()),
            }],
            "t",
        )
        .unwrap();
    assert_eq!(
        outcome.snapshot.account_owner("A1"),
        Some(("T1120", geoalign::align::PlacedBy::Override))
    );
    assert_eq!(outcome.snapshot.shapes[0]["T1001"].metrics.accounts, 0);
}

#[test]
fn dissolved_levels_are_valid_and_cover_their_units() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    for (level, shapes) in s.shapes.iter().enumerate() {
        for (code, shape) in shapes {
            assert!(shape.geometry.is_valid(), "{} {code}", s.state.levels[level]);
            let units: MultiPolygon<f64> = shape
                .members
                .iter()
                .filter_map(|&u| s.dataset.topo_of_unit[u as usize])
                .map(|t| s.dataset.polygons[t as usize].clone())
                .fold(MultiPolygon::new(vec![]), |acc, p| acc.union(&p));
            let missing = units.difference(&shape.geometry).unsigned_area();
            assert!(missing < 1e-7 * units.unsigned_area(), "{code}: {missing}");
            assert!(shape.metrics.area_km2 > 0.0 && shape.metrics.parts >= 1);
            assert!(shape.metrics.polsby_popper > 0.0 && shape.metrics.polsby_popper <= 1.0);
        }
    }
    let regions: f64 = s.shapes[2]
        .values()
        .map(|r| r.metrics.sums["population_estimate"])
        .sum();
    let total: f64 = s
        .dataset
        .units
        .iter()
        .filter_map(|u| u.metrics.get("population_estimate"))
        .sum();
    assert_eq!(
        regions, total,
        "every populated unit is assigned (99999 has none)"
    );
}

#[test]
fn zip3_alignment_of_the_whole_us() {
    let Some(path) = shared("zip5_us.fgb") else { return };
    let (_dir, store) = common::store();
    geoalign::ingest::ingest(&store, &common::options(path, "us")).unwrap();
    let engine = Engine::new(std::sync::Arc::new(store));
    let stored = engine.store().units("us").unwrap();
    let mut region_of: BTreeMap<String, String> = BTreeMap::new();
    let mut sheet = String::from("unit_id,territory,region\n");
    for u in &stored {
        let zip3 = &u.id[..3];
        let region = region_of
            .entry(zip3.to_owned())
            .or_insert_with(|| u.properties.attributes["state"].clone());
        sheet.push_str(&format!("{},{zip3},{region}\n", u.id));
    }
    let levels = vec!["territory".to_owned(), "region".to_owned()];
    let (_, report) = engine
        .import_sheet("zip3", "us", Some(levels), None, sheet.as_bytes())
        .unwrap();
    assert_eq!(report.assigned, 33_791);
    let s = engine.snapshot("zip3").unwrap();
    assert_eq!(s.shapes[0].len(), region_of.len());
    let invalid: Vec<&String> = s.shapes[0]
        .iter()
        .filter(|(_, sh)| !sh.geometry.is_valid())
        .map(|(c, _)| c)
        .collect();
    assert!(invalid.is_empty(), "{invalid:?}");
    let population: f64 = s.shapes[1].values().map(|r| r.metrics.sums["population"]).sum();
    let total: f64 = stored.iter().map(|u| u.properties.metrics["population"]).sum();
    assert_eq!(population, total);
}

/// An alignment can be deleted (guarded by its revision), with everything it holds; an
/// engine on the same store stops serving it at its next refresh, and the name can be
/// used again.
#[test]
fn an_alignment_is_deleted_with_its_history_and_its_name_freed() {
    let (dir, engine) = common::sample_engine();
    let path = dir.path().join("test.db");
    let other =
        geoalign::engine::Engine::new(std::sync::Arc::new(geoalign::store::Store::open(&path).unwrap()));
    let revision = other.snapshot("nyc").unwrap().revision;
    let stale = engine.delete("nyc", Some(revision + 1)).unwrap_err();
    assert!(stale.to_string().contains("is at revision"), "{stale}");
    assert!(engine.snapshot("nyc").is_ok(), "a stale delete deleted");
    engine.delete("nyc", Some(revision)).unwrap();
    assert!(engine.snapshot("nyc").is_err());
    assert!(engine.store().history("nyc").is_err());
    other.refresh().unwrap();
    assert!(other.snapshot("nyc").is_err(), "the other engine still serves it");
    assert!(engine.delete("nyc", None).is_err(), "deleted twice");
    engine.create("nyc", Some("nyc"), None, None).unwrap();
    assert_eq!(engine.snapshot("nyc").unwrap().revision, 0);
}

/// An edited sheet replaces an alignment as one change set: stale or bad sheets change
/// nothing, the replaced alignment says exactly what the sheet says (keeping names and
/// rep records), its outlines equal a fresh load's, the same sheet again is no
/// revision, and one undo gives back every outline as it was.
#[test]
fn an_edited_sheet_replaces_an_alignment_as_one_change_set_undone_by_one_undo() {
    let (dir, engine) = sample_engine();
    let before = engine.snapshot("nyc").unwrap();
    let original = fingerprint(&before);
    let mut lines: Vec<String> = SHEET.lines().map(str::to_owned).collect();
    // Three units to another territory, one dropped, one territory under a new code and
    // district, a district under another region, a territory with another rep.
    let moved: Vec<usize> = (1..lines.len())
        .filter(|&i| lines[i].contains(",T1000,"))
        .take(3)
        .collect();
    let target = lines
        .iter()
        .skip(1)
        .find(|l| !l.contains(",T1000,"))
        .unwrap()
        .clone();
    let target_fields: Vec<&str> = target.split(',').collect();
    for &i in &moved {
        let id = lines[i].split(',').next().unwrap().to_owned();
        lines[i] = format!("{id},{}", target_fields[1..].join(","));
    }
    let dropped = lines.remove(lines.len() - 1);
    let renamed = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap().to_owned())
        .find(|t| t != "T1000" && *t != target_fields[1])
        .unwrap();
    for line in lines
        .iter_mut()
        .filter(|l| l.split(',').nth(1) == Some(renamed.as_str()))
    {
        let f: Vec<&str> = line.split(',').collect();
        *line = format!("{},TNEW,DNEW,{},{}", f[0], f[3], f[4]);
    }
    let district = before.state.territories[1].keys().next().unwrap().clone();
    let region = before.state.territories[1][&district].parent.clone().unwrap();
    let other_region = before.state.territories[2]
        .keys()
        .find(|r| **r != region)
        .unwrap()
        .clone();
    for line in lines
        .iter_mut()
        .filter(|l| l.split(',').nth(2) == Some(district.as_str()))
    {
        *line = line.replace(
            &format!(",{district},{region},"),
            &format!(",{district},{other_region},"),
        );
    }
    let edited = lines.join("\n") + "\n";

    let stale = engine
        .replace_sheet("nyc", before.revision - 1, None, edited.as_bytes(), "t")
        .unwrap_err();
    assert!(
        matches!(stale, AlignError::Store(StoreError::StaleRevision { .. })),
        "{stale}"
    );
    let bad = format!(
        "{edited}99998,T1000,Manhattan,North,\n{},{},Manhattan,North,\n",
        dropped.split(',').next().unwrap(),
        "X".repeat(130)
    );
    let AlignError::Sheet(problems) = engine
        .replace_sheet("nyc", before.revision, None, bad.as_bytes(), "t")
        .unwrap_err()
    else {
        panic!("not a sheet error")
    };
    let last = lines.len() + 1;
    assert_eq!(
        problems.problems,
        [
            format!("line {}: unknown unit id '99998'", last),
            format!("line {}: territory of 130 characters: at most 100", last + 1),
        ]
    );
    assert_eq!(
        engine.snapshot("nyc").unwrap().revision,
        before.revision,
        "a refused sheet changed the alignment"
    );

    let (outcome, report) = engine
        .replace_sheet("nyc", before.revision, None, edited.as_bytes(), "t")
        .unwrap();
    assert_eq!(outcome.snapshot.revision, before.revision + 1);
    assert!(
        report
            .unassigned
            .contains(&dropped.split(',').next().unwrap().to_owned())
    );
    let mut out = Vec::new();
    engine.export_sheet("nyc", &mut out).unwrap();
    let mut exported: Vec<String> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let mut expected = lines.clone();
    exported.sort();
    expected.sort();
    assert_eq!(
        exported, expected,
        "the alignment does not say what the sheet says"
    );
    let s = &outcome.snapshot;
    assert_eq!(
        s.state.territories[0][&target_fields[1].to_string()].name,
        before.state.territories[0][target_fields[1]].name
    );
    assert_eq!(s.state.reps, before.state.reps, "rep records were not kept");
    assert!(!s.state.territories[0].contains_key(&renamed));
    assert_eq!(
        s.state.territories[1]["DNEW"].parent.as_deref(),
        Some(
            lines[1..]
                .iter()
                .find(|l| l.contains(",TNEW,"))
                .unwrap()
                .split(',')
                .nth(3)
                .unwrap()
        )
    );
    let history = engine.store().history("nyc").unwrap();
    let summary = &history.last().unwrap().summary;
    let renamed_units = lines.iter().filter(|l| l.contains(",TNEW,")).count();
    assert_eq!(
        *summary,
        format!(
            "replaced from a sheet: {} unit(s) moved, 2 territor(ies) created, 1 deleted, \
             1 given another parent, 1 with other reps",
            moved.len() + 1 + renamed_units
        )
    );
    let fresh = Engine::new(std::sync::Arc::new(
        geoalign::store::Store::open(&dir.path().join("test.db")).unwrap(),
    ));
    assert_eq!(
        fingerprint(&fresh.snapshot("nyc").unwrap()),
        fingerprint(s),
        "served outlines differ from a fresh load"
    );

    let (again, _) = engine
        .replace_sheet("nyc", s.revision, None, edited.as_bytes(), "t")
        .unwrap();
    assert!(again.change.is_empty(), "the same sheet twice made a revision");

    common::undo(&engine, "nyc").unwrap();
    let undone = engine.snapshot("nyc").unwrap();
    assert_eq!(*undone.state, *before.state);
    assert_eq!(fingerprint(&undone), original);
}

/// Rule territories (#17): accounts with text attributes are placed by the first
/// matching rule, an override still wins, a bad rule is refused naming its field, a
/// territory with rules is not deleted without a successor, and undo restores owners.
#[test]
fn rule_territories_place_accounts_by_their_attributes() {
    use geoalign::align::PlacedBy;
    let (dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    // Spaces around a header or a value are not part of it.
    let accounts = "id, name ,lon,lat,employees,vertical ,channel,partner_id,lead_source\n\
        H1, Mercy Hospital , -74.0061,40.7424 , 5000,Healthcare ,direct, ,web\n\
        H2,Small Clinic,-74.0061,40.7424,40,Healthcare,direct,,referral\n\
        P1,Reseller Shop,-74.0061,40.7424,12,Retail,partner,P17,web\n\
        F1,Bank,-74.0061,40.7424,900,Finance,direct,,tradeshow\n";
    let ops = geoalign::align::records::accounts(accounts.as_bytes(), &s.state).unwrap();
    let s = engine.apply("nyc", s.revision, &ops, "t").unwrap().snapshot;
    assert_eq!(
        s.state.accounts["H1"].record.attributes["vertical"].as_ref(),
        "Healthcare"
    );
    assert_eq!(s.state.accounts["H1"].record.metrics["employees"], 5000.0);
    assert_eq!(s.state.accounts["H1"].record.name, "Mercy Hospital");
    assert!(
        !s.state.accounts["H1"]
            .record
            .attributes
            .contains_key("partner_id"),
        "empty stays absent"
    );
    let geo = s.account_owner("H1").unwrap().0.to_owned();
    let before: Vec<_> = ["H1", "H2", "P1", "F1"]
        .iter()
        .map(|id| s.account_owner(id).map(|(t, b)| (t.to_owned(), b.name())))
        .collect();
    let others: Vec<String> = s.state.territories[0]
        .keys()
        .filter(|t| **t != geo)
        .take(3)
        .cloned()
        .collect();
    let rule = |rule: &str, territory: &str, condition: &str| Op::CreateRule {
        rule: rule.into(),
        territory: territory.into(),
        condition: condition.into(),
        priority: None,
    };
    let rules = vec![
        rule(
            "ENT-HC",
            &others[0],
            "vertical = 'Healthcare' AND employees >= 1000",
        ),
        rule(
            "PARTNER-17",
            &others[1],
            "channel = 'partner' AND partner_id = 'P17'",
        ),
        rule("INSIDE", &others[2], "lead_source IN ('tradeshow', 'referral')"),
    ];
    let s = engine.apply("nyc", s.revision, &rules, "t").unwrap().snapshot;
    assert_eq!(
        s.account_owner("H1"),
        Some((others[0].as_str(), PlacedBy::Rule("ENT-HC")))
    );
    assert_eq!(
        s.account_owner("H2"),
        Some((others[2].as_str(), PlacedBy::Rule("INSIDE")))
    );
    assert_eq!(
        s.account_owner("P1"),
        Some((others[1].as_str(), PlacedBy::Rule("PARTNER-17")))
    );
    assert_eq!(
        s.account_owner("F1"),
        Some((others[2].as_str(), PlacedBy::Rule("INSIDE")))
    );
    assert_eq!(
        s.shapes[0][&others[2]].metrics.accounts, 2,
        "the rule territory counts its accounts"
    );
    let view = s.account_view("H1").unwrap();
    assert_eq!(
        (view.placed_by, view.rule.as_deref()),
        (Some("rule"), Some("ENT-HC"))
    );

    // Routing the same records as leads (CSV fields are text; a rule reading a number
    // parses it) gives each the owner its account has, decided the same way.
    use geoalign::lookup::route::Lead;
    let country = geoalign::lookup::geocode::Country::Us;
    // Read as a batch of leads is (trimmed).
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(accounts.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    for record in reader.records() {
        let lead = Lead::from_csv(&header, &record.unwrap()).unwrap();
        let id = lead.id.clone().unwrap();
        let routed = s.route(engine.store(), &lead, country).unwrap();
        let view = s.account_view(&id).unwrap();
        assert_eq!(
            (&routed.owner, routed.decided_by, &routed.rule, &routed.unit),
            (&view.owner, view.placed_by, &view.rule, &view.unit),
            "{id}"
        );
    }
    let lead = |json: serde_json::Value| Lead::from_json(&json).unwrap();
    let nowhere = s.route(
        engine.store(),
        &lead(serde_json::json!({"lead_source": "tradeshow"})),
        country,
    );
    assert_eq!(
        nowhere.unwrap().rule.as_deref(),
        Some("INSIDE"),
        "a rule needs no location"
    );
    let lost = s
        .route(
            engine.store(),
            &lead(serde_json::json!({"lead_source": "web"})),
            country,
        )
        .unwrap();
    assert!(lost.owner.is_empty() && lost.reason.unwrap().contains("no location"));
    let addressed = s
        .route(
            engine.store(),
            &lead(serde_json::json!({"address": "New York, NY 10001"})),
            country,
        )
        .unwrap();
    assert_eq!(
        (addressed.unit.as_deref(), addressed.decided_by),
        (Some("10001"), Some("unit"))
    );

    // Reordered: INSIDE first.
    let s = engine
        .apply(
            "nyc",
            s.revision,
            &[Op::ReorderRules {
                rules: vec!["INSIDE".into()],
            }],
            "t",
        )
        .unwrap()
        .snapshot;
    assert_eq!(s.state.rules["INSIDE"].priority, 1);
    assert_eq!(s.state.rules["ENT-HC"].priority, 2);
    // An override still wins.
    let over = Op::OverrideAccount {
        account: "H1".into(),
        territory: Some(geo.clone()),
    };
    let s = engine.apply("nyc", s.revision, &[over], "t").unwrap().snapshot;
    assert_eq!(s.account_owner("H1"), Some((geo.as_str(), PlacedBy::Override)));

    // Refused, naming the rule and the field; nothing changes.
    for (op, says) in [
        (rule("X", &others[0], "vertcal = 'Healthcare'"), "vertcal"),
        (
            rule("X", &others[0], "employees = 'many'"),
            "compare it with a number",
        ),
        (rule("X", "NOPE", "employees > 1"), "NOPE"),
        (rule("ENT-HC", &others[0], "employees > 1"), "exists already"),
    ] {
        let e = engine.apply("nyc", s.revision, &[op], "t").unwrap_err();
        assert!(e.to_string().contains(says), "{e}");
    }
    let delete = Op::DeleteTerritory {
        code: others[1].clone(),
        level: None,
        reassign_to: None,
    };
    let e = engine.apply("nyc", s.revision, &[delete], "t").unwrap_err();
    assert!(e.to_string().contains("PARTNER-17"), "{e}");
    assert_eq!(engine.snapshot("nyc").unwrap().revision, s.revision);

    // The rules survive a reload from the store, then undo takes every change back.
    let store = geoalign::store::Store::open(&dir.path().join("test.db")).unwrap();
    let reloaded = geoalign::engine::Engine::new(std::sync::Arc::new(store))
        .snapshot("nyc")
        .unwrap();
    assert_eq!(reloaded.state.rules, s.state.rules);
    assert_eq!(reloaded.account_owner("P1"), s.account_owner("P1"));
    for _ in 0..3 {
        common::undo(&engine, "nyc").unwrap();
    }
    let s = engine.snapshot("nyc").unwrap();
    assert!(s.state.rules.is_empty());
    let after: Vec<_> = ["H1", "H2", "P1", "F1"]
        .iter()
        .map(|id| s.account_owner(id).map(|(t, b)| (t.to_owned(), b.name())))
        .collect();
    assert_eq!(after, before);

    // A stored rule that does not compile (a store edited by hand) refuses the
    // alignment, naming the rule, instead of handing its accounts to geography.
    let db = rusqlite::Connection::open(dir.path().join("test.db")).unwrap();
    db.execute(
        "INSERT INTO rules (alignment_id, code, territory, condition, priority)
         SELECT id, 'BROKEN', ?1, 'vertical = ', 1 FROM alignments WHERE name = 'nyc'",
        [&others[0]],
    )
    .unwrap();
    let store = geoalign::store::Store::open(&dir.path().join("test.db")).unwrap();
    let e = geoalign::engine::Engine::new(std::sync::Arc::new(store))
        .snapshot("nyc")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("rule 'BROKEN' of alignment 'nyc'") && e.contains("does not compile"),
        "{e}"
    );
}

/// The owner of each account of `snapshot`, with the rule that placed it.
fn owners_of(snapshot: &Snapshot) -> BTreeMap<String, (String, Option<String>)> {
    snapshot
        .state
        .accounts
        .keys()
        .map(|id| {
            let view = snapshot.account_view(id).unwrap();
            let territory = view
                .owner
                .get(&snapshot.state.levels[0])
                .cloned()
                .unwrap_or_default();
            (id.clone(), (territory, view.rule.clone()))
        })
        .collect()
}

#[test]
fn rules_sheets_round_trip_and_unit_sheets_keep_rule_territories() {
    let (_dir, engine) = sample_engine();
    let s = engine.snapshot("nyc").unwrap();
    let accounts = "id,name,lon,lat,employees,vertical,channel,partner_id,lead_source\n\
        H1,Mercy Hospital,-74.0061,40.7424,5000,Healthcare,direct,,web\n\
        H2,Small Clinic,-73.95,40.65,40,Healthcare,direct,,referral\n\
        P1,Reseller Shop,-73.85,40.75,12,Retail,partner,P17,web\n\
        F1,Bank,-74.0061,40.7424,900,Finance,direct,,tradeshow\n\
        G1,Corner Shop,-73.95,40.65,3,Retail,direct,,web\n";
    let ops = geoalign::align::records::accounts(accounts.as_bytes(), &s.state).unwrap();
    let s = engine.apply("nyc", s.revision, &ops, "t").unwrap().snapshot;
    let district = s.state.territories[1].keys().next().unwrap().clone();
    let other = s.state.territories[0].keys().nth(1).unwrap().clone();
    // ENT-HC-1 and PARTNER-17 hold no unit: only rules give them accounts.
    let sheet = format!(
        "rule,priority,territory,district,condition\n\
         ENT-HC,1,ENT-HC-1,{district},vertical = 'Healthcare' AND employees >= 1000\n\
         PARTNER-17,2,PARTNER-17,{district},channel = 'partner' AND partner_id = 'P17'\n\
         INSIDE,3,{other},,\"lead_source IN ('tradeshow', 'referral')\"\n"
    );
    let out = engine
        .replace_rules("nyc", s.revision, sheet.as_bytes(), "t")
        .unwrap();
    assert!(
        out.change.summary.contains("3 created") && out.change.summary.contains("2 territor(ies) created"),
        "{}",
        out.change.summary
    );
    let s = out.snapshot;
    assert_eq!(
        s.state.territories[0]["ENT-HC-1"].parent.as_deref(),
        Some(district.as_str())
    );
    let owners = owners_of(&s);
    assert_eq!(owners["H1"], ("ENT-HC-1".into(), Some("ENT-HC".into())));
    assert_eq!(owners["P1"], ("PARTNER-17".into(), Some("PARTNER-17".into())));
    assert_eq!(owners["H2"], (other.clone(), Some("INSIDE".into())));
    assert_eq!(owners["G1"].1, None, "G1 is placed by its unit");

    // The alignment's own sheets say what it says: replacing from them changes nothing
    // (the unit sheet lists no rule territory, and used to delete them, refusing).
    let (mut unit_sheet, mut rules_sheet) = (Vec::new(), Vec::new());
    engine.export_sheet("nyc", &mut unit_sheet).unwrap();
    engine.export_rules("nyc", &mut rules_sheet).unwrap();
    let (same, _) = engine
        .replace_sheet("nyc", s.revision, None, &unit_sheet[..], "t")
        .unwrap();
    assert!(same.change.is_empty(), "{}", same.change.summary);
    let same = engine
        .replace_rules("nyc", s.revision, &rules_sheet[..], "t")
        .unwrap();
    assert!(same.change.is_empty(), "{}", same.change.summary);

    // A new alignment from the two sheets and the same accounts places every account alike.
    engine
        .import_sheet("copy", &s.dataset.name, None, None, &unit_sheet[..])
        .unwrap();
    let c = engine.snapshot("copy").unwrap();
    let ops = geoalign::align::records::accounts(accounts.as_bytes(), &c.state).unwrap();
    let c = engine.apply("copy", c.revision, &ops, "t").unwrap().snapshot;
    let c = engine
        .replace_rules("copy", c.revision, &rules_sheet[..], "t")
        .unwrap()
        .snapshot;
    assert_eq!(owners_of(&c), owners);
    let mut copied = Vec::new();
    engine.export_rules("copy", &mut copied).unwrap();
    assert_eq!(
        String::from_utf8(copied).unwrap(),
        String::from_utf8(rules_sheet).unwrap()
    );

    // A bad sheet is refused whole, by line, and changes nothing.
    let bad = "rule,priority,territory,condition\n\
        A,x,ENT-HC-1,vertical = 'Healthcare'\n\
        B,2,ENT-HC-1,vertical = 'Healthcare'\n\
        B,3,ENT-HC-1,vertical = 'Finance'\n\
        C,4,,vertical = 'Finance'\n\
        D,5,ENT-HC-1,vertical = = 1\n";
    let AlignError::Sheet(e) = engine
        .replace_rules("nyc", s.revision, bad.as_bytes(), "t")
        .unwrap_err()
    else {
        panic!("a sheet error")
    };
    let joined = e.problems.join("\n");
    for expected in [
        "line 2: rule 'A': priority 'x' is not a whole number",
        "line 4: rule 'B' is on line 3 already",
        "line 5: rule 'C': no territory",
        "line 6: rule 'D': ",
    ] {
        assert!(joined.contains(expected), "{expected:?} in {joined}");
    }
    let unknown = "rule,territory,condition\nA,ENT-HC-1,industry = 'Mining'\n";
    let AlignError::Sheet(e) = engine
        .replace_rules("nyc", s.revision, unknown.as_bytes(), "t")
        .unwrap_err()
    else {
        panic!("a sheet error")
    };
    assert!(
        e.problems[0].starts_with("line 2: rule 'A': ") && e.problems[0].contains("industry"),
        "{:?}",
        e.problems
    );
    assert_eq!(engine.snapshot("nyc").unwrap().revision, s.revision);

    // An edited sheet is one change set; its undo restores every owner and rule.
    let edited = format!(
        "rule,territory,district,condition\n\
         PARTNER-17,PARTNER-17,{district},channel = 'partner'\n\
         ENT-HC,ENT-HC-1,{district},vertical = 'Healthcare'\n"
    );
    let e = engine
        .replace_rules("nyc", s.revision, edited.as_bytes(), "t")
        .unwrap()
        .snapshot;
    let edited_owners = owners_of(&e);
    assert_eq!(edited_owners["H2"], ("ENT-HC-1".into(), Some("ENT-HC".into())));
    assert_eq!(edited_owners["F1"].1, None, "INSIDE is gone");
    assert_eq!(e.state.rules["PARTNER-17"].priority, 1);
    let back = common::undo(&engine, "nyc").unwrap().snapshot;
    assert_eq!(back.state.rules, s.state.rules);
    assert_eq!(owners_of(&back), owners);
}

//! The change set that makes an alignment say what a sheet says: `align import
//! --replace` and `PUT /api/alignments/{a}/sheet` commit it like any other, so a
//! replaced sheet is one revision in the history and one undo away.

use std::collections::{BTreeMap, BTreeSet};

use super::ops::{Op, RepRecord};
use super::sheet::SheetReport;
use super::state::AlignmentState;
use super::units::UnitIndex;

/// The operations that turn `current` into `sheet` (a state read from a sheet by
/// [`super::sheet::import`], with its `report`), in an order each applies in:
/// reps the sheet names, new territories top level first, new parents, unit
/// assignments, territory reps, then territories the sheet no longer has, leaf level
/// first (their units and children have moved by then).
///
/// What the sheet does not say is kept: territory names, locks, rep records,
/// accounts, rules with their territories and those territories' parents; the parents of codes at the highest level the sheet gives, the levels
/// above it (a sheet without a `region` column keeps the regions), and territory
/// reps when it has no rep column. A sheet equal to the alignment gives no operation.
pub fn replacement(
    current: &AlignmentState,
    sheet: &AlignmentState,
    report: &SheetReport,
    units: &UnitIndex,
) -> Vec<Op> {
    let read = report.levels_read.clamp(1, current.levels.len());
    let level = |l: usize| (l > 0).then(|| current.levels[l].clone());
    let mut ops = Vec::new();

    if report.reps_read {
        let new_reps: BTreeMap<String, RepRecord> = sheet
            .reps
            .iter()
            .filter(|(id, _)| !current.reps.contains_key(*id))
            .map(|(id, r)| (id.clone(), r.clone()))
            .collect();
        if !new_reps.is_empty() {
            ops.push(Op::UpsertReps { reps: new_reps });
        }
    }

    // A level's parents come from the sheet when it also gives the level above.
    let parents_read = |l: usize| l + 1 < read;
    for l in (0..read).rev() {
        for (code, t) in &sheet.territories[l] {
            if !current.territories[l].contains_key(code) {
                ops.push(Op::CreateTerritory {
                    code: code.clone(),
                    name: None,
                    level: level(l),
                    parent: if parents_read(l) { t.parent.clone() } else { None },
                });
            }
        }
    }
    for l in (0..read).filter(|&l| parents_read(l)) {
        for (code, t) in &sheet.territories[l] {
            if let Some(old) = current.territories[l].get(code)
                && old.parent != t.parent
            {
                ops.push(Op::MoveTerritory {
                    territory: code.clone(),
                    parent: t.parent.clone(),
                    level: level(l),
                });
            }
        }
    }

    let mut assign: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut unassign = Vec::new();
    for (i, (now, then)) in current.assignment.iter().zip(&sheet.assignment).enumerate() {
        if now == then {
            continue;
        }
        let id = units.get(i as u32).id.clone();
        match then.as_deref() {
            Some(t) => assign.entry(t).or_default().push(id),
            None => unassign.push(id),
        }
    }
    if !unassign.is_empty() {
        ops.push(Op::Unassign { units: unassign });
    }
    ops.extend(assign.into_iter().map(|(territory, units)| Op::Assign {
        units,
        territory: territory.to_owned(),
    }));

    if report.reps_read {
        let none = BTreeSet::new();
        for (code, t) in &sheet.territories[0] {
            let old = current.territories[0].get(code).map_or(&none, |o| &o.reps);
            if *old != t.reps {
                ops.push(Op::SetRep {
                    territory: code.clone(),
                    reps: t.reps.iter().cloned().collect(),
                });
            }
        }
    }

    // Rule territories have no units, so a sheet never lists them: they stay, with their
    // parents (the rules sheet is where they change).
    let mut held: Vec<BTreeSet<String>> = vec![BTreeSet::new(); current.levels.len()];
    for rule in current.rules.values() {
        for (l, code) in current.ancestry(&rule.territory).into_iter().enumerate() {
            held[l].extend(code);
        }
    }
    for (l, held) in held.iter().enumerate().take(read) {
        for code in current.territories[l].keys() {
            if !sheet.territories[l].contains_key(code) && !held.contains(code) {
                ops.push(Op::DeleteTerritory {
                    code: code.clone(),
                    level: level(l),
                    reassign_to: None,
                });
            }
        }
    }
    ops
}

/// A one-line summary of a replacement for the change log: `replaced from a sheet:
/// 12 units moved, 2 territories created, 1 deleted`.
pub fn summary(ops: &[Op]) -> String {
    let (mut moved, mut created, mut deleted, mut reparented, mut reps) = (0, 0, 0, 0, 0);
    for op in ops {
        match op {
            Op::Assign { units, .. } | Op::Unassign { units } => moved += units.len(),
            Op::CreateTerritory { .. } => created += 1,
            Op::DeleteTerritory { .. } => deleted += 1,
            Op::MoveTerritory { .. } => reparented += 1,
            Op::SetRep { .. } => reps += 1,
            _ => {}
        }
    }
    format!(
        "replaced from a sheet: {moved} unit(s) moved, {created} territor(ies) created, \
         {deleted} deleted, {reparented} given another parent, {reps} with other reps"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::align::sheet::{SheetColumns, import};

    fn units(n: usize) -> UnitIndex {
        UnitIndex::from_ids((0..n).map(|i| format!("{:05}", 10001 + i)))
    }

    fn read(text: &str, units: &UnitIndex) -> (AlignmentState, SheetReport) {
        let levels: Vec<String> = ["territory", "district", "region"].map(String::from).to_vec();
        import(
            text.as_bytes(),
            &levels,
            &SheetColumns::for_levels(&levels),
            units,
        )
        .unwrap()
    }

    #[test]
    fn applying_the_replacement_gives_the_sheet_and_its_inverse_gives_the_original() {
        let u = units(4);
        let (before, _) = read(
            "unit_id,territory,district,region,rep\n10001,A,D1,R1,r1\n10002,A,D1,R1,r1\n10003,B,D2,R1,\n10004,C,D2,R1,\n",
            &u,
        );
        let text =
            "unit_id,territory,district,region,rep\n10001,A,D1,R1,r2\n10002,E,D3,R2,\n10003,B,D1,R1,\n";
        let (after, report) = read(text, &u);
        let ops = replacement(&before, &after, &report, &u);
        let (replaced, inverse) = before.apply_all(&ops, &u).unwrap();
        assert_eq!(replaced.assignment, after.assignment);
        for l in 0..3 {
            let codes = |s: &AlignmentState| -> Vec<(String, Option<String>, BTreeSet<String>)> {
                s.territories[l]
                    .iter()
                    .map(|(c, t)| (c.clone(), t.parent.clone(), t.reps.clone()))
                    .collect()
            };
            assert_eq!(codes(&replaced), codes(&after), "level {l}");
        }
        assert!(replaced.reps.contains_key("r1") && replaced.reps.contains_key("r2"));
        assert_eq!(replaced.apply_all(&inverse, &u).unwrap().0, before);
        assert!(replacement(&replaced, &after, &report, &u).is_empty());
    }

    #[test]
    fn a_sheet_without_upper_columns_keeps_the_levels_it_does_not_give() {
        let u = units(3);
        let (before, _) = read(
            "unit_id,territory,district,region,rep\n10001,A,D1,R1,r1\n10002,B,D2,R1,r2\n10003,B,D2,R1,r2\n",
            &u,
        );
        let (after, report) = read("unit_id,territory\n10001,A\n10002,A\n10003,C\n", &u);
        assert_eq!((report.levels_read, report.reps_read), (1, false));
        let ops = replacement(&before, &after, &report, &u);
        let (replaced, _) = before.apply_all(&ops, &u).unwrap();
        assert_eq!(replaced.territories[0]["A"].parent.as_deref(), Some("D1"));
        assert_eq!(
            replaced.territories[0]["A"].reps,
            BTreeSet::from(["r1".to_owned()])
        );
        assert_eq!(replaced.territories[0]["C"].parent, None);
        assert!(!replaced.territories[0].contains_key("B"));
        assert_eq!(replaced.territories[1], before.territories[1]);
        assert_eq!(replaced.territories[2], before.territories[2]);
        assert!(
            summary(&ops)
                .starts_with("replaced from a sheet: 2 unit(s) moved, 1 territor(ies) created, 1 deleted")
        );
    }
}

//! The alignment sheet planners keep: one row per unit with its territory and
//! the territory's parents (`unit_id,territory,district,region,rep`).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::Arc;

use super::ops::RepRecord;
use super::state::{AlignmentState, Territory};
use super::units::UnitIndex;

/// Column names of the sheet.
#[derive(Debug, Clone)]
pub struct SheetColumns {
    /// Column of the unit id.
    pub unit: String,
    /// Column of each level, leaf first (defaults to the level names).
    pub levels: Vec<String>,
    /// Column of the rep ids (`;`-separated), optional in the file.
    pub rep: String,
}

impl SheetColumns {
    /// `unit_id`, the level names, `rep`.
    pub fn for_levels(levels: &[String]) -> SheetColumns {
        SheetColumns {
            unit: "unit_id".into(),
            levels: levels.to_vec(),
            rep: "rep".into(),
        }
    }
}

/// What an import found besides the assignment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SheetReport {
    /// Data rows read.
    pub rows: usize,
    /// Units assigned.
    pub assigned: usize,
    /// Polygon units the sheet does not mention.
    pub unassigned: Vec<String>,
    /// Levels the sheet gives, leaf first: its level columns up to the first missing one.
    pub levels_read: usize,
    /// The sheet has a rep column.
    pub reps_read: bool,
}

/// Why a sheet was refused: every problem, by line number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .problems.join("; "))]
pub struct SheetError {
    /// One message per problem (`line 7: unknown unit id '99999'`).
    pub problems: Vec<String>,
}

/// The data records of a CSV with their line numbers (the header is line 1),
/// and a problem for each record that could not be read.
pub(crate) fn lines<R: Read>(csv: &mut csv::Reader<R>) -> (Vec<(usize, csv::StringRecord)>, Vec<String>) {
    let mut problems = Vec::new();
    let records = csv
        .records()
        .enumerate()
        .filter_map(|(row, record)| match record {
            Ok(r) => Some((row + 2, r)),
            Err(e) => {
                problems.push(format!("line {}: {e}", row + 2));
                None
            }
        })
        .collect();
    (records, problems)
}

/// The header of a CSV, as written.
pub(crate) fn header<R: Read>(csv: &mut csv::Reader<R>) -> Result<Vec<String>, SheetError> {
    Ok(csv
        .headers()
        .map_err(|e| SheetError {
            problems: vec![format!("header: {e}")],
        })?
        .iter()
        .map(str::to_owned)
        .collect())
}

/// Reads a sheet into a fresh alignment state (all or nothing).
pub fn import(
    reader: impl Read,
    levels: &[String],
    columns: &SheetColumns,
    units: &UnitIndex,
) -> Result<(AlignmentState, SheetReport), SheetError> {
    let fail = |m: String| SheetError { problems: vec![m] };
    let mut state = AlignmentState::new(levels.to_vec(), units.len()).map_err(|r| fail(r.to_string()))?;
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let header = header(&mut csv)?;
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let unit_col = find(&columns.unit).ok_or_else(|| {
        fail(format!(
            "no '{}' column; header: {}",
            columns.unit,
            header.join(",")
        ))
    })?;
    let level_cols: Vec<Option<usize>> = columns.levels.iter().map(|c| find(c)).collect();
    if level_cols.first().copied().flatten().is_none() {
        return Err(fail(format!(
            "no '{}' column; header: {}",
            columns.levels.first().map_or("territory", String::as_str),
            header.join(",")
        )));
    }
    let rep_col = find(&columns.rep);
    let levels_read = level_cols.iter().take_while(|c| c.is_some()).count();

    // Problems of rows, by line (those of the parent checks come after all rows are read).
    let mut row_problems: Vec<(usize, String)> = Vec::new();
    let mut first_line: BTreeMap<u32, usize> = BTreeMap::new();
    // Each row's codes, leaf level first, to decide every code's parent once all rows are read.
    let mut chains: Vec<(usize, Vec<Option<String>>)> = Vec::new();
    let mut reps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut interned: BTreeMap<String, Arc<str>> = BTreeMap::new();
    let mut report = SheetReport {
        levels_read,
        reps_read: rep_col.is_some(),
        ..SheetReport::default()
    };
    let (records, mut problems) = lines(&mut csv);
    for (line, record) in records {
        report.rows += 1;
        let get = |col: Option<usize>| col.and_then(|c| record.get(c)).filter(|v| !v.is_empty());
        let raw_unit = get(Some(unit_col)).unwrap_or("");
        let Some(unit) = units.resolve(raw_unit) else {
            row_problems.push((line, format!("line {line}: unknown unit id '{raw_unit}'")));
            continue;
        };
        if let Some(first) = first_line.insert(unit, line) {
            row_problems.push((
                line,
                format!(
                    "line {line}: unit '{}' already assigned on line {first}",
                    units.get(unit).id
                ),
            ));
            continue;
        }
        let codes: Vec<Option<&str>> = level_cols.iter().map(|c| get(*c)).collect();
        let bad_text = codes
            .iter()
            .zip(levels)
            .filter_map(|(code, level)| Some((level.as_str(), (*code)?)))
            .chain(get(rep_col).map(|reps| (columns.rep.as_str(), reps)))
            .find_map(|(field, text)| text_problem(text).map(|why| format!("{field} {why}")));
        if let Some(why) = bad_text {
            row_problems.push((line, format!("line {line}: {why}")));
            continue;
        }
        let Some(territory) = codes[0] else {
            row_problems.push((
                line,
                format!("line {line}: no {} for unit '{raw_unit}'", levels[0]),
            ));
            continue;
        };
        chains.push((line, codes.iter().map(|c| c.map(str::to_owned)).collect()));
        if let Some(list) = get(rep_col) {
            let entry = reps.entry(territory.to_owned()).or_default();
            entry.extend(
                list.split(';')
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
            );
        }
        let shared = interned
            .entry(territory.to_owned())
            .or_insert_with_key(|k| Arc::from(k.as_str()))
            .clone();
        state.assignment[unit as usize] = Some(shared);
        report.assigned += 1;
    }
    let parents = decide_parents(&chains, levels, &mut row_problems);
    row_problems.sort_by_key(|(line, _)| *line);
    problems.extend(row_problems.into_iter().map(|(_, p)| p));
    if !problems.is_empty() {
        return Err(SheetError { problems });
    }
    for ((level, code), parent) in parents {
        state.territories[level].insert(
            code.clone(),
            Territory {
                name: code,
                parent,
                locked: false,
                reps: BTreeSet::new(),
            },
        );
    }
    for (territory, ids) in reps {
        for id in &ids {
            state.reps.entry(id.clone()).or_insert_with(|| RepRecord {
                name: id.clone(),
                email: None,
                lon: None,
                lat: None,
            });
        }
        if let Some(t) = state.territories[0].get_mut(&territory) {
            t.reps = ids;
        }
    }
    report.unassigned = units
        .iter()
        .enumerate()
        .filter(|(i, u)| u.kind == crate::feature::UnitKind::Polygon && state.assignment[*i].is_none())
        .map(|(_, u)| u.id.clone())
        .collect();
    Ok((state, report))
}

/// Why a code or rep list of a sheet cannot be taken: longer than
/// [`MAX_TEXT_CHARS`](super::MAX_TEXT_CHARS) or holding a control character.
fn text_problem(text: &str) -> Option<String> {
    let chars = text.chars().count();
    if chars > super::MAX_TEXT_CHARS {
        return Some(format!(
            "of {chars} characters: at most {}",
            super::MAX_TEXT_CHARS
        ));
    }
    text.chars()
        .find(|c| c.is_control())
        .map(|c| format!("{text:?} holds the control character {c:?}"))
}

/// Writes the explicit assignments as a sheet, one row per unit in id order.
pub fn export(
    state: &AlignmentState,
    units: &UnitIndex,
    columns: &SheetColumns,
    out: impl Write,
) -> csv::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    let mut header = vec![columns.unit.clone()];
    header.extend(columns.levels.iter().cloned());
    header.push(columns.rep.clone());
    csv.write_record(&header)?;
    for (i, unit) in units.iter().enumerate() {
        let Some(territory) = state.assignment[i].as_deref() else {
            continue;
        };
        let mut row = vec![unit.id.clone()];
        row.extend(
            state
                .ancestry(territory)
                .into_iter()
                .map(Option::unwrap_or_default),
        );
        let reps = state.territories[0]
            .get(territory)
            .map(|t| t.reps.iter().cloned().collect::<Vec<_>>().join(";"))
            .unwrap_or_default();
        row.push(reps);
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

/// A parent some rows give a code, and those rows.
type ParentVote<'a> = (Option<&'a str>, Vec<usize>);

/// Every code's parent, by the rows that name it: the parent most of its rows give (the
/// first row's on a tie). Each row that gives another is reported once, naming the rows
/// it disagrees with, and its codes above that level are not counted, so one wrong
/// district on one row is one problem, not one per row of the region it points to.
fn decide_parents(
    chains: &[(usize, Vec<Option<String>>)],
    levels: &[String],
    problems: &mut Vec<(usize, String)>,
) -> BTreeMap<(usize, String), Option<String>> {
    let mut decided = BTreeMap::new();
    let mut refused_from: Vec<usize> = vec![usize::MAX; chains.len()];
    for level in 0..levels.len() {
        // code -> each parent given with its rows (indexes into `chains`), in row order.
        let mut votes: BTreeMap<&str, Vec<ParentVote>> = BTreeMap::new();
        for (row, (_, codes)) in chains.iter().enumerate() {
            if refused_from[row] <= level {
                continue;
            }
            let Some(code) = codes.get(level).and_then(Option::as_deref) else {
                continue;
            };
            let parent = codes.get(level + 1).and_then(Option::as_deref);
            let options = votes.entry(code).or_default();
            match options.iter_mut().find(|(p, _)| *p == parent) {
                Some((_, rows)) => rows.push(row),
                None => options.push((parent, vec![row])),
            }
        }
        for (code, options) in votes {
            let winner = options
                .iter()
                .enumerate()
                .max_by(|(i, a), (j, b)| a.1.len().cmp(&b.1.len()).then(j.cmp(i)))
                .map_or(0, |(i, _)| i);
            let (parent, agreeing) = &options[winner];
            for (i, (other, rows)) in options.iter().enumerate() {
                if i == winner {
                    continue;
                }
                for &row in rows {
                    refused_from[row] = level + 1;
                    let line = chains[row].0;
                    problems.push((line, format!(
                        "line {line}: {} '{code}' has {} '{}' here but '{}' on {} other line(s) (first line {})",
                        levels[level],
                        levels.get(level + 1).map_or("parent", String::as_str),
                        other.unwrap_or(""),
                        parent.unwrap_or(""),
                        agreeing.len(),
                        chains[agreeing[0]].0,
                    )));
                }
            }
            decided.insert((level, code.to_owned()), parent.map(str::to_owned));
        }
    }
    decided
}

//! The rules sheet: an alignment's rule territories as CSV
//! (`rule,priority,territory,district,region,condition`), the companion of the unit
//! sheet. Exported, edited in a spreadsheet and imported back as one change set that
//! makes the alignment's rules say what the sheet says.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use super::ops::Op;
use super::rules::Condition;
use super::sheet::{SheetError, header, lines};
use super::state::AlignmentState;

/// One rule of a rules sheet, with the line it was read from.
#[derive(Debug, Clone)]
struct RuleRow {
    line: usize,
    id: String,
    priority: i64,
    /// The rule's territory and its parents as the row gives them, leaf first, up to the
    /// first empty cell.
    chain: Vec<String>,
    condition: String,
    /// The condition parsed (checked against an alignment's fields by `replacement`).
    parsed: Condition,
}

/// A rules sheet read and checked on its own (ids, priorities, conditions' syntax,
/// parents that agree); [`RuleSheet::replacement`] checks it against an alignment.
#[derive(Debug, Clone)]
pub struct RuleSheet {
    rows: Vec<RuleRow>,
}

/// Writes the rules of `state`, first first (by priority, then id), each with its
/// territory's parents.
pub fn export(state: &AlignmentState, out: impl Write) -> csv::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    let mut header = vec!["rule".to_owned(), "priority".to_owned()];
    header.extend(state.levels.iter().cloned());
    header.push("condition".to_owned());
    csv.write_record(&header)?;
    let mut rules: Vec<_> = state.rules.iter().collect();
    rules.sort_by(|(a, ra), (b, rb)| ra.priority.cmp(&rb.priority).then(a.cmp(b)));
    for (id, rule) in rules {
        let mut row = vec![id.clone(), rule.priority.to_string()];
        row.extend(
            state
                .ancestry(&rule.territory)
                .into_iter()
                .map(Option::unwrap_or_default),
        );
        row.push(rule.condition.clone());
        csv.write_record(&row)?;
    }
    csv.flush()?;
    Ok(())
}

/// Reads a rules sheet for an alignment with `levels` (leaf first). The `rule`,
/// territory (`levels[0]`) and `condition` columns are required; without a `priority`
/// column the rows' order is the priority. Every problem is reported by line.
pub fn read(input: impl Read, levels: &[String]) -> Result<RuleSheet, SheetError> {
    let fail = |m: String| SheetError { problems: vec![m] };
    let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let header = header(&mut csv)?;
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(id_col), Some(territory_col), Some(condition_col)) =
        (find("rule"), find(&levels[0]), find("condition"))
    else {
        return Err(fail(format!(
            "a rules sheet needs 'rule', '{}' and 'condition' columns; header: {}",
            levels[0],
            header.join(",")
        )));
    };
    let priority_col = find("priority");
    let level_cols: Vec<Option<usize>> = std::iter::once(Some(territory_col))
        .chain(levels[1..].iter().map(|l| find(l)))
        .collect();

    let (records, mut problems) = lines(&mut csv);
    let mut rows = Vec::new();
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    for (order, (line, record)) in records.into_iter().enumerate() {
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).filter(|v| !v.is_empty());
        let Some(id) = get(Some(id_col)) else {
            problems.push(format!("line {line}: no rule id"));
            continue;
        };
        if let Some(first) = first_line.insert(id.to_owned(), line) {
            problems.push(format!("line {line}: rule '{id}' is on line {first} already"));
            continue;
        }
        let priority = match priority_col {
            None => order as i64 + 1,
            Some(c) => match get(Some(c)).map(str::parse::<i64>) {
                Some(Ok(p)) => p,
                Some(Err(_)) => {
                    let cell = get(Some(c)).unwrap_or_default();
                    problems.push(format!(
                        "line {line}: rule '{id}': priority '{cell}' is not a whole number"
                    ));
                    continue;
                }
                None => {
                    problems.push(format!("line {line}: rule '{id}': no priority"));
                    continue;
                }
            },
        };
        let chain: Vec<String> = level_cols
            .iter()
            .map_while(|c| get(*c))
            .map(str::to_owned)
            .collect();
        if chain.is_empty() {
            problems.push(format!("line {line}: rule '{id}': no {}", levels[0]));
            continue;
        }
        let Some(condition) = get(Some(condition_col)) else {
            problems.push(format!("line {line}: rule '{id}': no condition"));
            continue;
        };
        let parsed = match Condition::parse(condition) {
            Ok(parsed) => parsed,
            Err(e) => {
                problems.push(format!("line {line}: rule '{id}': {}", e.reason));
                continue;
            }
        };
        rows.push(RuleRow {
            line,
            id: id.to_owned(),
            priority,
            chain,
            condition: condition.to_owned(),
            parsed,
        });
    }
    problems.extend(parent_conflicts(&rows, levels));
    if problems.is_empty() {
        Ok(RuleSheet { rows })
    } else {
        Err(SheetError { problems })
    }
}

/// Rows that give a code another parent than an earlier row gives it.
fn parent_conflicts(rows: &[RuleRow], levels: &[String]) -> Vec<String> {
    let mut given: BTreeMap<(usize, &str), (&str, usize)> = BTreeMap::new();
    let mut problems = Vec::new();
    for row in rows {
        for (level, pair) in row.chain.windows(2).enumerate() {
            let (code, parent) = (pair[0].as_str(), pair[1].as_str());
            match given.get(&(level, code)) {
                Some(&(other, line)) if other != parent => problems.push(format!(
                    "line {}: {} '{code}' has {} '{parent}' here but '{other}' on line {line}",
                    row.line,
                    levels[level],
                    levels[level + 1]
                )),
                Some(_) => {}
                None => {
                    given.insert((level, code), (parent, row.line));
                }
            }
        }
    }
    problems
}

impl RuleSheet {
    /// The operations that make `current`'s rules say what the sheet says, in an order
    /// each applies in: territories the rows name that `current` lacks (top level
    /// first) and parents the rows change, then rules deleted, changed and created.
    /// A condition over a field no account of `current` has, or of the wrong type, is
    /// refused by line. A sheet equal to the alignment's rules gives no operation.
    pub fn replacement(&self, current: &AlignmentState) -> Result<Vec<Op>, SheetError> {
        let fields = current.account_fields();
        let problems: Vec<String> = self
            .rows
            .iter()
            .filter_map(|row| {
                let e = row.parsed.check(&fields).err()?;
                Some(format!("line {}: rule '{}': {}", row.line, row.id, e.reason))
            })
            .collect();
        if !problems.is_empty() {
            return Err(SheetError { problems });
        }
        let level_name = |l: usize| (l > 0).then(|| current.levels[l].clone());

        // Each code's parent as the rows give it (None: the rows give no parent).
        let mut chains: BTreeMap<(usize, &str), Option<&str>> = BTreeMap::new();
        for row in &self.rows {
            for (level, code) in row.chain.iter().enumerate() {
                let parent = row.chain.get(level + 1).map(String::as_str);
                let entry = chains.entry((level, code.as_str())).or_insert(parent);
                *entry = entry.or(parent);
            }
        }
        let mut ops = Vec::new();
        for level in (0..current.levels.len()).rev() {
            for (&(_, code), &parent) in chains.iter().filter(|((l, _), _)| *l == level) {
                match current.territories[level].get(code) {
                    None => ops.push(Op::CreateTerritory {
                        code: code.to_owned(),
                        name: None,
                        level: level_name(level),
                        parent: parent.map(str::to_owned),
                    }),
                    Some(t) if parent.is_some() && t.parent.as_deref() != parent => {
                        ops.push(Op::MoveTerritory {
                            territory: code.to_owned(),
                            parent: parent.map(str::to_owned),
                            level: level_name(level),
                        });
                    }
                    Some(_) => {}
                }
            }
        }

        let kept: BTreeSet<&str> = self.rows.iter().map(|r| r.id.as_str()).collect();
        ops.extend(
            current
                .rules
                .keys()
                .filter(|id| !kept.contains(id.as_str()))
                .map(|id| Op::DeleteRule { rule: id.clone() }),
        );
        for row in &self.rows {
            let territory = &row.chain[0];
            match current.rules.get(&row.id) {
                None => ops.push(Op::CreateRule {
                    rule: row.id.clone(),
                    territory: territory.clone(),
                    condition: row.condition.clone(),
                    priority: Some(row.priority),
                }),
                Some(old)
                    if old.territory != *territory
                        || old.condition != row.condition
                        || old.priority != row.priority =>
                {
                    ops.push(Op::UpdateRule {
                        rule: row.id.clone(),
                        territory: (old.territory != *territory).then(|| territory.clone()),
                        condition: (old.condition != row.condition).then(|| row.condition.clone()),
                        priority: (old.priority != row.priority).then_some(row.priority),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(ops)
    }
}

/// A one-line summary of a rules replacement for the change log: `rules replaced from
/// a sheet: 2 created, 1 changed, 0 deleted; 1 territory created, 0 given another parent`.
pub fn summary(ops: &[Op]) -> String {
    let count = |f: fn(&Op) -> bool| ops.iter().filter(|op| f(op)).count();
    format!(
        "rules replaced from a sheet: {} created, {} changed, {} deleted; \
         {} territor(ies) created, {} given another parent",
        count(|op| matches!(op, Op::CreateRule { .. })),
        count(|op| matches!(op, Op::UpdateRule { .. })),
        count(|op| matches!(op, Op::DeleteRule { .. })),
        count(|op| matches!(op, Op::CreateTerritory { .. })),
        count(|op| matches!(op, Op::MoveTerritory { .. })),
    )
}

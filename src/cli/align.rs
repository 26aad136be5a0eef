//! `geoalign align ...`: create, import/export sheets, change, undo, history, diff, metrics.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use geoalign::align::Op;
use geoalign::align::metrics::TerritoryMetrics;
use geoalign::align::sheet::{SheetColumns, SheetReport};
use geoalign::align::state::DEFAULT_LEVELS;
use geoalign::config::Config;
use geoalign::engine::Engine;
use geoalign::store::StoreError;

use super::output::Stdout;
use super::{CliError, author, engine, open_input};

#[derive(Subcommand)]
pub enum AlignCommand {
    /// Create an empty alignment, or a copy of another (a what-if scenario).
    Create {
        /// Alignment name.
        name: String,
        /// Dataset of units.
        #[arg(long, required_unless_present = "copy_of")]
        dataset: Option<String>,
        /// Level names, leaf first.
        #[arg(long, value_delimiter = ',')]
        levels: Option<Vec<String>>,
        /// Alignment to copy.
        #[arg(long)]
        copy_of: Option<String>,
    },
    /// Create an alignment from a sheet: unit_id,territory[,district][,region][,rep];
    /// with --replace, make an existing one say what the sheet says (one change set,
    /// undone with `align undo`).
    Import {
        /// The CSV sheet.
        file: PathBuf,
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// Dataset of units (required to create).
        #[arg(long, required_unless_present = "replace")]
        dataset: Option<String>,
        /// Replace the alignment's assignment, hierarchy and reps with the sheet's when it
        /// exists (territory names, locks, rep records and accounts are kept).
        #[arg(long)]
        replace: bool,
        /// With --replace: the revision the sheet is based on (default: current).
        #[arg(long, requires = "replace")]
        expected_revision: Option<i64>,
        /// Level names, leaf first (also the sheet's column names).
        #[arg(long, value_delimiter = ',')]
        levels: Option<Vec<String>>,
        /// Column holding the unit id.
        #[arg(long, default_value = "unit_id")]
        unit_column: String,
    },
    /// Write the alignment sheet (CSV) or the alignment as JSON.
    Export {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// Apply a change set: a JSON array of operations, or {"changes": [...]}.
    Change {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// Revision the change is based on (default: current).
        #[arg(long)]
        expected_revision: Option<i64>,
        /// JSON file, or - for standard input.
        file: PathBuf,
    },
    /// List change sets.
    History {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
    },
    /// Undo the latest change set not yet undone, or a given revision.
    Undo {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// Revision to undo.
        #[arg(long)]
        revision: Option<i64>,
        /// Revision the undo is based on (default: current).
        #[arg(long)]
        expected_revision: Option<i64>,
        /// Undo even when later change sets changed the same units.
        #[arg(long)]
        force: bool,
    },
    /// Units whose owner differs between two alignments.
    Diff {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// The other alignment.
        #[arg(long)]
        against: String,
    },
    /// Delete an alignment with its reps, accounts and change history (no undo).
    Delete {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// Delete only if the alignment is still at this revision.
        #[arg(long)]
        expected_revision: Option<i64>,
    },
    /// List the alignments, with their team and whether each is its team's active plan.
    List,
    /// Put an alignment in a team (sales force) and make it the team's active plan, the
    /// one `team=` lookups and lead routing answer from.
    Team {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// The team (sales force) whose plan it is.
        #[arg(long, conflicts_with = "no_team")]
        team: Option<String>,
        /// Take the alignment out of its team.
        #[arg(long)]
        no_team: bool,
        /// Make it its team's active plan (the team's previously active one stops being it).
        #[arg(long, conflicts_with_all = ["inactive", "no_team"])]
        active: bool,
        /// Make it not its team's active plan.
        #[arg(long)]
        inactive: bool,
    },
    /// Metrics of every territory of a level.
    Metrics {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// Level name (default: the leaf level).
        #[arg(long)]
        level: Option<String>,
    },
}

impl AlignCommand {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let engine = engine(config)?;
        match self {
            AlignCommand::Create {
                name,
                dataset,
                levels,
                copy_of,
            } => out.json(&engine.create(&name, dataset.as_deref(), levels, copy_of.as_deref())?),
            AlignCommand::Import {
                file,
                alignment,
                dataset,
                replace,
                expected_revision,
                levels,
                unit_column,
            } => {
                let sheet = Sheet {
                    file: &file,
                    levels,
                    unit_column,
                };
                match replace.then(|| engine.snapshot(&alignment)) {
                    Some(Ok(current)) => {
                        if let Some(d) = dataset.filter(|d| *d != current.dataset.name) {
                            return Err(CliError::Usage(format!(
                                "--dataset {d}: alignment '{alignment}' aligns '{}'",
                                current.dataset.name
                            )));
                        }
                        let revision = expected_revision.unwrap_or(current.revision);
                        replace_from(&engine, out, sheet, &current, revision)
                    }
                    Some(Err(StoreError::AlignmentNotFound(_))) | None => {
                        let dataset = dataset.ok_or_else(|| {
                            CliError::Usage(format!(
                                "alignment '{alignment}' does not exist: --dataset is needed to create it"
                            ))
                        })?;
                        import(&engine, out, sheet, &alignment, &dataset)
                    }
                    Some(Err(e)) => Err(e.into()),
                }
            }
            AlignCommand::Export { alignment, format } => export(&engine, out, &alignment, &format),
            AlignCommand::Delete {
                alignment,
                expected_revision,
            } => {
                engine.delete(&alignment, expected_revision)?;
                out.line(format_args!("alignment '{alignment}' deleted"))
            }
            AlignCommand::Change {
                alignment,
                expected_revision,
                file,
            } => {
                let ops = read_ops(&file)?;
                let revision = match expected_revision {
                    Some(r) => r,
                    None => engine.snapshot(&alignment)?.revision,
                };
                out.json(&engine.apply(&alignment, revision, &ops, &author())?)
            }
            AlignCommand::History { alignment } => {
                for change in engine.store().history(&alignment)? {
                    out.line(format_args!(
                        "{:>5}  {}  {:<12} {}",
                        change.revision, change.created_at, change.author, change.summary
                    ))?;
                }
                Ok(())
            }
            AlignCommand::Undo {
                alignment,
                revision,
                expected_revision,
                force,
            } => {
                let expected_revision = match expected_revision {
                    Some(r) => r,
                    None => engine.snapshot(&alignment)?.revision,
                };
                let undo = geoalign::engine::Undo {
                    expected_revision,
                    revision,
                    force,
                };
                out.json(&engine.undo(&alignment, undo, &author())?)
            }
            AlignCommand::Diff { alignment, against } => diff(&engine, out, &alignment, &against),
            AlignCommand::List => {
                for a in engine.store().alignments()? {
                    let team = match (&a.team, a.active) {
                        (Some(t), true) => format!("team {t} (active)"),
                        (Some(t), false) => format!("team {t}"),
                        (None, _) => String::new(),
                    };
                    out.line(format_args!(
                        "{:<24} {:<16} revision {:<6} {team}",
                        a.name, a.dataset, a.revision
                    ))?;
                }
                Ok(())
            }
            AlignCommand::Team {
                alignment,
                team,
                no_team,
                active,
                inactive,
            } => {
                let team = match (team.as_deref(), no_team) {
                    (Some(t), _) => Some(Some(t)),
                    (None, true) => Some(None),
                    (None, false) => None,
                };
                let active = (active || inactive).then_some(active);
                out.json(&engine.set_team(&alignment, team, active)?)
            }
            AlignCommand::Metrics { alignment, level } => {
                let s = engine.snapshot(&alignment)?;
                let index = s
                    .state
                    .level(level.as_deref())
                    .map_err(|r| CliError::NotFound(r.to_string()))?;
                let metrics: BTreeMap<&String, &TerritoryMetrics> = s.shapes[index]
                    .iter()
                    .map(|(code, shape)| (code, &shape.metrics))
                    .collect();
                out.json(&metrics)
            }
        }
    }
}

/// The sheet file of `align import` and how to read it.
struct Sheet<'a> {
    file: &'a std::path::Path,
    levels: Option<Vec<String>>,
    unit_column: String,
}

impl Sheet<'_> {
    fn columns(&self, levels: &[String]) -> SheetColumns {
        SheetColumns {
            unit: self.unit_column.clone(),
            ..SheetColumns::for_levels(levels)
        }
    }
}

fn import(
    engine: &Engine,
    out: &mut Stdout,
    sheet: Sheet,
    alignment: &str,
    dataset: &str,
) -> Result<(), CliError> {
    let reader = open_input(sheet.file)?;
    let levels =
        (sheet.levels.clone()).unwrap_or_else(|| DEFAULT_LEVELS.iter().map(|s| (*s).to_owned()).collect());
    let columns = sheet.columns(&levels);
    let (info, report) = engine.import_sheet(alignment, dataset, Some(levels), Some(columns), reader)?;
    out.line(format_args!(
        "alignment '{}' on '{}': {} rows, {} units assigned, {} polygon units unassigned",
        info.name,
        info.dataset,
        report.rows,
        report.assigned,
        report.unassigned.len()
    ))?;
    unassigned(out, &report)
}

fn replace_from(
    engine: &Engine,
    out: &mut Stdout,
    sheet: Sheet,
    current: &geoalign::snapshot::Snapshot,
    expected_revision: i64,
) -> Result<(), CliError> {
    let alignment = current.alignment.as_str();
    if let Some(levels) = &sheet.levels
        && *levels != current.state.levels
    {
        return Err(CliError::Usage(format!(
            "--levels {}: alignment '{alignment}' has levels {}",
            levels.join(","),
            current.state.levels.join(",")
        )));
    }
    let reader = open_input(sheet.file)?;
    let columns = sheet.columns(&current.state.levels);
    let (outcome, report) =
        engine.replace_sheet(alignment, expected_revision, Some(columns), reader, &author())?;
    let change = &outcome.change;
    if change.is_empty() {
        out.line(format_args!(
            "alignment '{alignment}' already says what the sheet says: revision {} unchanged",
            change.revision
        ))?;
    } else {
        out.line(format_args!(
            "alignment '{alignment}' revision {}: {} (undo: geoalign align undo --alignment {alignment})",
            change.revision, change.summary
        ))?;
    }
    unassigned(out, &report)
}

/// The polygon units a sheet leaves unassigned, the first 20 of them.
fn unassigned(out: &mut Stdout, report: &SheetReport) -> Result<(), CliError> {
    if !report.unassigned.is_empty() {
        let shown: Vec<&str> = report.unassigned.iter().take(20).map(String::as_str).collect();
        out.line(format_args!(
            "  unassigned: {}{}",
            shown.join(", "),
            if report.unassigned.len() > 20 { ", ..." } else { "" }
        ))?;
    }
    Ok(())
}

fn export(engine: &Engine, out: &mut Stdout, alignment: &str, format: &str) -> Result<(), CliError> {
    match format {
        "csv" => engine
            .export_sheet(alignment, &mut *out)
            .map_err(|e| out.failure().unwrap_or_else(|| e.into())),
        "json" => {
            let mut sheet = Vec::new();
            engine.export_sheet(alignment, &mut sheet)?;
            let mut reader = csv::Reader::from_reader(sheet.as_slice());
            let rows: Vec<BTreeMap<String, String>> = reader
                .deserialize()
                .collect::<Result<_, _>>()
                .map_err(|e| CliError::Internal(format!("reading the sheet back: {e}")))?;
            out.json(&rows)
        }
        other => Err(CliError::Usage(format!("--format {other}: expected csv or json"))),
    }
}

fn diff(engine: &Engine, out: &mut Stdout, alignment: &str, against: &str) -> Result<(), CliError> {
    let (a, b) = (engine.snapshot(alignment)?, engine.snapshot(against)?);
    let units = &a.dataset.units;
    let write = |out: &mut Stdout| -> std::io::Result<()> {
        writeln!(out, "unit_id,{alignment},{against}")?;
        for i in 0..units.len() as u32 {
            let (x, y) = (a.state.owner(units, i), b.state.owner(units, i));
            if x != y {
                writeln!(out, "{},{},{}", units.get(i).id, x.unwrap_or(""), y.unwrap_or(""))?;
            }
        }
        Ok(())
    };
    write(out).map_err(CliError::Stdout)
}

/// The operations of a change set file (or `-`, standard input).
fn read_ops(file: &std::path::Path) -> Result<Vec<Op>, CliError> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|source| CliError::Read {
        path: file.to_owned(),
        source,
    })?;
    parse_ops(&text).map_err(|e| CliError::Input {
        path: file.to_owned(),
        reason: e.to_string(),
    })
}

/// A change set file: a JSON array of operations, or an object with `changes`.
fn parse_ops(text: &str) -> Result<Vec<Op>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum File {
        Ops(Vec<Op>),
        Body { changes: Vec<Op> },
    }
    Ok(match serde_json::from_str(text)? {
        File::Ops(ops) | File::Body { changes: ops } => ops,
    })
}

//! `geoalign reps import`, `geoalign accounts import` and `geoalign rules import|export`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Subcommand;
use geoalign::align::records;
use geoalign::config::Config;
use geoalign::engine::Engine;
use geoalign::lookup::geocode::Country;

use super::output::Stdout;
use super::{CliError, author, engine, open_input, open_store};

#[derive(Subcommand)]
pub enum RepsCommand {
    /// Load from CSV (reps: id,name,email,lon,lat,territory; accounts: id,name,lon,lat[,territory],metrics...).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Alignment name.
        #[arg(long)]
        alignment: String,
    },
}

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Load from CSV: id,name and lon,lat or address [,territory][,metrics...]; rows without
    /// lon/lat are geocoded (address point, postal code, city). All or nothing unless
    /// --skip-unplaced.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// Import the accounts that could be placed and report the others.
        #[arg(long)]
        skip_unplaced: bool,
        /// Postal code format of the addresses: us, uk, ca, de.
        #[arg(long, default_value = "us")]
        country: Country,
    },
    /// Write every account with its owner as CSV to standard output, one row per account
    /// and plan (id,name,lon,lat,team,alignment,revision,unit,territory,chain,reps,placed_by,rule).
    Export {
        /// Alignment name.
        #[arg(long, required_unless_present = "team", conflicts_with = "team")]
        alignment: Option<String>,
        /// A team's active alignment, or every team's with `all`.
        #[arg(long)]
        team: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum RulesCommand {
    /// Make the alignment's rules say what a rules sheet says
    /// (rule,priority,territory[,district,region],condition): one change set, undone with
    /// `align undo`. Territories it names that do not exist are created.
    Import {
        /// The CSV rules sheet.
        file: PathBuf,
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// The revision the sheet is based on (default: current).
        #[arg(long)]
        expected_revision: Option<i64>,
    },
    /// Write the alignment's rules sheet (CSV) to standard output.
    Export {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
    },
}

/// A records file the parser refused, with its path.
fn refused(file: &Path) -> impl FnOnce(geoalign::align::sheet::SheetError) -> CliError {
    let path = file.to_owned();
    move |e| CliError::Input {
        path,
        reason: e.to_string(),
    }
}

impl RepsCommand {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let RepsCommand::Import { file, alignment } = self;
        let engine = engine(config)?;
        let snapshot = engine.snapshot(&alignment)?;
        let ops = records::reps(open_input(&file)?, &snapshot.state).map_err(refused(&file))?;
        let outcome = engine.apply(&alignment, snapshot.revision, &ops, &author())?;
        out.line(format_args!(
            "{}: applied as revision {}",
            file.display(),
            outcome.change.revision
        ))
    }
}

impl AccountsCommand {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let (file, alignment, skip_unplaced, country) = match self {
            AccountsCommand::Import {
                file,
                alignment,
                skip_unplaced,
                country,
            } => (file, alignment, skip_unplaced, country),
            AccountsCommand::Export { alignment, team } => {
                let engine = engine(config)?;
                let plans = super::lookup::plans(&engine, alignment.as_deref(), team.as_deref())?;
                return geoalign::export::accounts::write(&plans, &mut *out).map_err(Into::into);
            }
        };
        let store = Arc::new(open_store(config)?);
        let engine = Engine::new(store.clone());
        let snapshot = engine.snapshot(&alignment)?;
        let place = |address: &str| {
            snapshot
                .geocode_with(&store, address, country)
                .map(|g| (g.point[0], g.point[1]))
                .map_err(|e| e.to_string())
        };
        let import = records::accounts_placed(open_input(&file)?, &snapshot.state, &place, skip_unplaced)
            .map_err(refused(&file))?;
        let outcome = engine.apply(&alignment, snapshot.revision, &import.ops, &author())?;
        out.line(format_args!(
            "{}: applied as revision {}; {} account(s) placed by address, {} not placed and skipped",
            file.display(),
            outcome.change.revision,
            import.placed,
            import.unplaced.len()
        ))?;
        for line in &import.unplaced {
            out.line(format_args!("  {line}"))?;
        }
        Ok(())
    }
}

impl RulesCommand {
    pub fn run(self, config: &Config, out: &mut Stdout) -> Result<(), CliError> {
        let engine = engine(config)?;
        match self {
            RulesCommand::Export { alignment } => {
                engine.export_rules(&alignment, &mut *out).map_err(Into::into)
            }
            RulesCommand::Import {
                file,
                alignment,
                expected_revision,
            } => {
                let revision = match expected_revision {
                    Some(r) => r,
                    None => engine.snapshot(&alignment)?.revision,
                };
                let outcome = engine
                    .replace_rules(&alignment, revision, open_input(&file)?, &author())
                    .map_err(|e| match e {
                        geoalign::engine::AlignError::Sheet(e) => refused(&file)(e),
                        other => other.into(),
                    })?;
                let change = &outcome.change;
                if change.is_empty() {
                    out.line(format_args!(
                        "alignment '{alignment}' already has the sheet's rules: revision {} unchanged",
                        change.revision
                    ))
                } else {
                    out.line(format_args!(
                        "alignment '{alignment}' revision {}: {} (undo: geoalign align undo --alignment {alignment})",
                        change.revision, change.summary
                    ))
                }
            }
        }
    }
}

//! `geoalign reps import` and `geoalign accounts import`.

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
        let AccountsCommand::Import {
            file,
            alignment,
            skip_unplaced,
            country,
        } = self;
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

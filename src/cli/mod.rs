//! The `geoalign` command line: one module per command group, a typed error with
//! distinct exit codes ([`error`]), and standard output that ends quietly when its
//! reader goes away ([`output`]).

mod align;
mod build;
mod error;
mod export;
mod ingest;
mod lookup;
mod output;
mod rebalance;
mod records;
mod serve;
mod token;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use geoalign::config::{Config, Overrides};
use geoalign::engine::Engine;
use geoalign::store::Store;
use tracing_subscriber::EnvFilter;

pub use error::CliError;
use output::Stdout;

/// The exit statuses, for `geoalign --help` (and the README).
const EXIT_STATUS: &str = "\
Exit status:
  0  success (also when standard output is closed early, as by `| head`)
  1  runtime or domain error (refused change, I/O, SQLite, server)
  2  usage or bad input (flags, settings, unreadable or malformed input files)
  3  not found (dataset, alignment, unit, level, revision)
  4  conflict (stale revision, alignment or dataset exists, nothing to undo)";

#[derive(Parser)]
#[command(name = "geoalign", version, about = "Sales-territory alignment server", after_help = EXIT_STATUS)]
pub struct Cli {
    /// Store file (SQLite; default geoalign.db, or GEOALIGN_STORE: see `geoalign serve --help`).
    #[arg(long, global = true, value_name = "PATH")]
    store: Option<PathBuf>,
    /// TOML file of settings (see `geoalign serve --help`) [env: GEOALIGN_CONFIG].
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log lines on standard error: text (ANSI colours on a terminal only) or json.
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<geoalign::config::LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest a boundary file (GeoJSON, FlatGeobuf, Shapefile, GeoPackage, CSV; more with --features gdal).
    Ingest(ingest::Ingest),
    /// Store address points (OpenAddresses CSV: LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE)
    /// for street-level geocoding, replacing the dataset's previous address points.
    IngestAddresses(ingest::IngestAddresses),
    /// Alignments: create, import/export sheets, change, undo, history, diff, metrics.
    Align {
        #[command(subcommand)]
        command: align::AlignCommand,
    },
    /// Build a new alignment of k balanced, contiguous, compact territories.
    Build(build::Build),
    /// Propose moves that balance an alignment's territories (shown; committed with --apply).
    Rebalance(rebalance::Rebalance),
    /// Reps of an alignment.
    Reps {
        #[command(subcommand)]
        command: records::RepsCommand,
    },
    /// Accounts of an alignment.
    Accounts {
        #[command(subcommand)]
        command: records::AccountsCommand,
    },
    /// Rule territories of an alignment as a sheet (rule,priority,territory,...,condition).
    Rules {
        #[command(subcommand)]
        command: records::RulesCommand,
    },
    /// Unit metrics from other tables: `metrics import FILE.csv --dataset D --id-field zip`.
    Metrics {
        #[command(subcommand)]
        command: ingest::MetricsCommand,
    },
    /// Who owns points: one (--lon/--lat) or a CSV file (id,lon,lat) written as CSV to stdout.
    Lookup(lookup::Lookup),
    /// Geocode a CSV of addresses (id,address) by the ladder (address point, postal code, city);
    /// results as CSV to stdout, in input order, with per-row errors.
    Geocode(lookup::Geocode),
    /// Route leads (CSV id,lon,lat|address,fields... or a JSON array) by an alignment's rules
    /// and units, or by each team's active plan; one CSV row per lead and plan to stdout.
    Route(lookup::Route),
    /// Write an alignment's vector tile pyramid to an MBTiles or PMTiles file.
    Tiles(export::Tiles),
    /// Export an alignment level for GIS tools: FlatGeobuf, GeoJSON, GeoPackage or CSV.
    Export(export::Export),
    /// Access tokens: create (prints the secret once), list, revoke.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Serve the API.
    Serve(serve::ServerArgs),
    /// Load the sample in data/ into a fresh store and serve it.
    Demo(serve::ServerArgs),
}

impl Cli {
    /// The parsed command line (exits with status 2 and a usage message when it is wrong).
    pub fn parse_args() -> Cli {
        let settings = geoalign::config::help();
        let command = Cli::command()
            .mut_subcommand("serve", |c| c.after_help(settings.clone()))
            .mut_subcommand("demo", |c| c.after_help(settings));
        Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit())
    }

    /// The settings the flags give; the rest comes from the environment and the file.
    fn overrides(&self) -> Overrides {
        let mut flags = match &self.command {
            Command::Serve(server) | Command::Demo(server) => server.overrides(),
            Command::Tiles(tiles) => tiles.overrides(),
            _ => Overrides::default(),
        };
        flags.store = self.store.clone();
        flags.log_format = self.log_format;
        flags
    }
}

/// Logs go to standard error (`RUST_LOG`, default `info`), as text (ANSI colours only
/// when standard error is a terminal) or one JSON object per line.
fn init_logging(format: geoalign::config::LogFormat) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        geoalign::config::LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        geoalign::config::LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}

/// Runs the command and tells its exit status; errors are printed to standard error.
pub fn run(cli: Cli) -> ExitCode {
    let mut out = Stdout::new();
    let result = execute(cli, &mut out).and_then(|()| out.finish());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): what it wanted was written.
        Err(_) if output::closed() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn execute(cli: Cli, out: &mut Stdout) -> Result<(), CliError> {
    let config = Config::load(
        cli.config.as_deref(),
        &geoalign::config::process_env,
        cli.overrides(),
    )?;
    init_logging(config.log_format);
    match cli.command {
        Command::Ingest(args) => args.run(&config, out),
        Command::Metrics { command } => command.run(&config, out),
        Command::IngestAddresses(args) => args.run(&config, out),
        Command::Align { command } => command.run(&config, out),
        Command::Build(args) => args.run(&config, out),
        Command::Rebalance(args) => args.run(&config, out),
        Command::Reps { command } => command.run(&config, out),
        Command::Accounts { command } => command.run(&config, out),
        Command::Rules { command } => command.run(&config, out),
        Command::Lookup(args) => args.run(&config, out),
        Command::Geocode(args) => args.run(&config, out),
        Command::Route(args) => args.run(&config, out),
        Command::Tiles(args) => args.run(&config, out),
        Command::Export(args) => args.run(&config),
        Command::Token { command } => command.run(&config, out),
        Command::Serve(_) => serve::serve(&config),
        Command::Demo(_) => serve::demo(&config, cli.store.as_deref(), out),
    }
}

/// The configured store.
fn open_store(config: &Config) -> Result<Store, CliError> {
    if !config.store.exists() {
        return Err(CliError::NoStore {
            path: config.store.clone(),
        });
    }
    Ok(Store::open(&config.store)?)
}

/// The configured store, created when missing (a first polygon ingest).
fn create_store(config: &Config) -> Result<Store, CliError> {
    Ok(Store::open(&config.store)?)
}

/// An engine over the configured store.
fn engine(config: &Config) -> Result<Engine, CliError> {
    Ok(Engine::new(Arc::new(open_store(config)?)))
}

/// Author of change sets made from the command line.
fn author() -> String {
    std::env::var("USER").unwrap_or_default()
}

/// An input file named on the command line, opened.
fn open_input(path: &Path) -> Result<std::fs::File, CliError> {
    std::fs::File::open(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })
}

/// An input file named on the command line, read whole.
fn read_input(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Read {
        path: path.to_owned(),
        source,
    })
}

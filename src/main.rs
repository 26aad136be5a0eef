//! The `geoalign` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use geoalign::ingest::crs::CrsDef;
use geoalign::ingest::{IngestOptions, ingest};
use geoalign::store::Store;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "geoalign", version, about = "Sales-territory alignment server")]
struct Cli {
    /// Store file (SQLite).
    #[arg(long, global = true, env = "GEOALIGN_STORE", default_value = "geoalign.db")]
    store: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest a boundary file (GeoJSON, FlatGeobuf, Shapefile, GeoPackage, CSV; more with --features gdal).
    Ingest {
        /// The file to read.
        file: PathBuf,
        /// Dataset name.
        #[arg(long)]
        dataset: String,
        /// Property holding the unit id (e.g. zip).
        #[arg(long)]
        id_field: String,
        /// Layer of a multi-layer source (GeoPackage).
        #[arg(long)]
        layer: Option<String>,
        /// Source CRS, overriding the file's: EPSG:N, a PROJ string or WKT.
        #[arg(long, value_parser = parse_crs)]
        s_srs: Option<CrsDef>,
        /// Replace an existing dataset of that name.
        #[arg(long)]
        replace: bool,
        /// Add the file's points to an existing dataset as point units (PO-box ZIPs).
        #[arg(long)]
        points: bool,
    },
    /// Serve the API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Load the sample in data/ into a fresh store and serve it.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
    },
}

fn parse_crs(text: &str) -> Result<CrsDef, String> {
    CrsDef::parse_user(text).ok_or_else(|| format!("'{text}' is not EPSG:N, a PROJ string or WKT"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Ingest {
            file,
            dataset,
            id_field,
            layer,
            s_srs,
            replace,
            points,
        } => {
            let store = Store::open(&cli.store).map_err(|e| e.to_string())?;
            let options = IngestOptions {
                path: file,
                dataset,
                id_field,
                layer,
                s_srs,
                replace,
                points,
                progress: true,
            };
            let report = ingest(&store, &options).map_err(|e| e.to_string())?;
            print!("{report}");
            Ok(())
        }
        Command::Serve { bind } => {
            let store = Store::open(&cli.store).map_err(|e| e.to_string())?;
            serve(store, &bind)
        }
        Command::Demo { bind } => {
            let path = std::env::temp_dir().join(format!("geoalign-demo-{}.db", std::process::id()));
            let store = Store::open(&path).map_err(|e| e.to_string())?;
            let reports = geoalign::demo::load_sample(&store, &geoalign::demo::data_dir(), true)
                .map_err(|e| e.to_string())?;
            for report in reports {
                print!("{report}");
            }
            println!("demo store: {}", path.display());
            println!(
                "open http://{bind}/health and http://{bind}/api/datasets/{}",
                geoalign::demo::DATASET
            );
            serve(store, &bind)
        }
    }
}

fn serve(store: Store, bind: &str) -> Result<(), String> {
    let system = actix_web::rt::System::new();
    system
        .block_on(geoalign::http::serve(Arc::new(store), bind))
        .map_err(|e| format!("server on {bind}: {e}"))
}

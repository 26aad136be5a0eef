//! The `geoalign` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use geoalign::align::sheet::SheetColumns;
use geoalign::align::state::DEFAULT_LEVELS;
use geoalign::align::{self, Op};
use geoalign::engine::Engine;
use geoalign::error::AlignError;
use geoalign::ingest::crs::CrsDef;
use geoalign::ingest::{IngestOptions, ingest};
use geoalign::store::Store;
use tracing_subscriber::EnvFilter;

/// mimalloc: tile rendering allocates many short-lived vectors on every worker at once;
/// the cold tile benchmark (`scripts/bench tiles`) runs about 9% faster with it than
/// with glibc's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
        /// Replace an existing dataset of that name (its alignments are kept when every
        /// unit they use is still in the file; otherwise refused).
        #[arg(long)]
        replace: bool,
        /// With --replace: delete the alignments that use units the file no longer has.
        #[arg(long, requires = "replace")]
        drop_alignments: bool,
        /// Add the file's points to an existing dataset as point units (PO-box ZIPs).
        #[arg(long)]
        points: bool,
    },
    /// Store address points (OpenAddresses CSV: LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE)
    /// for street-level geocoding, replacing the dataset's previous address points.
    IngestAddresses {
        /// The CSV file.
        file: PathBuf,
        /// Dataset the addresses belong to (default: the only dataset in the store).
        #[arg(long)]
        dataset: Option<String>,
    },
    /// Alignments: create, import/export sheets, change, undo, history, diff, metrics.
    Align {
        #[command(subcommand)]
        command: AlignCommand,
    },
    /// Reps of an alignment.
    Reps {
        #[command(subcommand)]
        command: RecordsCommand,
    },
    /// Accounts of an alignment.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Who owns points: one (--lon/--lat) or a CSV file (id,lon,lat) written as CSV to stdout.
    Lookup {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// CSV of points (id,lon,lat).
        file: Option<PathBuf>,
        /// Longitude of a single point.
        #[arg(long, requires = "lat", conflicts_with = "file", allow_hyphen_values = true)]
        lon: Option<f64>,
        /// Latitude of a single point.
        #[arg(long, requires = "lon", allow_hyphen_values = true)]
        lat: Option<f64>,
        /// Snap a point outside every unit to the nearest within this many km.
        #[arg(long)]
        snap_km: Option<f64>,
    },
    /// Geocode a CSV of addresses (id,address) by the ladder (address point, postal code, city);
    /// results as CSV to stdout, in input order, with per-row errors.
    Geocode {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// CSV of addresses (id,address).
        file: PathBuf,
        /// Postal code format: us, uk, ca, de.
        #[arg(long, default_value = "us")]
        country: geoalign::lookup::geocode::Country,
    },
    /// Write an alignment's vector tile pyramid to an MBTiles or PMTiles file.
    Tiles {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// pmtiles or mbtiles.
        #[arg(long, default_value = "pmtiles")]
        format: geoalign::tiles::export::Format,
        /// First zoom.
        #[arg(long, default_value_t = 0)]
        minzoom: u8,
        /// Last zoom.
        #[arg(long, default_value_t = 12)]
        maxzoom: u8,
        /// Output file.
        #[arg(long)]
        output: PathBuf,
    },
    /// Export an alignment level for GIS tools: FlatGeobuf, GeoJSON, GeoPackage or CSV.
    Export {
        /// Alignment name.
        #[arg(long)]
        alignment: String,
        /// unit, or a level of the alignment (territory, district, region).
        #[arg(long, default_value = "territory")]
        level: String,
        /// fgb, geojson, gpkg or csv (default: from the output's extension).
        #[arg(long)]
        format: Option<String>,
        /// Output file.
        #[arg(long)]
        output: PathBuf,
    },
    /// Serve the API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
        /// HTTP worker threads (default: one per core).
        #[arg(long, env = "GEOALIGN_WORKERS")]
        workers: Option<usize>,
    },
    /// Load the sample in data/ into a fresh store and serve it.
    Demo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: String,
    },
}

#[derive(Subcommand)]
enum AlignCommand {
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
    /// Create an alignment from a sheet: unit_id,territory[,district][,region][,rep].
    Import {
        /// The CSV sheet.
        file: PathBuf,
        /// New alignment name.
        #[arg(long)]
        alignment: String,
        /// Dataset of units.
        #[arg(long)]
        dataset: String,
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

#[derive(Subcommand)]
enum RecordsCommand {
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
enum AccountsCommand {
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
        country: geoalign::lookup::geocode::Country,
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
            drop_alignments,
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
                drop_alignments,
                points,
                progress: true,
            };
            let report = ingest(&store, &options).map_err(|e| e.to_string())?;
            print!("{report}");
            Ok(())
        }
        Command::IngestAddresses { file, dataset } => {
            let store = Store::open(&cli.store).map_err(|e| e.to_string())?;
            let dataset = match dataset {
                Some(d) => d,
                None => only_dataset(&store)?,
            };
            let report = geoalign::ingest::addresses::ingest_addresses(&store, &file, &dataset, true)
                .map_err(|e| e.to_string())?;
            print!("{report}");
            Ok(())
        }
        Command::Align { command } => {
            let engine = Engine::new(Arc::new(Store::open(&cli.store).map_err(|e| e.to_string())?));
            align(&engine, command).map_err(|e| e.to_string())
        }
        Command::Reps {
            command: RecordsCommand::Import { file, alignment },
        } => import_records(&cli.store, &file, &alignment, align::records::reps),
        Command::Accounts {
            command:
                AccountsCommand::Import {
                    file,
                    alignment,
                    skip_unplaced,
                    country,
                },
        } => import_accounts(&cli.store, &file, &alignment, skip_unplaced, country),
        Command::Lookup {
            alignment,
            file,
            lon,
            lat,
            snap_km,
        } => {
            let engine = Engine::new(Arc::new(Store::open(&cli.store).map_err(|e| e.to_string())?));
            let snapshot = engine.snapshot(&alignment).map_err(|e| e.to_string())?;
            match (file, lon, lat) {
                (Some(file), _, _) => {
                    let input = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                    let rows = geoalign::lookup::batch::lookup_csv_with_progress(
                        &snapshot,
                        &input,
                        std::io::stdout().lock(),
                    )
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                    eprintln!("{rows} points looked up on revision {}", snapshot.revision);
                    Ok(())
                }
                (None, Some(lon), Some(lat)) => {
                    let owner = snapshot.lookup(lon, lat, snap_km).map_err(|e| e.to_string())?;
                    let value = serde_json::json!({ "revision": snapshot.revision, "owner": owner });
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
                    );
                    Ok(())
                }
                _ => Err("give a CSV file of points, or --lon and --lat".into()),
            }
        }
        Command::Geocode {
            alignment,
            file,
            country,
        } => {
            let store = Arc::new(Store::open(&cli.store).map_err(|e| e.to_string())?);
            let engine = Engine::new(store.clone());
            let snapshot = engine.snapshot(&alignment).map_err(|e| e.to_string())?;
            let input = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let (rows, matched) = geoalign::lookup::geocode_batch::geocode_csv_with_progress(
                &snapshot,
                &store,
                &input,
                country,
                std::io::stdout().lock(),
            )
            .map_err(|e| format!("{}: {e}", file.display()))?;
            eprintln!(
                "{rows} addresses, {matched} geocoded, {} not, on revision {}",
                rows - matched,
                snapshot.revision
            );
            Ok(())
        }
        Command::Tiles {
            alignment,
            format,
            minzoom,
            maxzoom,
            output,
        } => export_tiles(&cli.store, alignment, format, (minzoom, maxzoom), output),
        Command::Export {
            alignment,
            level,
            format,
            output,
        } => export(&cli.store, &alignment, &level, format.as_deref(), &output),
        Command::Serve { bind, workers } => {
            let store = Store::open(&cli.store).map_err(|e| e.to_string())?;
            serve(Arc::new(Engine::new(Arc::new(store))), &bind, workers)
        }
        Command::Demo { bind } => {
            let path = std::env::temp_dir().join(format!("geoalign-demo-{}.db", std::process::id()));
            let store = Store::open(&path).map_err(|e| e.to_string())?;
            let reports = geoalign::demo::load_sample(&store, &geoalign::demo::data_dir(), true)
                .map_err(|e| e.to_string())?;
            for report in reports {
                print!("{report}");
            }
            let store = Arc::new(store);
            let engine = Engine::new(store.clone());
            geoalign::demo::load_alignment(&engine, &geoalign::demo::data_dir())
                .map_err(|e| e.to_string())?;
            println!("alignment '{}' loaded", geoalign::demo::ALIGNMENT);
            println!("demo store: {}", path.display());
            println!(
                "open http://{bind}/health and http://{bind}/api/datasets/{}",
                geoalign::demo::DATASET
            );
            serve(Arc::new(engine), &bind, None)
        }
    }
}

/// The name of the store's only dataset, for commands where it is the obvious default.
fn only_dataset(store: &Store) -> Result<String, String> {
    let datasets = store.datasets().map_err(|e| e.to_string())?;
    match datasets.as_slice() {
        [only] => Ok(only.name.clone()),
        [] => Err("the store has no dataset; ingest boundaries first".into()),
        many => Err(format!(
            "give --dataset (one of {})",
            many.iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn open(path: &std::path::Path) -> Result<std::fs::File, String> {
    std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn print_json(value: &impl serde::Serialize) -> Result<(), AlignError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| AlignError::Invalid(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn align(engine: &Engine, command: AlignCommand) -> Result<(), AlignError> {
    let author = std::env::var("USER").unwrap_or_default();
    match command {
        AlignCommand::Create {
            name,
            dataset,
            levels,
            copy_of,
        } => print_json(&engine.create(&name, dataset.as_deref(), levels, copy_of.as_deref())?),
        AlignCommand::Import {
            file,
            alignment,
            dataset,
            levels,
            unit_column,
        } => {
            let reader = open(&file).map_err(AlignError::Invalid)?;
            let levels = levels.unwrap_or_else(|| DEFAULT_LEVELS.iter().map(|s| (*s).to_owned()).collect());
            let columns = SheetColumns {
                unit: unit_column,
                ..SheetColumns::for_levels(&levels)
            };
            let (info, report) =
                engine.import_sheet(&alignment, &dataset, Some(levels), Some(columns), reader)?;
            println!(
                "alignment '{}' on '{}': {} rows, {} units assigned, {} polygon units unassigned",
                info.name,
                info.dataset,
                report.rows,
                report.assigned,
                report.unassigned.len()
            );
            if !report.unassigned.is_empty() {
                let shown: Vec<&str> = report.unassigned.iter().take(20).map(String::as_str).collect();
                println!(
                    "  unassigned: {}{}",
                    shown.join(", "),
                    if report.unassigned.len() > 20 { ", ..." } else { "" }
                );
            }
            Ok(())
        }
        AlignCommand::Export { alignment, format } => match format.as_str() {
            "csv" => engine.export_sheet(&alignment, std::io::stdout().lock()),
            "json" => {
                let mut sheet = Vec::new();
                engine.export_sheet(&alignment, &mut sheet)?;
                let mut reader = csv::Reader::from_reader(sheet.as_slice());
                let rows: Vec<std::collections::BTreeMap<String, String>> = reader
                    .deserialize()
                    .collect::<Result<_, _>>()
                    .map_err(|e| AlignError::Invalid(e.to_string()))?;
                print_json(&rows)
            }
            other => Err(AlignError::Invalid(format!(
                "--format {other}: expected csv or json"
            ))),
        },
        AlignCommand::Change {
            alignment,
            expected_revision,
            file,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).map_err(|e| AlignError::Invalid(e.to_string()))?
            } else {
                std::fs::read_to_string(&file)
                    .map_err(|e| AlignError::Invalid(format!("{}: {e}", file.display())))?
            };
            let ops =
                parse_ops(&text).map_err(|e| AlignError::Invalid(format!("{}: {e}", file.display())))?;
            let revision = match expected_revision {
                Some(r) => r,
                None => engine.snapshot(&alignment)?.revision,
            };
            print_json(&engine.apply(&alignment, revision, &ops, &author)?)
        }
        AlignCommand::History { alignment } => {
            for change in engine.store().history(&alignment)? {
                println!(
                    "{:>5}  {}  {:<12} {}",
                    change.revision, change.created_at, change.author, change.summary
                );
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
            print_json(&engine.undo(&alignment, undo, &author)?)
        }
        AlignCommand::Diff { alignment, against } => {
            let (a, b) = (engine.snapshot(&alignment)?, engine.snapshot(&against)?);
            let units = &a.dataset.units;
            println!("unit_id,{alignment},{against}");
            for i in 0..units.len() as u32 {
                let (x, y) = (a.state.owner(units, i), b.state.owner(units, i));
                if x != y {
                    println!("{},{},{}", units.get(i).id, x.unwrap_or(""), y.unwrap_or(""));
                }
            }
            Ok(())
        }
        AlignCommand::Metrics { alignment, level } => {
            let s = engine.snapshot(&alignment)?;
            let index = s.state.level(level.as_deref()).map_err(AlignError::Invalid)?;
            let metrics: std::collections::BTreeMap<&String, &geoalign::align::metrics::TerritoryMetrics> = s
                .shapes[index]
                .iter()
                .map(|(code, shape)| (code, &shape.metrics))
                .collect();
            print_json(&metrics)
        }
    }
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

fn import_records(
    store: &std::path::Path,
    file: &std::path::Path,
    alignment: &str,
    parse: fn(
        std::fs::File,
        &geoalign::align::AlignmentState,
    ) -> Result<Vec<Op>, geoalign::align::sheet::SheetError>,
) -> Result<(), String> {
    let engine = Engine::new(Arc::new(Store::open(store).map_err(|e| e.to_string())?));
    let snapshot = engine.snapshot(alignment).map_err(|e| e.to_string())?;
    let ops = parse(open(file)?, &snapshot.state).map_err(|e| format!("{}: {e}", file.display()))?;
    let author = std::env::var("USER").unwrap_or_default();
    let outcome = engine
        .apply(alignment, snapshot.revision, &ops, &author)
        .map_err(|e| e.to_string())?;
    println!(
        "{}: applied as revision {}",
        file.display(),
        outcome.change.revision
    );
    Ok(())
}

fn import_accounts(
    store: &std::path::Path,
    file: &std::path::Path,
    alignment: &str,
    skip_unplaced: bool,
    country: geoalign::lookup::geocode::Country,
) -> Result<(), String> {
    let store = Arc::new(Store::open(store).map_err(|e| e.to_string())?);
    let engine = Engine::new(store.clone());
    let snapshot = engine.snapshot(alignment).map_err(|e| e.to_string())?;
    let place = |address: &str| {
        snapshot
            .geocode_with(&store, address, country)
            .map(|g| (g.point[0], g.point[1]))
            .map_err(|e| e.to_string())
    };
    let import = align::records::accounts_placed(open(file)?, &snapshot.state, &place, skip_unplaced)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let author = std::env::var("USER").unwrap_or_default();
    let outcome = engine
        .apply(alignment, snapshot.revision, &import.ops, &author)
        .map_err(|e| e.to_string())?;
    println!(
        "{}: applied as revision {}; {} account(s) placed by address, {} not placed and skipped",
        file.display(),
        outcome.change.revision,
        import.placed,
        import.unplaced.len()
    );
    for line in &import.unplaced {
        println!("  {line}");
    }
    Ok(())
}

fn serve(engine: Arc<Engine>, bind: &str, workers: Option<usize>) -> Result<(), String> {
    let system = actix_web::rt::System::new();
    system
        .block_on(geoalign::http::serve(
            geoalign::http::AppState::with_engine(engine),
            bind,
            workers,
        ))
        .map_err(|e| format!("server on {bind}: {e}"))
}

fn export_tiles(
    store: &std::path::Path,
    alignment: String,
    format: geoalign::tiles::export::Format,
    (minzoom, maxzoom): (u8, u8),
    output: PathBuf,
) -> Result<(), String> {
    use geoalign::tiles::export::{ExportOptions, export};
    use geoalign::tiles::{MAX_ZOOM, TileOptions, TileService};
    if minzoom > maxzoom || maxzoom > MAX_ZOOM {
        return Err(format!(
            "zooms must satisfy 0 <= minzoom <= maxzoom <= {MAX_ZOOM}"
        ));
    }
    let engine = Engine::new(Arc::new(Store::open(store).map_err(|e| e.to_string())?));
    let service = TileService::new(Arc::new(engine), TileOptions::from_env());
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tiles {elapsed} (eta {eta}) {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let options = ExportOptions {
        alignment,
        format,
        minzoom,
        maxzoom,
        output,
        threads: 0,
    };
    let summary = export(&service, &options, &|done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })
    .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    println!(
        "{}: alignment '{}' revision {}, zooms {minzoom}-{maxzoom}: {} tiles ({} empty skipped), {:.1} MB gzip; largest {} KB{}",
        options.output.display(),
        options.alignment,
        summary.revision,
        summary.tiles,
        summary.candidates - summary.tiles,
        summary.bytes as f64 / 1e6,
        summary.largest.0 / 1024,
        summary.largest.1.map(|t| format!(" at {t}")).unwrap_or_default()
    );
    Ok(())
}

fn export(
    store: &std::path::Path,
    alignment: &str,
    level: &str,
    format: Option<&str>,
    output: &std::path::Path,
) -> Result<(), String> {
    use geoalign::export::{Format, Layer, Level, export_file};
    let format: Format = format
        .or_else(|| output.extension().and_then(|e| e.to_str()))
        .ok_or("give --format (fgb, geojson, gpkg or csv)")?
        .parse()
        .map_err(|e: geoalign::export::ExportError| e.to_string())?;
    let engine = Engine::new(Arc::new(Store::open(store).map_err(|e| e.to_string())?));
    let snapshot = engine.snapshot(alignment).map_err(|e| e.to_string())?;
    let level = Level::parse(&snapshot, level).map_err(|e| e.to_string())?;
    let layer = Layer::new(&snapshot, level);
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new(layer.len() as u64);
    let progress = |n: usize| bar.set_position(n as u64);
    export_file(&layer, format, output, &progress).map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    eprintln!(
        "{} features of '{}' revision {} ({}) written to {} in {:.2} s",
        layer.len(),
        snapshot.alignment,
        snapshot.revision,
        level.name(&snapshot),
        output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

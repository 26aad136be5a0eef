//! `geoalign serve` and `geoalign demo`, and the setting flags they share (see
//! [`geoalign::config`]; `geoalign serve --help` lists every setting with its
//! environment variable, TOML key and default).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use geoalign::config::{Config, Overrides};
use geoalign::engine::Engine;
use geoalign::store::Store;

use super::output::Stdout;
use super::{CliError, open_store};

/// Flags of the server settings.
#[derive(Args)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Largest lookup/geocode batch body, MiB.
    #[arg(long, value_name = "MB")]
    max_batch_mb: Option<usize>,
    /// Requests without a token may read; writes need a token (lets a non-loopback
    /// server start with no token in the store).
    #[arg(long)]
    allow_anonymous_read: bool,
    /// Origins that may read from other sites (CORS): * or a comma-separated list.
    #[arg(long, value_name = "ORIGINS")]
    cors_origins: Option<String>,
    /// CORS also for state-changing requests (true/false).
    #[arg(long, value_name = "BOOL")]
    cors_writes: Option<bool>,
    /// URL clients reach the server at, for the links it writes (default: the request's Host).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Addresses/CIDRs whose Forwarded and X-Forwarded-* headers are believed.
    #[arg(long, value_name = "LIST")]
    trusted_proxies: Option<String>,
    /// How many alignments (scenarios, copies) the store keeps at most.
    #[arg(long, value_name = "N")]
    max_alignments: Option<usize>,
    #[command(flatten)]
    tiles: TileArgs,
}

/// Flags of the tile settings.
#[derive(Args)]
pub struct TileArgs {
    /// Size bound of the tile cache, MiB.
    #[arg(long, value_name = "MB")]
    tile_cache_mb: Option<usize>,
    /// First zoom of the units tile layer.
    #[arg(long, value_name = "Z")]
    units_minzoom: Option<u8>,
}

impl TileArgs {
    /// The settings these flags give.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            tile_cache_mb: self.tile_cache_mb,
            units_minzoom: self.units_minzoom,
            ..Overrides::default()
        }
    }
}

impl ServerArgs {
    /// The settings these flags give.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            bind: self.bind.clone(),
            workers: self.workers,
            max_batch_mb: self.max_batch_mb,
            allow_anonymous_read: self.allow_anonymous_read.then_some(true),
            cors_origins: self.cors_origins.clone(),
            cors_writes: self.cors_writes,
            public_url: self.public_url.clone(),
            trusted_proxies: self.trusted_proxies.clone(),
            max_alignments: self.max_alignments,
            ..self.tiles.overrides()
        }
    }
}

/// `geoalign serve`: the API over the configured store.
pub fn serve(config: &Config) -> Result<(), CliError> {
    let engine = Engine::new(Arc::new(open_store(config)?));
    run_server(Arc::new(engine), config, false)
}

/// `geoalign demo`: loads the sample into a fresh store and serves it. The store is a
/// temporary file removed when the server stops, unless `--store PATH` names one to
/// keep (a kept store that already holds the demo is served as it is).
pub fn demo(config: &Config, keep: Option<&Path>, out: &mut Stdout) -> Result<(), CliError> {
    use geoalign::demo;
    let (path, _removal) = match keep {
        Some(path) => (path.to_owned(), None),
        None => {
            remove_stale_demo_stores();
            let path = std::env::temp_dir().join(format!("geoalign-demo-{}.db", std::process::id()));
            (path.clone(), Some(RemoveOnDrop(path)))
        }
    };
    let store = Store::open(&path)?;
    let loaded = store.alignments()?.iter().any(|a| a.name == demo::ALIGNMENT);
    if !loaded {
        for report in demo::load_sample(&store, &demo::data_dir(), true)? {
            out.text(report)?;
        }
    }
    let engine = Engine::new(Arc::new(store));
    if !loaded {
        demo::load_alignment(&engine, &demo::data_dir())?;
    }
    let bind = &config.bind;
    out.line(format_args!("alignment '{}' loaded", demo::ALIGNMENT))?;
    if keep.is_some() {
        out.line(format_args!("demo store: {} (kept)", path.display()))?;
    } else {
        out.line(format_args!(
            "demo store: {} (removed when the server stops; keep one with `geoalign demo --store PATH`)",
            path.display()
        ))?;
    }
    out.line(format_args!(
        "open http://{bind}/ (the editor), http://{bind}/health and http://{bind}/api/datasets/{}",
        demo::DATASET
    ))?;
    out.finish()?;
    run_server(Arc::new(engine), config, true)
}

/// Deletes a temporary demo store (and its SQLite journal files) when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        remove_store_files(&self.0);
    }
}

fn remove_store_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Removes the temporary stores of demos that were killed (their process is gone).
fn remove_stale_demo_stores() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("geoalign-demo-"))
            .and_then(|n| n.strip_suffix(".db"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            remove_store_files(&entry.path());
        }
    }
}

fn run_server(engine: Arc<Engine>, config: &Config, demo: bool) -> Result<(), CliError> {
    let tokens = engine.store().active_tokens()?.len();
    let mode = geoalign::http::auth::start_mode(&config.bind, tokens, config.allow_anonymous_read, demo)
        .map_err(CliError::Usage)?;
    if tokens == 0 && !config.allow_anonymous_read {
        tracing::warn!("{mode}");
    } else {
        tracing::info!("{mode}");
    }
    let state = geoalign::http::AppState::with_config(engine, config);
    actix_web::rt::System::new()
        .block_on(geoalign::http::serve(state, &config.bind, config.workers))
        .map_err(|source| CliError::Serve {
            bind: config.bind.clone(),
            source,
        })
}

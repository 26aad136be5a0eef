//! `geoalign serve` and `geoalign demo`, and the setting flags they share (see
//! [`geoalign::config`]; `geoalign serve --help` lists every setting with its
//! environment variable, TOML key and default).

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
    /// Origins that may read from other sites (CORS): * or a comma-separated list.
    #[arg(long, value_name = "ORIGINS")]
    cors_origins: Option<String>,
    /// CORS also for state-changing requests (true/false).
    #[arg(long, value_name = "BOOL")]
    cors_writes: Option<bool>,
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
            cors_origins: self.cors_origins.clone(),
            cors_writes: self.cors_writes,
            ..self.tiles.overrides()
        }
    }
}

/// `geoalign serve`: the API over the configured store.
pub fn serve(config: &Config) -> Result<(), CliError> {
    let engine = Engine::new(Arc::new(open_store(config)?));
    run_server(Arc::new(engine), config)
}

/// `geoalign demo`: loads the sample into a fresh store in the temporary folder (not
/// the configured store) and serves it.
pub fn demo(config: &Config, out: &mut Stdout) -> Result<(), CliError> {
    use geoalign::demo;
    let path = std::env::temp_dir().join(format!("geoalign-demo-{}.db", std::process::id()));
    let store = Store::open(&path)?;
    for report in demo::load_sample(&store, &demo::data_dir(), true)? {
        out.text(report)?;
    }
    let engine = Engine::new(Arc::new(store));
    demo::load_alignment(&engine, &demo::data_dir())?;
    let bind = &config.bind;
    out.line(format_args!("alignment '{}' loaded", demo::ALIGNMENT))?;
    out.line(format_args!("demo store: {}", path.display()))?;
    out.line(format_args!(
        "open http://{bind}/health and http://{bind}/api/datasets/{}",
        demo::DATASET
    ))?;
    out.finish()?;
    run_server(Arc::new(engine), config)
}

fn run_server(engine: Arc<Engine>, config: &Config) -> Result<(), CliError> {
    let state = geoalign::http::AppState::with_config(engine, config);
    actix_web::rt::System::new()
        .block_on(geoalign::http::serve(state, &config.bind, config.workers))
        .map_err(|source| CliError::Serve {
            bind: config.bind.clone(),
            source,
        })
}

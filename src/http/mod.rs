//! The HTTP API (actix-web): thin handlers that parse, call the domain and map
//! the result; errors become RFC 9457 problem bodies in [`problem`].

pub mod accounts;
pub mod alignments;
pub mod auth;
pub mod body;
pub mod compress;
pub mod cors;
pub mod cql2;
pub mod datasets;
pub mod deadline;
pub mod events;
pub mod exports;
pub mod geocode_batch;
pub mod guard;
pub mod health;
pub mod idempotency;
pub mod jobs;
pub mod json_body;
pub mod lookup;
pub mod methods;
pub mod metrics;
pub mod ogc;
pub mod ogc_tiles;
pub mod openapi;
pub mod origin;
pub mod problem;
pub mod query;
pub mod route;
pub mod sheets;
pub mod teams;
pub mod tiles;

use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::{App, HttpRequest, HttpServer, web};
use futures_util::StreamExt;

pub use problem::ApiError;

use crate::config::{Config, MAX_BATCH_BYTES};
use crate::engine::Engine;
use crate::engine::jobs::Jobs;

/// Builds and rebalances that may wait for the job worker.
pub const MAX_QUEUED_JOBS: usize = 8;
use crate::export::cache::ExportCache;
use crate::store::Store;
use crate::tiles::TileService;

/// Shared state of the server.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<Store>,
    /// Alignments in memory.
    pub engine: Arc<Engine>,
    /// Tiles of the engine's alignments (one cache shared by every worker).
    pub tiles: Arc<TileService>,
    /// Every commit, for the live event streams.
    pub events: events::ChangeFeed,
    /// Export files written once per revision and served from disk.
    pub exports: Arc<ExportCache>,
    /// Largest body of a batch request ([`read_batch_body`]), in bytes.
    pub max_batch_bytes: usize,
    /// Tokens and roles ([`auth`]).
    pub access: Arc<auth::Access>,
    /// Request counts and latencies, change set timings ([`metrics`]).
    pub metrics: Arc<metrics::Metrics>,
    /// Which other sites' pages may call the API ([`cors`]).
    pub cors: cors::CorsPolicy,
    /// How long a request body may take to arrive ([`deadline`]).
    pub body_deadlines: deadline::BodyDeadlines,
    /// The origin the server's links are written with ([`origin`]).
    pub origin: origin::PublicOrigin,
    /// Builds and rebalances running in the background ([`jobs`]).
    pub jobs: Jobs,
}

impl AppState {
    /// State over a store, with the default settings.
    pub fn new(store: Arc<Store>) -> AppState {
        AppState::with_engine(Arc::new(Engine::new(store)))
    }

    /// State over an engine already loaded, with the default settings.
    pub fn with_engine(engine: Arc<Engine>) -> AppState {
        AppState::with_config(engine, &Config::default())
    }

    /// State over an engine already loaded, with the tile options and limits of `config`.
    pub fn with_config(engine: Arc<Engine>, config: &Config) -> AppState {
        engine.store().set_max_alignments(config.max_alignments);
        AppState {
            store: engine.store().clone(),
            tiles: TileService::attached(engine.clone(), config.tile_options()),
            events: events::ChangeFeed::attached(&engine),
            exports: Arc::new(ExportCache::new()),
            access: Arc::new(auth::Access::new(
                engine.store().clone(),
                config.allow_anonymous_read,
            )),
            metrics: Arc::default(),
            engine,
            max_batch_bytes: config.max_batch_bytes(),
            cors: cors::CorsPolicy::new(&config.cors_origins, config.cors_writes),
            body_deadlines: deadline::BodyDeadlines::default(),
            origin: origin::PublicOrigin::new(config),
            jobs: Jobs::new(MAX_QUEUED_JOBS),
        }
    }
}

/// Reads a batch request body: at most [`AppState::max_batch_bytes`] (by default
/// [`MAX_BATCH_BYTES`]; refused up front when Content-Length says more),
/// pre-sized from Content-Length, and not empty; `expected` names the formats in the
/// "empty" reason.
pub async fn read_batch_body(
    request: &HttpRequest,
    mut payload: web::Payload,
    expected: &str,
) -> Result<web::BytesMut, ApiError> {
    let max = request
        .app_data::<web::Data<AppState>>()
        .map_or(MAX_BATCH_BYTES, |state| state.max_batch_bytes);
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if let Some(length) = declared
        && length > max
    {
        return Err(ApiError::bad(
            "body",
            format!("{length} bytes; at most {max} bytes per batch"),
        ));
    }
    // Pre-sized from Content-Length up to 1 MiB only: a declared length reserves no
    // memory the body has not sent.
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(0).min(1 << 20));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(body_error)?;
        if body.len() + chunk.len() > max {
            return Err(ApiError::bad("body", format!("more than {max} bytes per batch")));
        }
        body.extend_from_slice(&chunk);
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad("body", format!("empty; send {expected}")));
    }
    Ok(body)
}

/// Whether a batch body is a JSON array (else CSV).
pub fn is_json_array(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
}

/// Runs blocking store work off the async executor.
pub async fn blocking<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, ApiError>
where
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    web::block(f)
        .await
        .map_err(|e| ApiError::Worker(e.to_string()))?
        .map_err(Into::into)
}

/// The current snapshot of an alignment: straight from memory when loaded, else
/// loaded (store reads, topology) off the async executor.
pub async fn snapshot(
    state: &web::Data<AppState>,
    alignment: String,
) -> Result<Arc<crate::snapshot::Snapshot>, ApiError> {
    if let Some(s) = state.engine.loaded_snapshot(&alignment) {
        return Ok(s);
    }
    let engine = state.engine.clone();
    blocking(move || engine.snapshot(&alignment)).await
}

/// A JSON body that could not be read, said in the client's terms: a missing or wrong
/// content type names the header and the type expected.
fn json_body_error(e: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError;
    match e {
        JsonPayloadError::ContentType => ApiError::bad(
            "Content-Type",
            "expected application/json (send the header `Content-Type: application/json`)",
        ),
        JsonPayloadError::Payload(e) => body_error(e),
        other => ApiError::bad("body", other),
    }
}

/// A body that could not be read: 408 when it came too slowly ([`deadline`]), else 400.
fn body_error(e: actix_web::error::PayloadError) -> ApiError {
    if deadline::is_timeout(&e) {
        ApiError::Timeout(format!("body: {e}"))
    } else {
        ApiError::bad("body", e)
    }
}

/// Registers every route, extractor error handler and the 404 fallback.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|e, _| ApiError::bad("path", e).into()))
        .app_data(web::JsonConfig::default().error_handler(|e, _| json_body_error(e).into()))
        // The hottest routes first: the router tries resources in registration order, a
        // static one by comparing the path, a dynamic one by a regex; so the lookups (static)
        // and the map's tiles come before the rest.
        .service(lookup::point)
        .service(lookup::points)
        .configure(tiles::configure)
        .service(health::health)
        .service(metrics::ready)
        .service(metrics::metrics)
        .service(auth::me)
        .service(auth::list_tokens)
        .service(openapi::document)
        .service(openapi::ogc_document)
        .service(datasets::list)
        .service(datasets::show)
        .service(datasets::unit)
        .service(lookup::nearest_reps)
        .service(lookup::geocode)
        .service(accounts::show)
        .service(accounts::export)
        .service(geocode_batch::addresses)
        .configure(exports::configure)
        .configure(ogc::configure)
        .configure(ogc_tiles::configure)
        .service(alignments::list)
        .service(alignments::create)
        .service(alignments::history)
        .service(alignments::diff)
        .service(alignments::changes)
        .service(alignments::undo)
        .service(alignments::delete)
        .service(route::route_leads)
        .service(teams::patch)
        .service(teams::list)
        .service(sheets::show)
        .service(sheets::put)
        .service(sheets::show_rules)
        .service(sheets::put_rules)
        .service(jobs::build)
        .service(jobs::rebalance)
        .service(jobs::list)
        .service(jobs::show)
        .service(jobs::delete)
        .service(events::events)
        .service(alignments::show)
        .service(alignments::level_items)
        .service(alignments::feature)
        .default_service(web::to(|req: HttpRequest| async move {
            Err::<actix_web::HttpResponse, _>(ApiError::NoRoute(req.path().to_owned()))
        }));
}

/// The application: [`configure`]'s routes over `state`, inside the protocol
/// middlewares. Wrap order, innermost first: [`methods::methods`] (trailing slash,
/// HEAD, 405), [`compress::compress`], then [`cors::cors`] outermost, so a CORS
/// preflight is answered before anything else runs: an authentication middleware
/// belongs between `compress` and `cors`.
pub fn app(
    state: web::Data<AppState>,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    use actix_web::middleware::from_fn;
    App::new()
        .app_data(state)
        .configure(configure)
        .wrap(from_fn(methods::methods))
        .wrap(from_fn(compress::compress))
        .wrap(from_fn(cors::cors))
}

/// Serves the API on `bind` until the process is stopped, with `workers` HTTP worker
/// threads (`None`: one per core).
pub async fn serve(state: AppState, bind: &str, workers: Option<usize>) -> std::io::Result<()> {
    // A CLI writing to the same store while the server runs: its commits are noticed
    // within half a second, and before any change set of the server's own.
    state.engine.watch_store(std::time::Duration::from_millis(500))?;
    metrics::preload(&state)?;
    let state = web::Data::new(state);
    tracing::info!("serving on http://{bind}");
    let server = HttpServer::new(move || app(state.clone()).wrap_fn(metrics::observe));
    let server = match workers {
        Some(n) => server.workers(n.max(1)),
        None => server,
    };
    server.bind(bind)?.run().await
}

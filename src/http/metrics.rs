//! Observability: the request middleware ([`observe`]: a request id on every response
//! and in the span of every log line of the request, the request log, per-route
//! counts and latencies), `GET /metrics` (Prometheus text format 0.0.4) and
//! `GET /ready`.
//!
//! The exposition is written here (a few counters and histograms behind one mutex
//! each) rather than through a metrics crate: most values — cache lookups, snapshot
//! revisions, RSS — are read from the running server when scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use tracing::Instrument;
use utoipa::ToSchema;

use super::auth::Viewer;
use super::{ApiError, AppState, blocking};
use crate::engine::Timings;

/// The request id header, taken from the request when sane, else made up.
pub const REQUEST_ID: &str = "x-request-id";

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(self.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = |l: &str| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{{{l}}}")
            }
        };
        let _ = writeln!(out, "{name}_sum{} {}", braces(labels), self.sum);
        let _ = writeln!(out, "{name}_count{} {}", braces(labels), self.count);
    }
}

#[derive(Debug, Default)]
struct Route {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// What the server counted since it started.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Method -> route pattern -> counts (nested, so counting a request allocates only
    /// on the first request of its route).
    routes: Mutex<BTreeMap<&'static str, BTreeMap<String, Route>>>,
    changes: Mutex<(Histogram, Histogram)>,
}

impl Metrics {
    /// Counts a request of `method` on the route `pattern` answered with `status`;
    /// methods HTTP does not define count as `OTHER` (a client inventing methods does
    /// not grow the table).
    pub fn request(&self, method: &str, pattern: &str, status: u16, took: Duration) {
        const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"];
        let method = KNOWN.into_iter().find(|m| *m == method).unwrap_or("OTHER");
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let patterns = routes.entry(method).or_default();
        if !patterns.contains_key(pattern) {
            patterns.insert(pattern.to_owned(), Route::default());
        }
        let Some(route) = patterns.get_mut(pattern) else {
            return;
        };
        *route.statuses.entry(status).or_default() += 1;
        route.latency.observe(took.as_secs_f64());
    }

    /// Counts a committed change set's dissolve and commit times.
    pub fn change(&self, timings: &Timings) {
        let mut changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
        changes.0.observe(timings.dissolve.as_secs_f64());
        changes.1.observe(timings.commit.as_secs_f64());
    }

    /// The Prometheus text exposition of these counts and of `state` now.
    pub fn render(&self, state: &AppState) -> String {
        let mut out = String::new();
        let head = |out: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        {
            let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
            head(
                &mut out,
                "geoalign_http_requests_total",
                "counter",
                "HTTP requests by method, route pattern and status.",
            );
            let each = || {
                routes
                    .iter()
                    .flat_map(|(m, p)| p.iter().map(move |(route, r)| (m, route, r)))
            };
            for (method, route, r) in each() {
                for (status, n) in &r.statuses {
                    let _ = writeln!(
                        out,
                        "geoalign_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                        label(route)
                    );
                }
            }
            head(
                &mut out,
                "geoalign_http_request_duration_seconds",
                "histogram",
                "HTTP request latency by method and route pattern.",
            );
            for (method, route, r) in each() {
                let labels = format!("method=\"{method}\",route=\"{}\"", label(route));
                r.latency
                    .write(&mut out, "geoalign_http_request_duration_seconds", &labels);
            }
        }
        let cache = state.tiles.cache();
        let (hits, misses) = cache.lookups();
        head(
            &mut out,
            "geoalign_tile_cache_lookups_total",
            "counter",
            "Tile cache lookups by result.",
        );
        let _ = writeln!(out, "geoalign_tile_cache_lookups_total{{result=\"hit\"}} {hits}");
        let _ = writeln!(
            out,
            "geoalign_tile_cache_lookups_total{{result=\"miss\"}} {misses}"
        );
        head(
            &mut out,
            "geoalign_tile_cache_hit_ratio",
            "gauge",
            "Hits over lookups of the tile cache since start.",
        );
        let ratio = if hits + misses == 0 {
            0.0
        } else {
            hits as f64 / (hits + misses) as f64
        };
        let _ = writeln!(out, "geoalign_tile_cache_hit_ratio {ratio}");
        head(
            &mut out,
            "geoalign_tile_cache_bytes",
            "gauge",
            "Bytes held by the tile cache.",
        );
        let _ = writeln!(out, "geoalign_tile_cache_bytes {}", cache.bytes());
        head(
            &mut out,
            "geoalign_tile_cache_budget_bytes",
            "gauge",
            "Size bound of the tile cache.",
        );
        let _ = writeln!(out, "geoalign_tile_cache_budget_bytes {}", cache.budget());
        head(
            &mut out,
            "geoalign_snapshot_revision",
            "gauge",
            "Revision of each alignment in memory.",
        );
        for (alignment, revision) in state.engine.loaded() {
            let _ = writeln!(
                out,
                "geoalign_snapshot_revision{{alignment=\"{}\"}} {revision}",
                label(&alignment)
            );
        }
        {
            let changes = self.changes.lock().unwrap_or_else(PoisonError::into_inner);
            head(
                &mut out,
                "geoalign_dissolve_seconds",
                "histogram",
                "Building the next snapshot of a change set (apply, dissolve, metrics).",
            );
            changes.0.write(&mut out, "geoalign_dissolve_seconds", "");
            head(
                &mut out,
                "geoalign_commit_seconds",
                "histogram",
                "The store's write transaction of a change set (fsync included).",
            );
            changes.1.write(&mut out, "geoalign_commit_seconds", "");
        }
        if let Some(rss) = resident_bytes() {
            head(
                &mut out,
                "geoalign_process_resident_memory_bytes",
                "gauge",
                "Resident set size (/proc/self/statm).",
            );
            let _ = writeln!(out, "geoalign_process_resident_memory_bytes {rss}");
        }
        out
    }
}

/// A label value escaped as the text format wants (`\`, `"`, newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Resident set size: pages of `/proc/self/statm` times the page size (from
/// `/proc/self/smaps_rollup`'s kernel page size, 4 KiB when absent).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    static PAGE: OnceLock<u64> = OnceLock::new();
    let page = *PAGE.get_or_init(|| {
        std::fs::read_to_string("/proc/self/smaps")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("KernelPageSize:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map_or(4096, |kb| kb * 1024)
    });
    Some(pages * page)
}

/// The request id of a request: its `X-Request-Id` when 1-64 characters of letters,
/// digits and `-_.:`, else a new one (process-random prefix and a counter).
pub fn request_id(incoming: Option<&HeaderValue>) -> String {
    if let Some(id) = incoming.and_then(|v| v.to_str().ok())
        && (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    {
        return id.to_owned();
    }
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| getrandom::u32().unwrap_or(std::process::id()));
    format!("{prefix:08x}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The middleware of every request (`App::wrap_fn(observe)`): runs it in a span
/// carrying its request id, sets `X-Request-Id` on the response, counts it under its
/// route pattern and logs it.
pub fn observe<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    let id = request_id(req.headers().get(REQUEST_ID));
    let started = Instant::now();
    let span = tracing::info_span!("request", id = %id);
    let fut = span.in_scope(|| srv.call(req));
    async move {
        let mut res = fut.await?;
        let took = started.elapsed();
        if let Ok(value) = HeaderValue::from_str(&id) {
            res.headers_mut()
                .insert(HeaderName::from_static(REQUEST_ID), value);
        }
        let request = res.request();
        let pattern = request.match_pattern();
        let pattern = pattern.as_deref().unwrap_or("(no route)");
        let status = res.status().as_u16();
        if let Some(state) = request.app_data::<web::Data<AppState>>() {
            state
                .metrics
                .request(request.method().as_str(), pattern, status, took);
        }
        tracing::info!(
            method = %request.method(),
            path = ?request.path(),
            status,
            micros = took.as_micros() as u64,
            "request"
        );
        Ok(res)
    }
    .instrument(span)
}

/// The Prometheus metrics of this server.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String,
        content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(_: Viewer, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(&state))
}

/// Body of `GET /ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready` or `not ready`.
    pub status: &'static str,
    /// Whether the store takes writes now.
    pub store_writable: bool,
    /// Why it does not, if it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_error: Option<String>,
    /// Alignments in the store.
    pub alignments: usize,
    /// Of those, alignments whose snapshot is in memory.
    pub loaded: usize,
}

/// Readiness: the store takes writes and every alignment's snapshot is loaded (503 otherwise).
#[utoipa::path(get, path = "/ready", operation_id = "ready", tag = "system",
    responses((status = 200, description = "Ready", body = Ready),
        (status = 503, description = "Not ready", body = Ready)))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let (writable, alignments) = blocking(move || {
        let writable = store.check_writable();
        store.alignments().map(|a| (writable, a))
    })
    .await?;
    let loaded: Vec<String> = state.engine.loaded().into_iter().map(|(name, _)| name).collect();
    let loaded = alignments.iter().filter(|a| loaded.contains(&a.name)).count();
    let ok = writable.is_ok() && loaded == alignments.len();
    let body = Ready {
        status: if ok { "ready" } else { "not ready" },
        store_writable: writable.is_ok(),
        store_error: writable.err().map(|e| e.to_string()),
        alignments: alignments.len(),
        loaded,
    };
    Ok(if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    })
}

/// Loads every alignment of the store into memory on a thread of its own, so that
/// `/ready` turns 200 once they are (a server's first requests then find them loaded).
pub fn preload(state: &AppState) -> std::io::Result<()> {
    let engine = state.engine.clone();
    std::thread::Builder::new()
        .name("preload".into())
        .spawn(move || {
            let started = Instant::now();
            let names = match engine.store().alignments() {
                Ok(all) => all,
                Err(e) => {
                    tracing::warn!(error = %e, "preload: cannot list alignments");
                    return;
                }
            };
            for a in &names {
                if let Err(e) = engine.snapshot(&a.name) {
                    tracing::warn!(alignment = ?a.name, error = %e, "preload failed");
                }
            }
            tracing::info!(
                alignments = names.len(),
                ms = started.elapsed().as_millis() as u64,
                "alignments loaded"
            );
        })
        .map(|_| ())
}

//! `GET /api/alignments/{a}/export/{level}.{fgb|geojson|gpkg|csv}`: an alignment level
//! as a file for GIS tools. Each (alignment, revision, level, format) is written once
//! to a cache file on disk and streamed from there in chunks, so a large export is never
//! held whole in memory. Byte ranges (`Range`, 206, 416, `Accept-Ranges`) and an ETag
//! tied to the revision let GDAL's `/vsicurl/` and flatgeobuf's HTTP client read only
//! the index and the features of a bbox.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, route, web};
use bytes::Bytes;

use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking, snapshot};
use crate::export::{ExportError, Format, Layer, Level, export_file};
use crate::snapshot::Snapshot;

/// Bytes read from the cache file per streamed chunk.
const CHUNK: usize = 1024 * 1024;

/// Registers the export route (before the alignments' `{collection}` routes).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(export);
}

/// Prefix of the export cache folders in the temporary directory.
const CACHE_PREFIX: &str = "geoalign-exports-";

/// Folder of the export cache (one per server process: revisions are per store).
/// On first use, the folders of processes that are gone are removed.
fn cache_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        remove_stale_caches();
        std::env::temp_dir().join(format!("{CACHE_PREFIX}{}", std::process::id()))
    })
}

/// Removes cache folders whose process no longer runs (where `/proc` tells).
fn remove_stale_caches() {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(CACHE_PREFIX)
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => tracing::info!(dir = %entry.path().display(), "removed a stale export cache"),
                Err(e) => {
                    tracing::warn!(dir = %entry.path().display(), error = %e, "cannot remove a stale export cache")
                }
            }
        }
    }
}

/// The cache key of an alignment instance: a SHA-256 of its instance stamp and name
/// (hex, 128 bits), so that no two alignments share a key however their names are
/// spelt (`x.y`, `x y`), nor two instances of one name, nor alignments of two stores.
fn cache_key(s: &Snapshot) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::new()
        .chain_update(s.instance.to_le_bytes())
        .chain_update(s.alignment.as_bytes())
        .finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A download file name for an alignment: ASCII letters, digits, `-` and `_`, others as
/// `~`, at most 64 characters (a name for the user's disk, never a cache key).
fn download_name(name: &str) -> String {
    name.chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '~'
            }
        })
        .collect()
}

/// The ETag of an export: alignment instance, revision, level, format.
pub fn etag(s: &Snapshot, level: Level, format: Format) -> String {
    format!(
        "\"{}-r{}-{}.{}\"",
        cache_key(s),
        s.revision,
        level.name(s),
        format.extension()
    )
}

/// Writes (once) and returns the cache file of an export.
pub fn cached_file(s: &Snapshot, level: Level, format: Format) -> Result<PathBuf, ExportError> {
    let io = |target: &Path| {
        let target = target.display().to_string();
        move |source| ExportError::Io {
            format: format.extension(),
            target,
            source,
        }
    };
    let dir = cache_dir().join(cache_key(s));
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let stem = format!("{}.{}", level.name(s), format.extension());
    let path = dir.join(format!("r{}-{stem}", s.revision));
    if path.exists() {
        return Ok(path);
    }
    let started = std::time::Instant::now();
    let part = dir.join(format!(
        "part-{}-{:?}-{stem}",
        std::process::id(),
        std::thread::current().id()
    ));
    let layer = Layer::new(s, level);
    export_file(&layer, format, &part, &|_| {})?;
    std::fs::rename(&part, &path).map_err(io(&path))?;
    tracing::info!(
        alignment = %s.alignment,
        revision = s.revision,
        file = %stem,
        features = layer.len(),
        ms = started.elapsed().as_millis() as u64,
        "export written"
    );
    // Older revisions of the same export are no longer served.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(rest) = name.strip_prefix('r')
                && let Some((revision, other)) = rest.split_once('-')
                && other == stem
                && revision.parse::<i64>().is_ok_and(|r| r < s.revision)
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(path)
}

/// Parses a `Range` header against a file of `length` bytes: the inclusive byte
/// range to send (several ranges are coalesced into the one covering them all).
pub fn parse_range(value: &str, length: u64) -> Result<(u64, u64), ApiError> {
    let bad = |reason: &str| ApiError::RangeNotSatisfiable {
        length,
        reason: format!("'{value}': {reason}"),
    };
    let specs = value
        .trim()
        .strip_prefix("bytes=")
        .ok_or_else(|| bad("only byte ranges (bytes=first-last) are served"))?;
    let mut covering: Option<(u64, u64)> = None;
    for spec in specs.split(',') {
        let (first, last) = spec
            .trim()
            .split_once('-')
            .ok_or_else(|| bad("expected first-last, first- or -suffix"))?;
        let number = |t: &str| t.trim().parse::<u64>().map_err(|_| bad("not a byte position"));
        let (start, end) = match (first.trim().is_empty(), last.trim().is_empty()) {
            (true, true) => return Err(bad("empty range")),
            (true, false) => {
                let suffix = number(last)?;
                if suffix == 0 || length == 0 {
                    return Err(bad("empty suffix"));
                }
                (length.saturating_sub(suffix), length - 1)
            }
            (false, true) => (number(first)?, length.saturating_sub(1)),
            (false, false) => {
                let (a, b) = (number(first)?, number(last)?);
                if b < a {
                    return Err(bad("last byte before first"));
                }
                (a, b.min(length.saturating_sub(1)))
            }
        };
        if start >= length {
            return Err(bad("starts past the end"));
        }
        covering = Some(match covering {
            None => (start, end),
            Some((a, b)) => (a.min(start), b.max(end)),
        });
    }
    covering.ok_or_else(|| bad("no range"))
}

/// Streams `count` bytes of `path` from `start`, one chunk per blocking read.
fn stream(
    path: PathBuf,
    start: u64,
    count: u64,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    futures_util::stream::unfold(
        (Some(path), None::<std::fs::File>, start, count),
        |(path, file, offset, left)| async move {
            if left == 0 {
                return None;
            }
            let want = left.min(CHUNK as u64) as usize;
            let read = web::block(move || -> std::io::Result<(std::fs::File, Vec<u8>)> {
                let mut file = match file {
                    Some(f) => f,
                    None => {
                        let mut f = std::fs::File::open(path.as_deref().unwrap_or(Path::new("")))?;
                        f.seek(SeekFrom::Start(offset))?;
                        f
                    }
                };
                let mut buf = vec![0; want];
                file.read_exact(&mut buf)?;
                Ok((file, buf))
            })
            .await;
            match read {
                Ok(Ok((file, buf))) => {
                    let n = buf.len() as u64;
                    Some((Ok(Bytes::from(buf)), (None, Some(file), offset + n, left - n)))
                }
                Ok(Err(e)) => Some((
                    Err(actix_web::error::ErrorInternalServerError(e)),
                    (None, None, offset, 0),
                )),
                Err(e) => Some((
                    Err(actix_web::error::ErrorInternalServerError(e)),
                    (None, None, offset, 0),
                )),
            }
        },
    )
}

/// Whether an `If-None-Match` / `If-Range` value names `tag`.
fn matches(value: Option<&header::HeaderValue>, tag: &str) -> bool {
    value.and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim() == "*" || t.trim().trim_start_matches("W/") == tag)
    })
}

/// An alignment level as a GIS file.
///
/// `{level}.{format}`: level `unit` or a level of the alignment (singular or plural); format
/// `fgb` (FlatGeobuf with a packed Hilbert R-tree, EPSG:4326), `geojson` (RFC 7946), `gpkg`
/// (GeoPackage) or `csv`. Streamed; single byte ranges are honoured (`Range`, 206, 416,
/// `Accept-Ranges: bytes`) and the ETag is tied to the revision, so GDAL's /vsicurl/ reads
/// only the index and the features of a bbox. HEAD is supported.
#[utoipa::path(method(get, head), path = "/api/alignments/{alignment}/export/{file}", operation_id = "export",
    tag = "exports",
    params(super::body::AlignmentPath,
        ("file" = String, Path, description = "`{level}.{fgb|geojson|gpkg|csv}`, e.g. `territory.fgb`"),
        ("Range" = Option<String>, Header, description = "Byte range, e.g. `bytes=0-16383`"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag seen before: 304 when unchanged")),
    responses((status = 200, description = "The whole file", content(
            (Vec<u8> = "application/flatgeobuf"), (Object = "application/geo+json"),
            (Vec<u8> = "application/geopackage+sqlite3"), (String = "text/csv"))),
        (status = 206, description = "The requested byte range (Content-Range)"),
        (status = 304, description = "Not modified (If-None-Match matched the ETag)"),
        (status = 404, response = ProblemResponse), (status = 416, response = ProblemResponse)))]
#[route("/api/alignments/{alignment}/export/{file}", method = "GET", method = "HEAD")]
pub async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, file) = path.into_inner();
    let (level_name, extension) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::NotFound(format!("'{file}': expected {{level}}.{{fgb|geojson|gpkg|csv}}"))
    })?;
    let format: Format = extension.parse()?;
    let s = snapshot(&state, alignment).await?;
    let level = Level::parse(&s, level_name)?;
    let tag = etag(&s, level, format);
    let cache = s.clone();
    let path = blocking(move || cached_file(&cache, level, format)).await?;
    let length = std::fs::metadata(&path)
        .map_err(|source| ExportError::Io {
            format: format.extension(),
            target: path.display().to_string(),
            source,
        })?
        .len();
    let headers = req.headers();
    let disposition = format!(
        "attachment; filename=\"{}_{}.{}\"",
        download_name(&s.alignment),
        level.name(&s),
        format.extension()
    );
    if matches(headers.get(header::IF_NONE_MATCH), &tag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((header::ACCEPT_RANGES, "bytes"))
            .finish());
    }
    let range = match headers.get(header::RANGE).map(|v| v.to_str()) {
        None => None,
        Some(Err(_)) => {
            return Err(ApiError::RangeNotSatisfiable {
                length,
                reason: "the Range header is not ASCII".into(),
            });
        }
        Some(Ok(value)) => {
            let stale =
                headers.get(header::IF_RANGE).is_some() && !matches(headers.get(header::IF_RANGE), &tag);
            if stale {
                None
            } else {
                Some(parse_range(value, length)?)
            }
        }
    };
    let mut response = match range {
        Some(_) => HttpResponse::PartialContent(),
        None => HttpResponse::Ok(),
    };
    response
        .content_type(format.media_type())
        .insert_header((header::ETAG, tag))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header(("X-Revision", s.revision.to_string()));
    let (start, count) = match range {
        Some((a, b)) => {
            response.insert_header((header::CONTENT_RANGE, format!("bytes {a}-{b}/{length}")));
            (a, b - a + 1)
        }
        None => (0, length),
    };
    response.no_chunking(count);
    Ok(response.streaming(stream(path, start, count)))
}

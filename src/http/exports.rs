//! `GET /api/alignments/{a}/export/{level}.{fgb|geojson|gpkg|csv|csvt}`: an alignment level
//! as a file for GIS tools. Each (alignment, revision, level, format) is written once
//! to a cache file on disk ([`crate::export::cache::ExportCache`]) and streamed from
//! there in chunks, so a large export is never held whole in memory. Byte ranges
//! (`Range`, 206, 416, `Accept-Ranges`) and an ETag tied to the revision let GDAL's
//! `/vsicurl/` and flatgeobuf's HTTP client read only the index and the features of a
//! bbox.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, route, web};
use bytes::Bytes;

use super::auth::Viewer;
use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking, snapshot};
use crate::export::cache::CachedExport;
use crate::export::{Format, Level};

/// Bytes read from the cache file per streamed chunk.
const CHUNK: usize = 1024 * 1024;

/// Registers the export route (before the alignments' `{collection}` routes).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(export);
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

/// Parses a `Range` header against a file of `length` bytes: the inclusive byte
/// range to send (several ranges are coalesced into the one covering them all). The
/// syntax is checked by `http-range-header` (byte ranges only, RFC 9110); a range
/// starting past the end, or an empty suffix, is not satisfiable.
pub fn parse_range(value: &str, length: u64) -> Result<(u64, u64), ApiError> {
    use http_range_header::SyntacticallyCorrectRange as Spec;
    let bad = |reason: &str| ApiError::RangeNotSatisfiable {
        length,
        reason: format!("'{value}': {reason}"),
    };
    let ranges = http_range_header::parse_range_header(value.trim()).map_err(|e| bad(&e.to_string()))?;
    let last = length.saturating_sub(1);
    let mut covering: Option<(u64, u64)> = None;
    for spec in ranges.into_ranges() {
        let (start, end) = match spec {
            Spec::FromLast(0) => return Err(bad("empty suffix")),
            Spec::FromLast(suffix) => (length.saturating_sub(suffix), last),
            Spec::FromStart(first) => (first, last),
            Spec::Indexed(first, end) => (first, end.min(last)),
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
        ("file" = String, Path, description = "`{level}.{fgb|geojson|gpkg|csv|csvt}`, e.g. `territory.fgb`"),
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
    _: Viewer,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (alignment, file) = path.into_inner();
    let (level_name, extension) = file.rsplit_once('.').ok_or_else(|| {
        ApiError::NotFound(format!(
            "'{file}': expected {{level}}.{{fgb|geojson|gpkg|csv|csvt}}"
        ))
    })?;
    let format: Format = extension.parse()?;
    let s = snapshot(&state, alignment).await?;
    let level = Level::parse(&s, level_name)?;
    let exports = state.exports.clone();
    let cache = s.clone();
    let CachedExport {
        path,
        length,
        etag: tag,
    } = blocking(move || exports.file(&cache, level, format)).await?;
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
        // A range unit other than bytes is ignored (RFC 9110 §14.2): the whole file.
        Some(Ok(value)) if !value.trim_start().to_ascii_lowercase().starts_with("bytes=") => None,
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

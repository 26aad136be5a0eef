//! Cross-origin reads (CORS) for browser GIS clients on other sites, as one middleware
//! ([`cors`]) wrapped outside every other one, so a preflight is answered before any
//! authentication would run:
//! - read requests (`GET`, `HEAD`, `OPTIONS`, and the `POST`s of batch lookups, which
//!   change nothing: [`READ_POSTS`]), answered or not (a tile 404 too), carry
//!   `Access-Control-Allow-Origin` for an allowed origin and expose the headers range
//!   readers and caches need ([`EXPOSED`]); with a list of origins (not `*`) every
//!   answer says `Vary: Origin`, allowed or not, so a cache keeps them apart;
//! - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) on a
//!   documented path is answered here: 204 for a read method (or a write method when the
//!   `cors_writes` setting allows it), else 403;
//! - state-changing requests get no CORS headers unless `cors_writes` is set.
//!
//! Allowed origins are the `cors_origins` setting (`*` by default).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError, web};

use super::{ApiError, AppState, methods};

/// Response headers a cross-origin script may read.
pub const EXPOSED: &str =
    "Content-Range, Accept-Ranges, ETag, Content-Length, Content-Crs, Link, Geoalign-Revision, X-Revision";

/// The `POST` routes that only read (batch lookups): other sites may call them as they
/// read.
pub const READ_POSTS: [&str; 2] = ["/api/lookup", "/api/geocode"];

/// Which origins may use the API from another site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsPolicy {
    /// `*`: any origin.
    any: bool,
    /// Allowed origins (`scheme://host[:port]`, compared case-insensitively).
    origins: Vec<String>,
    /// Whether allowed origins may send state-changing requests too.
    writes: bool,
}

impl Default for CorsPolicy {
    fn default() -> CorsPolicy {
        CorsPolicy::new("*", false)
    }
}

impl CorsPolicy {
    /// The policy of the `cors_origins` list (`*` or comma-separated origins) and the
    /// `cors_writes` switch.
    pub fn new(origins: &str, writes: bool) -> CorsPolicy {
        let list: Vec<String> = origins
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        CorsPolicy {
            any: list.iter().any(|o| o == "*"),
            origins: list.into_iter().filter(|o| o != "*").collect(),
            writes,
        }
    }

    /// Whether `origin` may read.
    pub fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    /// Whether `origin` may send state-changing requests.
    pub fn allows_writes(&self, origin: &str) -> bool {
        self.writes && self.allows(origin)
    }

    /// `Access-Control-Allow-Origin` for a request of `method` on `path` from `origin`
    /// (`None`: no CORS).
    fn allow_origin(&self, method: &Method, path: &str, origin: Option<&str>) -> Option<String> {
        if is_read(method, path) {
            if self.any {
                return Some("*".into());
            }
            return origin.filter(|o| self.allows(o)).map(str::to_owned);
        }
        origin.filter(|o| self.allows_writes(o)).map(str::to_owned)
    }
}

fn is_read(method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || (*method == Method::POST && READ_POSTS.contains(&methods::normalised(path)))
}

/// Adds `token` to the response's `Vary` unless it lists it already.
pub fn vary(headers: &mut header::HeaderMap, token: &'static str) {
    let listed = headers
        .get_all(header::VARY)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token));
    if !listed {
        headers.append(header::VARY, HeaderValue::from_static(token));
    }
}

/// The preflight answer for `req`, or `None` when it is no preflight of a documented path.
fn preflight(req: &ServiceRequest, policy: &CorsPolicy) -> Option<HttpResponse> {
    let text = |name: header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
    if req.method() != Method::OPTIONS {
        return None;
    }
    let origin = text(header::ORIGIN)?;
    let requested: Method = text(header::ACCESS_CONTROL_REQUEST_METHOD)?.trim().parse().ok()?;
    let allowed = methods::allowed(req.path());
    if allowed.is_empty() {
        return None;
    }
    let path = req.path();
    let grant = allowed.contains(&requested)
        && if is_read(&requested, path) {
            policy.allows(origin)
        } else {
            policy.allows_writes(origin)
        };
    if !grant {
        let mut refused = ApiError::CrossSite(format!(
            "CORS preflight: {requested} from {origin} is not allowed on {path}"
        ))
        .error_response();
        vary(refused.headers_mut(), "Origin");
        return Some(refused);
    }
    let methods: Vec<String> = allowed
        .iter()
        .filter(|m| is_read(m, path) || policy.writes)
        .map(ToString::to_string)
        .collect();
    let allow_origin = policy
        .allow_origin(&requested, path, Some(origin))
        .unwrap_or_default();
    let mut answer = HttpResponse::NoContent();
    answer
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin))
        .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, methods.join(", ")))
        .insert_header((
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            text(header::ACCESS_CONTROL_REQUEST_HEADERS).unwrap_or("*"),
        ))
        .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
        .insert_header((header::VARY, "Origin"));
    Some(answer.finish())
}

/// The middleware (see the module documentation).
pub async fn cors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let policy = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.cors.clone())
        .unwrap_or_default();
    if let Some(answer) = preflight(&req, &policy) {
        return Ok(req.into_response(answer));
    }
    // Decided from the request alone, before it is handed on (no copies of its parts).
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let grant = policy.allow_origin(req.method(), req.path(), origin);
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    if !policy.any {
        vary(headers, "Origin");
    }
    match grant {
        Some(allow) => {
            if let Ok(value) = HeaderValue::from_str(&allow) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
                headers.insert(
                    header::ACCESS_CONTROL_EXPOSE_HEADERS,
                    HeaderValue::from_static(EXPOSED),
                );
            }
        }
        None => {
            headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
            headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
        }
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_matched_and_writes_need_the_switch() {
        let any = CorsPolicy::default();
        assert_eq!(any.allow_origin(&Method::GET, "/ogc", None).as_deref(), Some("*"));
        let a = Some("https://a.example");
        assert_eq!(any.allow_origin(&Method::POST, "/api/alignments", a), None);
        assert_eq!(
            any.allow_origin(&Method::POST, "/api/lookup/", a).as_deref(),
            Some("*")
        );
        let listed = CorsPolicy::new("https://a.example, http://localhost:3000/", true);
        assert_eq!(
            listed
                .allow_origin(&Method::GET, "/ogc", Some("HTTPS://a.example"))
                .as_deref(),
            Some("HTTPS://a.example")
        );
        assert_eq!(
            listed.allow_origin(&Method::GET, "/ogc", Some("https://b.example")),
            None
        );
        assert!(listed.allows_writes("http://localhost:3000"));
        assert!(!CorsPolicy::new("https://a.example", false).allows_writes("https://a.example"));
    }
}

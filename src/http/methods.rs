//! HTTP method semantics around the routes (RFC 9110), as one middleware ([`methods`]):
//! - a trailing slash is dropped before routing (`/ogc/` is `/ogc`);
//! - `HEAD` on a route that only registers `GET` is answered by the `GET` handler (the
//!   server sends its headers without the body; an event stream's body is dropped here);
//! - a request body must keep arriving ([`super::deadline`]);
//! - a method the resource does not answer gets 405 with `Allow` and a problem body,
//!   instead of actix's bare 405 or the 404 of the fallback service;
//! - `OPTIONS` on a documented path answers 204 with `Allow` (every path lists it).
//!
//! What each path answers is read once from the OpenAPI document ([`allowed`]), which
//! `tests/it/openapi.rs` checks lists every registered route.

use std::sync::OnceLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, Uri};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, ResponseError};

use super::ApiError;

/// One documented path: its pattern and the methods it answers.
struct Route {
    pattern: ResourceDef,
    methods: Vec<Method>,
    /// Whether the route registers HEAD itself (else the GET handler answers it).
    own_head: bool,
    /// Whether the route registers OPTIONS itself (else this middleware answers it).
    own_options: bool,
}

/// Every documented path, with `HEAD` wherever there is `GET`.
fn routes() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        let doc = super::openapi::generated();
        let Some(paths) = doc["paths"].as_object() else {
            return Vec::new();
        };
        paths
            .iter()
            .map(|(path, item)| {
                let mut methods: Vec<Method> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
                    .into_iter()
                    .filter(|m| item.get(m.to_ascii_lowercase()).is_some())
                    .filter_map(|m| m.parse().ok())
                    .collect();
                let own_head = methods.contains(&Method::HEAD);
                if methods.contains(&Method::GET) && !own_head {
                    methods.insert(1, Method::HEAD);
                }
                let own_options = methods.contains(&Method::OPTIONS);
                if !own_options {
                    methods.push(Method::OPTIONS);
                }
                // `{path}` of the viewer's files spans segments.
                let pattern = path.replace("/{path}", "/{path:.*}");
                Route {
                    pattern: ResourceDef::new(pattern),
                    methods,
                    own_head,
                    own_options,
                }
            })
            .collect()
    })
}

/// The methods the resource at `path` answers (empty: no such resource), in the order
/// GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS.
pub fn allowed(path: &str) -> Vec<Method> {
    let path = normalised(path);
    ORDER
        .iter()
        .filter(|m| {
            routes()
                .iter()
                .any(|r| r.pattern.is_match(path) && r.methods.contains(m))
        })
        .cloned()
        .collect()
}

/// The order [`allowed`] lists methods in.
const ORDER: [Method; 7] = [
    Method::GET,
    Method::HEAD,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

/// `path` without its trailing slashes (`/` stays).
pub fn normalised(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() { "/" } else { trimmed }
}

/// Whether a route at `path` registers HEAD itself.
fn own_head(path: &str) -> bool {
    routes().iter().any(|r| r.own_head && r.pattern.is_match(path))
}

/// Whether a route at `path` registers OPTIONS itself.
fn own_options(path: &str) -> bool {
    routes().iter().any(|r| r.own_options && r.pattern.is_match(path))
}

/// `Allow` with `methods`.
fn allow_header(methods: &[Method]) -> (actix_web::http::header::HeaderName, String) {
    let list: Vec<String> = methods.iter().map(ToString::to_string).collect();
    (actix_web::http::header::ALLOW, list.join(", "))
}

/// The middleware: trailing slash, HEAD and 405 (see the module documentation).
pub async fn methods(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path();
    if path.len() > 1 && path.ends_with('/') {
        let uri = req.uri();
        let fixed = match uri.query() {
            Some(q) => format!("{}?{q}", normalised(path)),
            None => normalised(path).to_owned(),
        };
        if let Ok(fixed) = fixed.parse::<Uri>() {
            req.match_info_mut().get_mut().update(&fixed);
            req.head_mut().uri = fixed;
        }
    }
    let deadlines = req
        .app_data::<actix_web::web::Data<super::AppState>>()
        .map_or_else(super::deadline::BodyDeadlines::default, |s| s.body_deadlines);
    super::deadline::guard(&mut req, deadlines);
    let method = req.method().clone();
    if method == Method::OPTIONS && !own_options(req.path()) {
        // RFC 9110 §9.3.7: what the resource answers (a CORS preflight never gets here).
        let allow = allowed(req.path());
        if !allow.is_empty() {
            let answer = HttpResponse::NoContent()
                .insert_header(allow_header(&allow))
                .finish();
            return Ok(req.into_response(answer));
        }
    }
    let head = method == Method::HEAD;
    if head && !own_head(req.path()) {
        req.head_mut().method = Method::GET;
    }
    let path = req.path().to_owned();
    let res = next.call(req).await?;
    let unrouted = res.status() == StatusCode::METHOD_NOT_ALLOWED
        || res
            .response()
            .error()
            .and_then(|e| e.as_error::<ApiError>())
            .is_some_and(|e| matches!(e, ApiError::NoRoute(_)));
    if unrouted {
        let allow = allowed(&path);
        if !allow.is_empty() && !allow.contains(&method) {
            let error = ApiError::MethodNotAllowed {
                method: method.to_string(),
                path,
                allow: allow.iter().map(ToString::to_string).collect(),
            };
            let response = error.error_response();
            return Ok(res.into_response(response));
        }
    }
    let res = res.map_into_boxed_body();
    if head && matches!(res.response().body().size(), actix_web::body::BodySize::Stream) {
        // An unsized body (an event stream) would never end: headers only.
        return Ok(res.map_body(|_, _| BoxBody::new(())));
    }
    Ok(res)
}

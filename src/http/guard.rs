//! [`SameOrigin`]: the extractor every state-changing handler takes, so that a page of
//! another site cannot make a planner's browser change an alignment (CSRF). Together
//! with the JSON body those handlers require (a cross-site form cannot send
//! `application/json` without a CORS preflight, which this server does not grant), it
//! refuses:
//! - a request whose `Sec-Fetch-Site` is `cross-site` or `same-site` (browsers send it);
//! - a request whose `Origin` is `null` or names another host than the request's `Host`.
//!
//! Requests without either header (curl, scripts, the CLI's HTTP clients) pass, and so do
//! requests from an origin the `cors_origins` setting lists when `cors_writes` is set.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{HOST, HeaderMap, ORIGIN};
use actix_web::{FromRequest, HttpRequest};

use super::ApiError;

/// Proof that a request comes from the server's own origin (or from no browser).
#[derive(Debug, Clone, Copy)]
pub struct SameOrigin;

impl FromRequest for SameOrigin {
    type Error = ApiError;
    type Future = Ready<Result<SameOrigin, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let granted = request
            .app_data::<actix_web::web::Data<super::AppState>>()
            .zip(request.headers().get(ORIGIN).and_then(|o| o.to_str().ok()))
            .is_some_and(|(state, origin)| state.cors.allows_writes(origin));
        if granted {
            return ready(Ok(SameOrigin));
        }
        ready(check(request.headers()).map(|()| SameOrigin))
    }
}

fn check(headers: &HeaderMap) -> Result<(), ApiError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && (site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site"))
    {
        return Err(ApiError::CrossSite(format!("Sec-Fetch-Site is {site}")));
    }
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("(not text)");
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, text(HOST.as_str())) {
        (Some(from), Some(host)) if from.eq_ignore_ascii_case(host) => Ok(()),
        (_, host) => Err(ApiError::CrossSite(format!(
            "Origin {origin} is not this server ({})",
            host.unwrap_or("no Host header")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn scripts_and_same_origin_pages_pass() {
        assert!(check(&headers(&[])).is_ok());
        assert!(check(&headers(&[("host", "127.0.0.1:8080")])).is_ok());
        assert!(
            check(&headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]))
            .is_ok()
        );
        assert!(check(&headers(&[("sec-fetch-site", "same-origin"), ("host", "a:1")])).is_ok());
    }

    #[test]
    fn other_sites_are_refused() {
        let refused = |pairs: &[(&'static str, &'static str)]| check(&headers(pairs)).is_err();
        assert!(refused(&[("sec-fetch-site", "cross-site")]));
        assert!(refused(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example")
        ]));
        assert!(refused(&[("host", "127.0.0.1:8080"), ("origin", "null")]));
        assert!(refused(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:9999")
        ]));
        assert!(refused(&[("origin", "http://127.0.0.1:8080")]));
    }
}

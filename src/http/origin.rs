//! The origin clients reach the server at (`scheme://host[:port][/prefix]`), for the
//! absolute links of TileJSON, styles, OpenAPI and OGC API documents.
//!
//! A request's `Forwarded` and `X-Forwarded-*` headers are anybody's to write: copied
//! into a link, they would send a client (or a cache that keeps the document) to
//! `https://evil.example/...`. So the origin is, in this order: the `public_url` setting;
//! the forwarded headers of a request whose peer is a trusted proxy (`trusted_proxies`);
//! else the request's own `Host`, when it is a plain `host[:port]`, else the address the
//! server is bound to.

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::config::{Config, TrustedProxies, is_host};

/// How this server names its own origin (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicOrigin {
    url: Option<String>,
    proxies: TrustedProxies,
}

impl PublicOrigin {
    /// The origin rules of `config` (its values were checked when it was loaded; a list
    /// that does not parse trusts no one).
    pub fn new(config: &Config) -> PublicOrigin {
        PublicOrigin {
            url: config.public_url.clone(),
            proxies: TrustedProxies::parse(&config.trusted_proxies).unwrap_or_default(),
        }
    }

    /// The origin of the server as the client of `req` reaches it, without a trailing
    /// slash.
    pub fn of(&self, req: &HttpRequest) -> String {
        if let Some(url) = &self.url {
            return url.clone();
        }
        if req.peer_addr().is_some_and(|peer| self.proxies.trusts(peer.ip())) {
            let info = req.connection_info();
            let scheme = info.scheme();
            if matches!(scheme, "http" | "https") && is_host(info.host()) {
                return format!("{scheme}://{}", info.host());
            }
        }
        let scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .filter(|h| is_host(h))
            .unwrap_or_else(|| req.app_config().host());
        format!("{scheme}://{host}")
    }
}

/// The origin of `req` by the rules of the server's state (the defaults without one).
pub fn origin(req: &HttpRequest) -> String {
    match req.app_data::<actix_web::web::Data<super::AppState>>() {
        Some(state) => state.origin.of(req),
        None => PublicOrigin::default().of(req),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn hosts_are_plain_host_and_port() {
        for good in [
            "localhost",
            "localhost:8080",
            "10.0.0.1:80",
            "[::1]:8080",
            "[::1]",
            "a-b.example",
        ] {
            assert!(is_host(good), "{good}");
        }
        for bad in [
            "",
            "evil.example/x",
            "a b",
            "a@b",
            "a:b",
            "::1",
            "x:",
            "a:123456",
            "a\"b",
            "[zz]:1",
        ] {
            assert!(!is_host(bad), "{bad}");
        }
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let forwarded = |peer: &str| {
            TestRequest::default()
                .insert_header(("host", "geo.internal:8080"))
                .insert_header(("x-forwarded-host", "maps.example"))
                .insert_header(("x-forwarded-proto", "https"))
                .peer_addr(peer.parse().unwrap())
                .to_http_request()
        };
        let open = PublicOrigin::default();
        assert_eq!(open.of(&forwarded("10.0.0.5:4000")), "http://geo.internal:8080");
        let behind_proxy = PublicOrigin {
            url: None,
            proxies: TrustedProxies::parse("10.0.0.0/8").unwrap(),
        };
        assert_eq!(
            behind_proxy.of(&forwarded("10.0.0.5:4000")),
            "https://maps.example"
        );
        assert_eq!(
            behind_proxy.of(&forwarded("192.0.2.1:4000")),
            "http://geo.internal:8080"
        );
        let configured = PublicOrigin {
            url: Some("https://maps.example/geoalign".into()),
            proxies: TrustedProxies::default(),
        };
        assert_eq!(
            configured.of(&forwarded("10.0.0.5:4000")),
            "https://maps.example/geoalign"
        );
        let spoofed = TestRequest::default()
            .insert_header(("host", "evil.example/phish?"))
            .to_http_request();
        assert_eq!(open.of(&spoofed), "http://localhost:8080");
    }
}

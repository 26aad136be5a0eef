//! Who may do what: bearer tokens and roles, checked in one place ([`Access::check`]).
//!
//! A handler declares the role its route needs by the extractor it takes, next to the
//! route: [`Viewer`] (tiles, lookups, exports, reads), [`Editor`] (change sets, undo,
//! new alignments; a token may be limited to one alignment) or [`Admin`] (tokens).
//! Routes that take none are public: `/health`, `/ready`, the editor's static files
//! and glyphs, and CORS preflights (`OPTIONS`), which browsers send without
//! credentials.
//!
//! - No token in the store: the server is *open* (every request may do everything),
//!   unless it runs with `allow_anonymous_read`: then reads are open and writes 401.
//! - Once a token exists, every other request needs `Authorization: Bearer <token>`
//!   (or, for `EventSource` and download links that cannot send headers, an
//!   `access_token` query parameter): 401 with `WWW-Authenticate: Bearer` without one
//!   or with one the store does not know, 403 for a role or alignment it does not grant.
//!   With `allow_anonymous_read`, requests without a token still read.
//!
//! The tokens in force are read from the store at most once a second, so a token the
//! CLI creates or revokes takes effect in a running server within a second. Secrets
//! are never logged: only their SHA-256 is compared, and the log names the token's id.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ProblemResponse;
use super::{ApiError, AppState, blocking};
use crate::store::{Role, Store, TokenInfo, token_hash};

/// The documented paths that need no token (besides every `OPTIONS` preflight): the
/// OpenAPI document marks every other operation with the bearer scheme and its 401/403.
pub const PUBLIC_PATHS: [&str; 5] = [
    "/health",
    "/ready",
    "/",
    "/web/{path}",
    "/fonts/{fontstack}/{range}.pbf",
];

/// How long the tokens read from the store are trusted before they are read again.
const REFRESH: Duration = Duration::from_secs(1);

/// The access policy of a server and the tokens in force.
#[derive(Debug)]
pub struct Access {
    store: Arc<Store>,
    anonymous_read: bool,
    table: Mutex<Option<(Instant, Tokens)>>,
}

/// The tokens in force by the SHA-256 of their secrets.
type Tokens = Arc<HashMap<String, TokenInfo>>;

/// Who sent a request, once [`Access::check`] let it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No token exists and anonymous requests may do everything.
    Open,
    /// No token sent; anonymous reads are allowed.
    Anonymous,
    /// A token of the store.
    Token(TokenInfo),
}

impl Caller {
    /// The author of a change set: the token's name; without a token, what the
    /// client claims (a client-claimed author is ignored once a token speaks).
    pub fn author<'a>(&'a self, claimed: &'a str) -> &'a str {
        match self {
            Caller::Token(token) => &token.name,
            Caller::Open | Caller::Anonymous => claimed,
        }
    }

    /// The scope of the caller's `Idempotency-Key`s: the token id, empty without one.
    pub fn key_scope(&self) -> String {
        match self {
            Caller::Token(token) => format!("token:{}", token.id),
            Caller::Open | Caller::Anonymous => String::new(),
        }
    }
}

impl Access {
    /// The policy over `store`'s tokens; `anonymous_read`: requests without a token may read.
    pub fn new(store: Arc<Store>, anonymous_read: bool) -> Access {
        Access {
            store,
            anonymous_read,
            table: Mutex::new(None),
        }
    }

    /// Whether anonymous requests may read (the `allow_anonymous_read` setting).
    pub fn anonymous_read(&self) -> bool {
        self.anonymous_read
    }

    /// The tokens in force by hash, read from the store at most once per [`REFRESH`].
    fn tokens(&self) -> Result<Tokens, ApiError> {
        let mut table = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((read, tokens)) = table.as_ref()
            && read.elapsed() < REFRESH
        {
            return Ok(tokens.clone());
        }
        let tokens: Tokens = Arc::new(self.store.active_tokens()?.into_iter().collect());
        *table = Some((Instant::now(), tokens.clone()));
        Ok(tokens)
    }

    /// Forgets the tokens read, so that the next request reads them again (after this
    /// process created or revoked one).
    pub fn forget(&self) {
        *self.table.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Whether the server is open: no token in the store and no `allow_anonymous_read`.
    pub fn is_open(&self) -> Result<bool, ApiError> {
        Ok(!self.anonymous_read && self.tokens()?.is_empty())
    }

    /// Lets `request` through when its token (or the policy) grants `need`; an editor
    /// token limited to one alignment may change only the alignment named in the path.
    pub fn check(&self, request: &HttpRequest, need: Role) -> Result<Caller, ApiError> {
        let tokens = self.tokens()?;
        let open = tokens.is_empty() && !self.anonymous_read;
        let Some(secret) = presented(request) else {
            if open {
                return Ok(Caller::Open);
            }
            if self.anonymous_read && need == Role::Viewer {
                return Ok(Caller::Anonymous);
            }
            return Err(ApiError::Unauthorized {
                reason: format!("a token of role {need} is needed (Authorization: Bearer <token>)"),
                invalid_token: false,
            });
        };
        if open {
            // A token left over from another store is no reason to refuse.
            return Ok(Caller::Open);
        }
        let Some(token) = tokens.get(&token_hash(secret)) else {
            return Err(ApiError::Unauthorized {
                reason: "the token is not known or was revoked".into(),
                invalid_token: true,
            });
        };
        if token.role < need {
            tracing::info!(token = token.id, role = %token.role, need = %need, "refused: role");
            return Err(ApiError::Forbidden(format!(
                "token '{}' is a {} token; this needs {need}",
                token.name, token.role
            )));
        }
        if need == Role::Editor
            && token.role == Role::Editor
            && let Some(only) = &token.alignment
        {
            let named = request.match_info().get("alignment");
            if named != Some(only.as_str()) {
                tracing::info!(token = token.id, "refused: alignment");
                return Err(ApiError::Forbidden(format!(
                    "token '{}' may change alignment '{only}' only",
                    token.name
                )));
            }
        }
        Ok(Caller::Token(token.clone()))
    }
}

/// The token a request presents: `Authorization: Bearer <token>`, else the
/// `access_token` query parameter.
fn presented(request: &HttpRequest) -> Option<&str> {
    if let Some(value) = request.headers().get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme.eq_ignore_ascii_case("bearer").then(|| token.trim());
    }
    request
        .query_string()
        .split('&')
        .find_map(|pair| pair.strip_prefix("access_token="))
        .filter(|t| !t.is_empty())
}

fn check(request: &HttpRequest, need: Role) -> Result<Caller, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Worker("no server state".into()))?;
    state.access.check(request, need)
}

macro_rules! role_extractor {
    ($(#[$doc:meta])* $name:ident, $role:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(pub Caller);

        impl FromRequest for $name {
            type Error = ApiError;
            type Future = Ready<Result<$name, ApiError>>;

            fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready(check(request, $role).map($name))
            }
        }
    };
}

role_extractor!(
    /// A request that may read (tiles, lookups, exports, any GET of the API).
    Viewer,
    Role::Viewer
);
role_extractor!(
    /// A request that may change the alignment its path names (or any, and create ones).
    Editor,
    Role::Editor
);
role_extractor!(
    /// A request that may manage tokens and datasets.
    Admin,
    Role::Admin
);

/// Body of `GET /api/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// What the caller may do (`admin` on an open server).
    pub role: Role,
    /// The token's name (none without a token).
    pub name: Option<String>,
    /// The one alignment an editor token may change.
    pub alignment: Option<String>,
    /// True when no token exists and anyone may do everything.
    pub open: bool,
}

/// Who the request's token is: role, name, alignment (the editor hides its tools for viewers).
#[utoipa::path(get, path = "/api/me", operation_id = "me", tag = "system",
    responses((status = 200, description = "The caller", body = Me),
        (status = 401, response = ProblemResponse)))]
#[get("/api/me")]
pub async fn me(Viewer(caller): Viewer) -> HttpResponse {
    HttpResponse::Ok().json(match caller {
        Caller::Open => Me {
            role: Role::Admin,
            name: None,
            alignment: None,
            open: true,
        },
        Caller::Anonymous => Me {
            role: Role::Viewer,
            name: None,
            alignment: None,
            open: false,
        },
        Caller::Token(token) => Me {
            role: token.role,
            name: Some(token.name),
            alignment: token.alignment,
            open: false,
        },
    })
}

/// Body of `GET /api/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Every token, revoked ones too; never a secret.
    pub tokens: Vec<TokenInfo>,
}

/// Tokens of the store (admin only; secrets are shown once, by `geoalign token create`).
#[utoipa::path(get, path = "/api/tokens", operation_id = "listTokens", tag = "system",
    responses((status = 200, description = "Tokens", body = TokenList),
        (status = 401, response = ProblemResponse), (status = 403, response = ProblemResponse)))]
#[get("/api/tokens")]
pub async fn list_tokens(_: Admin, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let tokens = blocking(move || store.tokens()).await?;
    Ok(HttpResponse::Ok().json(TokenList { tokens }))
}

/// Whether `bind` (`host:port`) listens on loopback only (`127.0.0.0/8`, `::1`, `localhost`).
pub fn is_loopback(bind: &str) -> bool {
    if let Ok(addr) = bind.parse::<std::net::SocketAddr>() {
        return addr.ip().is_loopback();
    }
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    host.eq_ignore_ascii_case("localhost")
}

/// How a server starts, by its address, the tokens in the store and its settings: the
/// line it logs, or why it refuses to start (a non-loopback server with no token,
/// unless `anonymous_read`; `demo` always starts).
pub fn start_mode(bind: &str, tokens: usize, anonymous_read: bool, demo: bool) -> Result<String, String> {
    match (tokens, anonymous_read) {
        (0, false) if demo || is_loopback(bind) => Ok(format!(
            "no access token in the store: the server on {bind} is OPEN (anyone who reaches it \
             may read and change every alignment); `geoalign token create` closes it"
        )),
        (0, false) => Err(format!(
            "{bind} is not a loopback address and the store has no access token: refusing to \
             serve it open. Create one (`geoalign token create --role admin`) or pass \
             --allow-anonymous-read (reads open, writes refused)"
        )),
        (0, true) => Ok(format!(
            "no access token in the store: anyone may read on {bind}; writes are refused until \
             `geoalign token create` makes one"
        )),
        (n, read) => Ok(format!(
            "{n} access token(s): every request but /health, /ready and the editor's files needs \
             one{}",
            if read {
                ", reads excepted (allow_anonymous_read)"
            } else {
                ""
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses() {
        assert!(is_loopback("127.0.0.1:8080"));
        assert!(is_loopback("[::1]:8080"));
        assert!(is_loopback("localhost:8080"));
        assert!(!is_loopback("0.0.0.0:8080"));
        assert!(!is_loopback("[::]:8080"));
        assert!(!is_loopback("example.org:80"));
    }

    #[test]
    fn a_public_server_refuses_to_start_open() {
        assert!(start_mode("0.0.0.0:8080", 0, false, false).is_err());
        assert!(start_mode("0.0.0.0:8080", 0, true, false).is_ok());
        assert!(start_mode("0.0.0.0:8080", 1, false, false).is_ok());
        assert!(
            start_mode("0.0.0.0:8080", 0, false, true)
                .unwrap()
                .contains("OPEN")
        );
        assert!(
            start_mode("127.0.0.1:8080", 0, false, false)
                .unwrap()
                .contains("OPEN")
        );
    }
}

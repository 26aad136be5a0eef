//! [`Query`]: the query string as a typed struct, like `actix_web::web::Query`, but a
//! parameter that cannot be read is a 400 naming it and its value (`lon`: `'abc'`:
//! invalid float literal), not a bare "Query deserialize error".

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use super::ApiError;

/// A request's query parameters read into `T` (see the module documentation).
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Query<T>, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(request.query_string()).map(Query))
    }
}

/// Reads a query string into `T`; the error names the parameter at fault.
///
/// ```
/// #[derive(Debug, serde::Deserialize)]
/// struct Point { lon: f64, lat: f64 }
/// let p: Point = geoalign::http::query::parse("lon=-73.98&lat=40.75").unwrap();
/// assert_eq!(p.lon, -73.98);
/// let e = geoalign::http::query::parse::<Point>("lon=abc&lat=40.75").unwrap_err();
/// assert_eq!(e.to_string(), "invalid lon: 'abc': invalid float literal");
/// let e = geoalign::http::query::parse::<Point>("lon=1").unwrap_err();
/// assert_eq!(e.to_string(), "invalid lat: missing; this parameter is required");
/// ```
///
/// A struct with `#[serde(deny_unknown_fields)]` names the parameter it does not know
/// and those it does: `invalid limt: unknown parameter; expected `limit` or `before``.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = form_urlencoded::parse(query.as_bytes());
    serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(pairs)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let named = backticked(&message);
        if message.starts_with("unknown field") {
            let expected = message.split_once(", ").map_or("", |(_, rest)| rest);
            return ApiError::bad(named.unwrap_or(path), format!("unknown parameter; {expected}"));
        }
        if path != "." && path != "?" {
            let value = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| *k == path)
                .map(|(_, v)| v.into_owned());
            return match value {
                Some(v) => ApiError::bad(path, format!("'{v}': {message}")),
                None => ApiError::bad(path, message),
            };
        }
        match (named, message.starts_with("missing field")) {
            (Some(name), true) => ApiError::bad(name, "missing; this parameter is required"),
            (Some(name), false) => ApiError::bad(name, message),
            (None, _) => ApiError::bad("query", message),
        }
    })
}

/// The first name serde quotes in backticks (`missing field `lat``).
fn backticked(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

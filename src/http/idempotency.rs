//! `Idempotency-Key` on the state-changing POSTs (change sets, undo, new alignments):
//! the answer of a request sent with a key is stored with the change it made, in the
//! same write transaction, so a retry (after a lost answer, a timeout, a restart of the
//! server) gets the original status and body, `Idempotent-Replayed: true`, and makes no
//! new revision; the same key with another request is a 422. Keys are per token (per
//! caller without tokens) and kept for a day. A request that failed stored nothing:
//! its retry runs again.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;

use super::ApiError;
use crate::engine::Applied;
use crate::store::token_hash;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The response header of a stored answer sent again.
pub const REPLAYED: &str = "Idempotent-Replayed";
/// Longest key accepted.
pub const MAX_KEY_CHARS: usize = 255;

/// The `Idempotency-Key` request header, for the OpenAPI document.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// A key unique to this request (a UUID): a retry with the same key and body gets
    /// the original answer and changes nothing; with another body, 422.
    #[param(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
}

/// The `Idempotency-Key` of a request, if it sent one (1 to 255 visible ASCII characters).
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<IdempotencyKey, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(request).map(IdempotencyKey))
    }
}

fn parse(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = request.headers().get(HEADER) else {
        return Ok(None);
    };
    let bad = |why: &str| Err(ApiError::bad(HEADER, why));
    let Ok(key) = value.to_str() else {
        return bad("is not visible ASCII");
    };
    if key.is_empty() || key.len() > MAX_KEY_CHARS {
        return bad("must be 1 to 255 characters");
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return bad("must be visible ASCII characters without spaces");
    }
    Ok(Some(key.to_owned()))
}

impl IdempotencyKey {
    /// What a request asks, hashed: its method, path and body as the handler read it.
    pub fn fingerprint(request: &HttpRequest, body: &impl Serialize) -> String {
        let body = serde_json::to_string(body).unwrap_or_default();
        token_hash(&format!("{} {}\n{body}", request.method(), request.path()))
    }
}

/// The answer of a keyed or plain request: the stored answer when it repeats one,
/// else `status` with the body `render` makes.
pub fn respond<T>(applied: Applied<T>, status: StatusCode, render: impl Fn(&T) -> String) -> HttpResponse {
    match applied {
        Applied::Done(outcome) => HttpResponse::build(status)
            .insert_header(ContentType::json())
            .body(render(&outcome)),
        Applied::Replayed(answer) => {
            HttpResponse::build(StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK))
                .insert_header(ContentType::json())
                .insert_header((REPLAYED, "true"))
                .body(answer.body)
        }
    }
}

/// JSON of a response body (a `{}` if it could not be written, which our bodies cannot).
pub fn json(body: &impl Serialize) -> String {
    serde_json::to_string(body).unwrap_or_else(|_| "{}".into())
}

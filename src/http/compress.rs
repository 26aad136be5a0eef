//! Response compression by `Accept-Encoding` (br, gzip) for JSON bodies only: JSON,
//! GeoJSON, problem and OpenAPI documents. Tiles (already gzipped by the tile cache),
//! export files (whose byte ranges and length GIS clients rely on), event streams and
//! partial or empty responses are sent as they are, and so are bodies under
//! [`MIN_COMPRESSED_BYTES`]: compressing a 300-byte lookup answer more than doubled the
//! server's time per request and saved a few hundred bytes.

use actix_http::encoding::Encoder;
use actix_web::Error;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentEncoding, Encoding, Header, HeaderValue};
use actix_web::middleware::Next;

/// Bodies smaller than this are sent uncompressed (nginx's `gzip_min_length` idea; a
/// TCP segment holds ~1,400 bytes anyway).
pub const MIN_COMPRESSED_BYTES: u64 = 1024;

/// Whether a response of this content type is compressed.
fn compressible(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// The coding to send for this request: br, else gzip, else none.
fn negotiate(req: &ServiceRequest) -> Option<ContentEncoding> {
    let accept = header::AcceptEncoding::parse(req).ok()?;
    let supported = [
        Encoding::Known(ContentEncoding::Brotli),
        Encoding::Known(ContentEncoding::Gzip),
    ];
    match accept.negotiate(supported.iter())? {
        Encoding::Known(e @ (ContentEncoding::Brotli | ContentEncoding::Gzip)) => Some(e),
        _ => None,
    }
}

/// The middleware (see the module documentation).
pub async fn compress(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let coding = negotiate(&req);
    let res = next.call(req).await?;
    let mut res = res.map_into_boxed_body();
    let json = compressible(res.headers().get(header::CONTENT_TYPE));
    if json {
        super::cors::vary(res.headers_mut(), "Accept-Encoding");
    }
    let Some(coding) = coding else {
        return Ok(res);
    };
    let small = matches!(res.response().body().size(), BodySize::Sized(n) if n < MIN_COMPRESSED_BYTES);
    if !json
        || small
        || res.status() != StatusCode::OK
        || res.headers().contains_key(header::CONTENT_ENCODING)
    {
        return Ok(res);
    }
    // The encoded bytes differ from the identity ones: a strong tag becomes weak.
    let weak = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.starts_with("W/"))
        .and_then(|t| HeaderValue::from_str(&format!("W/{t}")).ok());
    if let Some(weak) = weak {
        res.headers_mut().insert(header::ETAG, weak);
    }
    Ok(res.map_body(|head, body| {
        let encoded = Encoder::response(coding, head, body);
        // The encoder names `accept-encoding` in `Vary` again: once is enough.
        let headers = head.headers_mut();
        let mut tokens: Vec<HeaderValue> = Vec::new();
        for value in headers.get_all(header::VARY) {
            if !tokens
                .iter()
                .any(|t| t.as_bytes().eq_ignore_ascii_case(value.as_bytes()))
            {
                tokens.push(value.clone());
            }
        }
        headers.remove(header::VARY);
        for token in tokens {
            headers.append(header::VARY, token);
        }
        BoxBody::new(encoded)
    }))
}

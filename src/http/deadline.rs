//! Request bodies that must keep arriving: a client that opens a request and then sends
//! its body slowly, or stops, would hold a worker's connection (and the memory of what
//! it sent) for good. [`guard`] wraps the body of every request that has one: a pause
//! longer than [`BodyDeadlines::idle`], or a body slower on average than
//! [`BodyDeadlines::min_rate`] once [`BodyDeadlines::grace`] has passed, ends the read
//! with a timed-out error, which the handlers answer as 408 (see [`is_timeout`]).

use std::io;
use std::time::Duration;

use actix_web::HttpMessage;
use actix_web::dev::{Payload, ServiceRequest};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::rt::time::{Instant, timeout};
use futures_util::StreamExt;

/// How long a request body may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDeadlines {
    /// Longest pause between two pieces of the body.
    pub idle: Duration,
    /// Time every body has before the average rate counts.
    pub grace: Duration,
    /// Slowest average rate after the grace, in bytes per second.
    pub min_rate: u64,
}

impl Default for BodyDeadlines {
    /// 10 s of silence at most; after 30 s, at least 64 KiB/s on average (a 128 MiB
    /// batch has 34 minutes).
    fn default() -> BodyDeadlines {
        BodyDeadlines {
            idle: Duration::from_secs(10),
            grace: Duration::from_secs(30),
            min_rate: 64 << 10,
        }
    }
}

impl BodyDeadlines {
    /// The time a body that has sent `received` bytes may have taken, in all.
    fn allowed(&self, received: u64) -> Duration {
        self.grace + Duration::from_secs_f64(received as f64 / self.min_rate.max(1) as f64)
    }
}

/// Wraps the body of `req` (when it has one) in the deadlines.
pub fn guard(req: &mut ServiceRequest, deadlines: BodyDeadlines) {
    let headers = req.headers();
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    if !has_body {
        return;
    }
    let start = Instant::now();
    let body = futures_util::stream::unfold(Some((req.take_payload(), 0u64)), move |state| async move {
        let (mut payload, received) = state?;
        let left = (start + deadlines.allowed(received)).saturating_duration_since(Instant::now());
        let wait = deadlines.idle.min(left);
        match timeout(wait, payload.next()).await {
            Ok(Some(Ok(chunk))) => {
                let received = received + chunk.len() as u64;
                Some((Ok(chunk), Some((payload, received))))
            }
            Ok(Some(Err(e))) => Some((Err(e), None)),
            Ok(None) => None,
            Err(_) => {
                let why = if wait < deadlines.idle {
                    format!(
                        "the body came slower than {} bytes/s after {} s ({received} bytes in {} s)",
                        deadlines.min_rate,
                        deadlines.grace.as_secs(),
                        start.elapsed().as_secs()
                    )
                } else {
                    format!(
                        "no part of the body came for {} s ({received} bytes read)",
                        deadlines.idle.as_secs_f64()
                    )
                };
                Some((
                    Err(PayloadError::Io(io::Error::new(io::ErrorKind::TimedOut, why))),
                    None,
                ))
            }
        }
    });
    req.set_payload(Payload::from(Box::pin(body) as actix_http::BoxedPayloadStream));
}

/// Whether a body read failed on a deadline of [`guard`] (answered 408).
pub fn is_timeout(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut)
}

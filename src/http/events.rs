//! `GET /api/alignments/{a}/events`: the live stream of an alignment's committed
//! changes as server-sent events, for editors that show each other's edits without
//! reloading. Every event carries the one [`Change`] the engine worked out at commit:
//!
//! ```text
//! event: hello            (first: the revision the stream starts at)
//! data: {"alignment":"nyc","revision":3}
//!
//! id: 4
//! event: change           (each commit: revision, touched codes per level, bbox, summary, author)
//! data: {"alignment":"nyc","revision":4,"previous_revision":3,"touched":{...},...}
//!
//! event: resync           (the client fell behind by more than the feed keeps: reload)
//! ```
//! A comment line is sent every 15 s so proxies keep the connection open.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Serialize;
use tokio::sync::broadcast;

use super::auth::Viewer;
use super::body::AlignmentPath;
use super::problem::ProblemResponse;
use super::{ApiError, AppState, snapshot};
use crate::change::Change;
use crate::engine::Engine;

/// Changes kept for slow readers; one further behind gets `resync`.
const FEED_CAPACITY: usize = 1024;
/// Interval of the keep-alive comment.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Every commit of an engine's alignments, fanned out to the event streams.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    sender: broadcast::Sender<Arc<Change>>,
}

impl ChangeFeed {
    /// A feed of `engine`'s commits (registered as a commit hook; sending never blocks).
    pub fn attached(engine: &Engine) -> ChangeFeed {
        let (sender, _) = broadcast::channel(FEED_CAPACITY);
        let feed = ChangeFeed { sender };
        let hook = feed.sender.clone();
        engine.on_commit(Arc::new(move |_, change: &Change| {
            // No subscriber is not an error.
            let _ = hook.send(Arc::new(change.clone()));
        }));
        feed
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Change>> {
        self.sender.subscribe()
    }
}

#[derive(Serialize)]
struct Hello<'a> {
    alignment: &'a str,
    revision: i64,
}

fn event(name: &str, id: Option<i64>, data: &impl Serialize) -> Bytes {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".into());
    let id = id.map(|i| format!("id: {i}\n")).unwrap_or_default();
    Bytes::from(format!("{id}event: {name}\ndata: {json}\n\n"))
}

/// Stream an alignment's committed changes (server-sent events).
#[utoipa::path(get, path = "/api/alignments/{alignment}/events", operation_id = "events",
    tag = "alignments", params(AlignmentPath),
    responses((status = 200, description = "Server-sent events: `hello`, then one `change` per commit \
        (the Change JSON: revision, previous_revision, touched codes per level, bbox, summary, author, \
        reloaded), `resync` when the client fell behind", content_type = "text/event-stream", body = String),
        (status = 404, response = ProblemResponse)))]
#[get("/api/alignments/{alignment}/events")]
pub async fn events(
    _: Viewer,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let alignment = path.into_inner();
    // Subscribe before reading the revision, so no commit falls between the two.
    let receiver = state.events.subscribe();
    let current = snapshot(&state, alignment.clone()).await?;
    let hello = event(
        "hello",
        None,
        &Hello {
            alignment: &alignment,
            revision: current.revision,
        },
    );
    let after = current.revision;
    let changes =
        futures_util::stream::unfold((receiver, alignment, after), |(mut rx, name, after)| async move {
            loop {
                match actix_web::rt::time::timeout(KEEP_ALIVE, rx.recv()).await {
                    Err(_) => return Some((Bytes::from_static(b": keep-alive\n\n"), (rx, name, after))),
                    Ok(Ok(change)) if change.alignment == name && change.revision > after => {
                        let bytes = event("change", Some(change.revision), &*change);
                        return Some((bytes, (rx, name, change.revision)));
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(broadcast::error::RecvError::Lagged(missed))) => {
                        let bytes = event("resync", None, &serde_json::json!({ "missed": missed }));
                        return Some((bytes, (rx, name, after)));
                    }
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                }
            }
        });
    let stream = futures_util::stream::once(async move { hello })
        .chain(changes)
        .map(Ok::<Bytes, actix_web::Error>);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(stream))
}

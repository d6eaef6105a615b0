//! WATCH streams (spec §3.8, §6.3): one JSON event per line, synthetic ADDED for rv ""/"0",
//! replay from history, bookmarks, the initial-events-end bookmark, in-stream 410, selector
//! transitions as ADDED/DELETED. Each watch runs in its own task that wakes on every commit and
//! reads what is new from the store's history, so a slow client only ever lags itself (and once
//! the history has moved past it, gets 410 and relists).
//!
//! [`OpenWatches`] counts the streams open per resource, so a test can tell how many watches a
//! process keeps on the hub (issue 14: one per kind).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::{Body, Bytes};
use serde::Serialize;
use serde_json::json;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};

use crate::render::{Format, Renderer};
use crate::selector::Selectors;
use crate::store::{Event, EventType, Store, WatchStart};

/// The most a watch buffers for a client that is slow to read, in lines and in bytes: a client
/// that stopped reading costs at most this until the grace period lets it go.
const BUFFERED_LINES: usize = 64;
const BUFFERED_BYTES: usize = 256 << 10;

/// A line on its way to the client, holding its share of the byte budget until sent.
type Queued = (Bytes, OwnedSemaphorePermit);

/// How often an idle watch with allowWatchBookmarks gets a bookmark (real servers: about a minute).
const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

pub(crate) struct WatchRequest {
    pub renderer: Renderer,
    pub namespace: Option<String>,
    pub selectors: Selectors,
    /// None for ""/"0": start with synthetic ADDED events.
    pub resource_version: Option<u64>,
    pub bookmarks: bool,
    pub send_initial_events: bool,
    pub timeout: Option<Duration>,
    /// How long a line may wait for room in the client's buffer before the watch is closed.
    pub grace: Duration,
}

/// How many watch streams are open, per resource (`plural.group`, or `plural` for the core
/// group). A stream counts from its start until its task ends (the client went away, the
/// timeout passed, or the store is gone); an error sent instead of a stream does not count.
#[derive(Default)]
pub(crate) struct OpenWatches {
    open: Mutex<BTreeMap<String, usize>>,
}

impl OpenWatches {
    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Counts one more open watch of `resource` until the returned guard is dropped.
    fn open(self: &Arc<Self>, resource: String) -> OpenWatch {
        *self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(resource.clone())
            .or_insert(0) += 1;
        OpenWatch {
            watches: self.clone(),
            resource,
        }
    }
}

/// One open watch, counted while it lives.
struct OpenWatch {
    watches: Arc<OpenWatches>,
    resource: String,
}

impl Drop for OpenWatch {
    fn drop(&mut self) {
        let mut open = self
            .watches
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.resource) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.resource);
            }
        }
    }
}

/// Starts a watch; errors found before streaming (too-old rv) are still sent in-stream (§0.5).
pub(crate) fn start(store: &Arc<Store>, open: &Arc<OpenWatches>, req: WatchRequest) -> Body {
    let (tx, rx) = mpsc::channel::<Queued>(BUFFERED_LINES);
    let budget = Arc::new(Semaphore::new(BUFFERED_BYTES));
    let tx = Outbox { tx, budget };
    let resource = req.renderer.kind.resource();
    let rv = if req.send_initial_events {
        None
    } else {
        req.resource_version
    };
    match store.watch(&resource, req.namespace.as_deref(), rv) {
        Ok((start, live, current)) => {
            let counted = open.open(resource);
            tokio::spawn(run(store.clone(), tx, req, start, live, current, counted));
        }
        Err(e) => {
            let line = encode("ERROR", e.to_status());
            let grace = req.grace;
            tokio::spawn(async move {
                tx.deliver(line, grace, &resource).await;
            });
        }
    }
    // The permit goes when the line is handed to the connection.
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|(b, _permit)| (Ok::<_, std::convert::Infallible>(b), rx))
    });
    Body::from_stream(stream)
}

fn encode(type_: &str, object: impl Serialize) -> Bytes {
    #[derive(Serialize)]
    struct Line<'a, T> {
        #[serde(rename = "type")]
        type_: &'a str,
        object: T,
    }
    let mut line = serde_json::to_vec(&Line { type_, object }).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

async fn run(
    store: Arc<Store>,
    tx: Outbox,
    req: WatchRequest,
    start: WatchStart,
    mut live: watch::Receiver<u64>,
    current: u64,
    // Last, so dropped first: the count falls before the client sees the stream end and
    // watches again, and one client's watch never counts twice.
    _counted: OpenWatch,
) {
    let resource = req.renderer.kind.resource();
    let mut first = true;
    let mut last_rv;
    // A client that stopped reading is let go after the grace period (its buffered lines still
    // reach it; it then watches again from its last resourceVersion, or gets 410 and relists).
    macro_rules! send {
        ($line:expr) => {
            if !tx.deliver($line, req.grace, &resource).await {
                return;
            }
        };
    }
    match start {
        WatchStart::Snapshot(objs) => {
            for o in objs.iter().filter(|o| req.selectors.matches(o)) {
                send!(encode("ADDED", req.renderer.event_object(o, &mut first)));
            }
            last_rv = current;
            if req.send_initial_events {
                // kube-runtime streaming lists become ready only on this bookmark (spec §0.6).
                send!(bookmark(&req, current, true));
            }
        }
        WatchStart::Replay(events) => {
            last_rv = req.resource_version.unwrap_or(current);
            for e in events {
                last_rv = e.rv;
                if let Some(line) = translate(&req, &e, &mut first) {
                    send!(line);
                }
            }
            last_rv = last_rv.max(current);
        }
    }
    let deadline = async {
        match req.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + BOOKMARK_EVERY, BOOKMARK_EVERY);
    loop {
        tokio::select! {
            _ = tx.tx.closed() => return,
            _ = &mut deadline => {
                if req.bookmarks {
                    send!(bookmark(&req, last_rv, false));
                }
                return;
            }
            _ = ticker.tick() => {
                if req.bookmarks {
                    send!(bookmark(&req, last_rv, false));
                }
            }
            changed = live.changed() => {
                if changed.is_err() {
                    return; // the store is gone
                }
                match store.events_after(last_rv, &resource, req.namespace.as_deref()) {
                    Ok((events, rv)) => {
                        for e in events {
                            if let Some(line) = translate(&req, &e, &mut first) {
                                send!(line);
                            }
                        }
                        last_rv = rv;
                    }
                    Err(e) => {
                        send!(encode("ERROR", e.to_status()));
                        return;
                    }
                }
            }
        }
    }
}

/// The lines of one watch on their way to its client, bounded in count and bytes.
struct Outbox {
    tx: mpsc::Sender<Queued>,
    budget: Arc<Semaphore>,
}

impl Outbox {
    /// Queues one line for the client; false once the client is gone or has not made room for
    /// it within `grace`. A line larger than the whole budget waits for all of it.
    async fn deliver(&self, line: Bytes, grace: Duration, resource: &str) -> bool {
        let bytes = line.len().clamp(1, BUFFERED_BYTES) as u32;
        let queued = tokio::time::timeout(grace, async {
            let permit = self.budget.clone().acquire_many_owned(bytes).await.ok()?;
            self.tx.send((line, permit)).await.ok()
        })
        .await;
        match queued {
            Ok(sent) => sent.is_some(),
            Err(_) => {
                tracing::info!(resource, "closing a watch whose client stopped reading");
                false
            }
        }
    }
}

/// Applies selectors with upstream watch-cache semantics: leaving the selector is DELETED,
/// entering it is ADDED (spec §3.8, §8.13).
fn translate(req: &WatchRequest, e: &Event, first: &mut bool) -> Option<Bytes> {
    let now = req.selectors.matches(&e.object);
    let before = e.old.as_ref().is_some_and(|o| req.selectors.matches(o));
    let type_ = match e.type_ {
        EventType::Added if now => EventType::Added,
        EventType::Modified if now && before => EventType::Modified,
        EventType::Modified if now => EventType::Added,
        EventType::Modified if before => EventType::Deleted,
        EventType::Deleted if before || now => EventType::Deleted,
        _ => return None,
    };
    if req.renderer.format == Format::Object && type_ == e.type_ {
        let api_version = req.renderer.api_version();
        return Some(e.shared_line(&api_version, || {
            encode(type_.as_str(), req.renderer.event_object(&e.object, first))
        }));
    }
    Some(encode(
        type_.as_str(),
        req.renderer.event_object(&e.object, first),
    ))
}

fn bookmark(req: &WatchRequest, rv: u64, initial_end: bool) -> Bytes {
    // kube-core's Bookmark needs kind and apiVersion (spec §8.12).
    let (kind, api_version) = match req.renderer.format {
        Format::Table => ("Table".to_string(), "meta.k8s.io/v1".to_string()),
        Format::Metadata => (
            "PartialObjectMetadata".to_string(),
            "meta.k8s.io/v1".to_string(),
        ),
        Format::Object => (req.renderer.kind.kind.clone(), req.renderer.api_version()),
    };
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    encode(
        "BOOKMARK",
        json!({"kind": kind, "apiVersion": api_version, "metadata": meta}),
    )
}

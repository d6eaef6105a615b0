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
use tokio::sync::{mpsc, watch};

use crate::render::{Format, Renderer};
use crate::selector::Selectors;
use crate::store::{Event, EventType, Store, WatchStart};

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
    let (tx, rx) = mpsc::channel::<Bytes>(64);
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
            tokio::spawn(async move {
                let _ = tx.send(line).await;
            });
        }
    }
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
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
    tx: mpsc::Sender<Bytes>,
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
    macro_rules! send {
        ($line:expr) => {
            if tx.send($line).await.is_err() {
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
            _ = tx.closed() => return,
            _ = &mut deadline => {
                if req.bookmarks {
                    let _ = tx.send(bookmark(&req, last_rv, false)).await;
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
                        let _ = tx.send(encode("ERROR", e.to_status())).await;
                        return;
                    }
                }
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

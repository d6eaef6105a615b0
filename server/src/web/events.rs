//! `/api/events`: the activity feed as server-sent events, list-then-watch with resume.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use app::error::AppError;
use app::live::{
    Activity, Feed, Topics, ADDED_EVENT, CHANGED_EVENT, FLEET_EVENT, FLEET_EVENT_SPACING,
    RUNS_EVENT, SNAPSHOT_EVENT,
};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::future;
use futures::stream::{self, Stream, StreamExt};
use tokio::sync::Semaphore;
use tokio_stream::wrappers::{BroadcastStream, WatchStream};
use tokio_util::sync::CancellationToken;

/// Comment lines keep proxies and load balancers from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How many event streams may be open at once, by default: a browser tab holds one, and each
/// holds a connection and a feed subscription, so without a bound a client that opens streams
/// in a loop grows the server without limit.
pub const MAX_EVENT_STREAMS: usize = 512;

/// The open event streams' slots: a stream holds one until it ends.
#[derive(Clone)]
pub struct EventStreams {
    slots: Arc<Semaphore>,
    max: usize,
}

impl EventStreams {
    pub fn new(max: usize) -> EventStreams {
        EventStreams {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// How many are open now.
    pub fn open(&self) -> usize {
        self.max - self.slots.available_permits()
    }
}

impl Default for EventStreams {
    fn default() -> Self {
        EventStreams::new(MAX_EVENT_STREAMS)
    }
}

pub async fn stream(
    State(feed): State<Feed>,
    State(topics): State<Topics>,
    State(shutdown): State<CancellationToken>,
    State(streams): State<EventStreams>,
    headers: HeaderMap,
) -> Response {
    let Ok(slot) = streams.slots.clone().try_acquire_owned() else {
        // The browser's EventSource retries by itself; Retry-After tells other clients when.
        let error = AppError::Unavailable(format!(
            "too many open event streams ({}); close other fleetdeck tabs or try again shortly",
            streams.max
        ));
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, HeaderValue::from_static("5")),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
            ],
            serde_json::to_string(&error).unwrap_or_default(),
        )
            .into_response();
    };
    let last_seen = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // The feed resumes from Last-Event-ID; topics always start with their current value.
    let events = futures::stream::select_all([
        feed_events(&feed, last_seen).boxed(),
        spaced(
            topic_events(topics.subscribe_fleet(), FLEET_EVENT),
            FLEET_EVENT_SPACING,
        )
        .boxed(),
        topic_events(topics.subscribe_runs(), RUNS_EVENT).boxed(),
        topic_events(topics.subscribe_changes(), CHANGED_EVENT).boxed(),
    ])
    .take_until(shutdown.cancelled_owned())
    // The slot goes back when the stream is dropped (the client left or the server stops).
    .map(move |event| {
        let _held = &slot;
        event
    });
    (
        [
            // nginx and friends buffer responses unless told not to, which would hold events back.
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")),
    )
        .into_response()
}

/// The replay (a snapshot, or what came after `last_seen`), then live entries. A subscriber that
/// lags behind the broadcast buffer is disconnected; its browser reconnects and resumes.
fn feed_events(
    feed: &Feed,
    last_seen: Option<u64>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let sub = feed.subscribe(last_seen);
    let replay: Vec<Event> = if sub.is_snapshot {
        let last = sub.replay.last().map(|e| e.seq);
        vec![snapshot_event(&sub.replay, last)]
    } else {
        sub.replay.iter().map(added_event).collect()
    };
    let live = BroadcastStream::new(sub.live)
        .take_while(|entry| future::ready(entry.is_ok()))
        .filter_map(|entry| future::ready(entry.ok().map(|e| added_event(&e))));
    stream::iter(replay).chain(live).map(Ok)
}

/// A topic as SSE events named `name`: its current value first, then every new one.
fn topic_events<T: serde::Serialize + Send + Sync + 'static>(
    rx: tokio::sync::watch::Receiver<Option<std::sync::Arc<T>>>,
    name: &'static str,
) -> impl Stream<Item = Result<Event, Infallible>> {
    WatchStream::new(rx).filter_map(move |value| {
        future::ready(value.map(|value| {
            Ok(Event::default()
                .event(name)
                .data(serde_json::to_string(value.as_ref()).unwrap_or_else(|_| "[]".into())))
        }))
    })
}

/// Lets an event through at most every `spacing`. The stream is a watch, which keeps only its
/// latest value while this waits, so a burst becomes one event carrying the newest count.
fn spaced<S>(events: S, spacing: Duration) -> impl Stream<Item = S::Item>
where
    S: Stream + Send + 'static,
    S::Item: Send + 'static,
{
    let events = Box::pin(events);
    stream::unfold((events, false), move |(mut events, wait)| async move {
        if wait {
            tokio::time::sleep(spacing).await;
        }
        let next = events.next().await?;
        Some((next, (events, true)))
    })
}

fn snapshot_event(entries: &[Activity], last: Option<u64>) -> Event {
    let event = Event::default()
        .event(SNAPSHOT_EVENT)
        .data(serde_json::to_string(entries).unwrap_or_else(|_| "[]".into()));
    match last {
        Some(seq) => event.id(seq.to_string()),
        None => event,
    }
}

fn added_event(entry: &Activity) -> Event {
    Event::default()
        .event(ADDED_EVENT)
        .id(entry.seq.to_string())
        .data(serde_json::to_string(entry).unwrap_or_else(|_| "{}".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn fleet_events_are_spaced_and_a_burst_becomes_its_newest_count() {
        let topics = Topics::default();
        topics.fleet_changed();
        let rx = topics.subscribe_fleet();
        let counts = WatchStream::new(rx).filter_map(|v| future::ready(v.map(|n| *n)));
        let mut counts = std::pin::pin!(spaced(counts, Duration::from_millis(250)));
        assert_eq!(counts.next().await, Some(1), "the current count at once");
        for _ in 0..5 {
            topics.fleet_changed();
        }
        let early = tokio::time::timeout(Duration::from_millis(200), counts.next()).await;
        assert!(early.is_err(), "nothing within the spacing: {early:?}");
        assert_eq!(counts.next().await, Some(6), "one event, the newest count");
    }
}

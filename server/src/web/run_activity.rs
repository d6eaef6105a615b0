//! The Overview's activity feed carries every update run's Events as they are written — the
//! engine's transitions and the console's actions with the person who took them — each linking
//! to its run's page.
//!
//! One watch of core/v1 Events (no other part of the process follows Events, and no store is
//! kept: an Event is published once and forgotten). On start, and after a watch restarts with a
//! new list, the Events already seen are skipped; at start the most recent few are published so
//! that the feed of a restarted server is not empty.

use std::collections::{HashSet, VecDeque};

use app::fleet::views::run_event::RunEvent;
use app::live::{Feed, NewActivity};
use chrono::{DateTime, Duration, Utc};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::api::Api;
use kube::runtime::watcher::{self, watcher, Event as WatchEvent};
use kube::runtime::WatchStreamExt;
use tokio_util::sync::CancellationToken;

/// How many Events are remembered to skip them when a watch lists again.
const REMEMBERED: usize = 10_000;
/// At start, Events at most this old are published (the newest [`BACKFILL`] of them).
const BACKFILL_AGE: Duration = Duration::minutes(30);
const BACKFILL: usize = 20;

/// Publishes run Events to `feed` until `shutdown`.
pub async fn run(client: kube::Client, feed: Feed, shutdown: CancellationToken) {
    let api: Api<Event> = Api::all(client);
    let mut events = std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff());
    let mut seen = Seen::default();
    let mut listing: Option<Vec<RunEvent>> = None;
    let mut first_list = true;
    loop {
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            event = events.next() => event,
        };
        match event {
            None => return,
            Some(Err(error)) => {
                tracing::debug!(%error, "watching Events for the activity feed; retrying");
            }
            Some(Ok(WatchEvent::Init)) => listing = Some(Vec::new()),
            Some(Ok(WatchEvent::InitApply(event))) => {
                if seen.first_sight(&event) {
                    if let (Some(list), Some(run_event)) = (listing.as_mut(), RunEvent::of(&event))
                    {
                        list.push(run_event);
                    }
                }
            }
            Some(Ok(WatchEvent::InitDone)) => {
                let listed = listing.take().unwrap_or_default();
                // After a restart of the watch, what was not seen before is news; at start, only
                // the recent tail is worth showing.
                for run_event in backfill(listed, first_list, Utc::now()) {
                    feed.publish_entry(activity(run_event));
                }
                first_list = false;
            }
            Some(Ok(WatchEvent::Apply(event))) => {
                if seen.first_sight(&event) {
                    if let Some(run_event) = RunEvent::of(&event) {
                        feed.publish_entry(activity(run_event));
                    }
                }
            }
            Some(Ok(WatchEvent::Delete(_))) => {}
        }
    }
}

/// Which listed run Events to publish, oldest first: at start the newest few of the last
/// [`BACKFILL_AGE`], after a re-list every one not seen before.
fn backfill(mut listed: Vec<RunEvent>, at_start: bool, now: DateTime<Utc>) -> Vec<RunEvent> {
    listed.sort_by_key(|e| e.at);
    if at_start {
        listed.retain(|e| e.at.is_some_and(|at| now - at <= BACKFILL_AGE));
        let skip = listed.len().saturating_sub(BACKFILL);
        listed.drain(..skip);
    }
    listed
}

fn activity(event: RunEvent) -> NewActivity {
    NewActivity {
        at: event.at.unwrap_or_else(Utc::now),
        source: event.by.clone(),
        message: event.feed_line(),
        link: Some(event.run_path()),
        warning: event.is_warning(),
    }
}

/// The Events already handled, by namespace and name, forgetting the oldest beyond
/// [`REMEMBERED`].
#[derive(Default)]
struct Seen {
    names: HashSet<(String, String)>,
    order: VecDeque<(String, String)>,
}

impl Seen {
    /// `true` the first time an Event is met (an Event updated later, e.g. its count, is not new).
    fn first_sight(&mut self, event: &Event) -> bool {
        let key = (
            event.metadata.namespace.clone().unwrap_or_default(),
            event.metadata.name.clone().unwrap_or_default(),
        );
        if !self.names.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.names.remove(&old);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn run_event(run: &str, minutes_ago: i64, now: DateTime<Utc>) -> RunEvent {
        RunEvent {
            at: Some(now - Duration::minutes(minutes_ago)),
            type_: "Normal".into(),
            reason: "Started".into(),
            message: String::new(),
            by: "fleetdeck-engine".into(),
            namespace: None,
            run: run.into(),
        }
    }

    #[test]
    fn at_start_only_the_recent_tail_is_published_oldest_first() {
        let now = Utc::now();
        let mut listed: Vec<RunEvent> = (0..40)
            .map(|i| run_event(&format!("r{i}"), i, now))
            .collect();
        listed.push(run_event("old", 60 * 24, now));
        let published = backfill(listed.clone(), true, now);
        assert_eq!(published.len(), BACKFILL);
        assert_eq!(published.first().map(|e| e.run.as_str()), Some("r19"));
        assert_eq!(published.last().map(|e| e.run.as_str()), Some("r0"));
        // After a watch restarts, everything new is news, however old.
        assert_eq!(backfill(listed, false, now).len(), 41);
    }

    #[test]
    fn an_event_is_new_once() {
        let mut seen = Seen::default();
        let event = |name: &str| Event {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert!(seen.first_sight(&event("a.1")));
        assert!(
            !seen.first_sight(&event("a.1")),
            "an update of the same Event"
        );
        for i in 0..REMEMBERED {
            seen.first_sight(&event(&format!("b.{i}")));
        }
        assert!(
            seen.first_sight(&event("a.1")),
            "forgotten beyond the bound"
        );
        assert!(seen.names.len() <= REMEMBERED);
    }
}

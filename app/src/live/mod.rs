//! The live activity feed: what the dashboard streams to browsers over server-sent events.
//!
//! The wire protocol is list-then-watch, like a Kubernetes watch: a new subscriber first gets a
//! `snapshot` of what is retained, then one `added` event per new entry. Every entry carries a
//! sequence number that doubles as the SSE event id, so a reconnecting browser (which sends
//! `Last-Event-ID` by itself) resumes exactly where it stopped.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod feed;
#[cfg(feature = "ssr")]
mod topics;
#[cfg(feature = "ssr")]
pub use feed::{Feed, Subscription};
#[cfg(feature = "ssr")]
pub use topics::Topics;

/// The SSE event name of a full list.
pub const SNAPSHOT_EVENT: &str = "snapshot";
/// The SSE event name of one new entry.
pub const ADDED_EVENT: &str = "added";
/// The SSE event name of the Fleet page's counter: it moves when a Fleet page could show
/// something new, and the page reloads its own page of rows (never the whole fleet).
pub const FLEET_EVENT: &str = "fleet";
/// The least time between two `fleet` events on one connection: however fast the fleet
/// changes (a 10,000-member rollout), a Fleet page reloads at most four times a second.
pub const FLEET_EVENT_SPACING: std::time::Duration = std::time::Duration::from_millis(250);
/// The SSE event name carrying the Runs page's rows.
pub const RUNS_EVENT: &str = "runs";
/// The SSE event name saying the hub changed (a counter): single-object pages reload then.
pub const CHANGED_EVENT: &str = "changed";
/// Where the dashboard's event stream is served.
pub const EVENTS_PATH: &str = "/api/events";

/// One line of the activity feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// Position in the feed; strictly increasing, never reused within one server's life.
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// Who or what caused it: `fleetdeck` for the server itself, `dashboard` for a browser user,
    /// the acting person or `fleetdeck-engine` for a run's Event.
    pub source: String,
    pub message: String,
    /// The page it is about (a run's Events link to the run).
    #[serde(default)]
    pub link: Option<String>,
    /// A Warning Event: shown as such, not only by colour.
    #[serde(default)]
    pub warning: bool,
}

/// What is published to the feed; the feed adds the sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewActivity {
    pub at: DateTime<Utc>,
    pub source: String,
    pub message: String,
    pub link: Option<String>,
    pub warning: bool,
}

/// Merges a newly streamed entry into a list ordered by `seq`, ignoring duplicates (a replay after
/// reconnecting may repeat what the page already shows) and keeping at most `keep` newest entries.
pub fn merge_entry(list: &mut Vec<Activity>, entry: Activity, keep: usize) {
    if list.iter().any(|e| e.seq == entry.seq) {
        return;
    }
    let at = list.partition_point(|e| e.seq < entry.seq);
    list.insert(at, entry);
    if list.len() > keep {
        let excess = list.len() - keep;
        list.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> Activity {
        Activity {
            seq,
            at: DateTime::<Utc>::UNIX_EPOCH,
            source: "test".into(),
            message: format!("entry {seq}"),
            link: None,
            warning: false,
        }
    }

    #[test]
    fn merge_keeps_order_drops_duplicates_and_trims_oldest() {
        let mut list = vec![entry(1), entry(3)];
        merge_entry(&mut list, entry(2), 10);
        merge_entry(&mut list, entry(3), 10);
        assert_eq!(list.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
        merge_entry(&mut list, entry(4), 3);
        assert_eq!(list.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3, 4]);
    }
}

//! The server side of the activity feed: a bounded, sequenced log with a broadcast fan-out.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::Utc;
use tokio::sync::broadcast;

use super::{Activity, NewActivity};

/// A cheap-to-clone handle on the feed. Publishing never waits for subscribers: a subscriber that
/// falls more than `capacity` entries behind is cut off and resumes by reconnecting.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Mutex<Log>>,
    tx: broadcast::Sender<Activity>,
}

struct Log {
    next_seq: u64,
    entries: VecDeque<Activity>,
    capacity: usize,
}

/// What a new subscriber gets: the entries to send first, then the live receiver.
pub struct Subscription {
    /// `true` when `replay` is the whole retained list (send it as a snapshot); `false` when it is
    /// only the entries after the subscriber's last seen sequence number.
    pub is_snapshot: bool,
    pub replay: Vec<Activity>,
    pub live: broadcast::Receiver<Activity>,
}

impl Feed {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        let (tx, _) = broadcast::channel(capacity);
        Self {
            inner: Arc::new(Mutex::new(Log {
                next_seq: 1,
                entries: VecDeque::with_capacity(capacity),
                capacity,
            })),
            tx,
        }
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while holding the lock cannot leave the log half-written (each write is one
        // push), so a poisoned lock is still safe to use.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a plain entry, stamped now, and hands it to every subscriber.
    pub fn publish(&self, source: impl Into<String>, message: impl Into<String>) -> Activity {
        self.publish_entry(NewActivity {
            at: Utc::now(),
            source: source.into(),
            message: message.into(),
            link: None,
            warning: false,
        })
    }

    /// Appends `new` and hands it to every subscriber.
    pub fn publish_entry(&self, new: NewActivity) -> Activity {
        let mut log = self.log();
        let entry = Activity {
            seq: log.next_seq,
            at: new.at,
            source: new.source,
            message: new.message,
            link: new.link,
            warning: new.warning,
        };
        log.next_seq += 1;
        if log.entries.len() == log.capacity {
            log.entries.pop_front();
        }
        log.entries.push_back(entry.clone());
        // Sent under the lock so that a concurrent `subscribe` sees each entry exactly once:
        // either in its replay or on its receiver. No receivers is not an error.
        let _ = self.tx.send(entry.clone());
        entry
    }

    /// The retained entries, oldest first.
    pub fn list(&self) -> Vec<Activity> {
        self.log().entries.iter().cloned().collect()
    }

    /// Subscribes, replaying what came after `last_seen` when the log still holds all of it,
    /// or the whole retained list otherwise (list-then-watch, with resume).
    pub fn subscribe(&self, last_seen: Option<u64>) -> Subscription {
        let log = self.log();
        let live = self.tx.subscribe();
        let oldest = log.entries.front().map_or(log.next_seq, |e| e.seq);
        match last_seen {
            Some(seen) if seen + 1 >= oldest && seen < log.next_seq => Subscription {
                is_snapshot: false,
                replay: log
                    .entries
                    .iter()
                    .filter(|e| e.seq > seen)
                    .cloned()
                    .collect(),
                live,
            },
            _ => Subscription {
                is_snapshot: true,
                replay: log.entries.iter().cloned().collect(),
                live,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(entries: &[Activity]) -> Vec<u64> {
        entries.iter().map(|e| e.seq).collect()
    }

    #[test]
    fn new_subscriber_gets_snapshot_then_live_entries() {
        let feed = Feed::new(10);
        feed.publish("t", "one");
        let mut sub = feed.subscribe(None);
        assert!(sub.is_snapshot);
        assert_eq!(seqs(&sub.replay), [1]);
        feed.publish("t", "two");
        assert_eq!(sub.live.try_recv().map(|e| e.seq), Ok(2));
    }

    #[test]
    fn resume_replays_only_the_missed_entries() {
        let feed = Feed::new(10);
        for i in 0..5 {
            feed.publish("t", format!("{i}"));
        }
        let sub = feed.subscribe(Some(3));
        assert!(!sub.is_snapshot);
        assert_eq!(seqs(&sub.replay), [4, 5]);
    }

    #[test]
    fn resume_from_a_trimmed_or_unknown_position_falls_back_to_a_snapshot() {
        let feed = Feed::new(3);
        for i in 0..6 {
            feed.publish("t", format!("{i}"));
        }
        // entries 4..=6 are retained; 2 is too old, 99 comes from another server's life.
        for seen in [2, 99] {
            let sub = feed.subscribe(Some(seen));
            assert!(sub.is_snapshot, "last seen {seen}");
            assert_eq!(seqs(&sub.replay), [4, 5, 6]);
        }
        let sub = feed.subscribe(Some(3));
        assert!(!sub.is_snapshot);
        assert_eq!(seqs(&sub.replay), [4, 5, 6]);
    }
}

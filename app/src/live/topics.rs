//! Views of hub state that every open dashboard follows: each topic holds its latest value, and a
//! subscriber gets the current value first and every new one after (a watch channel: a slow
//! browser skips intermediate values instead of holding anyone up).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::fleet::views::member_view::MemberRow;
use crate::fleet::views::run_view::RunRow;

#[derive(Clone)]
pub struct Topics {
    members: watch::Sender<Option<Arc<Vec<MemberRow>>>>,
    runs: watch::Sender<Option<Arc<Vec<RunRow>>>>,
    /// Counts the fleet view's passes over hub changes: pages that show one object (a run, the
    /// approvals) reload it when this moves, instead of receiving the whole fleet.
    changes: watch::Sender<Option<Arc<u64>>>,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            members: watch::channel(None).0,
            runs: watch::channel(None).0,
            changes: watch::channel(None).0,
        }
    }
}

impl Topics {
    /// Publishes the Fleet page's rows; unchanged rows wake nobody.
    pub fn set_members(&self, rows: Vec<MemberRow>) {
        publish(&self.members, rows);
    }

    /// Publishes the Runs page's rows.
    pub fn set_runs(&self, rows: Vec<RunRow>) {
        publish(&self.runs, rows);
    }

    /// Says that the hub changed (runs, bindings, members or approvals).
    pub fn changed(&self) {
        self.changes
            .send_modify(|n| *n = Some(Arc::new(n.as_deref().copied().unwrap_or(0) + 1)));
    }

    pub fn subscribe_changes(&self) -> watch::Receiver<Option<Arc<u64>>> {
        self.changes.subscribe()
    }

    pub fn subscribe_runs(&self) -> watch::Receiver<Option<Arc<Vec<RunRow>>>> {
        self.runs.subscribe()
    }

    /// The runs once known (see [`Topics::members`]).
    pub async fn runs(&self, wait: Duration) -> Option<Arc<Vec<RunRow>>> {
        first_value(self.runs.subscribe(), wait).await
    }

    pub fn subscribe_members(&self) -> watch::Receiver<Option<Arc<Vec<MemberRow>>>> {
        self.members.subscribe()
    }

    /// The rows once known, waiting up to `wait` for the first computation after start.
    pub async fn members(&self, wait: Duration) -> Option<Arc<Vec<MemberRow>>> {
        first_value(self.members.subscribe(), wait).await
    }
}

fn publish<T: PartialEq>(topic: &watch::Sender<Option<Arc<Vec<T>>>>, rows: Vec<T>) {
    topic.send_if_modified(|current| {
        if current.as_deref() == Some(&rows) {
            false
        } else {
            *current = Some(Arc::new(rows));
            true
        }
    });
}

async fn first_value<T>(mut rx: watch::Receiver<Option<Arc<T>>>, wait: Duration) -> Option<Arc<T>> {
    match tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await {
        Ok(Ok(value)) => value.clone(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> MemberRow {
        MemberRow {
            name: name.into(),
            ..MemberRow::default()
        }
    }

    #[tokio::test]
    async fn subscribers_see_the_latest_rows_and_unchanged_rows_wake_nobody() {
        let topics = Topics::default();
        let mut rx = topics.subscribe_members();
        topics.set_members(vec![row("member1")]);
        assert!(rx.has_changed().unwrap_or(false));
        rx.borrow_and_update();
        topics.set_members(vec![row("member1")]);
        assert!(!rx.has_changed().unwrap_or(true), "same rows: no wake-up");
        let rows = topics
            .members(Duration::from_millis(10))
            .await
            .expect("rows");
        assert_eq!(rows[0].name, "member1");
    }
}

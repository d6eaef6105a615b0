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
    /// The Fleet page's rows: read by its server function, one page at a time, never streamed.
    members: watch::Sender<Option<Arc<Vec<MemberRow>>>>,
    /// Counts the changes a Fleet page could show (members, their health, their placements):
    /// an open Fleet page reloads its own page of rows when this moves.
    fleet: watch::Sender<Option<Arc<u64>>>,
    runs: watch::Sender<Option<Arc<Vec<RunRow>>>>,
    /// Counts the fleet view's passes over hub changes: pages that show one object (a run, the
    /// approvals) reload it when this moves, instead of receiving the whole fleet.
    changes: watch::Sender<Option<Arc<u64>>>,
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            members: watch::channel(None).0,
            fleet: watch::channel(None).0,
            runs: watch::channel(None).0,
            changes: watch::channel(None).0,
        }
    }
}

impl Topics {
    /// Replaces the Fleet page's rows (sorted by name). Wakes no browser by itself: see
    /// [`Topics::fleet_changed`].
    pub fn set_members(&self, rows: Arc<Vec<MemberRow>>) {
        self.members.send_replace(Some(rows));
    }

    /// Says that a Fleet page may show something new.
    pub fn fleet_changed(&self) {
        bump(&self.fleet);
    }

    pub fn subscribe_fleet(&self) -> watch::Receiver<Option<Arc<u64>>> {
        self.fleet.subscribe()
    }

    /// Publishes the Runs page's rows.
    pub fn set_runs(&self, rows: Vec<RunRow>) {
        publish(&self.runs, rows);
    }

    /// Says that the hub changed (runs, bindings, members or approvals).
    pub fn changed(&self) {
        bump(&self.changes);
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

    /// The rows once known, waiting up to `wait` for the first computation after start.
    pub async fn members(&self, wait: Duration) -> Option<Arc<Vec<MemberRow>>> {
        first_value(self.members.subscribe(), wait).await
    }
}

fn bump(counter: &watch::Sender<Option<Arc<u64>>>) {
    counter.send_modify(|n| *n = Some(Arc::new(n.as_deref().copied().unwrap_or(0) + 1)));
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
    async fn rows_are_kept_for_the_server_and_only_the_fleet_counter_wakes_pages() {
        let topics = Topics::default();
        let mut fleet = topics.subscribe_fleet();
        topics.set_members(Arc::new(vec![row("member1")]));
        assert!(
            !fleet.has_changed().unwrap_or(true),
            "rows alone wake no page"
        );
        topics.fleet_changed();
        assert!(fleet.has_changed().unwrap_or(false));
        assert_eq!(fleet.borrow_and_update().as_deref(), Some(&1));
        let rows = topics
            .members(Duration::from_millis(10))
            .await
            .expect("rows");
        assert_eq!(rows[0].name, "member1");
    }
}

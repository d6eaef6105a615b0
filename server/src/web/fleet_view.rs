//! Keeps the dashboard's live views current from the process's shared stores of MemberClusters,
//! bindings, update runs and strategies on the hub (`crate::informers`): the Fleet page's rows
//! (`app::fleet::views::member_view`, cached for its server function, never streamed), the Runs rows
//! (`run_view`), and the counters that tell open pages to reload (`fleet`, `changed`).
//!
//! Work is proportional to change. Members arrive as watch events and only the member that
//! changed is recomputed; bindings (which move in bursts during a rollout) recompute every
//! member's placements once per burst; runs are recomputed only when a run changed. A member
//! heartbeat (at 10,000 members with the default 60 s period, 167 a second) only updates its
//! row's `last_seen`: the rows are republished with new heartbeats at most every
//! [`HEARTBEAT_REFRESH`], and a member going stale is noticed by the clock ([`HEALTH_CHECK`]),
//! not by an event.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::fleet::views::member_view::{self, query, BindingFacts, MemberRow, PlacementOnMember};
use app::fleet::views::run_view::{self, RunRow};
use app::fleet::{
    ClusterResourceBinding, ClusterStagedUpdateRun, ClusterStagedUpdateStrategy, Gate,
    MemberCluster, ResourceBinding, StagedUpdateRun, StagedUpdateStrategy, UpdateRun,
};
use app::live::Topics;
use futures::{FutureExt, StreamExt};
use kube::runtime::reflector::Store;
use kube::runtime::watcher::Event;
use tokio_stream::wrappers::IntervalStream;
use tokio_util::sync::CancellationToken;

use crate::informers::Informers;

/// Bursts of hub events (a rollout touches many bindings at once) become one recomputation.
const COALESCE: Duration = Duration::from_millis(50);
/// The pause after a recomputation is at least this many times as long as it took, so the views
/// use at most a third of a core however large the fleet.
const PAUSE_PER_WORK: u32 = 2;
/// Heartbeats alone reach open Fleet pages at most this often (their "x min ago" is this
/// fresh); anything else a page shows reaches it at once.
pub const HEARTBEAT_REFRESH: Duration = Duration::from_secs(15);
/// How often the members' health is looked at again without any hub event (a member whose
/// agent went silent becomes stale by the clock alone).
pub const HEALTH_CHECK: Duration = Duration::from_secs(1);

enum Input {
    Member(Event<Arc<MemberCluster>>),
    Bindings,
    Runs,
    /// A strategy changed: open strategy pages reload (kubectl edits show there at once).
    Strategies,
    /// An upgrade run or one of its gates changed: the Upgrades pages reload (seed 004).
    Upgrades,
    Clock,
}

pub async fn run(informers: Informers, topics: Topics, shutdown: CancellationToken) {
    let member_events = informers.of::<MemberCluster>().events();
    let crbs = informers.of::<ClusterResourceBinding>();
    let rbs = informers.of::<ResourceBinding>();
    let csurs = informers.of::<ClusterStagedUpdateRun>();
    let surs = informers.of::<StagedUpdateRun>();
    let mut clock = tokio::time::interval(HEALTH_CHECK);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let inputs = futures::stream::select_all([
        member_events.map(Input::Member).boxed(),
        crbs.changes().map(|()| Input::Bindings).boxed(),
        rbs.changes().map(|()| Input::Bindings).boxed(),
        csurs.changes().map(|()| Input::Runs).boxed(),
        surs.changes().map(|()| Input::Runs).boxed(),
        informers
            .of::<ClusterStagedUpdateStrategy>()
            .changes()
            .map(|()| Input::Strategies)
            .boxed(),
        informers
            .of::<StagedUpdateStrategy>()
            .changes()
            .map(|()| Input::Strategies)
            .boxed(),
        informers
            .of::<UpdateRun>()
            .changes()
            .map(|()| Input::Upgrades)
            .boxed(),
        informers
            .of::<Gate>()
            .changes()
            .map(|()| Input::Upgrades)
            .boxed(),
        IntervalStream::new(clock).map(|_| Input::Clock).boxed(),
    ]);
    let (crbs, rbs, csurs, surs) = (crbs.store(), rbs.store(), csurs.store(), surs.store());
    let inputs = inputs
        .ready_chunks(1024)
        .take_until(shutdown.cancelled_owned());
    let mut inputs = std::pin::pin!(inputs);
    let mut view = FleetView::default();
    let mut last_pass = Duration::ZERO;
    let mut runs_published = false;
    while let Some(batch) = inputs.next().await {
        let (mut bindings, mut runs, mut strategies, mut clock) = (false, false, false, false);
        let mut upgrades = false;
        for input in batch {
            match input {
                Input::Member(event) => view.apply(event),
                Input::Bindings => bindings = true,
                Input::Runs => runs = true,
                Input::Strategies => strategies = true,
                Input::Upgrades => upgrades = true,
                Input::Clock => clock = true,
            }
        }
        let moved = bindings || runs || strategies || upgrades || view.members_moved;
        if moved {
            tokio::time::sleep(COALESCE.max(last_pass * PAUSE_PER_WORK)).await;
        }
        let started = Instant::now();
        // A change that arrived before its store was ready is taken up on a later pass (the
        // clock ticks every second): otherwise a quiet hub would never show the first rows.
        if (bindings || view.placements.is_none()) && ready(&crbs) && ready(&rbs) {
            view.placements = Some(placements(&crbs, &rbs));
            view.members_moved = true;
        }
        view.publish(&topics, clock);
        if (runs || !runs_published) && ready(&csurs) && ready(&surs) {
            runs_published = true;
            let mut rows: Vec<RunRow> = csurs
                .state()
                .iter()
                .map(|r| run_view::row(r.as_ref()))
                .chain(surs.state().iter().map(|r| run_view::row(r.as_ref())))
                .collect();
            rows.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            topics.set_runs(rows);
        }
        if moved {
            topics.changed();
            last_pass = started.elapsed();
        }
    }
}

/// Whether a store holds its initial list (the informer drives the stores: never block here).
fn ready<K: kube::Resource<DynamicType = ()> + Clone + 'static>(store: &Store<K>) -> bool {
    matches!(store.wait_until_ready().now_or_never(), Some(Ok(())))
}

/// Every cluster's placements, from both scopes of bindings.
fn placements(
    crbs: &Store<ClusterResourceBinding>,
    rbs: &Store<ResourceBinding>,
) -> HashMap<String, Vec<PlacementOnMember>> {
    let facts: Vec<BindingFacts> = crbs
        .state()
        .iter()
        .map(|b| BindingFacts::of(b.as_ref()))
        .chain(rbs.state().iter().map(|b| BindingFacts::of(b.as_ref())))
        .collect();
    member_view::by_cluster(&facts)
        .into_iter()
        .map(|(cluster, bindings)| (cluster.to_string(), member_view::placements(&bindings)))
        .collect()
}

/// The Fleet page's state between passes.
#[derive(Default)]
struct FleetView {
    /// Each member's own fields (no placements), by name; complete once `members_ready`.
    members: BTreeMap<String, MemberRow>,
    /// A relist under way (the watch restarted): replaces `members` when complete.
    listing: Option<BTreeMap<String, MemberRow>>,
    members_ready: bool,
    /// Placements by cluster, once the binding stores are ready.
    placements: Option<HashMap<String, Vec<PlacementOnMember>>>,
    /// Something other than a heartbeat changed since the last publication.
    members_moved: bool,
    /// Only heartbeats moved since the last publication.
    heartbeats_moved: bool,
    last_publication: Option<Instant>,
    published: Option<Arc<Vec<MemberRow>>>,
    fingerprint: u64,
}

impl FleetView {
    fn apply(&mut self, event: Event<Arc<MemberCluster>>) {
        match event {
            Event::Init => self.listing = Some(BTreeMap::new()),
            Event::InitApply(member) => {
                let row = member_view::member_fields(&member);
                if let Some(listing) = &mut self.listing {
                    listing.insert(row.name.clone(), row);
                }
            }
            Event::InitDone => {
                if let Some(listing) = self.listing.take() {
                    self.members = listing;
                    self.members_ready = true;
                    self.members_moved = true;
                }
            }
            Event::Apply(member) => {
                let row = member_view::member_fields(&member);
                let now = chrono::Utc::now();
                match self.members.get(&row.name) {
                    // A beat that brings a stale member back is news, not a heartbeat.
                    Some(old)
                        if only_heartbeat_moved(old, &row)
                            && query::health(old, now) == query::health(&row, now) =>
                    {
                        self.heartbeats_moved |= old.last_seen != row.last_seen;
                    }
                    _ => self.members_moved = true,
                }
                self.members.insert(row.name.clone(), row);
            }
            Event::Delete(member) => {
                if let Some(name) = &member.metadata.name {
                    self.members.remove(name);
                }
                self.members_moved = true;
            }
        }
    }

    /// Publishes the rows when something moved (heartbeats: at most every
    /// [`HEARTBEAT_REFRESH`]), and tells open Fleet pages when what they show may differ.
    fn publish(&mut self, topics: &Topics, clock: bool) {
        let Some(placements) = self.placements.as_ref().filter(|_| self.members_ready) else {
            return;
        };
        let heartbeats_due = self.heartbeats_moved
            && self
                .last_publication
                .is_none_or(|at| at.elapsed() >= HEARTBEAT_REFRESH);
        let now = chrono::Utc::now();
        if self.members_moved || heartbeats_due {
            let rows: Vec<MemberRow> = self
                .members
                .values()
                .map(|m| MemberRow {
                    placements: placements.get(&m.name).cloned().unwrap_or_default(),
                    ..m.clone()
                })
                .collect();
            let rows = Arc::new(rows);
            let fingerprint = query::fingerprint(&rows, now);
            topics.set_members(rows.clone());
            if fingerprint != self.fingerprint || heartbeats_due || self.published.is_none() {
                topics.fleet_changed();
            }
            self.published = Some(rows);
            self.fingerprint = fingerprint;
            self.last_publication = Some(Instant::now());
            self.members_moved = false;
            self.heartbeats_moved = false;
        } else if clock {
            // Nothing arrived, but time passed: a silent member may have gone stale.
            if let Some(rows) = &self.published {
                let fingerprint = query::fingerprint(rows, now);
                if fingerprint != self.fingerprint {
                    self.fingerprint = fingerprint;
                    topics.fleet_changed();
                }
            }
        }
    }
}

/// Whether `new` differs from `old` in its heartbeat time at most.
fn only_heartbeat_moved(old: &MemberRow, new: &MemberRow) -> bool {
    old.name == new.name
        && old.labels == new.labels
        && old.joined == new.joined
        && old.heartbeat_period_seconds == new.heartbeat_period_seconds
        && old.node_count == new.node_count
        && old.kubernetes_version == new.kubernetes_version
        && old.node_images == new.node_images
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, heartbeat: &str, env: &str) -> Arc<MemberCluster> {
        Arc::new(
            serde_json::from_value(serde_json::json!({
                "apiVersion": "cluster.kubernetes-fleet.io/v1beta1", "kind": "MemberCluster",
                "metadata": {"name": name, "labels": {"env": env}},
                "spec": {"identity": {"kind": "ServiceAccount", "name": "a"}, "heartbeatPeriodSeconds": 60},
                "status": {
                    "conditions": [{"type": "Joined", "status": "True", "reason": "r", "message": "m", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
                    "agentStatus": [{"type": "MemberAgent", "lastReceivedHeartbeat": heartbeat}]
                }
            }))
            .expect("member"),
        )
    }

    fn counter(topics: &Topics) -> u64 {
        topics
            .subscribe_fleet()
            .borrow()
            .as_deref()
            .copied()
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn heartbeats_are_batched_and_other_changes_reach_pages_at_once() {
        let topics = Topics::default();
        let mut view = FleetView {
            placements: Some(HashMap::new()),
            ..FleetView::default()
        };
        let now = chrono::Utc::now().to_rfc3339();
        view.apply(Event::Init);
        view.apply(Event::InitApply(member("m1", &now, "prod")));
        view.apply(Event::InitDone);
        view.publish(&topics, false);
        assert_eq!(counter(&topics), 1, "the first rows");

        // A heartbeat right after a publication: kept, not published, no page reloads.
        let later = (chrono::Utc::now() + chrono::Duration::seconds(5)).to_rfc3339();
        view.apply(Event::Apply(member("m1", &later, "prod")));
        assert!(view.heartbeats_moved && !view.members_moved);
        view.publish(&topics, true);
        assert_eq!(counter(&topics), 1, "a heartbeat waits for the refresh");
        let published = topics
            .members(Duration::from_millis(10))
            .await
            .expect("rows");
        assert_eq!(
            published[0].last_seen.map(|t| t.to_rfc3339()),
            Some(now.clone())
        );

        // A label change goes out at once, with the heartbeat that waited.
        view.apply(Event::Apply(member("m1", &later, "staging")));
        view.publish(&topics, false);
        assert_eq!(counter(&topics), 2);
        let published = topics
            .members(Duration::from_millis(10))
            .await
            .expect("rows");
        assert_eq!(published[0].labels["env"], "staging");
        assert_eq!(published[0].last_seen.map(|t| t.to_rfc3339()), Some(later));

        // Once the refresh is due, heartbeats go out too.
        view.last_publication = Some(Instant::now() - HEARTBEAT_REFRESH);
        let latest = (chrono::Utc::now() + chrono::Duration::seconds(9)).to_rfc3339();
        view.apply(Event::Apply(member("m1", &latest, "staging")));
        view.publish(&topics, false);
        assert_eq!(counter(&topics), 3);
    }

    #[tokio::test]
    async fn a_silent_member_goes_stale_by_the_clock_alone() {
        let topics = Topics::default();
        let mut view = FleetView {
            placements: Some(HashMap::new()),
            ..FleetView::default()
        };
        let long_ago = (chrono::Utc::now() - chrono::Duration::seconds(179)).to_rfc3339();
        view.apply(Event::Init);
        view.apply(Event::InitApply(member("m1", &long_ago, "prod")));
        view.apply(Event::InitDone);
        view.publish(&topics, false);
        assert_eq!(counter(&topics), 1);
        // 180 s is the limit for a 60 s period; wait until it has passed.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        view.publish(&topics, true);
        assert_eq!(counter(&topics), 2, "stale now: pages are told");
        view.publish(&topics, true);
        assert_eq!(counter(&topics), 2, "and only once");

        // Its agent beats again: published at once, however recent the last publication.
        view.apply(Event::Apply(member(
            "m1",
            &chrono::Utc::now().to_rfc3339(),
            "prod",
        )));
        view.publish(&topics, false);
        assert_eq!(counter(&topics), 3, "joined again");
        let published = topics
            .members(Duration::from_millis(10))
            .await
            .expect("rows");
        assert_eq!(
            query::health(&published[0], chrono::Utc::now()),
            query::Health::Joined
        );
    }
}

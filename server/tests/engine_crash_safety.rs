//! Crash safety (issue 5): the engine keeps all its state on the hub, so killing it anywhere in a
//! rollout and starting it again must change nothing a user can see — the run completes, every
//! member ends on the run's snapshot, and no cluster starts out of stage order.
//!
//! The engine's hub client counts its writes; at the chosen write the engine "dies": that write is
//! lost (or lands, with the answer lost), every later request of that incarnation hangs, and the
//! test aborts the controllers and starts fresh ones (empty caches and queues) on the same hub.
//! Each rollout kills the engine after every k-th write, with k and the two ways of dying varied
//! between rollouts so that the kill points fall everywhere: between a binding's spec and its
//! `RolloutStarted`, between a snapshot group's objects, between an approval's creation and the
//! run status naming it, and so on.

mod fleet_support;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::fleet::placement::binding::BindingState;
use app::fleet::types::condition::{find_condition, is_true_at};
use app::fleet::{
    ClusterApprovalRequest, ClusterResourceBinding, ClusterResourceSnapshot, ClusterStagedUpdateRun,
};
use axum::http::{Method, Request};
use fleet_support::*;
use futures::StreamExt;
use kube::api::{Api, ListParams};
use kube::runtime::{watcher, WatchStreamExt};
use tower::ServiceExt;

/// The demo fleet under seed 001's strategy: staging, then canary by `order`.
const PLAN: [&str; 3] = ["member2", "member3", "member1"];

/// One incarnation's fate: it dies at its `crash_at`-th write.
struct Fate {
    writes: AtomicUsize,
    crash_at: usize,
    /// The fatal write lands on the hub (only its answer is lost), or never arrives.
    write_lands: bool,
    dead: AtomicBool,
    died: tokio::sync::Notify,
}

/// A hub client that dies as `fate` says.
fn mortal_client(
    router: axum::Router,
    crash_at: usize,
    write_lands: bool,
) -> (kube::Client, Arc<Fate>) {
    let fate = Arc::new(Fate {
        writes: AtomicUsize::new(0),
        crash_at,
        write_lands,
        dead: AtomicBool::new(false),
        died: tokio::sync::Notify::new(),
    });
    let service = tower::service_fn({
        let fate = fate.clone();
        move |req: Request<kube::client::Body>| {
            let (router, fate) = (router.clone(), fate.clone());
            async move {
                if fate.dead.load(Ordering::SeqCst) {
                    return std::future::pending().await;
                }
                let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
                if write && fate.writes.fetch_add(1, Ordering::SeqCst) + 1 == fate.crash_at {
                    fate.dead.store(true, Ordering::SeqCst);
                    if fate.write_lands {
                        let _ = router.oneshot(req).await;
                    }
                    fate.died.notify_one();
                    return std::future::pending().await;
                }
                Ok::<_, Infallible>(router.oneshot(req).await.unwrap_or_else(|e| match e {}))
            }
        }
    });
    (kube::Client::new(service, "default"), fate)
}

/// Binding states as the hub's watch reports them, in order.
type BindingEvents = tokio::sync::mpsc::UnboundedReceiver<ClusterResourceBinding>;

fn watch_bindings(hub: &kube::Client) -> (BindingEvents, AbortOnDrop) {
    let api: Api<ClusterResourceBinding> = Api::all(hub.clone());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        let mut stream = watcher(api, watcher::Config::default())
            .applied_objects()
            .boxed();
        while let Some(event) = stream.next().await {
            if let Ok(b) = event {
                let _ = tx.send(b);
            }
        }
    });
    (rx, AbortOnDrop(task))
}

fn on_snapshot(b: &ClusterResourceBinding, snapshot: &str) -> bool {
    b.spec.state == BindingState::Bound
        && b.spec.resource_snapshot_name.as_deref() == Some(snapshot)
}

fn available(b: &ClusterResourceBinding) -> bool {
    let conds = b
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    is_true_at(
        conds,
        "Available",
        b.metadata.generation.unwrap_or_default(),
    )
}

/// Follows the bindings of one rollout to `snapshot`: the order in which clusters were first
/// written Bound to it, and that each started only when every cluster before it in the plan was
/// already Available on it (one stage after the other; canary's maxConcurrency is 1).
#[derive(Default)]
struct OrderCheck {
    latest: BTreeMap<String, ClusterResourceBinding>,
    started: Vec<String>,
    violations: Vec<String>,
}

impl OrderCheck {
    fn see(&mut self, b: ClusterResourceBinding, snapshot: &str) {
        let cluster = b.spec.target_cluster.clone();
        if on_snapshot(&b, snapshot) && !self.started.contains(&cluster) {
            let position = PLAN.iter().position(|c| *c == cluster);
            for earlier in &PLAN[..position.unwrap_or(PLAN.len())] {
                let done = self
                    .latest
                    .get(*earlier)
                    .is_some_and(|e| on_snapshot(e, snapshot) && available(e));
                if !done {
                    self.violations
                        .push(format!("{cluster} started before {earlier} was done"));
                }
            }
            self.started.push(cluster.clone());
        }
        self.latest.insert(cluster, b);
    }
}

/// Rolls run `name` out while killing the engine at every `every`-th write; returns how often it
/// died. Checks the stage order along the way.
async fn rollout_with_crashes(
    fleet: &mut Fleet,
    events: &mut BindingEvents,
    name: &str,
    index: Option<&str>,
    every: usize,
    write_lands: bool,
) -> (usize, ClusterStagedUpdateRun, OrderCheck) {
    while events.try_recv().is_ok() {}
    let (client, mut fate) = mortal_client(fleet.hub_router(), every, write_lands);
    fleet.engine().restart(client).await;
    fleet.run(name, index, "Run").await;
    let runs: Api<ClusterStagedUpdateRun> = Api::all(fleet.hub.clone());
    let mut order = OrderCheck::default();
    let mut target = None;
    let mut crashes = 0;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {name} (crash every {every} writes) did not finish after {crashes} crashes: {:#?}",
            runs.get_opt(name).await
        );
        tokio::select! {
            _ = fate.died.notified() => {
                crashes += 1;
                let (client, next) = mortal_client(fleet.hub_router(), every, write_lands);
                fleet.engine().restart(client).await;
                fate = next;
            }
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        let run = runs.get(name).await.expect("run");
        let status = run.status.as_ref();
        if target.is_none() {
            target = status
                .and_then(|s| s.resource_snapshot_index_used.as_deref())
                .map(|i| format!("{PLACEMENT}-{i}-snapshot"));
        }
        if let Some(snapshot) = &target {
            while let Ok(b) = events.try_recv() {
                order.see(b, snapshot);
            }
        }
        let conds = status
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default();
        if let Some(done) = find_condition(conds, "Succeeded") {
            assert_eq!(
                (done.status.as_str(), done.reason.as_str()),
                ("True", "UpdateRunSucceeded"),
                "run {name} (crash every {every} writes, {crashes} crashes): {:#?}",
                run.status
            );
            // The last binding events may still be in flight.
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Some(snapshot) = &target {
                while let Ok(b) = events.try_recv() {
                    order.see(b, snapshot);
                }
            }
            return (crashes, run, order);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollout_survives_the_engine_dying_at_any_write() {
    let mut fleet = Fleet::start().await;
    fleet.config_map("round-0").await;
    fleet.external_placement().await;
    fleet.seed_strategy().await;
    let _user = fleet.approve_everything();
    let (mut events, _watch) = watch_bindings(&fleet.hub);

    // (crash every k writes, whether the fatal write lands, the run's index, the content).
    // Rounds 0–4 roll out new content (snapshots 0–4); round 5 rolls back to snapshot 1.
    let rounds: [(usize, bool, Option<&str>, &str); 6] = [
        (1, true, None, "round-0"),
        (2, false, None, "round-1"),
        (3, true, None, "round-2"),
        (4, false, None, "round-3"),
        (5, true, None, "round-4"),
        (3, false, Some("1"), "round-1"),
    ];
    let mut total_crashes = 0;
    for (round, (every, lands, index, value)) in rounds.into_iter().enumerate() {
        if index.is_none() {
            fleet.config_map(value).await;
        }
        let name = format!("run-{round}");
        let (crashes, run, order) =
            rollout_with_crashes(&mut fleet, &mut events, &name, index, every, lands).await;
        total_crashes += crashes;
        let context = format!("round {round} (crash every {every} writes, {crashes} crashes)");
        eprintln!("{context}");

        // The run: initialized once on the intended snapshot, every stage and cluster done.
        let status = run.status.as_ref().expect("status");
        let expected_index = index.map_or(round.to_string(), str::to_string);
        assert_eq!(
            status.resource_snapshot_index_used.as_deref(),
            Some(expected_index.as_str()),
            "{context}: a crash during initialization must not make another snapshot"
        );
        let conds = status.conditions.as_deref().unwrap_or_default();
        for (type_, want, reason) in [
            ("Initialized", "True", "UpdateRunInitializedSuccessfully"),
            ("Progressing", "False", "UpdateRunSucceeded"),
            ("Succeeded", "True", "UpdateRunSucceeded"),
        ] {
            let c = find_condition(conds, type_).unwrap_or_else(|| panic!("{context}: no {type_}"));
            assert_eq!(
                (c.status.as_str(), c.reason.as_str()),
                (want, reason),
                "{context}: {type_}"
            );
        }
        let stages = status.stages_status.as_deref().unwrap_or_default();
        let planned: Vec<(String, Vec<String>)> = stages
            .iter()
            .map(|s| {
                (
                    s.stage_name.clone(),
                    s.clusters()
                        .iter()
                        .map(|c| c.cluster_name.clone())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            planned,
            [
                ("staging".to_string(), vec!["member2".to_string()]),
                (
                    "canary".to_string(),
                    vec!["member3".to_string(), "member1".to_string()]
                )
            ],
            "{context}"
        );
        for stage in stages {
            let sc = stage.conditions.as_deref().unwrap_or_default();
            let succeeded =
                find_condition(sc, "Succeeded").map(|c| (c.status.as_str(), c.reason.as_str()));
            assert_eq!(
                succeeded,
                Some(("True", "StageUpdatingSucceeded")),
                "{context}: {}",
                stage.stage_name
            );
            for cluster in stage.clusters() {
                let cc = cluster.conditions.as_deref().unwrap_or_default();
                let succeeded =
                    find_condition(cc, "Succeeded").map(|c| (c.status.as_str(), c.reason.as_str()));
                assert_eq!(
                    succeeded,
                    Some(("True", "ClusterUpdatingSucceeded")),
                    "{context}: {}",
                    cluster.cluster_name
                );
            }
        }

        // The order: clusters started one after the other as planned, never ahead of a stage.
        assert_eq!(order.violations, Vec::<String>::new(), "{context}");
        assert_eq!(
            order.started, PLAN,
            "{context}: order of bindings Bound to the snapshot"
        );

        // The members: every one on the run's snapshot, with its content.
        let snapshot = format!("{PLACEMENT}-{expected_index}-snapshot");
        let bindings: Api<ClusterResourceBinding> = Api::all(fleet.hub.clone());
        let bindings = bindings
            .list(&ListParams::default())
            .await
            .expect("bindings")
            .items;
        assert_eq!(bindings.len(), 3, "{context}: one binding per member");
        for b in &bindings {
            assert!(
                on_snapshot(b, &snapshot) && available(b),
                "{context}: {b:#?}"
            );
        }
        for member in PLAN {
            fleet.wait_member_value(member, value).await;
        }

        // Exactly the two approval requests of this run, approved and accepted once.
        let approvals: Api<ClusterApprovalRequest> = Api::all(fleet.hub.clone());
        let mut mine: Vec<String> = approvals
            .list(
                &ListParams::default()
                    .labels(&format!("kubernetes-fleet.io/targetUpdateRun={name}")),
            )
            .await
            .expect("approvals")
            .items
            .iter()
            .map(|a| a.metadata.name.clone().unwrap_or_default())
            .collect();
        mine.sort();
        assert_eq!(
            mine,
            [
                format!("{name}-after-staging"),
                format!("{name}-before-canary")
            ],
            "{context}"
        );
    }

    // Snapshot groups: one per new content, none from a repeated initialization.
    let snapshots: Api<ClusterResourceSnapshot> = Api::all(fleet.hub.clone());
    let mut masters: Vec<String> = snapshots
        .list(&ListParams::default())
        .await
        .expect("snapshots")
        .items
        .iter()
        .filter_map(|s| s.metadata.name.clone())
        .collect();
    masters.sort();
    assert_eq!(
        masters,
        (0..5)
            .map(|i| format!("{PLACEMENT}-{i}-snapshot"))
            .collect::<Vec<_>>()
    );
    assert!(
        total_crashes >= 20,
        "the engine died only {total_crashes} times"
    );
    fleet.stop().await;
}

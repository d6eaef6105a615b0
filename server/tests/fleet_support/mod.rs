//! Harness for scenarios on a whole embedded fleetdeck in-process (hub, engine, member agent and
//! simulated members — the demo fleet or the test's own —, pods ready at once): applying objects,
//! bounded waits, bindings by cluster, and a user who approves the way `kubectl fleet approve`
//! does. `workload` holds members "updating" until the test releases them; `run_status` reads
//! a run's conditions.
#![allow(dead_code)]

mod run_status;
mod workload;

use std::time::Duration;

use app::fleet::placement::binding::BindingState;
use app::fleet::{ClusterApprovalRequest, ClusterResourceBinding, ClusterStagedUpdateRun};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use serde_json::{json, Value};
use server::cli::ServeArgs;

// Each test binary uses its own share of the harness.
#[allow(unused_imports)]
pub use run_status::*;
#[allow(unused_imports)]
pub use workload::*;

pub const PLACEMENT: &str = "example-placement";
pub const STRATEGY: &str = "example-strategy";
/// On the paused clock the scenarios run on (`#[tokio::test(start_paused = true)]`) time passes
/// only while the whole fleet is idle, so a working engine never comes near this and a broken
/// one fails the test after some thousands of quick polls instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The bounded wait every scenario uses: polls `check` every 20 ms until it returns `Ok`, and
/// after `DEADLINE` panics saying `what` never happened, with the last `Err` (what was seen).
pub async fn eventually<T, E, Fut>(
    what: impl std::fmt::Display,
    mut check: impl FnMut() -> Fut,
) -> T
where
    E: std::fmt::Debug,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let seen = match check().await {
            Ok(done) => return done,
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("{what} never happened; last seen: {seen:#?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A running fleetdeck and a client of its hub.
pub struct Fleet {
    pub running: server::serve::Running,
    pub hub: kube::Client,
    _dir: tempfile::TempDir,
}

impl Fleet {
    pub async fn start() -> Fleet {
        Self::start_with(|args| args).await
    }

    pub async fn start_with(edit: impl FnOnce(ServeArgs) -> ServeArgs) -> Fleet {
        Self::start_in(tempfile::tempdir().expect("temp dir"), edit).await
    }

    /// A fleet of the given members (`(name, "key=value,…")`, lightweight, from a fleet config
    /// file) instead of the demo fleet, driven by watch events alone: the engine's fallback
    /// resyncs are far beyond any test's horizon, as a missed event must fail a test, not be
    /// papered over by a poll.
    pub async fn members(members: &[(&str, &str)]) -> Fleet {
        Self::members_with(members, |args| args).await
    }

    pub async fn members_with(
        members: &[(&str, &str)],
        edit: impl FnOnce(ServeArgs) -> ServeArgs,
    ) -> Fleet {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = String::from("lightweight: true\nmembers:\n");
        for (name, labels) in members {
            config.push_str(&format!("  - name: {name}\n    labels: {{"));
            let pairs: Vec<String> = labels
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').expect("key=value");
                    format!("{k}: \"{v}\"")
                })
                .collect();
            config.push_str(&pairs.join(", "));
            config.push_str("}\n");
        }
        let path = dir.path().join("fleet.yaml");
        std::fs::write(&path, config).expect("fleet config");
        Self::start_in(dir, move |args| {
            edit(ServeArgs {
                fleet_config: Some(path),
                cluster_resync: Duration::from_secs(24 * 3600),
                stage_resync: Duration::from_secs(24 * 3600),
                placement_resync: Duration::from_secs(24 * 3600),
                ..args
            })
        })
        .await
    }

    async fn start_in(dir: tempfile::TempDir, edit: impl FnOnce(ServeArgs) -> ServeArgs) -> Fleet {
        // In memory: nothing outlives a scenario, so nothing needs to wait on SQLite's fsyncs.
        let args = ServeArgs {
            in_memory: true,
            ..ServeArgs::ephemeral(dir.path())
        };
        let running = server::serve::start(edit(args))
            .await
            .expect("fleetdeck starts");
        let hub = running.client.clone();
        Fleet {
            running,
            hub,
            _dir: dir,
        }
    }

    pub async fn stop(self) {
        self.running.shutdown();
        self.running.wait().await.expect("clean shutdown");
    }

    /// The embedded hub's router (for clients that wrap it, like the crash test's).
    pub fn hub_router(&self) -> axum::Router {
        self.running.hub.as_ref().expect("an embedded hub").router()
    }

    /// The engine's controllers (started: `--engine on`).
    pub fn engine(&mut self) -> &mut server::engine::Engine {
        self.running.engine.as_mut().expect("a running engine")
    }

    /// A client of member `name`'s own API.
    pub fn member(&self, name: &str) -> kube::Client {
        self.running
            .members
            .iter()
            .find(|m| m.config.name == name)
            .map(|m| m.client.clone())
            .unwrap_or_else(|| panic!("no member {name}"))
    }

    /// Creates the object, or merge-patches it when it exists (like `kubectl apply` for tests).
    pub async fn apply(&self, object: Value) {
        apply(&self.hub, object).await;
    }

    /// Namespace `test-namespace` with ConfigMap `test-cm` `{key: value}` (the seeds' resources).
    pub async fn config_map(&self, value: &str) {
        self.apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "test-namespace"}}))
            .await;
        self.apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "test-cm", "namespace": "test-namespace"}, "data": {"key": value}}))
            .await;
    }

    /// An External CRP selecting `test-namespace` on every member, once its policy snapshot is
    /// scheduled: a run initialized before that fails for good (spec §9.3, "not fully scheduled
    /// yet" is terminal), so a test creating one at once would be racing the scheduler.
    pub async fn external_placement(&self) {
        self.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
            "metadata": {"name": PLACEMENT},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "test-namespace"}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}}))
            .await;
        wait_policy_scheduled(&self.hub, None, PLACEMENT).await;
    }

    /// Seed 001's strategy: staging (approval after), then canary ordered by `order` (approval
    /// before) — on the demo fleet: member2, then member3, then member1.
    pub async fn seed_strategy(&self) {
        self.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
            "metadata": {"name": STRATEGY},
            "spec": {"stages": [
                {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
                 "afterStageTasks": [{"type": "Approval"}]},
                {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}},
                 "sortingLabelKey": "order", "beforeStageTasks": [{"type": "Approval"}]}]}}))
            .await;
    }

    /// Strategy `example-strategy` with `stages` (created, or its stages replaced).
    pub async fn strategy(&self, stages: Value) {
        self.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
            "metadata": {"name": STRATEGY}, "spec": {"stages": stages}}))
            .await;
    }

    pub async fn run(&self, name: &str, index: Option<&str>, state: &str) {
        let mut spec = json!({"placementName": PLACEMENT, "stagedRolloutStrategyName": STRATEGY, "state": state});
        if let Some(i) = index {
            spec["resourceSnapshotIndex"] = json!(i);
        }
        self.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": name}, "spec": spec}))
            .await;
    }

    pub async fn get_run(&self, name: &str) -> ClusterStagedUpdateRun {
        let runs: Api<ClusterStagedUpdateRun> = Api::all(self.hub.clone());
        runs.get(name).await.expect("run")
    }

    /// Waits until run `name` satisfies `pred`; panics with the last run seen otherwise.
    pub async fn wait_run(
        &self,
        name: &str,
        what: &str,
        pred: impl Fn(&ClusterStagedUpdateRun) -> bool,
    ) -> ClusterStagedUpdateRun {
        let runs: Api<ClusterStagedUpdateRun> = Api::all(self.hub.clone());
        let (runs, pred) = (&runs, &pred);
        eventually(format!("run {name} becoming {what}"), || async move {
            match runs.get_opt(name).await {
                Ok(Some(run)) if pred(&run) => Ok(run),
                other => Err(other.ok().flatten()),
            }
        })
        .await
    }

    /// Waits until ConfigMap `test-cm` on `member` has `key: value`.
    pub async fn wait_member_value(&self, member: &str, value: &str) {
        let cms: Api<ConfigMap> = Api::namespaced(self.member(member), "test-namespace");
        let cms = &cms;
        eventually(
            format!("{member} getting test-cm key={value}"),
            || async move {
                let cm = cms.get_opt("test-cm").await.ok().flatten();
                match member_value(cm.as_ref()).as_deref() == Some(value) {
                    true => Ok(()),
                    false => Err(cm),
                }
            },
        )
        .await
    }

    /// `key` of ConfigMap `test-cm` on `member`, if it is there.
    pub async fn member_value(&self, member: &str) -> Option<String> {
        let cms: Api<ConfigMap> = Api::namespaced(self.member(member), "test-namespace");
        member_value(cms.get_opt("test-cm").await.expect("member get").as_ref())
    }

    /// Changes an annotation of run `name`, which wakes its reconciler: for checks that a
    /// reconcile at that moment decides right, not only that no timer fired.
    pub async fn poke_run(&self, name: &str) {
        let runs: Api<ClusterStagedUpdateRun> = Api::all(self.hub.clone());
        static POKES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let stamp = POKES
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string();
        runs.patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"fleetdeck.test/poke": stamp}}})),
        )
        .await
        .expect("poke");
        self.settle().await;
    }

    /// Sets the run's `spec.state` (`Run`, `Stop`).
    pub async fn set_state(&self, run: &str, state: &str) {
        let runs: Api<ClusterStagedUpdateRun> = Api::all(self.hub.clone());
        runs.patch(
            run,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"state": state}})),
        )
        .await
        .expect("state");
    }

    /// The binding of the placement to `cluster`, if there is one (the scheduler names it with
    /// a random suffix).
    pub async fn binding_opt(&self, cluster: &str) -> Option<ClusterResourceBinding> {
        let bindings: Api<ClusterResourceBinding> = Api::all(self.hub.clone());
        bindings
            .list(
                &ListParams::default()
                    .labels(&format!("kubernetes-fleet.io/parent-CRP={PLACEMENT}")),
            )
            .await
            .expect("bindings")
            .items
            .into_iter()
            .find(|b| b.spec.target_cluster == cluster)
    }

    pub async fn binding(&self, cluster: &str) -> ClusterResourceBinding {
        self.binding_opt(cluster)
            .await
            .unwrap_or_else(|| panic!("no binding for {cluster}"))
    }

    /// Waits until the placement's latest policy snapshot is scheduled and each of `clusters`
    /// has its binding, so a run can initialize and a test can read the bindings.
    pub async fn wait_scheduled(&self, clusters: &[&str]) {
        wait_policy_scheduled(&self.hub, None, PLACEMENT).await;
        for cluster in clusters {
            eventually(format!("a binding for {cluster}"), || async {
                self.binding_opt(cluster).await.ok_or(())
            })
            .await;
        }
    }

    /// Waits until the binding of `cluster` is Bound with `RolloutStarted` at its generation.
    pub async fn wait_bound(&self, cluster: &str) -> ClusterResourceBinding {
        eventually(
            format!("the binding of {cluster} becoming Bound"),
            || async {
                let b = self.binding_opt(cluster).await.ok_or(None)?;
                let conds = b
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_deref())
                    .unwrap_or_default();
                let started = app::fleet::types::condition::is_true_at(
                    conds,
                    "RolloutStarted",
                    b.metadata.generation.unwrap_or_default(),
                );
                match b.spec.state == BindingState::Bound && started {
                    true => Ok(b),
                    false => Err(Some(b)),
                }
            },
        )
        .await
    }

    /// How many of `clusters` have a Bound binding.
    pub async fn bound_count(&self, clusters: &[String]) -> usize {
        let mut count = 0;
        for c in clusters {
            if self.binding_opt(c).await.map(|b| b.spec.state) == Some(BindingState::Bound) {
                count += 1;
            }
        }
        count
    }

    pub async fn approvals(&self) -> Vec<ClusterApprovalRequest> {
        let approvals: Api<ClusterApprovalRequest> = Api::all(self.hub.clone());
        approvals
            .list(&ListParams::default())
            .await
            .expect("approvals")
            .items
    }

    /// The user approves with `observed_generation` (the kubectl plugin uses the current one).
    pub async fn approve(&self, name: &str, observed_generation: i64) {
        let approvals: Api<ClusterApprovalRequest> = Api::all(self.hub.clone());
        approvals
            .patch_status(
                name,
                &PatchParams::default(),
                &Patch::Merge(approved_status(observed_generation)),
            )
            .await
            .expect("approve");
    }

    /// Lets the engine and the agent act on whatever is pending, for checks that nothing more
    /// happens: on the paused clock this returns only after the fleet has been idle for a
    /// second (everything due in that second, such as an error backoff, has run).
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    /// Lets `time` pass at once on the paused clock (a TimedWait, the stuck threshold), then
    /// settles: timers due by then fire, and whatever they start has run.
    pub async fn elapse(&self, time: Duration) {
        tokio::time::advance(time).await;
        self.settle().await;
    }

    /// Plays the user: approves every approval request not yet approved, at its current
    /// generation, until the returned task is aborted.
    pub fn approve_everything(&self) -> AbortOnDrop {
        let approvals: Api<ClusterApprovalRequest> = Api::all(self.hub.clone());
        AbortOnDrop(tokio::spawn(async move {
            loop {
                if let Ok(list) = approvals.list(&Default::default()).await {
                    for a in list.items {
                        let generation = a.metadata.generation.unwrap_or_default();
                        let approved = a
                            .status
                            .as_ref()
                            .and_then(|s| s.conditions.as_deref())
                            .is_some_and(|c| {
                                app::fleet::types::condition::is_true_at(c, "Approved", generation)
                            });
                        if !approved {
                            let _ = approvals
                                .patch_status(
                                    a.metadata.name.as_deref().unwrap_or_default(),
                                    &PatchParams::default(),
                                    &Patch::Merge(approved_status(generation)),
                                )
                                .await;
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }))
    }
}

/// Waits until the latest policy snapshot of `placement` (a CRP, or with `namespace` an RP) is
/// `Scheduled` at its generation, which the scheduler writes once every binding exists.
pub async fn wait_policy_scheduled(
    client: &kube::Client,
    namespace: Option<&str>,
    placement: &str,
) {
    let kind = if namespace.is_some() {
        "SchedulingPolicySnapshot"
    } else {
        "ClusterSchedulingPolicySnapshot"
    };
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "placement.kubernetes-fleet.io",
        "v1beta1",
        kind,
    ));
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let labels = format!(
        "kubernetes-fleet.io/parent-CRP={placement},kubernetes-fleet.io/is-latest-snapshot=true"
    );
    let (api, labels) = (&api, &labels);
    eventually(
        format!("the policy snapshot of {placement} being scheduled"),
        || async move {
            let snapshots = api
                .list(&ListParams::default().labels(labels))
                .await
                .expect("policy snapshots")
                .items;
            let scheduled = snapshots.iter().any(|s| {
                let generation = s.metadata.generation.unwrap_or_default();
                s.data["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| {
                        c["type"] == "Scheduled"
                            && c["status"] == "True"
                            && c["observedGeneration"].as_i64() == Some(generation)
                    })
            });
            match scheduled {
                true => Ok(()),
                false => Err(snapshots),
            }
        },
    )
    .await
}

/// What `kubectl fleet approve clusterapprovalrequest` writes (spec §9.11).
pub fn approved_status(generation: i64) -> Value {
    json!({"status": {"conditions": [{
        "type": "Approved", "status": "True", "reason": "ClusterApprovalRequestApproved",
        "message": "ClusterApprovalRequest has been approved", "observedGeneration": generation,
        "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})
}

fn member_value(cm: Option<&ConfigMap>) -> Option<String> {
    cm?.data.as_ref()?.get("key").cloned()
}

/// A background task that ends with its owner.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub async fn apply(client: &kube::Client, object: Value) {
    let api_version = object["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = object["kind"].as_str().unwrap_or_default().to_string();
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &kind));
    let api: Api<DynamicObject> = match object["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if api.get_opt(&name).await.expect("get").is_some() {
        api.patch(&name, &PatchParams::default(), &Patch::Merge(&object))
            .await
            .expect("patch");
    } else {
        let body: DynamicObject = serde_json::from_value(object).expect("object");
        api.create(&PostParams::default(), &body)
            .await
            .expect("create");
    }
}

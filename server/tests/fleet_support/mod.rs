//! Harness for scenarios on a whole embedded fleetdeck in-process (hub, engine, member agent and
//! the demo fleet's simulated members, pods ready at once): applying objects, bounded waits, and a
//! user who approves every approval request the way `kubectl fleet approve` does.
#![allow(dead_code)]

use std::time::Duration;

use app::fleet::{ClusterApprovalRequest, ClusterStagedUpdateRun};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{json, Value};
use server::cli::ServeArgs;

pub const PLACEMENT: &str = "example-placement";
pub const STRATEGY: &str = "example-strategy";
/// Generous: a broken engine fails the test instead of hanging it; a working one takes a second.
pub const DEADLINE: Duration = Duration::from_secs(60);

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
        let dir = tempfile::tempdir().expect("temp dir");
        let running = server::serve::start(edit(ServeArgs::ephemeral(dir.path())))
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

    /// An External CRP selecting `test-namespace` on every member.
    pub async fn external_placement(&self) {
        self.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
            "metadata": {"name": PLACEMENT},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "test-namespace"}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}}))
            .await;
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
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut last = None;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(run)) = runs.get_opt(name).await {
                if pred(&run) {
                    return run;
                }
                last = Some(run);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("run {name} never became {what}: {last:#?}");
    }

    /// Waits until ConfigMap `test-cm` on `member` has `key: value`.
    pub async fn wait_member_value(&self, member: &str, value: &str) {
        let cms: Api<ConfigMap> = Api::namespaced(self.member(member), "test-namespace");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut last = None;
        while tokio::time::Instant::now() < deadline {
            last = cms.get_opt("test-cm").await.ok().flatten();
            if member_value(last.as_ref()).as_deref() == Some(value) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{member} never got test-cm key={value}: {last:#?}");
    }

    /// `key` of ConfigMap `test-cm` on `member`, if it is there.
    pub async fn member_value(&self, member: &str) -> Option<String> {
        let cms: Api<ConfigMap> = Api::namespaced(self.member(member), "test-namespace");
        member_value(cms.get_opt("test-cm").await.expect("member get").as_ref())
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
                                app::fleet::condition::is_true_at(c, "Approved", generation)
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

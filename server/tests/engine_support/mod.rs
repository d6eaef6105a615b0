//! Scenario harness for the update-run engine: an in-process hub, the engine's controllers, and
//! builders that play the scheduler (policy snapshot, bindings) and the member agent (binding
//! Available at its generation) until those slices exist.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app::fleet::condition::{find_condition, Condition};
use app::fleet::run::exec::Timing;
use app::fleet::{
    ClusterApprovalRequest, ClusterResourceBinding, ClusterResourcePlacement,
    ClusterResourceSnapshot, ClusterSchedulingPolicySnapshot, ClusterStagedUpdateRun,
    ClusterStagedUpdateStrategy, MemberCluster,
};
use hub::Hub;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::Client;
use serde_json::{json, Value};
use server::engine::{self, Config, Context};

pub const PLACEMENT: &str = "example-placement";
pub const STRATEGY: &str = "example-strategy";

/// A hub with the engine running on it.
pub struct Fleet {
    pub client: Client,
    _hub: Hub,
    engine: tokio::task::JoinHandle<()>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        self.engine.abort();
    }
}

/// Fallbacks far beyond any test's horizon, so progress must come from watch events.
pub fn event_driven() -> Config {
    Config {
        timing: Timing {
            cluster_poll: Duration::from_secs(3600),
            stage_wait: Duration::from_secs(3600),
            stuck_threshold: Duration::from_secs(300),
        },
        error_backoff: Duration::from_millis(200),
    }
}

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("test object")
}

impl Fleet {
    pub async fn start() -> Fleet {
        Self::start_with(event_driven()).await
    }

    pub async fn start_with(config: Config) -> Fleet {
        let hub = Hub::memory(server::fleet_kinds::registry());
        let client = Client::new(hub.router(), "default");
        let ctx = Arc::new(Context::new(client.clone(), config));
        let engine = tokio::spawn(engine::update_run::run(ctx));
        Fleet {
            client,
            _hub: hub,
            engine,
        }
    }

    fn api<K: kube::Resource<DynamicType = (), Scope = kube::core::ClusterResourceScope>>(
        &self,
    ) -> Api<K> {
        Api::all(self.client.clone())
    }

    pub async fn member(&self, name: &str, labels: &[(&str, &str)]) {
        let mut l: BTreeMap<&str, &str> = labels.iter().copied().collect();
        l.insert("kubernetes-fleet.io/member-name", name);
        let m: MemberCluster = obj(json!({
            "apiVersion": "cluster.kubernetes-fleet.io/v1beta1", "kind": "MemberCluster",
            "metadata": {"name": name, "labels": l},
            "spec": {"identity": {"kind": "ServiceAccount", "name": "fleet-member-agent", "namespace": "fleet-system"}}
        }));
        self.api::<MemberCluster>()
            .create(&PostParams::default(), &m)
            .await
            .expect("member");
    }

    /// An External CRP, its scheduled policy snapshot 0 and resource snapshots `0..snapshots`.
    pub async fn placement(&self, snapshots: u32) {
        let p: ClusterResourcePlacement = obj(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
            "metadata": {"name": PLACEMENT},
            "spec": {
                "resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "test-namespace"}],
                "policy": {"placementType": "PickAll"},
                "strategy": {"type": "External"}
            }
        }));
        self.api::<ClusterResourcePlacement>()
            .create(&PostParams::default(), &p)
            .await
            .expect("placement");
        let policy: ClusterSchedulingPolicySnapshot = obj(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterSchedulingPolicySnapshot",
            "metadata": {"name": format!("{PLACEMENT}-0"), "labels": {
                "kubernetes-fleet.io/parent-CRP": PLACEMENT,
                "kubernetes-fleet.io/is-latest-snapshot": "true",
                "kubernetes-fleet.io/policy-index": "0"}},
            "spec": {"policy": {"placementType": "PickAll"}, "policyHash": ""}
        }));
        let api = self.api::<ClusterSchedulingPolicySnapshot>();
        let created = api
            .create(&PostParams::default(), &policy)
            .await
            .expect("policy snapshot");
        let g = created.metadata.generation.unwrap_or_default();
        let status = json!({"status": {"conditions": [{"type": "Scheduled", "status": "True",
            "reason": "SchedulingPolicyFulfilled", "message": "", "observedGeneration": g,
            "lastTransitionTime": "2026-01-01T00:00:00Z"}]}});
        api.patch_status(
            created.metadata.name.as_deref().unwrap_or_default(),
            &PatchParams::default(),
            &Patch::Merge(&status),
        )
        .await
        .expect("policy scheduled");
        for i in 0..snapshots {
            self.resource_snapshot(i, i + 1 == snapshots).await;
        }
    }

    pub async fn resource_snapshot(&self, index: u32, latest: bool) {
        let s: ClusterResourceSnapshot = obj(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourceSnapshot",
            "metadata": {"name": format!("{PLACEMENT}-{index}-snapshot"),
                "labels": {"kubernetes-fleet.io/parent-CRP": PLACEMENT,
                    "kubernetes-fleet.io/resource-index": index.to_string(),
                    "kubernetes-fleet.io/is-latest-snapshot": latest.to_string()},
                "annotations": {"kubernetes-fleet.io/resource-hash": format!("{index:064x}"),
                    "kubernetes-fleet.io/number-of-resource-snapshots": "1",
                    "kubernetes-fleet.io/number-of-enveloped-object": "0"}},
            "spec": {"selectedResources": []}
        }));
        self.api::<ClusterResourceSnapshot>()
            .create(&PostParams::default(), &s)
            .await
            .expect("resource snapshot");
    }

    /// The scheduler's binding for `cluster` (state Scheduled); returns its name.
    pub async fn binding(&self, cluster: &str) -> String {
        let name = binding_name(cluster);
        let b: ClusterResourceBinding = obj(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourceBinding",
            "metadata": {"name": name, "labels": {"kubernetes-fleet.io/parent-CRP": PLACEMENT}},
            "spec": {"state": "Scheduled", "targetCluster": cluster,
                "schedulingPolicySnapshotName": format!("{PLACEMENT}-0")}
        }));
        self.api::<ClusterResourceBinding>()
            .create(&PostParams::default(), &b)
            .await
            .expect("binding");
        name
    }

    /// Members with labels, each with a binding.
    pub async fn members(&self, members: &[(&str, &[(&str, &str)])]) {
        for (name, labels) in members {
            self.member(name, labels).await;
            self.binding(name).await;
        }
    }

    pub async fn strategy(&self, stages: Value) {
        let s: ClusterStagedUpdateStrategy = obj(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
            "metadata": {"name": STRATEGY}, "spec": {"stages": stages}
        }));
        self.api::<ClusterStagedUpdateStrategy>()
            .create(&PostParams::default(), &s)
            .await
            .expect("strategy");
    }

    pub async fn run(&self, name: &str, index: Option<&str>, state: &str) {
        let mut spec = json!({"placementName": PLACEMENT, "stagedRolloutStrategyName": STRATEGY, "state": state});
        if let Some(i) = index {
            spec["resourceSnapshotIndex"] = json!(i);
        }
        let r: ClusterStagedUpdateRun = obj(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": name}, "spec": spec
        }));
        self.api::<ClusterStagedUpdateRun>()
            .create(&PostParams::default(), &r)
            .await
            .expect("run");
    }

    pub async fn set_state(&self, run: &str, state: &str) {
        self.api::<ClusterStagedUpdateRun>()
            .patch(
                run,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"state": state}})),
            )
            .await
            .expect("state");
    }

    pub async fn get_run(&self, name: &str) -> ClusterStagedUpdateRun {
        self.api::<ClusterStagedUpdateRun>()
            .get(name)
            .await
            .expect("run")
    }

    pub async fn get_binding(&self, cluster: &str) -> ClusterResourceBinding {
        self.api::<ClusterResourceBinding>()
            .get(&binding_name(cluster))
            .await
            .expect("binding")
    }

    pub async fn approvals(&self) -> Vec<ClusterApprovalRequest> {
        self.api::<ClusterApprovalRequest>()
            .list(&ListParams::default())
            .await
            .expect("approvals")
            .items
    }

    /// The member agent: the binding's work is Applied and Available at its generation.
    pub async fn finish_cluster(&self, cluster: &str) {
        let api = self.api::<ClusterResourceBinding>();
        let b = self.get_binding(cluster).await;
        let g = b.metadata.generation.unwrap_or_default();
        let mut conds = b
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        conds.retain(|c| c.type_ != "Applied" && c.type_ != "Available");
        let mut v = serde_json::to_value(&conds).expect("conds");
        for (t, reason) in [
            ("Applied", "AllWorkHaveBeenApplied"),
            ("Available", "AllWorkAreAvailable"),
        ] {
            v.as_array_mut().expect("array").push(json!({"type": t, "status": "True", "reason": reason,
                "message": "", "observedGeneration": g, "lastTransitionTime": "2026-01-01T00:00:00Z"}));
        }
        api.patch_status(
            &binding_name(cluster),
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"conditions": v}})),
        )
        .await
        .expect("binding status");
    }

    /// The user approves with `observedGeneration` (the kubectl plugin uses the current one).
    pub async fn approve(&self, name: &str, observed_generation: i64) {
        self.api::<ClusterApprovalRequest>()
            .patch_status(name, &PatchParams::default(), &Patch::Merge(json!({"status": {"conditions": [{
                "type": "Approved", "status": "True", "reason": "ClusterApprovalRequestApproved",
                "message": "ClusterApprovalRequest has been approved", "observedGeneration": observed_generation,
                "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})))
            .await
            .expect("approve");
    }

    /// Polls (on the paused clock) until `pred` holds; panics with the last run otherwise.
    pub async fn wait_run(
        &self,
        name: &str,
        what: &str,
        pred: impl Fn(&ClusterStagedUpdateRun) -> bool,
    ) -> ClusterStagedUpdateRun {
        let mut last = None;
        for _ in 0..300 {
            if let Ok(run) = self.api::<ClusterStagedUpdateRun>().get(name).await {
                if pred(&run) {
                    return run;
                }
                last = Some(run);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}: {last:#?}");
    }

    /// Polls until the binding of `cluster` is Bound with `RolloutStarted` at its generation.
    pub async fn wait_bound(&self, cluster: &str) -> ClusterResourceBinding {
        for _ in 0..300 {
            let b = self.get_binding(cluster).await;
            let conds = b
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_deref())
                .unwrap_or_default();
            let started = app::fleet::condition::is_true_at(
                conds,
                "RolloutStarted",
                b.metadata.generation.unwrap_or_default(),
            );
            if b.spec.state == app::fleet::binding::BindingState::Bound && started {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("binding of {cluster} never Bound");
    }

    /// Lets the engine settle without any pending event.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

pub fn binding_name(cluster: &str) -> String {
    format!("{PLACEMENT}-{cluster}-0a1b2c3d")
}

/// `(status, reason, message)` of condition `type_`, or `None`.
pub fn cond(conds: Option<&Vec<Condition>>, type_: &str) -> Option<(String, String, String)> {
    conds
        .and_then(|c| find_condition(c, type_))
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

pub fn sr(status: &str, reason: &str) -> Option<(String, String)> {
    Some((status.to_string(), reason.to_string()))
}

/// `(status, reason)` of condition `type_`.
pub fn cs(conds: Option<&Vec<Condition>>, type_: &str) -> Option<(String, String)> {
    cond(conds, type_).map(|(s, r, _)| (s, r))
}

pub fn run_conds(run: &ClusterStagedUpdateRun) -> Option<&Vec<Condition>> {
    run.status.as_ref().and_then(|s| s.conditions.as_ref())
}

pub fn stage(
    run: &ClusterStagedUpdateRun,
    i: usize,
) -> &app::fleet::staged_update_run::StageUpdatingStatus {
    &run.status
        .as_ref()
        .expect("status")
        .stages_status
        .as_ref()
        .expect("stages")[i]
}

pub fn cluster_names(run: &ClusterStagedUpdateRun, i: usize) -> Vec<String> {
    stage(run, i)
        .clusters()
        .iter()
        .map(|c| c.cluster_name.clone())
        .collect()
}

/// Clusters of stage `i` with `Started` True.
pub fn started(run: &ClusterStagedUpdateRun, i: usize) -> Vec<String> {
    stage(run, i)
        .clusters()
        .iter()
        .filter(|c| cs(c.conditions.as_ref(), "Started").is_some_and(|(s, _)| s == "True"))
        .map(|c| c.cluster_name.clone())
        .collect()
}

/// Clusters of stage `i` with `Succeeded` True.
pub fn succeeded(run: &ClusterStagedUpdateRun, i: usize) -> Vec<String> {
    stage(run, i)
        .clusters()
        .iter()
        .filter(|c| cs(c.conditions.as_ref(), "Succeeded").is_some_and(|(s, _)| s == "True"))
        .map(|c| c.cluster_name.clone())
        .collect()
}

pub fn is_succeeded(run: &ClusterStagedUpdateRun) -> bool {
    cs(run_conds(run), "Succeeded").is_some_and(|(s, _)| s == "True")
}

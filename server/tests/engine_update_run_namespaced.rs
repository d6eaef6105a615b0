//! The namespaced flow (spec §1 scope pairing): a `StagedUpdateRun` drives a `ResourcePlacement`
//! through `ResourceBinding`s and `ApprovalRequest`s in its own namespace, by the same reconciler.

mod engine_support;

use std::time::Duration;

use app::fleet::binding::BindingState;
use app::fleet::{
    ApprovalRequest, ResourceBinding, ResourcePlacement, ResourceSnapshot,
    SchedulingPolicySnapshot, StagedUpdateRun, StagedUpdateStrategy,
};
use engine_support::*;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

const NS: &str = "test-namespace";

async fn create<K>(api: &Api<K>, v: Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let obj: K = serde_json::from_value(v).expect("object");
    api.create(&PostParams::default(), &obj)
        .await
        .expect("create");
}

#[tokio::test(start_paused = true)]
async fn a_namespaced_run_rolls_out_with_namespaced_bindings_and_approvals() {
    let fleet = Fleet::start().await;
    let c = fleet.client.clone();
    let namespaces: Api<Namespace> = Api::all(c.clone());
    create(
        &namespaces,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    )
    .await;
    fleet.member("member1", &[("environment", "staging")]).await;
    let gv = "placement.kubernetes-fleet.io/v1beta1";
    let labels = json!({"kubernetes-fleet.io/parent-CRP": "rp"});
    create(&Api::<ResourcePlacement>::namespaced(c.clone(), NS), json!({"apiVersion": gv, "kind": "ResourcePlacement",
        "metadata": {"name": "rp", "namespace": NS},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "cm"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}})).await;
    let policies = Api::<SchedulingPolicySnapshot>::namespaced(c.clone(), NS);
    create(&policies, json!({"apiVersion": gv, "kind": "SchedulingPolicySnapshot",
        "metadata": {"name": "rp-0", "namespace": NS, "labels": {"kubernetes-fleet.io/parent-CRP": "rp",
            "kubernetes-fleet.io/is-latest-snapshot": "true", "kubernetes-fleet.io/policy-index": "0"}},
        "spec": {"policy": {"placementType": "PickAll"}, "policyHash": ""}})).await;
    policies
        .patch_status("rp-0", &PatchParams::default(), &Patch::Merge(json!({"status": {"conditions": [{
            "type": "Scheduled", "status": "True", "reason": "SchedulingPolicyFulfilled", "message": "",
            "observedGeneration": 1, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})))
        .await
        .expect("scheduled");
    create(&Api::<ResourceSnapshot>::namespaced(c.clone(), NS), json!({"apiVersion": gv, "kind": "ResourceSnapshot",
        "metadata": {"name": "rp-0-snapshot", "namespace": NS,
            "labels": {"kubernetes-fleet.io/parent-CRP": "rp", "kubernetes-fleet.io/resource-index": "0",
                "kubernetes-fleet.io/is-latest-snapshot": "true"},
            "annotations": {"kubernetes-fleet.io/resource-hash": "00", "kubernetes-fleet.io/number-of-resource-snapshots": "1"}},
        "spec": {"selectedResources": []}})).await;
    let bindings = Api::<ResourceBinding>::namespaced(c.clone(), NS);
    create(&bindings, json!({"apiVersion": gv, "kind": "ResourceBinding",
        "metadata": {"name": "rp-member1-0a1b2c3d", "namespace": NS, "labels": labels},
        "spec": {"state": "Scheduled", "targetCluster": "member1", "schedulingPolicySnapshotName": "rp-0"}})).await;
    create(&Api::<StagedUpdateStrategy>::namespaced(c.clone(), NS), json!({"apiVersion": gv, "kind": "StagedUpdateStrategy",
        "metadata": {"name": "s", "namespace": NS},
        "spec": {"stages": [{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
            "beforeStageTasks": [{"type": "Approval"}]}]}})).await;
    let runs = Api::<StagedUpdateRun>::namespaced(c.clone(), NS);
    create(&runs, json!({"apiVersion": gv, "kind": "StagedUpdateRun", "metadata": {"name": "run", "namespace": NS},
        "spec": {"placementName": "rp", "stagedRolloutStrategyName": "s", "resourceSnapshotIndex": "0", "state": "Run"}})).await;

    let approvals = Api::<ApprovalRequest>::namespaced(c.clone(), NS);
    let mut request = None;
    for _ in 0..100 {
        if let Some(r) = approvals.get_opt("run-before-staging").await.expect("get") {
            request = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let request =
        request.expect("the namespaced approval request is created in the run's namespace");
    assert_eq!(request.spec.parent_stage_rollout, "run");
    approvals
        .patch_status("run-before-staging", &PatchParams::default(), &Patch::Merge(json!({"status": {"conditions": [{
            "type": "Approved", "status": "True", "reason": "ApprovalRequestApproved", "message": "ApprovalRequest has been approved",
            "observedGeneration": request.metadata.generation, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})))
        .await
        .expect("approve");

    let mut bound = None;
    for _ in 0..100 {
        let b = bindings.get("rp-member1-0a1b2c3d").await.expect("binding");
        if b.spec.state == BindingState::Bound {
            bound = Some(b);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let b = bound.expect("the namespaced binding is bound");
    assert_eq!(
        b.spec.resource_snapshot_name.as_deref(),
        Some("rp-0-snapshot")
    );
    bindings
        .patch_status("rp-member1-0a1b2c3d", &PatchParams::default(), &Patch::Merge(json!({"status": {"conditions": [
            {"type": "RolloutStarted", "status": "True", "reason": "RolloutStarted", "message": "", "observedGeneration": b.metadata.generation, "lastTransitionTime": "2026-01-01T00:00:00Z"},
            {"type": "Available", "status": "True", "reason": "AllWorkAreAvailable", "message": "", "observedGeneration": b.metadata.generation, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})))
        .await
        .expect("available");
    for _ in 0..100 {
        let run = runs.get("run").await.expect("run");
        let conds = run.status.as_ref().and_then(|s| s.conditions.as_ref());
        if cs(conds, "Succeeded") == sr("True", "UpdateRunSucceeded") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "namespaced run did not succeed: {:#?}",
        runs.get("run").await.expect("run").status
    );
}

//! The namespaced flow (spec §1 scope pairing) on a whole fleetdeck: a `StagedUpdateRun` drives a
//! `ResourcePlacement` through `ResourceBinding`s and `ApprovalRequest`s in its own namespace, by
//! the same reconciler, and the member agent puts the namespaced ConfigMap on the member.

mod fleet_support;

use app::fleet::placement::binding::BindingState;
use app::fleet::{ApprovalRequest, ResourceBinding, StagedUpdateRun};
use fleet_support::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;

const NS: &str = "test-namespace";
const GV: &str = "placement.kubernetes-fleet.io/v1beta1";

/// `key` of ConfigMap `cm` on `member`.
async fn cm_on(fleet: &Fleet, member: &str) -> Option<String> {
    let cms: Api<ConfigMap> = Api::namespaced(fleet.member(member), NS);
    cms.get_opt("cm")
        .await
        .expect("member get")
        .and_then(|cm| cm.data?.get("key").cloned())
}

fn cm(value: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": NS}, "data": {"key": value}})
}

/// Waits for approval request `name` in the run's namespace and approves it, as the user would.
async fn approve(approvals: &Api<ApprovalRequest>, name: &str, run: &str) {
    let request = wait_approval(approvals, name).await;
    assert_eq!(request.spec.parent_stage_rollout, run);
    approvals
        .patch_status(name, &PatchParams::default(), &Patch::Merge(json!({"status": {"conditions": [{
            "type": "Approved", "status": "True", "reason": "ApprovalRequestApproved", "message": "ApprovalRequest has been approved",
            "observedGeneration": request.metadata.generation, "lastTransitionTime": "2026-01-01T00:00:00Z"}]}})))
        .await
        .expect("approve");
}

/// Waits for approval request `name` to be created in the run's namespace.
async fn wait_approval(approvals: &Api<ApprovalRequest>, name: &str) -> ApprovalRequest {
    eventually(
        format!("the namespaced approval request {name} in the run's namespace"),
        || async move { approvals.get_opt(name).await.expect("get").ok_or(()) },
    )
    .await
}

async fn wait_succeeded(runs: &Api<StagedUpdateRun>, name: &str) {
    eventually(format!("namespaced run {name} succeeding"), || async move {
        let run = runs.get(name).await.expect("run");
        let conds = run.status.as_ref().and_then(|s| s.conditions.as_ref());
        match cs(conds, "Succeeded") == sr("True", "UpdateRunSucceeded") {
            true => Ok(()),
            false => Err(run.status),
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_namespaced_run_rolls_out_with_namespaced_bindings_and_approvals() {
    let fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    let c = fleet.hub.clone();
    fleet
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        .await;
    fleet.apply(cm("value1")).await;
    // The namespace itself reaches members through a cluster-scoped placement of it alone, as
    // a ResourcePlacement needs (spec §1).
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ClusterResourcePlacement", "metadata": {"name": "ns-placement"},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": NS,
                                            "selectionScope": "NamespaceOnly"}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}}))
        .await;
    fleet.apply(json!({"apiVersion": GV, "kind": "ResourcePlacement",
        "metadata": {"name": "rp", "namespace": NS},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "cm"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}})).await;
    fleet.apply(json!({"apiVersion": GV, "kind": "StagedUpdateStrategy",
        "metadata": {"name": "s", "namespace": NS},
        "spec": {"stages": [{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
            "beforeStageTasks": [{"type": "Approval"}]}]}})).await;
    let namespaces: Api<Namespace> = Api::all(fleet.member("member1"));
    let namespaces = &namespaces;
    eventually("the namespace reaching member1", || async move {
        namespaces.get_opt(NS).await.expect("get").ok_or(())
    })
    .await;
    assert_eq!(
        cm_on(&fleet, "member1").await,
        None,
        "the namespace alone, not its ConfigMap"
    );

    let bindings = Api::<ResourceBinding>::namespaced(c.clone(), NS);
    let binding = || async {
        bindings
            .list(&ListParams::default().labels("kubernetes-fleet.io/parent-CRP=rp"))
            .await
            .expect("bindings")
            .items
            .into_iter()
            .find(|b| b.spec.target_cluster == "member1")
    };
    let binding = &binding;
    eventually("the scheduler binding rp to member1", || async move {
        binding().await.ok_or(())
    })
    .await;
    wait_policy_scheduled(&c, Some(NS), "rp").await;
    fleet.apply(json!({"apiVersion": GV, "kind": "StagedUpdateRun", "metadata": {"name": "run", "namespace": NS},
        "spec": {"placementName": "rp", "stagedRolloutStrategyName": "s", "state": "Run"}})).await;

    let approvals = Api::<ApprovalRequest>::namespaced(c.clone(), NS);
    let runs = Api::<StagedUpdateRun>::namespaced(c.clone(), NS);
    wait_approval(&approvals, "run-before-staging").await;
    fleet.settle().await;
    assert_eq!(
        binding().await.expect("binding").spec.state,
        BindingState::Scheduled,
        "waits for the approval"
    );
    assert_eq!(cm_on(&fleet, "member1").await, None, "nothing before it");
    approve(&approvals, "run-before-staging", "run").await;

    let b = eventually("the namespaced binding becoming Bound", || async move {
        let b = binding().await.expect("binding");
        match b.spec.state == BindingState::Bound {
            true => Ok(b),
            false => Err(b),
        }
    })
    .await;
    assert_eq!(
        b.spec.resource_snapshot_name.as_deref(),
        Some("rp-0-snapshot")
    );
    wait_succeeded(&runs, "run").await;
    assert_eq!(cm_on(&fleet, "member1").await.as_deref(), Some("value1"));

    // An edit, and a second namespaced run: snapshot 1 replaces the member's ConfigMap.
    fleet.apply(cm("value2")).await;
    fleet.apply(json!({"apiVersion": GV, "kind": "StagedUpdateRun", "metadata": {"name": "run2", "namespace": NS},
        "spec": {"placementName": "rp", "stagedRolloutStrategyName": "s", "state": "Run"}})).await;
    wait_approval(&approvals, "run2-before-staging").await;
    assert_eq!(
        cm_on(&fleet, "member1").await.as_deref(),
        Some("value1"),
        "the old content until the approval"
    );
    approve(&approvals, "run2-before-staging", "run2").await;
    wait_succeeded(&runs, "run2").await;
    assert_eq!(
        binding()
            .await
            .expect("binding")
            .spec
            .resource_snapshot_name
            .as_deref(),
        Some("rp-1-snapshot")
    );
    assert_eq!(cm_on(&fleet, "member1").await.as_deref(), Some("value2"));
    fleet.stop().await;
}

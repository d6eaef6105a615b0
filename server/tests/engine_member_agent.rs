//! The member agent's watch of what it placed (spec §5, §3.2's `whenToApply: Always`): a placed
//! Deployment's pods becoming ready are reported on the binding at once, not at the agent's
//! fallback recheck, and a placed Deployment edited or deleted on the member is put back.

mod fleet_support;

use std::time::Duration;

use app::fleet::placement::binding_status::FailedResourcePlacement;
use app::fleet::types::condition::is_true_at;
use app::fleet::ResourceBinding;
use fleet_support::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;

/// One member, the held workload placed on it by a run of one stage and not yet available.
async fn placed_on_one_member() -> Fleet {
    let fleet = Fleet::members(&[("member1", "environment=canary")]).await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([{"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}}]))
        .await;
    fleet.wait_scheduled(&["member1"]).await;
    fleet.run("example-run", None, "Run").await;
    fleet.wait_bound("member1").await;
    fleet.wait_contents("member1", Contents::of("value1")).await;
    fleet
}

async fn binding_available(fleet: &Fleet) -> bool {
    let b = fleet.binding("member1").await;
    let generation = b.metadata.generation.unwrap_or_default();
    b.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .is_some_and(|c| is_true_at(c, "Available", generation))
}

#[tokio::test(start_paused = true)]
async fn a_deployment_becoming_available_on_the_member_is_reported_at_once() {
    let fleet = placed_on_one_member().await;
    fleet.settle().await;
    assert!(
        !binding_available(&fleet).await,
        "the pods wait for their readiness gate"
    );

    fleet.release("member1", "value1").await;
    // On the paused clock time passes only while the fleet is idle: the member's Deployment
    // reporting ready wakes the agent through its watch with no time passing, while the
    // fallback recheck is 10 s away. Only a missing wake-up can make this take a second.
    let ready = tokio::time::Instant::now();
    eventually("the binding becoming Available", || async {
        binding_available(&fleet).await.then_some(()).ok_or(())
    })
    .await;
    assert!(
        ready.elapsed() < Duration::from_secs(1),
        "Available came {:?} after the Deployment was ready: at a recheck, not on its watch",
        ready.elapsed()
    );
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_placed_deployment_edited_or_deleted_on_the_member_is_put_back() {
    let fleet = placed_on_one_member().await;
    fleet.release("member1", "value1").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    let deployments: Api<Deployment> = Api::namespaced(fleet.member("member1"), "test-namespace");

    // Somebody edits the member directly. The binding is Available, so no recheck is due:
    // only the agent's watch of what it placed can notice.
    deployments
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"template": {"metadata": {"annotations": {VALUE_ANNOTATION: "tampered"}}}}})),
        )
        .await
        .expect("edit on the member");
    fleet.wait_contents("member1", Contents::of("value1")).await;

    deployments
        .delete("web", &DeleteParams::default())
        .await
        .expect("delete on the member");
    fleet.wait_contents("member1", Contents::of("value1")).await;

    // The ConfigMap beside it was never touched.
    assert_eq!(
        fleet.member_value("member1").await.as_deref(),
        Some("value1")
    );
    fleet.stop().await;
}

/// An object the member refuses is reported with the member API's own message (KubeFleet's
/// failed placement carries the API server's error text), never a Rust debug dump: a
/// ResourcePlacement of a ConfigMap whose namespace was never placed on the member.
#[tokio::test(start_paused = true)]
async fn an_apply_failure_on_a_member_reports_the_member_api_message() {
    const NS: &str = "test-namespace";
    const GV: &str = "placement.kubernetes-fleet.io/v1beta1";
    let fleet = Fleet::members(&[("member1", "environment=canary")]).await;
    fleet.config_map("value1").await;
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ResourcePlacement",
            "metadata": {"name": "rp", "namespace": NS},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "test-cm"}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}}))
        .await;
    let bindings: Api<ResourceBinding> = Api::namespaced(fleet.hub.clone(), NS);
    let bindings = &bindings;
    let failed = eventually("the binding reporting a failed placement", || async move {
        let list = bindings.list(&Default::default()).await.expect("bindings");
        let failed = list
            .items
            .iter()
            .filter_map(|b| b.status.as_ref()?.failed_placements.clone())
            .flatten()
            .next();
        failed.ok_or(list.items)
    })
    .await;
    let failed: FailedResourcePlacement =
        serde_json::from_value(failed).expect("a failed placement");
    assert_eq!(
        (failed.resource.kind.as_str(), failed.resource.name.as_str()),
        ("ConfigMap", "test-cm")
    );
    assert_eq!(
        (
            failed.condition.type_.as_str(),
            failed.condition.status.as_str(),
            failed.condition.reason.as_str(),
            failed.condition.message.as_str()
        ),
        (
            "Applied",
            "False",
            "ManifestApplyFailed",
            "Failed to apply the manifest (error: failed to apply the manifest: namespaces \"test-namespace\" not found)"
        )
    );
    let b = &bindings
        .list(&Default::default())
        .await
        .expect("bindings")
        .items[0];
    let conditions = b.status.as_ref().and_then(|s| s.conditions.as_ref());
    assert_eq!(
        cs(conditions, "Applied"),
        sr("False", "NotAllWorkHaveBeenApplied")
    );
    let members: Api<ConfigMap> = Api::namespaced(fleet.member("member1"), NS);
    assert!(members
        .get_opt("test-cm")
        .await
        .expect("member get")
        .is_none());
    fleet.stop().await;
}

//! The member agent's watch of what it placed (spec §5, §3.2's `whenToApply: Always`): a placed
//! Deployment's pods becoming ready are reported on the binding at once, not at the agent's
//! fallback recheck, and a placed Deployment edited or deleted on the member is put back.

mod fleet_support;

use std::time::Duration;

use app::fleet::types::condition::is_true_at;
use fleet_support::*;
use k8s_openapi::api::apps::v1::Deployment;
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

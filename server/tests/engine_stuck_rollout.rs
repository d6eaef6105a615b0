//! Seed 003's stuck rollout on a whole fleetdeck: a Deployment with an image the member cannot
//! pull never becomes available, so after the stuck threshold (`--stuck-threshold`, five minutes)
//! the run reports `UpdateRunStuck` and starts nothing more. Fixing the image on the hub and
//! creating a new run (the seed's remedy) rolls the fix out; the stuck run, whose started
//! cluster the new run rewrote, fails with the pre-emption message naming the binding.

mod fleet_support;

use std::time::Duration;

use app::fleet::types::condition::find_condition;
use app::fleet::{ClusterResourceBinding, ClusterStagedUpdateRun};
use fleet_support::*;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};
use kube::ResourceExt;
use serde_json::json;

fn deployment(image: &str) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx-deployment", "namespace": "test-namespace"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}},
                 "template": {"metadata": {"labels": {"app": "nginx"}},
                              "spec": {"containers": [{"name": "nginx", "image": image}]}}}})
}

fn condition(run: &ClusterStagedUpdateRun, type_: &str) -> Option<(String, String, String)> {
    let c = find_condition(run.status.as_ref()?.conditions.as_deref()?, type_)?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

fn started(run: &ClusterStagedUpdateRun) -> Vec<String> {
    run.status
        .iter()
        .flat_map(|s| s.stages_status.iter().flatten())
        .flat_map(|s| s.clusters())
        .filter(|c| {
            c.conditions
                .as_deref()
                .and_then(|cs| find_condition(cs, "Started"))
                .is_some_and(|c| c.status == "True")
        })
        .map(|c| c.cluster_name.clone())
        .collect()
}

async fn available_replicas(fleet: &Fleet, member: &str) -> Option<i32> {
    let deployments: Api<Deployment> = Api::namespaced(fleet.member(member), "test-namespace");
    deployments
        .get_opt("nginx-deployment")
        .await
        .expect("get deployment")?
        .status?
        .available_replicas
}

#[tokio::test(start_paused = true)]
async fn an_unpullable_image_makes_the_run_stuck_and_a_new_run_with_the_fix_recovers() {
    // The default stuck threshold, KubeFleet's five minutes, passes on the paused clock.
    let fleet = Fleet::start().await;
    fleet.config_map("value1").await;
    fleet.apply(deployment("nginx:INVALID")).await;
    fleet.external_placement().await;
    fleet.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": STRATEGY},
        "spec": {"stages": [
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}},
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}, "sortingLabelKey": "order"}]}}))
        .await;

    fleet.run("example-run", None, "Run").await;
    fleet.wait_member_value("member2", "value1").await;
    fleet.elapse(Duration::from_secs(5 * 60)).await;
    let run = fleet
        .wait_run("example-run", "stuck", |r| {
            condition(r, "Progressing").is_some_and(|c| c.1 == "UpdateRunStuck")
        })
        .await;
    assert_eq!(
        condition(&run, "Progressing"),
        Some((
            "False".into(),
            "UpdateRunStuck".into(),
            "The updateRun is stuck waiting for member2 cluster(s) in stage staging to finish updating, please check placement status for potential errors".into()
        ))
    );
    assert_eq!(condition(&run, "Succeeded"), None, "stuck is not failed");
    assert_eq!(started(&run), ["member2"]);
    // The member has the Deployment, never available; the binding says why.
    fleet.wait_member_value("member2", "value1").await;
    assert_eq!(available_replicas(&fleet, "member2").await, None);
    let bindings: Api<ClusterResourceBinding> = Api::all(fleet.hub.clone());
    let member2 = bindings
        .list(&ListParams::default())
        .await
        .expect("bindings")
        .items
        .into_iter()
        .find(|b| b.spec.target_cluster == "member2")
        .expect("member2's binding");
    let available = member2
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|c| find_condition(c, "Available"))
        .map(|c| c.status.clone());
    assert_eq!(available.as_deref(), Some("False"));
    // Still stuck an hour later: nothing else starts.
    fleet.elapse(Duration::from_secs(3600)).await;
    let run = fleet.get_run("example-run").await;
    assert_eq!(started(&run), ["member2"]);
    for member in ["member1", "member3"] {
        assert_eq!(fleet.member_value(member).await, None, "{member} untouched");
    }

    // The fix, then a new run: snapshot 1 reaches every member and becomes available.
    fleet.apply(deployment("nginx:1.27")).await;
    fleet.run("fixed-run", None, "Run").await;
    let fixed = fleet
        .wait_run("fixed-run", "finished", |r| {
            condition(r, "Succeeded").is_some()
        })
        .await;
    assert_eq!(
        condition(&fixed, "Succeeded").map(|c| (c.0, c.1)),
        Some(("True".into(), "UpdateRunSucceeded".into()))
    );
    assert_eq!(
        fixed
            .status
            .as_ref()
            .and_then(|s| s.resource_snapshot_index_used.as_deref()),
        Some("1")
    );
    for member in ["member1", "member2", "member3"] {
        assert_eq!(
            available_replicas(&fleet, member).await,
            Some(2),
            "{member}"
        );
    }

    // The stuck run lost its started cluster to the new run (spec §9.5.A.4, §9.9).
    let run = fleet
        .wait_run("example-run", "pre-empted", |r| {
            condition(r, "Succeeded").is_some()
        })
        .await;
    let message = format!(
        "cannot continue the updateRun: failed to process the request due to a client error: the binding of the updating cluster `member2` in the stage `staging` is not up-to-date with the desired status, please check the status of binding `{}` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster",
        member2.name_any()
    );
    assert_eq!(
        condition(&run, "Succeeded"),
        Some(("False".into(), "UpdateRunFailed".into(), message))
    );
    fleet.stop().await;
}

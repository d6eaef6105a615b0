//! Spec §10.4, the canonical acceptance scenario, on a whole fleetdeck (cluster scope): run A
//! without an index creates snapshot 0; an edit on the hub reaches no member and makes no snapshot
//! until run B, which creates snapshot 1 and moves the clusters stage by stage; run C with
//! `resourceSnapshotIndex: "0"` rolls the old content back while snapshot 1 stays latest.

mod fleet_support;

use std::time::Duration;

use app::fleet::types::condition::find_condition;
use app::fleet::{ClusterApprovalRequest, ClusterResourcePlacement, ClusterResourceSnapshot};
use fleet_support::*;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::ResourceExt;

/// Member name → observed resource index, from the CRP's per-cluster statuses.
async fn crp_indices(fleet: &Fleet) -> Vec<(String, String)> {
    let crps: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    let crp = crps.get(PLACEMENT).await.expect("crp");
    let mut indices: Vec<(String, String)> = crp
        .status
        .and_then(|s| s.placement_statuses)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            (
                p.cluster_name.unwrap_or_default(),
                p.observed_resource_index.unwrap_or_default(),
            )
        })
        .collect();
    indices.sort();
    indices
}

async fn wait_crp_indices(fleet: &Fleet, want: [(&str, &str); 3]) {
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(c, i)| (c.to_string(), i.to_string()))
        .collect();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut last = Vec::new();
    while tokio::time::Instant::now() < deadline {
        last = crp_indices(fleet).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("CRP per-cluster indices never became {want:?}: {last:?}");
}

async fn approve(fleet: &Fleet, name: &str) {
    let approvals: Api<ClusterApprovalRequest> = Api::all(fleet.hub.clone());
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let request = loop {
        if let Some(a) = approvals.get_opt(name).await.expect("get approval") {
            break a;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no approval request {name}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let labels = request.labels();
    let (run, stage) = name.split_once('-').expect("approval name");
    assert_eq!(
        labels
            .get("kubernetes-fleet.io/targetUpdateRun")
            .map(String::as_str),
        Some(run)
    );
    assert!(stage.ends_with(
        labels
            .get("kubernetes-fleet.io/targetUpdatingStage")
            .map(String::as_str)
            .unwrap_or("?")
    ));
    approvals
        .patch_status(
            name,
            &PatchParams::default(),
            &Patch::Merge(approved_status(
                request.metadata.generation.unwrap_or_default(),
            )),
        )
        .await
        .expect("approve");
}

async fn succeeded(fleet: &Fleet, run: &str) -> app::fleet::ClusterStagedUpdateRun {
    fleet
        .wait_run(run, "Succeeded", |r| {
            r.status
                .as_ref()
                .and_then(|s| s.conditions.as_deref())
                .and_then(|c| find_condition(c, "Succeeded"))
                .is_some()
        })
        .await
}

fn index_used(run: &app::fleet::ClusterStagedUpdateRun) -> Option<&str> {
    run.status.as_ref()?.resource_snapshot_index_used.as_deref()
}

fn succeeded_reason(run: &app::fleet::ClusterStagedUpdateRun) -> Option<(String, String)> {
    let c = find_condition(run.status.as_ref()?.conditions.as_deref()?, "Succeeded")?;
    Some((c.status.clone(), c.reason.clone()))
}

async fn latest_snapshot(fleet: &Fleet) -> Vec<String> {
    let snapshots: Api<ClusterResourceSnapshot> = Api::all(fleet.hub.clone());
    snapshots
        .list(&ListParams::default().labels("kubernetes-fleet.io/is-latest-snapshot=true"))
        .await
        .expect("snapshots")
        .items
        .iter()
        .map(|s| s.name_any())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn rollout_then_edit_then_new_run_then_rollback_to_index_zero() {
    let fleet = Fleet::start().await;
    fleet.config_map("value1").await;
    fleet.external_placement().await;
    fleet.seed_strategy().await;
    let done = |r: &str| (r.to_string(), "UpdateRunSucceeded".to_string());

    // Run A, no index: snapshot 0, staging, approvals, canary.
    fleet.run("runa", None, "Run").await;
    fleet.wait_member_value("member2", "value1").await;
    approve(&fleet, "runa-after-staging").await;
    approve(&fleet, "runa-before-canary").await;
    let run = succeeded(&fleet, "runa").await;
    assert_eq!(succeeded_reason(&run), Some(done("True")));
    assert_eq!(index_used(&run), Some("0"));
    assert_eq!(
        run.spec.resource_snapshot_index, None,
        "the spec index stays empty"
    );
    wait_crp_indices(
        &fleet,
        [("member1", "0"), ("member2", "0"), ("member3", "0")],
    )
    .await;
    let crps: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    let crp = crps.get(PLACEMENT).await.expect("crp");
    assert_eq!(
        crp.status
            .and_then(|s| s.observed_resource_index)
            .as_deref(),
        Some("0")
    );

    // An edit on the hub: members unchanged, no snapshot 1.
    fleet.config_map("value2").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    for member in ["member1", "member2", "member3"] {
        assert_eq!(fleet.member_value(member).await.as_deref(), Some("value1"));
    }
    assert_eq!(
        latest_snapshot(&fleet).await,
        [format!("{PLACEMENT}-0-snapshot")]
    );

    // Run B, no index: snapshot 1; staging first, canary only after the approvals.
    fleet.run("runb", None, "Run").await;
    fleet.wait_member_value("member2", "value2").await;
    wait_crp_indices(
        &fleet,
        [("member1", "0"), ("member2", "1"), ("member3", "0")],
    )
    .await;
    assert_eq!(
        latest_snapshot(&fleet).await,
        [format!("{PLACEMENT}-1-snapshot")]
    );
    assert_eq!(
        fleet.member_value("member1").await.as_deref(),
        Some("value1")
    );
    assert_eq!(
        fleet.member_value("member3").await.as_deref(),
        Some("value1")
    );
    approve(&fleet, "runb-after-staging").await;
    approve(&fleet, "runb-before-canary").await;
    let run = succeeded(&fleet, "runb").await;
    assert_eq!(succeeded_reason(&run), Some(done("True")));
    assert_eq!(index_used(&run), Some("1"));
    wait_crp_indices(
        &fleet,
        [("member1", "1"), ("member2", "1"), ("member3", "1")],
    )
    .await;
    for member in ["member1", "member2", "member3"] {
        fleet.wait_member_value(member, "value2").await;
    }

    // Run C, index "0": the same stages roll the old content back; snapshot 1 stays latest.
    fleet.run("runc", Some("0"), "Run").await;
    fleet.wait_member_value("member2", "value1").await;
    wait_crp_indices(
        &fleet,
        [("member1", "1"), ("member2", "0"), ("member3", "1")],
    )
    .await;
    approve(&fleet, "runc-after-staging").await;
    approve(&fleet, "runc-before-canary").await;
    let run = succeeded(&fleet, "runc").await;
    assert_eq!(succeeded_reason(&run), Some(done("True")));
    assert_eq!(index_used(&run), Some("0"));
    assert_eq!(run.spec.resource_snapshot_index.as_deref(), Some("0"));
    wait_crp_indices(
        &fleet,
        [("member1", "0"), ("member2", "0"), ("member3", "0")],
    )
    .await;
    for member in ["member1", "member2", "member3"] {
        fleet.wait_member_value(member, "value1").await;
    }
    let crp = crps.get(PLACEMENT).await.expect("crp");
    assert_eq!(
        crp.status
            .and_then(|s| s.observed_resource_index)
            .as_deref(),
        Some("0")
    );
    assert_eq!(
        latest_snapshot(&fleet).await,
        [format!("{PLACEMENT}-1-snapshot")]
    );
    fleet.stop().await;
}

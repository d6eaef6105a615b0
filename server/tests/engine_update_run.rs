//! Staged update run scenarios (spec §9) on a whole fleetdeck: the real scheduler writes the
//! bindings, the member agent applies snapshots to simulated members, and each member stays
//! "updating" until the test releases its workload (`fleet_support::workload`).

mod fleet_support;

use app::fleet::placement::binding::BindingState;
use fleet_support::*;
use serde_json::json;

const SEED_FLEET: [(&str, &str); 3] = [
    ("member1", "environment=canary,order=2"),
    ("member2", "environment=staging"),
    ("member3", "environment=canary,order=1"),
];

#[tokio::test(start_paused = true)]
async fn initialize_then_review_then_run_rolls_out_in_stage_and_cluster_order() {
    let fleet = Fleet::members(&SEED_FLEET).await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}},
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}, "sortingLabelKey": "order"}
        ]))
        .await;
    fleet
        .wait_scheduled(&["member1", "member2", "member3"])
        .await;
    // Snapshot 0 comes from a run without an index; this one names it, as the seed's does.
    fleet.run("snapshot-run", None, "Initialize").await;
    fleet
        .wait_run("snapshot-run", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    fleet.run("example-run", Some("0"), "Initialize").await;

    let run = fleet
        .wait_run("example-run", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Initialized"),
        Some((
            "True".into(),
            "UpdateRunInitializedSuccessfully".into(),
            "The UpdateRun initialized successfully".into()
        ))
    );
    assert_eq!(
        cs(run_conds(&run), "Progressing"),
        None,
        "review state has no Progressing"
    );
    assert_eq!(cluster_names(&run, 0), ["member2"]);
    assert_eq!(
        cluster_names(&run, 1),
        ["member3", "member1"],
        "sorted by the order label"
    );
    fleet.settle().await;
    assert_eq!(
        fleet.binding("member2").await.spec.state,
        BindingState::Scheduled
    );
    for member in ["member1", "member2", "member3"] {
        assert_eq!(
            fleet.contents(member).await,
            Contents::NONE,
            "{member}: a reviewed run places nothing"
        );
    }

    fleet.set_state("example-run", "Run").await;
    let b = fleet.wait_bound("member2").await;
    assert_eq!(
        b.spec.resource_snapshot_name.as_deref(),
        Some("example-placement-0-snapshot")
    );
    let rs = cond(
        b.status.as_ref().and_then(|s| s.conditions.as_ref()),
        "RolloutStarted",
    )
    .expect("RolloutStarted");
    assert_eq!(rs.1, "RolloutStarted");
    assert_eq!(rs.2, "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: 0, updateRun: example-run");
    fleet.wait_contents("member2", Contents::of("value1")).await;
    assert_eq!(
        fleet.binding("member3").await.spec.state,
        BindingState::Scheduled
    );
    for member in ["member1", "member3"] {
        assert_eq!(
            fleet.contents(member).await,
            Contents::NONE,
            "{member} waits for staging"
        );
    }

    fleet.release("member2", "value1").await;
    fleet.wait_bound("member3").await;
    fleet.wait_contents("member3", Contents::of("value1")).await;
    fleet.settle().await;
    assert_eq!(
        fleet.binding("member1").await.spec.state,
        BindingState::Scheduled,
        "maxConcurrency 1"
    );
    assert_eq!(fleet.contents("member1").await, Contents::NONE);
    fleet.release("member3", "value1").await;
    fleet.wait_bound("member1").await;
    fleet.release("member1", "value1").await;

    let run = fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    assert_eq!(
        cond(run_conds(&run), "Succeeded"),
        Some((
            "True".into(),
            "UpdateRunSucceeded".into(),
            "All stages are completed successfully".into()
        ))
    );
    assert_eq!(
        cs(run_conds(&run), "Progressing"),
        sr("False", "UpdateRunSucceeded")
    );
    for i in 0..2 {
        assert_eq!(
            cs(stage(&run, i).conditions.as_ref(), "Succeeded"),
            sr("True", "StageUpdatingSucceeded")
        );
        assert_eq!(
            cs(stage(&run, i).conditions.as_ref(), "Progressing"),
            sr("False", "StageUpdatingSucceeded")
        );
    }
    assert_eq!(succeeded(&run, 1), ["member3", "member1"]);
    let deletion = run
        .status
        .as_ref()
        .and_then(|s| s.deletion_stage_status.as_ref())
        .expect("deletion stage");
    assert_eq!(deletion.stage_name, "kubernetes-fleet.io/deleteStage");
    assert_eq!(
        cs(deletion.conditions.as_ref(), "Succeeded"),
        sr("True", "StageUpdatingSucceeded")
    );
    let generation = run.metadata.generation;
    assert!(run_conds(&run)
        .expect("conds")
        .iter()
        .all(|c| c.observed_generation == generation));
    assert_eq!(
        run.metadata.finalizers.as_deref(),
        Some(&["kubernetes-fleet.io/stagedupdaterun-finalizer".to_string()][..])
    );
    for member in ["member1", "member2", "member3"] {
        assert_eq!(fleet.contents(member).await, Contents::of("value1"));
    }
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_deletion_stage_removes_unscheduled_bindings_after_the_last_stage() {
    let fleet = Fleet::members(&[
        ("member1", "environment=staging"),
        ("member2", "environment=gone"),
    ])
    .await;
    // Run one places snapshot 0 on both members.
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}},
            {"name": "gone", "labelSelector": {"matchLabels": {"environment": "gone"}}}]))
        .await;
    fleet.wait_scheduled(&["member1", "member2"]).await;
    fleet.run("first-run", None, "Run").await;
    fleet.release("member1", "value1").await;
    fleet.release("member2", "value1").await;
    fleet.wait_run("first-run", "Succeeded", is_succeeded).await;

    // The scheduler de-selects member2 (spec §5): its binding becomes Unscheduled.
    fleet
        .apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
            "metadata": {"name": PLACEMENT},
            "spec": {"policy": {"placementType": "PickAll", "affinity": {"clusterAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                    {"labelSelector": {"matchLabels": {"environment": "staging"}}}]}}}}}}))
        .await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while fleet.binding("member2").await.spec.state != BindingState::Unscheduled {
        assert!(
            tokio::time::Instant::now() < deadline,
            "member2 never unscheduled"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    wait_policy_scheduled(&fleet.hub, None, PLACEMENT).await;
    fleet
        .strategy(json!([{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]))
        .await;
    fleet.held_workload("value2").await;
    fleet.run("example-run", None, "Run").await;
    let run = fleet
        .wait_run("example-run", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    let deletion = run
        .status
        .as_ref()
        .and_then(|s| s.deletion_stage_status.as_ref())
        .expect("deletion stage");
    assert_eq!(
        deletion
            .clusters()
            .iter()
            .map(|c| c.cluster_name.as_str())
            .collect::<Vec<_>>(),
        ["member2"]
    );
    fleet.wait_bound("member1").await;
    fleet.wait_contents("member1", Contents::of("value2")).await;
    fleet.settle().await;
    assert!(
        fleet.binding_opt("member2").await.is_some(),
        "not before the stages finish"
    );
    assert_eq!(
        fleet.contents("member2").await,
        Contents::of("value1"),
        "an unscheduled member keeps what it has until its binding is deleted"
    );

    fleet.release("member1", "value2").await;
    let run = fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    assert!(
        fleet.binding_opt("member2").await.is_none(),
        "unscheduled binding deleted"
    );
    assert_eq!(
        fleet.contents("member2").await,
        Contents::NONE,
        "the deleted binding's resources left member2"
    );
    assert_eq!(fleet.contents("member1").await, Contents::of("value2"));
    let deletion = run
        .status
        .as_ref()
        .and_then(|s| s.deletion_stage_status.as_ref())
        .expect("deletion stage");
    assert_eq!(
        cs(deletion.clusters()[0].conditions.as_ref(), "Succeeded"),
        sr("True", "ClusterUpdatingSucceeded")
    );
    assert_eq!(
        cs(deletion.conditions.as_ref(), "Progressing"),
        sr("False", "StageUpdatingSucceeded")
    );
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_run_without_an_index_creates_snapshot_zero_then_one_after_a_change() {
    let fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    fleet.config_map("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]))
        .await;
    fleet.wait_scheduled(&["member1"]).await;
    let snapshots: kube::Api<app::fleet::ClusterResourceSnapshot> =
        kube::Api::all(fleet.hub.clone());

    fleet.run("run-a", None, "Initialize").await;
    let run = fleet
        .wait_run("run-a", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    assert_eq!(
        cs(run_conds(&run), "Initialized"),
        sr("True", "UpdateRunInitializedSuccessfully")
    );
    assert_eq!(
        run.status
            .as_ref()
            .and_then(|s| s.resource_snapshot_index_used.as_deref()),
        Some("0")
    );
    let s0 = snapshots
        .get("example-placement-0-snapshot")
        .await
        .expect("snapshot 0");
    assert_eq!(
        s0.spec.selected_resources.len(),
        2,
        "the namespace and its ConfigMap"
    );

    fleet.config_map("value2").await;
    fleet.run("run-b", None, "Initialize").await;
    let run = fleet
        .wait_run("run-b", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    assert_eq!(
        run.status
            .as_ref()
            .and_then(|s| s.resource_snapshot_index_used.as_deref()),
        Some("1")
    );
    let s0 = snapshots
        .get("example-placement-0-snapshot")
        .await
        .expect("snapshot 0");
    assert_eq!(
        s0.labels()
            .get("kubernetes-fleet.io/is-latest-snapshot")
            .map(String::as_str),
        Some("false")
    );
    assert_eq!(
        run.spec.resource_snapshot_index, None,
        "the spec index stays empty"
    );
    fleet.settle().await;
    assert_eq!(
        fleet.member_value("member1").await,
        None,
        "initializing places nothing"
    );

    // Run A, started after the edit, still rolls out the snapshot it initialized with.
    fleet.set_state("run-a", "Run").await;
    fleet.wait_run("run-a", "Succeeded", is_succeeded).await;
    assert_eq!(
        fleet.member_value("member1").await.as_deref(),
        Some("value1")
    );
    fleet.set_state("run-b", "Run").await;
    fleet.wait_run("run-b", "Succeeded", is_succeeded).await;
    assert_eq!(
        fleet.member_value("member1").await.as_deref(),
        Some("value2")
    );
    fleet.stop().await;
}

/// Spec §9.3: the resource snapshot comes at step 5, so a run that fails initialization before
/// it — no strategy (step 4), a policy snapshot not fully scheduled (step 2) — creates none.
#[tokio::test(start_paused = true)]
async fn a_run_failing_initialization_before_the_snapshot_step_creates_no_snapshot() {
    let fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    fleet.config_map("value1").await;
    fleet.external_placement().await;
    let snapshots: kube::Api<app::fleet::ClusterResourceSnapshot> =
        kube::Api::all(fleet.hub.clone());
    let snapshot_names = || async {
        snapshots
            .list(&Default::default())
            .await
            .expect("resource snapshots")
            .items
            .iter()
            .map(|s| s.metadata.name.clone().unwrap_or_default())
            .collect::<Vec<_>>()
    };

    // No strategy `example-strategy`.
    fleet.run("run-a", None, "Initialize").await;
    let run = fleet
        .wait_run("run-a", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Initialized"),
        Some((
            "False".into(),
            "UpdateRunInitializedFailed".into(),
            "cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: referenced updateStrategy not found: `/example-strategy`".into()
        ))
    );
    fleet.settle().await;
    assert_eq!(snapshot_names().await, Vec::<String>::new());

    // PickN of 2 on a one-member fleet: its policy snapshot is never Scheduled True.
    fleet
        .strategy(json!([{"name": "staging", "labelSelector": {}}]))
        .await;
    fleet.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": "pick-two"},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "test-namespace"}],
                 "policy": {"placementType": "PickN", "numberOfClusters": 2}, "strategy": {"type": "External"}}}))
        .await;
    let policies: kube::Api<app::fleet::ClusterSchedulingPolicySnapshot> =
        kube::Api::all(fleet.hub.clone());
    let policies = &policies;
    eventually("pick-two-0 having a Scheduled condition", || async move {
        let policy = policies
            .get_opt("pick-two-0")
            .await
            .expect("policy snapshot");
        match policy.as_ref().and_then(|p| p.status.as_ref()) {
            Some(s) if cs(s.conditions.as_ref(), "Scheduled").is_some() => Ok(()),
            _ => Err(policy),
        }
    })
    .await;
    fleet.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
        "metadata": {"name": "run-b"},
        "spec": {"placementName": "pick-two", "stagedRolloutStrategyName": STRATEGY, "state": "Initialize"}}))
        .await;
    let run = fleet
        .wait_run("run-b", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Initialized"),
        Some((
            "False".into(),
            "UpdateRunInitializedFailed".into(),
            "cannot continue the updateRun: failed to validate the updateRun: policy snapshot `pick-two-0` not fully scheduled yet".into()
        ))
    );
    fleet.settle().await;
    assert_eq!(snapshot_names().await, Vec::<String>::new());
    fleet.stop().await;
}

/// placement-extras §5.2 row 4 (§5.3's typical moment): after a run, a policy change re-points
/// the binding to the new policy snapshot, so its `RolloutStarted` is stale until a run writes
/// it again. The placement keeps the observed index and its resources, and goes Unknown.
#[tokio::test(start_paused = true)]
async fn a_stale_rollout_keeps_the_external_placements_index_and_goes_unknown() {
    let fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    fleet.config_map("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([{"name": "all", "labelSelector": {}}]))
        .await;
    fleet.wait_scheduled(&["member1"]).await;
    fleet.run("run-a", None, "Run").await;
    fleet.wait_run("run-a", "Succeeded", is_succeeded).await;

    // Any policy change but N makes a new policy snapshot (§3.7).
    fleet.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": PLACEMENT},
        "spec": {"policy": {"placementType": "PickAll", "affinity": {"clusterAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"labelSelector": {"matchLabels": {"environment": "staging"}}}]}}}}}}))
        .await;
    let placements: kube::Api<app::fleet::ClusterResourcePlacement> =
        kube::Api::all(fleet.hub.clone());
    let placements = &placements;
    let crp = eventually(
        "the placement going Unknown on a stale binding",
        || async move {
            let crp = placements.get(PLACEMENT).await.expect("placement");
            let conditions = crp.status.as_ref().and_then(|s| s.conditions.as_ref());
            match cs(conditions, "ClusterResourcePlacementRolloutStarted") {
                Some((status, _)) if status == "Unknown" => Ok(crp),
                _ => Err(crp.status),
            }
        },
    )
    .await;
    let status = crp.status.as_ref().expect("status");
    let conditions = status.conditions.as_ref();
    assert_eq!(
        cond(conditions, "ClusterResourcePlacementRolloutStarted"),
        Some((
            "Unknown".into(),
            "RolloutControlledByExternalController".into(),
            "Rollout is controlled by an external controller and cluster member1 is in RolloutStarted Unknown state".into()
        ))
    );
    assert_eq!(
        conditions
            .into_iter()
            .flatten()
            .map(|c| c.type_.as_str())
            .collect::<Vec<_>>(),
        [
            "ClusterResourcePlacementScheduled",
            "ClusterResourcePlacementRolloutStarted"
        ],
        "later condition types removed"
    );
    assert_eq!(status.observed_resource_index.as_deref(), Some("0"));
    let mut selected: Vec<(String, String)> = status
        .selected_resources
        .iter()
        .flatten()
        .map(|r| (r.kind.clone(), r.name.clone()))
        .collect();
    selected.sort();
    assert_eq!(
        selected,
        [
            ("ConfigMap".to_string(), "test-cm".to_string()),
            ("Namespace".to_string(), "test-namespace".to_string())
        ]
    );
    let per_cluster = status.placement_statuses.as_deref().unwrap_or_default();
    assert_eq!(
        cond(per_cluster[0].conditions.as_ref(), "RolloutStarted"),
        Some((
            "Unknown".into(),
            "RolloutStartedUnknown".into(),
            "In the process of deciding whether to roll out some version of the resources or not"
                .into()
        ))
    );
    assert_eq!(
        fleet.member_value("member1").await.as_deref(),
        Some("value1"),
        "the member keeps what the run placed"
    );
    fleet.stop().await;
}

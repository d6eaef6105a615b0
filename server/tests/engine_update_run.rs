//! Staged update run scenarios (spec §9) against the in-process hub, on tokio's paused clock.

mod engine_support;

use engine_support::*;
use serde_json::json;

#[tokio::test(start_paused = true)]
async fn initialize_then_review_then_run_rolls_out_in_stage_and_cluster_order() {
    let fleet = Fleet::start().await;
    fleet.placement(1).await;
    fleet
        .members(&[
            ("member1", &[("environment", "canary"), ("order", "2")]),
            ("member2", &[("environment", "staging")]),
            ("member3", &[("environment", "canary"), ("order", "1")]),
        ])
        .await;
    fleet
        .strategy(json!([
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}},
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}, "sortingLabelKey": "order"}
        ]))
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
        fleet.get_binding("member2").await.spec.state,
        app::fleet::binding::BindingState::Scheduled
    );

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
    assert_eq!(
        fleet.get_binding("member3").await.spec.state,
        app::fleet::binding::BindingState::Scheduled
    );

    fleet.finish_cluster("member2").await;
    fleet.wait_bound("member3").await;
    fleet.settle().await;
    assert_eq!(
        fleet.get_binding("member1").await.spec.state,
        app::fleet::binding::BindingState::Scheduled,
        "maxConcurrency 1"
    );
    fleet.finish_cluster("member3").await;
    fleet.wait_bound("member1").await;
    fleet.finish_cluster("member1").await;

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
}

#[tokio::test(start_paused = true)]
async fn the_deletion_stage_removes_unscheduled_bindings_after_the_last_stage() {
    let fleet = Fleet::start().await;
    fleet.placement(1).await;
    fleet
        .members(&[
            ("member1", &[("environment", "staging")]),
            ("member2", &[("environment", "gone")]),
        ])
        .await;
    // The scheduler de-selected member2 (spec §5): its binding is Unscheduled.
    let api: kube::Api<app::fleet::ClusterResourceBinding> = kube::Api::all(fleet.client.clone());
    api.patch(
        &binding_name("member2"),
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"spec": {"state": "Unscheduled"}})),
    )
    .await
    .expect("unschedule");
    fleet
        .strategy(json!([{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]))
        .await;
    fleet.run("example-run", Some("0"), "Run").await;
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
    fleet.settle().await;
    assert!(
        api.get_opt(&binding_name("member2"))
            .await
            .expect("get")
            .is_some(),
        "not before the stages finish"
    );

    fleet.finish_cluster("member1").await;
    let run = fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    assert!(
        api.get_opt(&binding_name("member2"))
            .await
            .expect("get")
            .is_none(),
        "unscheduled binding deleted"
    );
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
}

#[tokio::test(start_paused = true)]
async fn a_run_without_an_index_creates_snapshot_zero_then_one_after_a_change() {
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    let fleet = Fleet::start().await;
    let namespaces: kube::Api<Namespace> = kube::Api::all(fleet.client.clone());
    let ns: Namespace = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "test-namespace"}}),
    )
    .expect("ns");
    namespaces
        .create(&Default::default(), &ns)
        .await
        .expect("namespace");
    let cms: kube::Api<ConfigMap> = kube::Api::namespaced(fleet.client.clone(), "test-namespace");
    let cm: ConfigMap = serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "test-namespace"}, "data": {"key": "value1"}}))
    .expect("cm");
    cms.create(&Default::default(), &cm)
        .await
        .expect("configmap");
    fleet.placement(0).await;
    fleet
        .members(&[("member1", &[("environment", "staging")])])
        .await;
    fleet
        .strategy(json!([{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]))
        .await;
    let snapshots: kube::Api<app::fleet::ClusterResourceSnapshot> =
        kube::Api::all(fleet.client.clone());

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

    cms.patch(
        "test-cm",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(json!({"data": {"key": "value2"}})),
    )
    .await
    .expect("edit");
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
}

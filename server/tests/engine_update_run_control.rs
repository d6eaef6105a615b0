//! Run control (spec §9.5, §9.7) on a whole fleetdeck: Stop/Stopping/Stopped and resume, the
//! maxConcurrency sliding window, stuck detection, initialization failures, skipped stages,
//! pre-emption and the placement's deletion — each checked on the members too.

mod fleet_support;

use std::time::Duration;

use app::fleet::placement::binding::BindingState;
use fleet_support::*;
use kube::ResourceExt;
use serde_json::json;

fn names(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("member{i:02}")).collect()
}

/// One stage `canary` over members `member01..=memberNN` (all `environment=canary`), holding the
/// workload of `value1`.
async fn one_stage_fleet_with(
    n: usize,
    max_concurrency: serde_json::Value,
    edit: impl FnOnce(server::cli::ServeArgs) -> server::cli::ServeArgs,
) -> Fleet {
    let members = names(n);
    let config: Vec<(&str, &str)> = members
        .iter()
        .map(|m| (m.as_str(), "environment=canary"))
        .collect();
    let fleet = Fleet::members_with(&config, edit).await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(
            json!([{"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}},
            "maxConcurrency": max_concurrency}]),
        )
        .await;
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    fleet.wait_scheduled(&refs).await;
    fleet
}

async fn one_stage_fleet(n: usize, max_concurrency: serde_json::Value) -> Fleet {
    one_stage_fleet_with(n, max_concurrency, |args| args).await
}

/// Waits until exactly `want` of the members are Bound, then lets the engine settle and checks
/// no more were.
async fn assert_bound(fleet: &Fleet, members: &[String], want: usize, what: &str) {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while fleet.bound_count(members).await < want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: never {want} bound"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fleet.settle().await;
    assert_eq!(fleet.bound_count(members).await, want, "{what}");
}

/// The first `updated` members hold the workload, the rest nothing.
async fn assert_members_hold(fleet: &Fleet, members: &[String], updated: usize, what: &str) {
    for (i, m) in members.iter().enumerate() {
        if i < updated {
            fleet.wait_contents(m, Contents::of("value1")).await;
        } else {
            assert_eq!(fleet.contents(m).await, Contents::NONE, "{what}: {m}");
        }
    }
}

async fn assert_windows(cases: &[(serde_json::Value, usize)]) {
    let members = names(10);
    for (max, window) in cases.iter().cloned() {
        let what = format!("maxConcurrency {max}");
        let fleet = one_stage_fleet(10, max.clone()).await;
        fleet.run("example-run", None, "Run").await;
        fleet.wait_bound("member01").await;
        assert_bound(&fleet, &members, window, &what).await;
        let run = fleet.get_run("example-run").await;
        assert_eq!(started(&run, 0).len(), window, "{what}");
        assert_members_hold(&fleet, &members, window, &what).await;
        if window < 10 {
            // A finished cluster frees its slot for exactly one more, in stored order.
            fleet.release("member01", "value1").await;
            fleet.wait_bound(&format!("member{:02}", window + 1)).await;
            assert_bound(&fleet, &members, window + 1, &what).await;
            assert_members_hold(&fleet, &members, window + 1, &what).await;
        }
        fleet.stop().await;
    }
}

/// Snapshot 0 of the workload, made by a run without an index that only initializes.
async fn snapshot_zero(fleet: &Fleet) {
    fleet.run("snapshot-run", None, "Initialize").await;
    fleet
        .wait_run("snapshot-run", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn max_concurrency_is_a_sliding_window_over_the_stage() {
    assert_windows(&[(json!(1), 1), (json!(2), 2), (json!(10), 10)]).await;
}

#[tokio::test(start_paused = true)]
async fn a_percentage_max_concurrency_rounds_down_to_the_window() {
    assert_windows(&[(json!("30%"), 3), (json!("100%"), 10)]).await;
}

#[tokio::test(start_paused = true)]
async fn stop_while_a_cluster_updates_goes_stopping_then_stopped_and_run_resumes() {
    let fleet = one_stage_fleet(2, json!(1)).await;
    fleet.run("example-run", None, "Run").await;
    fleet.wait_bound("member01").await;
    fleet
        .wait_contents("member01", Contents::of("value1"))
        .await;

    fleet.set_state("example-run", "Stop").await;
    let run = fleet
        .wait_run("example-run", "Stopping", |r| {
            cs(run_conds(r), "Progressing") == sr("Unknown", "UpdateRunStopping")
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Progressing").map(|c| c.2),
        Some("The update run is the process of stopping, waiting for all the updating/deleting clusters to finish updating before completing the stop process".into())
    );
    assert_eq!(
        cond(stage(&run, 0).conditions.as_ref(), "Progressing"),
        Some(("Unknown".into(), "StageUpdatingStopping".into(), "Waiting for all the updating clusters to finish updating before completing the stop process".into()))
    );

    fleet.release("member01", "value1").await;
    let run = fleet
        .wait_run("example-run", "Stopped", |r| {
            cs(run_conds(r), "Progressing") == sr("False", "UpdateRunStopped")
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Progressing").map(|c| c.2),
        Some("The update run has been stopped".into())
    );
    assert_eq!(
        cond(stage(&run, 0).conditions.as_ref(), "Progressing"),
        Some(("False".into(), "StageUpdatingStopped".into(), "All the updating clusters have finished updating, the stage is now stopped, waiting to be resumed".into()))
    );
    assert_eq!(succeeded(&run, 0), ["member01"]);
    fleet.settle().await;
    assert_eq!(
        fleet.binding("member02").await.spec.state,
        BindingState::Scheduled,
        "nothing starts while stopped"
    );
    assert_eq!(
        fleet.contents("member02").await,
        Contents::NONE,
        "nothing reaches member02 while stopped"
    );
    assert_eq!(fleet.contents("member01").await, Contents::of("value1"));

    fleet.set_state("example-run", "Run").await;
    fleet.wait_bound("member02").await;
    // The binding is written before the run's status, so wait for the status rather than read it.
    fleet
        .wait_run("example-run", "Progressing again", |r| {
            cs(run_conds(r), "Progressing") == sr("True", "UpdateRunProgressing")
        })
        .await;
    fleet.release("member02", "value1").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_cluster_not_finishing_within_the_threshold_marks_the_run_stuck_until_it_finishes() {
    // KubeFleet's five minutes, the default, on the paused clock.
    let threshold = Duration::from_secs(5 * 60);
    let fleet = one_stage_fleet(2, json!(1)).await;
    fleet.run("example-run", None, "Run").await;
    fleet.wait_bound("member01").await;

    // Not stuck a moment before the threshold (condition times have whole seconds, hence the
    // margin)...
    fleet.elapse(threshold - Duration::from_secs(5)).await;
    fleet.poke_run("example-run").await;
    let run = fleet.get_run("example-run").await;
    assert_eq!(
        cs(run_conds(&run), "Progressing"),
        sr("True", "UpdateRunProgressing")
    );
    assert_eq!(started(&run, 0), ["member01"]);
    // ... and stuck once it has passed, without any other event to wake the engine.
    fleet.elapse(Duration::from_secs(5)).await;
    let run = fleet
        .wait_run("example-run", "UpdateRunStuck", |r| {
            cs(run_conds(r), "Progressing") == sr("False", "UpdateRunStuck")
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Progressing").map(|c| c.2),
        Some("The updateRun is stuck waiting for member01 cluster(s) in stage canary to finish updating, please check placement status for potential errors".into())
    );
    let stuck_after = transition_second(run_conds(&run), "Progressing")
        - transition_second(cluster_conds(&run, 0, "member01"), "Started");
    assert!(
        stuck_after >= threshold.as_secs() as i64,
        "stuck {stuck_after}s after member01 started, before the {threshold:?} threshold"
    );
    assert_eq!(fleet.contents("member01").await, Contents::of("value1"));
    assert_eq!(fleet.contents("member02").await, Contents::NONE);

    fleet.release("member01", "value1").await;
    fleet.wait_bound("member02").await;
    // Bindings are written before the run's status: wait for the status to catch up.
    fleet
        .wait_run("example-run", "recovered", |r| {
            cs(run_conds(r), "Progressing") == sr("True", "UpdateRunProgressing")
        })
        .await;
    fleet
        .wait_contents("member02", Contents::of("value1"))
        .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_explicit_missing_snapshot_index_fails_initialization_with_the_exact_message() {
    let fleet = one_stage_fleet(1, json!(1)).await;
    snapshot_zero(&fleet).await;
    fleet.run("example-run", Some("1"), "Run").await;
    let run = fleet
        .wait_run("example-run", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Initialized"),
        Some((
            "False".into(),
            "UpdateRunInitializedFailed".into(),
            "cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: no resourceSnapshots with index `1` found for placement `/example-placement`".into()
        ))
    );
    assert_eq!(cs(run_conds(&run), "Progressing"), None);
    assert_eq!(cs(run_conds(&run), "Succeeded"), None);
    // Partial results are persisted (spec §9.3).
    let status = run.status.as_ref().expect("status");
    assert_eq!(status.policy_snapshot_index_used.as_deref(), Some("0"));
    assert_eq!(cluster_names(&run, 0), ["member01"]);
    fleet.settle().await;
    assert_eq!(
        fleet.binding("member01").await.spec.state,
        BindingState::Scheduled
    );
    assert_eq!(fleet.contents("member01").await, Contents::NONE);
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_stage_without_clusters_is_skipped_with_its_tasks() {
    let fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([
            {"name": "empty", "labelSelector": {"matchLabels": {"environment": "none"}},
             "beforeStageTasks": [{"type": "Approval"}], "afterStageTasks": [{"type": "Approval"}]},
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}
        ]))
        .await;
    fleet.wait_scheduled(&["member1"]).await;
    fleet.run("example-run", None, "Run").await;
    fleet.wait_bound("member1").await;
    // Bindings are written before the run's status: wait for the skipped stage to show.
    let run = fleet
        .wait_run("example-run", "the empty stage skipped", |r| {
            has_stages(r) && cond(stage(r, 0).conditions.as_ref(), "Succeeded").is_some()
        })
        .await;
    let empty = stage(&run, 0);
    for t in ["Progressing", "Succeeded"] {
        let expected_status = if t == "Progressing" { "False" } else { "True" };
        assert_eq!(
            cond(empty.conditions.as_ref(), t),
            Some((
                expected_status.into(),
                "StageUpdatingSkippedNoClusters".into(),
                "Stage skipped because it has no clusters".into()
            ))
        );
    }
    assert!(empty.start_time.is_some() && empty.end_time.is_some());
    let tasks = empty
        .before_stage_task_status
        .iter()
        .chain(empty.after_stage_task_status.iter())
        .flatten();
    assert!(tasks.clone().count() == 2 && tasks.into_iter().all(|t| t.conditions.is_none()));
    assert!(
        fleet.approvals().await.is_empty(),
        "no approval requests for a skipped stage"
    );
    fleet.wait_contents("member1", Contents::of("value1")).await;
    fleet.release("member1", "value1").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_concurrent_run_rewriting_a_started_binding_preempts_the_first_run() {
    let fleet = Fleet::members(&[("member01", "environment=canary")]).await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([{"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}}]))
        .await;
    fleet.wait_scheduled(&["member01"]).await;
    fleet.run("run-a", None, "Run").await;
    fleet.wait_bound("member01").await;
    fleet
        .wait_contents("member01", Contents::of("value1"))
        .await;
    // An edit, and a second run of it: snapshot 1 rewrites member01's binding under run-a.
    fleet.held_workload("value2").await;
    fleet.run("run-b", None, "Run").await;
    let run = fleet
        .wait_run("run-a", "pre-empted", |r| {
            cs(run_conds(r), "Succeeded").is_some()
        })
        .await;
    let b = fleet.binding("member01").await;
    let cluster_message = format!("failed to process the request due to a client error: the binding of the updating cluster `member01` in the stage `canary` is not up-to-date with the desired status, please check the status of binding `{}` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster", b.name_any());
    assert_eq!(
        cond(run_conds(&run), "Succeeded"),
        Some((
            "False".into(),
            "UpdateRunFailed".into(),
            format!("cannot continue the updateRun: {cluster_message}")
        ))
    );
    assert_eq!(
        cond(
            stage(&run, 0).clusters()[0].conditions.as_ref(),
            "Succeeded"
        ),
        // KubeFleet's execution.go: the cluster carries the user error without the run's prefix.
        Some((
            "False".into(),
            "ClusterUpdatingFailed".into(),
            cluster_message
        ))
    );
    assert_eq!(
        b.spec.resource_snapshot_name.as_deref(),
        Some("example-placement-1-snapshot")
    );
    let rs = cond(
        b.status.as_ref().and_then(|s| s.conditions.as_ref()),
        "RolloutStarted",
    )
    .expect("RolloutStarted");
    assert!(
        rs.2.ends_with("updateRun: run-b"),
        "the binding names the run that last wrote it: {}",
        rs.2
    );
    // The member follows the run that won.
    fleet.release("member01", "value2").await;
    fleet.wait_run("run-b", "Succeeded", is_succeeded).await;
    assert_eq!(fleet.contents("member01").await, Contents::of("value2"));
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn deleting_the_placement_mid_run_fails_the_run_at_once_with_the_exact_message() {
    let fleet = Fleet::members(&[
        ("member01", "environment=canary"),
        ("member02", "environment=prod"),
    ])
    .await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}},
            {"name": "prod", "labelSelector": {"matchLabels": {"environment": "prod"}}}]))
        .await;
    fleet.wait_scheduled(&["member01", "member02"]).await;
    fleet.run("example-run", None, "Run").await;
    fleet.wait_bound("member01").await;
    fleet
        .wait_run("example-run", "started", |r| {
            has_stages(r) && started(r, 0) == ["member01"]
        })
        .await;
    fleet
        .wait_contents("member01", Contents::of("value1"))
        .await;

    // The test keeps the bindings (the hub would collect them with their placement) so that
    // they stay as the run left them, and so that the deletion alone must wake the run: no
    // binding event follows it and the engine's resyncs are an hour away.
    let bindings: kube::Api<app::fleet::ClusterResourceBinding> = kube::Api::all(fleet.hub.clone());
    for member in ["member01", "member02"] {
        bindings
            .patch(
                &fleet.binding(member).await.name_any(),
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(json!({"metadata": {"ownerReferences": null}})),
            )
            .await
            .expect("orphan the binding");
    }
    fleet.settle().await;
    let placements: kube::Api<app::fleet::ClusterResourcePlacement> =
        kube::Api::all(fleet.hub.clone());
    placements
        .delete(PLACEMENT, &Default::default())
        .await
        .expect("delete placement");
    let run = fleet
        .wait_run("example-run", "failed", |r| {
            cs(run_conds(r), "Succeeded").is_some()
        })
        .await;
    // Spec §9.4.1 and §9.8: a validation failure, run-level conditions only.
    assert_eq!(
        cond(run_conds(&run), "Succeeded"),
        Some((
            "False".into(),
            "UpdateRunFailed".into(),
            "cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: parent placement not found".into()
        ))
    );
    assert_eq!(
        cond(run_conds(&run), "Progressing"),
        Some((
            "False".into(),
            "UpdateRunFailed".into(),
            "The stages are aborted due to a non-recoverable error".into()
        ))
    );
    assert_eq!(
        cs(run_conds(&run), "Initialized"),
        sr("True", "UpdateRunInitializedSuccessfully")
    );
    assert_eq!(
        cs(stage(&run, 0).conditions.as_ref(), "Progressing"),
        sr("True", "StageUpdatingStarted"),
        "stage conditions are not touched"
    );
    assert_eq!(cs(stage(&run, 0).conditions.as_ref(), "Succeeded"), None);
    assert_eq!(started(&run, 1), Vec::<String>::new());

    // Failure is permanent and leaves the bindings, and the members, as they are.
    fleet.release("member01", "value1").await;
    fleet.settle().await;
    let after = fleet.get_run("example-run").await;
    assert_eq!(after.status, run.status);
    assert_eq!(
        fleet.binding("member02").await.spec.state,
        BindingState::Scheduled
    );
    assert_eq!(
        fleet.binding("member01").await.spec.state,
        BindingState::Bound
    );
    assert_eq!(fleet.contents("member01").await, Contents::of("value1"));
    assert_eq!(fleet.contents("member02").await, Contents::NONE);
    fleet.stop().await;
}

//! Run control (spec §9.5, §9.7): Stop/Stopping/Stopped and resume, the maxConcurrency sliding
//! window, stuck detection, initialization failures and skipped stages.

mod engine_support;

use std::time::Duration;

use app::fleet::binding::BindingState;
use engine_support::*;
use serde_json::json;

async fn bound_count(fleet: &Fleet, n: usize) -> usize {
    let mut count = 0;
    for i in 1..=n {
        if fleet.get_binding(&format!("member{i:02}")).await.spec.state == BindingState::Bound {
            count += 1;
        }
    }
    count
}

/// One stage `canary` over members `member01..=memberNN` (all `environment=canary`).
async fn one_stage_fleet(n: usize, max_concurrency: serde_json::Value) -> Fleet {
    let fleet = Fleet::start().await;
    fleet.placement(1).await;
    for i in 1..=n {
        let name = format!("member{i:02}");
        fleet.member(&name, &[("environment", "canary")]).await;
        fleet.binding(&name).await;
    }
    fleet
        .strategy(
            json!([{"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}},
            "maxConcurrency": max_concurrency}]),
        )
        .await;
    fleet
}

async fn assert_windows(cases: &[(serde_json::Value, usize)]) {
    for (max, window) in cases.iter().cloned() {
        let fleet = one_stage_fleet(10, max.clone()).await;
        fleet.run("example-run", Some("0"), "Run").await;
        fleet.wait_bound("member01").await;
        fleet.settle().await;
        assert_eq!(
            bound_count(&fleet, 10).await,
            window,
            "maxConcurrency {max}"
        );
        let run = fleet.get_run("example-run").await;
        assert_eq!(started(&run, 0).len(), window, "maxConcurrency {max}");
        if window < 10 {
            // A finished cluster frees its slot for exactly one more, in stored order.
            fleet.finish_cluster("member01").await;
            fleet.wait_bound(&format!("member{:02}", window + 1)).await;
            fleet.settle().await;
            assert_eq!(
                bound_count(&fleet, 10).await,
                window + 1,
                "maxConcurrency {max}"
            );
        }
    }
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
    fleet.run("example-run", Some("0"), "Run").await;
    fleet.wait_bound("member01").await;

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

    fleet.finish_cluster("member01").await;
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
        fleet.get_binding("member02").await.spec.state,
        BindingState::Scheduled,
        "nothing starts while stopped"
    );

    fleet.set_state("example-run", "Run").await;
    fleet.wait_bound("member02").await;
    // The binding is written before the run's status, so wait for the status rather than read it.
    fleet
        .wait_run("example-run", "Progressing again", |r| {
            cs(run_conds(r), "Progressing") == sr("True", "UpdateRunProgressing")
        })
        .await;
    fleet.finish_cluster("member02").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
}

#[tokio::test(start_paused = true)]
async fn a_cluster_not_finishing_within_the_threshold_marks_the_run_stuck_until_it_finishes() {
    let fleet = one_stage_fleet(2, json!(1)).await;
    fleet.run("example-run", Some("0"), "Run").await;
    fleet.wait_bound("member01").await;
    tokio::time::sleep(Duration::from_secs(290)).await;
    let run = fleet.get_run("example-run").await;
    assert_eq!(
        cs(run_conds(&run), "Progressing"),
        sr("True", "UpdateRunProgressing"),
        "not stuck before 5 min"
    );

    let run = fleet
        .wait_run("example-run", "UpdateRunStuck", |r| {
            cs(run_conds(r), "Progressing") == sr("False", "UpdateRunStuck")
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Progressing").map(|c| c.2),
        Some("The updateRun is stuck waiting for member01 cluster(s) in stage canary to finish updating, please check placement status for potential errors".into())
    );
    fleet.finish_cluster("member01").await;
    fleet.wait_bound("member02").await;
    // Bindings are written before the run's status: wait for the status to catch up.
    fleet
        .wait_run("example-run", "recovered", |r| {
            cs(run_conds(r), "Progressing") == sr("True", "UpdateRunProgressing")
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn an_explicit_missing_snapshot_index_fails_initialization_with_the_exact_message() {
    let fleet = one_stage_fleet(1, json!(1)).await;
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
        fleet.get_binding("member01").await.spec.state,
        BindingState::Scheduled
    );
}

#[tokio::test(start_paused = true)]
async fn a_stage_without_clusters_is_skipped_with_its_tasks() {
    let fleet = Fleet::start().await;
    fleet.placement(1).await;
    fleet
        .members(&[("member1", &[("environment", "staging")])])
        .await;
    fleet
        .strategy(json!([
            {"name": "empty", "labelSelector": {"matchLabels": {"environment": "none"}},
             "beforeStageTasks": [{"type": "Approval"}], "afterStageTasks": [{"type": "Approval"}]},
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}
        ]))
        .await;
    fleet.run("example-run", Some("0"), "Run").await;
    fleet.wait_bound("member1").await;
    // Bindings are written before the run's status: wait for the skipped stage to show.
    let run = fleet
        .wait_run("example-run", "the empty stage skipped", |r| {
            cond(stage(r, 0).conditions.as_ref(), "Succeeded").is_some()
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
}

#[tokio::test(start_paused = true)]
async fn a_concurrent_run_rewriting_a_started_binding_preempts_the_first_run() {
    let fleet = Fleet::start().await;
    fleet.placement(2).await;
    fleet
        .members(&[("member01", &[("environment", "canary")])])
        .await;
    fleet
        .strategy(json!([{"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}}]))
        .await;
    fleet.run("run-a", Some("0"), "Run").await;
    fleet.wait_bound("member01").await;
    fleet.run("run-b", Some("1"), "Run").await;
    let run = fleet
        .wait_run("run-a", "pre-empted", |r| {
            cs(run_conds(r), "Succeeded").is_some()
        })
        .await;
    let message = "cannot continue the updateRun: failed to process the request due to a client error: the binding of the updating cluster `member01` in the stage `canary` is not up-to-date with the desired status, please check the status of binding `example-placement-member01-0a1b2c3d` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster";
    assert_eq!(
        cond(run_conds(&run), "Succeeded"),
        Some(("False".into(), "UpdateRunFailed".into(), message.into()))
    );
    assert_eq!(
        cond(
            stage(&run, 0).clusters()[0].conditions.as_ref(),
            "Succeeded"
        ),
        Some((
            "False".into(),
            "ClusterUpdatingFailed".into(),
            message.into()
        ))
    );
    let b = fleet.get_binding("member01").await;
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
}

#[tokio::test(start_paused = true)]
async fn deleting_the_placement_mid_run_fails_the_run_at_once_with_the_exact_message() {
    let fleet = Fleet::start().await;
    fleet.placement(1).await;
    fleet
        .members(&[
            ("member01", &[("environment", "canary")]),
            ("member02", &[("environment", "prod")]),
        ])
        .await;
    fleet
        .strategy(json!([
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}},
            {"name": "prod", "labelSelector": {"matchLabels": {"environment": "prod"}}}]))
        .await;
    fleet.run("example-run", Some("0"), "Run").await;
    fleet.wait_bound("member01").await;
    fleet
        .wait_run("example-run", "started", |r| started(r, 0) == ["member01"])
        .await;

    // Nothing else changes: the deletion alone must wake the run (no binding event, no resync).
    let placements: kube::Api<app::fleet::ClusterResourcePlacement> =
        kube::Api::all(fleet.client.clone());
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

    // Failure is permanent and leaves the bindings as they are.
    fleet.finish_cluster("member01").await;
    fleet.settle().await;
    let after = fleet.get_run("example-run").await;
    assert_eq!(after.status, run.status);
    assert_eq!(
        fleet.get_binding("member02").await.spec.state,
        BindingState::Scheduled
    );
    assert_eq!(
        fleet.get_binding("member01").await.spec.state,
        BindingState::Bound
    );
}

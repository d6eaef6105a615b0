//! Stage gates (spec §9.5.B, §9.5.D) on a whole fleetdeck: approvals with the
//! observedGeneration rule, TimedWait, and what each member holds while a gate is closed.

mod fleet_support;

use std::time::Duration;

use fleet_support::*;
use serde_json::json;

/// member1 (staging) and member2 (prod) under `stages`, with the workload of `value1`.
async fn two_stage_fleet(stages: serde_json::Value) -> Fleet {
    let fleet = Fleet::members(&[
        ("member1", "environment=staging"),
        ("member2", "environment=prod"),
    ])
    .await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet.strategy(stages).await;
    fleet.wait_scheduled(&["member1", "member2"]).await;
    fleet
}

#[tokio::test(start_paused = true)]
async fn approvals_gate_stages_and_a_stale_observed_generation_is_ignored() {
    let fleet = two_stage_fleet(json!([
        {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
         "afterStageTasks": [{"type": "Approval"}]},
        {"name": "prod", "labelSelector": {"matchLabels": {"environment": "prod"}},
         "beforeStageTasks": [{"type": "Approval"}]}
    ]))
    .await;
    fleet.run("example-run", None, "Run").await;
    fleet.wait_bound("member1").await;
    fleet.wait_contents("member1", Contents::of("value1")).await;
    assert_eq!(fleet.contents("member2").await, Contents::NONE);
    fleet.release("member1", "value1").await;

    let run = fleet
        .wait_run("example-run", "after-stage wait", |r| {
            cs(run_conds(r), "Progressing") == sr("False", "UpdateRunWaiting")
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Progressing").map(|c| c.2),
        Some("The updateRun is waiting for after-stage tasks in stage staging to complete".into())
    );
    let staging = stage(&run, 0);
    assert_eq!(
        cond(staging.conditions.as_ref(), "Progressing"),
        Some((
            "False".into(),
            "StageUpdatingWaiting".into(),
            "All clusters in the stage are updated, waiting for after-stage tasks to complete"
                .into()
        ))
    );
    let task = &staging.after_stage_task_status.as_ref().expect("tasks")[0];
    assert_eq!(
        task.approval_request_name.as_deref(),
        Some("example-run-after-staging")
    );
    assert_eq!(
        cond(task.conditions.as_ref(), "ApprovalRequestCreated"),
        Some((
            "True".into(),
            "StageTaskApprovalRequestCreated".into(),
            "ApprovalRequest object is created".into()
        ))
    );
    let approvals = fleet.approvals().await;
    assert_eq!(approvals.len(), 1);
    let req = &approvals[0];
    assert_eq!(
        req.metadata.name.as_deref(),
        Some("example-run-after-staging")
    );
    assert_eq!(req.spec.parent_stage_rollout, "example-run");
    assert_eq!(req.spec.target_stage, "staging");
    let labels = req.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("kubernetes-fleet.io/targetUpdateRun")
            .map(String::as_str),
        Some("example-run")
    );
    assert_eq!(
        labels
            .get("kubernetes-fleet.io/targetUpdatingStage")
            .map(String::as_str),
        Some("staging")
    );
    assert_eq!(
        labels
            .get("kubernetes-fleet.io/taskType")
            .map(String::as_str),
        Some("afterStage")
    );
    assert_eq!(
        labels
            .get("kubernetes-fleet.io/isLatestUpdateRunApproval")
            .map(String::as_str),
        Some("true")
    );

    // Seed 003: observedGeneration 0 on a generation-1 request is ignored.
    fleet.approve("example-run-after-staging", 0).await;
    fleet.settle().await;
    let run = fleet.get_run("example-run").await;
    assert_eq!(cs(stage(&run, 0).conditions.as_ref(), "Succeeded"), None);
    assert_eq!(
        fleet.contents("member2").await,
        Contents::NONE,
        "a stale approval lets nothing through"
    );
    let req = fleet.approvals().await.remove(0);
    assert_eq!(
        cs(
            req.status.as_ref().and_then(|s| s.conditions.as_ref()),
            "ApprovalAccepted"
        ),
        None
    );

    fleet
        .approve(
            "example-run-after-staging",
            req.metadata.generation.unwrap_or(1),
        )
        .await;
    let run = fleet
        .wait_run("example-run", "before-stage wait of prod", |r| {
            has_stages(r) && cs(stage(r, 1).conditions.as_ref(), "Progressing").is_some()
        })
        .await;
    assert_eq!(
        cs(stage(&run, 0).conditions.as_ref(), "Succeeded"),
        sr("True", "StageUpdatingSucceeded")
    );
    let task = &stage(&run, 0)
        .after_stage_task_status
        .as_ref()
        .expect("tasks")[0];
    assert_eq!(
        cond(task.conditions.as_ref(), "ApprovalRequestApproved"),
        Some((
            "True".into(),
            "StageTaskApprovalRequestApproved".into(),
            "ApprovalRequest object is approved".into()
        ))
    );
    let accepted = fleet
        .approvals()
        .await
        .into_iter()
        .find(|a| a.metadata.name.as_deref() == Some("example-run-after-staging"))
        .expect("after request");
    assert_eq!(
        cond(
            accepted.status.as_ref().and_then(|s| s.conditions.as_ref()),
            "ApprovalAccepted"
        ),
        Some((
            "True".into(),
            "ApprovalRequestApprovalAccepted".into(),
            "The approval request has been approved and cannot be reverted".into()
        ))
    );
    assert_eq!(
        cond(stage(&run, 1).conditions.as_ref(), "Progressing"),
        Some((
            "False".into(),
            "StageUpdatingWaiting".into(),
            "Not all before-stage tasks are completed, waiting for approval".into()
        ))
    );
    assert_eq!(
        cond(run_conds(&run), "Progressing").map(|c| (c.1, c.2)),
        Some((
            "UpdateRunWaiting".into(),
            "The updateRun is waiting for before-stage tasks in stage prod to complete".into()
        ))
    );
    assert!(
        stage(&run, 1).start_time.is_none(),
        "no startTime while waiting"
    );
    assert_eq!(
        fleet.binding("member2").await.spec.state,
        app::fleet::placement::binding::BindingState::Scheduled
    );
    assert_eq!(fleet.contents("member2").await, Contents::NONE);
    assert_eq!(fleet.contents("member1").await, Contents::of("value1"));
    let before = fleet
        .approvals()
        .await
        .into_iter()
        .find(|a| a.metadata.name.as_deref() == Some("example-run-before-prod"))
        .expect("before request");
    let labels = before.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels
            .get("kubernetes-fleet.io/taskType")
            .map(String::as_str),
        Some("beforeStage")
    );

    fleet.approve("example-run-before-prod", 1).await;
    fleet.wait_bound("member2").await;
    fleet.release("member2", "value1").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    for member in ["member1", "member2"] {
        assert_eq!(fleet.contents(member).await, Contents::of("value1"));
    }
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_timed_wait_holds_the_next_stage_until_it_elapses() {
    // An hour, on the paused clock.
    let wait = 3600;
    let fleet = two_stage_fleet(json!([
        {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
         "afterStageTasks": [{"type": "TimedWait", "waitTime": "1h"}]},
        {"name": "prod", "labelSelector": {"matchLabels": {"environment": "prod"}}}
    ]))
    .await;
    fleet.run("example-run", None, "Run").await;
    fleet.wait_bound("member1").await;
    fleet.release("member1", "value1").await;
    fleet
        .wait_run("example-run", "after-stage wait", |r| {
            has_stages(r)
                && cs(stage(r, 0).conditions.as_ref(), "Progressing")
                    == sr("False", "StageUpdatingWaiting")
        })
        .await;
    // Still waiting a moment before the hour is up (condition times have whole seconds, hence
    // the margin): the wait has not elapsed and member2 has nothing.
    fleet.elapse(Duration::from_secs(wait - 5)).await;
    fleet.poke_run("example-run").await;
    let run = fleet.get_run("example-run").await;
    let task = &stage(&run, 0)
        .after_stage_task_status
        .as_ref()
        .expect("tasks")[0];
    assert_eq!(cs(task.conditions.as_ref(), "WaitTimeElapsed"), None);
    assert!(started(&run, 1).is_empty(), "prod has not started");
    assert_eq!(
        fleet.binding("member2").await.spec.state,
        app::fleet::placement::binding::BindingState::Scheduled
    );
    assert_eq!(
        fleet.contents("member2").await,
        Contents::NONE,
        "still waiting"
    );

    // Once it is up, prod starts without any other event to wake the engine.
    fleet.elapse(Duration::from_secs(5)).await;
    fleet.wait_bound("member2").await;
    let run = fleet
        .wait_run("example-run", "prod started", |r| {
            has_stages(r) && !started(r, 1).is_empty()
        })
        .await;
    let task = &stage(&run, 0)
        .after_stage_task_status
        .as_ref()
        .expect("tasks")[0];
    assert_eq!(
        cond(task.conditions.as_ref(), "WaitTimeElapsed"),
        Some((
            "True".into(),
            "AfterStageTaskWaitTimeElapsed".into(),
            "Wait time elapsed".into()
        ))
    );
    assert_eq!(
        cs(stage(&run, 0).conditions.as_ref(), "Succeeded"),
        sr("True", "StageUpdatingSucceeded")
    );
    // The wait ran its full length from the stage's last cluster, and prod started after it.
    let elapsed_at = transition_second(task.conditions.as_ref(), "WaitTimeElapsed");
    let waited = elapsed_at - transition_second(cluster_conds(&run, 0, "member1"), "Succeeded");
    assert!(waited >= wait as i64, "elapsed after {waited}s of {wait}s");
    assert!(transition_second(cluster_conds(&run, 1, "member2"), "Started") >= elapsed_at);
    fleet.wait_contents("member2", Contents::of("value1")).await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn deleting_a_run_removes_its_approval_requests_and_finalizer() {
    let fleet = two_stage_fleet(json!([
        {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
         "beforeStageTasks": [{"type": "Approval"}]},
        {"name": "prod", "labelSelector": {"matchLabels": {"environment": "prod"}}}
    ]))
    .await;
    fleet.run("example-run", None, "Run").await;
    fleet
        .wait_run("example-run", "before-stage wait", |r| {
            cs(run_conds(r), "Progressing") == sr("False", "UpdateRunWaiting")
        })
        .await;
    assert_eq!(fleet.approvals().await.len(), 1);
    let api: kube::Api<app::fleet::ClusterStagedUpdateRun> = kube::Api::all(fleet.hub.clone());
    api.delete("example-run", &Default::default())
        .await
        .expect("delete");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while tokio::time::Instant::now() < deadline {
        if api.get_opt("example-run").await.expect("get").is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        api.get_opt("example-run").await.expect("get").is_none(),
        "finalizer removed"
    );
    assert!(
        fleet.approvals().await.is_empty(),
        "approval requests cleaned up"
    );
    fleet.settle().await;
    for member in ["member1", "member2"] {
        assert_eq!(
            fleet.binding(member).await.spec.state,
            app::fleet::placement::binding::BindingState::Scheduled
        );
        assert_eq!(
            fleet.contents(member).await,
            Contents::NONE,
            "{member}: a run deleted before its first stage placed nothing"
        );
    }
    fleet.stop().await;
}

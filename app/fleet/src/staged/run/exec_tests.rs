//! Execution, gates, stop and deletion (spec §9.5, §9.7).

use super::*;
use crate::placement::binding::{ResourceBindingSpec, ResourceBindingStatus};
use crate::staged::run::exec::BindingWrite;
use crate::types::condition::FALSE;

#[test]
fn run_binds_clusters_in_order_within_the_window_and_completes() {
    let mut w = world(two_stages());
    let sp = spec(UpdateRunState::Run, Some("0"));
    let st = go(&sp, None, &w, &at(0));
    assert_eq!(st.effects.binding_updates.len(), 1);
    let u = &st.effects.binding_updates[0];
    assert_eq!(u.name, "p-member1-0a1b2c3d");
    assert_eq!(u.spec.state, BindingState::Bound);
    assert_eq!(
        u.spec.resource_snapshot_name.as_deref(),
        Some("p-0-snapshot")
    );
    assert_eq!(u.spec.apply_strategy, st.status.applied_strategy);
    assert_eq!(u.rollout_started.reason, "RolloutStarted");
    assert_eq!(u.rollout_started.message, "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: 0, updateRun: run");
    let stage0 = &st.status.stages_status.as_ref().expect("stages")[0];
    assert_eq!(
        csr(&stage0.conditions, "Progressing"),
        s3(
            "True",
            "StageUpdatingStarted",
            "Clusters in the stage started updating"
        )
    );
    assert_eq!(
        csr(&stage0.clusters()[0].conditions, "Started"),
        s3("True", "ClusterUpdatingStarted", "Cluster update started")
    );
    assert_eq!(
        csr(&st.status.conditions, "Progressing"),
        s3(
            "True",
            "UpdateRunProgressing",
            "The update run is making progress"
        )
    );
    assert_eq!(st.outcome, Outcome::Requeue(Duration::from_secs(15)));

    // member1 finishes: stage 0 succeeds and the canary window (2) opens at once, in order.
    apply(&mut w, &st, &["member1"], &at(10));
    let st2 = go(&sp, Some(&st.status), &w, &at(10));
    let names: Vec<&str> = st2
        .effects
        .binding_updates
        .iter()
        .map(|u| u.spec.target_cluster.as_str())
        .collect();
    assert_eq!(names, ["member3", "member2"]);
    let stage0 = &st2.status.stages_status.as_ref().expect("stages")[0];
    assert_eq!(
        csr(&stage0.clusters()[0].conditions, "Succeeded"),
        s3(
            "True",
            "ClusterUpdatingSucceeded",
            "Cluster update completed successfully"
        )
    );
    assert_eq!(
        csr(&stage0.conditions, "Succeeded"),
        s3(
            "True",
            "StageUpdatingSucceeded",
            "Stage update completed successfully"
        )
    );
    assert_eq!(
        csr(&stage0.conditions, "Progressing"),
        s3(
            "False",
            "StageUpdatingSucceeded",
            "All clusters in the stage are updated and after-stage tasks are completed"
        )
    );

    apply(&mut w, &st2, &["member2", "member3"], &at(20));
    let st3 = go(&sp, Some(&st2.status), &w, &at(20));
    assert_eq!(st3.outcome, Outcome::Done);
    assert_eq!(
        csr(&st3.status.conditions, "Succeeded"),
        s3(
            "True",
            "UpdateRunSucceeded",
            "All stages are completed successfully"
        )
    );
    assert_eq!(
        csr(&st3.status.conditions, "Progressing"),
        s3("False", "UpdateRunSucceeded", "All stages are completed")
    );
    let del = st3.status.deletion_stage_status.as_ref().expect("deletion");
    assert_eq!(
        csr(&del.conditions, "Succeeded"),
        s3(
            "True",
            "StageUpdatingSucceeded",
            "Stage update completed successfully"
        )
    );
}

#[test]
fn a_binding_already_in_sync_starts_and_succeeds_in_one_pass() {
    let mut w = world(two_stages());
    let sp = spec(UpdateRunState::Initialize, Some("0"));
    let init = go(&sp, None, &w, &at(0));
    let b = &mut w.bindings[0];
    b.spec.state = BindingState::Bound;
    b.spec.resource_snapshot_name = Some("p-0-snapshot".into());
    b.spec.apply_strategy = init.status.applied_strategy.clone();
    b.conditions = vec![
        cond("RolloutStarted", "True", 1, &at(0)),
        cond("Available", "True", 1, &at(0)),
    ];
    let st = go(
        &spec(UpdateRunState::Run, Some("0")),
        Some(&init.status),
        &w,
        &at(1),
    );
    assert!(st
        .effects
        .binding_updates
        .iter()
        .all(|u| u.spec.target_cluster != "member1"));
    let c = &st.status.stages_status.as_ref().expect("stages")[0].clusters()[0];
    assert_eq!(
        csr(&c.conditions, "Started").map(|c| c.0),
        Some("True".into())
    );
    assert_eq!(
        csr(&c.conditions, "Succeeded").map(|c| c.0),
        Some("True".into())
    );
}

#[test]
fn a_started_cluster_whose_binding_was_rewritten_fails_the_run_as_preempted() {
    let mut w = world(two_stages());
    let sp = spec(UpdateRunState::Run, Some("0"));
    let st = go(&sp, None, &w, &at(0));
    apply(&mut w, &st, &[], &at(0));
    w.bindings[0].spec.resource_snapshot_name = Some("p-7-snapshot".into());
    w.bindings[0].generation += 1;
    let st2 = go(&sp, Some(&st.status), &w, &at(5));
    let cluster_msg = "failed to process the request due to a client error: the binding of the updating cluster `member1` in the stage `staging` is not up-to-date with the desired status, please check the status of binding `p-member1-0a1b2c3d` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster";
    let msg = format!("cannot continue the updateRun: {cluster_msg}");
    let msg = msg.as_str();
    let stage0 = &st2.status.stages_status.as_ref().expect("stages")[0];
    // KubeFleet's execution.go: the cluster carries the user error, without the run's prefix.
    assert_eq!(
        csr(&stage0.clusters()[0].conditions, "Succeeded"),
        s3("False", "ClusterUpdatingFailed", cluster_msg)
    );
    assert_eq!(
        csr(&stage0.conditions, "Succeeded"),
        s3("False", "StageUpdatingFailed", msg)
    );
    assert_eq!(
        csr(&stage0.conditions, "Progressing"),
        s3(
            "False",
            "StageUpdatingFailed",
            "Stage update aborted due to a non-recoverable error"
        )
    );
    assert_eq!(
        csr(&st2.status.conditions, "Succeeded"),
        s3("False", "UpdateRunFailed", msg)
    );
    assert_eq!(
        csr(&st2.status.conditions, "Progressing"),
        s3(
            "False",
            "UpdateRunFailed",
            "The stages are aborted due to a non-recoverable error"
        )
    );
    assert_eq!(st2.outcome, Outcome::Done);
}

#[test]
fn stuck_after_the_threshold_and_apply_failures_never_fail_the_run() {
    let mut w = world(two_stages());
    let sp = spec(UpdateRunState::Run, Some("0"));
    let st = go(&sp, None, &w, &at(0));
    apply(&mut w, &st, &[], &at(0));
    let g = w.bindings[0].generation;
    w.bindings[0].conditions.push(new_condition(
        "Available",
        "False",
        "NotAllWorkAreAvailable",
        "",
        g,
        &at(1),
    ));
    for (now, reason) in [(299, "UpdateRunProgressing"), (301, "UpdateRunStuck")] {
        let st2 = go(&sp, Some(&st.status), &w, &at(now));
        assert_eq!(
            csr(&st2.status.conditions, "Progressing").map(|c| c.1),
            Some(reason.to_string()),
            "at {now}s"
        );
        assert_eq!(csr(&st2.status.conditions, "Succeeded"), None);
        if now > 300 {
            assert_eq!(csr(&st2.status.conditions, "Progressing").map(|c| c.2), Some("The updateRun is stuck waiting for member1 cluster(s) in stage staging to finish updating, please check placement status for potential errors".into()));
        }
    }
}

fn approval(name: &str, stage: &str, conds: Vec<Condition>) -> ApprovalView {
    ApprovalView {
        name: name.into(),
        generation: 1,
        spec: crate::staged::approval::ApprovalRequestSpec {
            parent_stage_rollout: "run".into(),
            target_stage: stage.into(),
        },
        conditions: conds,
    }
}

#[test]
fn the_approval_handshake_follows_the_observed_generation_rule() {
    let stages = json!([{"name": "staging", "labelSelector": {"matchLabels": {"env": "staging"}}, "beforeStageTasks": [{"type": "Approval"}]},
        {"name": "canary", "labelSelector": {"matchLabels": {"env": "canary"}}, "sortingLabelKey": "order"}]);
    let mut w = world(stages);
    let sp = spec(UpdateRunState::Run, Some("0"));
    let st = go(&sp, None, &w, &at(0));
    assert_eq!(st.effects.approvals_to_create.len(), 1);
    let req = &st.effects.approvals_to_create[0];
    assert_eq!(req.name, "run-before-staging");
    assert_eq!(
        req.labels
            .get("kubernetes-fleet.io/taskType")
            .map(String::as_str),
        Some("beforeStage")
    );
    assert_eq!(st.outcome, Outcome::Requeue(Duration::from_secs(60)));
    assert_eq!(
        csr(&st.status.conditions, "Progressing"),
        s3(
            "False",
            "UpdateRunWaiting",
            "The updateRun is waiting for before-stage tasks in stage staging to complete"
        )
    );

    let cases = [
        (
            "stale generation",
            vec![cond("Approved", "True", 0, &at(1))],
            false,
            false,
        ),
        (
            "approved",
            vec![cond("Approved", "True", 1, &at(1))],
            true,
            true,
        ),
        (
            "accepted then revoked",
            vec![
                cond("Approved", "False", 1, &at(1)),
                cond("ApprovalAccepted", "True", 1, &at(1)),
            ],
            true,
            false,
        ),
    ];
    for (name, conds, approved, accept) in cases {
        w.approvals = [(
            "run-before-staging".to_string(),
            approval("run-before-staging", "staging", conds),
        )]
        .into();
        let st2 = go(&sp, Some(&st.status), &w, &at(2));
        assert!(st2.effects.approvals_to_create.is_empty(), "{name}");
        assert_eq!(
            st2.effects.approvals_to_accept.len(),
            usize::from(accept),
            "{name}"
        );
        assert_eq!(
            st2.effects.binding_updates.len(),
            usize::from(approved),
            "{name}"
        );
        let task = &st2.status.stages_status.as_ref().expect("stages")[0]
            .before_stage_task_status
            .as_ref()
            .expect("task")[0];
        let expected = approved.then(|| {
            (
                "True".to_string(),
                "StageTaskApprovalRequestApproved".to_string(),
                "ApprovalRequest object is approved".to_string(),
            )
        });
        assert_eq!(
            csr(&task.conditions, "ApprovalRequestApproved"),
            expected,
            "{name}"
        );
    }
}

#[test]
fn a_timed_wait_requeues_for_the_remaining_time() {
    let stages = json!([{"name": "staging", "labelSelector": {"matchLabels": {"env": "staging"}}, "afterStageTasks": [{"type": "TimedWait", "waitTime": "1m"}]},
        {"name": "canary", "labelSelector": {"matchLabels": {"env": "canary"}}, "sortingLabelKey": "order"}]);
    let mut w = world(stages);
    let sp = spec(UpdateRunState::Run, Some("0"));
    let st = go(&sp, None, &w, &at(0));
    apply(&mut w, &st, &["member1"], &at(0));
    // The wait starts when the run sees the stage's last cluster succeed (t=10).
    let st2 = go(&sp, Some(&st.status), &w, &at(10));
    assert_eq!(st2.outcome, Outcome::Requeue(Duration::from_secs(60)));
    let st2 = go(&sp, Some(&st2.status), &w, &at(40));
    assert_eq!(st2.outcome, Outcome::Requeue(Duration::from_secs(30)));
    assert!(st2.effects.binding_updates.is_empty());
    let st3 = go(&sp, Some(&st2.status), &w, &at(70));
    assert_eq!(st3.effects.binding_updates.len(), 1);
    let task = &st3.status.stages_status.as_ref().expect("stages")[0]
        .after_stage_task_status
        .as_ref()
        .expect("task")[0];
    assert_eq!(
        csr(&task.conditions, "WaitTimeElapsed"),
        s3("True", "AfterStageTaskWaitTimeElapsed", "Wait time elapsed")
    );
}

#[test]
fn a_run_created_stopped_stops_at_stage_zero() {
    let w = world(two_stages());
    let st = go(&spec(UpdateRunState::Stop, Some("0")), None, &w, &at(0));
    assert!(st.effects.binding_updates.is_empty());
    assert_eq!(st.outcome, Outcome::Done);
    assert_eq!(
        csr(&st.status.conditions, "Progressing"),
        s3(
            "False",
            "UpdateRunStopped",
            "The update run has been stopped"
        )
    );
    let stage0 = &st.status.stages_status.as_ref().expect("stages")[0];
    assert_eq!(
        csr(&stage0.conditions, "Progressing").map(|c| c.1),
        Some("StageUpdatingStopped".into())
    );
}

#[test]
fn the_deletion_stage_deletes_unscheduled_bindings_after_all_stages() {
    let mut w = world(json!([{"name": "all", "labelSelector": {}, "maxConcurrency": 3}]));
    w.bindings.push(BindingView {
        name: "p-gone-0a1b2c3d".into(),
        ..binding("gone", BindingState::Unscheduled)
    });
    let sp = spec(UpdateRunState::Run, Some("0"));
    let st = go(&sp, None, &w, &at(0));
    let del = st.status.deletion_stage_status.as_ref().expect("deletion");
    assert_eq!(
        del.clusters()
            .iter()
            .map(|c| c.cluster_name.as_str())
            .collect::<Vec<_>>(),
        ["gone"]
    );
    assert!(
        st.effects.binding_deletes.is_empty(),
        "deletion waits for the normal stages"
    );
    apply(&mut w, &st, &["member1", "member2", "member3"], &at(1));
    let st2 = go(&sp, Some(&st.status), &w, &at(1));
    assert_eq!(st2.effects.binding_deletes, ["p-gone-0a1b2c3d"]);
    assert_eq!(st2.outcome, Outcome::Requeue(Duration::from_secs(15)));
    apply(&mut w, &st2, &[], &at(2));
    let st3 = go(&sp, Some(&st2.status), &w, &at(2));
    assert_eq!(
        csr(&st3.status.conditions, "Succeeded").map(|c| c.0),
        Some("True".into())
    );
    let del = st3.status.deletion_stage_status.as_ref().expect("deletion");
    assert_eq!(
        csr(&del.clusters()[0].conditions, "Succeeded").map(|c| c.0),
        Some("True".into())
    );
}

#[test]
fn a_timed_wait_survives_stop_and_resume() {
    // fleetdeck departs from KubeFleet here (DESIGN.md): stopping does not restart the wait.
    let stages = json!([{"name": "staging", "labelSelector": {"matchLabels": {"env": "staging"}}, "afterStageTasks": [{"type": "TimedWait", "waitTime": "1m"}]},
        {"name": "canary", "labelSelector": {"matchLabels": {"env": "canary"}}, "sortingLabelKey": "order"}]);
    let mut w = world(stages);
    let run = spec(UpdateRunState::Run, Some("0"));
    let st = go(&run, None, &w, &at(0));
    apply(&mut w, &st, &["member1"], &at(0));
    let waiting = go(&run, Some(&st.status), &w, &at(10));
    let stopped = go(
        &spec(UpdateRunState::Stop, Some("0")),
        Some(&waiting.status),
        &w,
        &at(30),
    );
    assert_eq!(
        csr(&stopped.status.conditions, "Progressing").map(|c| c.1),
        Some("UpdateRunStopped".into()),
        "a waiting stage stops at once"
    );
    assert!(stopped.effects.binding_updates.is_empty());
    let resumed = go(&run, Some(&stopped.status), &w, &at(71));
    assert_eq!(
        resumed.effects.binding_updates.len(),
        1,
        "the wait counted from t=10, not from the resume"
    );
}

#[test]
fn a_binding_update_already_in_place_is_not_written_again() {
    let w = world(two_stages());
    let st = go(&spec(UpdateRunState::Run, Some("0")), None, &w, &at(0));
    let u = &st.effects.binding_updates[0];
    let scheduled = ResourceBindingSpec {
        state: BindingState::Scheduled,
        ..u.spec.clone()
    };
    assert_eq!(
        u.needed_by(&scheduled, None, 1),
        BindingWrite::SpecAndStatus
    );
    // The spec landed (generation 2) but the status write did not, or went to generation 1.
    assert_eq!(u.needed_by(&u.spec, None, 2), BindingWrite::Status);
    let started_at = |generation: i64, c: &Condition| ResourceBindingStatus {
        conditions: Some(vec![Condition {
            observed_generation: Some(generation),
            ..c.clone()
        }]),
        ..Default::default()
    };
    let stale = started_at(1, &u.rollout_started);
    assert_eq!(u.needed_by(&u.spec, Some(&stale), 2), BindingWrite::Status);
    let done = started_at(2, &u.rollout_started);
    assert_eq!(u.needed_by(&u.spec, Some(&done), 2), BindingWrite::Nothing);
    // A different RolloutStarted (another run's False) is replaced.
    let other = Condition {
        status: FALSE.into(),
        reason: "RolloutNotStartedYet".into(),
        ..u.rollout_started.clone()
    };
    assert_eq!(
        u.needed_by(&u.spec, Some(&started_at(2, &other)), 2),
        BindingWrite::Status
    );
}

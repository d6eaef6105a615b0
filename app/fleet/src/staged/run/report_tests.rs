use super::*;
use crate::staged::staged_update::StageTaskType;
use crate::staged::staged_update_run::ClusterUpdatingStatus;
use crate::types::condition::{messages, new_condition};
use k8s_openapi::jiff::Timestamp;

fn at(secs: i64) -> Time {
    Time(Timestamp::from_second(1_800_000_000 + secs).expect("time"))
}

#[test]
fn only_a_new_false_condition_counts_as_a_setback() {
    let progressing = cond(types::PROGRESSING, TRUE, "UpdateRunProgressing", "m", 1, 0);
    let stuck = cond(
        types::PROGRESSING,
        FALSE,
        reasons::UPDATE_RUN_STUCK,
        "m",
        1,
        5,
    );
    let waiting = cond(
        types::PROGRESSING,
        FALSE,
        reasons::UPDATE_RUN_WAITING,
        "m",
        1,
        9,
    );
    let before = run(vec![progressing.clone()]);
    assert!(!adds_false_condition(
        Some(&before),
        &run(vec![progressing])
    ));
    assert!(adds_false_condition(
        Some(&before),
        &run(vec![stuck.clone()])
    ));
    assert!(adds_false_condition(None, &run(vec![stuck.clone()])));
    // Already stuck: staying stuck is no new decision, another False reason is.
    let was_stuck = run(vec![stuck.clone()]);
    assert!(!adds_false_condition(Some(&was_stuck), &run(vec![stuck])));
    assert!(adds_false_condition(Some(&was_stuck), &run(vec![waiting])));
}

fn cond(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: i64,
    t: i64,
) -> Condition {
    new_condition(type_, status, reason, message, generation, &at(t))
}

fn run(conditions: Vec<Condition>) -> StagedUpdateRunStatus {
    StagedUpdateRunStatus {
        conditions: Some(conditions),
        ..Default::default()
    }
}

#[test]
fn the_status_sample_is_the_most_significant_condition_at_the_generation() {
    let init = cond(
        types::INITIALIZED,
        TRUE,
        reasons::UPDATE_RUN_INITIALIZED_SUCCESSFULLY,
        "",
        2,
        0,
    );
    let progressing = cond(
        types::PROGRESSING,
        TRUE,
        reasons::UPDATE_RUN_PROGRESSING,
        "",
        2,
        0,
    );
    let s = status_sample(Some(&run(vec![init.clone(), progressing.clone()])), 2).expect("sample");
    assert_eq!(
        (
            s.condition.as_str(),
            s.status.as_str(),
            s.reason.as_str(),
            s.failure_type
        ),
        ("Progressing", "True", "UpdateRunProgressing", "none")
    );
    // A condition of an older generation does not count.
    let s = status_sample(Some(&run(vec![init.clone(), progressing])), 3);
    assert_eq!(s, None);
    let s = status_sample(Some(&run(vec![init])), 2).expect("sample");
    assert_eq!(s.condition, "Initialized");
    assert_eq!(status_sample(None, 1), None);
}

#[test]
fn failure_types_follow_the_message_and_the_reason() {
    let cases = [
        (types::SUCCEEDED, FALSE, reasons::UPDATE_RUN_FAILED, "cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: parent placement not found", "user_error"),
        (types::SUCCEEDED, FALSE, reasons::UPDATE_RUN_FAILED, "cannot continue the updateRun: unexpected behavior which cannot be handled by the controller: x", "internal_error"),
        (types::INITIALIZED, FALSE, reasons::UPDATE_RUN_INITIALIZED_FAILED, "cannot continue the updateRun: failed to validate the updateRun: failed to process the request due to a client error: referenced updateStrategy not found: `/s`", "user_error"),
        (types::PROGRESSING, FALSE, reasons::UPDATE_RUN_STUCK, "The updateRun is stuck waiting for a cluster(s) in stage s to finish updating, please check placement status for potential errors", "internal_error"),
        (types::PROGRESSING, FALSE, reasons::UPDATE_RUN_WAITING, "waiting", "none"),
        (types::SUCCEEDED, TRUE, reasons::UPDATE_RUN_SUCCEEDED, messages::UPDATE_RUN_SUCCEEDED, "none"),
    ];
    for (type_, status, reason, message, want) in cases {
        let s = status_sample(
            Some(&run(vec![cond(type_, status, reason, message, 1, 0)])),
            1,
        )
        .expect("sample");
        assert_eq!(s.failure_type, want, "{reason}: {message}");
    }
}

fn succeeded_cluster(name: &str) -> ClusterUpdatingStatus {
    ClusterUpdatingStatus {
        cluster_name: name.into(),
        conditions: Some(vec![cond(
            types::SUCCEEDED,
            TRUE,
            reasons::CLUSTER_UPDATING_SUCCEEDED,
            "",
            1,
            0,
        )]),
        ..Default::default()
    }
}

fn approval_task(name: &str, created: Option<i64>, approved: Option<i64>) -> StageTaskStatus {
    let mut conditions = Vec::new();
    if let Some(t) = created {
        conditions.push(cond(
            types::APPROVAL_REQUEST_CREATED,
            TRUE,
            reasons::STAGE_TASK_APPROVAL_REQUEST_CREATED,
            "",
            1,
            t,
        ));
    }
    if let Some(t) = approved {
        conditions.push(cond(
            types::APPROVAL_REQUEST_APPROVED,
            TRUE,
            reasons::STAGE_TASK_APPROVAL_REQUEST_APPROVED,
            "",
            1,
            t,
        ));
    }
    StageTaskStatus {
        type_: StageTaskType::Approval,
        approval_request_name: Some(name.into()),
        conditions: Some(conditions),
    }
}

#[test]
fn a_stage_reports_its_start_approval_wait_latency_and_cluster_duration_once() {
    let pending = StageUpdatingStatus {
        stage_name: "staging".into(),
        clusters: Some(vec![ClusterUpdatingStatus {
            cluster_name: "member2".into(),
            ..Default::default()
        }]),
        after_stage_task_status: Some(vec![approval_task("run-after-staging", None, None)]),
        ..Default::default()
    };
    let started = StageUpdatingStatus {
        start_time: Some(at(10)),
        ..pending.clone()
    };
    let done = StageUpdatingStatus {
        clusters: Some(vec![succeeded_cluster("member2")]),
        after_stage_task_status: Some(vec![approval_task("run-after-staging", Some(40), None)]),
        ..started.clone()
    };
    let approved = StageUpdatingStatus {
        after_stage_task_status: Some(vec![approval_task(
            "run-after-staging",
            Some(40),
            Some(340),
        )]),
        conditions: Some(vec![cond(
            types::SUCCEEDED,
            TRUE,
            reasons::STAGE_UPDATING_SUCCEEDED,
            "",
            1,
            340,
        )]),
        ..done.clone()
    };
    let status = |s: &StageUpdatingStatus| StagedUpdateRunStatus {
        stages_status: Some(vec![s.clone()]),
        ..Default::default()
    };

    let (obs, events) = transitions(Some(&status(&pending)), &status(&started), &at(10));
    assert_eq!(obs, []);
    assert_eq!(
        events.iter().map(|e| e.reason).collect::<Vec<_>>(),
        ["StageStarted"]
    );

    let (obs, events) = transitions(Some(&status(&started)), &status(&done), &at(40));
    assert_eq!(
        obs,
        [Observation::StageClustersUpdated {
            stage: "staging".into(),
            seconds: 30.0
        }]
    );
    assert_eq!(
        events.iter().map(|e| e.reason).collect::<Vec<_>>(),
        ["WaitingForApproval"]
    );
    assert_eq!(
        events[0].note,
        "Stage staging waits for approval request run-after-staging (after the stage)"
    );

    let (obs, events) = transitions(Some(&status(&done)), &status(&approved), &at(340));
    assert_eq!(
        obs,
        [Observation::ApprovalLatency {
            task_type: "afterStage",
            seconds: 300.0
        }]
    );
    assert_eq!(
        events.iter().map(|e| e.reason).collect::<Vec<_>>(),
        ["StageSucceeded"]
    );

    // Nothing new, nothing reported.
    let (obs, events) = transitions(Some(&status(&approved)), &status(&approved), &at(400));
    assert_eq!((obs, events), (vec![], vec![]));
}

#[test]
fn a_skipped_stage_is_reported_as_skipped_only() {
    let skipped = StageUpdatingStatus {
        stage_name: "empty".into(),
        start_time: Some(at(0)),
        end_time: Some(at(0)),
        conditions: Some(vec![cond(
            types::SUCCEEDED,
            TRUE,
            reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS,
            "",
            1,
            0,
        )]),
        ..Default::default()
    };
    let after = StagedUpdateRunStatus {
        stages_status: Some(vec![skipped]),
        ..Default::default()
    };
    let (obs, events) = transitions(None, &after, &at(0));
    assert_eq!(obs, []);
    assert_eq!(
        events.iter().map(|e| e.reason).collect::<Vec<_>>(),
        ["StageSkipped"]
    );
}

#[test]
fn run_transitions_become_events_once() {
    let init = cond(
        types::INITIALIZED,
        TRUE,
        reasons::UPDATE_RUN_INITIALIZED_SUCCESSFULLY,
        messages::UPDATE_RUN_INITIALIZED,
        1,
        0,
    );
    let stopped = cond(
        types::PROGRESSING,
        FALSE,
        reasons::UPDATE_RUN_STOPPED,
        messages::UPDATE_RUN_STOPPED,
        1,
        0,
    );
    let failed = cond(
        types::SUCCEEDED,
        FALSE,
        reasons::UPDATE_RUN_FAILED,
        "boom",
        1,
        0,
    );
    let (_, events) = transitions(None, &run(vec![init.clone(), stopped.clone()]), &at(0));
    assert_eq!(
        events
            .iter()
            .map(|e| (e.reason, e.kind))
            .collect::<Vec<_>>(),
        [
            ("Initialized", EventKind::Normal),
            ("Stopped", EventKind::Normal)
        ]
    );
    let before = run(vec![init.clone(), stopped]);
    let (_, events) = transitions(Some(&before), &run(vec![init, failed]), &at(0));
    assert_eq!(events, [warning("Failed", "Run", "boom".into())]);
}

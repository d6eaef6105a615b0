use serde_json::{json, Value};

use super::*;
use crate::ClusterStagedUpdateRun;

fn now() -> Time {
    Time("2026-01-12T23:00:00Z".parse().expect("timestamp"))
}

fn c(t: &str, s: &str, reason: &str, at: &str) -> Value {
    json!({"type": t, "status": s, "reason": reason, "message": format!("{t} {reason}"),
           "lastTransitionTime": at, "observedGeneration": 2})
}

fn run(state: &str, status: Value) -> ClusterStagedUpdateRun {
    serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
        "metadata": {"name": "example-run", "generation": 2},
        "spec": {"placementName": "example-placement", "stagedRolloutStrategyName": "example-strategy", "state": state},
        "status": status
    }))
    .expect("run")
}

/// Seed 002 after the staging stage: member2 done, the 1m wait passed; canary waits for its
/// before-stage approval.
fn seed_002_waiting() -> Value {
    json!({
        "policySnapshotIndexUsed": "0",
        "resourceSnapshotIndexUsed": "0",
        "conditions": [
            c("Initialized", "True", "UpdateRunInitializedSuccessfully", "2026-01-12T22:40:00Z"),
            c("Progressing", "False", "UpdateRunWaiting", "2026-01-12T22:46:00Z"),
        ],
        "stagedUpdateStrategySnapshot": {"stages": [
            {"name": "staging", "labelSelector": {}, "afterStageTasks": [{"type": "TimedWait", "waitTime": "1m"}]},
            {"name": "canary", "labelSelector": {}, "beforeStageTasks": [{"type": "Approval"}], "afterStageTasks": [{"type": "Approval"}]},
        ]},
        "stagesStatus": [
            {"stageName": "staging", "startTime": "2026-01-12T22:44:00Z", "endTime": "2026-01-12T22:45:30Z",
             "clusters": [{"clusterName": "member2", "conditions": [
                c("Started", "True", "ClusterUpdatingStarted", "2026-01-12T22:44:00Z"),
                c("Succeeded", "True", "ClusterUpdatingSucceeded", "2026-01-12T22:44:30Z")]}],
             "afterStageTaskStatus": [{"type": "TimedWait", "conditions": [
                c("WaitTimeElapsed", "True", "AfterStageTaskWaitTimeElapsed", "2026-01-12T22:45:30Z")]}],
             "conditions": [c("Progressing", "False", "StageUpdatingSucceeded", "2026-01-12T22:45:30Z"),
                            c("Succeeded", "True", "StageUpdatingSucceeded", "2026-01-12T22:45:30Z")]},
            {"stageName": "canary",
             "clusters": [{"clusterName": "member3"}, {"clusterName": "member1"}],
             "beforeStageTaskStatus": [{"type": "Approval", "approvalRequestName": "example-run-before-canary",
                "conditions": [c("ApprovalRequestCreated", "True", "StageTaskApprovalRequestCreated", "2026-01-12T22:45:30Z")]}],
             "afterStageTaskStatus": [{"type": "Approval", "approvalRequestName": "example-run-after-canary"}],
             "conditions": [c("Progressing", "False", "StageUpdatingWaiting", "2026-01-12T22:45:30Z")]},
        ],
        "deletionStageStatus": {"stageName": "kubernetes-fleet.io/deleteStage"}
    })
}

#[test]
fn the_timeline_shows_stages_gates_and_clusters_in_order() {
    let d = detail(&run("Run", seed_002_waiting()), &[], &[], &now());
    let names: Vec<&str> = d.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["staging", "canary"]);
    assert_eq!(d.stages[0].state, StageState::Succeeded);
    assert_eq!(d.stages[1].state, StageState::Waiting);
    assert_eq!(
        d.stages[0].after,
        [GateView::TimedWait {
            wait: "1m".into(),
            ends_at: None,
            elapsed: true
        }]
    );
    assert_eq!(
        d.stages[1].before,
        [GateView::Approval {
            request: "example-run-before-canary".into(),
            state: ApprovalState::Waiting
        }]
    );
    assert_eq!(
        d.stages[1].after,
        [GateView::Approval {
            request: "example-run-after-canary".into(),
            state: ApprovalState::NotYet
        }]
    );
    let chips: Vec<(&str, ClusterState)> = d.stages[1]
        .chips
        .iter()
        .map(|c| (c.name.as_str(), c.state))
        .collect();
    assert_eq!(
        chips,
        [
            ("member3", ClusterState::Pending),
            ("member1", ClusterState::Pending)
        ]
    );
    assert_eq!(d.stages[0].chips[0].state, ClusterState::Succeeded);
    assert!(d.deletion.is_some());
    assert_eq!(
        d.headline.waiting_for.as_deref(),
        Some("approval of example-run-before-canary")
    );
    assert_eq!(
        d.headline.who_acts.as_deref(),
        Some("an approver (Approve)")
    );
    assert!(d.actions.stop && !d.actions.resume && !d.actions.start);
}

fn approval(name: &str, generation: i64, observed: i64, type_: &str) -> ApprovalFacts {
    let condition: Condition = serde_json::from_value(json!({
        "type": type_, "status": "True", "reason": "lgtm", "message": "lgtm",
        "lastTransitionTime": "2026-01-12T22:50:00Z", "observedGeneration": observed
    }))
    .expect("condition");
    ApprovalFacts {
        name: name.into(),
        generation,
        conditions: vec![condition],
    }
}

#[test]
fn an_approval_counts_only_at_the_request_generation() {
    let r = run("Run", seed_002_waiting());
    let gate = |approvals: &[ApprovalFacts]| {
        detail(&r, approvals, &[], &now()).stages[1].before[0].clone()
    };
    let state = |g: GateView| match g {
        GateView::Approval { state, .. } => state,
        other => panic!("not an approval: {other:?}"),
    };
    let current = approval("example-run-before-canary", 1, 1, "Approved");
    assert_eq!(state(gate(&[current])), ApprovalState::Approved);
    // Seed 003: observedGeneration 0 on a generation-1 request is not an approval.
    let stale = approval("example-run-before-canary", 1, 0, "Approved");
    assert_eq!(state(gate(&[stale])), ApprovalState::Waiting);
}

#[test]
fn a_running_timed_wait_ends_its_length_after_the_last_cluster_succeeded() {
    let mut status = seed_002_waiting();
    status["stagesStatus"][0]["afterStageTaskStatus"][0]["conditions"] = json!([]);
    status["stagesStatus"][0]["conditions"] = json!([c(
        "Progressing",
        "False",
        "StageUpdatingSucceeded",
        "2026-01-12T22:44:40Z"
    )]);
    let d = detail(&run("Run", status), &[], &[], &now());
    let expected: DateTime<Utc> = "2026-01-12T22:45:30Z".parse().expect("time");
    assert_eq!(
        d.stages[0].after,
        [GateView::TimedWait {
            wait: "1m".into(),
            ends_at: Some(expected),
            elapsed: false
        }]
    );
    assert_eq!(d.stages[0].state, StageState::Waiting);
}

#[test]
fn a_stuck_run_names_its_clusters_and_why_their_resources_are_not_available() {
    let status = json!({
        "conditions": [
            c("Initialized", "True", "UpdateRunInitializedSuccessfully", "2026-01-12T22:42:52Z"),
            c("Progressing", "False", "UpdateRunStuck", "2026-01-12T22:49:51Z"),
        ],
        "stagesStatus": [
            {"stageName": "staging", "clusters": [{"clusterName": "member2", "conditions": [
                c("Started", "True", "ClusterUpdatingStarted", "2026-01-12T22:44:08Z")]}],
             "conditions": [c("Progressing", "True", "StageUpdatingStarted", "2026-01-12T22:44:08Z")]},
            {"stageName": "canary", "clusters": [{"clusterName": "member1"}]},
        ]
    });
    let trouble = BindingTrouble {
        cluster: "member2".into(),
        failed: vec![FailedResource {
            group: "apps".into(),
            kind: "Deployment".into(),
            namespace: Some("test-namespace".into()),
            name: "nginx-deployment".into(),
            reason: "ManifestNotAvailableYet".into(),
            message: "Manifest is not yet available; Fleet will check again later".into(),
            cause: Some("cannot pull image nginx:INVALID (InvalidImageName)".into()),
        }],
        message: None,
    };
    let d = detail(&run("Run", status), &[], &[trouble], &now());
    assert_eq!(d.row.pill, RunPill::Stuck);
    assert_eq!(d.stages[0].chips[0].state, ClusterState::Stuck);
    assert_eq!(d.stages[0].counts.stuck, 1);
    assert_eq!(
        d.stages[1].chips[0].state,
        ClusterState::Pending,
        "later stages are not stuck"
    );
    let problem = &d.problems[0];
    assert_eq!(
        problem.title,
        "Stuck: member2 not available in stage staging"
    );
    assert_eq!(
        problem.details[0],
        "member2's Deployment test-namespace/nginx-deployment cannot pull image nginx:INVALID (InvalidImageName)"
    );
    assert!(problem.next_step.contains("kubectl --context member2"));
}

#[test]
fn a_large_stage_carries_counts_and_a_bounded_number_of_chips_problems_first() {
    let mut clusters: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"clusterName": format!("m{i:04}"), "conditions": [
            c("Started", "True", "ClusterUpdatingStarted", "2026-01-12T22:44:00Z"),
            c("Succeeded", "True", "ClusterUpdatingSucceeded", "2026-01-12T22:44:30Z")]})
        })
        .collect();
    clusters[700] = json!({"clusterName": "m0700", "conditions": [
        c("Started", "True", "ClusterUpdatingStarted", "2026-01-12T22:44:00Z"),
        c("Succeeded", "False", "ClusterUpdatingFailed", "2026-01-12T22:44:30Z")]});
    let status = json!({"stagesStatus": [{"stageName": "all", "clusters": clusters}]});
    let d = detail(&run("Run", status), &[], &[], &now());
    let stage = &d.stages[0];
    assert_eq!(stage.chips.len(), CHIPS_PER_STAGE);
    assert_eq!(
        (
            stage.counts.total,
            stage.counts.succeeded,
            stage.counts.failed
        ),
        (1000, 999, 1)
    );
    assert_eq!(stage.chips[0].name, "m0700", "the failed cluster leads");
    assert_eq!(stage.chips[1].name, "m0000", "then the update order");
}

#[test]
fn actions_follow_the_run_state() {
    let initialized = json!({"conditions": [c("Initialized", "True", "UpdateRunInitializedSuccessfully", "2026-01-12T22:40:00Z")]});
    let a = detail(&run("Initialize", initialized.clone()), &[], &[], &now()).actions;
    assert_eq!(
        a,
        Actions {
            start: true,
            stop: false,
            resume: false
        }
    );
    let not_yet = detail(&run("Initialize", json!({})), &[], &[], &now()).actions;
    assert!(!not_yet.start, "no Start before the plan exists");
    let stopped = detail(&run("Stop", initialized.clone()), &[], &[], &now()).actions;
    assert_eq!(
        stopped,
        Actions {
            start: false,
            stop: false,
            resume: true
        }
    );
    let done = json!({"conditions": [c("Succeeded", "True", "UpdateRunSucceeded", "2026-01-12T22:40:00Z")]});
    assert_eq!(
        detail(&run("Run", done), &[], &[], &now()).actions,
        Actions::default()
    );
}

#[test]
fn a_failed_initialization_explains_itself_with_a_next_step() {
    let mut cond = c(
        "Initialized",
        "False",
        "UpdateRunInitializedFailed",
        "2026-01-12T22:40:00Z",
    );
    cond["message"] = json!("cannot continue the updateRun: failed to validate the updateRun: parent placement not found");
    let d = detail(&run("Run", json!({"conditions": [cond]})), &[], &[], &now());
    assert_eq!(d.row.pill, RunPill::Failed);
    assert_eq!(d.problems.len(), 1);
    assert!(d.problems[0]
        .explanation
        .ends_with("parent placement not found"));
    assert!(d.problems[0].next_step.starts_with("Create the placement"));
}

#[test]
fn stopping_and_stopped_read_differently() {
    let stopping = json!({"conditions": [
        c("Initialized", "True", "UpdateRunInitializedSuccessfully", "2026-01-12T22:40:00Z"),
        c("Progressing", "Unknown", "UpdateRunStopping", "2026-01-12T22:41:00Z")]});
    let d = detail(&run("Stop", stopping), &[], &[], &now());
    assert!(d.headline.doing.starts_with("Stopping"), "{:?}", d.headline);
    let stopped = json!({"conditions": [
        c("Initialized", "True", "UpdateRunInitializedSuccessfully", "2026-01-12T22:40:00Z"),
        c("Progressing", "False", "UpdateRunStopped", "2026-01-12T22:41:00Z")]});
    let d = detail(&run("Stop", stopped), &[], &[], &now());
    assert_eq!(d.headline.who_acts.as_deref(), Some("an operator (Resume)"));
}

#[test]
fn a_binding_explains_its_failed_placements_in_words() {
    let binding: crate::ClusterResourceBinding = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourceBinding",
        "metadata": {"name": "example-placement-member2-e1a567da"},
        "spec": {"state": "Bound", "targetCluster": "member2"},
        "status": {
            "conditions": [c("Available", "False", "NotAllWorkAreAvailable", "2026-01-12T22:44:08Z")],
            "failedPlacements": [{
                "group": "apps", "version": "v1", "kind": "Deployment",
                "name": "nginx-deployment", "namespace": "test-namespace",
                "condition": {"type": "Available", "status": "False", "reason": "ManifestNotAvailableYet",
                              "message": "Manifest is not yet available; Fleet will check again later",
                              "lastTransitionTime": "2026-01-12T22:44:08Z"}
            }]
        }
    }))
    .expect("binding");
    let trouble = BindingTrouble::of(&binding);
    assert_eq!(trouble.cluster, "member2");
    assert_eq!(
        trouble.failed.iter().map(|f| f.sentence("member2")).collect::<Vec<_>>(),
        ["member2's Deployment test-namespace/nginx-deployment is not ready: Manifest is not yet available; Fleet will check again later (ManifestNotAvailableYet)"]
    );
    assert_eq!(
        trouble.message.as_deref(),
        Some("Available NotAllWorkAreAvailable")
    );
}

#[test]
fn the_runs_list_says_what_a_waiting_run_waits_for() {
    let r = run("Run", seed_002_waiting());
    assert_eq!(
        crate::views::run_view::row(&r).waiting_for.as_deref(),
        Some("approval of example-run-before-canary")
    );
    let mut status = seed_002_waiting();
    status["stagesStatus"][0]["afterStageTaskStatus"][0]["conditions"] = json!([]);
    status["stagesStatus"][0]["conditions"] = json!([c(
        "Progressing",
        "False",
        "StageUpdatingSucceeded",
        "2026-01-12T22:44:40Z"
    )]);
    assert_eq!(
        waiting_for(&run("Run", status)).as_deref(),
        Some("the 1m wait after stage staging to pass (until 22:45:30 UTC)")
    );
    let running = json!({"conditions": [c("Progressing", "True", "UpdateRunProgressing", "2026-01-12T22:40:00Z")]});
    assert_eq!(
        crate::views::run_view::row(&run("Run", running)).waiting_for,
        None
    );
}

#[test]
fn a_large_stage_lists_its_clusters_filtered_and_paged() {
    let clusters: Vec<Value> = (0..1000)
        .map(|i| {
            let done = i < 400;
            json!({"clusterName": format!("m{i:04}"), "conditions": if done {
                json!([c("Started", "True", "ClusterUpdatingStarted", "2026-01-12T22:44:00Z"),
                       c("Succeeded", "True", "ClusterUpdatingSucceeded", "2026-01-12T22:44:30Z")])
            } else { json!([]) }})
        })
        .collect();
    let r = run(
        "Run",
        json!({"stagesStatus": [{"stageName": "all", "clusters": clusters}]}),
    );
    let first = stage_clusters(&r, "all", "", None, 0);
    assert_eq!(
        (first.matching, first.pages, first.chips.len()),
        (1000, 10, 100)
    );
    assert_eq!(first.chips[0].name, "m0000");
    let last = stage_clusters(&r, "all", "", None, 99);
    assert_eq!(
        (last.page, last.chips[0].name.as_str()),
        (9, "m0900"),
        "a page past the end shows the last"
    );
    let filtered = stage_clusters(&r, "all", "m09", None, 0);
    assert_eq!((filtered.matching, filtered.pages), (100, 1));
    let pending = stage_clusters(&r, "all", "", Some(ClusterState::Pending), 0);
    assert_eq!(
        (pending.matching, pending.chips[0].name.as_str()),
        (600, "m0400")
    );
    assert_eq!(
        stage_clusters(&r, "nope", "", None, 0),
        ClusterPage::default()
    );
}

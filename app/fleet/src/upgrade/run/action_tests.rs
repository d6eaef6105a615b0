//! The run-level transitions of aks §7.1 and the skip rules of aks §8.4.

use super::test_world::Sim;
use super::SkipTargetType::{self, *};
use crate::upgrade::fixtures::*;
use crate::upgrade::upgrade_error::UpgradeError;
use crate::upgrade::upgrade_run::UpdateState::{self, *};

/// stage1: group-1a {m1, m2}, group-1b {m3}; stage2 (a 600 s wait after stage1): group-2a {m4}.
fn sim() -> Sim {
    let mut s1 = stage("stage1", &["group-1a", "group-1b"]);
    s1.after_stage_wait_in_seconds = Some(600);
    let mut s2 = stage("stage2", &["group-2a"]);
    s2.after_stage_wait_in_seconds = Some(600);
    Sim::new(
        with_stages(full("1.30.5"), vec![s1, s2]),
        vec![
            member("m1", Some("group-1a")),
            member("m2", Some("group-1a")),
            member("m3", Some("group-1b")),
            member("m4", Some("group-2a")),
        ],
    )
}

fn refused(r: Result<(), UpgradeError>, action: &str, state: &str) {
    assert_eq!(
        r.map_err(|e| e.to_string()),
        Err(format!("cannot {action} an update run that is {state}"))
    );
}

#[test]
fn not_started_goes_to_running_on_start_and_refuses_stop() {
    let mut s = sim();
    refused(s.try_stop(), "stop", "NotStarted");
    s.start();
    assert_eq!(s.run_state(), Running);
    refused(s.try_start(), "start", "Running");
}

#[test]
fn not_started_goes_to_pending_when_nothing_can_start() {
    let closed = with_window(member("a", None), Some("Tuesday"), "02:00", 4);
    let mut s = Sim::new(full("1.30.5"), vec![closed]);
    s.start();
    s.step();
    assert_eq!(s.run_state(), Pending);
    // Pending → Stopped: nothing in flight, so the stop completes at the next step.
    s.try_stop().expect("stop a pending run");
    s.step();
    assert_eq!(s.run_state(), Stopped);
    assert_eq!(
        s.member("a"),
        NotStarted,
        "a stopped run shows no member waiting"
    );
    // Stopped → Pending on start.
    s.start();
    s.step();
    assert_eq!(s.run_state(), Pending);
    // Pending → Running when the window opens; then Running → Completed.
    s.now = at("2026-12-08T02:00:00Z");
    s.step();
    assert_eq!(s.run_state(), Running);
    s.drive();
    assert_eq!(s.run_state(), Completed);
    refused(s.try_start(), "start", "Completed");
    refused(s.try_stop(), "stop", "Completed");
    refused(s.try_skip(&[(Member, "a")]), "skip", "Completed");
}

#[test]
fn pending_goes_to_failed_and_stopping_goes_to_failed() {
    // Pending → Failed: both members wait for their windows; meanwhile another operation starts
    // on b, which fails b at its next turn (aks §13).
    let closed = with_window(member("a", None), Some("Tuesday"), "02:00", 4);
    let b = with_window(member("b", None), None, "12:00", 4);
    let mut s = Sim::new(full("1.30.5"), vec![closed, b]);
    s.start();
    s.step();
    assert_eq!(
        (s.member("a"), s.member("b"), s.run_state()),
        (Pending, Pending, Pending)
    );
    if let Some(m) = s.members.get_mut("b") {
        m.operation = Some(crate::upgrade::member_view::OperationView {
            id: "someone-else".into(),
            state: crate::upgrade::member_view::OperationState::InProgress,
        });
    }
    s.step();
    assert_eq!((s.member("b"), s.run_state()), (Failed, Failed));
    let error = s
        .member_status("b")
        .status
        .as_ref()
        .and_then(|st| st.error.clone());
    assert_eq!(error.expect("error")["code"], "OperationNotAllowed");

    // Stopping → Failed: the member in flight during a stop fails.
    let mut s = sim();
    s.start();
    s.step();
    s.try_stop().expect("stop");
    s.step();
    assert_eq!(s.run_state(), Stopping);
    refused(s.try_stop(), "stop", "Stopping");
    refused(s.try_start(), "start", "Stopping");
    s.finish("m1", false);
    s.finish("m3", true);
    s.step();
    assert_eq!(s.run_state(), Failed);
}

#[test]
fn failed_goes_to_running_pending_or_failed_on_start() {
    let mut bad = member("b", None);
    bad.kubernetes_version = "1.28.1".into();
    let mut s = Sim::new(full("1.30.5"), vec![bad]);
    s.start();
    s.step();
    assert_eq!(s.run_state(), Failed);
    // Failed → Failed: the retry fails the same way.
    s.start();
    s.step();
    assert_eq!(s.run_state(), Failed);
    // Failed → Running once the member can go.
    if let Some(m) = s.members.get_mut("b") {
        m.kubernetes_version = "1.29.4".into();
    }
    s.start();
    s.step();
    assert_eq!(s.run_state(), Running);

    // Failed → Pending: the retried member's window is closed.
    let mut bad = with_window(member("b", None), Some("Tuesday"), "02:00", 4);
    bad.kubernetes_version = "1.28.1".into();
    let mut s = Sim::new(full("1.30.5"), vec![bad]);
    s.start();
    s.step();
    assert_eq!(s.run_state(), Failed);
    if let Some(m) = s.members.get_mut("b") {
        m.kubernetes_version = "1.29.4".into();
    }
    s.start();
    s.step();
    assert_eq!(s.run_state(), Pending);
}

#[test]
fn stopped_fails_on_start_when_the_next_member_cannot_go() {
    let mut b = member("b", None);
    b.kubernetes_version = "1.28.1".into();
    let mut s = Sim::new(full("1.30.5"), vec![member("a", None), b]);
    s.start();
    s.step();
    s.try_stop().expect("stop");
    s.finish("a", true);
    s.step();
    assert_eq!(s.run_state(), Stopped);
    s.start();
    s.step();
    assert_eq!(s.run_state(), Failed);
}

#[test]
fn skipping_a_member_skips_its_group_only_when_every_member_is_skipped() {
    let mut s = sim();
    s.try_skip(&[(Member, "m1")]).expect("skip before start");
    assert_eq!((s.member("m1"), s.group("group-1a")), (Skipped, NotStarted));
    s.try_skip(&[(Member, "m2")]).expect("skip");
    assert_eq!(s.group("group-1a"), Skipped, "every member Skipped");
    assert_eq!(s.stage("stage1"), NotStarted, "group-1b is not skipped");
    s.start();
    s.step();
    assert_eq!(s.started(), ["m3"]);
}

#[test]
fn skipping_a_group_skips_its_members_and_gates() {
    let mut st = stage("stage1", &["group-1a", "group-1b"]);
    if let Some(g) = st.groups.as_mut() {
        g[0].before_gates = Some(vec![Default::default()]);
    }
    let fleet = vec![
        member("m1", Some("group-1a")),
        member("m3", Some("group-1b")),
    ];
    let mut s = Sim::new(with_stages(full("1.30.5"), vec![st]), fleet);
    s.start();
    s.step();
    assert_eq!(s.group("group-1a"), Pending, "waiting for its approval");
    s.try_skip(&[(Group, "group-1a")])
        .expect("skip the gated group");
    assert_eq!((s.group("group-1a"), s.member("m1")), (Skipped, Skipped));
    let gate = &s.status.stages.as_ref().expect("stages")[0]
        .groups
        .as_ref()
        .expect("groups")[0]
        .before_gates
        .as_ref()
        .expect("gates")[0];
    assert_eq!(gate.status.as_ref().and_then(|s| s.state), Some(Skipped));
    s.drive();
    assert_eq!((s.stage("stage1"), s.run_state()), (Completed, Completed));
}

#[test]
fn skipping_a_stage_skips_its_groups_members_and_wait() {
    let mut s = sim();
    s.start();
    s.step();
    s.drive();
    assert_eq!(s.wait_state("stage1"), Running);
    s.advance(600);
    s.step();
    assert_eq!(s.member("m4"), Running);
    s.try_skip(&[(Stage, "stage2")])
        .expect("skip the running stage");
    assert_eq!(s.stage("stage2"), Skipped);
    assert_eq!(s.wait_state("stage2"), Skipped, "its wait goes with it");
    assert_eq!(s.group("group-2a"), Skipped);
    assert_eq!(
        s.member("m4"),
        Running,
        "the operation in flight is not cancelled"
    );
    s.finish("m4", true);
    s.step();
    assert_eq!(s.member("m4"), Completed, "its result is still recorded");
    assert_eq!(s.run_state(), Completed, "not every stage was skipped");
}

#[test]
fn a_run_whose_every_stage_is_skipped_is_skipped() {
    let mut s = sim();
    s.try_skip(&[(Stage, "stage1"), (Stage, "stage2")])
        .expect("skip both");
    s.start();
    s.step();
    assert_eq!(s.run_state(), Skipped);
    refused(s.try_stop(), "stop", "Skipped");
}

#[test]
fn skip_targets_are_checked_before_anything_changes() {
    let mut s = sim();
    let cases: Vec<(Vec<(SkipTargetType, &str)>, &str)> = vec![
        (vec![], "skip needs at least one target"),
        (
            vec![(Member, "m1"), (Group, "nope")],
            "skip target Group:nope does not exist in this update run",
        ),
        (
            vec![(AfterStageWait, "stage9")],
            "skip target AfterStageWait:stage9 does not exist in this update run",
        ),
    ];
    for (targets, want) in cases {
        let before = s.status.clone();
        let got = s.try_skip(&targets).map_err(|e| e.to_string());
        assert_eq!(got, Err(want.to_string()));
        assert_eq!(s.status, before, "all or nothing");
    }
    s.start();
    s.step();
    assert_eq!(
        s.try_skip(&[(Member, "m1")]).map_err(|e| e.to_string()),
        Err("member m1 is being upgraded and cannot be skipped: an operation in flight is never cancelled".into())
    );
    s.finish("m1", true);
    s.step();
    assert_eq!(
        s.try_skip(&[(Member, "m1")]).map_err(|e| e.to_string()),
        Err("skip target Member:m1 is already Completed".into())
    );
    let mut one = Sim::new(full("1.30.5"), vec![member("a", None)]);
    assert_eq!(
        one.try_skip(&[(AfterStageWait, "default")]),
        Err(UpgradeError::NoAfterStageWait("default".into()))
    );
}

#[test]
fn a_failed_member_skipped_is_not_retried_on_restart() {
    let mut s = Sim::new(full("1.30.5"), vec![member("a", None), member("b", None)]);
    s.start();
    s.step();
    s.finish("a", false);
    s.step();
    assert_eq!(s.run_state(), Failed);
    s.try_skip(&[(Member, "a")])
        .expect("skip the failed member");
    s.start();
    s.step();
    assert_eq!(s.started(), ["a", "b"], "a is not started again");
    s.drive();
    assert_eq!((s.member("a"), s.run_state()), (Skipped, Completed));
}

#[test]
fn every_state_is_reachable_from_the_table() {
    // A guard against a state the machine never produces: each is asserted above; this lists
    // them so a new UpdateState variant fails to compile here.
    let all = |s: UpdateState| match s {
        NotStarted | Running | Stopping | Stopped | Skipped | Failed | Pending | Completed => (),
    };
    all(NotStarted);
}

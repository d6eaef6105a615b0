//! Scenarios of the reconcile step (aks §6–§8) on the in-memory fleet of [`super::test_world`].

use super::test_world::Sim;
use super::Effect;
use crate::upgrade::fixtures::*;
use crate::upgrade::upgrade_run::{
    GateConfiguration, GateType, ScheduledStartConfiguration, UpdateState::*,
};

fn two_stages(wait: Option<i32>) -> Sim {
    let mut s1 = stage("stage1", &["group-1a", "group-1b"]);
    s1.after_stage_wait_in_seconds = wait;
    let spec = with_stages(full("1.30.5"), vec![s1, stage("stage2", &["group-2a"])]);
    Sim::new(
        spec,
        vec![
            member("m1", Some("group-1a")),
            member("m2", Some("group-1a")),
            member("m3", Some("group-1b")),
            member("m4", Some("group-2a")),
        ],
    )
}

#[test]
fn one_by_one_upgrades_every_member_in_turn_then_completes() {
    let mut sim = Sim::new(
        full("1.30.5"),
        vec![member("b", None), member("a", Some("x")), member("c", None)],
    );
    sim.start();
    sim.step();
    assert_eq!(sim.started(), ["a"], "one at a time, list order");
    assert_eq!(
        (sim.run_state(), sim.member("a"), sim.member("b")),
        (Running, Running, NotStarted)
    );
    sim.drive();
    assert_eq!(sim.started(), ["a", "b", "c"]);
    assert_eq!(sim.run_state(), Completed);
    assert_eq!(sim.stage("default"), Completed);
    let done = sim
        .status
        .status
        .as_ref()
        .and_then(|s| s.completed_time.clone());
    assert!(done.is_some(), "completedTime stamped");
}

#[test]
fn stages_run_in_order_and_groups_in_parallel() {
    let mut sim = two_stages(None);
    sim.start();
    sim.step();
    assert_eq!(
        sim.started(),
        ["m1", "m3"],
        "both groups of stage1 at once, m4 waits"
    );
    assert_eq!(sim.stage("stage2"), NotStarted);
    sim.finish("m1", true);
    sim.step();
    assert_eq!(sim.started(), ["m1", "m3", "m2"]);
    sim.finish("m3", true);
    sim.finish("m2", true);
    sim.step();
    assert_eq!(sim.stage("stage1"), Completed);
    assert_eq!(
        sim.started(),
        ["m1", "m3", "m2", "m4"],
        "stage2 starts in the same pass"
    );
    sim.drive();
    assert_eq!(sim.run_state(), Completed);
}

#[test]
fn concurrency_is_capped_by_the_group_and_the_stage() {
    let mut s = stage("s", &["a", "b"]);
    s.max_concurrency = Some("3".into());
    if let Some(g) = s.groups.as_mut() {
        g[0].max_concurrency = Some("2".into());
        g[1].max_concurrency = Some("2".into());
    }
    let fleet = ["a1", "a2", "a3", "b1", "b2"]
        .iter()
        .map(|n| member(n, Some(&n[..1])))
        .collect();
    let mut sim = Sim::new(with_stages(full("1.30.5"), vec![s]), fleet);
    sim.start();
    sim.step();
    // Group a takes its 2; the stage's ceiling of 3 leaves one for group b (groups in order).
    assert_eq!(sim.started(), ["a1", "a2", "b1"]);
    sim.finish("a1", true);
    sim.step();
    assert_eq!(sim.started(), ["a1", "a2", "b1", "a3"]);
}

#[test]
fn the_after_stage_wait_holds_the_next_stage_and_can_be_skipped() {
    let mut sim = two_stages(Some(3600));
    sim.start();
    sim.step();
    sim.drive();
    assert_eq!(sim.wait_state("stage1"), Running);
    assert_eq!(sim.stage("stage1"), Running);
    assert_eq!(sim.stage("stage2"), NotStarted);
    let end = at("2026-12-07T11:00:00Z");
    assert_eq!(sim.requeue_at, Some(end), "requeue when the wait ends");
    sim.advance(3599);
    sim.step();
    assert_eq!(sim.wait_state("stage1"), Running);
    sim.advance(1);
    sim.step();
    assert_eq!(
        (sim.wait_state("stage1"), sim.stage("stage1")),
        (Completed, Completed)
    );
    assert_eq!(sim.member("m4"), Running);

    // The same run, but the wait skipped: stage2 starts at once.
    let mut sim = two_stages(Some(3600));
    sim.start();
    sim.step();
    sim.drive();
    sim.try_skip(&[(super::SkipTargetType::AfterStageWait, "stage1")])
        .expect("skip the wait");
    sim.step();
    assert_eq!(sim.wait_state("stage1"), Skipped);
    assert_eq!(
        sim.stage("stage1"),
        Completed,
        "its groups completed; only the wait was skipped"
    );
    assert_eq!(sim.member("m4"), Running);
}

#[test]
fn the_last_stage_waits_too() {
    let mut last = stage("only", &["g"]);
    last.after_stage_wait_in_seconds = Some(60);
    let mut sim = Sim::new(
        with_stages(full("1.30.5"), vec![last]),
        vec![member("m", Some("g"))],
    );
    sim.start();
    sim.step();
    sim.drive();
    assert_eq!(sim.run_state(), Running);
    sim.advance(60);
    sim.step();
    assert_eq!(sim.run_state(), Completed);
}

#[test]
fn a_closed_window_holds_a_member_pending_without_blocking_the_group() {
    // 2026-12-07 is a Monday; the window opens Tuesday 02:00 UTC.
    let closed = with_window(member("a", Some("g")), Some("Tuesday"), "02:00", 4);
    let mut sim = Sim::new(
        with_stages(full("1.30.5"), vec![stage("s", &["g"])]),
        vec![closed, member("b", Some("g"))],
    );
    sim.start();
    sim.step();
    // Ranked last (aks §6.3: closed windows go after members without one), `a` is not reached
    // while `b` holds the group's only slot.
    assert_eq!(sim.started(), ["b"]);
    assert_eq!((sim.member("a"), sim.group("g")), (NotStarted, Running));
    sim.finish("b", true);
    sim.step();
    assert_eq!(sim.member("a"), Pending);
    assert_eq!(
        sim.member_status("a").message.as_deref(),
        Some(
            "Member has been put into Pending state because its maintenance window is closed; \
             the next window opens at 2026-12-08T02:00:00Z"
        )
    );
    // Only the Pending member is left: group, stage and run are Pending (aks §7.2).
    assert_eq!(
        (sim.group("g"), sim.stage("s"), sim.run_state()),
        (Pending, Pending, Pending)
    );
    assert_eq!(sim.requeue_at, Some(at("2026-12-08T02:00:00Z")));
    sim.now = at("2026-12-08T02:00:00Z");
    sim.step();
    assert_eq!((sim.member("a"), sim.run_state()), (Running, Running));
    let started = sim
        .member_status("a")
        .status
        .as_ref()
        .and_then(|s| s.start_time.clone());
    assert_eq!(
        started.as_deref(),
        Some("2026-12-08T02:00:00Z"),
        "when its operation began"
    );
}

#[test]
fn members_with_an_open_window_go_before_those_without_one() {
    let open = with_window(member("z", Some("g")), None, "09:00", 4);
    let mut sim = Sim::new(
        with_stages(full("1.30.5"), vec![stage("s", &["g"])]),
        vec![member("a", Some("g")), open],
    );
    sim.start();
    sim.step();
    assert_eq!(
        sim.started(),
        ["z"],
        "aks §6.3: window open now ranks first"
    );
}

#[test]
fn one_failure_fails_the_group_stage_and_run_after_members_in_flight_finish() {
    let mut sim = two_stages(None);
    sim.start();
    sim.step();
    sim.finish("m1", false);
    sim.step();
    assert_eq!(sim.member("m1"), Failed);
    assert_eq!(
        (sim.group("group-1a"), sim.stage("stage1")),
        (Failed, Failed)
    );
    // m3 is still in flight in the other group: the run shows Stopping, m2 never starts.
    assert_eq!(
        (sim.run_state(), sim.member("m3"), sim.group("group-1b")),
        (Stopping, Stopping, Stopping)
    );
    assert_eq!(sim.member("m2"), NotStarted);
    sim.finish("m3", true);
    sim.step();
    assert_eq!((sim.run_state(), sim.member("m3")), (Failed, Completed));
    assert_eq!(
        sim.group("group-1b"),
        Stopped,
        "the other group stopped, it did not fail"
    );
    assert_eq!(sim.status.failure_count, Some(1));
    let error = sim
        .status
        .status
        .as_ref()
        .and_then(|s| s.error.clone())
        .expect("summary");
    assert_eq!(error["code"], "UpdateRunFailed");
    assert!(
        !sim.started().contains(&"m4".to_string()),
        "stage2 never starts"
    );
}

#[test]
fn max_allowed_failures_tolerates_failures_until_it_is_exceeded() {
    let mut s = stage("s", &["g"]);
    if let Some(g) = s.groups.as_mut() {
        g[0].max_allowed_failures = Some("1".into());
    }
    s.max_allowed_failures = Some("5".into());
    let fleet = ["a", "b", "c"]
        .iter()
        .map(|n| member(n, Some("g")))
        .collect();
    let mut sim = Sim::new(with_stages(full("1.30.5"), vec![s.clone()]), fleet);
    sim.start();
    sim.step();
    sim.finish("a", false);
    sim.step();
    assert_eq!(
        (sim.member("a"), sim.group("g"), sim.run_state()),
        (Failed, Running, Running)
    );
    assert_eq!(
        sim.started(),
        ["a", "b"],
        "within tolerance the group goes on"
    );
    sim.finish("b", false);
    sim.step();
    assert_eq!(
        (sim.group("g"), sim.stage("s"), sim.run_state()),
        (Failed, Failed, Failed)
    );
    assert_eq!(
        sim.member("c"),
        NotStarted,
        "no new work once the limit is crossed"
    );

    // Within tolerance to the end: Completed does not mean success (aks §7.2).
    let fleet = ["a", "b"].iter().map(|n| member(n, Some("g"))).collect();
    if let Some(g) = s.groups.as_mut() {
        g[0].max_allowed_failures = Some("100%".into());
    }
    let mut sim = Sim::new(with_stages(full("1.30.5"), vec![s]), fleet);
    sim.start();
    sim.step();
    sim.finish("a", false);
    sim.step();
    sim.finish("b", false);
    sim.step();
    assert_eq!((sim.group("g"), sim.run_state()), (Completed, Completed));
    assert_eq!(sim.status.failure_count, Some(2));
}

#[test]
fn a_skipped_minor_or_a_version_published_nowhere_fails_the_member_with_its_text() {
    let mut sim = Sim::new(full("1.31.1"), vec![member("m", None)]);
    sim.start();
    sim.step();
    assert_eq!((sim.member("m"), sim.run_state()), (Failed, Failed));
    let error = sim
        .member_status("m")
        .status
        .as_ref()
        .and_then(|s| s.error.clone());
    let error = error.expect("member error");
    assert_eq!(error["code"], "UpgradeNotAllowed");
    assert_eq!(
        error["message"],
        "upgrading Kubernetes version 1.29.4 to 1.31.1 is not allowed: it skips a minor version; \
         upgrade one minor version at a time"
    );
    let mut sim = Sim::new(full("1.30.99"), vec![member("m", None)]);
    sim.start();
    sim.step();
    let error = sim
        .member_status("m")
        .status
        .as_ref()
        .and_then(|s| s.error.clone());
    assert_eq!(
        error.expect("error")["code"],
        "KubernetesVersionNotAvailable"
    );
}

#[test]
fn an_approval_gate_holds_its_group_until_approved() {
    let mut s = stage("s", &["g", "h"]);
    if let Some(g) = s.groups.as_mut() {
        g[0].before_gates = Some(vec![GateConfiguration {
            display_name: Some("ok to go".into()),
            type_: GateType::Approval,
            scheduled_start_configuration: None,
        }]);
    }
    let fleet = vec![member("a", Some("g")), member("b", Some("h"))];
    let mut sim = Sim::new(with_stages(full("1.30.5"), vec![s]), fleet);
    sim.start();
    let effects = sim.step();
    let created: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::CreateGate { gate, gate_id } => Some((gate_id.len(), gate.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].0, 36, "a GUID-shaped id");
    let target = &created[0].1.target.update_run_properties;
    assert_eq!(
        (target.stage.as_deref(), target.group.as_deref()),
        (Some("s"), Some("g"))
    );
    // The gate blocks only its own group (aks §6.1.2).
    assert_eq!(sim.started(), ["b"]);
    assert_eq!(sim.group("g"), Pending);
    sim.step();
    assert_eq!(sim.started(), ["b"], "still waiting for the approval");
    sim.approve_all();
    sim.step();
    assert_eq!(sim.started(), ["b", "a"]);
    let gate = sim.status.stages.as_ref().expect("stages")[0]
        .groups
        .as_ref()
        .expect("groups")[0]
        .before_gates
        .clone()
        .expect("gates");
    assert_eq!(
        gate[0].status.as_ref().and_then(|s| s.state),
        Some(Completed)
    );
    assert!(gate[0].gate_id.is_some());
}

#[test]
fn a_scheduled_start_gate_opens_the_stage_at_its_time() {
    let mut s = stage("s", &["g"]);
    s.before_gates = Some(vec![GateConfiguration {
        display_name: None,
        type_: GateType::ScheduledStart,
        scheduled_start_configuration: Some(ScheduledStartConfiguration {
            start_day: "Monday".into(),
            start_time: "12:00".into(),
            utc_offset: "+00:00".into(),
        }),
    }]);
    let mut sim = Sim::new(
        with_stages(full("1.30.5"), vec![s]),
        vec![member("a", Some("g"))],
    );
    sim.start();
    sim.step();
    sim.step();
    assert_eq!((sim.stage("s"), sim.run_state()), (Pending, Pending));
    assert_eq!(sim.requeue_at, Some(at("2026-12-07T12:00:00Z")));
    sim.now = at("2026-12-07T12:00:00Z");
    let effects = sim.step();
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::CompleteGate { .. })));
    assert_eq!(sim.member("a"), Running);
}

#[test]
fn stop_lets_members_in_flight_finish_then_start_carries_on() {
    let fleet = ["a", "b"].iter().map(|n| member(n, None)).collect();
    let mut sim = Sim::new(full("1.30.5"), fleet);
    sim.start();
    sim.step();
    sim.try_stop().expect("stop a running run");
    sim.step();
    assert_eq!(
        (
            sim.run_state(),
            sim.stage("default"),
            sim.group("default"),
            sim.member("a")
        ),
        (Stopping, Stopping, Stopping, Stopping)
    );
    sim.finish("a", true);
    sim.step();
    assert_eq!(
        (sim.run_state(), sim.stage("default"), sim.member("a")),
        (Stopped, Stopped, Completed)
    );
    assert_eq!(sim.started(), ["a"], "nothing new starts while stopping");
    sim.start();
    sim.step();
    assert_eq!(
        sim.started(),
        ["a", "b"],
        "carries on from the next unprocessed member"
    );
    sim.drive();
    assert_eq!(sim.run_state(), Completed);
}

#[test]
fn a_restart_after_a_failure_retries_the_failed_member_with_a_new_operation() {
    let mut sim = Sim::new(full("1.30.5"), vec![member("a", None), member("b", None)]);
    sim.start();
    sim.step();
    let first = sim.member_status("a").operation_id.clone();
    sim.finish("a", false);
    sim.step();
    assert_eq!(sim.run_state(), Failed);
    sim.start();
    assert_eq!((sim.run_state(), sim.member("a")), (Running, NotStarted));
    assert_eq!(
        sim.status.failure_count,
        Some(1),
        "counts are recomputed by the next step"
    );
    sim.step();
    assert_eq!(sim.status.failure_count, Some(0));
    assert_eq!(sim.member("a"), Running);
    assert_ne!(sim.member_status("a").operation_id, first);
    sim.drive();
    assert_eq!(sim.run_state(), Completed);
}

use serde_json::json;

use super::*;
use crate::upgrade::fixtures::{at, catalogue, UBUNTU};

/// Run `r` (Full to 1.30.5): stage s1 with group g1 (m1 Completed, m2 Running) and g2 (m3
/// NotStarted), an after-stage wait of 60 s, and an Approval gate before stage s2 (m4).
fn run(state: &str, gate_state: &str) -> UpdateRun {
    serde_json::from_value(json!({
        "apiVersion": "updates.fleetdeck.dev/v1alpha1", "kind": "UpdateRun",
        "metadata": {"name": "r", "creationTimestamp": "2026-12-07T09:00:00Z"},
        "spec": {
            "strategy": {"stages": [
                {"name": "s1", "groups": [{"name": "g1"}, {"name": "g2"}], "afterStageWaitInSeconds": 60},
                {"name": "s2", "groups": [{"name": "g3"}], "beforeGates": [{"type": "Approval", "displayName": "ops sign-off"}]}
            ]},
            "managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.30.5"}}
        },
        "status": {
            "status": {"state": state, "startTime": "2026-12-07T10:00:00Z"},
            "stages": [
                {"name": "s1", "status": {"state": "Running"},
                 "afterStageWaitStatus": {"waitDurationInSeconds": 60, "status": {"state": "NotStarted"}},
                 "groups": [
                    {"name": "g1", "status": {"state": "Running"}, "members": [
                        {"name": "m1", "operationId": "op-m1", "status": {"state": "Completed", "startTime": "2026-12-07T10:00:00Z", "completedTime": "2026-12-07T10:05:00Z"}},
                        {"name": "m2", "operationId": "op-m2", "status": {"state": "Running", "startTime": "2026-12-07T10:05:00Z"}}
                    ]},
                    {"name": "g2", "status": {"state": "NotStarted"}, "members": [
                        {"name": "m3", "status": {"state": "NotStarted"}}
                    ]}
                 ]},
                {"name": "s2", "status": {"state": "NotStarted"},
                 "beforeGates": [{"displayName": "ops sign-off", "gateId": "gate-1", "status": {"state": gate_state}}],
                 "groups": [{"name": "g3", "status": {"state": "NotStarted"}, "members": [{"name": "m4", "status": {"state": "NotStarted"}}]}]}
            ]
        }
    }))
    .expect("a run")
}

fn member(name: &str, k8s: &str, image: &str, op: Option<serde_json::Value>) -> MemberCluster {
    let mut cluster = json!({
        "region": "eastus", "kubernetesVersion": k8s,
        "nodePools": [{"name": "nodepool1", "nodeImageVersion": format!("{UBUNTU}-{image}")}],
        "maintenanceWindow": {"dayOfWeek": "Saturday", "startTime": "02:00", "durationHours": 4}
    });
    if let Some(op) = op {
        cluster["operation"] = op;
    }
    serde_json::from_value(json!({
        "apiVersion": "cluster.kubernetes-fleet.io/v1beta1", "kind": "MemberCluster",
        "metadata": {"name": name},
        "spec": {"identity": {"kind": "ServiceAccount", "name": "a"}},
        "status": {"fleetdeck.dev/managedCluster": cluster}
    }))
    .expect("a member")
}

fn fleet() -> Vec<MemberCluster> {
    vec![
        // Done: it runs the target now; the operation remembers what it ran before.
        member(
            "m1",
            "1.30.5",
            "202410.09.0",
            Some(json!({"id": "op-m1", "state": "Succeeded", "type": "Full",
                "kubernetesVersion": "1.30.5", "startTime": "2026-12-07T10:00:00Z",
                "nodeImages": [{"name": "nodepool1", "nodeImageVersion": format!("{UBUNTU}-202410.09.0")}],
                "fromKubernetesVersion": "1.29.4",
                "fromNodeImages": [{"name": "nodepool1", "nodeImageVersion": format!("{UBUNTU}-202409.01.0")}]})),
        ),
        // In flight: still on its old versions.
        member(
            "m2",
            "1.29.4",
            "202409.01.0",
            Some(json!({"id": "op-m2", "state": "InProgress", "type": "Full",
                "kubernetesVersion": "1.30.5", "startTime": "2026-12-07T10:05:00Z"})),
        ),
        // Not started: the target is what the run would ask for from the catalogue.
        member("m3", "1.29.9", "202410.02.0", None),
    ]
}

fn gate(state: &str) -> Gate {
    serde_json::from_value(json!({
        "apiVersion": "updates.fleetdeck.dev/v1alpha1", "kind": "Gate",
        "metadata": {"name": "gate-1"},
        "spec": {"gateType": "Approval", "state": state,
                 "target": {"id": "r", "updateRunProperties": {"name": "r", "stage": "s2", "timing": "Before"}}}
    }))
    .expect("a gate")
}

#[test]
fn a_row_counts_finished_members_and_names_the_target() {
    let r = row(&run("Running", "NotStarted"));
    assert_eq!(r.name, "r");
    assert_eq!(r.state, UpdateState::Running);
    assert_eq!(r.upgrade_type, ManagedClusterUpgradeType::Full);
    assert_eq!(r.kubernetes_version.as_deref(), Some("1.30.5"));
    assert_eq!((r.members_done, r.members_total), (1, 4));
    assert_eq!(r.created, Some(at("2026-12-07T09:00:00Z")));
}

#[test]
fn members_show_from_and_to_versions_before_during_and_after_their_upgrade() {
    let d = detail(
        &run("Running", "NotStarted"),
        &fleet(),
        &[],
        &catalogue(),
        at("2026-12-07T10:06:00Z"),
    );
    let g1 = &d.stages[0].groups[0];
    let k8s = |m: &MemberLine| m.kubernetes.clone().expect("a control-plane change");
    let done = &g1.members[0];
    assert_eq!(
        (k8s(done).from.as_str(), k8s(done).to.as_deref()),
        ("1.29.4", Some("1.30.5"))
    );
    assert_eq!(
        done.node_images[0].from,
        format!("{UBUNTU}-202409.01.0"),
        "the image it ran before"
    );
    let running = &g1.members[1];
    assert_eq!(
        (k8s(running).from.as_str(), k8s(running).to.as_deref()),
        ("1.29.4", Some("1.30.5"))
    );
    let waiting = &d.stages[0].groups[1].members[0];
    assert_eq!(
        (k8s(waiting).from.as_str(), k8s(waiting).to.as_deref()),
        ("1.29.9", Some("1.30.5")),
        "planned from the catalogue"
    );
    assert_eq!(
        waiting.node_images[0].to.as_deref(),
        Some(format!("{UBUNTU}-202410.09.0").as_str()),
        "Latest in eastus"
    );
    assert!(
        waiting
            .window
            .as_deref()
            .is_some_and(|w| w.starts_with("Saturday 02:00 +00:00 for 4 h, opens 2026-12-12")),
        "{:?}",
        waiting.window
    );
    // A member with no simulated cluster has no versions to show, and that is all.
    assert_eq!(d.stages[1].groups[0].members[0].kubernetes, None);
}

#[test]
fn skip_is_offered_exactly_where_the_action_would_accept_it() {
    let d = detail(
        &run("Running", "NotStarted"),
        &fleet(),
        &[],
        &catalogue(),
        at("2026-12-07T10:06:00Z"),
    );
    let g1 = &d.stages[0].groups[0];
    assert!(!g1.members[0].progress.skippable, "Completed");
    assert!(!g1.members[1].progress.skippable, "in flight");
    assert!(d.stages[0].groups[1].members[0].progress.skippable);
    assert!(g1.progress.skippable, "a running group may be skipped");
    assert!(d.stages[0].progress.skippable);
    let wait = d.stages[0].wait.clone().expect("a wait");
    assert_eq!(wait.seconds, 60);
    assert!(wait.skippable);
    assert!(d.may_stop && !d.may_start);

    // A stopped run skips nothing and may start again.
    let stopped = detail(
        &run("Stopped", "NotStarted"),
        &fleet(),
        &[],
        &catalogue(),
        at("2026-12-07T10:06:00Z"),
    );
    assert!(stopped.may_start && !stopped.may_stop);
    assert!(!stopped.stages[0].groups[1].members[0].progress.skippable);
}

#[test]
fn a_pending_approval_gate_is_approvable_until_its_gate_is_completed() {
    let now = at("2026-12-07T10:06:00Z");
    let reached = detail(
        &run("Pending", "Pending"),
        &fleet(),
        &[gate("Pending")],
        &catalogue(),
        now,
    );
    let line = &reached.stages[1].before_gates[0];
    assert_eq!(line.gate_type, GateType::Approval);
    assert_eq!(line.display_name.as_deref(), Some("ops sign-off"));
    assert!(line.approvable);
    let approved = detail(
        &run("Pending", "Pending"),
        &fleet(),
        &[gate("Completed")],
        &catalogue(),
        now,
    );
    assert!(
        !approved.stages[1].before_gates[0].approvable,
        "approved already"
    );
    let not_reached = detail(
        &run("Running", "NotStarted"),
        &fleet(),
        &[],
        &catalogue(),
        now,
    );
    assert!(!not_reached.stages[1].before_gates[0].approvable);
}

//! Table-driven tests of the run state machine: initialization, validation, execution, gates,
//! stop and failures, with the spec's exact condition types, reasons and messages (§9.11).

use std::time::Duration;

use serde_json::json;

use super::exec::Timing;
use super::init::RunMeta;
use super::views::{ApprovalView, BindingView, PolicySnapshotView, ResourceSnapshotView, World};
use super::{step, Outcome, Step};
use crate::placement::binding::BindingState;
use crate::staged::staged_update_run::{
    StagedUpdateRunSpec, StagedUpdateRunStatus, UpdateRunState,
};
use crate::types::condition::{find_condition, new_condition, Condition, Time};
use crate::MemberCluster;

const T0: &str = "2026-01-01T00:00:00Z";

fn at(secs: i64) -> Time {
    let t0: Time = Time(T0.parse().expect("time"));
    Time(k8s_openapi::jiff::Timestamp::from_second(t0.0.as_second() + secs).expect("time"))
}

fn member(name: &str, labels: &[(&str, &str)]) -> MemberCluster {
    let labels: std::collections::BTreeMap<&str, &str> = labels.iter().copied().collect();
    serde_json::from_value(json!({"apiVersion": "cluster.kubernetes-fleet.io/v1beta1",
        "kind": "MemberCluster", "metadata": {"name": name, "labels": labels}, "spec": {}}))
    .expect("member")
}

fn binding(cluster: &str, state: BindingState) -> BindingView {
    BindingView {
        name: format!("p-{cluster}-0a1b2c3d"),
        generation: 1,
        deleting: false,
        spec: crate::placement::binding::ResourceBindingSpec {
            state,
            target_cluster: cluster.into(),
            scheduling_policy_snapshot_name: Some("p-0".into()),
            ..Default::default()
        },
        conditions: vec![],
    }
}

fn cond(t: &str, s: &str, g: i64, time: &Time) -> Condition {
    new_condition(t, s, "r", "m", g, time)
}

/// member1 (staging), member2/member3 (canary, order 2/1); strategy staging then canary.
fn world(stages: serde_json::Value) -> World {
    World {
        placement: Some(
            serde_json::from_value(
                json!({"resourceSelectors": [], "strategy": {"type": "External"}}),
            )
            .expect("placement"),
        ),
        latest_policy_snapshots: vec![PolicySnapshotView {
            name: "p-0".into(),
            generation: 1,
            labels: [(
                "kubernetes-fleet.io/policy-index".to_string(),
                "0".to_string(),
            )]
            .into(),
            conditions: vec![cond("Scheduled", "True", 1, &at(0))],
            ..Default::default()
        }],
        bindings: ["member1", "member2", "member3"]
            .iter()
            .map(|c| binding(c, BindingState::Scheduled))
            .collect(),
        strategy: Some(serde_json::from_value(json!({"stages": stages})).expect("strategy")),
        members: vec![
            member("member1", &[("env", "staging")]),
            member("member2", &[("env", "canary"), ("order", "2")]),
            member("member3", &[("env", "canary"), ("order", "1")]),
        ],
        resource_snapshots: vec![ResourceSnapshotView {
            name: "p-0-snapshot".into(),
            labels: [(
                "kubernetes-fleet.io/resource-index".to_string(),
                "0".to_string(),
            )]
            .into(),
            annotations: [(
                "kubernetes-fleet.io/resource-hash".to_string(),
                "ab".to_string(),
            )]
            .into(),
        }],
        approvals: Default::default(),
        resource_selection_error: None,
        overrides: Default::default(),
    }
}

fn two_stages() -> serde_json::Value {
    json!([
        {"name": "staging", "labelSelector": {"matchLabels": {"env": "staging"}}},
        {"name": "canary", "labelSelector": {"matchLabels": {"env": "canary"}}, "sortingLabelKey": "order", "maxConcurrency": 2}
    ])
}

fn spec(state: UpdateRunState, index: Option<&str>) -> StagedUpdateRunSpec {
    StagedUpdateRunSpec {
        placement_name: "p".into(),
        resource_snapshot_index: index.map(Into::into),
        staged_rollout_strategy_name: "s".into(),
        state: Some(state),
    }
}

fn go(
    spec: &StagedUpdateRunSpec,
    status: Option<&StagedUpdateRunStatus>,
    w: &World,
    now: &Time,
) -> Step {
    let meta = RunMeta {
        name: "run",
        namespace: None,
        generation: 1,
        spec,
    };
    step(&meta, status, w, now, Timing::default())
}

fn csr(conds: &Option<Vec<Condition>>, t: &str) -> Option<(String, String, String)> {
    conds
        .as_deref()
        .and_then(|c| find_condition(c, t))
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

fn s3(a: &str, b: &str, c: &str) -> Option<(String, String, String)> {
    Some((a.into(), b.into(), c.into()))
}

/// Applies a step's binding writes and marks the listed clusters Available at the new generation.
fn apply(w: &mut World, st: &Step, available: &[&str], now: &Time) {
    for u in &st.effects.binding_updates {
        let b = w
            .bindings
            .iter_mut()
            .find(|b| b.name == u.name)
            .expect("binding");
        if b.spec != u.spec {
            b.spec = u.spec.clone();
            b.generation += 1;
        }
        b.conditions.retain(|c| c.type_ != "RolloutStarted");
        let mut c = u.rollout_started.clone();
        c.observed_generation = Some(b.generation);
        b.conditions.push(c);
    }
    w.bindings
        .retain(|b| !st.effects.binding_deletes.contains(&b.name));
    for b in w
        .bindings
        .iter_mut()
        .filter(|b| available.contains(&b.spec.target_cluster.as_str()))
    {
        b.conditions
            .push(cond("Available", "True", b.generation, now));
    }
}

#[test]
fn initialize_plans_stages_in_order_and_stays_put_in_initialize() {
    let w = world(two_stages());
    let st = go(
        &spec(UpdateRunState::Initialize, Some("0")),
        None,
        &w,
        &at(0),
    );
    assert_eq!(st.outcome, Outcome::Done);
    assert_eq!(st.effects, Default::default());
    let s = &st.status;
    assert_eq!(
        csr(&s.conditions, "Initialized"),
        s3(
            "True",
            "UpdateRunInitializedSuccessfully",
            "The UpdateRun initialized successfully"
        )
    );
    assert_eq!(csr(&s.conditions, "Progressing"), None);
    let stages = s.stages_status.as_ref().expect("stages");
    let names: Vec<Vec<&str>> = stages
        .iter()
        .map(|st| {
            st.clusters()
                .iter()
                .map(|c| c.cluster_name.as_str())
                .collect()
        })
        .collect();
    assert_eq!(names, vec![vec!["member1"], vec!["member3", "member2"]]);
    assert_eq!(s.policy_snapshot_index_used.as_deref(), Some("0"));
    assert_eq!(s.policy_observed_cluster_count, Some(3));
    assert_eq!(s.resource_snapshot_index_used.as_deref(), Some("0"));
    assert_eq!(
        s.deletion_stage_status
            .as_ref()
            .map(|d| d.stage_name.as_str()),
        Some("kubernetes-fleet.io/deleteStage")
    );
    assert!(s.applied_strategy.is_some());
}

#[test]
fn initialization_failures_carry_the_exact_messages() {
    let prefix = "cannot continue the updateRun: failed to validate the updateRun: ";
    let client = "failed to process the request due to a client error: ";
    type Edit = fn(&mut World);
    let cases: Vec<(&str, Option<&str>, Edit, String)> = vec![
        ("missing placement", Some("0"), |w| w.placement = None, format!("{prefix}{client}parent placement not found")),
        ("rolling placement", Some("0"), |w| w.placement = Some(Default::default()),
            format!("{prefix}{client}parent placement does not have an external rollout strategy, current strategy: RollingUpdate")),
        ("no policy snapshot", Some("0"), |w| w.latest_policy_snapshots.clear(), format!("{prefix}no latest policy snapshot found for placement /p")),
        ("not scheduled", Some("0"), |w| {
            let snapshot = &mut w.latest_policy_snapshots[0];
            for c in &mut snapshot.conditions {
                if c.type_ == "Scheduled" {
                    c.status = "False".into();
                }
            }
        }, format!("{prefix}policy snapshot `p-0` not fully scheduled yet")),
        ("missing strategy", Some("0"), |w| w.strategy = None, format!("{prefix}{client}referenced updateStrategy not found: `/s`")),
        ("missing index", Some("1"), |_| {}, format!("{prefix}{client}no resourceSnapshots with index `1` found for placement `/p`")),
        ("invalid index", Some("x"), |_| {}, format!("{prefix}{client}invalid resource snapshot index `x` provided, expected an integer >= 0")),
        ("unplaced cluster", Some("0"), |w| w.members[0] = member("member1", &[]),
            format!("{prefix}{client}some clusters are not placed in any stage, total 1, showing up to 10: member1")),
        ("bad sorting label", Some("0"), |w| w.members[1] = member("member2", &[("env", "canary"), ("order", "x")]),
            format!("{prefix}the sorting label `order:x` on cluster `member2` is not valid: strconv.Atoi: parsing \"x\": invalid syntax")),
    ];
    for (name, index, edit, message) in cases {
        let mut w = world(two_stages());
        edit(&mut w);
        let st = go(&spec(UpdateRunState::Run, index), None, &w, &at(0));
        assert_eq!(
            csr(&st.status.conditions, "Initialized"),
            s3("False", "UpdateRunInitializedFailed", &message),
            "{name}"
        );
        assert_eq!(st.outcome, Outcome::Done, "{name}");
        assert!(st.effects.binding_updates.is_empty(), "{name}");
        // Terminal: a second reconcile changes nothing.
        assert_eq!(
            go(
                &spec(UpdateRunState::Run, index),
                Some(&st.status),
                &w,
                &at(5)
            )
            .status,
            st.status,
            "{name}"
        );
    }
}

#[test]
fn a_binding_on_an_old_policy_snapshot_is_retried() {
    let mut w = world(two_stages());
    w.bindings[0].spec.scheduling_policy_snapshot_name = Some("p-old".into());
    let st = go(&spec(UpdateRunState::Run, Some("0")), None, &w, &at(0));
    assert_eq!(st.outcome, Outcome::Retry("binding `/p-member1-0a1b2c3d` with old policy snapshot `/p-old` has state Scheduled, we might observe a transient state, need retry".into()));
    assert_eq!(csr(&st.status.conditions, "Initialized"), None);
}

#[test]
fn a_policy_snapshot_the_scheduler_has_not_decided_is_waited_for() {
    // A run applied together with its placement: the snapshot has no Scheduled condition yet, or
    // one from an older generation. fleetdeck waits (KubeFleet fails for good, a listed quirk).
    for stale in [false, true] {
        let mut w = world(two_stages());
        let snapshot = &mut w.latest_policy_snapshots[0];
        if stale {
            for c in &mut snapshot.conditions {
                c.observed_generation = Some(snapshot.generation - 1);
            }
        } else {
            snapshot.conditions.clear();
        }
        let st = go(&spec(UpdateRunState::Run, Some("0")), None, &w, &at(0));
        assert_eq!(
            st.outcome,
            Outcome::Retry("policy snapshot `p-0` not fully scheduled yet".into()),
            "stale: {stale}"
        );
        assert_eq!(
            csr(&st.status.conditions, "Initialized"),
            None,
            "stale: {stale}"
        );
    }
}

#[test]
fn a_live_membership_change_fails_an_initialized_run_in_validation() {
    let mut w = world(two_stages());
    let sp = spec(UpdateRunState::Run, Some("0"));
    let st = go(&sp, None, &w, &at(0));
    w.members[2] = member("member3", &[("env", "canary"), ("order", "9")]);
    let st2 = go(&sp, Some(&st.status), &w, &at(1));
    assert_eq!(csr(&st2.status.conditions, "Succeeded"), s3("False", "UpdateRunFailed",
        "cannot continue the updateRun: failed to validate the updateRun: the `0` cluster in the `1` stage has changed, new: member2, existing: member3"));
    assert_eq!(
        csr(
            &st2.status.stages_status.as_ref().expect("stages")[1].conditions,
            "Succeeded"
        ),
        None,
        "stages untouched"
    );
}

/// Spec §9.3: the engine creates a run's snapshot group only when steps 1–4 pass, so every
/// failure before step 5 leaves none; index errors (step 5 itself) come after it.
#[test]
fn only_runs_passing_steps_one_to_four_reach_the_snapshot_step() {
    type Edit = fn(&mut World);
    let cases: Vec<(&str, Edit, bool)> = vec![
        ("valid", |_| {}, true),
        ("missing placement", |w| w.placement = None, false),
        (
            "no policy snapshot",
            |w| w.latest_policy_snapshots.clear(),
            false,
        ),
        (
            "not scheduled",
            |w| w.latest_policy_snapshots[0].conditions.clear(),
            false,
        ),
        ("missing strategy", |w| w.strategy = None, false),
        (
            "unplaced cluster",
            |w| w.members[0] = member("member1", &[]),
            false,
        ),
        (
            "no resource snapshot yet",
            |w| w.resource_snapshots.clear(),
            true,
        ),
    ];
    for (name, edit, reaches) in cases {
        let mut w = world(two_stages());
        edit(&mut w);
        let sp = spec(UpdateRunState::Run, None);
        let meta = RunMeta {
            name: "run",
            namespace: None,
            generation: 1,
            spec: &sp,
        };
        assert_eq!(
            super::init::reaches_snapshot_step(&meta, &w),
            reaches,
            "{name}"
        );
    }
}

#[path = "exec_tests.rs"]
mod exec_tests;

#[test]
fn initialization_records_each_clusters_overrides_and_bindings_get_them() {
    use crate::overrides::matching::CroSnapshot;
    let mut w = world(two_stages());
    w.overrides.resources.insert(
        "p-0-snapshot".into(),
        vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "app"}})],
    );
    // Canary clusters get a Delete rule; nothing matches staging.
    w.overrides.cluster_resource_overrides.push(CroSnapshot {
        name: "cro-0".into(),
        spec: serde_json::from_value(json!({"overrideHash": "", "overrideSpec": {
            "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "app"}],
            "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "canary"}}}]}, "overrideType": "Delete"}]}
        }}))
        .expect("snapshot"),
    });
    let st = go(&spec(UpdateRunState::Run, Some("0")), None, &w, &at(0));
    let stages = st.status.stages_status.as_ref().expect("stages");
    let lists: Vec<(String, Option<Vec<String>>)> = stages
        .iter()
        .flat_map(|s| s.clusters())
        .map(|c| {
            (
                c.cluster_name.clone(),
                c.cluster_resource_override_snapshots.clone(),
            )
        })
        .collect();
    assert_eq!(
        lists,
        vec![
            ("member1".to_string(), None),
            ("member3".to_string(), Some(vec!["cro-0".to_string()])),
            ("member2".to_string(), Some(vec!["cro-0".to_string()])),
        ]
    );
    // The first stage's binding is written without overrides; a canary one would carry cro-0.
    let update = &st.effects.binding_updates[0];
    assert_eq!(update.spec.target_cluster, "member1");
    assert_eq!(update.spec.cluster_resource_override_snapshots, None);
}

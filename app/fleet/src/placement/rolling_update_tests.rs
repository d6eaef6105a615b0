use proptest::prelude::*;

use super::*;
use crate::placement::binding_writes::BindingSpecPatch;
use crate::placement::resource_placement::{ApplyStrategy, ApplyStrategyType};

fn config(max_unavailable: Option<IntOrString>) -> RollingUpdateConfig {
    RollingUpdateConfig {
        max_unavailable,
        ..RollingUpdateConfig::default()
    }
}

fn pct(s: &str) -> Option<IntOrString> {
    Some(IntOrString::String(s.to_string()))
}

fn now() -> Time {
    Time("2026-01-01T00:00:00Z".parse().expect("valid timestamp"))
}

#[test]
fn max_unavailable_defaults_to_25_percent_rounds_down_and_is_at_least_1() {
    let cases: [(Option<RollingUpdateConfig>, usize, usize); 16] = [
        // Absent (no rollingUpdate, or no maxUnavailable in it): 25%.
        (None, 0, 1),
        (None, 3, 1),
        (None, 4, 1),
        (None, 7, 1),
        (None, 8, 2),
        (None, 11, 2),
        (None, 100, 25),
        (Some(config(None)), 12, 3),
        // Percentages: rounded down, at least 1.
        (Some(config(pct("50%"))), 5, 2),
        (Some(config(pct("1%"))), 10, 1),
        (Some(config(pct("33%"))), 10, 3),
        (Some(config(pct("100%"))), 7, 7),
        (Some(config(pct("70%"))), 3, 2),
        // Integers as they are, more than the clusters included.
        (Some(config(Some(IntOrString::Int(3)))), 10, 3),
        (Some(config(Some(IntOrString::Int(20)))), 5, 20),
        (Some(config(Some(IntOrString::Int(1)))), 0, 1),
    ];
    for (config, clusters, want) in cases {
        assert_eq!(
            max_unavailable(config.as_ref(), clusters),
            Ok(want),
            "{config:?} of {clusters}"
        );
    }
}

#[test]
fn max_unavailable_refuses_what_max_concurrency_refuses() {
    assert_eq!(
        max_unavailable(Some(&config(Some(IntOrString::Int(0)))), 4),
        Err(RollingUpdateError::TooSmall(0))
    );
    assert_eq!(
        max_unavailable(Some(&config(Some(IntOrString::Int(-2)))), 4),
        Err(RollingUpdateError::TooSmall(-2))
    );
    for bad in ["0%", "101%", "05%", "3", "abc%", "", "1.5%"] {
        assert_eq!(
            max_unavailable(Some(&config(pct(bad))), 10),
            Err(RollingUpdateError::Invalid(bad.to_string())),
            "{bad}"
        );
    }
}

proptest! {
    /// The placement's budget is the run's maxConcurrency maths, default aside.
    #[test]
    fn max_unavailable_is_the_max_concurrency_maths(
        percent in 1usize..=100,
        clusters in 0usize..2000,
        n in -3i32..50,
    ) {
        let p = IntOrString::String(format!("{percent}%"));
        let got = max_unavailable(Some(&config(Some(p.clone()))), clusters);
        prop_assert_eq!(got.clone(), Ok((percent * clusters / 100).max(1)));
        prop_assert_eq!(got.clone().ok(), effective_max_concurrency(Some(&p), clusters).ok());
        prop_assert!(got.clone().is_ok_and(|m| m >= 1 && m <= clusters.max(1)));
        let i = IntOrString::Int(n);
        prop_assert_eq!(
            max_unavailable(Some(&config(Some(i.clone()))), clusters).ok(),
            effective_max_concurrency(Some(&i), clusters).ok()
        );
    }
}

const MASTER: &str = "crp-1-snapshot";

fn binding(
    name: &str,
    state: BindingState,
    snapshot: Option<&str>,
    available: bool,
) -> RolloutBinding {
    RolloutBinding {
        name: name.into(),
        state,
        resource_snapshot: snapshot.map(str::to_string),
        available,
        deleting: false,
        ..RolloutBinding::default()
    }
}

fn scheduled(name: &str) -> RolloutBinding {
    binding(name, BindingState::Scheduled, None, false)
}

fn moved(bindings: &[RolloutBinding], strategy: Option<&RolloutStrategy>) -> Vec<String> {
    plan_rollout(bindings, MASTER, strategy, &now())
        .expect("plans")
        .moves
        .into_iter()
        .map(|m| m.name)
        .collect()
}

fn max(n: i32) -> RolloutStrategy {
    RolloutStrategy {
        rolling_update: Some(config(Some(IntOrString::Int(n)))),
        ..RolloutStrategy::default()
    }
}

#[test]
fn which_bindings_move_this_pass() {
    use BindingState::{Bound, Scheduled, Unscheduled};
    let old = Some("crp-0-snapshot");
    // (what, bindings in list order, strategy, the bindings moved)
    type Case = (
        &'static str,
        Vec<RolloutBinding>,
        Option<RolloutStrategy>,
        Vec<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "default 25% of 8: the first two, in order",
            (0..8).map(|i| scheduled(&format!("b{i}"))).collect(),
            None,
            vec!["b0", "b1"],
        ),
        (
            "at least one of a small fleet",
            vec![scheduled("a"), scheduled("b")],
            None,
            vec!["a"],
        ),
        (
            "bindings on the master not yet available use the budget",
            vec![
                binding("a", Bound, Some(MASTER), false),
                binding("b", Bound, old, true),
                binding("c", Bound, old, true),
            ],
            Some(max(2)),
            vec!["b"],
        ),
        (
            "a full budget moves nothing",
            vec![
                binding("a", Bound, Some(MASTER), false),
                binding("b", Bound, Some(MASTER), false),
                binding("c", Bound, old, true),
            ],
            Some(max(2)),
            vec![],
        ),
        (
            "bound and available on the master: done, skipped without using the budget",
            vec![
                binding("a", Bound, Some(MASTER), true),
                binding("b", Bound, old, true),
                binding("c", Scheduled, None, false),
            ],
            Some(max(2)),
            vec!["b", "c"],
        ),
        (
            "Scheduled but already naming the master: still bound (and in flight)",
            vec![binding("a", Scheduled, Some(MASTER), false), scheduled("b")],
            Some(max(2)),
            vec!["a"],
        ),
        (
            // 25% of 7 is 1 (of 8 it would be 2), and the leaving one is not in flight.
            "Unscheduled bindings neither move nor count",
            std::iter::once(binding("gone", Unscheduled, Some(MASTER), false))
                .chain((0..7).map(|i| scheduled(&format!("s{i}"))))
                .collect(),
            None,
            vec!["s0"],
        ),
    ];
    for (what, bindings, strategy, want) in cases {
        assert_eq!(moved(&bindings, strategy.as_ref()), want, "{what}");
    }
}

#[test]
fn unscheduled_bindings_are_deleted_once() {
    let mut leaving = binding("leaving", BindingState::Unscheduled, None, false);
    let mut deleting = leaving.clone();
    deleting.name = "deleting".into();
    deleting.deleting = true;
    leaving.deleting = false;
    // A binding being deleted still counts as active while it is not Unscheduled.
    let mut going = binding("going", BindingState::Bound, Some(MASTER), false);
    going.deleting = true;
    let fx = plan_rollout(
        &[leaving, deleting, going, scheduled("a")],
        MASTER,
        Some(&max(1)),
        &now(),
    )
    .expect("plans");
    assert_eq!(fx.deletes, ["leaving"]);
    assert!(
        fx.moves.is_empty(),
        "the deleting Bound binding is in flight"
    );
}

#[test]
fn a_move_binds_to_the_master_with_the_defaulted_apply_strategy_and_starts_the_rollout() {
    let strategy = RolloutStrategy {
        apply_strategy: Some(ApplyStrategy {
            type_: Some(ApplyStrategyType::ServerSideApply),
            ..ApplyStrategy::default()
        }),
        ..RolloutStrategy::default()
    };
    let fx = plan_rollout(&[scheduled("a")], MASTER, Some(&strategy), &now()).expect("plans");
    let [m] = fx.moves.as_slice() else {
        panic!("one move expected: {fx:?}");
    };
    assert_eq!(
        m.patch.spec,
        Some(BindingSpecPatch {
            state: Some(BindingState::Bound),
            resource_snapshot_name: Some(MASTER.into()),
            apply_strategy: Some(defaulted_apply_strategy(strategy.apply_strategy.as_ref())),
            scheduling_policy_snapshot_name: None,
            ..BindingSpecPatch::default()
        })
    );
    assert_eq!(m.patch.metadata, None);
    let c = &m.rollout_started;
    assert_eq!(
        (c.type_.as_str(), c.status.as_str(), c.reason.as_str()),
        ("RolloutStarted", "True", "RolloutStarted")
    );
    assert_eq!(
        c.message,
        "Detected the new changes on the resources and started the rollout process, resourceSnapshotName: crp-1-snapshot"
    );
}

#[test]
fn an_invalid_max_unavailable_writes_nothing() {
    let strategy = max(0);
    assert_eq!(
        plan_rollout(&[scheduled("a")], MASTER, Some(&strategy), &now()),
        Err(RollingUpdateError::TooSmall(0))
    );
}

#[test]
fn rollout_started_is_replaced_at_the_new_generation() {
    let started = new_condition("RolloutStarted", TRUE, "RolloutStarted", "new", 0, &now());
    let old = new_condition("RolloutStarted", "False", "Old", "old", 1, &now());
    let applied = new_condition("Applied", TRUE, "Applied", "m", 1, &now());
    let got = with_rollout_started(Some(&[old, applied.clone()]), &started, 2);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], applied);
    assert_eq!(got[1].message, "new");
    assert_eq!(got[1].observed_generation, Some(2));
    let fresh = with_rollout_started(None, &started, 1);
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0].observed_generation, Some(1));
}

#[test]
fn availability_is_read_at_the_binding_generation() {
    use crate::types::kind::ClusterResourceBinding;
    let mut b = Object::<ClusterResourceBinding>::new("b", ResourceBindingSpec::default());
    b.metadata.generation = Some(3);
    let condition = |type_: &'static str| {
        move |generation: i64, status: &str| ResourceBindingStatus {
            conditions: Some(vec![new_condition(
                type_,
                status,
                "r",
                "m",
                generation,
                &now(),
            )]),
            ..ResourceBindingStatus::default()
        }
    };
    let available = condition("Available");
    // A ReportDiff binding is ready once its diff is reported.
    let diff_reported = condition("DiffReported");
    for (status, want) in [
        (None, false),
        (Some(available(3, TRUE)), true),
        (Some(available(2, TRUE)), false),
        (Some(available(3, "False")), false),
        (Some(diff_reported(3, TRUE)), true),
        (Some(diff_reported(2, TRUE)), false),
        (Some(diff_reported(3, "False")), false),
    ] {
        b.status = status.clone();
        assert_eq!(RolloutBinding::of(&b).available, want, "{status:?}");
    }
}

#[test]
fn a_bound_binding_whose_overrides_changed_rolls_out_again_with_the_new_lists() {
    use crate::overrides::matching::ClusterOverrides;
    let wanted = ClusterOverrides {
        cluster_resource_overrides: vec!["cro-1".into()],
        resource_overrides: vec![],
    };
    let mut changed = binding("b1", BindingState::Bound, Some(MASTER), true);
    changed.wanted_overrides = Some(wanted.clone());
    let mut same = binding("b2", BindingState::Bound, Some(MASTER), true);
    same.overrides = wanted.clone();
    same.wanted_overrides = Some(wanted);
    let effects = plan_rollout(&[changed, same], MASTER, None, &now()).expect("plans");
    assert_eq!(effects.moves.len(), 1);
    assert_eq!(effects.moves[0].name, "b1");
    let patch = serde_json::to_value(&effects.moves[0].patch).expect("patch");
    assert_eq!(
        patch["spec"]["clusterResourceOverrideSnapshots"],
        serde_json::json!(["cro-1"])
    );
    assert_eq!(
        patch["spec"]["resourceOverrideSnapshots"],
        serde_json::Value::Null
    );
    assert!(
        patch["spec"]
            .as_object()
            .expect("spec")
            .contains_key("resourceOverrideSnapshots"),
        "an empty list is cleared with null"
    );
}

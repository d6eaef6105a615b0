use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::placement::member_cluster::MemberClusterSpec;
use crate::staged::staged_update::{StageConfig, StageTask, StageTaskType};
use crate::types::label_selector::{LabelSelector, LabelSelectorRequirement};

fn member(name: &str, labels: &[(&str, &str)]) -> MemberCluster {
    let mut m = MemberCluster::new(name, MemberClusterSpec::default());
    m.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    m
}

fn env(value: &str) -> Option<LabelSelector> {
    Some(LabelSelector {
        match_labels: Some(BTreeMap::from([(
            "environment".to_string(),
            value.to_string(),
        )])),
        match_expressions: None,
    })
}

fn stage(name: &str, selector: Option<LabelSelector>) -> StageConfig {
    StageConfig {
        name: name.into(),
        label_selector: selector,
        ..Default::default()
    }
}

/// The seeds' fleet: member1 canary order=2, member2 staging, member3 canary order=1.
fn seed_fleet() -> Vec<MemberCluster> {
    vec![
        member("member1", &[("environment", "canary"), ("order", "2")]),
        member("member2", &[("environment", "staging")]),
        member("member3", &[("environment", "canary"), ("order", "1")]),
    ]
}

fn all(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn plan(
    stages: &[StageConfig],
    fleet: &[MemberCluster],
    selected: &BTreeSet<String>,
) -> Result<Vec<StageUpdatingStatus>, PlanError> {
    plan_stages(
        "example-run",
        "/example-strategy",
        stages,
        fleet.iter().map(ClusterLabels::from),
        selected,
    )
}

fn cluster_names(s: &StageUpdatingStatus) -> Vec<&str> {
    s.clusters()
        .iter()
        .map(|c| c.cluster_name.as_str())
        .collect()
}

#[test]
fn seed_strategy_places_clusters_in_sorted_order_with_task_skeletons() {
    let mut canary = stage("canary", env("canary"));
    canary.sorting_label_key = Some("order".into());
    canary.before_stage_tasks = Some(vec![StageTask::approval()]);
    canary.after_stage_tasks = Some(vec![StageTask::approval()]);
    let mut staging = stage("staging", env("staging"));
    staging.after_stage_tasks = Some(vec![StageTask::timed_wait("1m")]);
    let fleet = seed_fleet();
    let stages = plan(
        &[staging, canary],
        &fleet,
        &all(&["member1", "member2", "member3"]),
    )
    .expect("plan");
    assert_eq!(cluster_names(&stages[0]), ["member2"]);
    assert_eq!(cluster_names(&stages[1]), ["member3", "member1"]);
    let after = stages[0]
        .after_stage_task_status
        .as_deref()
        .expect("after tasks");
    assert_eq!(
        (after[0].type_, after[0].approval_request_name.as_deref()),
        (StageTaskType::TimedWait, None)
    );
    assert_eq!(
        stages[1]
            .before_stage_task_status
            .as_deref()
            .expect("before")[0]
            .approval_request_name
            .as_deref(),
        Some("example-run-before-canary")
    );
    assert_eq!(
        stages[1].after_stage_task_status.as_deref().expect("after")[0]
            .approval_request_name
            .as_deref(),
        Some("example-run-after-canary")
    );
    assert_eq!(stages[0].before_stage_task_status, None);
}

#[test]
fn nil_selector_selects_nothing_empty_selects_everything_and_unselected_are_ignored() {
    let fleet = seed_fleet();
    let stages = plan(
        &[
            stage("none", None),
            stage("all", Some(LabelSelector::default())),
        ],
        &fleet,
        &all(&["member1", "member3"]),
    )
    .expect("plan");
    assert!(cluster_names(&stages[0]).is_empty());
    assert_eq!(cluster_names(&stages[1]), ["member1", "member3"]);
}

#[test]
fn sorting_is_numeric_with_negatives_then_by_name() {
    let fleet = vec![
        member("b", &[("o", "10")]),
        member("a", &[("o", "10")]),
        member("c", &[("o", "9")]),
        member("d", &[("o", "-3")]),
        member("e", &[("o", "+2")]),
    ];
    let mut s = stage("s", Some(LabelSelector::default()));
    s.sorting_label_key = Some("o".into());
    let stages = plan(&[s], &fleet, &all(&["a", "b", "c", "d", "e"])).expect("plan");
    assert_eq!(cluster_names(&stages[0]), ["d", "e", "c", "a", "b"]);
}

#[test]
fn planning_errors_have_exact_messages() {
    let fleet = seed_fleet();
    let everyone = all(&["member1", "member2", "member3"]);
    let sorted = |key: &str| StageConfig {
        sorting_label_key: Some(key.into()),
        ..stage("canary", env("canary"))
    };
    let with_before = |tasks: Vec<StageTask>| StageConfig {
        before_stage_tasks: Some(tasks),
        ..stage("staging", env("staging"))
    };
    let with_after = |tasks: Vec<StageTask>| StageConfig {
        after_stage_tasks: Some(tasks),
        ..stage("staging", env("staging"))
    };
    let bad_selector = StageConfig {
        label_selector: Some(LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "environment".into(),
                operator: "Equals".into(),
                values: None,
            }]),
        }),
        ..stage("staging", None)
    };
    let fleet_bad_order = vec![member(
        "member1",
        &[("environment", "canary"), ("order", "first")],
    )];
    type Case<'a> = (
        Vec<StageConfig>,
        &'a [MemberCluster],
        BTreeSet<String>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            vec![stage("staging", env("staging")), stage("all", Some(LabelSelector::default()))],
            &fleet, everyone.clone(),
            "cluster `member2` appears in more than one stages",
        ),
        (
            vec![stage("staging", env("staging"))],
            &fleet, everyone.clone(),
            "some clusters are not placed in any stage, total 2, showing up to 10: member1, member3",
        ),
        (
            vec![sorted("order")],
            &fleet_bad_order, all(&["member1"]),
            "the sorting label `order:first` on cluster `member1` is not valid: strconv.Atoi: parsing \"first\": invalid syntax",
        ),
        (
            vec![sorted("tier")],
            &fleet, all(&["member1", "member3"]),
            "the sorting label `tier:` on cluster `member1` is not valid: strconv.Atoi: parsing \"\": invalid syntax",
        ),
        (
            vec![with_before(vec![StageTask::approval(), StageTask::approval()])],
            &fleet, all(&["member2"]),
            "the before stage tasks are invalid, updateStrategy: `/example-strategy`, stage: staging, err: beforeStageTasks can have at most one task",
        ),
        (
            vec![with_before(vec![StageTask::timed_wait("1m")])],
            &fleet, all(&["member2"]),
            "the before stage tasks are invalid, updateStrategy: `/example-strategy`, stage: staging, err: task 0 of type TimedWait is not allowed in beforeStageTasks, allowed type: Approval",
        ),
        (
            vec![with_before(vec![StageTask { type_: StageTaskType::Approval, wait_time: Some("1m".into()) }])],
            &fleet, all(&["member2"]),
            "the before stage tasks are invalid, updateStrategy: `/example-strategy`, stage: staging, err: task 0 of type Approval cannot have wait duration set",
        ),
        (
            vec![with_after(vec![StageTask::approval(), StageTask::approval()])],
            &fleet, all(&["member2"]),
            "the after stage tasks are invalid, updateStrategy: `/example-strategy`, stage: staging, err: afterStageTasks cannot have two tasks of the same type: Approval",
        ),
        (
            vec![with_after(vec![StageTask::approval(), StageTask::timed_wait("0s")])],
            &fleet, all(&["member2"]),
            "the after stage tasks are invalid, updateStrategy: `/example-strategy`, stage: staging, err: task 1 of type TimedWait has wait duration <= 0",
        ),
        (
            vec![bad_selector],
            &fleet, all(&["member2"]),
            "the stage label selector is invalid, updateStrategy: `/example-strategy`, stage: staging, err: \"Equals\" is not a valid label selector operator",
        ),
    ];
    for (i, (stages, fleet, selected, want)) in cases.into_iter().enumerate() {
        let err = plan(&stages, fleet, &selected).expect_err(want);
        assert_eq!(err.to_string(), want, "case {i}");
    }
}

#[test]
fn unplaced_message_lists_at_most_ten_sorted_names_but_keeps_all() {
    let fleet: Vec<MemberCluster> = (0..12).map(|i| member(&format!("m{i:02}"), &[])).collect();
    let selected: BTreeSet<String> = fleet.iter().map(|m| m.name().to_string()).collect();
    let err = plan(&[stage("none", None)], &fleet, &selected).expect_err("unplaced");
    assert_eq!(
        err.to_string(),
        "some clusters are not placed in any stage, total 12, showing up to 10: m00, m01, m02, m03, m04, m05, m06, m07, m08, m09"
    );
    assert!(matches!(err, PlanError::ClustersNotPlaced { ref clusters } if clusters.len() == 12));
    assert!(err.is_client_error());
}

#[test]
fn go_atoi_errors() {
    assert_eq!(parse_go_int("-12"), Ok(-12));
    assert_eq!(
        parse_go_int("99999999999999999999").map_err(|e| e.to_string()),
        Err("strconv.Atoi: parsing \"99999999999999999999\": value out of range".into())
    );
    assert!(parse_go_int("1.5").is_err());
    assert!(parse_go_int("+").is_err());
}

#[test]
fn deletion_stage_is_sorted_and_named() {
    let d = deletion_stage(vec!["member3".to_string(), "member1".to_string()]);
    assert_eq!(d.stage_name, "kubernetes-fleet.io/deleteStage");
    assert_eq!(cluster_names(&d), ["member1", "member3"]);
}

// Random fleets: cluster i has label env ∈ {a,b,c} or none and an `o` label; stages select by env
// (some by `{}` or nil). Either planning succeeds with every selected cluster in exactly one stage,
// or fails with a duplicate or with exactly the unplaced set.
type RandomFleet = (
    Vec<(u8, Option<u8>, i8)>,
    Vec<(Option<Option<u8>>, bool)>,
    Vec<bool>,
);

fn fleet_strategy() -> impl Strategy<Value = RandomFleet> {
    (
        prop::collection::vec((0u8..4, prop::option::of(0u8..3), any::<i8>()), 0..12),
        prop::collection::vec(
            (prop::option::of(prop::option::of(0u8..3)), any::<bool>()),
            0..5,
        ),
        prop::collection::vec(any::<bool>(), 12),
    )
}

proptest! {
    #[test]
    fn planning_places_each_selected_cluster_at_most_once((clusters, stage_specs, sel_mask) in fleet_strategy()) {
        let envs = ["a", "b", "c"];
        let fleet: Vec<MemberCluster> = clusters.iter().enumerate().map(|(i, (_, env_i, order))| {
            let mut labels = vec![("o".to_string(), order.to_string())];
            if let Some(e) = env_i { labels.push(("env".to_string(), envs[*e as usize].to_string())); }
            let mut m = MemberCluster::new(&format!("c{i}"), MemberClusterSpec::default());
            m.metadata.labels = Some(labels.into_iter().collect());
            m
        }).collect();
        let selected: BTreeSet<String> = fleet.iter().enumerate()
            .filter(|(i, _)| sel_mask[*i]).map(|(_, m)| m.name().to_string()).collect();
        let stages: Vec<StageConfig> = stage_specs.iter().enumerate().map(|(i, (sel, sort))| StageConfig {
            name: format!("s{i}"),
            label_selector: match sel {
                None => None,
                Some(None) => Some(LabelSelector::default()),
                Some(Some(e)) => Some(LabelSelector {
                    match_labels: Some(BTreeMap::from([("env".to_string(), envs[*e as usize].to_string())])),
                    match_expressions: None,
                }),
            },
            sorting_label_key: sort.then(|| "o".to_string()),
            ..Default::default()
        }).collect();

        let result = plan(&stages, &fleet, &selected);
        let mut reversed = fleet.clone();
        reversed.reverse();
        prop_assert_eq!(&result, &plan(&stages, &reversed, &selected), "deterministic regardless of input order");

        // Reference model: first stage (in order) whose selector matches, per selected cluster.
        let matches = |s: &StageConfig, m: &MemberCluster| label_selector::matches(s.label_selector.as_ref(), m.labels()).unwrap_or(false);
        match result {
            Ok(planned) => {
                let mut seen = BTreeSet::new();
                for (st, cfg) in planned.iter().zip(&stages) {
                    let names = cluster_names(st);
                    for n in &names {
                        prop_assert!(seen.insert(n.to_string()), "{} placed twice", n);
                        prop_assert!(selected.contains(*n));
                    }
                    if cfg.sorting_label_key.is_some() {
                        let keys: Vec<(i64, &str)> = names.iter().map(|n| {
                            let m = fleet.iter().find(|m| m.name() == *n).expect("member");
                            (m.labels()["o"].parse::<i64>().expect("int"), *n)
                        }).collect();
                        prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]));
                    } else {
                        prop_assert!(names.windows(2).all(|w| w[0] <= w[1]));
                    }
                }
                prop_assert_eq!(seen, selected.clone());
            }
            Err(PlanError::ClustersNotPlaced { clusters }) => {
                let expected: Vec<String> = fleet.iter()
                    .filter(|m| selected.contains(m.name()) && !stages.iter().any(|s| matches(s, m)))
                    .map(|m| m.name().to_string()).collect::<BTreeSet<_>>().into_iter().collect();
                prop_assert_eq!(clusters, expected);
            }
            Err(PlanError::ClusterInMultipleStages { cluster }) => {
                let m = fleet.iter().find(|m| m.name() == cluster).expect("member");
                prop_assert!(selected.contains(&cluster));
                prop_assert!(stages.iter().filter(|s| matches(s, m)).count() >= 2);
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }
}

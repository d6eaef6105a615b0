//! Planning a run (aks §3, §6, §10): order, membership, thresholds, images and validation.

use super::fixtures::*;
use super::plan::*;
use super::upgrade_error::UpgradeError;
use super::upgrade_run::{
    GateConfiguration, GateType, ManagedClusterUpgradeType, MemberSelector, NodeImageSelectionType,
    UpdateRunStatus, UpdateRunStrategy, UpdateStage, UpdateState,
};

type Tree = Vec<(String, Vec<(String, Vec<String>)>)>;

fn tree(status: &UpdateRunStatus) -> Tree {
    status
        .stages
        .iter()
        .flatten()
        .map(|s| {
            let groups = s
                .groups
                .iter()
                .flatten()
                .map(|g| {
                    let members = g.members.iter().flatten().map(|m| m.name.clone()).collect();
                    (g.name.clone(), members)
                })
                .collect();
            (s.name.clone(), groups)
        })
        .collect()
}

fn seed_fleet() -> Vec<super::member_view::MemberView> {
    vec![
        member("member5", Some("group-2a")),
        member("member1", Some("group-1a")),
        member("member3", Some("group-1b")),
        member("member2", Some("group-1a")),
        member("member4", Some("group-1c")),
        member("loner", None),
        member("elsewhere", Some("group-9")),
    ]
}

#[test]
fn stages_groups_and_members_keep_the_strategy_order_with_members_by_name() {
    let spec = with_stages(
        full("1.30.5"),
        vec![
            stage("stage1", &["group-1b", "group-1a", "group-1c"]),
            stage("stage2", &["group-2a"]),
        ],
    );
    let status = plan("run-4", &spec, &seed_fleet(), &catalogue()).expect("plan");
    assert_eq!(
        tree(&status),
        vec![
            (
                "stage1".to_string(),
                vec![
                    ("group-1b".to_string(), vec!["member3".to_string()]),
                    (
                        "group-1a".to_string(),
                        vec!["member1".to_string(), "member2".to_string()]
                    ),
                    ("group-1c".to_string(), vec!["member4".to_string()]),
                ]
            ),
            (
                "stage2".to_string(),
                vec![("group-2a".to_string(), vec!["member5".to_string()])]
            ),
        ]
    );
    // aks §6.6: `loner` (no group) and `elsewhere` (a group the strategy does not name) are out.
    let state = status.status.as_ref().and_then(|s| s.state);
    assert_eq!(state, Some(UpdateState::NotStarted));
}

#[test]
fn one_by_one_is_one_default_stage_and_group_with_every_member() {
    let status = plan("run-1", &full("1.30.5"), &seed_fleet(), &catalogue()).expect("plan");
    let t = tree(&status);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].0, ONE_BY_ONE_STAGE);
    assert_eq!(t[0].1.len(), 1);
    assert_eq!(t[0].1[0].0, ONE_BY_ONE_GROUP);
    assert_eq!(
        t[0].1[0].1,
        [
            "elsewhere",
            "loner",
            "member1",
            "member2",
            "member3",
            "member4",
            "member5"
        ]
    );
    let g = &status.stages.as_ref().expect("stages")[0]
        .groups
        .as_ref()
        .expect("groups")[0];
    assert_eq!(g.max_concurrency, Some(1), "one by one");
}

#[test]
fn a_wait_gets_a_status_entry_only_when_non_zero() {
    let mut s1 = stage("stage1", &["group-1a"]);
    s1.after_stage_wait_in_seconds = Some(3600);
    let spec = with_stages(full("1.30.5"), vec![s1, stage("stage2", &["group-2a"])]);
    let status = plan("r", &spec, &seed_fleet(), &catalogue()).expect("plan");
    let stages = status.stages.expect("stages");
    let wait = stages[0].after_stage_wait_status.as_ref().expect("wait");
    assert_eq!(wait.wait_duration_in_seconds, Some(3600));
    assert!(stages[1].after_stage_wait_status.is_none());
}

#[test]
fn thresholds_resolve_against_the_planned_members() {
    // aks §6.4's example: 20 clusters at 25% → 5; group A (8) at 50% → 4; B (12) at 25% → 3.
    let mut fleet = Vec::new();
    for i in 0..8 {
        fleet.push(member(&format!("a{i:02}"), Some("a")));
    }
    for i in 0..12 {
        fleet.push(member(&format!("b{i:02}"), Some("b")));
    }
    let mut s = stage("s", &["a", "b"]);
    s.max_concurrency = Some("25%".into());
    s.max_allowed_failures = Some("10%".into());
    if let Some(groups) = s.groups.as_mut() {
        groups[0].max_concurrency = Some("50%".into());
        groups[1].max_concurrency = Some("25%".into());
        groups[1].max_allowed_failures = Some("25%".into());
    }
    let status = plan(
        "r",
        &with_stages(full("1.30.5"), vec![s]),
        &fleet,
        &catalogue(),
    )
    .expect("plan");
    let stage = &status.stages.expect("stages")[0];
    assert_eq!(stage.max_concurrency, Some(5));
    assert_eq!(stage.max_allowed_failures, Some(2), "ceil(10% × 20)");
    let groups = stage.groups.as_ref().expect("groups");
    assert_eq!(groups[0].max_concurrency, Some(4));
    assert_eq!(groups[1].max_concurrency, Some(3));
    assert_eq!(
        groups[0].max_allowed_failures,
        Some(0),
        "fail-fast by default"
    );
    assert_eq!(groups[1].max_allowed_failures, Some(3), "ceil(25% × 12)");
}

#[test]
fn concurrency_over_the_limits_is_rejected() {
    let fleet = seed_fleet();
    let mut s = stage("stage1", &["group-1a"]);
    s.max_concurrency = Some("51".into());
    let err = plan(
        "r",
        &with_stages(full("1.30.5"), vec![s]),
        &fleet,
        &catalogue(),
    );
    assert!(matches!(
        err,
        Err(UpgradeError::MaxConcurrencyTooHigh { limit: 50, .. })
    ));
    // group-1a has 2 members: 3 is over the group's size.
    let mut s = stage("stage1", &["group-1a"]);
    if let Some(g) = s.groups.as_mut() {
        g[0].max_concurrency = Some("3".into());
    }
    let err = plan(
        "r",
        &with_stages(full("1.30.5"), vec![s]),
        &fleet,
        &catalogue(),
    );
    assert!(matches!(
        err,
        Err(UpgradeError::MaxConcurrencyTooHigh { limit: 2, .. })
    ));
}

#[test]
fn consistent_images_are_chosen_across_the_runs_regions_at_planning() {
    let fleet = vec![
        member("m1", None),
        in_region(member("m2", None), "westeurope"),
    ];
    let spec = node_image_only(NodeImageSelectionType::Consistent);
    let status = plan("r", &spec, &fleet, &catalogue()).expect("plan");
    let chosen = status
        .node_image_selection
        .and_then(|s| s.selected_node_image_versions)
        .expect("selected");
    // eastus's latest is 202410.09.0, westeurope's 202410.02.0: the common latest is the older.
    assert_eq!(chosen.len(), 1);
    assert_eq!(chosen[0].version, format!("{UBUNTU}-202410.02.0"));
    // Latest shows no selection: each member takes its region's newest at its turn.
    let latest = plan(
        "r",
        &node_image_only(NodeImageSelectionType::Latest),
        &fleet,
        &catalogue(),
    )
    .expect("plan");
    assert!(latest.node_image_selection.is_none());
}

#[test]
fn selectors_make_implicit_groups_and_a_member_joins_only_its_first_group() {
    let fleet = vec![
        labelled(member("m1", None), "env", "canary"),
        labelled(member("m2", None), "env", "prod"),
        labelled(member("m3", None), "env", "prod"),
    ];
    let canary = UpdateStage {
        name: "canary".into(),
        groups: None,
        member_selector: Some(MemberSelector {
            by_label: Some("env=canary".into()),
        }),
        ..Default::default()
    };
    let mut everyone = stage("everyone", &["all"]);
    if let Some(g) = everyone.groups.as_mut() {
        g[0].member_selector = Some(MemberSelector {
            by_label: Some("env".into()),
        });
    }
    let spec = with_stages(full("1.30.5"), vec![canary, everyone]);
    let status = plan("r", &spec, &fleet, &catalogue()).expect("plan");
    assert_eq!(
        tree(&status),
        vec![
            (
                "canary".to_string(),
                vec![("canary".to_string(), vec!["m1".to_string()])]
            ),
            (
                "everyone".to_string(),
                vec![("all".to_string(), vec!["m2".to_string(), "m3".to_string()])]
            ),
        ]
    );
}

#[test]
fn validation_rules_of_section_10_have_their_messages() {
    let fleet = seed_fleet();
    let cases: Vec<(super::upgrade_run::UpdateRunSpec, &str)> = vec![
        (
            {
                let mut s = full("1.30.5");
                s.managed_cluster_update.upgrade.kubernetes_version = None;
                s
            },
            "Please set kubernetes version when upgrade type is 'Full'/'ControlPlaneOnly'",
        ),
        (
            {
                let mut s = node_image_only(NodeImageSelectionType::Latest);
                s.managed_cluster_update.upgrade.kubernetes_version = Some("1.30".into());
                s
            },
            "Cannot set kubernetes version when upgrade type is 'NodeImageOnly'",
        ),
        (
            node_image_only(NodeImageSelectionType::Custom),
            "customNodeImageVersions is required when the node image selection type is Custom",
        ),
        (
            with_stages(full("1.30.5"), vec![]),
            "strategy.stages must have at least 1 stage",
        ),
        (
            with_stages(
                full("1.30.5"),
                vec![stage("s1", &["group-1a"]), stage("s2", &["group-1a"])],
            ),
            "group name \"group-1a\" is used more than once",
        ),
        (
            with_stages(full("1.30.5"), vec![stage("s1", &["group-2c"])]),
            "group group-2c does not match the update group of any fleet member",
        ),
        (
            with_stages(full("1.30.5"), vec![stage("s1", &[])]),
            "stage s1 must have at least 1 group unless it has a memberSelector",
        ),
        (
            with_stages(full("1.30.5"), vec![stage("Stage1", &["group-1a"])]),
            "stage name \"Stage1\" is invalid: must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ and be 1-50 characters",
        ),
        (
            {
                let mut s = stage("s1", &["group-1a"]);
                s.after_gates = Some(vec![GateConfiguration {
                    type_: GateType::ScheduledStart,
                    ..Default::default()
                }]);
                with_stages(full("1.30.5"), vec![s])
            },
            "ScheduledStart gates can only be before-gates (stage s1)",
        ),
    ];
    for (spec, want) in cases {
        let got = plan("r", &spec, &fleet, &catalogue()).expect_err(want);
        assert_eq!(got.to_string(), want);
    }
    let many: Vec<String> = (0..51).map(|i| format!("g{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let err = validate_spec(&with_stages(full("1.30.5"), vec![stage("s", &refs)]));
    assert!(matches!(
        err,
        Err(UpgradeError::TooManyGroups { count: 51, .. })
    ));
}

#[test]
fn a_strategy_is_copied_at_creation_and_cannot_be_combined_with_an_inline_one() {
    let template = UpdateRunStrategy {
        stages: vec![stage("stage1", &["group-1a"])],
    };
    let mut spec = full("1.30.5");
    spec.update_strategy_id = Some("/subscriptions/x/fleets/f/updateStrategies/strategy-1".into());
    copy_strategy(&mut spec, |name| {
        (name == "strategy-1").then(|| template.clone())
    })
    .expect("copied");
    assert_eq!(spec.strategy.as_ref(), Some(&template));
    // A second copy (the run already holds one) is the "both set" error.
    let again = copy_strategy(&mut spec, |_| Some(template.clone()));
    assert_eq!(again, Err(UpgradeError::BothStrategies));
    let mut missing = full("1.30.5");
    missing.update_strategy_id = Some("nope".into());
    assert_eq!(
        copy_strategy(&mut missing, |_| None).map_err(|e| e.to_string()),
        Err("referenced updateStrategy not found: `nope`".to_string())
    );
    let cp = update(ManagedClusterUpgradeType::ControlPlaneOnly, None);
    let mut spec = full("1.30.5");
    spec.managed_cluster_update = cp;
    assert_eq!(
        validate_spec(&spec),
        Err(UpgradeError::KubernetesVersionRequired)
    );
}

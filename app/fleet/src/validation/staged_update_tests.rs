use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::staged::staged_update::StageConfig;
use crate::{
    ClusterStagedUpdateRun, ClusterStagedUpdateStrategy, StagedUpdateRun, StagedUpdateStrategy,
};

fn stage(name: &str) -> StageConfig {
    StageConfig {
        name: name.into(),
        ..Default::default()
    }
}

fn strategy(stages: Vec<StageConfig>) -> ClusterStagedUpdateStrategy {
    ClusterStagedUpdateStrategy::new("example-strategy", StagedUpdateStrategySpec { stages })
}

fn messages(r: Result<(), Vec<FieldError>>) -> Vec<String> {
    r.err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn strategy_messages_table() {
    let wait = |w: &str| StageConfig {
        after_stage_tasks: Some(vec![StageTask::timed_wait(w)]),
        ..stage("s")
    };
    let conc = |c: IntOrString| StageConfig {
        max_concurrency: Some(c),
        ..stage("s")
    };
    let cases: Vec<(Vec<StageConfig>, Vec<&str>)> = vec![
        ((0..31).map(|i| stage(&format!("s{i}"))).collect(), vec![]),
        ((0..32).map(|i| stage(&format!("s{i}"))).collect(), vec!["spec.stages: Too many: 32: must have at most 31 items"]),
        (vec![stage("dev-clusters")], vec!["spec.stages[0].name: Invalid value: \"dev-clusters\": spec.stages[0].name in body should match '^[a-z0-9]+$'"]),
        (vec![stage("")], vec!["spec.stages[0].name: Invalid value: \"\": spec.stages[0].name in body should match '^[a-z0-9]+$'"]),
        (vec![stage(&"a".repeat(64))], vec!["spec.stages[0].name: Too long: may not be more than 63 bytes"]),
        (vec![stage(&"a".repeat(63))], vec![]),
        (
            vec![StageConfig { after_stage_tasks: Some(vec![StageTask::approval(), StageTask::timed_wait("1m"), StageTask::approval()]), ..stage("s") }],
            vec!["spec.stages[0].afterStageTasks: Too many: 3: must have at most 2 items"],
        ),
        (
            vec![StageConfig { before_stage_tasks: Some(vec![StageTask::approval(), StageTask::approval()]), ..stage("s") }],
            vec!["spec.stages[0].beforeStageTasks: Too many: 2: must have at most 1 items"],
        ),
        (
            vec![StageConfig { after_stage_tasks: Some(vec![StageTask { type_: StageTaskType::Approval, wait_time: Some("1m".into()) }]), ..stage("s") }],
            vec!["spec.stages[0].afterStageTasks[0]: Invalid value: \"object\": AfterStageTaskType is Approval, waitTime is not allowed"],
        ),
        (
            vec![StageConfig { after_stage_tasks: Some(vec![StageTask { type_: StageTaskType::TimedWait, wait_time: None }]), ..stage("s") }],
            vec!["spec.stages[0].afterStageTasks[0]: Invalid value: \"object\": AfterStageTaskType is TimedWait, waitTime is required"],
        ),
        (
            vec![StageConfig { before_stage_tasks: Some(vec![StageTask::timed_wait("1m")]), ..stage("s") }],
            vec!["spec.stages[0].beforeStageTasks[0]: Invalid value: \"object\": BeforeStageTaskType cannot be TimedWait"],
        ),
        (
            vec![StageConfig { before_stage_tasks: Some(vec![StageTask { type_: StageTaskType::Approval, wait_time: Some("1m".into()) }]), ..stage("s") }],
            vec!["spec.stages[0].beforeStageTasks[0]: Invalid value: \"object\": AfterStageTaskType is Approval, waitTime is not allowed"],
        ),
        (vec![wait("1h30m")], vec![]),
        (vec![wait("0s")], vec![]),
        (vec![wait("01h")], vec!["spec.stages[0].afterStageTasks[0].waitTime: Invalid value: \"01h\": spec.stages[0].afterStageTasks[0].waitTime in body should match '^(?:(?:0|[1-9][0-9]*)(\\.[0-9]+)?(?:s|m|h))+$'"]),
        (vec![wait("1d")], vec!["spec.stages[0].afterStageTasks[0].waitTime: Invalid value: \"1d\": spec.stages[0].afterStageTasks[0].waitTime in body should match '^(?:(?:0|[1-9][0-9]*)(\\.[0-9]+)?(?:s|m|h))+$'"]),
        (vec![wait("1")], vec!["spec.stages[0].afterStageTasks[0].waitTime: Invalid value: \"1\": spec.stages[0].afterStageTasks[0].waitTime in body should match '^(?:(?:0|[1-9][0-9]*)(\\.[0-9]+)?(?:s|m|h))+$'"]),
        (vec![conc(IntOrString::Int(0))], vec!["spec.stages[0].maxConcurrency: Invalid value: \"\": maxConcurrency must be at least 1"]),
        (vec![conc(IntOrString::Int(1000))], vec![]),
        (vec![conc(IntOrString::String("100%".into()))], vec![]),
        (vec![conc(IntOrString::String("1%".into()))], vec![]),
    ];
    for (i, (stages, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            messages(validate_staged_update_strategy(None, &strategy(stages))),
            want,
            "case {i}"
        );
    }
    for bad in ["50", "0", "0%", "101%"] {
        let got = messages(validate_staged_update_strategy(
            None,
            &strategy(vec![conc(IntOrString::String(bad.into()))]),
        ));
        assert_eq!(
            got,
            [format!("spec.stages[0].maxConcurrency: Invalid value: {bad:?}: spec.stages[0].maxConcurrency in body should match '^(100|[1-9][0-9]?)%$'")]
        );
    }
    // The namespaced twin runs the same rules.
    let ns = StagedUpdateStrategy::new_namespaced(
        "my-app-namespace",
        "app-rollout-strategy",
        StagedUpdateStrategySpec {
            stages: vec![stage("dev-clusters")],
        },
    );
    assert_eq!(
        validate_staged_update_strategy(None, &ns).map_err(|e| e.len()),
        Err(1)
    );
}

fn run(state: Option<UpdateRunState>) -> ClusterStagedUpdateRun {
    ClusterStagedUpdateRun::new(
        "example-run",
        StagedUpdateRunSpec {
            placement_name: "example-placement".into(),
            resource_snapshot_index: Some("1".into()),
            staged_rollout_strategy_name: "example-strategy".into(),
            state,
        },
    )
}

#[test]
fn run_state_transitions_table() {
    use UpdateRunState::*;
    let cases = [
        (None, Some(Run), None),
        (Some(Initialize), Some(Run), None),
        (Some(Run), Some(Stop), None),
        (Some(Stop), Some(Run), None),
        (Some(Run), Some(Run), None),
        (Some(Stop), Some(Stop), None),
        (None, Some(Initialize), None),
        (
            Some(Initialize),
            Some(Stop),
            Some("invalid state transition: cannot transition from Initialize to Stop"),
        ),
        (
            None,
            Some(Stop),
            Some("invalid state transition: cannot transition from Initialize to Stop"),
        ),
        (
            Some(Run),
            Some(Initialize),
            Some("invalid state transition: cannot transition from Run to Initialize"),
        ),
        (
            Some(Stop),
            Some(Initialize),
            Some("invalid state transition: cannot transition from Stop to Initialize"),
        ),
        (
            Some(Run),
            None,
            Some("invalid state transition: cannot transition from Run to Initialize"),
        ),
    ];
    for (i, (from, to, want)) in cases.into_iter().enumerate() {
        let got = messages(validate_staged_update_run(Some(&run(from)), &run(to)));
        let want: Vec<String> = want
            .map(|m| format!("spec.state: Invalid value: \"string\": {m}"))
            .into_iter()
            .collect();
        assert_eq!(got, want, "case {i}: {from:?} -> {to:?}");
    }
    // Creating directly in Stop is allowed: there is no old value.
    assert_eq!(validate_staged_update_run(None, &run(Some(Stop))), Ok(()));
}

#[test]
fn run_immutability_and_required_fields() {
    let old = run(Some(UpdateRunState::Run));
    let mut new = old.clone();
    new.spec.placement_name = "other".into();
    new.spec.resource_snapshot_index = Some("0".into());
    new.spec.staged_rollout_strategy_name = "other".into();
    assert_eq!(
        messages(validate_staged_update_run(Some(&old), &new)),
        [
            "spec.placementName: Invalid value: \"string\": placementName is immutable",
            "spec.resourceSnapshotIndex: Invalid value: \"string\": resourceSnapshotIndex is immutable",
            "spec.stagedRolloutStrategyName: Invalid value: \"string\": stagedRolloutStrategyName is immutable",
        ]
    );
    let mut long = StagedUpdateRun::new_namespaced("ns", &"r".repeat(64), old.spec.clone());
    assert_eq!(
        messages(validate_staged_update_run(None, &long)),
        ["<nil>: Invalid value: \"object\": metadata.name max length is 63"]
    );
    long.metadata.name = Some("ok".into());
    long.spec.placement_name.clear();
    long.spec.staged_rollout_strategy_name.clear();
    assert_eq!(
        messages(validate_staged_update_run(None, &long)),
        [
            "spec.placementName: Required value",
            "spec.stagedRolloutStrategyName: Required value"
        ]
    );
    long.spec.placement_name = "p".repeat(256);
    long.spec.staged_rollout_strategy_name = "s".into();
    assert_eq!(
        messages(validate_staged_update_run(None, &long)),
        ["spec.placementName: Too long: may not be more than 255 bytes"]
    );
}

#[test]
fn unsupported_state_value() {
    assert_eq!(check_state_value("Run"), Ok(UpdateRunState::Run));
    assert_eq!(
        check_state_value("Bogus").map_err(|e| e.to_string()),
        Err("spec.state: Unsupported value: \"Bogus\": supported values: \"Initialize\", \"Run\", \"Stop\"".to_string())
    );
}

//! Validation of staged update strategies and runs (spec §7.1, §7.2).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{check_name_max_63, finish, FieldError};
use crate::fleet::concurrency::parse_percent;
use crate::fleet::staged_update::{StageTask, StageTaskType, StagedUpdateStrategySpec};
use crate::fleet::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use crate::fleet::wait_time::{matches_wait_time_pattern, WAIT_TIME_PATTERN};
use crate::fleet::{FleetKind, Object};

pub const MAX_STAGES: usize = 31;
pub const MAX_AFTER_STAGE_TASKS: usize = 2;
pub const MAX_BEFORE_STAGE_TASKS: usize = 1;
pub const STAGE_NAME_PATTERN: &str = "^[a-z0-9]+$";
pub const STAGE_NAME_MAX_LENGTH: usize = 63;
pub const MAX_CONCURRENCY_PATTERN: &str = "^(100|[1-9][0-9]?)%$";
pub const PLACEMENT_NAME_MAX_LENGTH: usize = 255;

pub const MSG_APPROVAL_NO_WAIT: &str = "AfterStageTaskType is Approval, waitTime is not allowed";
pub const MSG_TIMED_WAIT_NEEDS_WAIT: &str = "AfterStageTaskType is TimedWait, waitTime is required";
pub const MSG_BEFORE_NO_TIMED_WAIT: &str = "BeforeStageTaskType cannot be TimedWait";
pub const MSG_MAX_CONCURRENCY_MIN: &str = "maxConcurrency must be at least 1";
pub const MSG_PLACEMENT_NAME_IMMUTABLE: &str = "placementName is immutable";
pub const MSG_RESOURCE_SNAPSHOT_INDEX_IMMUTABLE: &str = "resourceSnapshotIndex is immutable";
pub const MSG_STRATEGY_NAME_IMMUTABLE: &str = "stagedRolloutStrategyName is immutable";

/// `ClusterStagedUpdateStrategy` / `StagedUpdateStrategy` (no transition rules).
pub fn validate_staged_update_strategy<K>(
    _old: Option<&Object<K>>,
    new: &Object<K>,
) -> Result<(), Vec<FieldError>>
where
    K: FleetKind<Spec = StagedUpdateStrategySpec>,
{
    let mut errors = Vec::new();
    validate_strategy_spec(&new.spec, "spec", &mut errors);
    finish(errors)
}

/// The strategy rules on a spec found at `path` (also used for a run's strategy snapshot).
pub fn validate_strategy_spec(
    spec: &StagedUpdateStrategySpec,
    path: &str,
    errors: &mut Vec<FieldError>,
) {
    if spec.stages.len() > MAX_STAGES {
        errors.push(FieldError::too_many(
            format!("{path}.stages"),
            spec.stages.len(),
            MAX_STAGES,
        ));
    }
    for (i, stage) in spec.stages.iter().enumerate() {
        let sp = format!("{path}.stages[{i}]");
        if stage.name.len() > STAGE_NAME_MAX_LENGTH {
            errors.push(FieldError::too_long(
                format!("{sp}.name"),
                STAGE_NAME_MAX_LENGTH,
            ));
        }
        let name_ok = !stage.name.is_empty()
            && stage
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if !name_ok {
            errors.push(FieldError::pattern(
                format!("{sp}.name"),
                &stage.name,
                STAGE_NAME_PATTERN,
            ));
        }
        match &stage.max_concurrency {
            Some(IntOrString::Int(n)) if *n < 1 => {
                // CEL on an int-or-string field: the structural type is empty.
                errors.push(FieldError::cel(
                    format!("{sp}.maxConcurrency"),
                    "",
                    MSG_MAX_CONCURRENCY_MIN,
                ));
            }
            Some(IntOrString::String(s)) if parse_percent(s).is_none() => {
                errors.push(FieldError::pattern(
                    format!("{sp}.maxConcurrency"),
                    s,
                    MAX_CONCURRENCY_PATTERN,
                ));
            }
            _ => {}
        }
        let after = stage.after_tasks();
        if after.len() > MAX_AFTER_STAGE_TASKS {
            errors.push(FieldError::too_many(
                format!("{sp}.afterStageTasks"),
                after.len(),
                MAX_AFTER_STAGE_TASKS,
            ));
        }
        for (j, task) in after.iter().enumerate() {
            let tp = format!("{sp}.afterStageTasks[{j}]");
            check_wait_time_pattern(task, &tp, errors);
            match (task.type_, &task.wait_time) {
                (StageTaskType::Approval, Some(_)) => {
                    errors.push(FieldError::cel(&tp, "object", MSG_APPROVAL_NO_WAIT))
                }
                (StageTaskType::TimedWait, None) => {
                    errors.push(FieldError::cel(&tp, "object", MSG_TIMED_WAIT_NEEDS_WAIT))
                }
                _ => {}
            }
        }
        let before = stage.before_tasks();
        if before.len() > MAX_BEFORE_STAGE_TASKS {
            errors.push(FieldError::too_many(
                format!("{sp}.beforeStageTasks"),
                before.len(),
                MAX_BEFORE_STAGE_TASKS,
            ));
        }
        for (j, task) in before.iter().enumerate() {
            let tp = format!("{sp}.beforeStageTasks[{j}]");
            check_wait_time_pattern(task, &tp, errors);
            match (task.type_, &task.wait_time) {
                (StageTaskType::TimedWait, _) => {
                    errors.push(FieldError::cel(&tp, "object", MSG_BEFORE_NO_TIMED_WAIT))
                }
                (StageTaskType::Approval, Some(_)) => {
                    errors.push(FieldError::cel(&tp, "object", MSG_APPROVAL_NO_WAIT))
                }
                _ => {}
            }
        }
    }
}

fn check_wait_time_pattern(task: &StageTask, task_path: &str, errors: &mut Vec<FieldError>) {
    if let Some(w) = &task.wait_time {
        if !matches_wait_time_pattern(w) {
            errors.push(FieldError::pattern(
                format!("{task_path}.waitTime"),
                w,
                WAIT_TIME_PATTERN,
            ));
        }
    }
}

/// `ClusterStagedUpdateRun` / `StagedUpdateRun`: name length, required fields, immutability and
/// allowed `state` transitions (spec §7.2).
pub fn validate_staged_update_run<K>(
    old: Option<&Object<K>>,
    new: &Object<K>,
) -> Result<(), Vec<FieldError>>
where
    K: FleetKind<Spec = StagedUpdateRunSpec>,
{
    let mut errors = Vec::new();
    check_name_max_63(new.name(), &mut errors);
    let spec = &new.spec;
    if spec.placement_name.is_empty() {
        errors.push(FieldError::required("spec.placementName"));
    } else if spec.placement_name.len() > PLACEMENT_NAME_MAX_LENGTH {
        errors.push(FieldError::too_long(
            "spec.placementName",
            PLACEMENT_NAME_MAX_LENGTH,
        ));
    }
    if spec.staged_rollout_strategy_name.is_empty() {
        errors.push(FieldError::required("spec.stagedRolloutStrategyName"));
    }
    if let Some(old) = old {
        let o = &old.spec;
        // CEL `self == oldSelf` on each field; a transition rule only runs when the field is
        // present in both objects, so adding or removing an optional index is not caught.
        if o.placement_name != spec.placement_name {
            errors.push(FieldError::cel(
                "spec.placementName",
                "string",
                MSG_PLACEMENT_NAME_IMMUTABLE,
            ));
        }
        if let (Some(a), Some(b)) = (&o.resource_snapshot_index, &spec.resource_snapshot_index) {
            if a != b {
                errors.push(FieldError::cel(
                    "spec.resourceSnapshotIndex",
                    "string",
                    MSG_RESOURCE_SNAPSHOT_INDEX_IMMUTABLE,
                ));
            }
        }
        if o.staged_rollout_strategy_name != spec.staged_rollout_strategy_name {
            errors.push(FieldError::cel(
                "spec.stagedRolloutStrategyName",
                "string",
                MSG_STRATEGY_NAME_IMMUTABLE,
            ));
        }
        if let Err(msg) = check_state_transition(o.state(), spec.state()) {
            errors.push(FieldError::cel("spec.state", "string", &msg));
        }
    }
    finish(errors)
}

/// Allowed: Initialize→Run, Run→Stop, Stop→Run and X→X (spec §7.2).
pub fn check_state_transition(from: UpdateRunState, to: UpdateRunState) -> Result<(), String> {
    use UpdateRunState::*;
    match (from, to) {
        (a, b) if a == b => Ok(()),
        (Initialize, Run) | (Run, Stop) | (Stop, Run) => Ok(()),
        (a, b) => Err(format!(
            "invalid state transition: cannot transition from {a} to {b}"
        )),
    }
}

/// The enum check of `spec.state` for raw input (`Unsupported value`), for callers that see the
/// string before it is typed.
pub fn check_state_value(value: &str) -> Result<UpdateRunState, FieldError> {
    UpdateRunState::ALL
        .into_iter()
        .find(|s| s.as_str() == value)
        .ok_or_else(|| {
            FieldError::unsupported(
                "spec.state",
                value,
                &UpdateRunState::ALL.map(UpdateRunState::as_str),
            )
        })
}

#[cfg(test)]
#[path = "staged_update_tests.rs"]
mod tests;

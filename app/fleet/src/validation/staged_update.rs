//! Validation of staged update strategies and runs (spec §7.1, §7.2).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::cel_rule::{Cel, CelRule, TransitionRule};
use super::{check_name_max_63, finish, FieldError};
use crate::staged::concurrency::parse_percent;
use crate::staged::staged_update::{StageTask, StageTaskType, StagedUpdateStrategySpec};
use crate::staged::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use crate::staged::wait_time::{matches_wait_time_pattern, WAIT_TIME_PATTERN};
use crate::{FleetKind, Object};

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

/// spec §7.1, on `stages[].maxConcurrency`: an integer is at least 1 (a percentage is held to
/// [`MAX_CONCURRENCY_PATTERN`] by the schema).
pub const MAX_CONCURRENCY_AT_LEAST_1: CelRule<IntOrString> = CelRule {
    cel: Cel {
        rule: "type(self) != int || self >= 1",
        message: MSG_MAX_CONCURRENCY_MIN,
        field_path: None,
        // An int-or-string node has no structural type.
        cel_type: "",
    },
    holds: |mc| !matches!(mc, IntOrString::Int(n) if *n < 1),
};

/// spec §7.1, on `beforeStageTasks[]`.
pub const BEFORE_STAGE_TASK_NOT_TIMED_WAIT: CelRule<StageTask> = CelRule {
    cel: Cel {
        rule: "self.type != 'TimedWait'",
        message: MSG_BEFORE_NO_TIMED_WAIT,
        field_path: None,
        cel_type: "object",
    },
    holds: |task| task.type_ != StageTaskType::TimedWait,
};

/// spec §7.1, on `afterStageTasks[]`.
pub const TIMED_WAIT_NEEDS_WAIT_TIME: CelRule<StageTask> = CelRule {
    cel: Cel {
        rule: "!(self.type == 'TimedWait' && !has(self.waitTime))",
        message: MSG_TIMED_WAIT_NEEDS_WAIT,
        field_path: None,
        cel_type: "object",
    },
    holds: |task| !(task.type_ == StageTaskType::TimedWait && task.wait_time.is_none()),
};

/// spec §7.1, on both task lists (the spec quotes the after-stage text for both).
pub const APPROVAL_HAS_NO_WAIT_TIME: CelRule<StageTask> = CelRule {
    cel: Cel {
        rule: "!(self.type == 'Approval' && has(self.waitTime))",
        message: MSG_APPROVAL_NO_WAIT,
        field_path: None,
        cel_type: "object",
    },
    holds: |task| !(task.type_ == StageTaskType::Approval && task.wait_time.is_some()),
};

/// The CEL rules on each `afterStageTasks[]` entry, in CRD order.
pub const AFTER_STAGE_TASK_RULES: &[&CelRule<StageTask>] =
    &[&TIMED_WAIT_NEEDS_WAIT_TIME, &APPROVAL_HAS_NO_WAIT_TIME];
/// The CEL rules on each `beforeStageTasks[]` entry, in CRD order.
pub const BEFORE_STAGE_TASK_RULES: &[&CelRule<StageTask>] = &[
    &BEFORE_STAGE_TASK_NOT_TIMED_WAIT,
    &APPROVAL_HAS_NO_WAIT_TIME,
];

/// A field of a run's spec that never changes once set (spec §7.2): CEL `self == oldSelf` on
/// `spec.<field>`.
pub struct ImmutableRunField {
    /// The JSON name of the field below `spec`.
    pub field: &'static str,
    /// The field's value, `None` when absent (a transition rule then does not run).
    pub get: fn(&StagedUpdateRunSpec) -> Option<&String>,
    pub rule: TransitionRule<String>,
}

/// The immutable fields of a run's spec, in CRD order.
pub const IMMUTABLE_RUN_FIELDS: [ImmutableRunField; 3] = [
    ImmutableRunField {
        field: "placementName",
        get: |spec| Some(&spec.placement_name),
        rule: TransitionRule::immutable(MSG_PLACEMENT_NAME_IMMUTABLE, "string"),
    },
    ImmutableRunField {
        field: "resourceSnapshotIndex",
        get: |spec| spec.resource_snapshot_index.as_ref(),
        rule: TransitionRule::immutable(MSG_RESOURCE_SNAPSHOT_INDEX_IMMUTABLE, "string"),
    },
    ImmutableRunField {
        field: "stagedRolloutStrategyName",
        get: |spec| Some(&spec.staged_rollout_strategy_name),
        rule: TransitionRule::immutable(MSG_STRATEGY_NAME_IMMUTABLE, "string"),
    },
];

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
            Some(mc @ IntOrString::Int(_)) => {
                MAX_CONCURRENCY_AT_LEAST_1.check(&format!("{sp}.maxConcurrency"), mc, errors);
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
            for rule in AFTER_STAGE_TASK_RULES {
                rule.check(&tp, task, errors);
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
            for rule in BEFORE_STAGE_TASK_RULES {
                rule.check(&tp, task, errors);
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
        // A transition rule only runs when the field is present in both objects, so adding or
        // removing an optional index is not caught.
        for f in &IMMUTABLE_RUN_FIELDS {
            if let (Some(a), Some(b)) = ((f.get)(o), (f.get)(spec)) {
                f.rule
                    .check(&format!("spec.{}", f.field), a, b, &mut errors);
            }
        }
        if let Err(e) = check_state_transition(o.state(), spec.state()) {
            errors.push(FieldError::cel("spec.state", "string", &e.to_string()));
        }
    }
    finish(errors)
}

/// A `spec.state` change the run's state machine does not allow (spec §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid state transition: cannot transition from {from} to {to}")]
pub struct StateTransitionError {
    pub from: UpdateRunState,
    pub to: UpdateRunState,
}

/// Allowed: Initialize→Run, Run→Stop, Stop→Run and X→X (spec §7.2).
pub fn check_state_transition(
    from: UpdateRunState,
    to: UpdateRunState,
) -> Result<(), StateTransitionError> {
    use UpdateRunState::*;
    match (from, to) {
        (a, b) if a == b => Ok(()),
        (Initialize, Run) | (Run, Stop) | (Stop, Run) => Ok(()),
        (from, to) => Err(StateTransitionError { from, to }),
    }
}

/// The CEL twin of [`check_state_transition`], for `spec.state`: one transition rule per forbidden
/// `(from, to)` pair, with the same message.
pub fn state_transition_cel() -> Vec<serde_json::Value> {
    let mut rules = Vec::new();
    for from in UpdateRunState::ALL {
        for to in UpdateRunState::ALL {
            if let Err(e) = check_state_transition(from, to) {
                rules.push(serde_json::json!({
                    "rule": format!("!(oldSelf == '{from}' && self == '{to}')"),
                    "message": e.to_string(),
                }));
            }
        }
    }
    rules
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

//! The rules of staged update strategies and runs (spec §7.1, §7.2).

use serde_json::{json, Value};

use super::schema_node::{cel, required, set, validation};
use crate::staged::staged_update_run::UpdateRunState;
use crate::staged::wait_time::WAIT_TIME_PATTERN;
use crate::validation::{self, staged_update as vs};

/// Stage rules of a strategy spec found at `path` (spec §7.1).
pub(super) fn strategy_rules(root: &mut Value, path: &str) {
    let stages = format!("{path}.stages");
    set(root, &stages, "maxItems", json!(vs::MAX_STAGES));
    let stage = format!("{stages}[]");
    set(
        root,
        &format!("{stage}.name"),
        "pattern",
        json!(vs::STAGE_NAME_PATTERN),
    );
    set(
        root,
        &format!("{stage}.name"),
        "maxLength",
        json!(vs::STAGE_NAME_MAX_LENGTH),
    );
    let mc = format!("{stage}.maxConcurrency");
    set(root, &mc, "default", json!(1));
    set(root, &mc, "pattern", json!(vs::MAX_CONCURRENCY_PATTERN));
    cel(root, &mc, &vs::MAX_CONCURRENCY_AT_LEAST_1.cel);
    let after = format!("{stage}.afterStageTasks");
    set(root, &after, "maxItems", json!(vs::MAX_AFTER_STAGE_TASKS));
    let before = format!("{stage}.beforeStageTasks");
    set(root, &before, "maxItems", json!(vs::MAX_BEFORE_STAGE_TASKS));
    for (tasks, rules) in [
        (&after, vs::AFTER_STAGE_TASK_RULES),
        (&before, vs::BEFORE_STAGE_TASK_RULES),
    ] {
        let task = format!("{tasks}[]");
        set(
            root,
            &format!("{task}.waitTime"),
            "pattern",
            json!(WAIT_TIME_PATTERN),
        );
        for rule in rules {
            cel(root, &task, &rule.cel);
        }
    }
}

/// spec §7.2: name length, required and immutable fields, the `state` enum and transitions.
pub(super) fn run_rules(root: &mut Value) {
    cel(root, "", &validation::NAME_MAX_63.cel);
    required(
        root,
        "spec",
        &["placementName", "stagedRolloutStrategyName"],
    );
    set(
        root,
        "spec.placementName",
        "maxLength",
        json!(vs::PLACEMENT_NAME_MAX_LENGTH),
    );
    for f in &vs::IMMUTABLE_RUN_FIELDS {
        cel(root, &format!("spec.{}", f.field), &f.rule.cel);
    }
    set(
        root,
        "spec.state",
        "default",
        json!(UpdateRunState::default().as_str()),
    );
    for rule in vs::state_transition_cel() {
        validation(root, "spec.state", rule);
    }
    strategy_rules(root, "status.stagedUpdateStrategySnapshot");
    for tasks in ["beforeStageTaskStatus", "afterStageTaskStatus"] {
        let max = if tasks.starts_with("before") {
            vs::MAX_BEFORE_STAGE_TASKS
        } else {
            vs::MAX_AFTER_STAGE_TASKS
        };
        set(
            root,
            &format!("status.stagesStatus[].{tasks}"),
            "maxItems",
            json!(max),
        );
    }
}

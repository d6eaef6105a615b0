//! What a reconcile reports besides the status it writes: the sample of the run-status metric, the
//! metric observations (spec §11) and the Kubernetes Events of the run's transitions, all derived
//! from the status before and after one [`step`](super::step).

use crate::staged::staged_update_run::{
    StageTaskStatus, StageUpdatingStatus, StagedUpdateRunStatus,
};
use crate::types::condition::{find_condition, reasons, types, Condition, Time, FALSE, TRUE};
use crate::types::names::{TASK_TYPE_AFTER_STAGE, TASK_TYPE_BEFORE_STAGE};

use super::CLIENT_ERROR;

/// Labels of `fleet_workload_update_run_status_last_timestamp_seconds` beyond the run's
/// namespace, name and state: its most significant condition at the run's generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSample {
    pub condition: String,
    pub status: String,
    pub reason: String,
    /// `none`, `user_error` or `internal_error`.
    pub failure_type: &'static str,
}

/// Spec §11: Succeeded, else Progressing, else Initialized, each only at `generation`.
pub fn status_sample(
    status: Option<&StagedUpdateRunStatus>,
    generation: i64,
) -> Option<StatusSample> {
    let conditions = status?.conditions.as_deref()?;
    let current = [types::SUCCEEDED, types::PROGRESSING, types::INITIALIZED]
        .into_iter()
        .find_map(|t| {
            find_condition(conditions, t).filter(|c| c.observed_generation == Some(generation))
        })?;
    Some(StatusSample {
        condition: current.type_.clone(),
        status: current.status.clone(),
        reason: current.reason.clone(),
        failure_type: failure_type(current),
    })
}

fn failure_type(c: &Condition) -> &'static str {
    let failed = c.reason == reasons::UPDATE_RUN_FAILED
        || c.reason == reasons::UPDATE_RUN_INITIALIZED_FAILED;
    if failed && c.message.contains(CLIENT_ERROR) {
        "user_error"
    } else if failed || c.reason == reasons::UPDATE_RUN_STUCK {
        "internal_error"
    } else {
        "none"
    }
}

/// One metric observation of a reconcile (spec §11).
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    /// `fleet_workload_update_run_approval_request_latency_seconds`: created → approved.
    ApprovalLatency {
        task_type: &'static str,
        seconds: f64,
    },
    /// `fleet_workload_update_run_stage_cluster_updating_duration_seconds`: stage start until
    /// all its clusters are done (tasks excluded), once per stage.
    StageClustersUpdated { stage: String, seconds: f64 },
}

/// Whether an event reports progress or trouble (`type` of a Kubernetes Event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Normal,
    Warning,
}

/// A Kubernetes Event about a run's transition (fleetdeck; KubeFleet records none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunEvent {
    pub kind: EventKind,
    /// CamelCase, as Kubernetes reasons are.
    pub reason: &'static str,
    pub note: String,
    /// What the controller did, for the Event's `action`.
    pub action: &'static str,
}

/// Whether `after` gains a False top-level condition `before` did not have (failed, stuck,
/// waiting, stopped). The engine decides such a step again from the hub rather than its caches:
/// a cache behind the engine's own writes must never fail or stall a run.
pub fn adds_false_condition(
    before: Option<&StagedUpdateRunStatus>,
    after: &StagedUpdateRunStatus,
) -> bool {
    let old = before
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    after
        .conditions
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|c| c.status == FALSE)
        .any(|c| {
            !old.iter()
                .any(|o| o.type_ == c.type_ && o.status == c.status && o.reason == c.reason)
        })
}

/// Observations and events of one reconcile: what `after` has that `before` had not.
pub fn transitions(
    before: Option<&StagedUpdateRunStatus>,
    after: &StagedUpdateRunStatus,
    now: &Time,
) -> (Vec<Observation>, Vec<RunEvent>) {
    let mut observations = Vec::new();
    let mut events = Vec::new();
    let run_before = before
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let run_after = after.conditions.as_deref().unwrap_or_default();
    let newly = |type_: &str, status: &str, reason: Option<&str>| {
        let holds = |conds: &[Condition]| {
            find_condition(conds, type_)
                .is_some_and(|c| c.status == status && reason.is_none_or(|r| c.reason == r))
        };
        holds(run_after) && !holds(run_before)
    };
    let message = |type_: &str| {
        find_condition(run_after, type_)
            .map(|c| c.message.clone())
            .unwrap_or_default()
    };

    if newly(types::INITIALIZED, TRUE, None) {
        events.push(normal(
            "Initialized",
            "Initialize",
            message(types::INITIALIZED),
        ));
    }
    if newly(types::INITIALIZED, FALSE, None) {
        events.push(warning(
            "InitializationFailed",
            "Initialize",
            message(types::INITIALIZED),
        ));
    }

    let stages_before = before
        .and_then(|s| s.stages_status.as_deref())
        .unwrap_or_default();
    for stage in after.stages_status.as_deref().unwrap_or_default() {
        let old = stages_before
            .iter()
            .find(|s| s.stage_name == stage.stage_name);
        stage_transitions(stage, old, now, &mut observations, &mut events);
    }

    if newly(types::PROGRESSING, FALSE, Some(reasons::UPDATE_RUN_STUCK)) {
        events.push(warning("Stuck", "Run", message(types::PROGRESSING)));
    }
    if newly(types::PROGRESSING, FALSE, Some(reasons::UPDATE_RUN_STOPPED)) {
        events.push(normal("Stopped", "Stop", message(types::PROGRESSING)));
    }
    if newly(types::SUCCEEDED, TRUE, None) {
        events.push(normal("Succeeded", "Run", message(types::SUCCEEDED)));
    }
    if newly(types::SUCCEEDED, FALSE, None) {
        events.push(warning("Failed", "Run", message(types::SUCCEEDED)));
    }
    (observations, events)
}

fn stage_transitions(
    stage: &StageUpdatingStatus,
    before: Option<&StageUpdatingStatus>,
    now: &Time,
    observations: &mut Vec<Observation>,
    events: &mut Vec<RunEvent>,
) {
    let name = &stage.stage_name;
    let conds = stage.conditions.as_deref().unwrap_or_default();
    let old_conds = before
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let succeeded = |c: &[Condition]| {
        find_condition(c, types::SUCCEEDED).map(|c| (c.status.clone(), c.reason.clone()))
    };
    let skipped =
        succeeded(conds).is_some_and(|(_, r)| r == reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS);

    let started_before = before.is_some_and(|s| s.start_time.is_some());
    if stage.start_time.is_some() && !started_before && !skipped {
        events.push(normal(
            "StageStarted",
            "Run",
            format!("Stage {name} started updating its clusters"),
        ));
    }
    for (tasks, old_tasks, task_type, when) in [
        (
            &stage.before_stage_task_status,
            before.and_then(|s| s.before_stage_task_status.as_ref()),
            TASK_TYPE_BEFORE_STAGE,
            "before",
        ),
        (
            &stage.after_stage_task_status,
            before.and_then(|s| s.after_stage_task_status.as_ref()),
            TASK_TYPE_AFTER_STAGE,
            "after",
        ),
    ] {
        for task in tasks.iter().flatten() {
            let Some(request) = &task.approval_request_name else {
                continue;
            };
            let old = old_tasks
                .into_iter()
                .flatten()
                .find(|t| t.approval_request_name.as_ref() == Some(request));
            if newly_true(task, old, types::APPROVAL_REQUEST_CREATED) {
                events.push(normal(
                    "WaitingForApproval",
                    "Run",
                    format!("Stage {name} waits for approval request {request} ({when} the stage)"),
                ));
            }
            if newly_true(task, old, types::APPROVAL_REQUEST_APPROVED) {
                let at = |t: &str| {
                    task.conditions
                        .as_deref()
                        .and_then(|c| find_condition(c, t))
                        .map(|c| c.last_transition_time.0)
                };
                if let (Some(created), Some(approved)) = (
                    at(types::APPROVAL_REQUEST_CREATED),
                    at(types::APPROVAL_REQUEST_APPROVED),
                ) {
                    observations.push(Observation::ApprovalLatency {
                        task_type,
                        seconds: seconds_between(created, approved),
                    });
                }
            }
        }
    }
    let all_done = |s: &StageUpdatingStatus| {
        !s.clusters().is_empty()
            && s.clusters().iter().all(|c| {
                c.conditions
                    .as_deref()
                    .and_then(|cs| find_condition(cs, types::SUCCEEDED))
                    .is_some_and(|c| c.status == TRUE)
            })
    };
    if all_done(stage) && !before.is_some_and(all_done) {
        if let Some(start) = &stage.start_time {
            observations.push(Observation::StageClustersUpdated {
                stage: name.clone(),
                seconds: seconds_between(start.0, now.0),
            });
        }
    }
    let done = |c: &[Condition]| succeeded(c).is_some_and(|(s, _)| s == TRUE);
    if done(conds) && !done(old_conds) {
        let (reason, note) = if skipped {
            (
                "StageSkipped",
                format!("Stage {name} skipped because it has no clusters"),
            )
        } else {
            (
                "StageSucceeded",
                format!("Stage {name} completed successfully"),
            )
        };
        events.push(normal(reason, "Run", note));
    }
}

fn newly_true(task: &StageTaskStatus, before: Option<&StageTaskStatus>, type_: &str) -> bool {
    let holds = |t: Option<&StageTaskStatus>| {
        t.and_then(|t| t.conditions.as_deref())
            .and_then(|c| find_condition(c, type_))
            .is_some_and(|c| c.status == TRUE)
    };
    holds(Some(task)) && !holds(before)
}

fn seconds_between(from: k8s_openapi::jiff::Timestamp, to: k8s_openapi::jiff::Timestamp) -> f64 {
    ((to.as_millisecond() - from.as_millisecond()).max(0) as f64) / 1000.0
}

fn normal(reason: &'static str, action: &'static str, note: String) -> RunEvent {
    RunEvent {
        kind: EventKind::Normal,
        reason,
        note,
        action,
    }
}

fn warning(reason: &'static str, action: &'static str, note: String) -> RunEvent {
    RunEvent {
        kind: EventKind::Warning,
        reason,
        note,
        action,
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;

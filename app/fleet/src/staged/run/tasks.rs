//! Stage tasks: the approval handshake (spec §9.5.D) and the after-stage TimedWait (§9.5.B.2).

use std::time::Duration;

use crate::staged::approval::{self, ApprovalRequestSpec, ApprovalTaskType};
use crate::staged::staged_update_run::{StageTaskStatus, StageUpdatingStatus};
use crate::staged::wait_time::parse_go_duration;
use crate::types::condition::{find_condition, messages as msg, reasons, types, Time, TRUE};

use super::exec::{Effects, NewApproval, Pass};
use super::{is_true, RunError};

/// When the stage's after-stage wait started.
///
/// fleetdeck departs from KubeFleet here (DESIGN.md "The engine's contract"): upstream measures
/// from the stage Progressing condition's lastTransitionTime, which Stop/Resume flips, restarting
/// the wait. fleetdeck measures from the moment the last cluster of the stage succeeded, which
/// Stop/Resume never changes; the stage Progressing time is only the fallback.
pub fn wait_start(stage: &StageUpdatingStatus, now: &Time) -> Time {
    let last_success = stage
        .clusters()
        .iter()
        .filter_map(|c| find_condition(c.conditions.as_deref()?, types::SUCCEEDED))
        .map(|c| c.last_transition_time.clone())
        .max_by_key(|t| t.0);
    last_success
        .or_else(|| {
            stage
                .conditions
                .as_deref()
                .and_then(|c| find_condition(c, types::PROGRESSING))
                .map(|c| c.last_transition_time.clone())
        })
        .unwrap_or_else(|| now.clone())
}

/// A TimedWait task: passed once `waitTime` has elapsed since `start`; otherwise the remaining
/// time goes into `pending` (the smallest wins).
pub fn timed_wait(
    p: &Pass,
    wait_time: Option<&str>,
    start: &Time,
    task: &mut StageTaskStatus,
    pending: &mut Option<Duration>,
) -> Result<bool, RunError> {
    if is_true(
        task.conditions.as_deref().unwrap_or_default(),
        types::WAIT_TIME_ELAPSED,
    ) {
        return Ok(true);
    }
    let wait = parse_go_duration(wait_time.unwrap_or_default()).map_err(RunError::unexpected)?;
    let elapsed = p.elapsed_since(start);
    if elapsed >= wait {
        let r = reasons::AFTER_STAGE_TASK_WAIT_TIME_ELAPSED;
        p.set(
            &mut task.conditions,
            types::WAIT_TIME_ELAPSED,
            TRUE,
            r,
            msg::WAIT_TIME_ELAPSED,
        );
        return Ok(true);
    }
    let remaining = wait - elapsed;
    *pending = Some(pending.map_or(remaining, |d| d.min(remaining)));
    Ok(false)
}

/// The approval handshake (spec §9.5.D); returns whether the task is approved.
pub fn approval_gate(
    p: &Pass,
    task_type: ApprovalTaskType,
    stage: &str,
    task: &mut StageTaskStatus,
    fx: &mut Effects,
) -> Result<bool, RunError> {
    if is_true(
        task.conditions.as_deref().unwrap_or_default(),
        types::APPROVAL_REQUEST_APPROVED,
    ) {
        return Ok(true);
    }
    let name = task.approval_request_name.clone().ok_or_else(|| {
        RunError::unexpected(format!(
            "the approval task of stage {stage} has no approval request name"
        ))
    })?;
    let r = reasons::STAGE_TASK_APPROVAL_REQUEST_CREATED;
    p.set(
        &mut task.conditions,
        types::APPROVAL_REQUEST_CREATED,
        TRUE,
        r,
        msg::APPROVAL_REQUEST_CREATED,
    );
    let Some(request) = p.approvals.get(&name) else {
        // Created now (or re-created after an unapproved request was deleted).
        fx.approvals_to_create.push(NewApproval {
            name,
            labels: approval::approval_request_labels(p.run.name, stage, task_type),
            spec: ApprovalRequestSpec {
                parent_stage_rollout: p.run.name.to_string(),
                target_stage: stage.to_string(),
            },
        });
        return Ok(false);
    };
    if request.spec.target_stage != stage || request.spec.parent_stage_rollout != p.run.name {
        return Err(RunError::unexpected(format!(
            "the approval request task `{name}` is targeting update run `{}` and stage `{}`, want update run `{}` and stage `{stage}`",
            request.spec.parent_stage_rollout, request.spec.target_stage, p.run.name
        )));
    }
    let approved = approval::is_approved_by_user(&request.conditions, request.generation);
    let accepted = approval::is_accepted(&request.conditions, request.generation);
    if !approved && !accepted {
        return Ok(false);
    }
    if !accepted {
        fx.approvals_to_accept.push(name);
    }
    let r = reasons::STAGE_TASK_APPROVAL_REQUEST_APPROVED;
    p.set(
        &mut task.conditions,
        types::APPROVAL_REQUEST_APPROVED,
        TRUE,
        r,
        msg::APPROVAL_REQUEST_APPROVED,
    );
    Ok(true)
}

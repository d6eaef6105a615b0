//! A stage of the timeline: its state, its clusters as chips (and a page of them for large
//! stages) and its gates.

use super::*;

pub(super) fn stage_view(
    stage: &StageUpdatingStatus,
    config: Option<&StageConfig>,
    approvals: &[ApprovalFacts],
    run_stuck: bool,
    run_ended: bool,
    now: &Time,
) -> StageView {
    let conditions = stage.conditions.as_deref().unwrap_or_default();
    let state = stage_state(conditions);
    let mut counts = ClusterCounts::default();
    let mut chips: Vec<ClusterChip> = stage
        .clusters()
        .iter()
        .map(|c| {
            let chip = chip(c, run_stuck && state == StageState::Updating, run_ended);
            counts.add(chip.state);
            chip
        })
        .collect();
    // Stable: problem clusters first, the update order otherwise kept.
    chips.sort_by_key(|c| c.state.urgency());
    chips.truncate(CHIPS_PER_STAGE);
    let waits: Vec<Option<&str>> = config
        .map(|c| {
            c.after_stage_tasks
                .iter()
                .flatten()
                .filter(|t| t.type_ == StageTaskType::TimedWait)
                .map(|t| t.wait_time.as_deref())
                .collect()
        })
        .unwrap_or_default();
    let mut waits = waits.into_iter();
    let all_succeeded = counts.total == counts.succeeded;
    let gates = |tasks: &Option<Vec<StageTaskStatus>>, waits: &mut dyn Iterator<Item = _>| {
        tasks
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|task| {
                gate(
                    task,
                    stage,
                    waits.next().flatten(),
                    approvals,
                    all_succeeded,
                    now,
                )
            })
            .collect()
    };
    StageView {
        name: stage.stage_name.clone(),
        state,
        started: stage.start_time.as_ref().map(|t| utc(&t.0)),
        ended: stage.end_time.as_ref().map(|t| utc(&t.0)),
        before: gates(&stage.before_stage_task_status, &mut std::iter::empty()),
        after: gates(&stage.after_stage_task_status, &mut waits),
        counts,
        chips,
    }
}

pub(super) fn stage_state(conditions: &[Condition]) -> StageState {
    let succeeded = find_condition(conditions, types::SUCCEEDED);
    let progressing = find_condition(conditions, types::PROGRESSING);
    match (succeeded, progressing) {
        (Some(s), _)
            if s.status == TRUE && s.reason == reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS =>
        {
            StageState::Skipped
        }
        (Some(s), _) if s.status == TRUE => StageState::Succeeded,
        (Some(s), _) if s.status == FALSE => StageState::Failed,
        (_, Some(p)) if p.reason == reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS => {
            StageState::Skipped
        }
        (_, Some(p)) if p.reason == reasons::STAGE_UPDATING_STOPPING => StageState::Stopping,
        (_, Some(p)) if p.reason == reasons::STAGE_UPDATING_STOPPED => StageState::Stopped,
        (_, Some(p)) if p.reason == reasons::STAGE_UPDATING_WAITING => StageState::Waiting,
        (_, Some(p)) if p.status == TRUE => StageState::Updating,
        // Progressing=False with StageUpdatingSucceeded: clusters done, after-stage tasks left.
        (_, Some(p)) if p.reason == reasons::STAGE_UPDATING_SUCCEEDED => StageState::Waiting,
        _ => StageState::Pending,
    }
}

pub(super) fn chip(c: &ClusterUpdatingStatus, stage_stuck: bool, run_ended: bool) -> ClusterChip {
    let conditions = c.conditions.as_deref().unwrap_or_default();
    let started = find_condition(conditions, types::STARTED).filter(|s| s.status == TRUE);
    let succeeded = find_condition(conditions, types::SUCCEEDED);
    let state = match (started, succeeded) {
        (_, Some(s)) if s.status == TRUE => ClusterState::Succeeded,
        (_, Some(s)) if s.status == FALSE => ClusterState::Failed,
        (Some(_), None) if stage_stuck => ClusterState::Stuck,
        (Some(_), None) => ClusterState::Updating,
        (None, _) if run_ended => ClusterState::Skipped,
        _ => ClusterState::Pending,
    };
    ClusterChip {
        name: c.cluster_name.clone(),
        state,
        started: started.map(|s| utc(&s.last_transition_time.0)),
        ended: succeeded.map(|s| utc(&s.last_transition_time.0)),
    }
}

pub(super) fn gate(
    task: &StageTaskStatus,
    stage: &StageUpdatingStatus,
    wait: Option<&str>,
    approvals: &[ApprovalFacts],
    clusters_done: bool,
    now: &Time,
) -> GateView {
    let conditions = task.conditions.as_deref().unwrap_or_default();
    let is = |t: &str| find_condition(conditions, t).is_some_and(|c| c.status == TRUE);
    match task.type_ {
        StageTaskType::Approval => {
            let request = task.approval_request_name.clone().unwrap_or_default();
            let on_request = approvals.iter().find(|a| a.name == request);
            let state = if is(types::APPROVAL_REQUEST_APPROVED) {
                ApprovalState::Accepted
            } else if on_request
                .is_some_and(|a| approval::is_approved_by_user(&a.conditions, a.generation))
            {
                ApprovalState::Approved
            } else if is(types::APPROVAL_REQUEST_CREATED) || on_request.is_some() {
                ApprovalState::Waiting
            } else {
                ApprovalState::NotYet
            };
            GateView::Approval { request, state }
        }
        StageTaskType::TimedWait => {
            let elapsed = is(types::WAIT_TIME_ELAPSED);
            let length = wait.and_then(|w| parse_go_duration(w).ok());
            let ends_at = match (clusters_done, length) {
                (true, Some(length)) if !elapsed => {
                    let start = utc(&wait_start(stage, now).0);
                    chrono::Duration::from_std(length).ok().map(|d| start + d)
                }
                _ => None,
            };
            GateView::TimedWait {
                wait: wait.unwrap_or("?").to_string(),
                ends_at,
                elapsed,
            }
        }
    }
}

/// One page of a stage's clusters, for stages too large to show at once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPage {
    /// Clusters whose name contains the filter (and in the state asked for).
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub chips: Vec<ClusterChip>,
}

/// The clusters per page of a stage's cluster list.
pub const CLUSTERS_PER_PAGE: usize = 100;

/// Page `page` (from 0) of the clusters of stage `stage` (the deletion stage by its status name)
/// whose name contains `filter` and, when given, in `state` — in the stage's update order.
pub fn stage_clusters<K>(
    run: &Object<K>,
    stage: &str,
    filter: &str,
    state: Option<ClusterState>,
    page: usize,
) -> ClusterPage
where
    K: FleetKind<Spec = StagedUpdateRunSpec, Status = StagedUpdateRunStatus>,
{
    let row = run_view::row(run);
    let Some(status) = run.status.as_ref() else {
        return ClusterPage::default();
    };
    let found = status
        .stages_status
        .iter()
        .flatten()
        .chain(status.deletion_stage_status.iter())
        .find(|s| s.stage_name == stage);
    let Some(found) = found else {
        return ClusterPage::default();
    };
    let conditions = found.conditions.as_deref().unwrap_or_default();
    let stuck = row.pill == RunPill::Stuck && stage_state(conditions) == StageState::Updating;
    let ended = matches!(row.pill, RunPill::Failed | RunPill::Succeeded);
    let filter = filter.trim();
    let matching: Vec<ClusterChip> = found
        .clusters()
        .iter()
        .filter(|c| c.cluster_name.contains(filter))
        .map(|c| chip(c, stuck, ended))
        .filter(|c| state.is_none_or(|s| s == c.state))
        .collect();
    let pages = matching.len().div_ceil(CLUSTERS_PER_PAGE).max(1);
    let page = page.min(pages - 1);
    ClusterPage {
        matching: matching.len(),
        page,
        pages,
        chips: matching
            .into_iter()
            .skip(page * CLUSTERS_PER_PAGE)
            .take(CLUSTERS_PER_PAGE)
            .collect(),
    }
}

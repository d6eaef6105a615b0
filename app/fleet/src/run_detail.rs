//! What the run page shows: the stage timeline (gates as their own nodes, clusters as chips),
//! the run's conditions in plain words and a troubleshooting explanation — derived from the run
//! object, its approval requests and the bindings of its stuck clusters. Pure and serialisable:
//! the server computes it for the first render and for every live update, the browser renders it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::approval;
use super::binding::{ResourceBindingSpec, ResourceBindingStatus};
use super::condition::{find_condition, reasons, types, Condition, Time, FALSE, TRUE};
use super::run::tasks::wait_start;
use super::run_view::{self, RunPill, RunRow};
use super::staged_update::{StageConfig, StageTaskType};
use super::staged_update_run::{
    ClusterUpdatingStatus, StageTaskStatus, StageUpdatingStatus, StagedUpdateRunSpec,
    StagedUpdateRunStatus,
};
use super::wait_time::parse_go_duration;
use super::{FleetKind, Object};

/// At most this many cluster chips per stage travel with the page; the rest are counted. A stage
/// of 10,000 clusters must not become 10,000 DOM nodes (the cluster list pages through the rest).
pub const CHIPS_PER_STAGE: usize = 48;

/// A run, for the run page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetail {
    /// The same summary the Runs list shows (pill, state, placement, strategy, snapshot index).
    pub row: RunRow,
    pub generation: i64,
    pub created: Option<DateTime<Utc>>,
    pub policy_index: Option<String>,
    /// What the run is doing, what it waits for and who must act, in plain words.
    pub headline: Headline,
    pub stages: Vec<StageView>,
    /// The deletion stage (clusters leaving the placement), once the plan is computed.
    pub deletion: Option<StageView>,
    pub conditions: Vec<ConditionLine>,
    /// Explanations of what went wrong, each with a next step.
    pub problems: Vec<Problem>,
    /// The actions the run's state allows now.
    pub actions: Actions,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headline {
    pub doing: String,
    pub waiting_for: Option<String>,
    /// Who must act for the run to go on, when someone must.
    pub who_acts: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actions {
    /// `Initialize` → `Run` once the plan is computed.
    pub start: bool,
    pub stop: bool,
    pub resume: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StageState {
    #[default]
    Pending,
    Updating,
    Waiting,
    Stopping,
    Stopped,
    Succeeded,
    Skipped,
    Failed,
}

impl StageState {
    pub fn label(self) -> &'static str {
        match self {
            StageState::Pending => "pending",
            StageState::Updating => "updating",
            StageState::Waiting => "waiting",
            StageState::Stopping => "stopping",
            StageState::Stopped => "stopped",
            StageState::Succeeded => "succeeded",
            StageState::Skipped => "skipped",
            StageState::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StageView {
    pub name: String,
    pub state: StageState,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub before: Vec<GateView>,
    pub after: Vec<GateView>,
    pub counts: ClusterCounts,
    /// Problem clusters first, then the stage's update order; at most [`CHIPS_PER_STAGE`].
    pub chips: Vec<ClusterChip>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterCounts {
    pub total: usize,
    pub pending: usize,
    pub updating: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub stuck: usize,
    pub skipped: usize,
}

impl ClusterCounts {
    fn add(&mut self, state: ClusterState) {
        self.total += 1;
        match state {
            ClusterState::Pending => self.pending += 1,
            ClusterState::Updating => self.updating += 1,
            ClusterState::Succeeded => self.succeeded += 1,
            ClusterState::Failed => self.failed += 1,
            ClusterState::Stuck => self.stuck += 1,
            ClusterState::Skipped => self.skipped += 1,
        }
    }

    /// Clusters that are done, for the progress bar.
    pub fn done(&self) -> usize {
        self.succeeded + self.failed + self.skipped
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClusterState {
    #[default]
    Pending,
    Updating,
    Succeeded,
    Failed,
    /// Updating for longer than the stuck threshold (the run says `UpdateRunStuck`).
    Stuck,
    /// Never reached: the run ended before this cluster's turn.
    Skipped,
}

impl ClusterState {
    pub fn label(self) -> &'static str {
        match self {
            ClusterState::Pending => "pending",
            ClusterState::Updating => "updating",
            ClusterState::Succeeded => "succeeded",
            ClusterState::Failed => "failed",
            ClusterState::Stuck => "stuck",
            ClusterState::Skipped => "skipped",
        }
    }

    fn urgency(self) -> u8 {
        match self {
            ClusterState::Failed | ClusterState::Stuck => 0,
            ClusterState::Updating => 1,
            _ => 2,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterChip {
    pub name: String,
    pub state: ClusterState,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
}

/// A before- or after-stage task.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GateView {
    Approval {
        request: String,
        state: ApprovalState,
    },
    TimedWait {
        /// As the strategy wrote it (`1h`, `30s`).
        wait: String,
        /// When the wait ends, once it has started.
        ends_at: Option<DateTime<Utc>>,
        elapsed: bool,
    },
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ApprovalState {
    /// The run has not reached this gate.
    #[default]
    NotYet,
    /// The request exists and nobody has approved it.
    Waiting,
    /// Approved on the request; the run has not accepted it yet.
    Approved,
    /// The run accepted the approval and moved on.
    Accepted,
}

impl ApprovalState {
    pub fn label(self) -> &'static str {
        match self {
            ApprovalState::NotYet => "not reached",
            ApprovalState::Waiting => "waiting for approval",
            ApprovalState::Approved => "approved",
            ApprovalState::Accepted => "accepted",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionLine {
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub since: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub title: String,
    pub explanation: String,
    pub next_step: String,
    /// One line per failing resource or cluster, in plain words.
    pub details: Vec<String>,
}

/// What the page needs of an approval request of this run.
#[derive(Clone, Debug, PartialEq)]
pub struct ApprovalFacts {
    pub name: String,
    pub generation: i64,
    pub conditions: Vec<Condition>,
}

/// What the troubleshooting panel needs of a binding: why its resources are not applied or not
/// available on its cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingTrouble {
    pub cluster: String,
    pub failed: Vec<FailedResource>,
    /// The binding's own Applied/Available message when it is false.
    pub message: Option<String>,
}

/// One resource the member agent could not apply or that is not available.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailedResource {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub reason: String,
    pub message: String,
    /// What the member itself says, when the console could ask it (a pod's waiting reason).
    pub cause: Option<String>,
}

impl FailedResource {
    /// `Deployment test-namespace/nginx`.
    pub fn object(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// In words, from the cluster's point of view.
    pub fn sentence(&self, cluster: &str) -> String {
        match &self.cause {
            Some(cause) => format!("{cluster}'s {} {cause}", self.object()),
            None => format!(
                "{cluster}'s {} is not ready: {} ({})",
                self.object(),
                self.message,
                self.reason
            ),
        }
    }
}

/// One failed placement as the binding reports it (KubeFleet's `ResourcePlacementError` shape).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FailedLine {
    group: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    condition: Option<FailedCondition>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FailedCondition {
    reason: String,
    message: String,
}

impl BindingTrouble {
    /// What a binding of either scope says about its cluster's resources.
    pub fn of<K>(binding: &Object<K>) -> Self
    where
        K: FleetKind<Spec = ResourceBindingSpec, Status = ResourceBindingStatus>,
    {
        let status = binding.status.clone().unwrap_or_default();
        let failed = status
            .failed_placements
            .iter()
            .flatten()
            .filter_map(|f| serde_json::to_value(f).ok())
            .filter_map(|f| serde_json::from_value::<FailedLine>(f).ok())
            .map(|f| {
                let (reason, message) = f
                    .condition
                    .map(|c| (c.reason, c.message))
                    .unwrap_or_default();
                FailedResource {
                    group: f.group,
                    kind: f.kind,
                    namespace: f.namespace.filter(|ns| !ns.is_empty()),
                    name: f.name,
                    reason,
                    message,
                    cause: None,
                }
            })
            .collect();
        let conditions = status.conditions.unwrap_or_default();
        let message = [types::APPLIED, types::AVAILABLE]
            .iter()
            .filter_map(|t| find_condition(&conditions, t))
            .find(|c| c.status == FALSE)
            .map(|c| c.message.clone());
        BindingTrouble {
            cluster: binding.spec.target_cluster.clone(),
            failed,
            message,
        }
    }
}

/// Derives the run page's view. `now` drives the TimedWait countdown start when the status has
/// no better time.
pub fn detail<K>(
    run: &Object<K>,
    approvals: &[ApprovalFacts],
    bindings: &[BindingTrouble],
    now: &Time,
) -> RunDetail
where
    K: FleetKind<Spec = StagedUpdateRunSpec, Status = StagedUpdateRunStatus>,
{
    let row = run_view::row(run);
    let status = run.status.clone().unwrap_or_default();
    let conditions = status.conditions.clone().unwrap_or_default();
    let strategy = status
        .staged_update_strategy_snapshot
        .as_ref()
        .map(|s| s.stages.as_slice())
        .unwrap_or_default();
    let run_ended = matches!(row.pill, RunPill::Failed | RunPill::Succeeded);
    let stuck = row.pill == RunPill::Stuck;
    let stages: Vec<StageView> = status
        .stages_status
        .as_deref()
        .unwrap_or_default()
        .iter()
        .map(|stage| {
            let config = strategy.iter().find(|c| c.name == stage.stage_name);
            stage_view(stage, config, approvals, stuck, run_ended, now)
        })
        .collect();
    let deletion = status
        .deletion_stage_status
        .as_ref()
        .map(|stage| stage_view(stage, None, approvals, false, run_ended, now));
    let initialized = find_condition(&conditions, types::INITIALIZED).map(|c| c.status.as_str());
    let state = row.state.as_str();
    let actions = Actions {
        start: state == "Initialize" && initialized == Some(TRUE) && !run_ended,
        stop: state == "Run" && !run_ended,
        resume: state == "Stop" && !run_ended,
    };
    RunDetail {
        headline: headline(&row, &stages, &conditions),
        problems: problems(&row, &conditions, &stages, bindings),
        generation: run.generation(),
        created: run.metadata.creation_timestamp.as_ref().map(|t| utc(&t.0)),
        policy_index: status.policy_snapshot_index_used.clone(),
        conditions: conditions
            .iter()
            .map(|c| ConditionLine {
                type_: c.type_.clone(),
                status: c.status.clone(),
                reason: c.reason.clone(),
                message: c.message.clone(),
                since: Some(utc(&c.last_transition_time.0)),
            })
            .collect(),
        stages,
        deletion,
        actions,
        row,
    }
}

fn stage_view(
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

fn stage_state(conditions: &[Condition]) -> StageState {
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

fn chip(c: &ClusterUpdatingStatus, stage_stuck: bool, run_ended: bool) -> ClusterChip {
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

fn gate(
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

fn headline(row: &RunRow, stages: &[StageView], conditions: &[Condition]) -> Headline {
    let current = stages
        .iter()
        .find(|s| !matches!(s.state, StageState::Succeeded | StageState::Skipped));
    let progress = |s: &StageView| {
        format!(
            "stage {}: {} of {} clusters done",
            s.name,
            s.counts.done(),
            s.counts.total
        )
    };
    let progressing = find_condition(conditions, types::PROGRESSING);
    match row.pill {
        RunPill::Pending => Headline {
            doing: "Waiting for the engine to compute the plan.".into(),
            ..Headline::default()
        },
        RunPill::Initialized => Headline {
            doing: "The plan is computed and nothing has moved yet.".into(),
            waiting_for: Some("a person to review the stages below and start the run".into()),
            who_acts: Some("an operator (Start)".into()),
        },
        RunPill::Progressing
            if progressing.is_some_and(|p| p.reason == reasons::UPDATE_RUN_STOPPING) =>
        {
            Headline {
                doing: "Stopping: clusters already updating finish first, then the run halts."
                    .into(),
                ..Headline::default()
            }
        }
        RunPill::Progressing => Headline {
            doing: current.map_or_else(
                || "Finishing the run.".into(),
                |s| format!("Updating {}.", progress(s)),
            ),
            ..Headline::default()
        },
        RunPill::Waiting => match current.and_then(gate_waited_on) {
            Some(wait) => Headline {
                doing: format!(
                    "Waiting at stage {}.",
                    current.map(|s| s.name.as_str()).unwrap_or_default()
                ),
                who_acts: wait
                    .starts_with("approval")
                    .then(|| "an approver (Approve)".to_string()),
                waiting_for: Some(wait),
            },
            None => Headline {
                doing: row.message.clone(),
                ..Headline::default()
            },
        },
        RunPill::Stuck => Headline {
            doing: format!(
                "Stuck{}.",
                current
                    .map(|s| format!(" in stage {}", s.name))
                    .unwrap_or_default()
            ),
            waiting_for: Some(
                "clusters that have not become available; see What went wrong".into(),
            ),
            who_acts: Some("the owner of the failing workload".into()),
        },
        RunPill::Stopped => Headline {
            doing: "Stopped. Nothing moves until the run is resumed.".into(),
            waiting_for: Some("a person to resume the run".into()),
            who_acts: Some("an operator (Resume)".into()),
        },
        RunPill::Succeeded => Headline {
            doing: "Finished: every stage completed.".into(),
            ..Headline::default()
        },
        RunPill::Failed => Headline {
            doing: "Failed; the run will not continue. See What went wrong.".into(),
            ..Headline::default()
        },
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

/// What a waiting stage waits for, in words: an approval first, else a running wait.
fn gate_waited_on(stage: &StageView) -> Option<String> {
    let approval = stage
        .before
        .iter()
        .chain(&stage.after)
        .find_map(|g| match g {
            GateView::Approval {
                request,
                state: ApprovalState::Waiting,
            } => Some(format!("approval of {request}")),
            _ => None,
        });
    approval.or_else(|| {
        stage.after.iter().find_map(|g| match g {
            GateView::TimedWait {
                wait,
                elapsed: false,
                ends_at,
            } => Some(match ends_at {
                Some(end) => format!(
                    "the {wait} wait after stage {} to pass (until {} UTC)",
                    stage.name,
                    end.format("%H:%M:%S")
                ),
                None => format!("the {wait} wait after stage {} to pass", stage.name),
            }),
            _ => None,
        })
    })
}

/// For the Runs list: what a waiting run waits for, from its status alone (no approval
/// requests read, so an approved-but-not-accepted gate still reads as waiting for approval).
pub fn waiting_for<K>(run: &Object<K>) -> Option<String>
where
    K: FleetKind<Spec = StagedUpdateRunSpec, Status = StagedUpdateRunStatus>,
{
    let status = run.status.as_ref()?;
    let conditions = status.conditions.as_deref().unwrap_or_default();
    // The wait's start falls back to "now" only without any status time; the Progressing
    // condition's time stands in, so the answer never depends on the clock.
    let now = find_condition(conditions, types::PROGRESSING)?
        .last_transition_time
        .clone();
    let strategy = status
        .staged_update_strategy_snapshot
        .as_ref()
        .map(|s| s.stages.as_slice())
        .unwrap_or_default();
    let stage = status.stages_status.as_deref()?.iter().find(|s| {
        !matches!(
            stage_state(s.conditions.as_deref().unwrap_or_default()),
            StageState::Succeeded | StageState::Skipped
        )
    })?;
    let config = strategy.iter().find(|c| c.name == stage.stage_name);
    gate_waited_on(&stage_view(stage, config, &[], false, false, &now))
}

fn problems(
    row: &RunRow,
    conditions: &[Condition],
    stages: &[StageView],
    bindings: &[BindingTrouble],
) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Some(init) = find_condition(conditions, types::INITIALIZED).filter(|c| c.status == FALSE)
    {
        out.push(Problem {
            title: "The run could not be initialized".into(),
            explanation: format!("The engine refused the run: {}", init.message),
            next_step: init_next_step(&init.message),
            details: Vec::new(),
        });
    }
    if row.pill == RunPill::Stuck {
        let stage = stages.iter().find(|s| s.counts.stuck > 0);
        let stuck: Vec<&str> = stage
            .map(|s| {
                s.chips
                    .iter()
                    .filter(|c| c.state == ClusterState::Stuck)
                    .map(|c| c.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let mut details = Vec::new();
        for cluster in &stuck {
            match bindings.iter().find(|b| b.cluster == *cluster) {
                Some(b) if !b.failed.is_empty() => {
                    details.extend(b.failed.iter().map(|f| f.sentence(cluster)))
                }
                Some(BindingTrouble {
                    message: Some(m), ..
                }) => details.push(format!("{cluster}: {m}")),
                _ => details.push(format!(
                    "{cluster}: its resources are applied but not available yet"
                )),
            }
        }
        out.push(Problem {
            title: format!(
                "Stuck: {} not available{}",
                if stuck.is_empty() { "clusters".to_string() } else { stuck.join(", ") },
                stage.map(|s| format!(" in stage {}", s.name)).unwrap_or_default()
            ),
            explanation: "The run updated these clusters, but their resources did not become available within the stuck threshold (five minutes unless the engine was started with another --stuck-threshold). Usually the workload itself fails on the member: a bad image, a crash loop, missing resources.".into(),
            next_step: format!(
                "Look at the workload on the member (kubectl --context {} get pods -A). Fix the resources in the placement, which makes a new snapshot, then create a new run; this one can be stopped or deleted.",
                stuck.first().copied().unwrap_or("<member>")
            ),
            details,
        });
    }
    if let Some(failed) = find_condition(conditions, types::SUCCEEDED).filter(|c| c.status == FALSE)
    {
        let m = failed.message.as_str();
        let (title, explanation, next_step) = if m.contains("preempted") || m.contains("another") {
            (
                "Pre-empted by another run",
                "Another update run changed a binding this run was rolling out, so this run stopped for good.",
                "Check which run now owns the placement's clusters (usually a newer release); let it finish, or create a new run.",
            )
        } else if m.contains("not found") {
            (
                "Something the run depends on is gone",
                "The placement, its snapshot or the strategy the run uses was deleted while it ran.",
                "Recreate what is missing, then create a new run; a failed run is never retried.",
            )
        } else {
            (
                "The run failed",
                "The engine aborted the remaining stages after a non-recoverable error.",
                "Fix the cause named below, then create a new run; a failed run is never retried.",
            )
        };
        out.push(Problem {
            title: title.into(),
            explanation: explanation.into(),
            next_step: next_step.into(),
            details: vec![m.to_string()],
        });
    }
    out
}

fn init_next_step(message: &str) -> String {
    let step = if message.contains("placement") && message.contains("not found") {
        "Create the placement, or fix spec.placementName, then create a new run."
    } else if message.contains("strategy") || message.contains("Strategy") {
        "Fix or create the strategy named in spec.stagedRolloutStrategyName, then create a new run."
    } else if message.contains("snapshot") {
        "Check spec.resourceSnapshotIndex against the placement's snapshots, then create a new run."
    } else {
        "Fix what the message names, then create a new run: initialization is not retried."
    };
    step.into()
}

fn utc(t: &k8s_openapi::jiff::Timestamp) -> DateTime<Utc> {
    DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32).unwrap_or_default()
}

#[cfg(test)]
#[path = "run_detail_tests.rs"]
mod tests;

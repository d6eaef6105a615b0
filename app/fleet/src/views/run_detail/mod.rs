//! What the run page shows: the stage timeline (gates as their own nodes, clusters as chips),
//! the run's conditions in plain words and a troubleshooting explanation — derived from the run
//! object, its approval requests and the bindings of its stuck clusters. Pure and serialisable:
//! the server computes it for the first render and for every live update, the browser renders it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::placement::binding::{ResourceBindingSpec, ResourceBindingStatus};
use crate::staged::approval;
use crate::staged::run::tasks::wait_start;
use crate::staged::staged_update::{StageConfig, StageTaskType};
use crate::staged::staged_update_run::{
    ClusterUpdatingStatus, StageTaskStatus, StageUpdatingStatus, StagedUpdateRunSpec,
    StagedUpdateRunStatus,
};
use crate::staged::wait_time::parse_go_duration;
use crate::types::condition::{find_condition, reasons, types, Condition, Time, FALSE, TRUE};
use crate::views::run_view::{self, RunPill, RunRow};
use crate::{FleetKind, Object};

mod headline;
mod stage;
#[cfg(test)]
mod tests;
mod trouble;

use headline::headline;
pub use headline::waiting_for;
pub use stage::{stage_clusters, ClusterPage, CLUSTERS_PER_PAGE};
use stage::{stage_state, stage_view};
use trouble::problems;
pub use trouble::{BindingTrouble, FailedResource};

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

fn utc(t: &k8s_openapi::jiff::Timestamp) -> DateTime<Utc> {
    crate::types::condition::to_utc(t).unwrap_or_default()
}

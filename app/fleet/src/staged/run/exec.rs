//! Execute (spec §9.5) and stop (§9.7) one stage of an initialized, validated run. The functions
//! mutate the run status and collect the writes the engine must perform in [`Effects`].

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::placement::binding::{BindingState, ResourceBindingSpec, ResourceBindingStatus};
use crate::staged::approval::{ApprovalRequestSpec, ApprovalTaskType};
use crate::staged::concurrency::effective_max_concurrency;
use crate::staged::staged_update::{StageConfig, StageTaskType};
use crate::staged::staged_update_run::{StageUpdatingStatus, StagedUpdateRunStatus};
use crate::types::condition::{
    self as cond, find_condition, messages as msg, reasons, types, Condition, Time, FALSE, TRUE,
};
use crate::types::names;

use super::cluster::{
    binding_update, cluster_result, cluster_succeeded, earliest, expected_snapshot, in_sync,
    is_stuck, rollout_current, set_stuck_or_progressing, until_stuck, ClusterResult,
};
use super::init::RunMeta;
use super::tasks::{approval_gate, timed_wait, wait_start};
use super::views::{ApprovalView, BindingView};
use super::{aggregate, is_true, RunError};

/// Timing constants (spec §9.6), injectable for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Clusters in flight, deletion in progress, stopping (15 s upstream).
    pub cluster_poll: Duration,
    /// Waiting for approvals (60 s upstream).
    pub stage_wait: Duration,
    /// A started cluster not finished after this is stuck (5 min upstream).
    pub stuck_threshold: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            cluster_poll: Duration::from_secs(15),
            stage_wait: Duration::from_secs(60),
            stuck_threshold: Duration::from_secs(5 * 60),
        }
    }
}

/// A binding write: replace the spec, then replace `RolloutStarted` in its status with
/// `rollout_started` stamped at the binding's new generation (spec §9.5.A.4, §15 item 6).
#[derive(Clone, Debug, PartialEq)]
pub struct BindingUpdate {
    pub name: String,
    pub spec: ResourceBindingSpec,
    pub rollout_started: Condition,
}

/// What a binding as read still needs of a [`BindingUpdate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingWrite {
    /// Its spec replaced, then `RolloutStarted` at the new generation.
    SpecAndStatus,
    /// Only `RolloutStarted` at its generation.
    Status,
    /// Nothing: a pass that read a cache behind the engine's last write asks again for what is
    /// already there, and writing it again would only wake every watcher.
    Nothing,
}

impl BindingUpdate {
    /// What a binding with `spec` and `status` at `generation` still needs of this update.
    pub fn needed_by(
        &self,
        spec: &ResourceBindingSpec,
        status: Option<&ResourceBindingStatus>,
        generation: i64,
    ) -> BindingWrite {
        if *spec != self.spec {
            return BindingWrite::SpecAndStatus;
        }
        let started = status
            .and_then(|s| s.conditions.as_deref())
            .and_then(|c| find_condition(c, types::ROLLOUT_STARTED));
        match started {
            Some(c)
                if c.observed_generation == Some(generation)
                    && c.status == self.rollout_started.status
                    && c.reason == self.rollout_started.reason =>
            {
                BindingWrite::Nothing
            }
            _ => BindingWrite::Status,
        }
    }
}

/// An approval request to create (spec §7.4).
#[derive(Clone, Debug, PartialEq)]
pub struct NewApproval {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub spec: ApprovalRequestSpec,
}

/// Writes decided by one reconcile, performed by the engine before it writes the run status.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    pub binding_updates: Vec<BindingUpdate>,
    pub binding_deletes: Vec<String>,
    pub approvals_to_create: Vec<NewApproval>,
    /// Requests whose `ApprovalAccepted=True` must be written (at their generation).
    pub approvals_to_accept: Vec<String>,
}

/// How a stage pass ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The stage is done (succeeded, skipped or stopped); go on / stop.
    Completed,
    /// Come back after this long (or on an event).
    Wait(Duration),
}

/// Shared inputs of a pass.
pub struct Pass<'a> {
    pub run: &'a RunMeta<'a>,
    pub selected: &'a [&'a BindingView],
    pub to_delete: &'a [&'a BindingView],
    pub approvals: &'a BTreeMap<String, ApprovalView>,
    pub now: &'a Time,
    pub timing: Timing,
    /// `selected` by target cluster ([`by_cluster`]), so a pass stays linear in the stage size.
    pub selected_by_cluster: HashMap<&'a str, &'a BindingView>,
}

/// Bindings by target cluster; the first of a cluster wins, as a scan in order would find it.
pub fn by_cluster<'a>(bindings: &[&'a BindingView]) -> HashMap<&'a str, &'a BindingView> {
    let mut map = HashMap::with_capacity(bindings.len());
    for b in bindings {
        map.entry(b.spec.target_cluster.as_str()).or_insert(*b);
    }
    map
}

impl<'a> Pass<'a> {
    /// The selected binding of `cluster`.
    pub(crate) fn selected_binding(&self, cluster: &str) -> Option<&'a BindingView> {
        self.selected_by_cluster.get(cluster).copied()
    }

    pub(crate) fn cond(&self, type_: &str, status: &str, reason: &str, message: &str) -> Condition {
        cond::new_condition(
            type_,
            status,
            reason,
            message,
            self.run.generation,
            self.now,
        )
    }

    pub(crate) fn set(
        &self,
        conds: &mut Option<Vec<Condition>>,
        t: &str,
        s: &str,
        r: &str,
        m: &str,
    ) {
        cond::set_condition_opt(conds, self.cond(t, s, r, m));
    }

    pub(crate) fn elapsed_since(&self, t: &Time) -> Duration {
        let ms = self.now.0.as_millisecond() - t.0.as_millisecond();
        Duration::from_millis(ms.max(0) as u64)
    }
}

/// The run-level Progressing condition at the entry of execute (spec §9.5).
pub fn enter_execute(p: &Pass, status: &mut StagedUpdateRunStatus) {
    let keep = status
        .conditions
        .as_deref()
        .and_then(|c| find_condition(c, types::PROGRESSING))
        .is_some_and(|c| {
            c.status == FALSE
                && (c.reason == reasons::UPDATE_RUN_WAITING
                    || c.reason == reasons::UPDATE_RUN_STUCK)
        });
    if !keep {
        progressing(p, status);
    }
}

fn progressing(p: &Pass, status: &mut StagedUpdateRunStatus) {
    let c = &mut status.conditions;
    p.set(
        c,
        types::PROGRESSING,
        TRUE,
        reasons::UPDATE_RUN_PROGRESSING,
        msg::UPDATE_RUN_PROGRESSING,
    );
}

/// Executes normal stage `i` (spec §9.5.A, B, D).
pub fn execute_stage(
    p: &Pass,
    status: &mut StagedUpdateRunStatus,
    i: usize,
    fx: &mut Effects,
) -> Result<Flow, RunError> {
    let config = stage_config(status, i)?;
    let snapshot = expected_snapshot(p.run, status);
    let applied = status.applied_strategy.clone();
    let mut run_conds = status.conditions.take();
    let stages = status.stages_status.get_or_insert_with(Vec::new);
    let stage = &mut stages[i];
    let result = execute_stage_inner(p, &config, &snapshot, applied, &mut run_conds, stage, fx);
    status.conditions = run_conds;
    result
}

pub(crate) fn stage_config(
    status: &StagedUpdateRunStatus,
    i: usize,
) -> Result<StageConfig, RunError> {
    status
        .staged_update_strategy_snapshot
        .as_ref()
        .and_then(|s| s.stages.get(i))
        .cloned()
        .ok_or_else(|| RunError::unexpected(format!("the stage with index `{i}` has no strategy")))
}

fn execute_stage_inner(
    p: &Pass,
    config: &StageConfig,
    snapshot: &str,
    applied: Option<crate::placement::resource_placement::ApplyStrategy>,
    run_conds: &mut Option<Vec<Condition>>,
    stage: &mut StageUpdatingStatus,
    fx: &mut Effects,
) -> Result<Flow, RunError> {
    let name = stage.stage_name.clone();
    let clusters_len = stage.clusters().len();
    // §9.5.A.1: an empty stage is skipped, tasks included.
    if clusters_len == 0 {
        stage.start_time.get_or_insert_with(|| p.now.clone());
        stage.end_time.get_or_insert_with(|| p.now.clone());
        let r = reasons::STAGE_UPDATING_SKIPPED_NO_CLUSTERS;
        p.set(
            &mut stage.conditions,
            types::PROGRESSING,
            FALSE,
            r,
            msg::STAGE_SKIPPED,
        );
        p.set(
            &mut stage.conditions,
            types::SUCCEEDED,
            TRUE,
            r,
            msg::STAGE_SKIPPED,
        );
        return Ok(Flow::Completed);
    }
    // §9.5.A.2: before-stage approval.
    if let Some(task) = stage
        .before_stage_task_status
        .as_mut()
        .and_then(|t| t.first_mut())
    {
        if !approval_gate(p, ApprovalTaskType::BeforeStage, &name, task, fx)? {
            let r = reasons::STAGE_UPDATING_WAITING;
            p.set(
                &mut stage.conditions,
                types::PROGRESSING,
                FALSE,
                r,
                msg::STAGE_WAITING_BEFORE,
            );
            let m = msg::update_run_waiting("before-stage", &name);
            p.set(
                run_conds,
                types::PROGRESSING,
                FALSE,
                reasons::UPDATE_RUN_WAITING,
                &m,
            );
            return Ok(Flow::Wait(p.timing.stage_wait));
        }
    }
    let m = effective_max_concurrency(config.max_concurrency.as_ref(), clusters_len)
        .map_err(RunError::terminal)?;
    let status_view = StagedUpdateRunStatus {
        applied_strategy: applied,
        ..Default::default()
    };
    let (mut in_flight, mut finished) = (0usize, 0usize);
    let mut stuck: Vec<String> = Vec::new();
    let mut errors: Vec<RunError> = Vec::new();
    let mut started_any = false;
    let mut next_check = p.timing.cluster_poll;
    for cluster in stage.clusters.iter_mut().flatten() {
        if in_flight >= m {
            break;
        }
        let cname = cluster.cluster_name.clone();
        let conds = cluster.conditions.as_deref().unwrap_or_default();
        match find_condition(conds, types::SUCCEEDED) {
            Some(c) if c.status == TRUE => {
                finished += 1;
                continue;
            }
            Some(_) => {
                in_flight += 1;
                errors.push(RunError::terminal(format!(
                    "the cluster `{cname}` in the stage {name} has failed"
                )));
                continue;
            }
            None => in_flight += 1,
        }
        let Some(binding) = p.selected_binding(&cname) else {
            errors.push(RunError::unexpected(format!(
                "the updating cluster `{cname}` in the stage {name} does not have a binding"
            )));
            continue;
        };
        let synced = in_sync(binding, cluster, snapshot, &status_view);
        let bound = binding.spec.state == BindingState::Bound;
        if !is_true(conds, types::STARTED) {
            let mut done = false;
            if synced && bound && rollout_current(binding) {
                done = cluster_result(binding) == ClusterResult::Succeeded;
            } else {
                fx.binding_updates.push(binding_update(
                    p,
                    binding,
                    cluster,
                    snapshot,
                    &status_view,
                ));
            }
            p.set(
                &mut cluster.conditions,
                types::STARTED,
                TRUE,
                reasons::CLUSTER_UPDATING_STARTED,
                msg::CLUSTER_STARTED,
            );
            if done {
                cluster_succeeded(p, cluster);
                in_flight -= 1;
                finished += 1;
            } else {
                let stuck_at = p.timing.stuck_threshold + Duration::from_secs(1);
                next_check = earliest(next_check, stuck_at);
            }
            started_any = true;
            continue;
        }
        if !(synced && bound && rollout_current(binding)) {
            // §9.5.A.4: pre-empted, typically by a concurrent run.
            let e = RunError::user(format!(
                "the binding of the updating cluster `{cname}` in the stage `{name}` is not up-to-date with the desired status, please check the status of binding `{}` and see if there is a concurrent updateRun referencing the same placement and updating the same cluster",
                names::klog_key(p.run.namespace, &binding.name)
            ));
            // KubeFleet marks the cluster with the user error itself; only the stage and the run
            // get the "cannot continue the updateRun" prefix (execution.go, pre-emption).
            p.set(
                &mut cluster.conditions,
                types::SUCCEEDED,
                FALSE,
                reasons::CLUSTER_UPDATING_FAILED,
                &e.to_string(),
            );
            errors.push(e);
            continue;
        }
        match cluster_result(binding) {
            ClusterResult::Succeeded => {
                cluster_succeeded(p, cluster);
                in_flight -= 1;
                finished += 1;
            }
            // fleetdeck: an apply failure is polled like progress (spec §9.5 allows a fixed poll);
            // it becomes UpdateRunStuck after the threshold, never a failed run.
            ClusterResult::ApplyFailed | ClusterResult::InProgress => {
                if is_stuck(p, cluster) {
                    stuck.push(cname);
                } else {
                    next_check = earliest(next_check, until_stuck(p, cluster));
                }
            }
        }
    }
    if started_any || in_flight > 0 {
        stage.start_time.get_or_insert_with(|| p.now.clone());
        let r = reasons::STAGE_UPDATING_STARTED;
        p.set(
            &mut stage.conditions,
            types::PROGRESSING,
            TRUE,
            r,
            msg::STAGE_STARTED,
        );
    }
    set_stuck_or_progressing(p, run_conds, &stuck, &name, None);
    if !errors.is_empty() {
        return Err(join(errors));
    }
    if finished < clusters_len {
        return Ok(Flow::Wait(next_check));
    }
    complete_stage(p, config, run_conds, stage, fx)
}

fn join(errors: Vec<RunError>) -> RunError {
    let terminal = errors.iter().any(RunError::is_terminal);
    let text = aggregate(&errors.iter().map(ToString::to_string).collect::<Vec<_>>());
    if terminal {
        RunError::Terminal(text)
    } else {
        RunError::Retriable(text)
    }
}

/// §9.5.B: all clusters succeeded; evaluate after-stage tasks.
fn complete_stage(
    p: &Pass,
    config: &StageConfig,
    run_conds: &mut Option<Vec<Condition>>,
    stage: &mut StageUpdatingStatus,
    fx: &mut Effects,
) -> Result<Flow, RunError> {
    let name = stage.stage_name.clone();
    let m = msg::update_run_waiting("after-stage", &name);
    p.set(
        run_conds,
        types::PROGRESSING,
        FALSE,
        reasons::UPDATE_RUN_WAITING,
        &m,
    );
    let r = reasons::STAGE_UPDATING_WAITING;
    p.set(
        &mut stage.conditions,
        types::PROGRESSING,
        FALSE,
        r,
        msg::STAGE_WAITING_AFTER,
    );
    let wait_start = wait_start(stage, p.now);
    let mut all_passed = true;
    let mut pending: Option<Duration> = None;
    let tasks = config.after_tasks();
    for (task, ts) in tasks
        .iter()
        .zip(stage.after_stage_task_status.iter_mut().flatten())
    {
        let passed = match task.type_ {
            StageTaskType::TimedWait => {
                timed_wait(p, task.wait_time.as_deref(), &wait_start, ts, &mut pending)?
            }
            StageTaskType::Approval => {
                approval_gate(p, ApprovalTaskType::AfterStage, &name, ts, fx)?
            }
        };
        all_passed &= passed;
    }
    if !all_passed {
        return Ok(Flow::Wait(pending.unwrap_or(p.timing.stage_wait)));
    }
    let (t, r) = (types::PROGRESSING, reasons::UPDATE_RUN_PROGRESSING);
    p.set(run_conds, t, TRUE, r, msg::UPDATE_RUN_PROGRESSING);
    stage.end_time.get_or_insert_with(|| p.now.clone());
    let r = reasons::STAGE_UPDATING_SUCCEEDED;
    p.set(
        &mut stage.conditions,
        types::PROGRESSING,
        FALSE,
        r,
        msg::STAGE_SUCCEEDED_PROGRESSING,
    );
    p.set(
        &mut stage.conditions,
        types::SUCCEEDED,
        TRUE,
        r,
        msg::STAGE_SUCCEEDED,
    );
    Ok(Flow::Completed)
}

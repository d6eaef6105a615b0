//! Validation of an initialized run on every reconcile (spec §9.4): the frozen plan must still
//! match the live placement, policy snapshot, bindings and member labels, and the recorded
//! progress must be consistent. Any mismatch is terminal.

use crate::staged::concurrency::effective_max_concurrency;
use crate::staged::staged_update_run::{StageUpdatingStatus, StagedUpdateRunStatus};
use crate::types::condition::{find_condition, types, TRUE};

use super::init::{check_placement, collect_bindings, compute_stages, latest_policy, RunMeta};
use super::views::{BindingView, World};
use super::{is_true, RunError};

/// Where the run stands after validation (spec §9.4 step 6 "Result").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// A normal stage is updating (or next to update).
    Stage(usize),
    /// All normal stages finished; the deletion stage is next or running.
    Deletion,
    /// The deletion stage already succeeded (index −1 upstream).
    Done,
}

/// The outcome of a successful validation.
#[derive(Debug)]
pub struct Validated<'w> {
    pub position: Position,
    pub selected: Vec<&'w BindingView>,
    pub to_delete: Vec<&'w BindingView>,
}

/// Validates `status` against `world` (spec §9.4).
pub fn validate<'w>(
    run: &RunMeta,
    world: &'w World,
    status: &StagedUpdateRunStatus,
) -> Result<Validated<'w>, RunError> {
    let applied = check_placement(world)?;
    let recorded = status.applied_strategy.clone().unwrap_or_default();
    if applied != recorded {
        return Err(RunError::user(format!(
            "the applyStrategy in the updateRun is outdated, latest: {}, recorded: {}",
            json(&applied),
            json(&recorded)
        )));
    }
    let policy = latest_policy(run, world)?;
    let recorded_index = status
        .policy_snapshot_index_used
        .clone()
        .unwrap_or_default();
    if policy.index != recorded_index {
        return Err(RunError::terminal(format!(
            "the policy snapshot index used in the updateRun is outdated, latest: {}, recorded: {recorded_index}",
            policy.index
        )));
    }
    let recorded_count = status.policy_observed_cluster_count.unwrap_or_default();
    if policy.cluster_count != -1 && policy.cluster_count != recorded_count {
        return Err(RunError::terminal(format!(
            "the cluster count initialized in the updateRun is outdated, latest: {}, recorded: {recorded_count}",
            policy.cluster_count
        )));
    }
    let (selected, to_delete) = collect_bindings(run, world, &policy)?;

    let snapshot = status
        .staged_update_strategy_snapshot
        .as_ref()
        .ok_or_else(|| RunError::unexpected("the updateRun has nil updateStrategySnapshot"))?;
    let existing = status
        .stages_status
        .as_ref()
        .ok_or_else(|| RunError::unexpected("the updateRun has nil stagesStatus"))?;
    let deletion = status
        .deletion_stage_status
        .as_ref()
        .ok_or_else(|| RunError::unexpected("the updateRun has nil deletionStageStatus"))?;
    let fresh = compute_stages(run, world, snapshot, &selected)?;
    compare_stages(&fresh, existing)?;

    for b in &to_delete {
        if !deletion
            .clusters()
            .iter()
            .any(|c| c.cluster_name == b.spec.target_cluster)
        {
            return Err(RunError::terminal(format!(
                "the cluster `{}` to be deleted is not in the delete stage",
                b.spec.target_cluster
            )));
        }
    }

    let position = progress(snapshot, existing, deletion)?;
    Ok(Validated {
        position,
        selected,
        to_delete,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn compare_stages(
    fresh: &[StageUpdatingStatus],
    existing: &[StageUpdatingStatus],
) -> Result<(), RunError> {
    if fresh.len() != existing.len() {
        return Err(RunError::terminal(format!(
            "the number of stages in the updateRun has changed, new: {}, existing: {}",
            fresh.len(),
            existing.len()
        )));
    }
    for (i, (new, old)) in fresh.iter().zip(existing).enumerate() {
        if new.stage_name != old.stage_name {
            return Err(RunError::terminal(format!(
                "index `{i}` stage name in the updateRun has changed, new: {}, existing: {}",
                new.stage_name, old.stage_name
            )));
        }
        if new.clusters().len() != old.clusters().len() {
            return Err(RunError::terminal(format!(
                "the number of clusters in index `{i}` stage has changed, new: {}, existing: {}",
                new.clusters().len(),
                old.clusters().len()
            )));
        }
        for (j, (nc, oc)) in new.clusters().iter().zip(old.clusters()).enumerate() {
            if nc.cluster_name != oc.cluster_name {
                return Err(RunError::terminal(format!(
                    "the `{j}` cluster in the `{i}` stage has changed, new: {}, existing: {}",
                    nc.cluster_name, oc.cluster_name
                )));
            }
        }
    }
    Ok(())
}

fn progress(
    snapshot: &crate::staged::staged_update::StagedUpdateStrategySpec,
    stages: &[StageUpdatingStatus],
    deletion: &StageUpdatingStatus,
) -> Result<Position, RunError> {
    let mut updating: Option<usize> = None;
    let mut finished = 0usize; // stages 0..finished are finished
    for (i, stage) in stages.iter().enumerate() {
        let conds = stage.conditions.as_deref().unwrap_or_default();
        let name = &stage.stage_name;
        match find_condition(conds, types::SUCCEEDED) {
            Some(c) if c.status == TRUE => {
                if updating.is_some() || finished != i {
                    return Err(RunError::terminal(format!(
                        "the finished stage `{name}` does not directly follow the last finished stage"
                    )));
                }
                for cluster in stage.clusters() {
                    let cc = cluster.conditions.as_deref().unwrap_or_default();
                    if !is_true(cc, types::SUCCEEDED) {
                        return Err(RunError::terminal(format!(
                            "cluster `{}` in the finished stage `{name}` has not succeeded",
                            cluster.cluster_name
                        )));
                    }
                }
                finished = i + 1;
            }
            Some(c) => {
                return Err(RunError::terminal(format!(
                    "the stage `{name}` has failed, err: {}",
                    c.message
                )))
            }
            None if find_condition(conds, types::PROGRESSING).is_some() => {
                if let Some(u) = updating {
                    return Err(RunError::terminal(format!(
                        "the stage `{name}` is updating, but there is already a stage with index `{u}` updating"
                    )));
                }
                if finished != i {
                    return Err(RunError::terminal(format!(
                        "the updating stage `{name}` does not directly follow the last finished stage"
                    )));
                }
                let config = snapshot.stages.get(i);
                let m = effective_max_concurrency(
                    config.and_then(|s| s.max_concurrency.as_ref()),
                    stage.clusters().len(),
                )
                .map_err(RunError::terminal)?;
                let in_flight = stage
                    .clusters()
                    .iter()
                    .filter(|c| {
                        let cc = c.conditions.as_deref().unwrap_or_default();
                        is_true(cc, types::STARTED) && !is_true(cc, types::SUCCEEDED)
                    })
                    .count();
                if in_flight > m {
                    return Err(RunError::terminal(format!(
                        "the number of updating clusters `{in_flight}` in the updating stage `{name}` exceeds maxConcurrency `{m}`"
                    )));
                }
                updating = Some(i);
            }
            None => {}
        }
    }
    let deletion_conds = deletion.conditions.as_deref().unwrap_or_default();
    let deletion_succeeded = find_condition(deletion_conds, types::SUCCEEDED);
    if finished < stages.len() {
        let active = deletion_succeeded.is_some()
            || find_condition(deletion_conds, types::PROGRESSING).is_some_and(|c| c.status == TRUE);
        if active {
            return Err(RunError::terminal(format!(
                "the delete stage is active, but there are still stages updating, updatingStageIndex: {}",
                updating.unwrap_or(finished)
            )));
        }
        return Ok(Position::Stage(updating.unwrap_or(finished)));
    }
    match deletion_succeeded {
        Some(c) if c.status == TRUE => Ok(Position::Done),
        Some(c) => Err(RunError::terminal(format!(
            "the delete stage has failed, err: {}",
            c.message
        ))),
        None => Ok(Position::Deletion),
    }
}

//! Initialization of a run (spec §9.3) and the lookups that validation repeats (§9.4).

use std::collections::BTreeSet;

use crate::overrides::matching;
use crate::placement::binding::BindingState;
use crate::placement::resource_placement::{
    defaulted_apply_strategy, ApplyStrategy, PlacementType, RolloutStrategyType,
};
use crate::staged::stage_plan::{self, ClusterLabels};
use crate::staged::staged_update::{strategy_snapshot, StagedUpdateStrategySpec};
use crate::staged::staged_update_run::{
    StageUpdatingStatus, StagedUpdateRunSpec, StagedUpdateRunStatus,
};
use crate::types::condition::{self, messages, reasons, types, Time};
use crate::types::names;

use super::views::{BindingView, ResourceSnapshotView, World};
use super::RunError;

/// The run's identity and spec.
#[derive(Clone, Copy, Debug)]
pub struct RunMeta<'a> {
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    pub generation: i64,
    pub spec: &'a StagedUpdateRunSpec,
}

impl RunMeta<'_> {
    /// `ns/placement` (`/placement` for cluster scope), as the error texts print it.
    pub fn placement_key(&self) -> String {
        names::object_key(self.namespace, &self.spec.placement_name)
    }

    fn key(&self, name: &str) -> String {
        names::object_key(self.namespace, name)
    }
}

/// Step 1: the placement exists and is External; returns its defaulted apply strategy.
pub fn check_placement(world: &World) -> Result<ApplyStrategy, RunError> {
    let placement = world
        .placement
        .as_ref()
        .ok_or_else(|| RunError::user("parent placement not found"))?;
    let strategy_type = placement.strategy_type();
    if strategy_type != RolloutStrategyType::External {
        return Err(RunError::user(format!(
            "parent placement does not have an external rollout strategy, current strategy: {}",
            strategy_type.as_str()
        )));
    }
    Ok(defaulted_apply_strategy(
        placement
            .strategy
            .as_ref()
            .and_then(|s| s.apply_strategy.as_ref()),
    ))
}

/// The latest policy snapshot as used by a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyUse {
    pub name: String,
    pub index: String,
    /// −1 while provisional (PickAll or nil policy).
    pub cluster_count: i32,
}

/// Step 2: the latest policy snapshot, its index and expected cluster count.
pub fn latest_policy(run: &RunMeta, world: &World) -> Result<PolicyUse, RunError> {
    let snapshot = match world.latest_policy_snapshots.as_slice() {
        [] => {
            return Err(RunError::terminal(format!(
                "no latest policy snapshot found for placement {}",
                run.placement_key()
            )))
        }
        [one] => one,
        many => {
            return Err(RunError::unexpected(format!(
                "multiple active policy snapshots found for placement {}: got {}, want 1",
                run.placement_key(),
                many.len()
            )))
        }
    };
    let index = snapshot
        .labels
        .get(names::POLICY_INDEX_LABEL)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            RunError::unexpected(format!(
                "policy snapshot `{}` does not have a policy index label",
                run.key(&snapshot.name)
            ))
        })?
        .clone();
    let placement_type = snapshot
        .policy
        .as_ref()
        .and_then(|p| p.placement_type)
        .unwrap_or_default();
    let cluster_count = match placement_type {
        PlacementType::PickN => snapshot
            .annotations
            .get(names::NUMBER_OF_CLUSTERS_ANNOTATION)
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| {
                RunError::unexpected(format!(
                    "policy snapshot `{}` doesn't have valid cluster count annotation",
                    run.key(&snapshot.name)
                ))
            })?,
        PlacementType::PickFixed => snapshot
            .policy
            .as_ref()
            .and_then(|p| p.cluster_names.as_ref())
            .map_or(0, |n| n.len() as i32),
        PlacementType::PickAll => -1,
    };
    let not_scheduled = || {
        format!(
            "policy snapshot `{}` not fully scheduled yet",
            snapshot.name
        )
    };
    match condition::find_condition_at(&snapshot.conditions, types::SCHEDULED, snapshot.generation)
    {
        Some(c) if c.status == condition::TRUE => {}
        // The scheduler decided it cannot place as the policy asks: KubeFleet's terminal failure.
        Some(c) if c.status == condition::FALSE => return Err(RunError::terminal(not_scheduled())),
        // Not decided yet — a run applied together with its placement. KubeFleet fails such a
        // run for good (spec §9.3 step 2, a listed quirk); fleetdeck waits for the scheduler.
        _ => return Err(RunError::Retriable(not_scheduled())),
    }
    Ok(PolicyUse {
        name: snapshot.name.clone(),
        index,
        cluster_count,
    })
}

/// Step 3: bindings of the latest policy snapshot, split into selected and to-delete, by name.
pub fn collect_bindings<'w>(
    run: &RunMeta,
    world: &'w World,
    policy: &PolicyUse,
) -> Result<(Vec<&'w BindingView>, Vec<&'w BindingView>), RunError> {
    let mut bindings: Vec<&BindingView> = world.bindings.iter().collect();
    bindings.sort_by(|a, b| a.name.cmp(&b.name));
    let (mut selected, mut to_delete) = (Vec::new(), Vec::new());
    for b in bindings {
        let on_latest = b.spec.scheduling_policy_snapshot_name.as_deref() == Some(&policy.name);
        match (on_latest, b.spec.state) {
            (_, BindingState::Unscheduled) => to_delete.push(b),
            (true, _) => selected.push(b),
            (false, state) => {
                return Err(RunError::Retriable(format!(
                    "binding `{}` with old policy snapshot `{}` has state {}, we might observe a transient state, need retry",
                    run.key(&b.name),
                    run.key(b.spec.scheduling_policy_snapshot_name.as_deref().unwrap_or_default()),
                    state.as_str()
                )))
            }
        }
    }
    if selected.is_empty() && to_delete.is_empty() {
        return Err(RunError::terminal(format!(
            "no scheduled or to-be-deleted bindings found for the latest policy snapshot {}",
            run.key(&policy.name)
        )));
    }
    Ok((selected, to_delete))
}

/// Step 4: the stages of `strategy` over live member labels and the selected bindings.
pub fn compute_stages(
    run: &RunMeta,
    world: &World,
    strategy: &StagedUpdateStrategySpec,
    selected: &[&BindingView],
) -> Result<Vec<StageUpdatingStatus>, RunError> {
    let targets: BTreeSet<String> = selected
        .iter()
        .map(|b| b.spec.target_cluster.clone())
        .collect();
    let strategy_key = run.key(&run.spec.staged_rollout_strategy_name);
    stage_plan::plan_stages(
        run.name,
        &strategy_key,
        &strategy.stages,
        world.members.iter().map(ClusterLabels::from),
        &targets,
    )
    .map_err(|e| {
        if e.is_client_error() {
            RunError::user(e)
        } else {
            RunError::terminal(e)
        }
    })
}

/// Step 5: the master snapshot of the requested (or latest) index; returns its index label.
pub fn resolve_resource_snapshot(run: &RunMeta, world: &World) -> Result<String, RunError> {
    let index_of = |s: &ResourceSnapshotView| {
        s.labels
            .get(names::RESOURCE_INDEX_LABEL)
            .and_then(|v| v.parse::<u64>().ok())
    };
    let is_master =
        |s: &&ResourceSnapshotView| s.annotations.contains_key(names::RESOURCE_HASH_ANNOTATION);
    let master = match run
        .spec
        .resource_snapshot_index
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        Some(raw) => {
            let index = raw.parse::<u64>().map_err(|_| {
                RunError::user(format!(
                    "invalid resource snapshot index `{raw}` provided, expected an integer >= 0"
                ))
            })?;
            let group: Vec<&ResourceSnapshotView> = world
                .resource_snapshots
                .iter()
                .filter(|s| index_of(s) == Some(index))
                .collect();
            if group.is_empty() {
                return Err(RunError::user(format!(
                    "no resourceSnapshots with index `{index}` found for placement `{}`",
                    run.placement_key()
                )));
            }
            group.into_iter().find(is_master)
        }
        // §10.3: the engine has run get-or-create before; the latest master is the result.
        None => {
            if let Some(e) = &world.resource_selection_error {
                return Err(RunError::user(e));
            }
            let masters = world.resource_snapshots.iter().filter(is_master);
            let labelled = masters.clone().find(|s| {
                s.labels
                    .get(names::IS_LATEST_SNAPSHOT_LABEL)
                    .map(String::as_str)
                    == Some("true")
            });
            let latest = labelled.or_else(|| masters.max_by_key(|s| index_of(s)));
            if latest.is_none() {
                return Err(RunError::Retriable(format!(
                    "no resource snapshot exists yet for placement `{}`",
                    run.placement_key()
                )));
            }
            latest
        }
    };
    let master = master.ok_or_else(|| {
        RunError::terminal(format!(
            "no master resourceSnapshot found for placement {}",
            run.placement_key()
        ))
    })?;
    master
        .labels
        .get(names::RESOURCE_INDEX_LABEL)
        .cloned()
        .ok_or_else(|| {
            RunError::unexpected(format!(
                "resource snapshot `{}` does not have a resource index label",
                run.key(&master.name)
            ))
        })
}

/// Initializes `status` (spec §9.3). Partial results stay in `status` on failure; terminal
/// failures also set `Initialized=False`. Retriable failures leave the conditions untouched.
pub fn initialize(
    run: &RunMeta,
    world: &World,
    status: &mut StagedUpdateRunStatus,
    now: &Time,
) -> Result<(), RunError> {
    let result = initialize_fields(run, world, status);
    let cond = match &result {
        Ok(()) => condition::new_condition(
            types::INITIALIZED,
            condition::TRUE,
            reasons::UPDATE_RUN_INITIALIZED_SUCCESSFULLY,
            messages::UPDATE_RUN_INITIALIZED,
            run.generation,
            now,
        ),
        Err(e @ RunError::Terminal(_)) => condition::new_condition(
            types::INITIALIZED,
            condition::FALSE,
            reasons::UPDATE_RUN_INITIALIZED_FAILED,
            &e.validation_message(),
            run.generation,
            now,
        ),
        Err(RunError::Retriable(_)) => return result,
    };
    condition::set_condition_opt(&mut status.conditions, cond);
    result
}

/// Whether initialization gets past steps 1–4 to the resource snapshot (spec §9.3 step 5). The
/// engine creates a run's snapshot group only then, as KubeFleet does: a run that fails earlier
/// (no strategy, placement not scheduled yet) leaves no snapshot behind.
pub fn reaches_snapshot_step(run: &RunMeta, world: &World) -> bool {
    steps_before_snapshot(run, world, &mut StagedUpdateRunStatus::default()).is_ok()
}

fn initialize_fields(
    run: &RunMeta,
    world: &World,
    status: &mut StagedUpdateRunStatus,
) -> Result<(), RunError> {
    steps_before_snapshot(run, world, status)?;
    let index = resolve_resource_snapshot(run, world)?;
    status.resource_snapshot_index_used = Some(index.clone());
    record_override_snapshots(run, world, &index, status)
}

/// placement-extras §1.10 (`recordOverrideSnapshots`): each stage cluster gets the latest override
/// snapshots that apply to it, frozen for the run; the deletion stage none. The placement is known
/// to overrides by `<ns>/<name>` for a namespaced run — upstream passes the bare name, so an RO
/// meant for the RP never matched a `StagedUpdateRun` (a listed quirk fleetdeck fixes).
fn record_override_snapshots(
    run: &RunMeta,
    world: &World,
    index: &str,
    status: &mut StagedUpdateRunStatus,
) -> Result<(), RunError> {
    let inputs = &world.overrides;
    let resources: Vec<serde_json::Value> = world
        .resource_snapshots
        .iter()
        .filter(|s| {
            s.labels
                .get(names::RESOURCE_INDEX_LABEL)
                .map(String::as_str)
                == Some(index)
        })
        .flat_map(|s| inputs.resources.get(&s.name).cloned().unwrap_or_default())
        .collect();
    let key = matching::placement_key(run.namespace, &run.spec.placement_name);
    let (cros, ros) = matching::matching_overrides(
        &key,
        &resources,
        &inputs.cluster_resource_overrides,
        &inputs.resource_overrides,
    );
    for stage in status.stages_status.iter_mut().flatten() {
        for cluster in stage.clusters.iter_mut().flatten() {
            let member = world
                .members
                .iter()
                .find(|m| m.name() == cluster.cluster_name)
                .ok_or_else(|| {
                    RunError::unexpected(format!(
                        "failed to get the member cluster {}",
                        cluster.cluster_name
                    ))
                })?;
            let found = matching::for_cluster(&cros, &ros, member.labels())
                .map_err(|e| RunError::unexpected(e.to_string()))?;
            cluster.cluster_resource_override_snapshots =
                (!found.cluster_resource_overrides.is_empty())
                    .then_some(found.cluster_resource_overrides);
            cluster.resource_override_snapshots =
                (!found.resource_overrides.is_empty()).then_some(found.resource_overrides);
        }
    }
    Ok(())
}

/// Spec §9.3 steps 1–4: placement, policy snapshot, bindings, strategy and stages.
fn steps_before_snapshot(
    run: &RunMeta,
    world: &World,
    status: &mut StagedUpdateRunStatus,
) -> Result<(), RunError> {
    status.applied_strategy = Some(check_placement(world)?);
    let policy = latest_policy(run, world)?;
    status.policy_snapshot_index_used = Some(policy.index.clone());
    status.policy_observed_cluster_count =
        (policy.cluster_count != 0).then_some(policy.cluster_count);
    let (selected, to_delete) = collect_bindings(run, world, &policy)?;
    let count = selected.len() as i32;
    if policy.cluster_count == -1 {
        status.policy_observed_cluster_count = (count != 0).then_some(count);
    } else if policy.cluster_count != count {
        return Err(RunError::unexpected(format!(
            "the number of selected bindings {count} is not equal to the observed cluster count {}",
            policy.cluster_count
        )));
    }
    let strategy = world.strategy.as_ref().ok_or_else(|| {
        RunError::user(format!(
            "referenced updateStrategy not found: `{}`",
            run.key(&run.spec.staged_rollout_strategy_name)
        ))
    })?;
    let snapshot = strategy_snapshot(strategy);
    status.staged_update_strategy_snapshot = Some(snapshot.clone());
    status.stages_status = Some(compute_stages(run, world, &snapshot, &selected)?);
    status.deletion_stage_status = Some(stage_plan::deletion_stage(
        to_delete.iter().map(|b| b.spec.target_cluster.clone()),
    ));
    Ok(())
}

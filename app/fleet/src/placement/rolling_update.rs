//! A `RollingUpdate` placement's rollout (spec §3.1 `strategy.rollingUpdate`, §10.2): how many
//! clusters may be in flight (`maxUnavailable`) and which bindings move to the latest master in
//! this pass. Pure: the placement controller reads the bindings, calls [`plan_rollout`] and
//! writes the [`RolloutEffects`], as the update-run controller does with `run::exec::Effects`.
//!
//! fleetdeck moves at most `maxUnavailable` bindings whose new resources are not yet available;
//! `maxSurge` and `unavailablePeriodSeconds` are not used (an available binding counts at once).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use thiserror::Error;

use crate::overrides::matching::ClusterOverrides;
use crate::placement::binding::{BindingState, ResourceBindingSpec, ResourceBindingStatus};
use crate::placement::binding_writes::BindingPatch;
use crate::placement::resource_placement::{
    defaulted_apply_strategy, RollingUpdateConfig, RolloutStrategy,
};
use crate::staged::concurrency::{effective_max_concurrency, ConcurrencyError};
use crate::types::condition::{
    is_true_at, messages, new_condition, reasons, types, Condition, Time, TRUE,
};
use crate::{FleetKind, Object};

/// `maxUnavailable` when the placement does not say (spec §3.1, the CRD default).
pub const DEFAULT_MAX_UNAVAILABLE: &str = "25%";

/// A `maxUnavailable` that the run's `maxConcurrency` rules refuse (spec §7.1: an integer of at
/// least 1, or 1%–100%).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RollingUpdateError {
    #[error("maxUnavailable must be at least 1, got {0}")]
    TooSmall(i32),
    #[error(
        "invalid maxUnavailable {0:?}: must be an integer or a percentage between 1% and 100%"
    )]
    Invalid(String),
}

/// How many of `clusters` may be unavailable at once: `maxUnavailable` through the run's
/// `maxConcurrency` maths (a percentage rounded down, at least 1; an integer as is), with the
/// placement's own default of 25% instead of the run's 1.
pub fn max_unavailable(
    config: Option<&RollingUpdateConfig>,
    clusters: usize,
) -> Result<usize, RollingUpdateError> {
    let default = IntOrString::String(DEFAULT_MAX_UNAVAILABLE.to_string());
    let value = config
        .and_then(|c| c.max_unavailable.as_ref())
        .unwrap_or(&default);
    effective_max_concurrency(Some(value), clusters).map_err(|e| match e {
        ConcurrencyError::TooSmall(n) => RollingUpdateError::TooSmall(n),
        ConcurrencyError::Invalid(s) => RollingUpdateError::Invalid(s),
    })
}

/// A binding as the rollout sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RolloutBinding {
    pub name: String,
    pub state: BindingState,
    pub resource_snapshot: Option<String>,
    /// `Available` True at the binding's generation (spec §7.4 observedGeneration rule), or
    /// under ReportDiff `DiffReported` True (KubeFleet's rollout counts a binding whose diff is
    /// reported as ready, placement-extras §2.6).
    pub available: bool,
    /// Has a deletion timestamp.
    pub deleting: bool,
    /// The cluster it targets.
    pub target_cluster: String,
    /// The override snapshots its spec lists.
    pub overrides: ClusterOverrides,
    /// The override snapshots it should list (placement-extras §1.7: recomputed on every
    /// rollout pass from the latest override snapshots); `None` leaves the lists alone.
    pub wanted_overrides: Option<ClusterOverrides>,
}

impl RolloutBinding {
    pub fn of<K>(binding: &Object<K>) -> Self
    where
        K: FleetKind<Spec = ResourceBindingSpec, Status = ResourceBindingStatus>,
    {
        let conditions = binding
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default();
        RolloutBinding {
            name: binding.name().to_string(),
            state: binding.spec.state,
            resource_snapshot: binding.spec.resource_snapshot_name.clone(),
            available: is_true_at(conditions, types::AVAILABLE, binding.generation())
                || is_true_at(conditions, types::DIFF_REPORTED, binding.generation()),
            deleting: binding.metadata.deletion_timestamp.is_some(),
            target_cluster: binding.spec.target_cluster.clone(),
            overrides: ClusterOverrides {
                cluster_resource_overrides: binding
                    .spec
                    .cluster_resource_override_snapshots
                    .clone()
                    .unwrap_or_default(),
                resource_overrides: binding
                    .spec
                    .resource_override_snapshots
                    .clone()
                    .unwrap_or_default(),
            },
            wanted_overrides: None,
        }
    }
}

/// One binding moved to the latest master: patch its spec, then replace its `RolloutStarted`
/// with `rollout_started` stamped at the generation the patch gave it ([`with_rollout_started`];
/// the member agent acts on it only at that generation, spec §15 item 6).
#[derive(Clone, Debug, PartialEq)]
pub struct RolloutMove {
    pub name: String,
    pub patch: BindingPatch,
    pub rollout_started: Condition,
}

/// The writes of one rollout pass, in order: deletions, then moves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RolloutEffects {
    /// `Unscheduled` bindings to delete: the member agent removes what they placed before they
    /// go (an External placement leaves this to an update run's deletion stage).
    pub deletes: Vec<String>,
    pub moves: Vec<RolloutMove>,
}

/// Moves bindings (in the order given) to `master`, keeping at most `maxUnavailable` of the
/// active ones in flight: on `master` but not yet available.
pub fn plan_rollout(
    bindings: &[RolloutBinding],
    master: &str,
    strategy: Option<&RolloutStrategy>,
    now: &Time,
) -> Result<RolloutEffects, RollingUpdateError> {
    let deletes = bindings
        .iter()
        .filter(|b| b.state == BindingState::Unscheduled && !b.deleting)
        .map(|b| b.name.clone())
        .collect();
    let active: Vec<&RolloutBinding> = bindings
        .iter()
        .filter(|b| b.state != BindingState::Unscheduled)
        .collect();
    let limit = max_unavailable(
        strategy.and_then(|s| s.rolling_update.as_ref()),
        active.len(),
    )?;
    let on_master = |b: &RolloutBinding| b.resource_snapshot.as_deref() == Some(master);
    let in_flight = active
        .iter()
        .filter(|b| on_master(b) && !b.available)
        .count();
    let budget = limit.saturating_sub(in_flight);
    let apply_strategy = defaulted_apply_strategy(strategy.and_then(|s| s.apply_strategy.as_ref()));
    let rollout_started = new_condition(
        types::ROLLOUT_STARTED,
        TRUE,
        reasons::ROLLOUT_STARTED,
        &messages::rollout_started(master),
        0,
        now,
    );
    // A changed override list is a new rollout of the same snapshot for that cluster.
    let overrides_current = |b: &RolloutBinding| {
        b.wanted_overrides
            .as_ref()
            .is_none_or(|wanted| *wanted == b.overrides)
    };
    let moves = active
        .into_iter()
        .filter(|b| !(b.state == BindingState::Bound && on_master(b) && overrides_current(b)))
        .take(budget)
        .map(|b| {
            let mut patch = BindingPatch::roll_out(master, apply_strategy.clone());
            if let (Some(wanted), Some(spec)) = (&b.wanted_overrides, patch.spec.as_mut()) {
                spec.set_overrides(wanted);
            }
            RolloutMove {
                name: b.name.clone(),
                patch,
                rollout_started: rollout_started.clone(),
            }
        })
        .collect();
    Ok(RolloutEffects { deletes, moves })
}

/// `conditions` with `RolloutStarted` replaced by `started` at `generation`.
pub fn with_rollout_started(
    conditions: Option<&[Condition]>,
    started: &Condition,
    generation: i64,
) -> Vec<Condition> {
    let mut conditions: Vec<Condition> = conditions
        .unwrap_or_default()
        .iter()
        .filter(|c| c.type_ != types::ROLLOUT_STARTED)
        .cloned()
        .collect();
    let mut started = started.clone();
    started.observed_generation = Some(generation);
    conditions.push(started);
    conditions
}

#[cfg(test)]
#[path = "rolling_update_tests.rs"]
mod tests;

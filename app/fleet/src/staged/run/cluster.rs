//! One cluster of a stage (spec §9.5.A.4): the binding's result, whether it is in sync with the
//! run, the binding write that starts it, and stuck detection.

use std::time::Duration;

use crate::placement::binding::BindingState;
use crate::staged::staged_update_run::{ClusterUpdatingStatus, StagedUpdateRunStatus};
use crate::types::condition::{
    self as cond, find_condition, messages as msg, reasons, types, Condition, FALSE, TRUE,
};

use super::exec::{BindingUpdate, Pass};
use super::init::RunMeta;
use super::views::BindingView;

/// Binding outcome at its generation (spec §9.5 "Cluster result check").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterResult {
    Succeeded,
    ApplyFailed,
    InProgress,
}

pub fn cluster_result(b: &BindingView) -> ClusterResult {
    let at = |t: &str| cond::find_condition_at(&b.conditions, t, b.generation);
    let is = |t: &str, s: &str| at(t).is_some_and(|c| c.status == s);
    if is(types::AVAILABLE, TRUE) || is(types::DIFF_REPORTED, TRUE) {
        return ClusterResult::Succeeded;
    }
    let failed = is(types::DIFF_REPORTED, FALSE)
        || [
            types::OVERRIDDEN,
            types::WORK_SYNCHRONIZED,
            types::APPLIED,
            types::AVAILABLE,
        ]
        .iter()
        .filter_map(|t| at(t))
        .any(|c| {
            c.status == FALSE && !reasons::IN_PROGRESS_BINDING_REASONS.contains(&c.reason.as_str())
        });
    if failed {
        ClusterResult::ApplyFailed
    } else {
        ClusterResult::InProgress
    }
}

pub(crate) fn expected_snapshot(run: &RunMeta, status: &StagedUpdateRunStatus) -> String {
    format!(
        "{}-{}-snapshot",
        run.spec.placement_name,
        status
            .resource_snapshot_index_used
            .as_deref()
            .unwrap_or_default()
    )
}

/// Binding matches the cluster entry (spec §9.5 "In sync"); absent and empty lists are equal.
pub(crate) fn in_sync(
    b: &BindingView,
    c: &ClusterUpdatingStatus,
    snapshot: &str,
    status: &StagedUpdateRunStatus,
) -> bool {
    b.spec.resource_snapshot_name.as_deref() == Some(snapshot)
        && b.spec
            .resource_override_snapshots
            .as_deref()
            .unwrap_or_default()
            == c.resource_override_snapshots.as_deref().unwrap_or_default()
        && b.spec
            .cluster_resource_override_snapshots
            .as_deref()
            .unwrap_or_default()
            == c.cluster_resource_override_snapshots
                .as_deref()
                .unwrap_or_default()
        && b.spec.apply_strategy == status.applied_strategy
}

pub(crate) fn rollout_current(b: &BindingView) -> bool {
    cond::is_true_at(&b.conditions, types::ROLLOUT_STARTED, b.generation)
}
pub(crate) fn is_stuck(p: &Pass, cluster: &ClusterUpdatingStatus) -> bool {
    cluster
        .conditions
        .as_deref()
        .and_then(|c| find_condition(c, types::STARTED))
        .is_some_and(|c| p.elapsed_since(&c.last_transition_time) > p.timing.stuck_threshold)
}

/// Time until an in-flight cluster crosses the stuck threshold, so the run reports
/// `UpdateRunStuck` on time even when the fallback poll is long. Condition times have second
/// precision on the wire, hence the extra second.
pub(crate) fn until_stuck(p: &Pass, cluster: &ClusterUpdatingStatus) -> Duration {
    let started = cluster
        .conditions
        .as_deref()
        .and_then(|c| find_condition(c, types::STARTED))
        .map(|c| p.elapsed_since(&c.last_transition_time))
        .unwrap_or_default();
    p.timing.stuck_threshold.saturating_sub(started) + Duration::from_secs(1)
}

pub(crate) fn earliest(a: Duration, b: Duration) -> Duration {
    a.min(b)
}

/// Run Progressing after a pass over clusters (§9.5.A.5); `otherwise` overrides the default.
pub(crate) fn set_stuck_or_progressing(
    p: &Pass,
    run_conds: &mut Option<Vec<Condition>>,
    stuck: &[String],
    stage: &str,
    otherwise: Option<(&str, &str, &str)>,
) {
    if !stuck.is_empty() {
        let names: Vec<&str> = stuck.iter().map(String::as_str).collect();
        let m = msg::update_run_stuck(&names, stage);
        p.set(
            run_conds,
            types::PROGRESSING,
            FALSE,
            reasons::UPDATE_RUN_STUCK,
            &m,
        );
    } else {
        let (s, r, m) = otherwise.unwrap_or((
            TRUE,
            reasons::UPDATE_RUN_PROGRESSING,
            msg::UPDATE_RUN_PROGRESSING,
        ));
        p.set(run_conds, types::PROGRESSING, s, r, m);
    }
}

pub(crate) fn cluster_succeeded(p: &Pass, cluster: &mut ClusterUpdatingStatus) {
    let r = reasons::CLUSTER_UPDATING_SUCCEEDED;
    p.set(
        &mut cluster.conditions,
        types::SUCCEEDED,
        TRUE,
        r,
        msg::CLUSTER_SUCCEEDED,
    );
}

pub(crate) fn binding_update(
    p: &Pass,
    b: &BindingView,
    c: &ClusterUpdatingStatus,
    snapshot: &str,
    status: &StagedUpdateRunStatus,
) -> BindingUpdate {
    let mut spec = b.spec.clone();
    spec.state = BindingState::Bound;
    spec.resource_snapshot_name = Some(snapshot.to_string());
    spec.resource_override_snapshots = c
        .resource_override_snapshots
        .clone()
        .filter(|v| !v.is_empty());
    spec.cluster_resource_override_snapshots = c
        .cluster_resource_override_snapshots
        .clone()
        .filter(|v| !v.is_empty());
    spec.apply_strategy = status.applied_strategy.clone();
    let message = format!(
        "Detected the new changes on the resources and started the rollout process, resourceSnapshotIndex: {}, updateRun: {}",
        p.run.spec.resource_snapshot_index.as_deref().unwrap_or_default(),
        p.run.name
    );
    BindingUpdate {
        name: b.name.clone(),
        spec,
        rollout_started: cond::new_condition(
            types::ROLLOUT_STARTED,
            TRUE,
            reasons::ROLLOUT_STARTED,
            &message,
            b.generation,
            p.now,
        ),
    }
}

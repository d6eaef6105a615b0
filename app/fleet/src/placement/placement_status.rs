//! A placement's status from its schedule and its bindings (spec §3.3). Pure: the controller
//! gathers one [`ClusterView`] per scheduled cluster and writes what [`derive`] returns.

use crate::placement::resource_placement::{
    NamespacedName, PerClusterPlacementStatus, PlacementStatus, ResourceIdentifier,
};
use crate::placement::resource_placement::{PlacementPolicy, PlacementType};
use crate::placement::scheduling::{picked_reason, Schedule};
use crate::types::condition::{
    find_condition, messages, new_condition, reasons, types, Condition, Time, FALSE, TRUE, UNKNOWN,
};

/// The per-cluster condition types a binding carries, in rollout order.
pub const BINDING_CONDITIONS: [&str; 5] = [
    "RolloutStarted",
    "Overridden",
    "WorkSynchronized",
    "Applied",
    "Available",
];

/// One scheduled cluster as its binding shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterView {
    pub cluster: String,
    /// The scheduler's reason for picking it.
    pub reason: String,
    pub affinity_score: i32,
    /// Index of the binding's resource snapshot, when it has one.
    pub resource_index: Option<String>,
    /// The binding's conditions that are current (at the binding's generation).
    pub conditions: Vec<Condition>,
    pub failed_placements: Option<Vec<serde_json::Value>>,
    pub drifted_placements: Option<Vec<serde_json::Value>>,
    pub diffed_placements: Option<Vec<serde_json::Value>>,
    /// The binding's override snapshots, once its `RolloutStarted` is True at its generation
    /// (placement-extras §1.7).
    pub applicable_cluster_resource_overrides: Vec<String>,
    pub applicable_resource_overrides: Vec<NamespacedName>,
}

/// Everything [`derive`] needs besides the clusters.
#[derive(Clone, Debug)]
pub struct PlacementFacts {
    /// `ClusterResourcePlacement` or `ResourcePlacement`: the condition type prefix.
    pub prefix: &'static str,
    /// `StagedUpdateRun` kind the External messages point at.
    pub run_kind: &'static str,
    pub generation: i64,
    pub external: bool,
    /// The placement's apply strategy is `ReportDiff`: its clusters report `DiffReported`
    /// instead of `Applied` and `Available`.
    pub report_diff: bool,
    pub fulfilled: bool,
    pub scheduled_count: usize,
    /// The resources of the snapshot every cluster observes, if they agree.
    pub selected_resources: Vec<ResourceIdentifier>,
    /// Reasons of the clusters the policy wanted but could not get ([`failed_to_schedule`]).
    pub failed_to_schedule: Vec<String>,
}

/// placement-extras §3.6: one entry per cluster a PickN (N − selected) or PickFixed (names −
/// selected) policy could not get, at most one per unselected decision, carrying that
/// decision's reason in order. PickAll wants no count, so none.
pub fn failed_to_schedule(policy: Option<&PlacementPolicy>, schedule: &Schedule) -> Vec<String> {
    let wanted = match policy.and_then(|p| p.placement_type).unwrap_or_default() {
        PlacementType::PickN => policy
            .and_then(|p| p.number_of_clusters)
            .map_or(0, |n| n.max(0) as usize),
        PlacementType::PickFixed => policy
            .and_then(|p| p.cluster_names.as_ref())
            .map_or(0, Vec::len),
        PlacementType::PickAll => return Vec::new(),
    };
    let missing = wanted.saturating_sub(schedule.selected.len());
    schedule
        .decisions
        .iter()
        .filter(|d| !d.selected)
        .take(missing)
        .map(|d| d.reason.clone().unwrap_or_default())
        .collect()
}

/// The index every cluster observes, if they agree on a non-empty one. As in KubeFleet, a
/// cluster without a snapshot counts as observing `""` (placement-extras §5.1 step 2).
pub fn common_index(clusters: &[ClusterView]) -> Option<String> {
    let index = |c: &ClusterView| c.resource_index.clone().unwrap_or_default();
    let first = index(clusters.first()?);
    (!first.is_empty() && clusters.iter().all(|c| index(c) == first)).then_some(first)
}

/// Why an External placement's rollout state is Unknown (placement-extras §5.2), or `None` when
/// the normal conditions follow (or no cluster is selected: `…Scheduled` alone).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalUnknown {
    /// The clusters observe different indices.
    DifferentIndices,
    /// Every cluster observes `""`.
    NoneObserved,
    /// All agree on an index, but this cluster (the first in decision order) has a per-cluster
    /// `RolloutStarted` neither True nor False at the placement's generation.
    ClusterNotStarted { cluster: String },
}

impl ExternalUnknown {
    /// KubeFleet's message, word for word (`setPlacementStatus`, External branch).
    pub fn message(&self, run_kind: &str) -> String {
        const PREFIX: &str = "Rollout is controlled by an external controller and";
        match self {
            Self::DifferentIndices => format!(
                "{PREFIX} different resource snapshot versions are observed across clusters"
            ),
            Self::NoneObserved => format!(
                "{PREFIX} no resource snapshot name is observed across clusters. To determine rollout status, check the {run_kind} resources with spec.placementName matching this placement"
            ),
            Self::ClusterNotStarted { cluster } => {
                format!("{PREFIX} cluster {cluster} is in RolloutStarted Unknown state")
            }
        }
    }
}

/// placement-extras §5.1 step 4 over the selected clusters and their per-cluster statuses.
pub fn external_unknown(
    clusters: &[ClusterView],
    per_cluster: &[PerClusterPlacementStatus],
) -> Option<ExternalUnknown> {
    let first = clusters.first()?;
    let index = |c: &ClusterView| c.resource_index.clone().unwrap_or_default();
    if clusters.iter().any(|c| index(c) != index(first)) {
        return Some(ExternalUnknown::DifferentIndices);
    }
    if index(first).is_empty() {
        return Some(ExternalUnknown::NoneObserved);
    }
    per_cluster
        .iter()
        .find(|p| {
            let conditions = p.conditions.as_deref().unwrap_or_default();
            find_condition(conditions, types::ROLLOUT_STARTED)
                .is_none_or(|k| k.status != TRUE && k.status != FALSE)
        })
        .map(|p| ExternalUnknown::ClusterNotStarted {
            cluster: p.cluster_name.clone().unwrap_or_default(),
        })
}

pub fn derive(facts: &PlacementFacts, clusters: &[ClusterView], now: &Time) -> PlacementStatus {
    let gen = facts.generation;
    let cond = |suffix: &str, status: &str, reason: &str, message: String| {
        new_condition(
            &format!("{}{suffix}", facts.prefix),
            status,
            reason,
            &message,
            gen,
            now,
        )
    };
    let mut conditions = vec![if facts.fulfilled {
        cond(
            "Scheduled",
            TRUE,
            reasons::SCHEDULING_POLICY_FULFILLED,
            messages::scheduling_policy_fulfilled(facts.scheduled_count),
        )
    } else {
        cond(
            "Scheduled",
            FALSE,
            reasons::SCHEDULING_POLICY_UNFULFILLED,
            messages::scheduling_policy_unfulfilled(facts.scheduled_count),
        )
    }];
    let placement_statuses: Vec<PerClusterPlacementStatus> = clusters
        .iter()
        .map(|c| per_cluster(facts, c, now))
        .collect();
    let common = common_index(clusters);
    let unknown = facts
        .external
        .then(|| external_unknown(clusters, &placement_statuses))
        .flatten();
    // §3.6: the clusters the policy could not get follow the selected ones, without a name.
    let mut placement_statuses = placement_statuses;
    placement_statuses.extend(facts.failed_to_schedule.iter().map(|reason| {
        PerClusterPlacementStatus {
            conditions: Some(vec![new_condition(
                types::SCHEDULED,
                FALSE,
                reasons::SCHEDULE_FAILED,
                reason,
                gen,
                now,
            )]),
            ..PerClusterPlacementStatus::default()
        }
    }));

    if let Some(unknown) = unknown {
        conditions.push(cond(
            "RolloutStarted",
            UNKNOWN,
            reasons::ROLLOUT_CONTROLLED_BY_EXTERNAL_CONTROLLER,
            unknown.message(facts.run_kind),
        ));
        // placement-extras §5.2: only the "same index, stale cluster" case keeps the index
        // and the resources of its snapshot group.
        return match unknown {
            ExternalUnknown::ClusterNotStarted { .. } => status(
                conditions,
                placement_statuses,
                common,
                facts.selected_resources.clone(),
            ),
            _ => status(conditions, placement_statuses, None, Vec::new()),
        };
    }
    if clusters.is_empty() {
        return status(
            conditions,
            placement_statuses,
            common,
            facts.selected_resources.clone(),
        );
    }
    // Each later condition is shown only while the earlier ones are all True.
    let (ok, bad_reason, bad_message) = (
        "All required clusters have started the rollout process",
        "RolloutNotStartedYet",
        "some clusters have not started the rollout process yet",
    );
    let all_started = clusters.iter().all(|c| {
        find_condition(&c.conditions, types::ROLLOUT_STARTED).is_some_and(|k| k.status == TRUE)
    });
    if !all_started {
        let any_false = clusters.iter().any(|c| {
            find_condition(&c.conditions, types::ROLLOUT_STARTED).is_some_and(|k| k.status == FALSE)
        });
        let status_ = if any_false { FALSE } else { UNKNOWN };
        conditions.push(cond(
            "RolloutStarted",
            status_,
            bad_reason,
            bad_message.into(),
        ));
        return status(
            conditions,
            placement_statuses,
            common,
            facts.selected_resources.clone(),
        );
    }
    conditions.push(cond(
        "RolloutStarted",
        TRUE,
        reasons::ROLLOUT_STARTED,
        ok.into(),
    ));
    let (overridden_condition, all_overridden) = overridden(clusters, &placement_statuses);
    conditions.push(cond(
        types::OVERRIDDEN,
        overridden_condition.0,
        overridden_condition.1,
        overridden_condition.2,
    ));
    if all_overridden {
        // placement-extras §2.11: Unknown if any cluster is, else False if any is, else True,
        // each counting its clusters; the first type not True ends the list.
        for type_ in &cluster_condition_types(facts.report_diff)[3..] {
            let count = |s: &str| {
                placement_statuses
                    .iter()
                    .take(clusters.len())
                    .filter(|p| {
                        let status_ = p
                            .conditions
                            .as_deref()
                            .and_then(|cs| find_condition(cs, type_))
                            .map_or(UNKNOWN, |k| k.status.as_str());
                        status_ == s || (s == UNKNOWN && status_ != TRUE && status_ != FALSE)
                    })
                    .count()
            };
            let (unknown, failed) = (count(UNKNOWN), count(FALSE));
            let (status_, n) = match (unknown, failed) {
                (0, 0) => (TRUE, clusters.len()),
                (0, n) => (FALSE, n),
                (n, _) => (UNKNOWN, n),
            };
            let (reason, message) = placement_condition(type_, status_, n);
            conditions.push(cond(type_, status_, reason, message));
            if status_ != TRUE {
                break;
            }
        }
    }
    status(
        conditions,
        placement_statuses,
        common,
        facts.selected_resources.clone(),
    )
}

/// The placement's `…Overridden` as `(status, reason, message)` and whether it is True
/// (placement-extras §1.9, KubeFleet's `setPlacementConditions`): Unknown before False, each
/// counting its clusters; True says whether any cluster has overrides.
fn overridden(
    clusters: &[ClusterView],
    per_cluster: &[PerClusterPlacementStatus],
) -> ((&'static str, &'static str, String), bool) {
    fn status_of(c: &ClusterView) -> Option<&str> {
        find_condition(&c.conditions, types::OVERRIDDEN).map(|k| k.status.as_str())
    }
    let unknown = clusters
        .iter()
        .filter(|c| !matches!(status_of(c), Some(TRUE) | Some(FALSE)))
        .count();
    let failed = clusters
        .iter()
        .filter(|c| status_of(c) == Some(FALSE))
        .count();
    if unknown > 0 {
        return (
            (
                UNKNOWN,
                reasons::OVERRIDDEN_PENDING,
                messages::placement_override_pending(unknown),
            ),
            false,
        );
    }
    if failed > 0 {
        return (
            (
                FALSE,
                reasons::OVERRIDDEN_FAILED,
                messages::placement_override_failed(failed),
            ),
            false,
        );
    }
    let any_override = per_cluster.iter().any(|p| {
        p.applicable_cluster_resource_overrides
            .as_ref()
            .is_some_and(|v| !v.is_empty())
            || p.applicable_resource_overrides
                .as_ref()
                .is_some_and(|v| !v.is_empty())
    });
    let condition = if any_override {
        (
            TRUE,
            reasons::OVERRIDDEN_SUCCEEDED,
            messages::placement_overridden(clusters.len()),
        )
    } else {
        (
            TRUE,
            reasons::NO_OVERRIDE_SPECIFIED,
            messages::NO_OVERRIDE_SPECIFIED.to_string(),
        )
    };
    (condition, true)
}

/// KubeFleet's answer to resource selectors it cannot follow (an unknown kind, a namespaced
/// kind under a cluster-scoped placement, …): `…Scheduled` False, reason
/// `InvalidResourceSelectors`, set into the placement's `conditions`; the rest of its status is
/// left as it was. Returns whether anything changed; the placement waits for its spec to change.
pub fn set_invalid_selectors(
    conditions: &mut Option<Vec<Condition>>,
    prefix: &str,
    error: &str,
    generation: i64,
    now: &Time,
) -> bool {
    crate::types::condition::set_condition_opt(
        conditions,
        new_condition(
            &format!("{prefix}Scheduled"),
            FALSE,
            INVALID_RESOURCE_SELECTORS,
            &format!("The resource selectors are invalid: {error}"),
            generation,
            now,
        ),
    )
}

pub const INVALID_RESOURCE_SELECTORS: &str = "InvalidResourceSelectors";

/// Standard condition semantics (spec §15 item 3) for a freshly derived status: a condition whose
/// status did not change keeps its `lastTransitionTime` from `old`, the placement's own and each
/// cluster's alike. Without it every reconcile would stamp new times and write the status again.
pub fn keep_transition_times(status: &mut PlacementStatus, old: Option<&PlacementStatus>) {
    let Some(old) = old else {
        return;
    };
    fn keep(new: &mut [Condition], old: &[Condition]) {
        for c in new {
            if let Some(prev) = old
                .iter()
                .find(|o| o.type_ == c.type_ && o.status == c.status)
            {
                c.last_transition_time = prev.last_transition_time.clone();
            }
        }
    }
    if let (Some(new), Some(prev)) = (status.conditions.as_mut(), old.conditions.as_ref()) {
        keep(new, prev);
    }
    let old_clusters = old.placement_statuses.as_deref().unwrap_or_default();
    for cluster in status.placement_statuses.iter_mut().flatten() {
        let prev = old_clusters
            .iter()
            .find(|o| o.cluster_name == cluster.cluster_name)
            .and_then(|o| o.conditions.as_ref());
        if let (Some(new), Some(prev)) = (cluster.conditions.as_mut(), prev) {
            keep(new, prev);
        }
    }
}

fn status(
    conditions: Vec<Condition>,
    placement_statuses: Vec<PerClusterPlacementStatus>,
    index: Option<String>,
    selected: Vec<ResourceIdentifier>,
) -> PlacementStatus {
    PlacementStatus {
        selected_resources: Some(selected),
        observed_resource_index: Some(index.unwrap_or_default()),
        placement_statuses: Some(placement_statuses),
        conditions: Some(conditions),
    }
}

fn per_cluster(facts: &PlacementFacts, c: &ClusterView, now: &Time) -> PerClusterPlacementStatus {
    let gen = facts.generation;
    // KubeFleet's message is the scheduler's decision reason; a binding without one still gets it.
    let scheduled = if c.reason.is_empty() {
        picked_reason(&c.cluster, c.affinity_score)
    } else {
        c.reason.clone()
    };
    let mut conditions = vec![new_condition(
        "Scheduled",
        TRUE,
        "Scheduled",
        &scheduled,
        gen,
        now,
    )];
    // placement-extras §5.1 step 2: a missing or Unknown binding `RolloutStarted` (a stale one
    // is already left out of `c.conditions`) becomes this Unknown.
    let started = find_condition(&c.conditions, types::ROLLOUT_STARTED);
    if c.resource_index.is_none() || started.is_none_or(|k| k.status == UNKNOWN) {
        conditions.push(new_condition(
            types::ROLLOUT_STARTED,
            UNKNOWN,
            reasons::ROLLOUT_STARTED_UNKNOWN,
            "In the process of deciding whether to roll out some version of the resources or not",
            gen,
            now,
        ));
    } else {
        for type_ in cluster_condition_types(facts.report_diff) {
            match find_condition(&c.conditions, type_) {
                Some(k) => {
                    let mut k = k.clone();
                    k.observed_generation = Some(gen);
                    let stop = k.status != TRUE;
                    conditions.push(k);
                    if stop {
                        break;
                    }
                }
                // placement-extras §2.11: a condition the binding does not have yet is Unknown,
                // and ends the list.
                None => {
                    let (reason, message) = unknown_per_cluster(type_);
                    conditions.push(new_condition(type_, UNKNOWN, reason, message, gen, now));
                    break;
                }
            }
        }
    }
    let has = |type_: &str, status_: &str| {
        find_condition(&conditions, type_).is_some_and(|k| k.status == status_)
    };
    let apply_failed = has(types::APPLIED, FALSE) || has(types::AVAILABLE, FALSE);
    let apply_evaluated = find_condition(&conditions, types::APPLIED).is_some();
    let diff_reported = has(types::DIFF_REPORTED, TRUE);
    PerClusterPlacementStatus {
        cluster_name: Some(c.cluster.clone()),
        observed_resource_index: Some(c.resource_index.clone().unwrap_or_default()),
        failed_placements: c.failed_placements.clone().filter(|_| apply_failed),
        drifted_placements: c.drifted_placements.clone().filter(|_| apply_evaluated),
        diffed_placements: c
            .diffed_placements
            .clone()
            .filter(|_| apply_failed || diff_reported),
        applicable_cluster_resource_overrides: (!c
            .applicable_cluster_resource_overrides
            .is_empty())
        .then(|| c.applicable_cluster_resource_overrides.clone()),
        applicable_resource_overrides: (!c.applicable_resource_overrides.is_empty())
            .then(|| c.applicable_resource_overrides.clone()),
        conditions: Some(conditions),
    }
}

/// The per-cluster condition types in rollout order: `…Applied, Available` when applying,
/// `…DiffReported` under ReportDiff.
pub fn cluster_condition_types(report_diff: bool) -> &'static [&'static str] {
    const REPORT_DIFF: [&str; 4] = [
        types::ROLLOUT_STARTED,
        types::OVERRIDDEN,
        types::WORK_SYNCHRONIZED,
        types::DIFF_REPORTED,
    ];
    if report_diff {
        &REPORT_DIFF
    } else {
        &BINDING_CONDITIONS
    }
}

/// A per-cluster condition the binding has not reported yet (KubeFleet's
/// `UnknownPerClusterCondition`).
fn unknown_per_cluster(type_: &str) -> (&'static str, &'static str) {
    match type_ {
        types::OVERRIDDEN => (
            reasons::OVERRIDDEN_PENDING,
            messages::CLUSTER_OVERRIDDEN_PENDING,
        ),
        types::WORK_SYNCHRONIZED => (
            "WorkSynchronizedUnknown",
            "In the process of creating or updating the work object(s) in the hub cluster",
        ),
        types::APPLIED => (
            "ApplyPending",
            "In the process of applying the resources on the member cluster",
        ),
        types::AVAILABLE => (
            "ResourceAvailableUnknown",
            "The availability of the selected resources is unknown yet ",
        ),
        _ => (
            "DiffReportingPending",
            "Diff reporting has just started; its status is not yet to be known",
        ),
    }
}

/// The placement's condition of `type_` (WorkSynchronized, Applied, Available, DiffReported)
/// with `status`, counting `n` clusters: KubeFleet's reason and message
/// (`{Unknown,False,True}ClusterResourcePlacementCondition`).
pub fn placement_condition(type_: &str, status: &str, n: usize) -> (&'static str, String) {
    match (type_, status) {
        (types::WORK_SYNCHRONIZED, TRUE) => ("WorkSynchronized", format!("Work(s) are successfully created or updated in {n} target cluster(s)' namespaces")),
        (types::WORK_SYNCHRONIZED, FALSE) => ("WorkNotSynchronizedYet", format!("There are {n} cluster(s) which have not finished creating or updating work(s) yet")),
        (types::WORK_SYNCHRONIZED, _) => ("WorkSynchronizedUnknown", format!("There are still {n} cluster(s) in the process of creating or updating the work object(s) in the hub cluster")),
        (types::APPLIED, TRUE) => ("ApplySucceeded", format!("The selected resources are successfully applied to {n} cluster(s)")),
        (types::APPLIED, FALSE) => ("ApplyFailed", format!("Failed to apply resources to {n} cluster(s), please check the `failedPlacements` status")),
        (types::APPLIED, _) => ("ApplyPending", format!("There are still {n} cluster(s) in the process of applying the resources on the member cluster")),
        (types::AVAILABLE, TRUE) => ("ResourceAvailable", format!("The selected resources in {n} cluster(s) are available now")),
        (types::AVAILABLE, FALSE) => ("ResourceNotAvailableYet", format!("The selected resources in {n} cluster(s) are still not available yet")),
        (types::AVAILABLE, _) => ("ResourceAvailableUnknown", format!("There are still {n} cluster(s) in the process of checking the availability of the selected resources")),
        (_, TRUE) => ("DiffReportingCompleted", format!("Diff reporting in {n} cluster(s) has been completed")),
        (_, FALSE) => ("DiffReportingIncompleteOrFailed", format!("Diff reporting in {n} clusters is still in progress or has failed")),
        (_, _) => ("DiffReportingPending", format!("There are still {n} cluster(s) in the process of checking for configuration differences")),
    }
}

#[cfg(test)]
#[path = "placement_status_tests.rs"]
mod tests;

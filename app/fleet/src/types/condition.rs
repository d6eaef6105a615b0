//! Kubernetes condition helpers with `meta.SetStatusCondition` semantics, and the condition
//! types / reasons / messages that runs, stages, clusters and tasks carry (spec §9.11).

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

pub const TRUE: &str = "True";
pub const FALSE: &str = "False";
pub const UNKNOWN: &str = "Unknown";

/// A Kubernetes timestamp as chrono's UTC time (what the console's views carry); `None` only
/// outside chrono's range.
pub fn to_utc(t: &k8s_openapi::jiff::Timestamp) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp(t.as_second(), t.subsec_nanosecond().max(0) as u32)
}

/// Builds a condition; `observed_generation` is always set, as the run controller does.
pub fn new_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    observed_generation: i64,
    now: &Time,
) -> Condition {
    Condition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: reason.to_string(),
        message: message.to_string(),
        observed_generation: Some(observed_generation),
        last_transition_time: now.clone(),
    }
}

/// Sets `new` into `conditions`. An existing condition of the same type keeps its
/// `lastTransitionTime` unless the status changes (spec §15 item 3: the TimedWait clock relies on
/// it); reason, message and observedGeneration are always replaced. Returns whether anything changed.
pub fn set_condition(conditions: &mut Vec<Condition>, new: Condition) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        None => {
            conditions.push(new);
            true
        }
        Some(existing) => {
            let mut changed = false;
            if existing.status != new.status {
                existing.status = new.status;
                existing.last_transition_time = new.last_transition_time;
                changed = true;
            }
            if existing.reason != new.reason {
                existing.reason = new.reason;
                changed = true;
            }
            if existing.message != new.message {
                existing.message = new.message;
                changed = true;
            }
            if existing.observed_generation != new.observed_generation {
                existing.observed_generation = new.observed_generation;
                changed = true;
            }
            changed
        }
    }
}

/// Same as [`set_condition`] on an optional list, creating it when absent.
pub fn set_condition_opt(conditions: &mut Option<Vec<Condition>>, new: Condition) -> bool {
    set_condition(conditions.get_or_insert_with(Vec::new), new)
}

/// Removes the condition of `type_`; returns whether one was removed.
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|c| c.type_ != type_);
    before != conditions.len()
}

/// The condition of `type_`, whatever its generation.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// The condition of `type_` only if it was observed at `generation`; older observations do not
/// count (spec §7.4 observedGeneration rule; a missing observedGeneration never matches).
pub fn find_condition_at<'a>(
    conditions: &'a [Condition],
    type_: &str,
    generation: i64,
) -> Option<&'a Condition> {
    find_condition(conditions, type_).filter(|c| c.observed_generation == Some(generation))
}

/// `type_` is `True` at `generation`.
pub fn is_true_at(conditions: &[Condition], type_: &str, generation: i64) -> bool {
    find_condition_at(conditions, type_, generation).is_some_and(|c| c.status == TRUE)
}

/// `type_` is `False` at `generation`.
pub fn is_false_at(conditions: &[Condition], type_: &str, generation: i64) -> bool {
    find_condition_at(conditions, type_, generation).is_some_and(|c| c.status == FALSE)
}

/// Re-stamps every condition's observedGeneration (spec §9.2 step 2).
pub fn restamp_generation(conditions: &mut [Condition], generation: i64) {
    for c in conditions {
        c.observed_generation = Some(generation);
    }
}

/// Condition types (spec §9.11).
pub mod types {
    pub const INITIALIZED: &str = "Initialized";
    pub const PROGRESSING: &str = "Progressing";
    pub const SUCCEEDED: &str = "Succeeded";
    pub const STARTED: &str = "Started";
    pub const APPROVAL_REQUEST_CREATED: &str = "ApprovalRequestCreated";
    pub const APPROVAL_REQUEST_APPROVED: &str = "ApprovalRequestApproved";
    pub const WAIT_TIME_ELAPSED: &str = "WaitTimeElapsed";
    pub const APPROVED: &str = "Approved";
    pub const APPROVAL_ACCEPTED: &str = "ApprovalAccepted";
    // Binding conditions (spec §5).
    pub const ROLLOUT_STARTED: &str = "RolloutStarted";
    pub const OVERRIDDEN: &str = "Overridden";
    pub const WORK_SYNCHRONIZED: &str = "WorkSynchronized";
    pub const APPLIED: &str = "Applied";
    pub const AVAILABLE: &str = "Available";
    pub const DIFF_REPORTED: &str = "DiffReported";
    // Policy snapshot (spec §4.2).
    pub const SCHEDULED: &str = "Scheduled";
    // MemberCluster (spec §6): only joined members are scheduled. `Joined` and `Healthy` are
    // also the member agent's own condition types (KubeFleet's `AgentJoined`, `AgentHealthy`).
    pub const JOINED: &str = "Joined";
    pub const READY_TO_JOIN: &str = "ReadyToJoin";
    pub const HEALTHY: &str = "Healthy";
}

/// Condition reasons (spec §9.11).
pub mod reasons {
    pub const UPDATE_RUN_INITIALIZED_SUCCESSFULLY: &str = "UpdateRunInitializedSuccessfully";
    pub const UPDATE_RUN_INITIALIZED_FAILED: &str = "UpdateRunInitializedFailed";
    pub const UPDATE_RUN_PROGRESSING: &str = "UpdateRunProgressing";
    pub const UPDATE_RUN_WAITING: &str = "UpdateRunWaiting";
    pub const UPDATE_RUN_STUCK: &str = "UpdateRunStuck";
    pub const UPDATE_RUN_STOPPING: &str = "UpdateRunStopping";
    pub const UPDATE_RUN_STOPPED: &str = "UpdateRunStopped";
    pub const UPDATE_RUN_FAILED: &str = "UpdateRunFailed";
    pub const UPDATE_RUN_SUCCEEDED: &str = "UpdateRunSucceeded";
    pub const STAGE_UPDATING_STARTED: &str = "StageUpdatingStarted";
    pub const STAGE_UPDATING_WAITING: &str = "StageUpdatingWaiting";
    pub const STAGE_UPDATING_STOPPING: &str = "StageUpdatingStopping";
    pub const STAGE_UPDATING_STOPPED: &str = "StageUpdatingStopped";
    pub const STAGE_UPDATING_SUCCEEDED: &str = "StageUpdatingSucceeded";
    pub const STAGE_UPDATING_SKIPPED_NO_CLUSTERS: &str = "StageUpdatingSkippedNoClusters";
    pub const STAGE_UPDATING_FAILED: &str = "StageUpdatingFailed";
    pub const CLUSTER_UPDATING_STARTED: &str = "ClusterUpdatingStarted";
    pub const CLUSTER_UPDATING_SUCCEEDED: &str = "ClusterUpdatingSucceeded";
    pub const CLUSTER_UPDATING_FAILED: &str = "ClusterUpdatingFailed";
    pub const STAGE_TASK_APPROVAL_REQUEST_CREATED: &str = "StageTaskApprovalRequestCreated";
    pub const STAGE_TASK_APPROVAL_REQUEST_APPROVED: &str = "StageTaskApprovalRequestApproved";
    pub const AFTER_STAGE_TASK_WAIT_TIME_ELAPSED: &str = "AfterStageTaskWaitTimeElapsed";
    pub const APPROVAL_REQUEST_APPROVAL_ACCEPTED: &str = "ApprovalRequestApprovalAccepted";
    pub const ROLLOUT_STARTED: &str = "RolloutStarted";
    // Placement `RolloutStarted` Unknown (placement-extras spec §5).
    pub const ROLLOUT_STARTED_UNKNOWN: &str = "RolloutStartedUnknown";
    pub const ROLLOUT_CONTROLLED_BY_EXTERNAL_CONTROLLER: &str =
        "RolloutControlledByExternalController";
    // Binding conditions the member agent writes (spec §5; KubeFleet's work generator and
    // applier reasons).
    pub const NO_OVERRIDE_SPECIFIED: &str = "NoOverrideSpecified";
    // `Overridden` of bindings, clusters and placements (placement-extras §1.9).
    pub const OVERRIDDEN_SUCCEEDED: &str = "OverriddenSucceeded";
    pub const OVERRIDDEN_FAILED: &str = "OverriddenFailed";
    pub const OVERRIDDEN_PENDING: &str = "OverriddenPending";
    pub const ALL_WORK_SYNCED: &str = "AllWorkSynced";
    pub const ALL_WORK_HAVE_BEEN_APPLIED: &str = "AllWorkHaveBeenApplied";
    pub const NOT_ALL_WORK_HAVE_BEEN_APPLIED: &str = "NotAllWorkHaveBeenApplied";
    pub const ALL_WORK_ARE_AVAILABLE: &str = "AllWorkAreAvailable";
    pub const NOT_ALL_WORK_ARE_AVAILABLE: &str = "NotAllWorkAreAvailable";
    // Conditions of a binding's failed placements.
    pub const MANIFEST_APPLY_FAILED: &str = "ManifestApplyFailed";
    pub const MANIFEST_NOT_AVAILABLE_YET: &str = "ManifestNotAvailableYet";
    // Policy snapshot `Scheduled` (spec §4.2).
    pub const SCHEDULING_POLICY_FULFILLED: &str = "SchedulingPolicyFulfilled";
    pub const SCHEDULING_POLICY_UNFULFILLED: &str = "SchedulingPolicyUnfulfilled";
    /// A placement's per-cluster `Scheduled` False for a cluster it could not get (§3.6).
    pub const SCHEDULE_FAILED: &str = "ScheduleFailed";
    // A joined member (spec §6). The first two are KubeFleet's hub reasons; KubeFleet leaves the
    // cluster's `Healthy` unused and its agent reports `InternalMemberCluster…` reasons, so the
    // other three are fleetdeck's own.
    pub const MEMBER_CLUSTER_READY_TO_JOIN: &str = "MemberClusterReadyToJoin";
    pub const MEMBER_CLUSTER_JOINED: &str = "MemberClusterJoined";
    pub const MEMBER_CLUSTER_HEALTHY: &str = "MemberClusterHealthy";
    pub const MEMBER_AGENT_JOINED: &str = "MemberAgentJoined";
    pub const MEMBER_AGENT_HEALTHY: &str = "MemberAgentHealthy";
    // A member leaving (placement-extras §4.1): KubeFleet's hub and agent reasons.
    pub const MEMBER_CLUSTER_NOT_READY_TO_JOIN: &str = "MemberClusterNotReadyToJoin";
    pub const MEMBER_CLUSTER_LEFT: &str = "MemberClusterLeft";
    pub const INTERNAL_MEMBER_CLUSTER_LEFT: &str = "InternalMemberClusterLeft";
    /// False reasons of binding conditions that mean "still in progress", not failure (spec §9.5).
    pub const IN_PROGRESS_BINDING_REASONS: [&str; 4] = [
        "OverriddenPending",
        "WorkNotSynchronizedYet",
        "ApplyPending",
        "ResourceNotAvailableYet",
    ];
}

/// Fixed condition messages (spec §9.11).
pub mod messages {
    pub const UPDATE_RUN_INITIALIZED: &str = "The UpdateRun initialized successfully";
    pub const UPDATE_RUN_PROGRESSING: &str = "The update run is making progress";
    pub const UPDATE_RUN_STOPPING: &str = "The update run is the process of stopping, waiting for all the updating/deleting clusters to finish updating before completing the stop process";
    pub const UPDATE_RUN_STOPPED: &str = "The update run has been stopped";
    pub const UPDATE_RUN_FAILED: &str = "The stages are aborted due to a non-recoverable error";
    pub const UPDATE_RUN_SUCCEEDED_PROGRESSING: &str = "All stages are completed";
    pub const UPDATE_RUN_SUCCEEDED: &str = "All stages are completed successfully";
    pub const STAGE_STARTED: &str = "Clusters in the stage started updating";
    pub const STAGE_WAITING_BEFORE: &str =
        "Not all before-stage tasks are completed, waiting for approval";
    pub const STAGE_WAITING_AFTER: &str =
        "All clusters in the stage are updated, waiting for after-stage tasks to complete";
    pub const STAGE_STOPPING: &str = "Waiting for all the updating clusters to finish updating before completing the stop process";
    pub const STAGE_STOPPED: &str = "All the updating clusters have finished updating, the stage is now stopped, waiting to be resumed";
    pub const STAGE_SUCCEEDED_PROGRESSING: &str =
        "All clusters in the stage are updated and after-stage tasks are completed";
    pub const STAGE_SUCCEEDED: &str = "Stage update completed successfully";
    pub const STAGE_SKIPPED: &str = "Stage skipped because it has no clusters";
    pub const STAGE_FAILED: &str = "Stage update aborted due to a non-recoverable error";
    pub const CLUSTER_STARTED: &str = "Cluster update started";
    pub const CLUSTER_SUCCEEDED: &str = "Cluster update completed successfully";
    pub const APPROVAL_REQUEST_CREATED: &str = "ApprovalRequest object is created";
    pub const APPROVAL_REQUEST_APPROVED: &str = "ApprovalRequest object is approved";
    pub const WAIT_TIME_ELAPSED: &str = "Wait time elapsed";
    pub const APPROVAL_ACCEPTED: &str =
        "The approval request has been approved and cannot be reverted";
    /// `Scheduled` True of a policy snapshot, and of the placement that copies it
    /// (placement-extras §3.5 step 4, KubeFleet's framework.go).
    pub fn scheduling_policy_fulfilled(found: usize) -> String {
        format!("found all cluster needed as specified by the scheduling policy, found {found} cluster(s)")
    }

    /// `Scheduled` False: fewer fitting clusters than the policy asks for (§3.6).
    pub fn scheduling_policy_unfulfilled(found: usize) -> String {
        format!("could not find all clusters needed as specified by the scheduling policy, found {found} cluster(s) instead")
    }

    /// A binding's `RolloutStarted` True, written by a RollingUpdate placement (spec §5).
    pub fn rollout_started(resource_snapshot: &str) -> String {
        format!("Detected the new changes on the resources and started the rollout process, resourceSnapshotName: {resource_snapshot}")
    }

    // Binding conditions the member agent writes (spec §5).
    pub const NO_OVERRIDE_SPECIFIED: &str =
        "No override rules are configured for the selected resources";
    // `Overridden` (placement-extras §1.9).
    pub const OVERRIDDEN_SUCCEEDED: &str =
        "Successfully applied the override rules on the resources";
    pub const CLUSTER_OVERRIDDEN_PENDING: &str =
        "In the process of overriding the selected resources if there is any override defined";

    /// A binding's `Overridden` False: its overrides cannot be applied.
    pub fn overridden_failed(error: &str) -> String {
        format!("Failed to apply the override rules on the resources: {error}")
    }

    /// A placement's `…Overridden` True when some cluster has overrides.
    pub fn placement_overridden(clusters: usize) -> String {
        format!("The selected resources are successfully overridden in {clusters} cluster(s)")
    }

    /// A placement's `…Overridden` False.
    pub fn placement_override_failed(clusters: usize) -> String {
        format!("Failed to override resources in {clusters} cluster(s)")
    }

    /// A placement's `…Overridden` Unknown.
    pub fn placement_override_pending(clusters: usize) -> String {
        format!("There are still {clusters} cluster(s) in the process of overriding the selected resources if there is any override defined")
    }

    pub const ALL_WORK_SYNCED: &str = "All of the works are synchronized to the latest";
    pub const ALL_WORK_APPLIED: &str = "All corresponding work objects are applied";
    pub const ALL_WORK_AVAILABLE: &str = "All corresponding work objects are available";
    pub const MANIFEST_NOT_AVAILABLE_YET: &str =
        "Manifest is not yet available; Fleet will check again later";
    // A joined member's conditions (fleetdeck's wording).
    pub const MEMBER_CLUSTER_READY_TO_JOIN: &str = "the member cluster is ready to join";
    pub const MEMBER_CLUSTER_JOINED: &str = "the member cluster has joined the fleet";
    pub const MEMBER_CLUSTER_HEALTHY: &str = "the member cluster is healthy";
    pub const MEMBER_AGENT_JOINED: &str = "the member agent has joined";
    pub const MEMBER_AGENT_HEALTHY: &str = "the member agent is healthy";
    // A member leaving (placement-extras §4.1, KubeFleet's wording).
    pub const MEMBER_CLUSTER_NOT_READY_TO_JOIN: &str =
        "Member cluster is not ready to join the fleet";
    pub const MEMBER_CLUSTER_LEFT: &str = "Member cluster has left the fleet";

    /// Binding Applied=False message when an object failed to apply; `work` is the placement's
    /// work object (`<placement>-work`).
    pub fn work_not_applied(work: &str) -> String {
        format!("Work object {work} has failed to apply")
    }

    /// Binding Available=False message; `work` is the placement's work object.
    pub fn work_not_available(work: &str) -> String {
        format!("Work object {work} is not yet available")
    }

    /// Run Progressing=False `UpdateRunWaiting` message; `kind` is `before-stage` or `after-stage`.
    pub fn update_run_waiting(kind: &str, stage: &str) -> String {
        format!("The updateRun is waiting for {kind} tasks in stage {stage} to complete")
    }

    /// Run Progressing=False `UpdateRunStuck` message: up to 3 names, then "..." (spec §9.5.A.5).
    pub fn update_run_stuck(clusters: &[&str], stage: &str) -> String {
        let mut names = clusters
            .iter()
            .take(3)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if clusters.len() > 3 {
            names.push_str("...");
        }
        format!("The updateRun is stuck waiting for {names} cluster(s) in stage {stage} to finish updating, please check placement status for potential errors")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Time {
        Time(s.parse().expect("valid timestamp"))
    }

    #[test]
    fn set_keeps_transition_time_unless_status_changes() {
        let mut conds = vec![];
        let t0 = t("2025-07-22T21:28:08Z");
        let t1 = t("2025-07-22T21:30:00Z");
        assert!(set_condition(
            &mut conds,
            new_condition("Progressing", TRUE, "A", "m", 1, &t0)
        ));
        // Same status, new reason and generation: time stays.
        assert!(set_condition(
            &mut conds,
            new_condition("Progressing", TRUE, "B", "m2", 2, &t1)
        ));
        assert_eq!(conds.len(), 1);
        assert_eq!(conds[0].last_transition_time, t0);
        assert_eq!(conds[0].reason, "B");
        assert_eq!(conds[0].observed_generation, Some(2));
        // Identical: nothing changes.
        assert!(!set_condition(
            &mut conds,
            new_condition("Progressing", TRUE, "B", "m2", 2, &t1)
        ));
        // Status flip: time moves.
        assert!(set_condition(
            &mut conds,
            new_condition("Progressing", FALSE, "B", "m2", 2, &t1)
        ));
        assert_eq!(conds[0].last_transition_time, t1);
    }

    #[test]
    fn find_at_generation_ignores_stale_and_missing_generations() {
        let now = t("2026-01-09T01:53:53Z");
        let mut approved = new_condition("Approved", TRUE, "approved", "approved", 0, &now);
        let conds = vec![approved.clone()];
        assert!(find_condition(&conds, "Approved").is_some());
        assert!(
            !is_true_at(&conds, "Approved", 1),
            "observedGeneration 0 must not count"
        );
        approved.observed_generation = None;
        assert!(!is_true_at(&[approved.clone()], "Approved", 1));
        approved.observed_generation = Some(1);
        assert!(is_true_at(&[approved.clone()], "Approved", 1));
        approved.status = FALSE.into();
        assert!(is_false_at(&[approved], "Approved", 1));
    }

    #[test]
    fn stuck_message_lists_three_names_then_ellipsis() {
        assert_eq!(
            messages::update_run_stuck(&["a", "b", "c", "d"], "canary"),
            "The updateRun is stuck waiting for a, b, c... cluster(s) in stage canary to finish updating, please check placement status for potential errors"
        );
        assert!(messages::update_run_stuck(&["a"], "s").contains("for a cluster(s)"));
    }

    #[test]
    fn remove_and_restamp() {
        let now = t("2026-01-09T01:53:53Z");
        let mut conds = vec![
            new_condition("A", TRUE, "r", "m", 1, &now),
            new_condition("B", TRUE, "r", "m", 1, &now),
        ];
        restamp_generation(&mut conds, 3);
        assert!(conds.iter().all(|c| c.observed_generation == Some(3)));
        assert!(remove_condition(&mut conds, "A"));
        assert!(!remove_condition(&mut conds, "A"));
        assert_eq!(conds.len(), 1);
    }
}

//! A placement's status from its schedule and its bindings (spec §3.3). Pure: the controller
//! gathers one [`ClusterView`] per scheduled cluster and writes what [`derive`] returns.

use crate::placement::resource_placement::{
    PerClusterPlacementStatus, PlacementStatus, ResourceIdentifier,
};
use crate::placement::scheduling::picked_reason;
use crate::types::condition::{
    find_condition, new_condition, Condition, Time, FALSE, TRUE, UNKNOWN,
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
    pub fulfilled: bool,
    pub scheduled_count: usize,
    /// The resources of the snapshot every cluster observes, if they agree.
    pub selected_resources: Vec<ResourceIdentifier>,
}

/// The index every cluster observes, if all have one and they agree.
pub fn common_index(clusters: &[ClusterView]) -> Option<String> {
    let first = clusters.first()?.resource_index.clone()?;
    clusters
        .iter()
        .all(|c| c.resource_index.as_deref() == Some(first.as_str()))
        .then_some(first)
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
            "SchedulingPolicyFulfilled",
            format!("found all cluster needed as specified by the scheduling policy, found {} cluster(s)", facts.scheduled_count),
        )
    } else {
        cond(
            "Scheduled",
            FALSE,
            "SchedulingPolicyUnfulfilled",
            format!("could not find all the clusters needed as specified by the scheduling policy, found {} cluster(s)", facts.scheduled_count),
        )
    }];
    let placement_statuses = clusters
        .iter()
        .map(|c| per_cluster(facts, c, now))
        .collect();
    let common = common_index(clusters);

    let external_wait = |detail: String| {
        cond(
            "RolloutStarted",
            UNKNOWN,
            "RolloutControlledByExternalController",
            format!(
                "Rollout is controlled by an external controller and {detail}. To determine rollout status, check the {} resources with spec.placementName matching this placement",
                facts.run_kind
            ),
        )
    };
    if facts.external {
        // spec §3.3: until every cluster observes one index, only this Unknown condition shows.
        if clusters.iter().all(|c| c.resource_index.is_none()) {
            conditions.push(external_wait(
                "no resource snapshot name is observed across clusters".into(),
            ));
            return status(conditions, placement_statuses, None, Vec::new());
        }
        if common.is_none() {
            conditions.push(external_wait(
                "different resource snapshot versions are observed across clusters".into(),
            ));
            return status(conditions, placement_statuses, None, Vec::new());
        }
        if let Some(c) = clusters.iter().find(|c| {
            find_condition(&c.conditions, "RolloutStarted").is_none_or(|k| k.status == UNKNOWN)
        }) {
            conditions.push(external_wait(format!(
                "cluster {} is in RolloutStarted Unknown state",
                c.cluster
            )));
            return status(conditions, placement_statuses, None, Vec::new());
        }
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
    let steps: [(&str, &str, &str, &str, &str); 5] = [
        (
            "RolloutStarted",
            "RolloutStarted",
            "All required clusters have started the rollout process",
            "RolloutNotStartedYet",
            "some clusters have not started the rollout process yet",
        ),
        (
            "Overridden",
            "NoOverrideSpecified",
            "No override rules are configured for the selected resources",
            "OverriddenFailed",
            "failed to override the selected resources for some clusters",
        ),
        (
            "WorkSynchronized",
            "WorkSynchronized",
            "All corresponding work objects are synchronized",
            "WorkNotSynchronizedYet",
            "some work objects are not synchronized yet",
        ),
        (
            "Applied",
            "ApplySucceeded",
            "The selected resources are successfully applied to all clusters",
            "ApplyFailed",
            "failed to apply the selected resources to some clusters",
        ),
        (
            "Available",
            "ResourceAvailable",
            "The selected resources are available on all clusters",
            "ResourceNotAvailableYet",
            "the selected resources are not available yet on some clusters",
        ),
    ];
    for (type_, ok_reason, ok_message, bad_reason, bad_message) in steps {
        let all_true = clusters
            .iter()
            .all(|c| find_condition(&c.conditions, type_).is_some_and(|k| k.status == TRUE));
        if all_true {
            conditions.push(cond(type_, TRUE, ok_reason, ok_message.into()));
        } else {
            let any_false = clusters
                .iter()
                .any(|c| find_condition(&c.conditions, type_).is_some_and(|k| k.status == FALSE));
            let status = if any_false { FALSE } else { UNKNOWN };
            conditions.push(cond(type_, status, bad_reason, bad_message.into()));
            break;
        }
    }
    status(
        conditions,
        placement_statuses,
        common,
        facts.selected_resources.clone(),
    )
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
    if c.resource_index.is_none() || find_condition(&c.conditions, "RolloutStarted").is_none() {
        conditions.push(new_condition(
            "RolloutStarted",
            UNKNOWN,
            "RolloutStartedUnknown",
            "In the process of deciding whether to roll out some version of the resources or not",
            gen,
            now,
        ));
    } else {
        for type_ in BINDING_CONDITIONS {
            if let Some(k) = find_condition(&c.conditions, type_) {
                let mut k = k.clone();
                k.observed_generation = Some(gen);
                conditions.push(k);
            }
        }
    }
    PerClusterPlacementStatus {
        cluster_name: Some(c.cluster.clone()),
        observed_resource_index: Some(c.resource_index.clone().unwrap_or_default()),
        failed_placements: c.failed_placements.clone(),
        conditions: Some(conditions),
        ..PerClusterPlacementStatus::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_selectors_set_scheduled_false_and_keep_the_rest() {
        let then = Time(k8s_openapi::jiff::Timestamp::from_second(1_000).expect("time"));
        let now = Time(k8s_openapi::jiff::Timestamp::from_second(2_000).expect("time"));
        let rollout = new_condition(
            "ClusterResourcePlacementRolloutStarted",
            TRUE,
            "RolloutStarted",
            "All 1 cluster(s) start rolling out the latest resource snapshot",
            1,
            &then,
        );
        let mut conditions = Some(vec![rollout.clone()]);
        let error = "the resource selector names an unknown kind: group \"\", version \"v1\", kind \"Nope\"";
        assert!(set_invalid_selectors(
            &mut conditions,
            "ClusterResourcePlacement",
            error,
            2,
            &now
        ));
        let list = conditions.as_deref().expect("conditions");
        let scheduled =
            find_condition(list, "ClusterResourcePlacementScheduled").expect("Scheduled");
        assert_eq!(
            (
                scheduled.status.as_str(),
                scheduled.reason.as_str(),
                scheduled.observed_generation
            ),
            (FALSE, INVALID_RESOURCE_SELECTORS, Some(2))
        );
        assert_eq!(
            scheduled.message,
            format!("The resource selectors are invalid: {error}")
        );
        assert_eq!(
            find_condition(list, "ClusterResourcePlacementRolloutStarted"),
            Some(&rollout)
        );
        // Seen again: nothing to write.
        assert!(!set_invalid_selectors(
            &mut conditions,
            "ClusterResourcePlacement",
            error,
            2,
            &now
        ));
    }

    fn now() -> Time {
        Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH)
    }

    fn facts(external: bool) -> PlacementFacts {
        PlacementFacts {
            prefix: "ClusterResourcePlacement",
            run_kind: "ClusterStagedUpdateRun",
            generation: 1,
            external,
            fulfilled: true,
            scheduled_count: 2,
            selected_resources: Vec::new(),
        }
    }

    fn done(cluster: &str, index: &str, available: &str) -> ClusterView {
        let c = |t: &str, s: &str| new_condition(t, s, "r", "m", 3, &now());
        ClusterView {
            cluster: cluster.into(),
            reason: picked_reason(cluster, 0),
            resource_index: Some(index.into()),
            conditions: vec![
                c("RolloutStarted", TRUE),
                c("Overridden", TRUE),
                c("WorkSynchronized", TRUE),
                c("Applied", TRUE),
                c("Available", available),
            ],
            ..ClusterView::default()
        }
    }

    fn types(s: &PlacementStatus) -> Vec<(String, String)> {
        s.conditions
            .iter()
            .flatten()
            .map(|c| (c.type_.clone(), c.status.clone()))
            .collect()
    }

    #[test]
    fn an_external_placement_without_snapshots_shows_scheduled_and_an_unknown_rollout() {
        let clusters = vec![
            ClusterView {
                cluster: "member1".into(),
                ..ClusterView::default()
            },
            ClusterView {
                cluster: "member2".into(),
                ..ClusterView::default()
            },
        ];
        let s = derive(&facts(true), &clusters, &now());
        assert_eq!(
            types(&s),
            [
                ("ClusterResourcePlacementScheduled".into(), "True".into()),
                (
                    "ClusterResourcePlacementRolloutStarted".into(),
                    "Unknown".into()
                )
            ]
        );
        let rollout = &s.conditions.as_ref().expect("conditions")[1];
        assert_eq!(rollout.reason, "RolloutControlledByExternalController");
        assert!(rollout
            .message
            .contains("no resource snapshot name is observed across clusters"));
        assert_eq!(s.observed_resource_index.as_deref(), Some(""));
    }

    #[test]
    fn the_scheduled_message_is_the_decision_reason_as_in_seed_003() {
        let s = derive(&facts(true), &[done("member2", "1", TRUE)], &now());
        let per_cluster = &s.placement_statuses.as_ref().expect("per cluster")[0];
        let conditions = per_cluster.conditions.as_deref().unwrap_or_default();
        let scheduled = find_condition(conditions, "Scheduled").expect("Scheduled");
        assert_eq!(
            scheduled.message,
            "Successfully scheduled resources for placement in \"member2\" (affinity score: 0, topology spread score: 0): picked by scheduling policy"
        );
    }

    #[test]
    fn different_indices_keep_an_external_placement_unknown() {
        let s = derive(
            &facts(true),
            &[done("member1", "1", TRUE), done("member2", "0", TRUE)],
            &now(),
        );
        let rollout = &s.conditions.as_ref().expect("conditions")[1];
        assert!(rollout
            .message
            .contains("different resource snapshot versions are observed across clusters"));
    }

    #[test]
    fn a_completed_rollout_is_available_at_the_common_index() {
        let s = derive(
            &facts(true),
            &[done("member1", "1", TRUE), done("member2", "1", TRUE)],
            &now(),
        );
        let last = s
            .conditions
            .as_ref()
            .and_then(|c| c.last())
            .expect("conditions");
        assert_eq!(
            (
                last.type_.as_str(),
                last.status.as_str(),
                last.reason.as_str()
            ),
            (
                "ClusterResourcePlacementAvailable",
                "True",
                "ResourceAvailable"
            )
        );
        assert_eq!(s.observed_resource_index.as_deref(), Some("1"));
        let per = &s.placement_statuses.as_ref().expect("per cluster")[0];
        assert_eq!(
            per.conditions.as_ref().expect("conditions")[0].type_,
            "Scheduled"
        );
        assert!(per
            .conditions
            .iter()
            .flatten()
            .all(|c| c.observed_generation == Some(1)));
    }

    #[test]
    fn an_unavailable_cluster_stops_the_chain_at_available_false() {
        let s = derive(
            &facts(false),
            &[done("member1", "1", TRUE), done("member2", "1", FALSE)],
            &now(),
        );
        let last = s
            .conditions
            .as_ref()
            .and_then(|c| c.last())
            .expect("conditions");
        assert_eq!(
            (last.type_.as_str(), last.status.as_str()),
            ("ClusterResourcePlacementAvailable", "False")
        );
    }

    #[test]
    fn a_rederived_status_keeps_the_transition_times_of_unchanged_conditions() {
        let later = Time(k8s_openapi::jiff::Timestamp::from_second(60).expect("time"));
        let clusters = [ClusterView {
            cluster: "member1".into(),
            ..ClusterView::default()
        }];
        let first = derive(&facts(true), &clusters, &now());
        let mut again = derive(&facts(true), &clusters, &later);
        assert_ne!(again, first, "derived with a later clock");
        keep_transition_times(&mut again, Some(&first));
        assert_eq!(again, first, "nothing changed, so nothing to write");

        // A cluster whose condition changes status gets the new time, the others keep theirs.
        let mut changed = derive(&facts(true), &clusters, &later);
        let scheduled = changed.placement_statuses.as_mut().expect("clusters")[0]
            .conditions
            .as_mut()
            .expect("conditions")
            .iter_mut()
            .find(|c| c.type_ == "Scheduled")
            .expect("Scheduled");
        scheduled.status = FALSE.into();
        keep_transition_times(&mut changed, Some(&first));
        let cluster = &changed.placement_statuses.as_ref().expect("clusters")[0];
        let time = |t: &str| {
            find_condition(cluster.conditions.as_deref().unwrap_or_default(), t)
                .map(|c| c.last_transition_time.clone())
        };
        assert_eq!(time("Scheduled"), Some(later.clone()));
        assert_eq!(time("RolloutStarted"), Some(now()));
    }
}

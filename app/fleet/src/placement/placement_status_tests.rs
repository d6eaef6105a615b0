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
    let error =
        "the resource selector names an unknown kind: group \"\", version \"v1\", kind \"Nope\"";
    assert!(set_invalid_selectors(
        &mut conditions,
        "ClusterResourcePlacement",
        error,
        2,
        &now
    ));
    let list = conditions.as_deref().expect("conditions");
    let scheduled = find_condition(list, "ClusterResourcePlacementScheduled").expect("Scheduled");
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
        report_diff: false,
        fulfilled: true,
        scheduled_count: 2,
        selected_resources: Vec::new(),
        failed_to_schedule: Vec::new(),
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
    assert_eq!(
        rollout.message,
        "Rollout is controlled by an external controller and no resource snapshot name is observed across clusters. To determine rollout status, check the ClusterStagedUpdateRun resources with spec.placementName matching this placement"
    );
    assert_eq!(s.observed_resource_index.as_deref(), Some(""));
    assert_eq!(s.selected_resources.as_deref(), Some(&[][..]));
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
    assert_external_unknown(
        &s,
        "Rollout is controlled by an external controller and different resource snapshot versions are observed across clusters",
    );
    assert_eq!(s.observed_resource_index.as_deref(), Some(""));
    assert_eq!(s.selected_resources.as_deref(), Some(&[][..]));
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

/// `…Scheduled` True then `…RolloutStarted` Unknown with KubeFleet's External reason and
/// `message`, and no later condition type.
fn assert_external_unknown(s: &PlacementStatus, message: &str) {
    let conditions = s.conditions.as_deref().unwrap_or_default();
    assert_eq!(
        types(s),
        [
            ("ClusterResourcePlacementScheduled".into(), "True".into()),
            (
                "ClusterResourcePlacementRolloutStarted".into(),
                "Unknown".into()
            )
        ]
    );
    assert_eq!(
        conditions[1].reason,
        reasons::ROLLOUT_CONTROLLED_BY_EXTERNAL_CONTROLLER
    );
    assert_eq!(conditions[1].message, message);
    assert_eq!(conditions[1].observed_generation, Some(1));
}

fn deployment() -> ResourceIdentifier {
    ResourceIdentifier {
        group: Some("apps".into()),
        version: Some("v1".into()),
        kind: "Deployment".into(),
        name: "web".into(),
        namespace: Some("app".into()),
        envelope: None,
    }
}

/// spec §5.2 row 1: no selected cluster, `…Scheduled` alone and no index.
#[test]
fn an_external_placement_with_no_cluster_shows_only_scheduled() {
    let s = derive(&facts(true), &[], &now());
    assert_eq!(
        types(&s),
        [("ClusterResourcePlacementScheduled".into(), "True".into())]
    );
    assert_eq!(s.observed_resource_index.as_deref(), Some(""));
    assert_eq!(s.placement_statuses.as_deref(), Some(&[][..]));
}

/// spec §5.1 step 2: a cluster without a snapshot observes `""`, like one whose binding names
/// none, so both together are "none observed", not "different".
#[test]
fn no_snapshot_and_an_empty_index_count_as_none_observed() {
    let mut empty = done("member2", "", TRUE);
    empty.resource_index = Some(String::new());
    let clusters = [
        ClusterView {
            cluster: "member1".into(),
            ..ClusterView::default()
        },
        empty,
    ];
    assert_eq!(
        external_unknown(&clusters, &[]),
        Some(ExternalUnknown::NoneObserved)
    );
}

/// spec §5.2 row 4, upstream's own fixture: two clusters at index 2, the second without a
/// `RolloutStarted` condition: index 2 and its resources stay, the message names the second.
#[test]
fn a_cluster_not_started_at_the_common_index_keeps_the_index_and_resources() {
    let mut second = done("member2", "2", TRUE);
    second.conditions.clear();
    let mut f = facts(true);
    f.selected_resources = vec![deployment()];
    let s = derive(&f, &[done("member1", "2", TRUE), second], &now());
    assert_external_unknown(
        &s,
        "Rollout is controlled by an external controller and cluster member2 is in RolloutStarted Unknown state",
    );
    assert_eq!(s.observed_resource_index.as_deref(), Some("2"));
    assert_eq!(s.selected_resources, Some(vec![deployment()]));
    let per = s.placement_statuses.as_deref().unwrap_or_default();
    let started = find_condition(
        per[1].conditions.as_deref().unwrap_or_default(),
        types::ROLLOUT_STARTED,
    )
    .expect("per-cluster RolloutStarted");
    assert_eq!(
        (
            started.status.as_str(),
            started.reason.as_str(),
            started.message.as_str()
        ),
        (
            UNKNOWN,
            reasons::ROLLOUT_STARTED_UNKNOWN,
            "In the process of deciding whether to roll out some version of the resources or not"
        )
    );
}

/// spec §5.2 row 4 with a binding whose `RolloutStarted` is Unknown: the first such cluster in
/// decision order is named, even when a later one is also not started.
#[test]
fn the_first_unknown_cluster_in_decision_order_is_named() {
    let unknown = |name: &str| {
        let mut c = done(name, "3", TRUE);
        c.conditions[0].status = UNKNOWN.into();
        c
    };
    let s = derive(
        &facts(true),
        &[
            done("member1", "3", TRUE),
            unknown("member3"),
            unknown("member2"),
        ],
        &now(),
    );
    assert_external_unknown(
        &s,
        "Rollout is controlled by an external controller and cluster member3 is in RolloutStarted Unknown state",
    );
    assert_eq!(s.observed_resource_index.as_deref(), Some("3"));
}

/// spec §5.2 row 3 for a namespaced placement: the message points at `StagedUpdateRun`.
#[test]
fn a_resource_placement_points_at_staged_update_runs() {
    assert_eq!(
        ExternalUnknown::NoneObserved.message("StagedUpdateRun"),
        "Rollout is controlled by an external controller and no resource snapshot name is observed across clusters. To determine rollout status, check the StagedUpdateRun resources with spec.placementName matching this placement"
    );
}

/// spec §5.2 row 5: a `RolloutStarted` False is a decided state, so the normal chain follows.
#[test]
fn a_cluster_not_rolled_out_yet_gives_the_normal_conditions() {
    let mut waiting = done("member2", "1", TRUE);
    waiting.conditions[0].status = FALSE.into();
    let s = derive(&facts(true), &[done("member1", "1", TRUE), waiting], &now());
    let rollout = &s.conditions.as_deref().unwrap_or_default()[1];
    assert_eq!(
        (rollout.status.as_str(), rollout.reason.as_str()),
        (FALSE, "RolloutNotStartedYet")
    );
    assert_eq!(s.observed_resource_index.as_deref(), Some("1"));
}

/// placement-extras §3.6: fewer fitting clusters than N — the placement's `…Scheduled` False
/// carries KubeFleet's words, and the other conditions still cover the selected clusters.
#[test]
fn an_unfulfilled_pick_n_says_how_many_clusters_were_found() {
    let mut f = facts(false);
    f.fulfilled = false;
    f.scheduled_count = 1;
    let s = derive(&f, &[done("member1", "1", TRUE)], &now());
    let conditions = s.conditions.as_deref().unwrap_or_default();
    let scheduled = &conditions[0];
    assert_eq!(
        (
            scheduled.type_.as_str(),
            scheduled.status.as_str(),
            scheduled.reason.as_str(),
            scheduled.message.as_str()
        ),
        (
            "ClusterResourcePlacementScheduled",
            FALSE,
            reasons::SCHEDULING_POLICY_UNFULFILLED,
            "could not find all clusters needed as specified by the scheduling policy, found 1 cluster(s) instead"
        )
    );
    let last = conditions.last().expect("conditions");
    assert_eq!(
        (last.type_.as_str(), last.status.as_str()),
        ("ClusterResourcePlacementAvailable", TRUE)
    );
}

/// placement-extras §3.6: a PickN of 3 that got one cluster lists, after it, min(N − selected,
/// unselected decisions) entries without `clusterName`, each `Scheduled` False `ScheduleFailed`
/// with the unselected decision's reason, in decision order.
#[test]
fn clusters_a_pick_n_could_not_get_are_listed_without_a_name() {
    use crate::placement::scheduling::{schedule, Candidate};
    let member = |name: &str, env: &str| Candidate {
        name: name.into(),
        labels: [("environment".to_string(), env.to_string())].into(),
        joined: true,
        ..Candidate::default()
    };
    let fleet = [
        member("member1", "canary"),
        member("member2", "staging"),
        member("member3", "staging"),
        member("member4", "staging"),
    ];
    let policy: PlacementPolicy = serde_json::from_value(serde_json::json!({
        "placementType": "PickN", "numberOfClusters": 3, "affinity": {"clusterAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
            {"labelSelector": {"matchLabels": {"environment": "canary"}}}]}}}}))
    .expect("policy");
    let sched = schedule(Some(&policy), &fleet).expect("schedule");
    let mut f = facts(false);
    f.fulfilled = sched.fulfilled;
    f.scheduled_count = sched.selected.len();
    f.failed_to_schedule = failed_to_schedule(Some(&policy), &sched);
    let s = derive(&f, &[done("member1", "1", TRUE)], &now());
    let per = s.placement_statuses.as_deref().unwrap_or_default();
    assert_eq!(per.len(), 3, "member1, then N − 1 = 2 of the 3 unselected");
    assert_eq!(per[0].cluster_name.as_deref(), Some("member1"));
    for entry in &per[1..] {
        assert_eq!(entry.cluster_name, None);
        let conditions = entry.conditions.as_deref().unwrap_or_default();
        assert_eq!(conditions.len(), 1);
        assert_eq!(
            (
                conditions[0].type_.as_str(),
                conditions[0].status.as_str(),
                conditions[0].reason.as_str(),
                conditions[0].message.as_str()
            ),
            (
                types::SCHEDULED,
                FALSE,
                reasons::SCHEDULE_FAILED,
                "ClusterUnschedulable, cluster does not match with any of the required cluster affinity terms"
            )
        );
    }
    // PickAll wants no count; a fulfilled PickN has nothing missing.
    assert!(failed_to_schedule(None, &sched).is_empty());
    let two: PlacementPolicy = serde_json::from_value(
        serde_json::json!({"placementType": "PickN", "numberOfClusters": 1}),
    )
    .expect("policy");
    assert!(failed_to_schedule(Some(&two), &sched).is_empty());
}

fn overridden_of(s: &PlacementStatus) -> (String, String, String) {
    let c = s
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_.ends_with("Overridden"))
        .expect("an Overridden condition");
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[test]
fn the_placement_overridden_condition_follows_kubefleet() {
    let with_cro = |mut c: ClusterView| {
        c.applicable_cluster_resource_overrides = vec!["cro-1-0".into()];
        c
    };
    // All True, none with overrides: NoOverrideSpecified.
    let s = derive(
        &facts(false),
        &[done("m1", "0", TRUE), done("m2", "0", TRUE)],
        &now(),
    );
    assert_eq!(
        overridden_of(&s),
        (
            TRUE.into(),
            "NoOverrideSpecified".into(),
            "No override rules are configured for the selected resources".into()
        )
    );
    // One cluster lists an override: OverriddenSucceeded over all clusters, and its status lists it.
    let s = derive(
        &facts(false),
        &[with_cro(done("m1", "0", TRUE)), done("m2", "0", TRUE)],
        &now(),
    );
    assert_eq!(
        overridden_of(&s),
        (
            TRUE.into(),
            "OverriddenSucceeded".into(),
            "The selected resources are successfully overridden in 2 cluster(s)".into()
        )
    );
    let per_cluster = s.placement_statuses.as_deref().unwrap_or_default();
    assert_eq!(
        per_cluster[0].applicable_cluster_resource_overrides,
        Some(vec!["cro-1-0".to_string()])
    );
    assert_eq!(per_cluster[1].applicable_cluster_resource_overrides, None);
    // A failed cluster: False with the count, and nothing after it.
    let mut failed = done("m2", "0", TRUE);
    failed.conditions[1].status = FALSE.into();
    let s = derive(
        &facts(false),
        &[done("m1", "0", TRUE), failed.clone()],
        &now(),
    );
    assert_eq!(
        overridden_of(&s),
        (
            FALSE.into(),
            "OverriddenFailed".into(),
            "Failed to override resources in 1 cluster(s)".into()
        )
    );
    assert!(!types(&s)
        .iter()
        .any(|(t, _)| t.ends_with("WorkSynchronized")));
    // Unknown (no Overridden yet) wins over False, as upstream counts it first.
    let mut pending = done("m3", "0", TRUE);
    pending.conditions.truncate(1);
    let s = derive(&facts(false), &[pending, failed], &now());
    let m3 = &s.placement_statuses.as_deref().unwrap_or_default()[0];
    let m3: Vec<(&str, &str, &str)> = m3
        .conditions
        .iter()
        .flatten()
        .map(|c| (c.type_.as_str(), c.status.as_str(), c.reason.as_str()))
        .collect();
    assert_eq!(
        m3,
        [
            ("Scheduled", "True", "Scheduled"),
            ("RolloutStarted", "True", "r"),
            ("Overridden", "Unknown", "OverriddenPending")
        ],
        "a started cluster the agent has not rendered yet"
    );
    assert_eq!(
        overridden_of(&s),
        (UNKNOWN.into(), "OverriddenPending".into(), "There are still 1 cluster(s) in the process of overriding the selected resources if there is any override defined".into())
    );
}

fn reported(cluster: &str, diff: &str) -> ClusterView {
    let c = |t: &str, s: &str| new_condition(t, s, "r", "m", 3, &now());
    ClusterView {
        cluster: cluster.into(),
        reason: picked_reason(cluster, 0),
        resource_index: Some("0".into()),
        conditions: vec![
            c("RolloutStarted", TRUE),
            c("Overridden", TRUE),
            c("WorkSynchronized", TRUE),
            c("DiffReported", diff),
        ],
        diffed_placements: Some(vec![serde_json::json!({"kind": "ConfigMap"})]),
        ..ClusterView::default()
    }
}

fn condition_of(s: &PlacementStatus, type_: &str) -> (String, String, String) {
    let c = find_condition(s.conditions.as_deref().unwrap_or_default(), type_).expect(type_);
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[test]
fn a_report_diff_placement_completes_with_diff_reported_and_lists_each_clusters_diffs() {
    let facts = PlacementFacts {
        report_diff: true,
        ..facts(false)
    };
    let s = derive(
        &facts,
        &[reported("member1", TRUE), reported("member2", TRUE)],
        &now(),
    );
    assert_eq!(
        condition_of(&s, "ClusterResourcePlacementDiffReported"),
        (
            TRUE.into(),
            "DiffReportingCompleted".into(),
            "Diff reporting in 2 cluster(s) has been completed".into()
        )
    );
    assert!(find_condition(
        s.conditions.as_deref().unwrap_or_default(),
        "ClusterResourcePlacementApplied"
    )
    .is_none());
    let per = &s.placement_statuses.as_ref().expect("clusters")[0];
    let types_: Vec<&str> = per
        .conditions
        .iter()
        .flatten()
        .map(|c| c.type_.as_str())
        .collect();
    assert_eq!(
        types_,
        [
            "Scheduled",
            "RolloutStarted",
            "Overridden",
            "WorkSynchronized",
            "DiffReported"
        ]
    );
    assert_eq!(per.diffed_placements.as_ref().map(Vec::len), Some(1));

    let s = derive(
        &facts,
        &[reported("member1", TRUE), reported("member2", FALSE)],
        &now(),
    );
    assert_eq!(
        condition_of(&s, "ClusterResourcePlacementDiffReported"),
        (
            FALSE.into(),
            "DiffReportingIncompleteOrFailed".into(),
            "Diff reporting in 1 clusters is still in progress or has failed".into()
        )
    );
    let per = &s.placement_statuses.as_ref().expect("clusters")[1];
    assert_eq!(per.diffed_placements, None, "not reported: no diffs shown");
}

#[test]
fn applied_and_available_count_their_clusters_as_kubefleet_does() {
    let mut failed = done("member2", "0", TRUE);
    failed.conditions.retain(|c| c.type_ != "Available");
    failed.conditions[3].status = FALSE.into();
    failed.failed_placements = Some(vec![serde_json::json!({"kind": "ConfigMap"})]);
    failed.drifted_placements = Some(vec![serde_json::json!({"kind": "ConfigMap"})]);
    let s = derive(&facts(false), &[done("member1", "0", TRUE), failed], &now());
    assert_eq!(
        condition_of(&s, "ClusterResourcePlacementApplied"),
        (
            FALSE.into(),
            "ApplyFailed".into(),
            "Failed to apply resources to 1 cluster(s), please check the `failedPlacements` status"
                .into()
        )
    );
    let per = &s.placement_statuses.as_ref().expect("clusters")[1];
    assert_eq!(per.failed_placements.as_ref().map(Vec::len), Some(1));
    assert_eq!(per.drifted_placements.as_ref().map(Vec::len), Some(1));

    let s = derive(
        &facts(false),
        &[done("member1", "0", TRUE), done("member2", "0", TRUE)],
        &now(),
    );
    assert_eq!(
        condition_of(&s, "ClusterResourcePlacementApplied").2,
        "The selected resources are successfully applied to 2 cluster(s)"
    );
    assert_eq!(
        condition_of(&s, "ClusterResourcePlacementAvailable"),
        (
            TRUE.into(),
            "ResourceAvailable".into(),
            "The selected resources in 2 cluster(s) are available now".into()
        )
    );
}

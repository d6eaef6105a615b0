use serde_json::json;

use super::*;
use crate::types::condition::find_condition;

fn t(s: &str) -> Time {
    Time(s.parse().expect("valid timestamp"))
}

fn deployment() -> ResourceRef {
    ResourceRef {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: "web".into(),
        namespace: Some("shop".into()),
    }
}

fn namespace() -> ResourceRef {
    ResourceRef {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        name: "shop".into(),
        namespace: None,
    }
}

fn pass(objects: &[(ResourceRef, Outcome)]) -> ApplyPass {
    ApplyPass {
        objects: objects.to_vec(),
        ..ApplyPass::default()
    }
}

const AVAILABLE: Outcome = Outcome::Applied { available: true };
const UNAVAILABLE: Outcome = Outcome::Applied { available: false };

fn condition<'a>(report: &'a BindingReport, type_: &str) -> Option<(&'a str, &'a str)> {
    find_condition(&report.conditions, type_).map(|c| (c.status.as_str(), c.reason.as_str()))
}

#[test]
fn every_object_applied_and_available_is_applied_and_available() {
    let now = t("2026-01-09T01:53:53Z");
    let pass = pass(&[(namespace(), AVAILABLE), (deployment(), AVAILABLE)]);
    let report = report(None, 3, &pass, "shop", &now);
    assert_eq!(
        condition(&report, types::APPLIED),
        Some((TRUE, reasons::ALL_WORK_HAVE_BEEN_APPLIED))
    );
    assert_eq!(
        condition(&report, types::AVAILABLE),
        Some((TRUE, reasons::ALL_WORK_ARE_AVAILABLE))
    );
    assert_eq!(
        condition(&report, types::OVERRIDDEN),
        Some((TRUE, reasons::NO_OVERRIDE_SPECIFIED))
    );
    assert_eq!(
        condition(&report, types::WORK_SYNCHRONIZED),
        Some((TRUE, reasons::ALL_WORK_SYNCED))
    );
    assert!(report.failed_placements.is_empty());
    assert!(pass.settled());
    let status = report.into_status(None).expect("serializes");
    assert_eq!(
        status.failed_placements, None,
        "no failed placement, no field"
    );
}

#[test]
fn a_failed_object_makes_applied_false_drops_available_and_is_the_only_failed_placement() {
    let now = t("2026-01-09T01:53:53Z");
    let old = report(None, 1, &pass(&[(namespace(), AVAILABLE)]), "shop", &now)
        .into_status(None)
        .expect("serializes");
    let pass = pass(&[
        (namespace(), AVAILABLE),
        (deployment(), Outcome::Failed("denied".into())),
    ]);
    let report = report(Some(&old), 1, &pass, "shop", &now);
    assert_eq!(
        condition(&report, types::APPLIED),
        Some((FALSE, reasons::NOT_ALL_WORK_HAVE_BEEN_APPLIED))
    );
    let applied = find_condition(&report.conditions, types::APPLIED).expect("Applied");
    assert_eq!(applied.message, "Work object shop-work has failed to apply");
    assert_eq!(condition(&report, types::AVAILABLE), None);
    assert_eq!(report.failed_placements.len(), 1);
    let failed = &report.failed_placements[0];
    assert_eq!(failed.resource.name, "web");
    assert_eq!(failed.condition.type_, types::APPLIED);
    assert_eq!(failed.condition.status, FALSE);
    assert_eq!(failed.condition.reason, reasons::MANIFEST_APPLY_FAILED);
    assert_eq!(
        failed.condition.message,
        "Failed to apply the manifest (error: failed to apply the manifest: denied)"
    );
    assert!(!pass.settled());
    assert_eq!(
        pass.placed().into_keys().collect::<Vec<_>>(),
        vec!["v1/Namespace//shop".to_string()],
        "a failed object is not recorded as placed"
    );
}

#[test]
fn one_unavailable_object_makes_available_false_with_it_as_failed_placement() {
    let now = t("2026-01-09T01:53:53Z");
    let pass = pass(&[(namespace(), AVAILABLE), (deployment(), UNAVAILABLE)]);
    let report = report(None, 2, &pass, "shop", &now);
    assert_eq!(
        condition(&report, types::APPLIED),
        Some((TRUE, reasons::ALL_WORK_HAVE_BEEN_APPLIED))
    );
    assert_eq!(
        condition(&report, types::AVAILABLE),
        Some((FALSE, reasons::NOT_ALL_WORK_ARE_AVAILABLE))
    );
    let available = find_condition(&report.conditions, types::AVAILABLE).expect("Available");
    assert_eq!(
        available.message,
        "Work object shop-work is not yet available"
    );
    assert_eq!(report.failed_placements.len(), 1);
    let failed = &report.failed_placements[0];
    assert_eq!(failed.resource, deployment().identifier());
    assert_eq!(failed.condition.type_, types::AVAILABLE);
    assert_eq!(failed.condition.reason, reasons::MANIFEST_NOT_AVAILABLE_YET);
    assert!(!pass.settled());
    assert_eq!(pass.placed().len(), 2, "an unavailable object is placed");
}

#[test]
fn conditions_are_written_at_the_generation_and_others_are_kept() {
    let t0 = t("2026-01-09T01:00:00Z");
    let t1 = t("2026-01-09T02:00:00Z");
    let started = new_condition(types::ROLLOUT_STARTED, TRUE, "RolloutStarted", "m", 4, &t0);
    let old = ResourceBindingStatus {
        conditions: Some(vec![started.clone()]),
        drifted_placements: Some(vec![json!({"kind": "kept"})]),
        ..Default::default()
    };
    let first = report(
        Some(&old),
        5,
        &pass(&[(namespace(), UNAVAILABLE)]),
        "p",
        &t0,
    );
    let first = first.into_status(Some(&old)).expect("serializes");
    let second = report(
        Some(&first),
        6,
        &pass(&[(namespace(), UNAVAILABLE)]),
        "p",
        &t1,
    );
    for c in &second.conditions {
        if c.type_ == types::ROLLOUT_STARTED {
            assert_eq!(c, &started, "RolloutStarted is the run's to write");
        } else {
            assert_eq!(
                c.observed_generation,
                Some(6),
                "{} at the generation",
                c.type_
            );
            assert_eq!(
                c.last_transition_time, t0,
                "{} did not change status",
                c.type_
            );
        }
    }
    assert!(second
        .failed_placements
        .iter()
        .all(|p| p.condition.observed_generation == Some(6)));
    let status = second.into_status(Some(&first)).expect("serializes");
    assert_eq!(
        status.drifted_placements, None,
        "the agent lists the drifts it sees: none this pass"
    );
    assert_eq!(status.conditions.as_ref().map(Vec::len), Some(5));
}

#[test]
fn a_binding_is_applied_only_when_bound_and_started_at_its_generation() {
    let now = t("2026-01-09T01:53:53Z");
    let spec = |state| ResourceBindingSpec {
        state,
        resource_snapshot_name: Some("crp-1-snapshot".into()),
        ..Default::default()
    };
    let started = |status, generation| ResourceBindingStatus {
        conditions: Some(vec![new_condition(
            types::ROLLOUT_STARTED,
            status,
            "r",
            "m",
            generation,
            &now,
        )]),
        ..Default::default()
    };
    let bound = spec(BindingState::Bound);
    assert_eq!(
        snapshot_to_apply(&bound, Some(&started(TRUE, 2)), 2),
        Some("crp-1-snapshot")
    );
    assert_eq!(
        snapshot_to_apply(&bound, Some(&started(TRUE, 1)), 2),
        None,
        "stale"
    );
    assert_eq!(snapshot_to_apply(&bound, Some(&started(FALSE, 2)), 2), None);
    assert_eq!(snapshot_to_apply(&bound, None, 2), None);
    for state in [BindingState::Scheduled, BindingState::Unscheduled] {
        assert_eq!(
            snapshot_to_apply(&spec(state), Some(&started(TRUE, 2)), 2),
            None
        );
    }
    let unnamed = ResourceBindingSpec {
        resource_snapshot_name: None,
        ..bound
    };
    assert_eq!(
        snapshot_to_apply(&unnamed, Some(&started(TRUE, 2)), 2),
        None
    );
}

#[test]
fn a_deployment_is_available_once_observed_and_every_replica_updated_and_available() {
    let live = |generation: Value, spec: Value, status: Value| {
        json!({"kind": "Deployment", "metadata": {"generation": generation},
               "spec": spec, "status": status})
    };
    let ready = json!({"observedGeneration": 2, "availableReplicas": 3, "updatedReplicas": 3});
    let cases = [
        (
            live(json!(2), json!({"replicas": 3}), ready.clone()),
            true,
            "ready",
        ),
        (
            live(json!(3), json!({"replicas": 3}), ready.clone()),
            false,
            "generation not observed",
        ),
        (
            live(
                json!(2),
                json!({"replicas": 3}),
                json!({"observedGeneration": 2, "availableReplicas": 2, "updatedReplicas": 3}),
            ),
            false,
            "a replica not available",
        ),
        (
            live(
                json!(2),
                json!({"replicas": 3}),
                json!({"observedGeneration": 2, "availableReplicas": 3, "updatedReplicas": 2}),
            ),
            false,
            "a replica not updated",
        ),
        (
            live(
                json!(2),
                json!({}),
                json!({"observedGeneration": 2, "availableReplicas": 1, "updatedReplicas": 1}),
            ),
            true,
            "replicas default to 1",
        ),
        (
            live(
                json!(2),
                json!({}),
                json!({"observedGeneration": 2, "availableReplicas": 0, "updatedReplicas": 1}),
            ),
            false,
            "replicas default to 1, none available",
        ),
        (
            live(json!(null), json!({"replicas": 0}), json!({})),
            false,
            "never observed",
        ),
        (
            live(
                json!(null),
                json!({"replicas": 0}),
                json!({"observedGeneration": 0}),
            ),
            true,
            "no generation counts as 0",
        ),
        (json!({"kind": "ConfigMap"}), true, "other kinds at once"),
    ];
    for (object, available, case) in cases {
        assert_eq!(is_available(&object), available, "{case}");
    }
}

#[test]
fn identifiers_keys_and_the_record_format() {
    let manifest = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": "web", "namespace": "shop"}, "spec": {}});
    let web = ResourceRef::of_manifest(&manifest).expect("identifier");
    assert_eq!(web, deployment());
    assert_eq!(web.key(), "apps/v1/Deployment/shop/web");
    assert_eq!((web.group(), web.version()), ("apps", "v1"));
    let ns = namespace();
    assert_eq!(ns.key(), "v1/Namespace//shop");
    assert_eq!((ns.group(), ns.version()), ("", "v1"));
    assert!(ns.is_namespace() && !web.is_namespace());
    // The record on a member: namespace written as null, read back the same.
    let record = serde_json::to_value(&ns).expect("serializes");
    assert_eq!(
        record,
        json!({"apiVersion": "v1", "kind": "Namespace", "name": "shop", "namespace": null})
    );
    assert_eq!(
        serde_json::from_value::<ResourceRef>(record).ok(),
        Some(ns.clone())
    );
    for (field, manifest) in [
        (
            "apiVersion",
            json!({"kind": "Namespace", "metadata": {"name": "a"}}),
        ),
        (
            "kind",
            json!({"apiVersion": "v1", "metadata": {"name": "a"}}),
        ),
        (
            "metadata.name",
            json!({"apiVersion": "v1", "kind": "Namespace"}),
        ),
    ] {
        assert_eq!(
            ResourceRef::of_manifest(&manifest),
            Err(MissingField(field))
        );
    }
    // A failed placement: the group always written (empty for core), no namespace when
    // cluster-scoped.
    let now = t("2026-01-09T01:53:53Z");
    let report = report(None, 1, &pass(&[(ns, UNAVAILABLE)]), "p", &now);
    let status = report.into_status(None).expect("serializes");
    assert_eq!(
        status.failed_placements,
        Some(vec![json!({
            "group": "", "version": "v1", "kind": "Namespace", "name": "shop",
            "condition": {
                "type": "Available", "status": "False", "reason": "ManifestNotAvailableYet",
                "message": "Manifest is not yet available; Fleet will check again later",
                "observedGeneration": 1, "lastTransitionTime": "2026-01-09T01:53:53Z",
            },
        })])
    );
}

fn config_map() -> ResourceRef {
    ResourceRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "cm".into(),
        namespace: Some("shop".into()),
    }
}

fn detail(path: &str, member: &str, hub: &str) -> PatchDetail {
    PatchDetail {
        path: path.into(),
        value_in_member: Some(member.into()),
        value_in_hub: Some(hub.into()),
    }
}

#[test]
fn report_diff_sets_diff_reported_lists_the_differing_objects_and_drops_applied() {
    let now = t("2026-01-09T01:53:53Z");
    let old = report(None, 1, &pass(&[(namespace(), AVAILABLE)]), "shop", &now)
        .into_status(None)
        .expect("serializes");
    let mut p = pass(&[
        (
            namespace(),
            Outcome::Diff(DiffReport {
                diffs: vec![],
                generation: Some(0),
            }),
        ),
        (
            config_map(),
            Outcome::Diff(DiffReport {
                diffs: vec![detail("/data/key", "member", "hub")],
                generation: Some(0),
            }),
        ),
    ]);
    p.report_diff = true;
    let r = report(Some(&old), 2, &p, "shop", &now);
    assert_eq!(
        condition(&r, types::DIFF_REPORTED),
        Some((TRUE, "AllWorkHaveDiffReported"))
    );
    assert_eq!(
        find_condition(&r.conditions, types::DIFF_REPORTED)
            .expect("DiffReported")
            .message,
        "All corresponding work objects have reported diff"
    );
    assert_eq!(condition(&r, types::APPLIED), None);
    assert_eq!(condition(&r, types::AVAILABLE), None);
    assert!(r.failed_placements.is_empty());
    assert_eq!(r.diffed_placements.len(), 1, "only the object that differs");
    let d = &r.diffed_placements[0];
    assert_eq!(d.resource.name, "cm");
    assert_eq!(d.observed_diffs, vec![detail("/data/key", "member", "hub")]);
    assert!(p.settled());
    assert!(p.placed().is_empty(), "ReportDiff places nothing");

    // A later pass seeing the same diff keeps its times (nothing to write); one failing to
    // report makes DiffReported False with KubeFleet's message and lists nothing.
    let status = r.into_status(None).expect("serializes");
    let later = t("2026-01-09T02:00:00Z");
    let again = report(Some(&status), 2, &p, "shop", &later);
    assert_eq!(again.diffed_placements[0].observation_time, now);
    let mut failing = pass(&[(config_map(), Outcome::DiffFailed("boom".into()))]);
    failing.report_diff = true;
    let r = report(Some(&status), 2, &failing, "shop", &later);
    let c = find_condition(&r.conditions, types::DIFF_REPORTED).expect("DiffReported");
    assert_eq!(
        (c.status.as_str(), c.reason.as_str(), c.message.as_str()),
        (
            FALSE,
            "NotAllWorkHaveDiffReported",
            "Work object shop-work has failed to report diff"
        )
    );
    assert!(r.diffed_placements.is_empty());
}

#[test]
fn refused_objects_are_failed_placements_with_their_result_type_and_findings() {
    let now = t("2026-01-09T01:53:53Z");
    let drift = detail("/data/key", "edited", "hub");
    let p = pass(&[
        (
            config_map(),
            Outcome::Refused(Failure {
                reason: "FoundDrifts",
                error: "cannot apply manifest: drifts are found between the manifest and the object from the member cluster".into(),
                generation: Some(0),
                diffs: vec![],
                drifts: vec![drift.clone()],
            }),
        ),
        (
            namespace(),
            Outcome::Refused(Failure {
                reason: "NotTakenOver",
                error: "no ownership of the object in the member cluster; takeover is needed"
                    .into(),
                ..Failure::default()
            }),
        ),
    ]);
    let mut p = p;
    p.owned_before(&config_map());
    let r = report(None, 1, &p, "shop", &now);
    assert_eq!(
        condition(&r, types::APPLIED),
        Some((FALSE, reasons::NOT_ALL_WORK_HAVE_BEEN_APPLIED))
    );
    let reasons_: Vec<&str> = r
        .failed_placements
        .iter()
        .map(|f| f.condition.reason.as_str())
        .collect();
    assert_eq!(reasons_, ["FoundDrifts", "NotTakenOver"]);
    assert_eq!(
        r.failed_placements[1].condition.message,
        "Failed to apply the manifest (error: no ownership of the object in the member cluster; takeover is needed)"
    );
    assert_eq!(r.drifted_placements.len(), 1);
    assert_eq!(r.drifted_placements[0].observed_drifts, vec![drift]);
    assert!(r.diffed_placements.is_empty());
    // The drifted object (owned before) stays fleetdeck's; the one not taken over never was.
    assert_eq!(
        p.placed().into_keys().collect::<Vec<_>>(),
        vec!["v1/ConfigMap/shop/cm".to_string()]
    );
    assert!(!p.settled(), "drifts are looked at again");
}

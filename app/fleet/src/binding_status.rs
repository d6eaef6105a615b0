//! What the member agent decides about a binding (spec §5, §15 items 6–7), as plain data: whether
//! a binding is due for an apply pass, which objects a snapshot places (their identifiers and the
//! key the agent's record on the member tracks them by), whether a placed object is available, and
//! the binding's `Overridden` / `WorkSynchronized` / `Applied` / `Available` conditions and failed
//! placements after a pass. The agent (`server::members::agent`) reads and writes around these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::binding::{BindingState, ResourceBindingSpec, ResourceBindingStatus};
use crate::condition::{
    is_true_at, messages, new_condition, reasons, set_condition, types, Condition, Time, FALSE,
    TRUE,
};
use crate::placement::ResourceIdentifier;

/// The master snapshot a binding wants on its member, if the agent should apply it now: the
/// binding is `Bound` and its `RolloutStarted` is True at `generation` (spec §5: the work
/// generator only acts on such a binding; an `Unscheduled` one keeps what it placed).
pub fn snapshot_to_apply<'a>(
    spec: &'a ResourceBindingSpec,
    status: Option<&ResourceBindingStatus>,
    generation: i64,
) -> Option<&'a str> {
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let started = is_true_at(conditions, types::ROLLOUT_STARTED, generation);
    spec.resource_snapshot_name
        .as_deref()
        .filter(|_| started && spec.state == BindingState::Bound)
}

/// One object a snapshot places on a member, as the agent's record there lists it. Serialized as
/// `{apiVersion, kind, name, namespace}` with `namespace: null` for a cluster-scoped object: the
/// records already on members read back unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// A snapshot object without a field every Kubernetes object has.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a snapshot object has no {0}")]
pub struct MissingField(pub &'static str);

impl ResourceRef {
    /// The identifier of a snapshot's object (a manifest as the hub served it).
    pub fn of_manifest(manifest: &Value) -> Result<Self, MissingField> {
        let text = |value: &Value, field: &'static str| {
            value
                .as_str()
                .map(str::to_string)
                .ok_or(MissingField(field))
        };
        Ok(ResourceRef {
            api_version: text(&manifest["apiVersion"], "apiVersion")?,
            kind: text(&manifest["kind"], "kind")?,
            name: text(&manifest["metadata"]["name"], "metadata.name")?,
            namespace: manifest["metadata"]["namespace"]
                .as_str()
                .map(str::to_string),
        })
    }

    /// What the agent's record is keyed by: `apiVersion/kind/namespace/name`, the namespace
    /// empty for a cluster-scoped object.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.api_version,
            self.kind,
            self.namespace.as_deref().unwrap_or_default(),
            self.name
        )
    }

    /// The API group, empty for the core group (`v1`).
    pub fn group(&self) -> &str {
        self.api_version
            .split_once('/')
            .map_or("", |(group, _)| group)
    }

    /// The API version without its group.
    pub fn version(&self) -> &str {
        self.api_version
            .split_once('/')
            .map_or(self.api_version.as_str(), |(_, version)| version)
    }

    /// A Namespace: removed after everything else, so nothing is deleted twice over.
    pub fn is_namespace(&self) -> bool {
        self.kind == "Namespace"
    }

    /// The identifier a failed placement names it by. The group is always written, empty for the
    /// core group, as the agent always has.
    pub fn identifier(&self) -> ResourceIdentifier {
        ResourceIdentifier {
            group: Some(self.group().to_string()),
            version: Some(self.version().to_string()),
            kind: self.kind.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            envelope: None,
        }
    }
}

/// An object of the binding's snapshot that failed to apply or is not available yet, with the
/// condition that says which (KubeFleet's `FailedResourcePlacement`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedResourcePlacement {
    #[serde(flatten)]
    pub resource: ResourceIdentifier,
    pub condition: Condition,
}

/// What an apply pass did with one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The member holds the object; `available` as [`is_available`] judged what it holds.
    Applied { available: bool },
    /// The member refused it, or could not be asked; the message says why.
    Failed(String),
}

/// What an apply pass did with each object of the binding's snapshot, in snapshot order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyPass {
    pub objects: Vec<(ResourceRef, Outcome)>,
}

impl ApplyPass {
    pub fn push(&mut self, object: ResourceRef, outcome: Outcome) {
        self.objects.push((object, outcome));
    }

    /// The objects the member holds now, by key: what the record lists after the pass.
    pub fn placed(&self) -> BTreeMap<String, ResourceRef> {
        self.objects
            .iter()
            .filter(|(_, outcome)| matches!(outcome, Outcome::Applied { .. }))
            .map(|(object, _)| (object.key(), object.clone()))
            .collect()
    }

    /// Every object applied and available: nothing left to check again.
    pub fn settled(&self) -> bool {
        self.objects
            .iter()
            .all(|(_, outcome)| *outcome == Outcome::Applied { available: true })
    }

    fn failed(&self) -> impl Iterator<Item = (&ResourceRef, &str)> {
        self.objects
            .iter()
            .filter_map(|(object, outcome)| match outcome {
                Outcome::Failed(message) => Some((object, message.as_str())),
                Outcome::Applied { .. } => None,
            })
    }

    fn unavailable(&self) -> impl Iterator<Item = &ResourceRef> {
        self.objects
            .iter()
            .filter_map(|(object, outcome)| match outcome {
                Outcome::Applied { available: false } => Some(object),
                _ => None,
            })
    }
}

/// Whether the member reports an object ready: a Deployment when its pods are
/// ([`DeploymentProgress::is_available`]), every other kind as soon as it is applied.
pub fn is_available(live: &Value) -> bool {
    live["kind"] != "Deployment" || DeploymentProgress::of(live).is_available()
}

/// The parts of a live Deployment its availability is judged on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeploymentProgress {
    pub generation: i64,
    pub observed_generation: i64,
    pub replicas: i64,
    pub available_replicas: i64,
    pub updated_replicas: i64,
}

impl DeploymentProgress {
    /// Read as the member wrote it, leniently: no generation counts as 0, no observedGeneration
    /// as never observed (-1), no `spec.replicas` as Kubernetes' default of 1, no replica counts
    /// as 0.
    pub fn of(live: &Value) -> Self {
        let number = |value: &Value, absent: i64| value.as_i64().unwrap_or(absent);
        let status = &live["status"];
        DeploymentProgress {
            generation: number(&live["metadata"]["generation"], 0),
            observed_generation: number(&status["observedGeneration"], -1),
            replicas: number(&live["spec"]["replicas"], 1),
            available_replicas: number(&status["availableReplicas"], 0),
            updated_replicas: number(&status["updatedReplicas"], 0),
        }
    }

    /// The deployment controller has seen the current generation and every wanted replica is
    /// both updated and available.
    pub fn is_available(&self) -> bool {
        self.observed_generation >= self.generation
            && self.available_replicas >= self.replicas
            && self.updated_replicas >= self.replicas
    }
}

/// The agent's report on a binding after an apply pass: its conditions (the others it had,
/// `RolloutStarted` among them, kept as they were) and its failed placements.
#[derive(Clone, Debug, PartialEq)]
pub struct BindingReport {
    pub conditions: Vec<Condition>,
    pub failed_placements: Vec<FailedResourcePlacement>,
}

/// The report after `pass` on a binding at `generation` of the placement `placement`.
///
/// `Overridden` and `WorkSynchronized` are True (fleetdeck has no overrides and no Work objects).
/// `Applied` is True only when every object applied; when one failed it is False, `Available` is
/// dropped (it says nothing about objects not applied) and each failed object is a failed
/// placement. Otherwise `Available` is True only when every object is available, and each
/// unavailable one is a failed placement. Every condition is written at `generation`; one whose
/// status does not change keeps its transition time, so an unchanged state reads back equal.
pub fn report(
    old: Option<&ResourceBindingStatus>,
    generation: i64,
    pass: &ApplyPass,
    placement: &str,
    now: &Time,
) -> BindingReport {
    let mut conditions = old.and_then(|s| s.conditions.clone()).unwrap_or_default();
    let set = |conditions: &mut Vec<Condition>,
               type_: &str,
               status: &str,
               reason: &str,
               message: &str| {
        set_condition(
            conditions,
            new_condition(type_, status, reason, message, generation, now),
        );
    };
    set(
        &mut conditions,
        types::OVERRIDDEN,
        TRUE,
        reasons::NO_OVERRIDE_SPECIFIED,
        messages::NO_OVERRIDE_SPECIFIED,
    );
    set(
        &mut conditions,
        types::WORK_SYNCHRONIZED,
        TRUE,
        reasons::ALL_WORK_SYNCED,
        messages::ALL_WORK_SYNCED,
    );
    let work = format!("{placement}-work");
    let failed_placement =
        |object: &ResourceRef, type_: &str, reason: &str, message: &str| FailedResourcePlacement {
            resource: object.identifier(),
            condition: new_condition(type_, FALSE, reason, message, generation, now),
        };
    let failed_placements: Vec<FailedResourcePlacement> = if pass.failed().next().is_some() {
        set(
            &mut conditions,
            types::APPLIED,
            FALSE,
            reasons::NOT_ALL_WORK_HAVE_BEEN_APPLIED,
            &messages::work_not_applied(&work),
        );
        conditions.retain(|c| c.type_ != types::AVAILABLE);
        pass.failed()
            .map(|(object, message)| {
                failed_placement(
                    object,
                    types::APPLIED,
                    reasons::MANIFEST_APPLY_FAILED,
                    message,
                )
            })
            .collect()
    } else {
        set(
            &mut conditions,
            types::APPLIED,
            TRUE,
            reasons::ALL_WORK_HAVE_BEEN_APPLIED,
            messages::ALL_WORK_APPLIED,
        );
        if pass.unavailable().next().is_none() {
            set(
                &mut conditions,
                types::AVAILABLE,
                TRUE,
                reasons::ALL_WORK_ARE_AVAILABLE,
                messages::ALL_WORK_AVAILABLE,
            );
        } else {
            set(
                &mut conditions,
                types::AVAILABLE,
                FALSE,
                reasons::NOT_ALL_WORK_ARE_AVAILABLE,
                &messages::work_not_available(&work),
            );
        }
        pass.unavailable()
            .map(|object| {
                failed_placement(
                    object,
                    types::AVAILABLE,
                    reasons::MANIFEST_NOT_AVAILABLE_YET,
                    messages::MANIFEST_NOT_AVAILABLE_YET,
                )
            })
            .collect()
    };
    BindingReport {
        conditions,
        failed_placements,
    }
}

impl BindingReport {
    /// The binding's status with this report: its drifted and diffed placements stay as they
    /// were; no failed placement leaves the field out.
    pub fn into_status(
        self,
        old: Option<&ResourceBindingStatus>,
    ) -> Result<ResourceBindingStatus, serde_json::Error> {
        let failed_placements = self
            .failed_placements
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ResourceBindingStatus {
            failed_placements: (!failed_placements.is_empty()).then_some(failed_placements),
            conditions: Some(self.conditions),
            ..old.cloned().unwrap_or_default()
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::condition::find_condition;

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
        assert_eq!(applied.message, "Work object shop-work is not yet applied");
        assert_eq!(condition(&report, types::AVAILABLE), None);
        assert_eq!(report.failed_placements.len(), 1);
        let failed = &report.failed_placements[0];
        assert_eq!(failed.resource.name, "web");
        assert_eq!(failed.condition.type_, types::APPLIED);
        assert_eq!(failed.condition.status, FALSE);
        assert_eq!(failed.condition.reason, reasons::MANIFEST_APPLY_FAILED);
        assert_eq!(failed.condition.message, "denied");
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
        assert_eq!(status.drifted_placements, old.drifted_placements);
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
}

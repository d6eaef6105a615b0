//! What the member agent decides about a binding (spec §5, §15 items 6–7), as plain data: whether
//! a binding is due for an apply pass, which objects a snapshot places (their identifiers and the
//! key the agent's record on the member tracks them by), whether a placed object is available, and
//! the binding's `Overridden` / `WorkSynchronized` / `Applied` / `Available` conditions and failed
//! placements after a pass. The agent (`server::members::agent`) reads and writes around these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::apply::compare::PatchDetail;
use crate::apply::decide::{DiffReport, Failure};
use crate::placement::binding::{BindingState, ResourceBindingSpec, ResourceBindingStatus};
use crate::placement::resource_placement::ResourceIdentifier;
use crate::types::condition::{
    is_true_at, messages, new_condition, reasons, set_condition, types, Condition, Time, FALSE,
    TRUE,
};

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
    /// The member refused the apply, or could not be asked; the member API's message says why
    /// (result type `ManifestApplyFailed`).
    Failed(String),
    /// Not applied for another reason of the pipeline (takeover, drifts, …).
    Refused(Failure),
    /// ReportDiff: the differences found, nothing written.
    Diff(DiffReport),
    /// ReportDiff: the differences could not be found; the error says why.
    DiffFailed(String),
}

/// Differences seen on one object of the member, with when they were first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observed {
    pub object: ResourceRef,
    /// The member object's generation; `None` when the member lacks it.
    pub generation: Option<i64>,
    pub details: Vec<PatchDetail>,
}

/// What an apply pass did with each object of the binding's snapshot, in snapshot order, and
/// the drifts a `FullComparison` found after applying.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyPass {
    pub objects: Vec<(ResourceRef, Outcome)>,
    pub drifts: Vec<Observed>,
    /// The binding's apply strategy is `ReportDiff`.
    pub report_diff: bool,
    /// Keys of the objects fleetdeck owned on the member before this pass.
    pub owned: std::collections::BTreeSet<String>,
}

impl ApplyPass {
    pub fn push(&mut self, object: ResourceRef, outcome: Outcome) {
        self.objects.push((object, outcome));
    }

    /// Drifts left on an applied object (post-apply check).
    pub fn push_drifts(&mut self, object: ResourceRef, generation: i64, details: Vec<PatchDetail>) {
        if !details.is_empty() {
            self.drifts.push(Observed {
                object,
                generation: Some(generation),
                details,
            });
        }
    }

    /// The objects the member holds now, by key: what the record lists after the pass. Those
    /// applied, and those fleetdeck owned before the pass that it did not write this time
    /// (refused for drifts, an update the member rejected): they stay its own, not left-overs to
    /// delete. An object never taken over is not listed.
    pub fn placed(&self) -> BTreeMap<String, ResourceRef> {
        self.objects
            .iter()
            .filter(|(object, outcome)| {
                matches!(outcome, Outcome::Applied { .. }) || self.owned.contains(&object.key())
            })
            .map(|(object, _)| (object.key(), object.clone()))
            .collect()
    }

    /// `object` was fleetdeck's on the member before this pass.
    pub fn owned_before(&mut self, object: &ResourceRef) {
        self.owned.insert(object.key());
    }

    /// Every object applied and available (or its diff reported): nothing left to check
    /// again. Refused objects and drifts are looked at again later, as KubeFleet's periodic
    /// requeue does (placement-extras §2.2 step 7).
    pub fn settled(&self) -> bool {
        self.drifts.is_empty()
            && self.objects.iter().all(|(_, outcome)| {
                matches!(
                    outcome,
                    Outcome::Applied { available: true } | Outcome::Diff(_)
                )
            })
    }

    /// The objects not applied, with why.
    fn failed(&self) -> impl Iterator<Item = (&ResourceRef, Failure)> {
        self.objects
            .iter()
            .filter_map(|(object, outcome)| match outcome {
                Outcome::Failed(message) => Some((object, Failure::apply_failed(message))),
                Outcome::Refused(failure) => Some((object, failure.clone())),
                _ => None,
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

/// An object whose member copy drifted from what was applied (KubeFleet's
/// `DriftedResourcePlacement`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftedResourcePlacement {
    #[serde(flatten)]
    pub resource: ResourceIdentifier,
    pub observation_time: Time,
    pub target_cluster_observed_generation: i64,
    pub first_drifted_observed_time: Time,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_drifts: Vec<PatchDetail>,
}

/// An object whose member copy differs from the hub's manifest (KubeFleet's
/// `DiffedResourcePlacement`); `targetClusterObservedGeneration` is null when the member lacks
/// the object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffedResourcePlacement {
    #[serde(flatten)]
    pub resource: ResourceIdentifier,
    pub observation_time: Time,
    pub target_cluster_observed_generation: Option<i64>,
    pub first_diffed_observed_time: Time,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub observed_diffs: Vec<PatchDetail>,
}

/// The agent's report on a binding after an apply pass: its conditions (the others it had,
/// `RolloutStarted` among them, kept as they were) and its failed, drifted and diffed placements.
#[derive(Clone, Debug, PartialEq)]
pub struct BindingReport {
    pub conditions: Vec<Condition>,
    pub failed_placements: Vec<FailedResourcePlacement>,
    pub drifted_placements: Vec<DriftedResourcePlacement>,
    pub diffed_placements: Vec<DiffedResourcePlacement>,
}

/// The report after `pass` on a binding at `generation` of the placement `placement`.
///
/// `Overridden` True with `NoOverrideSpecified` and `WorkSynchronized` True (fleetdeck has no Work
/// objects).
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
    report_overridden(old, generation, pass, placement, false, now)
}

/// [`report`] after a pass whose objects the binding's overrides rendered: `Overridden` True,
/// `OverriddenSucceeded` when the binding lists an override (`with_overrides`), else
/// `NoOverrideSpecified` (placement-extras §1.9).
///
/// Under ReportDiff (placement-extras §2.10) `DiffReported` takes the place of `Applied` and
/// `Available`: True when every object's diff was reported, with the objects that differ as
/// diffed placements. When applying, an object not applied is a failed placement with its
/// result type as reason, and the diffs (a refused `IfNoDiff` takeover) and drifts (`IfNotDrifted`,
/// or `FullComparison` after applying) found are the diffed and drifted placements.
pub fn report_overridden(
    old: Option<&ResourceBindingStatus>,
    generation: i64,
    pass: &ApplyPass,
    placement: &str,
    with_overrides: bool,
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
    let (reason, message) = if with_overrides {
        (
            reasons::OVERRIDDEN_SUCCEEDED,
            messages::OVERRIDDEN_SUCCEEDED,
        )
    } else {
        (
            reasons::NO_OVERRIDE_SPECIFIED,
            messages::NO_OVERRIDE_SPECIFIED,
        )
    };
    set(&mut conditions, types::OVERRIDDEN, TRUE, reason, message);
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
    let mut report = BindingReport {
        conditions: Vec::new(),
        failed_placements: Vec::new(),
        drifted_placements: Vec::new(),
        diffed_placements: Vec::new(),
    };
    let mut diffs: Vec<Observed> = Vec::new();
    let mut drifts: Vec<Observed> = Vec::new();

    if pass.report_diff {
        conditions.retain(|c| c.type_ != types::APPLIED && c.type_ != types::AVAILABLE);
        let reported = pass
            .objects
            .iter()
            .all(|(_, outcome)| matches!(outcome, Outcome::Diff(_)));
        if reported {
            set(
                &mut conditions,
                types::DIFF_REPORTED,
                TRUE,
                ALL_WORK_HAVE_DIFF_REPORTED,
                "All corresponding work objects have reported diff",
            );
            diffs = pass
                .objects
                .iter()
                .filter_map(|(object, outcome)| match outcome {
                    Outcome::Diff(d) if !d.diffs.is_empty() => Some(Observed {
                        object: object.clone(),
                        generation: d.generation,
                        details: d.diffs.clone(),
                    }),
                    _ => None,
                })
                .collect();
        } else {
            set(
                &mut conditions,
                types::DIFF_REPORTED,
                FALSE,
                NOT_ALL_WORK_HAVE_DIFF_REPORTED,
                &format!("Work object {work} has failed to report diff"),
            );
        }
    } else if pass.failed().next().is_some() {
        conditions.retain(|c| c.type_ != types::DIFF_REPORTED);
        set(
            &mut conditions,
            types::APPLIED,
            FALSE,
            reasons::NOT_ALL_WORK_HAVE_BEEN_APPLIED,
            &messages::work_not_applied(&work),
        );
        conditions.retain(|c| c.type_ != types::AVAILABLE);
        for (object, failure) in pass.failed() {
            report.failed_placements.push(failed_placement(
                object,
                types::APPLIED,
                failure.reason,
                &failure.message(),
            ));
            let observed = |details: Vec<PatchDetail>| Observed {
                object: object.clone(),
                generation: failure.generation,
                details,
            };
            if !failure.diffs.is_empty() {
                diffs.push(observed(failure.diffs.clone()));
            }
            if !failure.drifts.is_empty() {
                drifts.push(observed(failure.drifts.clone()));
            }
        }
        drifts.extend(pass.drifts.iter().cloned());
    } else {
        conditions.retain(|c| c.type_ != types::DIFF_REPORTED);
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
        report.failed_placements = pass
            .unavailable()
            .map(|object| {
                failed_placement(
                    object,
                    types::AVAILABLE,
                    reasons::MANIFEST_NOT_AVAILABLE_YET,
                    messages::MANIFEST_NOT_AVAILABLE_YET,
                )
            })
            .collect();
        drifts.extend(pass.drifts.iter().cloned());
    }
    report.failed_placements.truncate(MAX_PLACEMENTS);
    report.conditions = conditions;
    report.diffed_placements = limit(diffs)
        .into_iter()
        .map(|o| {
            let resource = o.object.identifier();
            let prev = old
                .and_then(|s| s.diffed_placements.as_deref())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| serde_json::from_value::<DiffedResourcePlacement>(v.clone()).ok())
                .find(|p| p.resource == resource);
            let (observed, first) = observation_times(
                prev.as_ref().map(|p| {
                    (
                        &p.observed_diffs,
                        &p.observation_time,
                        &p.first_diffed_observed_time,
                    )
                }),
                &o.details,
                now,
            );
            DiffedResourcePlacement {
                resource,
                observation_time: observed,
                target_cluster_observed_generation: o.generation,
                first_diffed_observed_time: first,
                observed_diffs: o.details,
            }
        })
        .collect();
    report.drifted_placements = limit(drifts)
        .into_iter()
        .map(|o| {
            let resource = o.object.identifier();
            let prev = old
                .and_then(|s| s.drifted_placements.as_deref())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| serde_json::from_value::<DriftedResourcePlacement>(v.clone()).ok())
                .find(|p| p.resource == resource);
            let (observed, first) = observation_times(
                prev.as_ref().map(|p| {
                    (
                        &p.observed_drifts,
                        &p.observation_time,
                        &p.first_drifted_observed_time,
                    )
                }),
                &o.details,
                now,
            );
            DriftedResourcePlacement {
                resource,
                observation_time: observed,
                target_cluster_observed_generation: o.generation.unwrap_or(0),
                first_drifted_observed_time: first,
                observed_drifts: o.details,
            }
        })
        .collect();
    report
}

/// At most this many failed, drifted and diffed placements each (KubeFleet's limit).
pub const MAX_PLACEMENTS: usize = 100;
const ALL_WORK_HAVE_DIFF_REPORTED: &str = "AllWorkHaveDiffReported";
const NOT_ALL_WORK_HAVE_DIFF_REPORTED: &str = "NotAllWorkHaveDiffReported";

/// Drifted or diffed objects over the limit: sorted by group/version/kind/namespace/name first
/// (placement-extras §2.10).
fn limit(mut observed: Vec<Observed>) -> Vec<Observed> {
    if observed.len() > MAX_PLACEMENTS {
        observed.sort_by_key(|o| {
            (
                o.object.group().to_string(),
                o.object.version().to_string(),
                o.object.kind.clone(),
                o.object.namespace.clone().unwrap_or_default(),
                o.object.name.clone(),
            )
        });
        observed.truncate(MAX_PLACEMENTS);
    }
    observed
}

/// `(observationTime, firstObservedTime)` of an entry: the first time is kept while the object
/// stays in the list; the observation time is kept while the details are the same, so a pass
/// that sees nothing new writes nothing (KubeFleet refreshes it on each of its backed-off passes).
fn observation_times(
    prev: Option<(&Vec<PatchDetail>, &Time, &Time)>,
    details: &[PatchDetail],
    now: &Time,
) -> (Time, Time) {
    match prev {
        Some((old, observed, first)) if old.as_slice() == details => {
            (observed.clone(), first.clone())
        }
        Some((_, _, first)) => (now.clone(), first.clone()),
        None => (now.clone(), now.clone()),
    }
}

/// The report when the binding's overrides cannot be applied (placement-extras §1.8 step 5, §1.9):
/// `Overridden` False with the error, and no `WorkSynchronized`, `Applied` or `Available` (nothing
/// was written to the member, which keeps what it had). Failed placements are left as they were.
pub fn override_failed(
    old: Option<&ResourceBindingStatus>,
    generation: i64,
    error: &str,
    now: &Time,
) -> BindingReport {
    let mut conditions = old.and_then(|s| s.conditions.clone()).unwrap_or_default();
    conditions.retain(|c| {
        ![types::WORK_SYNCHRONIZED, types::APPLIED, types::AVAILABLE].contains(&c.type_.as_str())
    });
    set_condition(
        &mut conditions,
        new_condition(
            types::OVERRIDDEN,
            FALSE,
            reasons::OVERRIDDEN_FAILED,
            &messages::overridden_failed(error),
            generation,
            now,
        ),
    );
    BindingReport {
        conditions,
        failed_placements: Vec::new(),
        drifted_placements: Vec::new(),
        diffed_placements: Vec::new(),
    }
}

impl BindingReport {
    /// The binding's status with this report; an empty list leaves its field out.
    pub fn into_status(
        self,
        _old: Option<&ResourceBindingStatus>,
    ) -> Result<ResourceBindingStatus, serde_json::Error> {
        fn values<T: Serialize>(list: &[T]) -> Result<Option<Vec<Value>>, serde_json::Error> {
            let values = list
                .iter()
                .map(serde_json::to_value)
                .collect::<Result<Vec<_>, _>>()?;
            Ok((!values.is_empty()).then_some(values))
        }
        Ok(ResourceBindingStatus {
            failed_placements: values(&self.failed_placements)?,
            drifted_placements: values(&self.drifted_placements)?,
            diffed_placements: values(&self.diffed_placements)?,
            conditions: Some(self.conditions),
        })
    }
}

#[cfg(test)]
#[path = "binding_status_tests.rs"]
mod tests;

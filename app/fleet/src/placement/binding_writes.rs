//! The writes that carry out the scheduler's [`BindingChanges`] (spec §5 "Scheduler behaviour")
//! and a rollout's moves: new bindings as typed objects, state changes as typed merge patches.
//! The engine sends them as they are.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::overrides::matching::ClusterOverrides;
use crate::placement::binding::{BindingState, ResourceBindingSpec};
use crate::placement::placement_ref::PlacementRef;
use crate::placement::resource_placement::{ApplyStrategy, NamespacedName};
use crate::placement::scheduling::{BindingChanges, ExistingBinding, Schedule};
use crate::placement::snapshot::ClusterDecision;
use crate::types::merge_patch::MetadataPatch;
use crate::types::names::{
    binding_name, PARENT_PLACEMENT_LABEL, PREVIOUS_BINDING_STATE_ANNOTATION,
};
use crate::{FleetKind, Object};

/// A merge patch of a binding's metadata and spec.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BindingPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataPatch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spec: Option<BindingSpecPatch>,
}

/// The spec fields a binding patch sets; the others stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingSpecPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<BindingState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_snapshot_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduling_policy_snapshot_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apply_strategy: Option<ApplyStrategy>,
    /// `Some(None)` clears the list (a merge patch's `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_resource_override_snapshots: Option<Option<Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_override_snapshots: Option<Option<Vec<NamespacedName>>>,
}

impl BindingSpecPatch {
    /// Sets both override lists, clearing an empty one.
    pub fn set_overrides(&mut self, overrides: &ClusterOverrides) {
        fn list<T: Clone>(v: &[T]) -> Option<Vec<T>> {
            (!v.is_empty()).then(|| v.to_vec())
        }
        self.cluster_resource_override_snapshots =
            Some(list(&overrides.cluster_resource_overrides));
        self.resource_override_snapshots = Some(list(&overrides.resource_overrides));
    }
}

impl BindingPatch {
    /// De-selected: `Unscheduled`, remembering the state it had (spec §5).
    pub fn unschedule(previous: BindingState) -> Self {
        BindingPatch {
            metadata: Some(MetadataPatch::annotation(
                PREVIOUS_BINDING_STATE_ANNOTATION,
                Some(previous.as_str().to_string()),
            )),
            spec: Some(BindingSpecPatch {
                state: Some(BindingState::Unscheduled),
                ..BindingSpecPatch::default()
            }),
        }
    }

    /// Re-selected: back to its previous state, on the latest policy snapshot (spec §5).
    pub fn restore(state: BindingState, policy_snapshot: &str) -> Self {
        BindingPatch {
            metadata: Some(MetadataPatch::annotation(
                PREVIOUS_BINDING_STATE_ANNOTATION,
                None,
            )),
            spec: Some(BindingSpecPatch {
                state: Some(state),
                scheduling_policy_snapshot_name: Some(policy_snapshot.to_string()),
                ..BindingSpecPatch::default()
            }),
        }
    }

    /// Still selected: re-pointed at the latest policy snapshot (spec §5).
    pub fn repoint(policy_snapshot: &str) -> Self {
        BindingPatch {
            metadata: None,
            spec: Some(BindingSpecPatch {
                scheduling_policy_snapshot_name: Some(policy_snapshot.to_string()),
                ..BindingSpecPatch::default()
            }),
        }
    }

    /// Rolled out: `Bound` to `master` with the placement's apply strategy (spec §5).
    pub fn roll_out(master: &str, apply_strategy: ApplyStrategy) -> Self {
        BindingPatch {
            metadata: None,
            spec: Some(BindingSpecPatch {
                state: Some(BindingState::Bound),
                resource_snapshot_name: Some(master.to_string()),
                apply_strategy: Some(apply_strategy),
                ..BindingSpecPatch::default()
            }),
        }
    }
}

/// The writes for one [`BindingChanges`], in the order to send them.
#[derive(Debug, PartialEq)]
pub struct BindingWrites<K: FleetKind> {
    /// New `Scheduled` bindings, created first.
    pub create: Vec<Object<K>>,
    /// Patches by binding name: unschedules, then restores, then re-points.
    pub patch: Vec<(String, BindingPatch)>,
}

/// The writes that carry out `changes` for a placement scheduled as `schedule` on
/// `policy_snapshot`. `suffix` gives each new binding's random name suffix (spec §2).
pub fn binding_writes<K: FleetKind<Spec = ResourceBindingSpec>>(
    changes: &BindingChanges,
    owner: &PlacementRef,
    schedule: &Schedule,
    policy_snapshot: &str,
    mut suffix: impl FnMut() -> String,
) -> BindingWrites<K> {
    let decisions = decisions_by_cluster(schedule);
    let create = changes
        .create
        .iter()
        .map(|cluster| {
            let decision = decisions.get(cluster.as_str()).map(|d| (*d).clone());
            new_binding(owner, cluster, &suffix(), policy_snapshot, decision)
        })
        .collect();
    let unschedule = changes
        .unschedule
        .iter()
        .map(|(name, previous)| (name.clone(), BindingPatch::unschedule(*previous)));
    let restore = changes
        .restore
        .iter()
        .map(|(name, state)| (name.clone(), BindingPatch::restore(*state, policy_snapshot)));
    let repoint = changes
        .repoint
        .iter()
        .map(|name| (name.clone(), BindingPatch::repoint(policy_snapshot)));
    BindingWrites {
        create,
        patch: unschedule.chain(restore).chain(repoint).collect(),
    }
}

/// A `Scheduled` binding of `cluster`, owned by the placement (spec §5, name as spec §2).
pub fn new_binding<K: FleetKind<Spec = ResourceBindingSpec>>(
    owner: &PlacementRef,
    cluster: &str,
    suffix: &str,
    policy_snapshot: &str,
    decision: Option<ClusterDecision>,
) -> Object<K> {
    Object {
        api_version: K::api_version(),
        kind: K::KIND.to_string(),
        metadata: ObjectMeta {
            name: Some(binding_name(&owner.name, cluster, suffix)),
            namespace: owner.namespace.clone(),
            labels: Some(BTreeMap::from([(
                PARENT_PLACEMENT_LABEL.to_string(),
                owner.name.clone(),
            )])),
            owner_references: Some(vec![owner.owner_reference()]),
            ..ObjectMeta::default()
        },
        spec: ResourceBindingSpec {
            state: BindingState::Scheduled,
            target_cluster: cluster.to_string(),
            scheduling_policy_snapshot_name: Some(policy_snapshot.to_string()),
            cluster_decision: decision,
            ..ResourceBindingSpec::default()
        },
        status: None,
    }
}

/// The first decision for each cluster: lookups stay linear at 10,000 clusters.
pub fn decisions_by_cluster(schedule: &Schedule) -> HashMap<&str, &ClusterDecision> {
    let mut map = HashMap::with_capacity(schedule.decisions.len());
    for d in &schedule.decisions {
        map.entry(d.cluster_name.as_str()).or_insert(d);
    }
    map
}

/// What the scheduler knows of a binding read from the hub.
pub fn existing_binding<K: FleetKind<Spec = ResourceBindingSpec>>(
    binding: &Object<K>,
) -> ExistingBinding {
    let previous = binding
        .annotations()
        .get(PREVIOUS_BINDING_STATE_ANNOTATION)
        .and_then(|s| match s.as_str() {
            "Bound" => Some(BindingState::Bound),
            "Scheduled" => Some(BindingState::Scheduled),
            _ => None,
        });
    ExistingBinding {
        name: binding.name().to_string(),
        cluster: binding.spec.target_cluster.clone(),
        state: binding.spec.state,
        previous_state: previous,
        policy_snapshot: binding.spec.scheduling_policy_snapshot_name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::kind::ResourceBinding;

    fn owner() -> PlacementRef {
        PlacementRef {
            api_version: "placement.kubernetes-fleet.io/v1beta1".into(),
            kind: "ResourcePlacement".into(),
            name: "rp".into(),
            namespace: Some("ns".into()),
            uid: "u".into(),
        }
    }

    #[test]
    fn patches_are_the_merge_patches_of_spec_5() {
        let cases = [
            (
                BindingPatch::unschedule(BindingState::Bound),
                json!({
                    "metadata": {"annotations": {PREVIOUS_BINDING_STATE_ANNOTATION: "Bound"}},
                    "spec": {"state": "Unscheduled"},
                }),
            ),
            (
                BindingPatch::restore(BindingState::Scheduled, "rp-1"),
                json!({
                    "metadata": {"annotations": {PREVIOUS_BINDING_STATE_ANNOTATION: null}},
                    "spec": {"state": "Scheduled", "schedulingPolicySnapshotName": "rp-1"},
                }),
            ),
            (
                BindingPatch::repoint("rp-1"),
                json!({"spec": {"schedulingPolicySnapshotName": "rp-1"}}),
            ),
            (
                BindingPatch::roll_out("rp-0-snapshot", ApplyStrategy::default()),
                json!({"spec": {
                    "state": "Bound",
                    "resourceSnapshotName": "rp-0-snapshot",
                    "applyStrategy": {},
                }}),
            ),
        ];
        for (patch, want) in cases {
            assert_eq!(serde_json::to_value(&patch).expect("serializes"), want);
        }
    }

    #[test]
    fn writes_create_then_unschedule_restore_repoint() {
        let schedule = Schedule {
            selected: vec!["a".into()],
            decisions: vec![
                ClusterDecision {
                    cluster_name: "a".into(),
                    selected: true,
                    reason: Some("first".into()),
                    ..ClusterDecision::default()
                },
                ClusterDecision {
                    cluster_name: "a".into(),
                    reason: Some("second".into()),
                    ..ClusterDecision::default()
                },
            ],
            fulfilled: true,
        };
        let changes = BindingChanges {
            create: vec!["a".into()],
            unschedule: vec![("b1".into(), BindingState::Bound)],
            restore: vec![("c1".into(), BindingState::Scheduled)],
            repoint: vec!["d1".into()],
        };
        let writes: BindingWrites<ResourceBinding> =
            binding_writes(&changes, &owner(), &schedule, "rp-2", || "0a1b2c3d".into());
        let names: Vec<&str> = writes.patch.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["b1", "c1", "d1"]);
        assert_eq!(writes.create.len(), 1);
        let created = serde_json::to_value(&writes.create[0]).expect("serializes");
        assert_eq!(
            created,
            json!({
                "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
                "kind": "ResourceBinding",
                "metadata": {
                    "name": "rp-a-0a1b2c3d",
                    "namespace": "ns",
                    "labels": {PARENT_PLACEMENT_LABEL: "rp"},
                    "ownerReferences": [{
                        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
                        "kind": "ResourcePlacement",
                        "name": "rp",
                        "uid": "u",
                        "controller": true,
                        "blockOwnerDeletion": true,
                    }],
                },
                "spec": {
                    "state": "Scheduled",
                    "targetCluster": "a",
                    "schedulingPolicySnapshotName": "rp-2",
                    // The first decision of the cluster wins.
                    "clusterDecision": {"clusterName": "a", "selected": true, "reason": "first"},
                },
            })
        );
    }

    #[test]
    fn previous_state_is_read_from_the_annotation() {
        let mut b = Object::<ResourceBinding>::new_namespaced("ns", "b", Default::default());
        b.spec.state = BindingState::Unscheduled;
        b.spec.target_cluster = "c".into();
        for (value, want) in [
            (Some("Bound"), Some(BindingState::Bound)),
            (Some("Scheduled"), Some(BindingState::Scheduled)),
            (Some("Unscheduled"), None),
            (None, None),
        ] {
            b.metadata.annotations = value.map(|v| {
                BTreeMap::from([(PREVIOUS_BINDING_STATE_ANNOTATION.to_string(), v.to_string())])
            });
            let existing = existing_binding(&b);
            assert_eq!(existing.previous_state, want, "{value:?}");
            assert_eq!(existing.cluster, "c");
        }
    }
}

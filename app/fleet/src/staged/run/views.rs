//! Scope-free views of the objects a run reads, so one state machine serves the cluster-scoped and
//! the namespaced kinds (spec §1 scope pairing).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::overrides::matching::{CroSnapshot, RoSnapshot};
use crate::placement::binding::{ResourceBindingSpec, ResourceBindingStatus};
use crate::placement::resource_placement::{PlacementPolicy, PlacementSpec};
use crate::placement::snapshot::{
    ResourceSnapshotSpec, ResourceSnapshotStatus, SchedulingPolicySnapshotSpec,
    SchedulingPolicySnapshotStatus,
};
use crate::staged::approval::{ApprovalRequestSpec, ApprovalRequestStatus};
use crate::staged::staged_update::StagedUpdateStrategySpec;
use crate::{FleetKind, MemberCluster, Object};

/// A binding as the run sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BindingView {
    pub name: String,
    pub generation: i64,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    pub spec: ResourceBindingSpec,
    pub conditions: Vec<Condition>,
}

impl<K> From<&Object<K>> for BindingView
where
    K: FleetKind<Spec = ResourceBindingSpec, Status = ResourceBindingStatus>,
{
    fn from(o: &Object<K>) -> Self {
        BindingView {
            name: o.name().to_string(),
            generation: o.generation(),
            deleting: o.metadata.deletion_timestamp.is_some(),
            spec: o.spec.clone(),
            conditions: o
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default(),
        }
    }
}

/// An approval request as the run sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApprovalView {
    pub name: String,
    pub generation: i64,
    pub spec: ApprovalRequestSpec,
    pub conditions: Vec<Condition>,
}

impl<K> From<&Object<K>> for ApprovalView
where
    K: FleetKind<Spec = ApprovalRequestSpec, Status = ApprovalRequestStatus>,
{
    fn from(o: &Object<K>) -> Self {
        ApprovalView {
            name: o.name().to_string(),
            generation: o.generation(),
            spec: o.spec.clone(),
            conditions: o
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default(),
        }
    }
}

/// A scheduling policy snapshot labelled latest for the placement.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicySnapshotView {
    pub name: String,
    pub generation: i64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub policy: Option<PlacementPolicy>,
    pub conditions: Vec<Condition>,
}

impl<K> From<&Object<K>> for PolicySnapshotView
where
    K: FleetKind<Spec = SchedulingPolicySnapshotSpec, Status = SchedulingPolicySnapshotStatus>,
{
    fn from(o: &Object<K>) -> Self {
        PolicySnapshotView {
            name: o.name().to_string(),
            generation: o.generation(),
            labels: o.labels().clone(),
            annotations: o.annotations().clone(),
            policy: o.spec.policy.clone(),
            conditions: o
                .status
                .as_ref()
                .and_then(|s| s.conditions.clone())
                .unwrap_or_default(),
        }
    }
}

/// A resource snapshot's identity (its content never matters to the run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceSnapshotView {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl<K> From<&Object<K>> for ResourceSnapshotView
where
    K: FleetKind<Spec = ResourceSnapshotSpec, Status = ResourceSnapshotStatus>,
{
    fn from(o: &Object<K>) -> Self {
        ResourceSnapshotView {
            name: o.name().to_string(),
            labels: o.labels().clone(),
            annotations: o.annotations().clone(),
        }
    }
}

/// Everything a reconcile reads besides the run itself. Lists hold only the objects of the run's
/// placement (label `parent-CRP`) in the run's namespace.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// `None` when the placement does not exist.
    pub placement: Option<PlacementSpec>,
    /// Policy snapshots labelled `is-latest-snapshot=true`.
    pub latest_policy_snapshots: Vec<PolicySnapshotView>,
    pub bindings: Vec<BindingView>,
    /// `None` when the strategy does not exist (only read at initialization).
    pub strategy: Option<StagedUpdateStrategySpec>,
    pub members: Vec<MemberCluster>,
    pub resource_snapshots: Vec<ResourceSnapshotView>,
    /// The run's approval requests by name.
    pub approvals: BTreeMap<String, ApprovalView>,
    /// A user error from selecting the placement's resources for a run without an index
    /// (spec §10.3: terminal).
    pub resource_selection_error: Option<String>,
    /// What initialization matches overrides with (placement-extras §1.10); read only then.
    pub overrides: OverrideInputs,
}

/// The latest override snapshots of the hub and the objects of the placement's resource
/// snapshots, by snapshot name.
#[derive(Clone, Debug, Default)]
pub struct OverrideInputs {
    pub cluster_resource_overrides: Vec<CroSnapshot>,
    pub resource_overrides: Vec<RoSnapshot>,
    pub resources: BTreeMap<String, Vec<serde_json::Value>>,
}

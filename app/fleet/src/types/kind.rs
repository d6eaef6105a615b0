//! Kind markers: one unit type per kind, carrying its group, names, scope and spec/status types.
//! Twins (cluster-scoped / namespaced) point at the same spec and status types.

use crate::overrides::override_spec;
use crate::placement::{binding, member_cluster, resource_placement, snapshot};
use crate::staged::{approval, staged_update, staged_update_run};
use crate::types::object::{
    FleetKind, NoStatus, Scope, CLUSTER_GROUP, PLACEMENT_GROUP, UPDATES_GROUP,
};
use crate::upgrade::run::gates as upgrade_gates;
use crate::upgrade::{auto_upgrade, upgrade_run};

const PLACEMENT_CATEGORIES: &[&str] = &["fleet", "fleet-placement"];
const CLUSTER_CATEGORIES: &[&str] = &["fleet", "fleet-cluster"];
const UPDATES_CATEGORIES: &[&str] = &["fleetdeck", "fleetdeck-updates"];

/// kube's scope marker for a [`Scope`] variant name.
#[cfg(feature = "kube")]
macro_rules! kube_scope {
    (Cluster) => {
        kube::core::ClusterResourceScope
    };
    (Namespaced) => {
        kube::core::NamespaceResourceScope
    };
}

macro_rules! fleet_kinds {
    ($(
        $(#[$doc:meta])*
        $marker:ident {
            group: $group:expr, version: $version:literal, also: [$($also:literal),*],
            plural: $plural:literal, short: [$($short:literal),*], categories: $cats:expr,
            scope: $scope:ident, status_subresource: $sub:literal,
            spec: $spec:ty, status: $status:ty $(,)?
        }
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $marker;

            impl FleetKind for $marker {
                const KIND: &'static str = stringify!($marker);
                const GROUP: &'static str = $group;
                const VERSION: &'static str = $version;
                const ALSO_ACCEPTED: &'static [&'static str] = &[$($also),*];
                const PLURAL: &'static str = $plural;
                const SHORT_NAMES: &'static [&'static str] = &[$($short),*];
                const CATEGORIES: &'static [&'static str] = $cats;
                const SCOPE: Scope = Scope::$scope;
                const STATUS_SUBRESOURCE: bool = $sub;
                type Spec = $spec;
                type Status = $status;
                #[cfg(feature = "kube")]
                type KubeScope = kube_scope!($scope);
            }
        )*

        /// Every kind as `(kind, plural, scope)`, in spec §1 order.
        pub const ALL_KINDS: &[(&str, &str, Scope)] = &[$((stringify!($marker), $plural, Scope::$scope)),*];
    };
}

fleet_kinds! {
    ClusterResourcePlacement {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "clusterresourceplacements",
        short: ["crp"], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: resource_placement::PlacementSpec, status: resource_placement::PlacementStatus,
    }
    ResourcePlacement {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "resourceplacements",
        short: ["rp"], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: true,
        spec: resource_placement::PlacementSpec, status: resource_placement::PlacementStatus,
    }
    ClusterResourceSnapshot {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "clusterresourcesnapshots",
        short: ["crs"], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: snapshot::ResourceSnapshotSpec, status: snapshot::ResourceSnapshotStatus,
    }
    ResourceSnapshot {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "resourcesnapshots",
        short: ["rs"], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: true,
        spec: snapshot::ResourceSnapshotSpec, status: snapshot::ResourceSnapshotStatus,
    }
    ClusterSchedulingPolicySnapshot {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "clusterschedulingpolicysnapshots",
        short: ["csps"], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: snapshot::SchedulingPolicySnapshotSpec, status: snapshot::SchedulingPolicySnapshotStatus,
    }
    SchedulingPolicySnapshot {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "schedulingpolicysnapshots",
        short: ["sps"], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: true,
        spec: snapshot::SchedulingPolicySnapshotSpec, status: snapshot::SchedulingPolicySnapshotStatus,
    }
    ClusterResourceBinding {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "clusterresourcebindings",
        short: ["crb"], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: binding::ResourceBindingSpec, status: binding::ResourceBindingStatus,
    }
    ResourceBinding {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "resourcebindings",
        short: ["rb"], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: true,
        spec: binding::ResourceBindingSpec, status: binding::ResourceBindingStatus,
    }
    /// Declares a status subresource it never uses (spec §1).
    ClusterStagedUpdateStrategy {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1", "v1alpha1"], plural: "clusterstagedupdatestrategies",
        short: ["csus"], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: staged_update::StagedUpdateStrategySpec, status: NoStatus,
    }
    StagedUpdateStrategy {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "stagedupdatestrategies",
        short: ["sus"], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: false,
        spec: staged_update::StagedUpdateStrategySpec, status: NoStatus,
    }
    ClusterStagedUpdateRun {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1", "v1alpha1"], plural: "clusterstagedupdateruns",
        short: ["csur"], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: staged_update_run::StagedUpdateRunSpec, status: staged_update_run::StagedUpdateRunStatus,
    }
    StagedUpdateRun {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "stagedupdateruns",
        short: ["sur"], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: true,
        spec: staged_update_run::StagedUpdateRunSpec, status: staged_update_run::StagedUpdateRunStatus,
    }
    ClusterApprovalRequest {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1", "v1alpha1"], plural: "clusterapprovalrequests",
        short: ["careq"], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: approval::ApprovalRequestSpec, status: approval::ApprovalRequestStatus,
    }
    ApprovalRequest {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1"], plural: "approvalrequests",
        short: ["areq"], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: true,
        spec: approval::ApprovalRequestSpec, status: approval::ApprovalRequestStatus,
    }
    MemberCluster {
        group: CLUSTER_GROUP, version: "v1beta1", also: ["v1"], plural: "memberclusters",
        short: ["cluster"], categories: CLUSTER_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: member_cluster::MemberClusterSpec, status: member_cluster::MemberClusterStatus,
    }
    /// placement-extras §1.1: no shortName, no printer columns, no status.
    ClusterResourceOverride {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1", "v1alpha1"], plural: "clusterresourceoverrides",
        short: [], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: false,
        spec: override_spec::ClusterResourceOverrideSpec, status: NoStatus,
    }
    ResourceOverride {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1", "v1alpha1"], plural: "resourceoverrides",
        short: [], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: false,
        spec: override_spec::ResourceOverrideSpec, status: NoStatus,
    }
    ClusterResourceOverrideSnapshot {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1", "v1alpha1"], plural: "clusterresourceoverridesnapshots",
        short: [], categories: PLACEMENT_CATEGORIES, scope: Cluster, status_subresource: false,
        spec: override_spec::ClusterResourceOverrideSnapshotSpec, status: NoStatus,
    }
    ResourceOverrideSnapshot {
        group: PLACEMENT_GROUP, version: "v1beta1", also: ["v1", "v1alpha1"], plural: "resourceoverridesnapshots",
        short: [], categories: PLACEMENT_CATEGORIES, scope: Namespaced, status_subresource: false,
        spec: override_spec::ResourceOverrideSnapshotSpec, status: NoStatus,
    }
    /// Seed 004 upgrade run (fleetdeck's group).
    UpdateRun {
        group: UPDATES_GROUP, version: "v1alpha1", also: [], plural: "updateruns",
        short: [], categories: UPDATES_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: upgrade_run::UpdateRunSpec, status: upgrade_run::UpdateRunStatus,
    }
    /// Seed 004 reusable upgrade strategy (fleetdeck's group).
    UpdateStrategy {
        group: UPDATES_GROUP, version: "v1alpha1", also: [], plural: "updatestrategies",
        short: [], categories: UPDATES_CATEGORIES, scope: Cluster, status_subresource: false,
        spec: upgrade_run::UpdateStrategySpec, status: NoStatus,
    }
    /// Seed 004 gate (aks §12): created by a run when it reaches the gate, named by its GUID;
    /// approving is setting `spec.state` to Completed.
    Gate {
        group: UPDATES_GROUP, version: "v1alpha1", also: [], plural: "gates",
        short: [], categories: UPDATES_CATEGORIES, scope: Cluster, status_subresource: false,
        spec: upgrade_gates::GateProperties, status: NoStatus,
    }
    /// Seed 004 auto-upgrade profile (aks §11): makes and starts an UpdateRun when the release
    /// catalogue offers its channel a new version.
    AutoUpgradeProfile {
        group: UPDATES_GROUP, version: "v1alpha1", also: [], plural: "autoupgradeprofiles",
        short: [], categories: UPDATES_CATEGORIES, scope: Cluster, status_subresource: true,
        spec: auto_upgrade::AutoUpgradeProfileSpec, status: auto_upgrade::AutoUpgradeProfileStatus,
    }
}

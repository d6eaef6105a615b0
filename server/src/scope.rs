//! One generic reconciler for both scopes (spec §1 "Scope pairing"): a [`RunScope`] names the
//! kinds a run reads and writes in its scope.

use app::fleet::placement::binding::{ResourceBindingSpec, ResourceBindingStatus};
use app::fleet::placement::resource_placement::{PlacementSpec, PlacementStatus};
use app::fleet::placement::snapshot::{
    ResourceSnapshotSpec, ResourceSnapshotStatus, SchedulingPolicySnapshotSpec,
    SchedulingPolicySnapshotStatus,
};
use app::fleet::staged::approval::{ApprovalRequestSpec, ApprovalRequestStatus};
use app::fleet::staged::staged_update::StagedUpdateStrategySpec;
use app::fleet::staged::staged_update_run::{StagedUpdateRunSpec, StagedUpdateRunStatus};
use app::fleet::types::kind;
use app::fleet::types::object::NoStatus;
use app::fleet::{FleetKind, Object};
use kube::core::{ClusterResourceScope, NamespaceResourceScope};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Client};

/// Builds an `Api` for a kind in an optional namespace, whatever its scope.
pub trait ApiScope {
    fn api<R>(client: Client, namespace: Option<&str>) -> Api<R>
    where
        R: kube::Resource<Scope = Self, DynamicType = ()>;
}

impl ApiScope for ClusterResourceScope {
    fn api<R>(client: Client, _: Option<&str>) -> Api<R>
    where
        R: kube::Resource<Scope = Self, DynamicType = ()>,
    {
        Api::all(client)
    }
}

impl ApiScope for NamespaceResourceScope {
    fn api<R>(client: Client, namespace: Option<&str>) -> Api<R>
    where
        R: kube::Resource<Scope = Self, DynamicType = ()>,
    {
        match namespace {
            Some(ns) => Api::namespaced(client, ns),
            None => Api::all(client),
        }
    }
}

/// `Api<Object<K>>` in `namespace` (ignored for cluster-scoped kinds).
pub fn api<K>(client: &Client, namespace: Option<&str>) -> Api<Object<K>>
where
    K: FleetKind<KubeScope: ApiScope>,
{
    <K::KubeScope as ApiScope>::api(client.clone(), namespace)
}

/// The reference of `name` in `namespace` (none for a cluster-scoped object), as controllers
/// and caches key objects.
pub fn object_ref<K>(namespace: Option<&str>, name: &str) -> ObjectRef<K>
where
    K: kube::Resource<DynamicType = ()>,
{
    let r = ObjectRef::new(name);
    match namespace {
        Some(ns) => r.within(ns),
        None => r,
    }
}

/// The kinds of one scope.
pub trait RunScope: Send + Sync + 'static {
    type Run: FleetKind<
        Spec = StagedUpdateRunSpec,
        Status = StagedUpdateRunStatus,
        KubeScope: ApiScope,
    >;
    type Placement: FleetKind<Spec = PlacementSpec, Status = PlacementStatus, KubeScope: ApiScope>;
    type PolicySnapshot: FleetKind<
        Spec = SchedulingPolicySnapshotSpec,
        Status = SchedulingPolicySnapshotStatus,
        KubeScope: ApiScope,
    >;
    type ResourceSnapshot: FleetKind<
        Spec = ResourceSnapshotSpec,
        Status = ResourceSnapshotStatus,
        KubeScope: ApiScope,
    >;
    type Binding: FleetKind<
        Spec = ResourceBindingSpec,
        Status = ResourceBindingStatus,
        KubeScope: ApiScope,
    >;
    type Approval: FleetKind<
        Spec = ApprovalRequestSpec,
        Status = ApprovalRequestStatus,
        KubeScope: ApiScope,
    >;
    type Strategy: FleetKind<
        Spec = StagedUpdateStrategySpec,
        Status = NoStatus,
        KubeScope: ApiScope,
    >;
}

/// `ClusterStagedUpdateRun` and the cluster-scoped kinds around it.
pub struct ClusterScoped;

impl RunScope for ClusterScoped {
    type Run = kind::ClusterStagedUpdateRun;
    type Placement = kind::ClusterResourcePlacement;
    type PolicySnapshot = kind::ClusterSchedulingPolicySnapshot;
    type ResourceSnapshot = kind::ClusterResourceSnapshot;
    type Binding = kind::ClusterResourceBinding;
    type Approval = kind::ClusterApprovalRequest;
    type Strategy = kind::ClusterStagedUpdateStrategy;
}

/// `StagedUpdateRun` and the namespaced kinds around it.
pub struct Namespaced;

impl RunScope for Namespaced {
    type Run = kind::StagedUpdateRun;
    type Placement = kind::ResourcePlacement;
    type PolicySnapshot = kind::SchedulingPolicySnapshot;
    type ResourceSnapshot = kind::ResourceSnapshot;
    type Binding = kind::ResourceBinding;
    type Approval = kind::ApprovalRequest;
    type Strategy = kind::StagedUpdateStrategy;
}

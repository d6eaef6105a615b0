//! One generic root object for every fleet kind. Cluster-scoped and namespaced twins (e.g.
//! `ClusterStagedUpdateRun` / `StagedUpdateRun`) are the same `Object` over two kind markers that
//! share one spec and one status type, so a field is declared exactly once.

use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// API group of the KubeFleet placement kinds (spec §1).
pub const PLACEMENT_GROUP: &str = "placement.kubernetes-fleet.io";
/// API group of `MemberCluster` (spec §1).
pub const CLUSTER_GROUP: &str = "cluster.kubernetes-fleet.io";
/// fleetdeck's own group for seed 004's upgrade runs (DESIGN.md "Names fleetdeck owns").
pub const UPDATES_GROUP: &str = "updates.fleetdeck.dev";

/// Whether a kind lives in a namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Cluster,
    Namespaced,
}

/// Static facts about one kind; implemented by the unit markers in [`crate::types::kind`].
pub trait FleetKind: 'static + Send + Sync {
    const KIND: &'static str;
    const GROUP: &'static str;
    /// The storage version written by fleetdeck (`v1beta1` for KubeFleet kinds).
    const VERSION: &'static str;
    /// Other versions accepted on input (spec §1: `v1` is served and shown by `kubectl`).
    const ALSO_ACCEPTED: &'static [&'static str];
    const PLURAL: &'static str;
    const SHORT_NAMES: &'static [&'static str];
    const CATEGORIES: &'static [&'static str];
    const SCOPE: Scope;
    /// Whether the CRD declares a status subresource (spec §1 table).
    const STATUS_SUBRESOURCE: bool;
    type Spec: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + Default + Send + Sync;
    type Status: Serialize
        + DeserializeOwned
        + Clone
        + fmt::Debug
        + PartialEq
        + Default
        + Send
        + Sync;
    /// kube's scope marker matching [`FleetKind::SCOPE`] (`ClusterResourceScope` or
    /// `NamespaceResourceScope`), so that `kube::Api::all` / `Api::namespaced` type-check.
    #[cfg(feature = "kube")]
    type KubeScope: kube::core::ResourceScope;

    /// `group/version` of the storage version.
    fn api_version() -> String {
        format!("{}/{}", Self::GROUP, Self::VERSION)
    }

    /// True when `api_version` names this kind's group and a served version.
    fn accepts_api_version(api_version: &str) -> bool {
        match api_version.split_once('/') {
            Some((group, version)) => {
                group == Self::GROUP
                    && (version == Self::VERSION || Self::ALSO_ACCEPTED.contains(&version))
            }
            None => false,
        }
    }
}

/// Status type of kinds that have none (staged update strategies, spec §1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NoStatus {}

/// A fleet API object: `apiVersion`, `kind`, `metadata`, `spec`, optional `status`.
///
/// `apiVersion` and `kind` are kept as read so that a `v1` object round-trips unchanged.
#[derive(Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Object<K: FleetKind> {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: K::Spec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<K::Status>,
}

impl<K: FleetKind> Object<K> {
    /// A new object of this kind at the storage version.
    pub fn new(name: &str, spec: K::Spec) -> Self {
        Object {
            api_version: K::api_version(),
            kind: K::KIND.to_string(),
            metadata: ObjectMeta {
                name: Some(name.to_string()),
                ..ObjectMeta::default()
            },
            spec,
            status: None,
        }
    }

    /// Same as [`Object::new`] with a namespace (for namespaced kinds).
    pub fn new_namespaced(namespace: &str, name: &str, spec: K::Spec) -> Self {
        let mut obj = Self::new(name, spec);
        obj.metadata.namespace = Some(namespace.to_string());
        obj
    }

    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata.namespace.as_deref()
    }

    /// `metadata.generation`, 0 when unset.
    pub fn generation(&self) -> i64 {
        self.metadata.generation.unwrap_or_default()
    }

    /// Key in controller-runtime's `namespace/name` form; cluster-scoped objects print `/name`
    /// (spec §9.3 error texts).
    pub fn key(&self) -> String {
        crate::types::names::object_key(self.namespace(), self.name())
    }

    pub fn labels(&self) -> &std::collections::BTreeMap<String, String> {
        static EMPTY: std::collections::BTreeMap<String, String> =
            std::collections::BTreeMap::new();
        self.metadata.labels.as_ref().unwrap_or(&EMPTY)
    }

    pub fn annotations(&self) -> &std::collections::BTreeMap<String, String> {
        static EMPTY: std::collections::BTreeMap<String, String> =
            std::collections::BTreeMap::new();
        self.metadata.annotations.as_ref().unwrap_or(&EMPTY)
    }

    pub fn status_or_default(&self) -> K::Status {
        self.status.clone().unwrap_or_default()
    }
}

/// Lets the engine use `kube::Api<ClusterStagedUpdateRun>` etc.; the type information comes from
/// the kind marker, at its storage version.
#[cfg(feature = "kube")]
impl<K: FleetKind> kube::core::Resource for Object<K> {
    type DynamicType = ();
    type Scope = K::KubeScope;

    fn kind(_: &()) -> std::borrow::Cow<'_, str> {
        K::KIND.into()
    }

    fn group(_: &()) -> std::borrow::Cow<'_, str> {
        K::GROUP.into()
    }

    fn version(_: &()) -> std::borrow::Cow<'_, str> {
        K::VERSION.into()
    }

    fn plural(_: &()) -> std::borrow::Cow<'_, str> {
        K::PLURAL.into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl<K: FleetKind> Clone for Object<K> {
    fn clone(&self) -> Self {
        Object {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            metadata: self.metadata.clone(),
            spec: self.spec.clone(),
            status: self.status.clone(),
        }
    }
}

impl<K: FleetKind> PartialEq for Object<K> {
    fn eq(&self, other: &Self) -> bool {
        self.api_version == other.api_version
            && self.kind == other.kind
            && self.metadata == other.metadata
            && self.spec == other.spec
            && self.status == other.status
    }
}

impl<K: FleetKind> fmt::Debug for Object<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(K::KIND)
            .field("apiVersion", &self.api_version)
            .field("metadata", &self.metadata)
            .field("spec", &self.spec)
            .field("status", &self.status)
            .finish()
    }
}

impl<K: FleetKind> Default for Object<K> {
    fn default() -> Self {
        Self::new("", K::Spec::default())
    }
}

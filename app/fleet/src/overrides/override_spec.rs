//! `ClusterResourceOverride` / `ResourceOverride` and their snapshots (placement-extras §1.1–§1.2).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::placement::resource_placement::{ClusterSelector, ResourceSelector};

/// `spec` of a `ClusterResourceOverride`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResourceOverrideSpec {
    /// The placement this override is limited to; absent: every placement selecting the resources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementRef>,
    /// Cluster-scoped resources by name; a Namespace also covers every resource inside it.
    #[serde(default)]
    pub cluster_resource_selectors: Vec<ResourceSelector>,
    #[serde(default)]
    pub policy: OverridePolicy,
}

/// `spec` of a `ResourceOverride`: resources of the override's own namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceOverrideSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<PlacementRef>,
    #[serde(default)]
    pub resource_selectors: Vec<OverrideResourceSelector>,
    #[serde(default)]
    pub policy: OverridePolicy,
}

/// The placement an override is limited to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlacementRef {
    #[serde(default)]
    pub name: String,
    /// Default `Cluster` (a ResourceOverride meant for a ResourcePlacement must say `Namespaced`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<PlacementScope>,
}

impl PlacementRef {
    pub fn scope(&self) -> PlacementScope {
        self.scope.unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PlacementScope {
    #[default]
    Cluster,
    Namespaced,
}

/// A namespaced resource of the ResourceOverride's namespace (all four fields required).
#[derive(
    Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct OverrideResourceSelector {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverridePolicy {
    /// Applied in order; a later rule wins on the same field.
    #[serde(default)]
    pub override_rules: Vec<OverrideRule>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverrideRule {
    /// Absent: no cluster; `{clusterSelectorTerms: []}`: every cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_selector: Option<ClusterSelector>,
    /// Default `JSONPatch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_type: Option<OverrideType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json_patch_overrides: Option<Vec<JsonPatchOverride>>,
}

impl OverrideRule {
    pub fn override_type(&self) -> OverrideType {
        self.override_type.unwrap_or_default()
    }

    pub fn patches(&self) -> &[JsonPatchOverride] {
        self.json_patch_overrides.as_deref().unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum OverrideType {
    #[default]
    JSONPatch,
    /// The resource is not placed on the matching clusters.
    Delete,
}

/// One RFC 6902 operation; `value` may carry the reserved variables.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct JsonPatchOverride {
    pub op: JsonPatchOp,
    #[serde(default)]
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-preserve-unknown-fields" = true))]
    pub value: Option<Value>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JsonPatchOp {
    #[default]
    Add,
    Remove,
    Replace,
}

impl JsonPatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            JsonPatchOp::Add => "add",
            JsonPatchOp::Remove => "remove",
            JsonPatchOp::Replace => "replace",
        }
    }
}

/// `spec` of a `ClusterResourceOverrideSnapshot`: the override's spec verbatim and its hash.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterResourceOverrideSnapshotSpec {
    #[serde(default)]
    pub override_spec: ClusterResourceOverrideSpec,
    /// Bytes of the lowercase hex SHA-256 of the spec's JSON (base64 on the wire, as `[]byte`).
    #[serde(default)]
    #[schemars(with = "String", extend("format" = "byte"))]
    pub override_hash: k8s_openapi::ByteString,
}

/// `spec` of a `ResourceOverrideSnapshot`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceOverrideSnapshotSpec {
    #[serde(default)]
    pub override_spec: ResourceOverrideSpec,
    #[serde(default)]
    #[schemars(with = "String", extend("format" = "byte"))]
    pub override_hash: k8s_openapi::ByteString,
}

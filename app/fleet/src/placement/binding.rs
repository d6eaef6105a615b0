//! `ClusterResourceBinding` / `ResourceBinding` (spec §5).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::placement::resource_placement::{ApplyStrategy, NamespacedName};
use crate::placement::snapshot::ClusterDecision;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBindingSpec {
    pub state: BindingState,
    /// Name of the master snapshot to apply; empty for fresh `Scheduled` bindings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_snapshot_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_override_snapshots: Option<Vec<NamespacedName>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_resource_override_snapshots: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_policy_snapshot_name: Option<String>,
    #[serde(default)]
    pub target_cluster: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_decision: Option<ClusterDecision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apply_strategy: Option<ApplyStrategy>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BindingState {
    /// Picked, not yet rolled out.
    #[default]
    Scheduled,
    /// Roll out the referenced snapshot.
    Bound,
    /// De-selected; the rollout owner must delete it.
    Unscheduled,
}

impl BindingState {
    pub fn as_str(self) -> &'static str {
        match self {
            BindingState::Scheduled => "Scheduled",
            BindingState::Bound => "Bound",
            BindingState::Unscheduled => "Unscheduled",
        }
    }
}

/// Binding status; per-resource placement details are kept as raw JSON (each max 100).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBindingStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_placements: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drifted_placements: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diffed_placements: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

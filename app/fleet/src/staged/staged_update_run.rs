//! `ClusterStagedUpdateRun` / `StagedUpdateRun`: spec (spec §7.2) and status (spec §7.3).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::placement::resource_placement::{ApplyStrategy, NamespacedName};
use crate::staged::staged_update::{StageTaskType, StagedUpdateStrategySpec};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StagedUpdateRunSpec {
    /// Required, max 255, immutable.
    #[serde(default)]
    pub placement_name: String,
    /// Optional, immutable; omitted ⇒ use or create the latest snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_snapshot_index: Option<String>,
    /// Required, immutable.
    #[serde(default)]
    pub staged_rollout_strategy_name: String,
    /// Default Initialize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UpdateRunState>,
}

impl StagedUpdateRunSpec {
    /// `state` with the CRD default applied.
    pub fn state(&self) -> UpdateRunState {
        self.state.unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum UpdateRunState {
    #[default]
    Initialize,
    Run,
    Stop,
}

impl UpdateRunState {
    pub const ALL: [UpdateRunState; 3] = [
        UpdateRunState::Initialize,
        UpdateRunState::Run,
        UpdateRunState::Stop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UpdateRunState::Initialize => "Initialize",
            UpdateRunState::Run => "Run",
            UpdateRunState::Stop => "Stop",
        }
    }
}

impl std::fmt::Display for UpdateRunState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StagedUpdateRunStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_snapshot_index_used: Option<String>,
    /// Omitted when 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_observed_cluster_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_snapshot_index_used: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_strategy: Option<ApplyStrategy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged_update_strategy_snapshot: Option<StagedUpdateStrategySpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages_status: Option<Vec<StageUpdatingStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_stage_status: Option<StageUpdatingStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// Status of one stage, or of the deletion stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageUpdatingStatus {
    pub stage_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<ClusterUpdatingStatus>>,
    /// Max 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_stage_task_status: Option<Vec<StageTaskStatus>>,
    /// Max 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_stage_task_status: Option<Vec<StageTaskStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

impl StageUpdatingStatus {
    pub fn clusters(&self) -> &[ClusterUpdatingStatus] {
        self.clusters.as_deref().unwrap_or_default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterUpdatingStatus {
    pub cluster_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_override_snapshots: Option<Vec<NamespacedName>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_resource_override_snapshots: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageTaskStatus {
    #[serde(rename = "type")]
    pub type_: StageTaskType,
    /// For Approval tasks: the pre-computed request name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_request_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

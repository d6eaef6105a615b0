//! `ClusterApprovalRequest` / `ApprovalRequest` (spec §7.4) and the approval rules the engine and
//! the UI share.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::condition::{is_true_at, types};
use crate::types::names;

/// The whole spec is immutable ("The spec field is immutable").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestSpec {
    /// Name of the run.
    pub parent_stage_rollout: String,
    pub target_stage: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalRequestStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// Which side of a stage an approval gates (`kubernetes-fleet.io/taskType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApprovalTaskType {
    BeforeStage,
    AfterStage,
}

impl ApprovalTaskType {
    pub fn label_value(self) -> &'static str {
        match self {
            ApprovalTaskType::BeforeStage => names::TASK_TYPE_BEFORE_STAGE,
            ApprovalTaskType::AfterStage => names::TASK_TYPE_AFTER_STAGE,
        }
    }

    /// `<run>-before-<stage>` / `<run>-after-<stage>`.
    pub fn request_name(self, run: &str, stage: &str) -> String {
        match self {
            ApprovalTaskType::BeforeStage => names::before_stage_approval_name(run, stage),
            ApprovalTaskType::AfterStage => names::after_stage_approval_name(run, stage),
        }
    }
}

/// Labels of a request the run creates (spec §7.4).
pub fn approval_request_labels(
    run: &str,
    stage: &str,
    task: ApprovalTaskType,
) -> BTreeMap<String, String> {
    BTreeMap::from([
        (names::TARGET_UPDATE_RUN_LABEL.to_string(), run.to_string()),
        (
            names::TARGET_UPDATING_STAGE_LABEL.to_string(),
            stage.to_string(),
        ),
        (
            names::TASK_TYPE_LABEL.to_string(),
            task.label_value().to_string(),
        ),
        (
            names::IS_LATEST_UPDATE_RUN_APPROVAL_LABEL.to_string(),
            "true".to_string(),
        ),
    ])
}

/// A user's `Approved=True` counts only at the request's current generation (spec §7.4).
pub fn is_approved_by_user(conditions: &[Condition], generation: i64) -> bool {
    is_true_at(conditions, types::APPROVED, generation)
}

/// The controller has accepted the approval at the current generation.
pub fn is_accepted(conditions: &[Condition], generation: i64) -> bool {
    is_true_at(conditions, types::APPROVAL_ACCEPTED, generation)
}

/// Approved for the run: accepted (irrevocable) or approved by the user, both at `generation`.
pub fn is_approved(conditions: &[Condition], generation: i64) -> bool {
    is_accepted(conditions, generation) || is_approved_by_user(conditions, generation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::condition::{new_condition, Time, FALSE, TRUE};

    fn now() -> Time {
        Time("2026-01-09T01:53:53Z".parse().expect("timestamp"))
    }

    #[test]
    fn approval_at_stale_generation_is_ignored() {
        // Seed 003: Approved with observedGeneration 0 on a generation-1 request.
        let conds = vec![new_condition(
            "Approved",
            TRUE,
            "approved",
            "approved",
            0,
            &now(),
        )];
        assert!(!is_approved(&conds, 1));
        let conds = vec![new_condition(
            "Approved",
            TRUE,
            "approved",
            "approved",
            1,
            &now(),
        )];
        assert!(is_approved(&conds, 1));
    }

    #[test]
    fn accepted_approval_cannot_be_revoked() {
        let conds = vec![
            new_condition("Approved", FALSE, "changed-mind", "", 1, &now()),
            new_condition(
                "ApprovalAccepted",
                TRUE,
                "ApprovalRequestApprovalAccepted",
                "",
                1,
                &now(),
            ),
        ];
        assert!(!is_approved_by_user(&conds, 1));
        assert!(is_approved(&conds, 1));
    }

    #[test]
    fn labels_and_names() {
        let l = approval_request_labels("example-run", "canary", ApprovalTaskType::AfterStage);
        assert_eq!(
            l.get("kubernetes-fleet.io/taskType").map(String::as_str),
            Some("afterStage")
        );
        assert_eq!(
            l.get("kubernetes-fleet.io/isLatestUpdateRunApproval")
                .map(String::as_str),
            Some("true")
        );
        assert_eq!(
            ApprovalTaskType::BeforeStage.request_name("r", "prod"),
            "r-before-prod"
        );
    }
}

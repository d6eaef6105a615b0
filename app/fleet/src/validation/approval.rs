//! Validation of `ClusterApprovalRequest` / `ApprovalRequest` (spec §7.4).

use super::cel_rule::TransitionRule;
use super::{finish, FieldError};
use crate::staged::approval::ApprovalRequestSpec;
use crate::{FleetKind, Object};

pub const MSG_SPEC_IMMUTABLE: &str = "The spec field is immutable";

/// CEL `self == oldSelf` on `spec` (spec §7.4).
pub const SPEC_IMMUTABLE: TransitionRule<ApprovalRequestSpec> =
    TransitionRule::immutable(MSG_SPEC_IMMUTABLE, "object");

/// Required fields; on update the whole spec is immutable (CEL `self == oldSelf` on `spec`).
pub fn validate_approval_request<K>(
    old: Option<&Object<K>>,
    new: &Object<K>,
) -> Result<(), Vec<FieldError>>
where
    K: FleetKind<Spec = ApprovalRequestSpec>,
{
    let mut errors = Vec::new();
    if new.spec.parent_stage_rollout.is_empty() {
        errors.push(FieldError::required("spec.parentStageRollout"));
    }
    if new.spec.target_stage.is_empty() {
        errors.push(FieldError::required("spec.targetStage"));
    }
    if let Some(old) = old {
        SPEC_IMMUTABLE.check("spec", &old.spec, &new.spec, &mut errors);
    }
    finish(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApprovalRequest, ClusterApprovalRequest};

    fn spec(run: &str, stage: &str) -> ApprovalRequestSpec {
        ApprovalRequestSpec {
            parent_stage_rollout: run.into(),
            target_stage: stage.into(),
        }
    }

    #[test]
    fn spec_is_immutable_for_both_scopes() {
        let old = ClusterApprovalRequest::new("r-after-canary", spec("r", "canary"));
        let mut new = old.clone();
        assert_eq!(validate_approval_request(Some(&old), &new), Ok(()));
        new.spec.target_stage = "prod".into();
        let errs = validate_approval_request(Some(&old), &new).expect_err("immutable");
        assert_eq!(
            errs[0].to_string(),
            "spec: Invalid value: \"object\": The spec field is immutable"
        );

        let old = ApprovalRequest::new_namespaced("ns", "r-before-prod", spec("r", "prod"));
        let mut new = old.clone();
        new.spec.parent_stage_rollout = "other".into();
        assert!(validate_approval_request(Some(&old), &new).is_err());
        // Status-only changes are fine.
        let mut status_only = old.clone();
        status_only.status = Some(Default::default());
        assert_eq!(validate_approval_request(Some(&old), &status_only), Ok(()));
    }

    #[test]
    fn required_fields() {
        let errs = validate_approval_request(None, &ClusterApprovalRequest::new("x", spec("", "")))
            .expect_err("required");
        let msgs: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            msgs,
            [
                "spec.parentStageRollout: Required value",
                "spec.targetStage: Required value"
            ]
        );
    }
}

//! Validation of `MemberCluster` (spec §6).

use super::int_range::IntRange;
use super::{check_name_max_63, finish, FieldError};
use crate::MemberCluster;

pub const MAX_TAINTS: usize = 100;
pub const HEARTBEAT_PERIOD_SECONDS: IntRange = IntRange {
    minimum: Some(1),
    maximum: Some(600),
};

/// Name < 64 (CEL), heartbeat 1..600, at most 100 taints, identity required.
pub fn validate_member_cluster(
    _old: Option<&MemberCluster>,
    new: &MemberCluster,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    check_name_max_63(new.name(), &mut errors);
    if new.spec.identity.name.is_empty() || new.spec.identity.kind.is_empty() {
        errors.push(FieldError::required("spec.identity"));
    }
    if let Some(h) = new.spec.heartbeat_period_seconds {
        HEARTBEAT_PERIOD_SECONDS.check("spec.heartbeatPeriodSeconds", i64::from(h), &mut errors);
    }
    if let Some(taints) = &new.spec.taints {
        if taints.len() > MAX_TAINTS {
            errors.push(FieldError::too_many(
                "spec.taints",
                taints.len(),
                MAX_TAINTS,
            ));
        }
    }
    finish(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::member_cluster::{MemberClusterSpec, Subject};

    fn member(name: &str) -> MemberCluster {
        MemberCluster::new(
            name,
            MemberClusterSpec {
                identity: Subject {
                    kind: "ServiceAccount".into(),
                    name: "fleet-member-agent".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }

    #[test]
    fn name_length_and_heartbeat() {
        assert_eq!(
            validate_member_cluster(None, &member(&"m".repeat(63))),
            Ok(())
        );
        let errs = validate_member_cluster(None, &member(&"m".repeat(64))).expect_err("too long");
        assert_eq!(
            errs[0].to_string(),
            "<nil>: Invalid value: \"object\": metadata.name max length is 63"
        );
        let mut m = member("member1");
        m.spec.heartbeat_period_seconds = Some(601);
        let errs = validate_member_cluster(None, &m).expect_err("range");
        assert_eq!(
            errs[0].to_string(),
            "spec.heartbeatPeriodSeconds: Invalid value: 601: spec.heartbeatPeriodSeconds in body should be less than or equal to 600"
        );
        m.spec.heartbeat_period_seconds = Some(0);
        assert!(validate_member_cluster(None, &m).is_err());
    }
}

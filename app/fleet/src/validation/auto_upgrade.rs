//! Validation of `AutoUpgradeProfile` (aks-update-runs.md §10, §11), the hub's admission check
//! for kubectl, the CLI and the engine alike. Messages use the apiserver's formats and say how
//! to fix the object.

use super::upgrade_run::check_arm_name;
use super::{finish, FieldError, FieldErrorKind};
use crate::upgrade::auto_upgrade::UpgradeChannel;
use crate::upgrade::versions::KubernetesVersion;
use crate::AutoUpgradeProfile;

pub const MSG_STRATEGY_IMMUTABLE: &str = "field is immutable: a profile keeps the update strategy it was created with; delete the profile and create it again to use another";
pub const MSG_SELECTION_WITH_NODE_IMAGE: &str =
    "nodeImageSelection cannot be set when channel is 'NodeImage': remove it (node image runs always take the latest image)";
pub const MSG_TARGET_VERSION_REQUIRED: &str =
    "targetKubernetesVersion is required when channel is 'TargetKubernetesVersion', in major.minor form such as \"1.33\"";
pub const MSG_TARGET_VERSION_FORBIDDEN: &str =
    "targetKubernetesVersion must be empty unless channel is 'TargetKubernetesVersion'";
pub const MSG_TARGET_VERSION_FORM: &str =
    "targetKubernetesVersion must be in major.minor form, such as \"1.33\" (no patch, no v prefix)";
pub const MSG_LTS: &str =
    "longTermSupport can only be true when channel is 'TargetKubernetesVersion'";

pub fn validate_auto_upgrade_profile(
    old: Option<&AutoUpgradeProfile>,
    new: &AutoUpgradeProfile,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    check_arm_name("metadata.name", new.name(), &mut errors);
    let spec = &new.spec;
    if let Some(s) = spec.update_strategy_name.as_deref() {
        check_arm_name("spec.updateStrategyName", s, &mut errors);
    }
    if let Some(old) = old {
        if old.spec.update_strategy_name != spec.update_strategy_name {
            errors.push(FieldError {
                field: "spec.updateStrategyName".into(),
                kind: FieldErrorKind::Invalid {
                    value: format!(
                        "{:?}",
                        spec.update_strategy_name.as_deref().unwrap_or_default()
                    ),
                },
                detail: MSG_STRATEGY_IMMUTABLE.into(),
            });
        }
    }
    if spec.channel == UpgradeChannel::NodeImage && spec.node_image_selection.is_some() {
        errors.push(FieldError::forbidden(
            "spec.nodeImageSelection",
            MSG_SELECTION_WITH_NODE_IMAGE,
        ));
    }
    let tkv_path = "spec.targetKubernetesVersion";
    let tkv = spec
        .target_kubernetes_version
        .as_deref()
        .filter(|v| !v.is_empty());
    let pinned = spec.channel == UpgradeChannel::TargetKubernetesVersion;
    match (pinned, tkv) {
        (true, None) => errors.push(FieldError {
            detail: MSG_TARGET_VERSION_REQUIRED.into(),
            ..FieldError::required(tkv_path)
        }),
        (false, Some(_)) => errors.push(FieldError::forbidden(
            tkv_path,
            MSG_TARGET_VERSION_FORBIDDEN,
        )),
        (true, Some(v)) => {
            let major_minor = !v.starts_with(['v', 'V'])
                && KubernetesVersion::parse(v).is_ok_and(|k| k.patch.is_none());
            if !major_minor {
                errors.push(FieldError {
                    field: tkv_path.into(),
                    kind: FieldErrorKind::Invalid {
                        value: format!("{v:?}"),
                    },
                    detail: MSG_TARGET_VERSION_FORM.into(),
                });
            }
        }
        (false, None) => {}
    }
    if spec.long_term_support == Some(true) && !pinned {
        errors.push(FieldError::forbidden("spec.longTermSupport", MSG_LTS));
    }
    finish(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::auto_upgrade::{
        AutoUpgradeNodeImageSelection, AutoUpgradeNodeImageSelectionType, AutoUpgradeProfileSpec,
    };

    fn profile(name: &str, spec: AutoUpgradeProfileSpec) -> AutoUpgradeProfile {
        AutoUpgradeProfile::new(name, spec)
    }

    fn messages(r: Result<(), Vec<FieldError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_plain_stable_profile_is_valid() {
        let p = profile("nightly", AutoUpgradeProfileSpec::default());
        assert!(validate_auto_upgrade_profile(None, &p).is_ok());
    }

    #[test]
    fn the_channel_rules_of_section_10_are_enforced() {
        let node_image = profile(
            "p",
            AutoUpgradeProfileSpec {
                channel: UpgradeChannel::NodeImage,
                node_image_selection: Some(AutoUpgradeNodeImageSelection {
                    type_: AutoUpgradeNodeImageSelectionType::Consistent,
                }),
                target_kubernetes_version: Some("1.30".into()),
                long_term_support: Some(true),
                ..Default::default()
            },
        );
        let m = messages(validate_auto_upgrade_profile(None, &node_image));
        assert_eq!(m.len(), 3, "{m:?}");
        assert!(m[0].starts_with("spec.nodeImageSelection: Forbidden: nodeImageSelection cannot be set when channel is 'NodeImage'"), "{m:?}");
        assert!(
            m[1].contains("targetKubernetesVersion must be empty"),
            "{m:?}"
        );
        assert!(m[2].starts_with("spec.longTermSupport: Forbidden"), "{m:?}");

        let pinned = |v: Option<&str>| {
            profile(
                "p",
                AutoUpgradeProfileSpec {
                    channel: UpgradeChannel::TargetKubernetesVersion,
                    target_kubernetes_version: v.map(str::to_string),
                    long_term_support: Some(true),
                    ..Default::default()
                },
            )
        };
        let m = messages(validate_auto_upgrade_profile(None, &pinned(None)));
        assert_eq!(
            m,
            [format!(
                "spec.targetKubernetesVersion: Required value: {MSG_TARGET_VERSION_REQUIRED}"
            )]
        );
        for bad in ["1.30.2", "v1.30", "1", "x.y"] {
            let m = messages(validate_auto_upgrade_profile(None, &pinned(Some(bad))));
            assert_eq!(
                m,
                [format!(
                    "spec.targetKubernetesVersion: Invalid value: {bad:?}: {MSG_TARGET_VERSION_FORM}"
                )],
                "{bad}"
            );
        }
        assert!(validate_auto_upgrade_profile(None, &pinned(Some("1.30"))).is_ok());
    }

    #[test]
    fn the_strategy_is_fixed_at_creation() {
        let with = |s: Option<&str>| {
            profile(
                "p",
                AutoUpgradeProfileSpec {
                    update_strategy_name: s.map(str::to_string),
                    ..Default::default()
                },
            )
        };
        let old = with(Some("safe"));
        assert!(validate_auto_upgrade_profile(Some(&old), &with(Some("safe"))).is_ok());
        let m = messages(validate_auto_upgrade_profile(
            Some(&old),
            &with(Some("fast")),
        ));
        assert_eq!(
            m,
            [format!(
                "spec.updateStrategyName: Invalid value: \"fast\": {MSG_STRATEGY_IMMUTABLE}"
            )]
        );
        assert_eq!(
            messages(validate_auto_upgrade_profile(Some(&old), &with(None))).len(),
            1,
            "removing it is a change too"
        );
        let m = messages(validate_auto_upgrade_profile(None, &with(Some("Bad_Name"))));
        assert!(
            m[0].starts_with("spec.updateStrategyName: Invalid value"),
            "{m:?}"
        );
    }
}

//! One member's turn (aks §6.7, §9, §13).

use super::fixtures::*;
use super::member_target::{decide_member, MemberDecision, MemberUpgrade};
use super::upgrade_error::UpgradeError;
use super::upgrade_run::{ManagedClusterUpgradeType, NodeImageSelectionType};
use super::versions::NodeImage;

const NOW: &str = "2026-12-07T10:00:00Z";

fn decide(
    m: &super::member_view::MemberView,
    kind: ManagedClusterUpgradeType,
    v: Option<&str>,
) -> MemberDecision {
    decide_member(m, &update(kind, v), &[], &catalogue(), at(NOW))
}

#[test]
fn a_skipped_minor_fails_the_member_with_the_documented_text() {
    let d = decide(
        &member("m", None),
        ManagedClusterUpgradeType::Full,
        Some("1.31.1"),
    );
    let MemberDecision::Fail(e) = d else {
        panic!("expected a failure, got {d:?}")
    };
    assert_eq!(e.code(), "UpgradeNotAllowed");
    assert_eq!(
        e.to_string(),
        "upgrading Kubernetes version 1.29.4 to 1.31.1 is not allowed: it skips a minor version; \
         upgrade one minor version at a time"
    );
}

#[test]
fn a_version_published_nowhere_fails_and_one_published_elsewhere_holds_the_member_pending() {
    let d = decide(
        &member("m", None),
        ManagedClusterUpgradeType::ControlPlaneOnly,
        Some("1.30.9"),
    );
    assert!(
        matches!(
            d,
            MemberDecision::Fail(UpgradeError::KubernetesVersionNotAvailable { .. })
        ),
        "{d:?}"
    );
    let west = in_region(member("m", None), "westeurope");
    let d = decide(
        &west,
        ManagedClusterUpgradeType::ControlPlaneOnly,
        Some("1.30.5"),
    );
    let MemberDecision::Pending {
        message,
        error,
        until,
    } = d
    else {
        panic!("expected Pending, got {d:?}")
    };
    assert_eq!(
        until,
        Some(at("2026-12-07T11:00:00Z")),
        "looked at again within the hour"
    );
    assert_eq!(
        error.map(|e| e.code()),
        Some("KubernetesVersionNotAvailable")
    );
    assert!(message.starts_with(
        "Member has been put into Pending state because a validation failed: Kubernetes version \
         1.30.5 is not available in region westeurope; see the AKS release tracker"
    ));
}

#[test]
fn a_node_image_missing_in_the_region_is_node_image_version_not_available() {
    let west = in_region(member("m", None), "westeurope");
    let chosen = [NodeImage::parse(&format!("{UBUNTU}-202410.09.0")).expect("image")];
    let mut u = update(ManagedClusterUpgradeType::NodeImageOnly, None);
    u.node_image_selection = Some(super::upgrade_run::NodeImageSelection {
        type_: NodeImageSelectionType::Custom,
        custom_node_image_versions: None,
    });
    let d = decide_member(&west, &u, &chosen, &catalogue(), at(NOW));
    let MemberDecision::Pending { message, error, .. } = d else {
        panic!("expected Pending, got {d:?}")
    };
    assert_eq!(
        error.map(|e| e.code()),
        Some("NodeImageVersionNotAvailable")
    );
    assert!(message.contains(&format!(
        "node image version {UBUNTU}-202410.09.0 for agent pool nodepool1 is not available in region westeurope"
    )));
}

#[test]
fn full_upgrades_the_control_plane_and_the_latest_image_of_the_region() {
    let d = decide(
        &member("m", None),
        ManagedClusterUpgradeType::Full,
        Some("1.30"),
    );
    assert_eq!(
        d,
        MemberDecision::Start(MemberUpgrade {
            upgrade_type: ManagedClusterUpgradeType::Full,
            kubernetes_version: Some("1.30.5".into()),
            node_images: vec![("nodepool1".into(), format!("{UBUNTU}-202410.09.0"))],
            message: None,
        })
    );
    // ControlPlaneOnly leaves the pools alone.
    let d = decide(
        &member("m", None),
        ManagedClusterUpgradeType::ControlPlaneOnly,
        Some("1.30.5"),
    );
    assert!(
        matches!(d, MemberDecision::Start(MemberUpgrade { ref node_images, .. }) if node_images.is_empty())
    );
}

#[test]
fn a_member_already_at_the_target_is_skipped_and_pools_ahead_are_named() {
    let mut m = member("m", None);
    m.kubernetes_version = "1.30.5".into();
    m.node_pools[0].node_image_version = format!("{UBUNTU}-202410.09.0");
    let d = decide(&m, ManagedClusterUpgradeType::Full, Some("1.30"));
    assert_eq!(
        d,
        MemberDecision::Skip(
            "member m is already at the target; agent pools left alone because their node image \
             is already at or ahead of the target: nodepool1"
                .into()
        )
    );
}

#[test]
fn a_closed_window_holds_the_member_pending_with_the_next_opening() {
    let m = with_window(member("m", None), Some("Tuesday"), "02:00", 4);
    let d = decide(&m, ManagedClusterUpgradeType::Full, Some("1.30.5"));
    assert_eq!(
        d,
        MemberDecision::Pending {
            message: "Member has been put into Pending state because its maintenance window is \
                      closed; the next window opens at 2026-12-08T02:00:00Z"
                .into(),
            error: None,
            until: Some(at("2026-12-08T02:00:00Z")),
        }
    );
    // NodeImageOnly follows the node-OS window, which this member does not have.
    let d = decide(&m, ManagedClusterUpgradeType::NodeImageOnly, None);
    assert!(matches!(d, MemberDecision::Start(_)), "{d:?}");
}

#[test]
fn consistent_without_a_target_for_a_pool_skips_the_member() {
    let mut u = update(ManagedClusterUpgradeType::NodeImageOnly, None);
    u.node_image_selection = Some(super::upgrade_run::NodeImageSelection {
        type_: NodeImageSelectionType::Consistent,
        custom_node_image_versions: None,
    });
    let d = decide_member(&member("m", None), &u, &[], &catalogue(), at(NOW));
    assert!(
        matches!(d, MemberDecision::Skip(ref m) if m.starts_with("no target node image")),
        "{d:?}"
    );
}

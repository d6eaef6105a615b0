//! Builders shared by the upgrade-run tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::maintenance_window::MaintenanceWindow;
use super::member_view::{MemberView, NodePoolView};
use super::release_catalogue::{RegionReleases, ReleaseCatalogue};
use super::upgrade_run::{
    ManagedClusterUpdate, ManagedClusterUpgradeSpec, ManagedClusterUpgradeType, NodeImageSelection,
    NodeImageSelectionType, UpdateGroup, UpdateRunSpec, UpdateRunStrategy, UpdateStage,
};

pub const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";

pub fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("timestamp")
}

/// A member at Kubernetes 1.29.4 with one Ubuntu pool at 202409.01.0, in `eastus`.
pub fn member(name: &str, group: Option<&str>) -> MemberView {
    MemberView {
        name: name.into(),
        cluster_resource_id: Some(format!("/managedClusters/{name}")),
        group: group.map(str::to_string),
        labels: BTreeMap::new(),
        region: "eastus".into(),
        kubernetes_version: "1.29.4".into(),
        node_pools: vec![NodePoolView {
            name: "nodepool1".into(),
            node_image_version: format!("{UBUNTU}-202409.01.0"),
        }],
        ..Default::default()
    }
}

pub fn in_region(mut m: MemberView, region: &str) -> MemberView {
    m.region = region.into();
    m
}

pub fn labelled(mut m: MemberView, k: &str, v: &str) -> MemberView {
    m.labels.insert(k.into(), v.into());
    m
}

pub fn with_window(mut m: MemberView, day: Option<&str>, start: &str, hours: u32) -> MemberView {
    m.auto_upgrade_window = Some(MaintenanceWindow {
        day_of_week: day.map(str::to_string),
        start_time: start.into(),
        duration_hours: hours,
        utc_offset: "+00:00".into(),
    });
    m
}

/// eastus has 1.30.5 and Ubuntu 202410.09.0; westeurope lags at 202410.02.0; both have 1.29.9.
pub fn catalogue() -> ReleaseCatalogue {
    let region = |k: &[&str], i: &[&str]| RegionReleases {
        kubernetes_versions: k.iter().map(|s| s.to_string()).collect(),
        node_images: i.iter().map(|s| format!("{UBUNTU}-{s}")).collect(),
        ..Default::default()
    };
    ReleaseCatalogue {
        regions: [
            (
                "eastus".to_string(),
                region(
                    &["1.29.4", "1.29.9", "1.30.5", "1.31.1"],
                    &["202409.01.0", "202410.02.0", "202410.09.0"],
                ),
            ),
            (
                "westeurope".to_string(),
                region(&["1.29.4", "1.29.9"], &["202409.01.0", "202410.02.0"]),
            ),
        ]
        .into_iter()
        .collect(),
    }
}

pub fn update(kind: ManagedClusterUpgradeType, version: Option<&str>) -> ManagedClusterUpdate {
    ManagedClusterUpdate {
        upgrade: ManagedClusterUpgradeSpec {
            type_: kind,
            kubernetes_version: version.map(str::to_string),
        },
        node_image_selection: None,
    }
}

pub fn full(version: &str) -> UpdateRunSpec {
    UpdateRunSpec {
        update_strategy_id: None,
        strategy: None,
        managed_cluster_update: update(ManagedClusterUpgradeType::Full, Some(version)),
        auto_upgrade_profile_id: None,
    }
}

pub fn node_image_only(selection: NodeImageSelectionType) -> UpdateRunSpec {
    let mut u = update(ManagedClusterUpgradeType::NodeImageOnly, None);
    u.node_image_selection = Some(NodeImageSelection {
        type_: selection,
        custom_node_image_versions: None,
    });
    UpdateRunSpec {
        update_strategy_id: None,
        strategy: None,
        managed_cluster_update: u,
        auto_upgrade_profile_id: None,
    }
}

pub fn group(name: &str) -> UpdateGroup {
    UpdateGroup {
        name: name.into(),
        ..Default::default()
    }
}

pub fn stage(name: &str, groups: &[&str]) -> UpdateStage {
    UpdateStage {
        name: name.into(),
        groups: Some(groups.iter().map(|g| group(g)).collect()),
        ..Default::default()
    }
}

pub fn with_stages(mut spec: UpdateRunSpec, stages: Vec<UpdateStage>) -> UpdateRunSpec {
    spec.strategy = Some(UpdateRunStrategy { stages });
    spec
}

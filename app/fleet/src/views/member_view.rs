//! What the dashboard's Fleet page shows for each member cluster, derived from the MemberCluster
//! and the bindings that target it. Pure and serialisable: the server computes the rows, and
//! [`query`] cuts one page of them (with the fleet's counts) for the browser.

pub mod query;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::placement::binding::BindingState;
use crate::placement::member_cluster::MEMBER_AGENT;
use crate::types::condition::{find_condition, to_utc, types, TRUE};
use crate::types::names::{NODE_COUNT_PROPERTY, UPDATE_GROUP_LABEL};
use crate::{FleetKind, MemberCluster, Object};

/// One row of the Fleet page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemberRow {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// The `Joined` condition: `Some(true)` joined, `Some(false)` left or failing, `None` unknown.
    pub joined: Option<bool>,
    /// When the member agent was last heard from (`agentStatus[MemberAgent].lastReceivedHeartbeat`).
    pub last_seen: Option<DateTime<Utc>>,
    /// How often the agent promises to beat (`spec.heartbeatPeriodSeconds`, default 60).
    pub heartbeat_period_seconds: u32,
    pub node_count: Option<String>,
    /// What each placement runs there.
    pub placements: Vec<PlacementOnMember>,
    /// What an upgrade run changes (seed 004), from the simulated member's status
    /// `fleetdeck.dev/managedCluster`: its control-plane Kubernetes version…
    #[serde(default)]
    pub kubernetes_version: Option<String>,
    /// …and each node pool's image, `(pool, <family>-<version>)`.
    #[serde(default)]
    pub node_images: Vec<(String, String)>,
    /// The update group (label `updates.fleetdeck.dev/group`).
    #[serde(default)]
    pub update_group: Option<String>,
}

/// A placement's state on one member.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlacementOnMember {
    /// `name` for a ClusterResourcePlacement, `namespace/name` for a ResourcePlacement.
    pub placement: String,
    /// `Scheduled`, `Bound` or `Unscheduled`.
    pub state: String,
    /// The resource snapshot index bound there, if any.
    pub resource_index: Option<String>,
    /// The binding's `Available` condition at its generation.
    pub available: Option<bool>,
}

/// What the view needs of a binding, whatever its scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingFacts {
    pub placement: String,
    pub cluster: String,
    pub state: BindingState,
    pub resource_snapshot: Option<String>,
    pub available: Option<bool>,
}

impl BindingFacts {
    /// Reads a binding of either scope; `placement` comes from its `parent-CRP` label.
    pub fn of<K>(binding: &Object<K>) -> Self
    where
        K: FleetKind<
            Spec = crate::placement::binding::ResourceBindingSpec,
            Status = crate::placement::binding::ResourceBindingStatus,
        >,
    {
        let parent = binding
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(crate::types::names::PARENT_PLACEMENT_LABEL))
            .cloned()
            .unwrap_or_default();
        let placement = match &binding.metadata.namespace {
            Some(ns) => format!("{ns}/{parent}"),
            None => parent,
        };
        let generation = binding.metadata.generation.unwrap_or(0);
        let available = binding
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| find_condition(c, "Available"))
            .filter(|c| c.observed_generation == Some(generation))
            .map(|c| c.status == "True");
        BindingFacts {
            placement,
            cluster: binding.spec.target_cluster.clone(),
            state: binding.spec.state,
            resource_snapshot: binding.spec.resource_snapshot_name.clone(),
            available,
        }
    }
}

/// KubeFleet's default `spec.heartbeatPeriodSeconds` (spec §6).
pub const DEFAULT_HEARTBEAT_PERIOD_SECONDS: u32 = 60;

/// One row per member, sorted by name, each with its placements sorted by name. Linear in
/// members plus bindings.
pub fn rows<'a>(
    members: impl IntoIterator<Item = &'a MemberCluster>,
    bindings: &[BindingFacts],
) -> Vec<MemberRow> {
    let by_cluster = by_cluster(bindings);
    let mut rows: Vec<MemberRow> = members
        .into_iter()
        .map(|m| {
            let name = m.metadata.name.as_deref().unwrap_or_default();
            row(
                m,
                by_cluster.get(name).map(Vec::as_slice).unwrap_or_default(),
            )
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}

/// The bindings of each cluster.
pub fn by_cluster(bindings: &[BindingFacts]) -> HashMap<&str, Vec<&BindingFacts>> {
    let mut by_cluster: HashMap<&str, Vec<&BindingFacts>> = HashMap::new();
    for b in bindings {
        by_cluster.entry(b.cluster.as_str()).or_default().push(b);
    }
    by_cluster
}

/// One member's row, from the member and the bindings that target it.
pub fn row(m: &MemberCluster, bindings: &[&BindingFacts]) -> MemberRow {
    MemberRow {
        placements: placements(bindings),
        ..member_fields(m)
    }
}

/// Everything of a row that comes from the MemberCluster itself (no placements).
pub fn member_fields(m: &MemberCluster) -> MemberRow {
    let status = m.status.as_ref();
    let joined = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| find_condition(c, types::JOINED))
        .map(|c| c.status == TRUE);
    let last_seen = status
        .and_then(|s| s.agent(MEMBER_AGENT))
        .and_then(|a| a.last_received_heartbeat.as_ref())
        .and_then(|t| to_utc(&t.0));
    let node_count = status
        .and_then(|s| s.properties.as_ref())
        .and_then(|p| p.get(NODE_COUNT_PROPERTY))
        .map(|p| p.value.clone());
    let cluster = crate::upgrade::managed_cluster::of(status);
    let labels = m.metadata.labels.clone().unwrap_or_default();
    MemberRow {
        name: m.metadata.name.clone().unwrap_or_default(),
        update_group: labels.get(UPDATE_GROUP_LABEL).cloned(),
        kubernetes_version: cluster
            .map(|c| c.kubernetes_version.clone())
            .filter(|v| !v.is_empty()),
        node_images: cluster
            .map(|c| {
                c.node_pools
                    .iter()
                    .map(|p| (p.name.clone(), p.node_image_version.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        labels,
        joined,
        last_seen,
        heartbeat_period_seconds: m
            .spec
            .heartbeat_period_seconds
            .and_then(|p| u32::try_from(p).ok())
            .filter(|p| *p > 0)
            .unwrap_or(DEFAULT_HEARTBEAT_PERIOD_SECONDS),
        node_count,
        placements: Vec::new(),
    }
}

/// What each binding of one cluster runs there, sorted by placement.
pub fn placements(bindings: &[&BindingFacts]) -> Vec<PlacementOnMember> {
    let mut placements: Vec<PlacementOnMember> = bindings
        .iter()
        .map(|b| PlacementOnMember {
            placement: b.placement.clone(),
            state: b.state.as_str().to_string(),
            resource_index: b
                .resource_snapshot
                .as_deref()
                .filter(|_| b.state == BindingState::Bound)
                .and_then(snapshot_index),
            available: b.available,
        })
        .collect();
    placements.sort_by(|a, b| a.placement.cmp(&b.placement));
    placements
}

/// `example-placement-1-snapshot` → `1`.
pub fn snapshot_index(master: &str) -> Option<String> {
    let stem = master.strip_suffix("-snapshot")?;
    let (_, index) = stem.rsplit_once('-')?;
    index.parse::<u64>().ok().map(|i| i.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn rows_show_labels_health_and_what_each_placement_runs() {
        let member: MemberCluster = serde_json::from_value(json!({
            "apiVersion": "cluster.kubernetes-fleet.io/v1beta1", "kind": "MemberCluster",
            "metadata": {"name": "member1", "labels": {"environment": "canary", "updates.fleetdeck.dev/group": "group-1a"}},
            "spec": {"identity": {"kind": "ServiceAccount", "name": "a"}},
            "status": {
                "fleetdeck.dev/managedCluster": {"region": "eastus", "kubernetesVersion": "1.25.6",
                    "nodePools": [{"name": "nodepool1", "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202401.09.0"}]},
                "conditions": [{"type": "Joined", "status": "True", "reason": "r", "message": "m", "lastTransitionTime": "2026-01-01T00:00:00Z"}],
                "agentStatus": [{"type": "MemberAgent", "lastReceivedHeartbeat": "2026-01-01T00:01:00Z"}],
                "properties": {"kubernetes-fleet.io/node-count": {"value": "3"}}
            }
        }))
        .expect("member");
        let bindings = vec![
            BindingFacts {
                placement: "web".into(),
                cluster: "member1".into(),
                state: BindingState::Bound,
                resource_snapshot: Some("web-2-snapshot".into()),
                available: Some(true),
            },
            BindingFacts {
                placement: "apps/api".into(),
                cluster: "member1".into(),
                state: BindingState::Scheduled,
                resource_snapshot: None,
                available: None,
            },
            BindingFacts {
                placement: "web".into(),
                cluster: "member2".into(),
                state: BindingState::Bound,
                resource_snapshot: Some("web-1-snapshot".into()),
                available: None,
            },
        ];
        let rows = rows(&[member], &bindings);
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.joined, Some(true));
        assert_eq!(row.node_count.as_deref(), Some("3"));
        assert_eq!(
            row.last_seen.map(|t| t.to_rfc3339()),
            Some("2026-01-01T00:01:00+00:00".to_string())
        );
        assert_eq!(row.heartbeat_period_seconds, 60, "the default period");
        // What an upgrade run changes, and the group it upgrades the member in.
        assert_eq!(row.kubernetes_version.as_deref(), Some("1.25.6"));
        assert_eq!(
            row.node_images,
            [(
                "nodepool1".to_string(),
                "AKSUbuntu-2204gen2containerd-202401.09.0".to_string()
            )]
        );
        assert_eq!(row.update_group.as_deref(), Some("group-1a"));
        let placements: Vec<(&str, Option<&str>)> = row
            .placements
            .iter()
            .map(|p| (p.placement.as_str(), p.resource_index.as_deref()))
            .collect();
        assert_eq!(placements, [("apps/api", None), ("web", Some("2"))]);
    }
}

//! What a member agent reports on its `MemberCluster` (spec §6, placement-extras §4.1): the status
//! of a member that has just joined, and what each heartbeat renews. The server writes these as
//! merge patches of the status subresource; a merge patch replaces a list whole, so every list
//! here is complete.

use std::collections::BTreeMap;

use crate::placement::member_cluster::{
    AgentStatus, MemberClusterStatus, PropertyValue, MEMBER_AGENT,
};
use crate::types::condition::{
    messages, new_condition, reasons, restamp_generation, types, Time, TRUE,
};
use crate::types::names::{NODE_COUNT_PROPERTY, REGION_PROPERTY};
use crate::MemberCluster;

/// The status of a joined, healthy member whose agent was heard from at `now`: the cluster's
/// `ReadyToJoin`, `Joined` and `Healthy`, the member agent's `Joined` and `Healthy` with its
/// heartbeat, all True at `generation` since `now`; its node count, and its region when it has one,
/// as properties observed at `now`.
pub fn joined_status(
    generation: i64,
    now: &Time,
    node_count: u32,
    region: Option<&str>,
) -> MemberClusterStatus {
    let condition = |type_: &str, reason: &str, message: &str| {
        new_condition(type_, TRUE, reason, message, generation, now)
    };
    let observed = |value: String| PropertyValue {
        value,
        observation_time: Some(now.clone()),
    };
    let mut properties = BTreeMap::from([(
        NODE_COUNT_PROPERTY.to_string(),
        observed(node_count.to_string()),
    )]);
    if let Some(region) = region {
        properties.insert(REGION_PROPERTY.to_string(), observed(region.to_string()));
    }
    MemberClusterStatus {
        conditions: Some(vec![
            condition(
                types::READY_TO_JOIN,
                reasons::MEMBER_CLUSTER_READY_TO_JOIN,
                messages::MEMBER_CLUSTER_READY_TO_JOIN,
            ),
            condition(
                types::JOINED,
                reasons::MEMBER_CLUSTER_JOINED,
                messages::MEMBER_CLUSTER_JOINED,
            ),
            condition(
                types::HEALTHY,
                reasons::MEMBER_CLUSTER_HEALTHY,
                messages::MEMBER_CLUSTER_HEALTHY,
            ),
        ]),
        agent_status: Some(vec![AgentStatus {
            type_: MEMBER_AGENT.to_string(),
            conditions: Some(vec![
                condition(
                    types::JOINED,
                    reasons::MEMBER_AGENT_JOINED,
                    messages::MEMBER_AGENT_JOINED,
                ),
                condition(
                    types::HEALTHY,
                    reasons::MEMBER_AGENT_HEALTHY,
                    messages::MEMBER_AGENT_HEALTHY,
                ),
            ]),
            last_received_heartbeat: Some(now.clone()),
        }]),
        properties: Some(properties),
        managed_cluster: None,
        resource_usage: None,
        namespaces: None,
    }
}

/// The status fields a heartbeat at `now` writes, or `None` before the member has an agent
/// status (it has not registered yet). The member agent's `lastReceivedHeartbeat` and every
/// property's `observationTime` become `now`; the cluster's and the member agent's conditions are
/// re-stamped to the member's generation and keep their `lastTransitionTime`, since nothing
/// transitioned (KubeFleet's `meta.SetStatusCondition`). Other agents' statuses are written back
/// as they are. Resource usage and namespaces are not the heartbeat's to write.
pub fn renewed_status(member: &MemberCluster, now: &Time) -> Option<MemberClusterStatus> {
    let status = member.status.as_ref()?;
    // A member read from the hub always has a generation; 1 is what a new object starts at.
    let generation = member.metadata.generation.unwrap_or(1);
    let mut agents = status.agent_status.clone()?;
    for agent in agents.iter_mut().filter(|a| a.type_ == MEMBER_AGENT) {
        agent.last_received_heartbeat = Some(now.clone());
        if let Some(conditions) = agent.conditions.as_mut() {
            restamp_generation(conditions, generation);
        }
    }
    let mut conditions = status.conditions.clone().unwrap_or_default();
    restamp_generation(&mut conditions, generation);
    let properties = status
        .properties
        .iter()
        .flatten()
        .map(|(name, property)| {
            (
                name.clone(),
                PropertyValue {
                    value: property.value.clone(),
                    observation_time: Some(now.clone()),
                },
            )
        })
        .collect();
    Some(MemberClusterStatus {
        conditions: Some(conditions),
        properties: Some(properties),
        agent_status: Some(agents),
        resource_usage: None,
        namespaces: None,
        managed_cluster: None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::placement::member_cluster::{MemberClusterSpec, ResourceUsage};
    use crate::types::condition::find_condition;

    fn t(s: &str) -> Time {
        Time(s.parse().expect("valid timestamp"))
    }

    fn member(generation: i64, status: Option<MemberClusterStatus>) -> MemberCluster {
        let mut m = MemberCluster::new("m1", MemberClusterSpec::default());
        m.metadata.generation = Some(generation);
        m.status = status;
        m
    }

    fn condition_json(type_: &str, reason: &str, message: &str, at: &str) -> serde_json::Value {
        json!({
            "type": type_, "status": "True", "reason": reason, "message": message,
            "observedGeneration": 1, "lastTransitionTime": at,
        })
    }

    #[test]
    fn a_joined_member_has_three_true_conditions_and_a_beating_member_agent() {
        let now = t("2026-01-01T00:00:00Z");
        let status = joined_status(1, &now, 3, None);
        let wire = serde_json::to_value(&status).expect("serializes");
        let at = "2026-01-01T00:00:00Z";
        assert_eq!(
            wire,
            json!({
                "conditions": [
                    condition_json("ReadyToJoin", "MemberClusterReadyToJoin", "the member cluster is ready to join", at),
                    condition_json("Joined", "MemberClusterJoined", "the member cluster has joined the fleet", at),
                    condition_json("Healthy", "MemberClusterHealthy", "the member cluster is healthy", at),
                ],
                "agentStatus": [{
                    "type": "MemberAgent",
                    "conditions": [
                        condition_json("Joined", "MemberAgentJoined", "the member agent has joined", at),
                        condition_json("Healthy", "MemberAgentHealthy", "the member agent is healthy", at),
                    ],
                    "lastReceivedHeartbeat": at,
                }],
                "properties": {
                    "kubernetes-fleet.io/node-count": { "value": "3", "observationTime": at },
                },
            }),
            "the status the embedded members have always written"
        );
    }

    #[test]
    fn a_region_is_reported_as_a_property_observed_at_join() {
        let now = t("2026-01-01T00:00:00Z");
        let status = joined_status(4, &now, 2, Some("eastus"));
        let properties = status.properties.expect("properties");
        assert_eq!(
            properties.get("fleetdeck.dev/region"),
            Some(&PropertyValue {
                value: "eastus".into(),
                observation_time: Some(now.clone()),
            })
        );
        assert_eq!(properties.len(), 2, "node count and region");
        let conditions = status.conditions.expect("conditions");
        assert!(conditions
            .iter()
            .all(|c| c.observed_generation == Some(4) && c.last_transition_time == now));
    }

    #[test]
    fn a_beat_renews_the_heartbeat_and_observation_times_but_no_transition_time() {
        let joined_at = t("2026-01-01T00:00:00Z");
        let now = t("2026-01-01T00:05:00Z");
        let m = member(2, Some(joined_status(1, &joined_at, 3, Some("eastus"))));
        let status = renewed_status(&m, &now).expect("status");

        let agent = status.agent(MEMBER_AGENT).expect("member agent");
        assert_eq!(agent.last_received_heartbeat.as_ref(), Some(&now));
        for c in agent.conditions.iter().flatten() {
            assert_eq!(
                c.last_transition_time, joined_at,
                "{} kept its time",
                c.type_
            );
            assert_eq!(
                c.observed_generation,
                Some(2),
                "re-stamped to the generation"
            );
        }
        let conditions = status.conditions.as_deref().expect("conditions");
        assert_eq!(conditions.len(), 3, "every condition written back");
        assert_eq!(conditions[1].type_, types::JOINED, "in their order");
        let joined = find_condition(conditions, types::JOINED).expect("joined");
        assert_eq!(joined.last_transition_time, joined_at);
        assert_eq!(joined.observed_generation, Some(2));
        assert_eq!(
            (joined.reason.as_str(), joined.status.as_str()),
            ("MemberClusterJoined", TRUE)
        );
        let properties = status.properties.as_ref().expect("properties");
        assert_eq!(properties.len(), 2, "every property written back");
        for (name, p) in properties {
            assert_eq!(
                p.observation_time.as_ref(),
                Some(&now),
                "{name} re-observed"
            );
        }
        assert_eq!(properties[NODE_COUNT_PROPERTY].value, "3");
    }

    #[test]
    fn a_beat_leaves_other_agents_and_what_it_does_not_own_alone() {
        let joined_at = t("2026-01-01T00:00:00Z");
        let mut status = joined_status(1, &joined_at, 3, None);
        let networking = AgentStatus {
            type_: "MultiClusterServiceAgent".into(),
            conditions: Some(vec![new_condition(
                types::JOINED,
                TRUE,
                "r",
                "m",
                1,
                &joined_at,
            )]),
            last_received_heartbeat: Some(joined_at.clone()),
        };
        status
            .agent_status
            .get_or_insert_with(Vec::new)
            .push(networking.clone());
        status.resource_usage = Some(ResourceUsage::default());
        status.namespaces = Some(BTreeMap::from([("a".into(), "w".into())]));
        let renewed =
            renewed_status(&member(2, Some(status)), &t("2026-01-01T00:05:00Z")).expect("status");
        assert_eq!(renewed.agent("MultiClusterServiceAgent"), Some(&networking));
        assert_eq!(renewed.agent_status.as_ref().map(Vec::len), Some(2));
        assert_eq!((renewed.resource_usage, renewed.namespaces), (None, None));
    }

    #[test]
    fn a_beat_writes_complete_lists_even_when_empty() {
        let now = t("2026-01-01T00:05:00Z");
        let bare = MemberClusterStatus {
            agent_status: Some(vec![AgentStatus {
                type_: MEMBER_AGENT.into(),
                ..AgentStatus::default()
            }]),
            ..MemberClusterStatus::default()
        };
        let renewed = renewed_status(&member(1, Some(bare)), &now).expect("status");
        assert_eq!(
            serde_json::to_value(&renewed).expect("serializes"),
            json!({
                "conditions": [],
                "properties": {},
                "agentStatus": [{"type": "MemberAgent", "lastReceivedHeartbeat": "2026-01-01T00:05:00Z"}],
            })
        );
    }

    #[test]
    fn no_beat_before_the_member_registered() {
        let now = t("2026-01-01T00:05:00Z");
        assert_eq!(renewed_status(&member(1, None), &now), None);
        let no_agents = MemberClusterStatus {
            conditions: Some(vec![]),
            ..MemberClusterStatus::default()
        };
        assert_eq!(renewed_status(&member(1, Some(no_agents)), &now), None);
    }

    #[test]
    fn agent_statuses_round_trip_unchanged() {
        let wire = json!({
            "conditions": [condition_json("Joined", "MemberClusterJoined", "m", "2026-01-01T00:00:00Z")],
            "agentStatus": [
                {"type": "MemberAgent", "lastReceivedHeartbeat": "2026-01-01T00:01:00Z",
                 "conditions": [condition_json("Healthy", "MemberAgentHealthy", "m", "2026-01-01T00:00:00Z")]},
                {"type": "ServiceExportImportAgent"},
            ],
            "resourceUsage": {
                "capacity": {"cpu": "4", "memory": "16Gi"},
                "available": {"cpu": "2850m"},
                "observationTime": "2026-01-01T00:01:00Z",
            },
            "properties": {"kubernetes-fleet.io/node-count": {"value": "1"}},
        });
        let status: MemberClusterStatus = serde_json::from_value(wire.clone()).expect("parses");
        assert_eq!(
            status
                .agent(MEMBER_AGENT)
                .and_then(|a| a.last_received_heartbeat.clone()),
            Some(t("2026-01-01T00:01:00Z"))
        );
        assert_eq!(serde_json::to_value(&status).expect("serializes"), wire);
    }
}

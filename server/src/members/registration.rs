//! Registering a member on the fleet hub as a `MemberCluster`, the way a KubeFleet member agent
//! joins: the object with its labels (plus `kubernetes-fleet.io/member-name`, spec §2), then a
//! joined and healthy status with the agent's heartbeat.

use app::fleet::MemberCluster;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};

use super::MemberConfig;

/// The label KubeFleet sets on every MemberCluster to its own name (spec §2).
pub const MEMBER_NAME_LABEL: &str = "kubernetes-fleet.io/member-name";

/// Creates the MemberCluster or brings its configured labels up to date (labels added by users
/// stay), then reports it joined.
pub async fn register(
    hub: &kube::Client,
    member: &MemberConfig,
    node_count: u32,
) -> Result<(), kube::Error> {
    let api: Api<MemberCluster> = Api::all(hub.clone());
    let mut labels = member.labels.clone();
    labels.insert(MEMBER_NAME_LABEL.into(), member.name.clone());
    match api.get_opt(&member.name).await? {
        Some(_) => {
            api.patch(
                &member.name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "metadata": { "labels": labels } })),
            )
            .await?;
        }
        None => {
            let object: MemberCluster = serde_json::from_value(json!({
                "apiVersion": "cluster.kubernetes-fleet.io/v1beta1",
                "kind": "MemberCluster",
                "metadata": { "name": member.name, "labels": labels },
                "spec": {
                    "identity": {
                        "kind": "ServiceAccount",
                        "name": "fleet-member-agent-sa",
                        "namespace": format!("fleet-member-{}", member.name),
                    },
                    "heartbeatPeriodSeconds": 60,
                },
            }))
            .map_err(kube::Error::SerdeError)?;
            api.create(&PostParams::default(), &object).await?;
        }
    }
    let generation = api
        .get(&member.name)
        .await?
        .metadata
        .generation
        .unwrap_or(1);
    let now = Timestamp::now();
    let mut status = joined_status(generation, now, node_count);
    if let Some(region) = &member.region {
        status["properties"][super::fleet_config::REGION_PROPERTY] =
            json!({ "value": region, "observationTime": now.to_string() });
    }
    api.patch_status(
        &member.name,
        &PatchParams::default(),
        &Patch::Merge(json!({ "status": status })),
    )
    .await?;
    Ok(())
}

/// The status of a joined, healthy member whose agent was heard from at `now`.
pub fn joined_status(generation: i64, now: Timestamp, node_count: u32) -> Value {
    let now = now.to_string();
    let condition = |type_: &str, reason: &str, message: &str| {
        json!({
            "type": type_, "status": "True", "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": now,
        })
    };
    json!({
        "conditions": [
            condition("ReadyToJoin", "MemberClusterReadyToJoin", "the member cluster is ready to join"),
            condition("Joined", "MemberClusterJoined", "the member cluster has joined the fleet"),
            condition("Healthy", "MemberClusterHealthy", "the member cluster is healthy"),
        ],
        "agentStatus": [{
            "type": "MemberAgent",
            "conditions": [
                condition("Joined", "MemberAgentJoined", "the member agent has joined"),
                condition("Healthy", "MemberAgentHealthy", "the member agent is healthy"),
            ],
            "lastReceivedHeartbeat": now,
        }],
        "properties": {
            "kubernetes-fleet.io/node-count": { "value": node_count.to_string(), "observationTime": now },
        },
    })
}

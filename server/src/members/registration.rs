//! Registering a member on the fleet hub as a `MemberCluster`, the way a KubeFleet member agent
//! joins: the object with its labels (plus `kubernetes-fleet.io/member-name`, spec §2), then a
//! joined and healthy status with the agent's heartbeat.

use app::fleet::placement::member_status::joined_status;
use app::fleet::types::condition::Time;
use app::fleet::types::merge_patch::StatusPatch;
use app::fleet::MemberCluster;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use super::MemberConfig;

/// The label KubeFleet sets on every MemberCluster to its own name (spec §2).
pub use app::fleet::types::names::MEMBER_NAME_LABEL;

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
    let status = joined_status(
        generation,
        &Time(Timestamp::now()),
        node_count,
        member.region.as_deref(),
    );
    api.patch_status(
        &member.name,
        &PatchParams::default(),
        &Patch::Merge(&StatusPatch { status: &status }),
    )
    .await?;
    Ok(())
}

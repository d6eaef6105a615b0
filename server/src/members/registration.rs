//! Registering a member on the fleet hub as a `MemberCluster`, the way a KubeFleet member agent
//! joins: the object with its labels (plus `kubernetes-fleet.io/member-name`, spec §2), then a
//! joined and healthy status with the agent's heartbeat, and the simulated cluster's versions
//! (seed 004).

use app::fleet::placement::member_cluster::{MemberClusterSpec, Subject};
use app::fleet::placement::member_status::joined_status;
use app::fleet::placement::membership::MEMBER_CLUSTER_FINALIZER;
use app::fleet::types::condition::Time;
use app::fleet::types::merge_patch::{MetadataOnly, MetadataPatch, StatusPatch};
use app::fleet::MemberCluster;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};

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
            // A merge patch of the configured labels only: the ones users added stay.
            let patch = MetadataOnly::from(MetadataPatch {
                labels: Some(labels.into_iter().map(|(k, v)| (k, Some(v))).collect()),
                annotations: None,
            });
            api.patch(&member.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        None => {
            let mut object = MemberCluster::new(&member.name, registered_spec(&member.name));
            object.metadata.labels = Some(labels);
            // Held from the start, as the membership controller would hold it (saves a write
            // per member of a big simulated fleet).
            object.metadata.finalizers = Some(vec![MEMBER_CLUSTER_FINALIZER.to_string()]);
            api.create(&PostParams::default(), &object).await?;
        }
    }
    let registered = api.get(&member.name).await?;
    let generation = registered.metadata.generation.unwrap_or(1);
    let mut status = joined_status(
        generation,
        &Time(Timestamp::now()),
        node_count,
        member.region.as_deref(),
    );
    // The simulated cluster's versions, once: a restart keeps what upgrade runs made of them.
    let reported = registered
        .status
        .as_ref()
        .is_some_and(|s| s.managed_cluster.is_some());
    if !reported {
        status.managed_cluster = Some(member.cluster.initial_status(member.region.as_deref()));
    }
    api.patch_status(
        &member.name,
        &PatchParams::default(),
        &Patch::Merge(&StatusPatch { status: &status }),
    )
    .await?;
    Ok(())
}

/// The spec a KubeFleet member is registered with: the member agent's service account in the
/// member's own reserved namespace, beating every 60 s (the default).
pub fn registered_spec(member: &str) -> MemberClusterSpec {
    MemberClusterSpec {
        identity: Subject {
            kind: "ServiceAccount".into(),
            name: "fleet-member-agent-sa".into(),
            namespace: Some(format!("fleet-member-{member}")),
            api_group: None,
        },
        heartbeat_period_seconds: Some(60),
        ..MemberClusterSpec::default()
    }
}

//! The membership controller (placement-extras §4): the hub's MemberCluster controller and the
//! member agent's join/leave in one. Every MemberCluster is held by KubeFleet's finalizer; a
//! member of the fleet has its agent running (and, in the embedded mode, its simulated cluster);
//! a deleted one has its agent stopped — nothing placed on it is deleted —, reports `Joined` False
//! `MemberClusterLeft`, and is let go. The steps are decided by
//! `app::fleet::placement::membership`; this module reads the member and does them.
//!
//! It follows the process's shared watch of MemberClusters, so the member agent's set follows the
//! live MemberCluster set: in the embedded mode a member that joins is started here, on a real hub
//! the member directory (`kubeconfig_secrets`) connects it once its Secret is there.

use std::sync::Arc;
use std::time::Duration;

use app::fleet::placement::membership::{
    membership_step, MembershipStep, MEMBER_CLUSTER_FINALIZER,
};
use app::fleet::types::condition::Time;
use app::fleet::types::merge_patch::StatusPatch;
use app::fleet::MemberCluster;
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher::Event;
use kube::ResourceExt;
use serde::Serialize;

use super::agent::Agent;
use super::sim::fleet::SimulatedFleet;
use crate::informers::Informers;

/// Who runs a member's side of the fleet in this process.
pub struct Membership {
    pub hub: kube::Client,
    /// The member agent, when this process runs one (not with `--engine off`).
    pub agent: Option<Arc<Agent>>,
    /// The simulated members of the embedded mode.
    pub simulated: Option<Arc<SimulatedFleet>>,
}

#[derive(Debug, thiserror::Error)]
pub enum MembershipError {
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    #[error("member {member}: {source}")]
    Simulated {
        member: String,
        source: Box<crate::Error>,
    },
}

impl Membership {
    /// Runs until the watch ends.
    pub async fn run(self: Arc<Self>, informers: Informers) {
        let informer = informers.of::<MemberCluster>();
        // A member deleted while no finalizer held it (fleetdeck was not running, or someone
        // removed the finalizer): its agent stops all the same.
        let gone = {
            let this = self.clone();
            informer.events().for_each(move |event| {
                let this = this.clone();
                async move {
                    if let Event::Delete(member) = event {
                        this.leave(&member.name_any()).await;
                    }
                }
            })
        };
        let steps = Controller::for_shared_stream(informer.applied(), informer.store())
            .run(reconcile, error_policy, self)
            .for_each(|_| async {});
        tokio::join!(gone, steps);
    }

    /// A member of the fleet: started when simulated here and not running yet.
    async fn join(&self, member: &MemberCluster) -> Result<(), MembershipError> {
        let Some(simulated) = &self.simulated else {
            return Ok(());
        };
        let name = member.name_any();
        let target = simulated
            .join(&name, member.labels())
            .await
            .map_err(|source| MembershipError::Simulated {
                member: name.clone(),
                source: Box::new(source),
            })?;
        if let (Some(target), Some(agent)) = (target, &self.agent) {
            agent.set_member(target).await;
        }
        Ok(())
    }

    /// A member leaving or gone: its agent stops applying (what it placed stays) and, when
    /// simulated here, its cluster stops.
    async fn leave(&self, name: &str) {
        if let Some(agent) = &self.agent {
            if agent.member_names().iter().any(|m| m == name) {
                agent.remove_member(name).await;
            }
        }
        if let Some(simulated) = &self.simulated {
            if let Err(error) = simulated.leave(name).await {
                tracing::warn!(member = %name, %error, "simulated member did not stop cleanly");
            }
        }
    }
}

fn error_policy(_: Arc<MemberCluster>, error: &MembershipError, _: Arc<Membership>) -> Action {
    tracing::info!(%error, "membership: retrying");
    Action::requeue(Duration::from_secs(1))
}

async fn reconcile(
    member: Arc<MemberCluster>,
    membership: Arc<Membership>,
) -> Result<Action, MembershipError> {
    let api: Api<MemberCluster> = Api::all(membership.hub.clone());
    let name = member.name_any();
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    match membership_step(&member, &now) {
        MembershipStep::AddFinalizer => {
            let mut finalizers = member.finalizers().to_vec();
            finalizers.push(MEMBER_CLUSTER_FINALIZER.to_string());
            set_finalizers(&api, &member, finalizers).await?;
        }
        MembershipStep::Join => membership.join(&member).await?,
        MembershipStep::Leave { status } => {
            // The agent leaves first (§4.2 step 3), then the hub reports it and lets it go.
            membership.leave(&name).await;
            let current = match status {
                Some(status) => {
                    api.patch_status(
                        &name,
                        &PatchParams::default(),
                        &Patch::Merge(&StatusPatch { status: *status }),
                    )
                    .await?
                }
                None => (*member).clone(),
            };
            let rest = current
                .finalizers()
                .iter()
                .filter(|f| *f != MEMBER_CLUSTER_FINALIZER)
                .cloned()
                .collect();
            set_finalizers(&api, &current, rest).await?;
            tracing::info!(member = %name, "member cluster left the fleet");
        }
        MembershipStep::Gone => membership.leave(&name).await,
    }
    Ok(Action::await_change())
}

/// Sets a member's finalizers, at the resourceVersion read, so a concurrent change of them is
/// a conflict (and a retry) rather than lost.
async fn set_finalizers(
    api: &Api<MemberCluster>,
    member: &MemberCluster,
    finalizers: Vec<String>,
) -> Result<(), kube::Error> {
    #[derive(Debug, Serialize)]
    struct MetadataPatch {
        metadata: ObjectMeta,
    }
    let patch = MetadataPatch {
        metadata: ObjectMeta {
            finalizers: Some(finalizers),
            resource_version: member.resource_version(),
            ..ObjectMeta::default()
        },
    };
    api.patch(
        &member.name_any(),
        &PatchParams::default(),
        &Patch::Merge(&patch),
    )
    .await?;
    Ok(())
}

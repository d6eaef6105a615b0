//! A binding deleted after its member left the fleet (placement-extras §4.3): what it placed stays
//! on the member, and its cleanup finalizer goes at once, without waiting for a member nobody
//! drives any more. The decision is `app::fleet::placement::membership::on_binding_deletion`.

use app::fleet::placement::membership::{on_binding_deletion, PlacedObjects};
use app::fleet::MemberCluster;
use kube::api::Api;
use kube::ResourceExt;

use super::reconcile::set_finalizers;
use super::record::record_name;
use super::{Agent, Binding, Result, CLEANUP_FINALIZER};
use crate::scope::{api, RunScope};

/// For a deleted `binding`: when its member left (or is leaving), drops the agent's finalizer,
/// leaving the member's objects alone, and returns true; false when the member is in the fleet
/// and the usual removal applies. The MemberCluster is read from the hub itself, not a cache: a
/// stale "still here" would remove what a departed member must keep.
pub(super) async fn left_in_place<S: RunScope>(
    agent: &Agent,
    binding: &Binding<S>,
) -> Result<bool> {
    let cluster = &binding.spec.target_cluster;
    let member = Api::<MemberCluster>::all(agent.hub.clone())
        .get_opt(cluster)
        .await?;
    if on_binding_deletion(member.as_ref()) == PlacedObjects::Remove {
        return Ok(false);
    }
    if let Some(placement) = binding
        .labels()
        .get(app::fleet::types::names::PARENT_PLACEMENT_LABEL)
    {
        agent.untrack(cluster, &record_name(binding.namespace(), placement));
    }
    if binding.finalizers().iter().any(|f| f == CLEANUP_FINALIZER) {
        let rest = binding
            .finalizers()
            .iter()
            .filter(|f| *f != CLEANUP_FINALIZER)
            .cloned()
            .collect();
        let bindings = api::<S::Binding>(&agent.hub, binding.namespace());
        set_finalizers::<S>(&bindings, &binding.name_any(), rest).await?;
        tracing::info!(
            binding = %binding.name_any(),
            member = %cluster,
            "member agent: the member left the fleet; what the binding placed there stays"
        );
    }
    Ok(true)
}

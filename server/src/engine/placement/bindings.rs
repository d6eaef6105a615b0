//! Scheduling a placement into bindings on the hub (spec §5): members from the cache, the
//! decision from `app::fleet::placement::scheduling`, the writes from `app::fleet::placement::binding_writes`.

use std::sync::Arc;

use app::fleet::placement::binding_writes::{binding_writes, existing_binding};
use app::fleet::placement::placement_ref::PlacementRef;
use app::fleet::placement::scheduling::{
    binding_changes, schedule, Candidate, ExistingBinding, Schedule,
};
use app::fleet::types::condition::{find_condition, types, TRUE};
use app::fleet::types::names::PARENT_PLACEMENT_LABEL;
use app::fleet::{MemberCluster, Object};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;

use super::{Placement, ScopeContext};
use crate::engine::cache;
use crate::engine::{Error, Result};
use crate::scope::{api, RunScope};

/// What scheduling decided and found.
pub(super) struct Bound<S: RunScope> {
    pub schedule: Schedule,
    /// The placement's bindings in the cache, before this pass's writes.
    pub cached: Vec<Arc<Object<S::Binding>>>,
    /// Whether the bindings needed writes (the cache is then behind the hub).
    pub wrote: bool,
}

/// Schedules the placement's policy over the members and makes its bindings match, pointing
/// at `policy_snapshot`.
pub(super) async fn schedule_and_bind<S: RunScope>(
    sctx: &ScopeContext<S>,
    placement: &Placement<S>,
    owner: &PlacementRef,
    policy_snapshot: &str,
) -> Result<Bound<S>> {
    let client = &sctx.pctx.ctx.client;
    let members = cache::all(&sctx.members).await?;
    let candidates: Vec<Candidate> = members.iter().map(|m| candidate(m)).collect();
    let scheduled =
        schedule(placement.spec.policy.as_ref(), &candidates).map_err(|e| Error::Placement {
            placement: owner.name.clone(),
            message: e.to_string(),
        })?;
    let ns = owner.namespace.as_deref();
    let cached = cache::bindings_of(&sctx.bindings, ns, &owner.name).await?;
    let existing: Vec<ExistingBinding> = cached.iter().map(|b| existing_binding(&**b)).collect();
    let mut changes = binding_changes(&scheduled.selected, &existing, policy_snapshot);
    let wrote = !changes.is_empty();
    if wrote {
        // Decide writes from the hub itself: the cache may not hold our last creations yet.
        let listed = list::<S>(client, owner).await?;
        let existing: Vec<ExistingBinding> = listed.iter().map(existing_binding).collect();
        changes = binding_changes(&scheduled.selected, &existing, policy_snapshot);
    }
    let writes =
        binding_writes::<S::Binding>(&changes, owner, &scheduled, policy_snapshot, random_suffix);
    let bindings = api::<S::Binding>(client, ns);
    for binding in &writes.create {
        bindings.create(&PostParams::default(), binding).await?;
    }
    for (name, patch) in &writes.patch {
        bindings
            .patch(name, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
    }
    Ok(Bound {
        schedule: scheduled,
        cached,
        wrote,
    })
}

/// The placement's bindings as the hub has them now.
pub(super) async fn list<S: RunScope>(
    client: &kube::Client,
    owner: &PlacementRef,
) -> Result<Vec<Object<S::Binding>>> {
    let of_placement =
        ListParams::default().labels(&format!("{PARENT_PLACEMENT_LABEL}={}", owner.name));
    Ok(api::<S::Binding>(client, owner.namespace.as_deref())
        .list(&of_placement)
        .await?
        .items)
}

/// A member as the scheduler sees it: only a joined member that is not leaving is picked.
pub(super) fn candidate(member: &MemberCluster) -> Candidate {
    let status = member.status.as_ref();
    let joined = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| find_condition(c, types::JOINED))
        .is_some_and(|c| c.status == TRUE)
        && member.metadata.deletion_timestamp.is_none();
    Candidate {
        name: member.name_any(),
        labels: member.labels().clone(),
        joined,
        // Absent taints and properties: a member with none.
        taints: member.spec.taints.clone().unwrap_or_default(),
        properties: status
            .and_then(|s| s.properties.as_ref())
            .map(|p| {
                p.iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Eight random hex characters for a binding name (spec §2).
fn random_suffix() -> String {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        // Not secret, only unique per placement and cluster: the clock will do.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        bytes = nanos.to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

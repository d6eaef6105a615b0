//! The placement's scheduling-policy snapshot on the hub (spec §4.2): list, ask
//! `app::fleet::placement::policy_snapshot` what to write, write it.

use app::fleet::placement::placement_ref::PlacementRef;
use app::fleet::placement::policy_snapshot::{
    plan, scheduled_status, ExistingPolicySnapshot, PolicySnapshotPlan,
};
use app::fleet::placement::scheduling::Schedule;
use app::fleet::types::merge_patch::{MetadataOnly, MetadataPatch, StatusPatch};
use app::fleet::types::names::PARENT_PLACEMENT_LABEL;
use kube::api::{ListParams, Patch, PatchParams, PostParams};

use super::{generation, Placement, PlacementContext};
use crate::engine::{Error, Result};
use crate::scope::{api, RunScope};

/// The latest policy snapshot for the placement's current policy, created when the policy
/// changed (PickN's cluster count is an annotation on the same snapshot, spec §4.2).
pub(super) async fn ensure<S: RunScope>(
    client: &kube::Client,
    placement: &Placement<S>,
    owner: &PlacementRef,
) -> Result<String> {
    let snapshots = api::<S::PolicySnapshot>(client, owner.namespace.as_deref());
    let existing: Vec<ExistingPolicySnapshot> = snapshots
        .list(&ListParams::default().labels(&format!("{PARENT_PLACEMENT_LABEL}={}", owner.name)))
        .await?
        .items
        .iter()
        .map(ExistingPolicySnapshot::of)
        .collect();
    let plan =
        plan(owner, placement.spec.policy.as_ref(), &existing).map_err(|e| Error::Placement {
            placement: owner.name.clone(),
            message: e.to_string(),
        })?;
    let params = PatchParams::default();
    match &plan {
        PolicySnapshotPlan::Keep {
            name,
            number_of_clusters: Some(patch),
        } => {
            let patch = MetadataOnly::from(patch.clone());
            snapshots
                .patch(name, &params, &Patch::Merge(&patch))
                .await?;
        }
        PolicySnapshotPlan::Keep { .. } => {}
        PolicySnapshotPlan::Create {
            unmark_latest,
            snapshot,
        } => {
            let unmark = MetadataOnly::from(MetadataPatch::is_latest(false));
            for old in unmark_latest {
                snapshots
                    .patch(old, &params, &Patch::Merge(&unmark))
                    .await?;
            }
            match snapshots
                .create(&PostParams::default(), &snapshot.to_object())
                .await
            {
                Ok(_) => {}
                // Another pass got there first, from the same policy.
                Err(kube::Error::Api(status)) if status.code == 409 => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(plan.name().to_string())
}

/// Writes the snapshot's status for `schedule` when it says something else.
pub(super) async fn write_status<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
    snapshot: &str,
    schedule: &Schedule,
) -> Result<()> {
    let snapshots =
        api::<S::PolicySnapshot>(&pctx.ctx.client, placement.metadata.namespace.as_deref());
    let current = snapshots.get(snapshot).await?;
    let snapshot_generation = current.metadata.generation.ok_or_else(|| {
        Error::InvalidObject(format!(
            "policy snapshot {snapshot} has no metadata.generation"
        ))
    })?;
    let desired = scheduled_status(
        current.status.as_ref(),
        snapshot_generation,
        generation::<S>(placement)?,
        schedule,
        &pctx.ctx.clock.now(),
    );
    if let Some(status) = desired {
        snapshots
            .patch_status(
                snapshot,
                &PatchParams::default(),
                &Patch::Merge(&StatusPatch { status }),
            )
            .await?;
    }
    Ok(())
}

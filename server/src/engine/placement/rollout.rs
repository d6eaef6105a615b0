//! A `RollingUpdate` placement's rollout on the hub (spec §10.1, §10.2): select its resources,
//! get or create their snapshot group, and move bindings to it as
//! `app::fleet::placement::rolling_update` decides.

use app::fleet::overrides::matching;
use app::fleet::placement::binding::ResourceBindingStatus;
use app::fleet::placement::placement_ref::PlacementRef;
use app::fleet::placement::rolling_update::{
    plan_rollout, with_rollout_started, RolloutBinding, RolloutEffects,
};
use app::fleet::placement::snapshot_group::DEFAULT_REVISION_HISTORY_LIMIT;
use app::fleet::types::merge_patch::StatusPatch;
use app::fleet::MemberCluster;
use kube::api::{DeleteParams, Patch, PatchParams};

use super::{bindings, status, Placement, PlacementContext};
use crate::engine::selection::SelectionError;
use crate::engine::snapshots::get_or_create;
use crate::engine::{Error, Result};
use crate::scope::{api, RunScope};

/// How a rollout pass ended.
pub(super) enum RolloutPass {
    RolledOut,
    /// The selectors cannot be followed; the placement says so and nothing was rolled out.
    InvalidSelectors,
}

/// Snapshots what the placement selects and moves its bindings to the latest master.
pub(super) async fn snapshot_and_roll_out<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
    owner: &PlacementRef,
) -> Result<RolloutPass> {
    let client = &pctx.ctx.client;
    let ns = owner.namespace.as_deref();
    let resources = match pctx.selector.select(&placement.spec, ns).await {
        Ok(resources) => resources,
        Err(SelectionError::User(message)) => {
            status::report_invalid_selectors::<S>(pctx, placement, &message).await?;
            return Ok(RolloutPass::InvalidSelectors);
        }
        Err(SelectionError::Hub(e)) => return Err(e.into()),
        Err(SelectionError::NoName { kind }) => {
            return Err(Error::InvalidObject(format!(
                "a listed {kind} has no metadata.name"
            )))
        }
    };
    let limit = placement
        .spec
        .revision_history_limit
        .filter(|l| *l > 0)
        .map_or(DEFAULT_REVISION_HISTORY_LIMIT, |l| l as u32);
    let plan = get_or_create::<S::ResourceSnapshot>(client, owner, &resources, limit).await?;
    roll_out::<S>(pctx, placement, owner, &plan.master_name, &resources).await?;
    Ok(RolloutPass::RolledOut)
}

/// Moves bindings to `master`, at most `maxUnavailable` clusters in flight at a time (spec §3.1
/// `strategy.rollingUpdate`), after deleting the de-selected ones.
async fn roll_out<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
    owner: &PlacementRef,
    master: &str,
    resources: &[serde_json::Value],
) -> Result<()> {
    let listed = bindings::list::<S>(&pctx.ctx.client, owner).await?;
    let mut views: Vec<RolloutBinding> = listed.iter().map(RolloutBinding::of).collect();
    wanted_overrides(&pctx.ctx.client, owner, resources, &mut views).await?;
    let RolloutEffects { deletes, moves } = plan_rollout(
        &views,
        master,
        placement.spec.strategy.as_ref(),
        &pctx.ctx.clock.now(),
    )
    .map_err(|e| Error::Placement {
        placement: owner.name.clone(),
        message: e.to_string(),
    })?;
    let bindings = api::<S::Binding>(&pctx.ctx.client, owner.namespace.as_deref());
    for name in &deletes {
        match bindings.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let params = PatchParams::default();
    for m in &moves {
        let updated = bindings
            .patch(&m.name, &params, &Patch::Merge(&m.patch))
            .await?;
        // The member agent acts on RolloutStarted at the binding's generation (spec §15 item 6).
        let generation = updated.metadata.generation.ok_or_else(|| {
            Error::InvalidObject(format!("binding {} has no metadata.generation", m.name))
        })?;
        let conditions = with_rollout_started(
            updated
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_deref()),
            &m.rollout_started,
            generation,
        );
        let status = ResourceBindingStatus {
            conditions: Some(conditions),
            ..ResourceBindingStatus::default()
        };
        bindings
            .patch_status(&m.name, &params, &Patch::Merge(&StatusPatch { status }))
            .await?;
    }
    Ok(())
}

/// Each binding's override lists as the latest override snapshots give them (placement-extras
/// §1.7: a RollingUpdate placement recomputes them on every rollout pass). A binding whose
/// member is gone keeps its lists; it is about to be unscheduled.
async fn wanted_overrides(
    client: &kube::Client,
    owner: &PlacementRef,
    resources: &[serde_json::Value],
    views: &mut [RolloutBinding],
) -> Result<()> {
    let inputs = crate::engine::overrides::latest_snapshots(client).await?;
    let key = matching::placement_key(owner.namespace.as_deref(), &owner.name);
    let (cros, ros) = matching::matching_overrides(
        &key,
        resources,
        &inputs.cluster_resource_overrides,
        &inputs.resource_overrides,
    );
    let members = kube::Api::<MemberCluster>::all(client.clone())
        .list(&kube::api::ListParams::default())
        .await?;
    for view in views.iter_mut() {
        let Some(member) = members
            .items
            .iter()
            .find(|m| m.name() == view.target_cluster)
        else {
            continue;
        };
        view.wanted_overrides = Some(matching::for_cluster(&cros, &ros, member.labels()).map_err(
            |e| Error::Placement {
                placement: owner.name.clone(),
                message: e.to_string(),
            },
        )?);
    }
    Ok(())
}

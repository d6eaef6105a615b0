//! The placement's status (spec §3.3): per-cluster views from its bindings, the derivation in
//! `app::fleet::placement::placement_status`, and one write when it changed.

use std::collections::HashMap;
use std::sync::Arc;

use app::fleet::placement::binding::BindingState;
use app::fleet::placement::binding_writes::decisions_by_cluster;
use app::fleet::placement::placement_status::{
    common_index, derive, failed_to_schedule, keep_transition_times, set_invalid_selectors,
    ClusterView, PlacementFacts,
};
use app::fleet::placement::resource_placement::{PlacementStatus, ResourceIdentifier};
use app::fleet::placement::scheduling::Schedule;
use app::fleet::types::merge_patch::StatusPatch;
use app::fleet::types::names::{
    PARENT_PLACEMENT_LABEL, RESOURCE_HASH_ANNOTATION, RESOURCE_INDEX_LABEL,
    SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION,
};
use app::fleet::{FleetKind, Object};
use kube::api::{ListParams, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::Value;

use super::{generation, Placement, PlacementContext};
use crate::engine::selection::SelectionError;
use crate::engine::{Error, Result};
use crate::scope::{api, RunScope};

/// Selectors the placement cannot follow: `…Scheduled` False with KubeFleet's reason and the
/// selection error, so `kubectl get crp` and `describe` say what to fix.
pub(super) async fn report_invalid_selectors<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
    error: &str,
) -> Result<()> {
    tracing::info!(placement = %placement.name_any(), %error, "invalid resource selectors");
    let mut conditions = placement.status.as_ref().and_then(|s| s.conditions.clone());
    let changed = set_invalid_selectors(
        &mut conditions,
        <S::Placement as FleetKind>::KIND,
        error,
        generation::<S>(placement)?,
        &pctx.ctx.clock.now(),
    );
    if changed {
        // A merge patch of the conditions alone: the rest of the status stays.
        let status = PlacementStatus {
            conditions,
            ..PlacementStatus::default()
        };
        patch_status::<S>(pctx, placement, &status).await?;
    }
    Ok(())
}

/// Derives the placement's status from `schedule` and its `bindings`, and writes it if changed.
pub(super) async fn write<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
    schedule: &Schedule,
    bindings: &[Arc<Object<S::Binding>>],
    external: bool,
) -> Result<()> {
    let views = cluster_views::<S>(schedule, bindings);
    let selected_resources = match common_index(&views) {
        Some(index) => selected_resources::<S>(pctx, placement, &index).await?,
        // placement-extras §5.2 row 1: with no cluster selected, an External placement shows
        // what its selectors select now (no snapshot exists to read it from).
        None if external && views.is_empty() => live_selection::<S>(pctx, placement).await?,
        None => Vec::new(),
    };
    let facts = PlacementFacts {
        prefix: <S::Placement as FleetKind>::KIND,
        run_kind: <S::Run as FleetKind>::KIND,
        generation: generation::<S>(placement)?,
        external,
        report_diff: placement
            .spec
            .strategy
            .as_ref()
            .and_then(|s| s.apply_strategy.as_ref())
            .and_then(|a| a.type_)
            == Some(app::fleet::placement::resource_placement::ApplyStrategyType::ReportDiff),
        fulfilled: schedule.fulfilled,
        scheduled_count: schedule.selected.len(),
        selected_resources,
        failed_to_schedule: failed_to_schedule(placement.spec.policy.as_ref(), schedule),
    };
    let mut status = derive(&facts, &views, &pctx.ctx.clock.now());
    keep_transition_times(&mut status, placement.status.as_ref());
    if placement.status.as_ref() == Some(&status) {
        return Ok(());
    }
    patch_status::<S>(pctx, placement, &status).await
}

/// One view per selected cluster: its decision and its active binding (first one wins, so
/// lookups stay linear at 10,000 clusters), conditions only at the binding's generation.
/// The binding's `RolloutStarted` is True at its generation: its override lists are current.
fn started<K>(binding: Option<&Object<K>>) -> bool
where
    K: app::fleet::FleetKind<Status = app::fleet::placement::binding::ResourceBindingStatus>,
{
    binding.is_some_and(|b| {
        let conditions = b
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default();
        app::fleet::types::condition::is_true_at(
            conditions,
            app::fleet::types::condition::types::ROLLOUT_STARTED,
            b.metadata.generation.unwrap_or(0),
        )
    })
}

fn cluster_views<S: RunScope>(
    schedule: &Schedule,
    bindings: &[Arc<Object<S::Binding>>],
) -> Vec<ClusterView> {
    let decisions = decisions_by_cluster(schedule);
    let mut active: HashMap<&str, &Object<S::Binding>> = HashMap::new();
    for b in bindings
        .iter()
        .filter(|b| b.spec.state != BindingState::Unscheduled)
    {
        active.entry(b.spec.target_cluster.as_str()).or_insert(b);
    }
    schedule
        .selected
        .iter()
        .map(|cluster| {
            let decision = decisions.get(cluster.as_str()).copied();
            let binding = active.get(cluster.as_str()).copied();
            let generation = binding.and_then(|b| b.metadata.generation).unwrap_or(0);
            let binding_status = binding.and_then(|b| b.status.as_ref());
            ClusterView {
                cluster: cluster.clone(),
                // The snapshot's status keeps at most MAX_STATUS_DECISIONS decisions, so a picked
                // cluster of a very large fleet may have none: then no reason to repeat.
                reason: decision.and_then(|d| d.reason.clone()).unwrap_or_default(),
                affinity_score: decision
                    .and_then(|d| d.cluster_score.as_ref())
                    .and_then(|s| s.affinity_score)
                    .unwrap_or(0),
                resource_index: binding
                    .filter(|b| b.spec.state == BindingState::Bound)
                    .and_then(|b| b.spec.resource_snapshot_name.as_deref())
                    .and_then(app::fleet::views::member_view::snapshot_index),
                // A binding without conditions (or without a binding yet) reports none.
                conditions: binding_status
                    .and_then(|s| s.conditions.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| c.observed_generation == Some(generation))
                    .collect(),
                failed_placements: binding_status.and_then(|s| s.failed_placements.clone()),
                drifted_placements: binding_status.and_then(|s| s.drifted_placements.clone()),
                diffed_placements: binding_status.and_then(|s| s.diffed_placements.clone()),
                applicable_cluster_resource_overrides: started(binding)
                    .then(|| {
                        binding.and_then(|b| b.spec.cluster_resource_override_snapshots.clone())
                    })
                    .flatten()
                    .unwrap_or_default(),
                applicable_resource_overrides: started(binding)
                    .then(|| binding.and_then(|b| b.spec.resource_override_snapshots.clone()))
                    .flatten()
                    .unwrap_or_default(),
            }
        })
        .collect()
}

async fn patch_status<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
    status: &PlacementStatus,
) -> Result<()> {
    api::<S::Placement>(&pctx.ctx.client, placement.namespace())
        .patch_status(
            &placement.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&StatusPatch { status }),
        )
        .await?;
    Ok(())
}

/// The resource identifiers of every snapshot of group `index` (placement-extras §5.2,
/// `CollectResourceIdentifiersFromResourceSnapshot`): none when the group does not exist, an
/// error when it has no master. The master comes first, then the sub-indexed snapshots in order
/// (KubeFleet walks a map here; fleetdeck keeps the order stable).
async fn selected_resources<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
    index: &str,
) -> Result<Vec<ResourceIdentifier>> {
    let snapshots = api::<S::ResourceSnapshot>(&pctx.ctx.client, placement.namespace());
    let labels = format!(
        "{PARENT_PLACEMENT_LABEL}={},{RESOURCE_INDEX_LABEL}={index}",
        placement.name_any()
    );
    let mut group = snapshots
        .list(&ListParams::default().labels(&labels))
        .await?
        .items;
    if group.is_empty() {
        return Ok(Vec::new());
    }
    let is_master =
        |s: &Object<S::ResourceSnapshot>| s.annotations().contains_key(RESOURCE_HASH_ANNOTATION);
    if !group.iter().any(is_master) {
        return Err(Error::InvalidObject(format!(
            "no master resource snapshot found for placement {} at index {index}",
            placement.name_any()
        )));
    }
    let sub_index = |s: &Object<S::ResourceSnapshot>| {
        s.annotations()
            .get(SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION)
            .and_then(|v| v.parse::<u64>().ok())
    };
    group.sort_by_key(|s| (!is_master(s), sub_index(s)));
    let mut identifiers = Vec::new();
    for snapshot in &group {
        let name = snapshot.name_any();
        for r in &snapshot.spec.selected_resources {
            identifiers.push(identifier(r).ok_or_else(|| missing(&name, r))?);
        }
    }
    Ok(identifiers)
}

/// The identifiers of what the placement's selectors select now; selectors it cannot follow
/// select nothing here (they fail the run that would snapshot them).
async fn live_selection<S: RunScope>(
    pctx: &PlacementContext,
    placement: &Placement<S>,
) -> Result<Vec<ResourceIdentifier>> {
    let objects = match pctx
        .selector
        .select(&placement.spec, placement.namespace())
        .await
    {
        Ok(objects) => objects,
        Err(SelectionError::Hub(e)) => return Err(e.into()),
        Err(SelectionError::User(_) | SelectionError::NoName { .. }) => return Ok(Vec::new()),
    };
    // The selector already refused objects without a name; each has its apiVersion and kind.
    Ok(objects.iter().filter_map(identifier).collect())
}

/// A selected object's identifier; `None` when it lacks `apiVersion`, `kind` or a name, which
/// every object the hub stored has.
fn identifier(r: &Value) -> Option<ResourceIdentifier> {
    let api_version = r["apiVersion"].as_str()?;
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    Some(ResourceIdentifier {
        group: Some(group.to_string()),
        version: Some(version.to_string()),
        kind: r["kind"].as_str()?.to_string(),
        name: r["metadata"]["name"].as_str()?.to_string(),
        namespace: r["metadata"]["namespace"].as_str().map(str::to_string),
        envelope: None,
    })
}

fn missing(snapshot: &str, r: &Value) -> Error {
    Error::InvalidObject(format!(
        "resource snapshot {snapshot} holds an object without apiVersion, kind or metadata.name: {}",
        r
    ))
}

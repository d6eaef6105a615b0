//! The binding controller of the agent, one per scope: read the binding and its snapshot, apply
//! to the member, write the conditions and failed placements `app::fleet::placement::binding_status`
//! decides.
//!
//! The cleanup finalizer is handled here rather than with `kube::runtime::finalizer`: that helper
//! adds its finalizer to every binding it sees and runs the cleanup only for bindings that carry
//! it, while the agent adds it only once a binding is due for an apply pass (a binding never
//! rolled out can be deleted without a running agent) and removes what a record lists on
//! deletion whether or not the finalizer is there.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app::fleet::placement::binding::ResourceBindingStatus;
use app::fleet::placement::binding_status::{
    override_failed, report_overridden, snapshot_to_apply, ApplyPass, ResourceRef,
};
use app::fleet::placement::resource_placement::{
    defaulted_apply_strategy, ApplyStrategy, ApplyStrategyType, ComparisonOption, WhenToApply,
};
use app::fleet::types::condition::Time;
use app::fleet::types::merge_patch::StatusPatch;
use app::fleet::types::names::PARENT_PLACEMENT_LABEL;
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch};
use kube::runtime::controller::{Action, Controller};
use kube::ResourceExt;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

use super::apply::{process, snapshot_objects};
use super::overrides::{render_for_cluster, Rendered};
use super::record::{record_name, remove_placed, write_record};
use super::{
    patch_params, Agent, AgentError, Binding, BindingKey, Result, AVAILABILITY_RECHECK,
    CLEANUP_FINALIZER, DRIFT_RECHECK,
};
use crate::informers::Informers;
use crate::scope::{api, object_ref, RunScope};

/// Runs the binding controller of scope `S` until its stream ends; `wakes` names bindings whose
/// placed Deployments changed on their member.
pub(super) async fn run_scope<S: RunScope>(
    agent: Arc<Agent>,
    informers: &Informers,
    wakes: UnboundedReceiver<BindingKey>,
) {
    let bindings = informers.of::<Binding<S>>();
    // A member that becomes reachable (or changes) has bindings waiting for it.
    let members_changed =
        tokio_stream::wrappers::WatchStream::from_changes(agent.members_changed.subscribe())
            .map(|_| ());
    let wakes = tokio_stream::wrappers::UnboundedReceiverStream::new(wakes)
        .map(|(ns, name)| object_ref::<Binding<S>>(ns.as_deref(), &name));
    Controller::for_shared_stream(bindings.applied(), bindings.store())
        .reconcile_all_on(members_changed)
        .reconcile_on(wakes)
        .run(reconcile::<S>, error_policy::<S>, agent)
        .for_each(|_| async {})
        .await;
}

fn error_policy<S: RunScope>(_: Arc<Binding<S>>, error: &AgentError, _: Arc<Agent>) -> Action {
    tracing::info!(%error, "member agent: retrying");
    Action::requeue(Duration::from_secs(1))
}

async fn reconcile<S: RunScope>(binding: Arc<Binding<S>>, agent: Arc<Agent>) -> Result<Action> {
    if binding.metadata.deletion_timestamp.is_some()
        && super::departure::left_in_place::<S>(&agent, &binding).await?
    {
        return Ok(Action::await_change());
    }
    let Some(member) = agent.member(&binding.spec.target_cluster) else {
        // Not reachable (yet): a change of the member set reconciles it again.
        return Ok(Action::await_change());
    };
    let bindings = api::<S::Binding>(&agent.hub, binding.namespace());
    let name = binding.name_any();
    let placement = placement_of::<S>(&binding)?;
    let record = record_name(binding.namespace(), &placement);
    let has_finalizer = binding.finalizers().iter().any(|f| f == CLEANUP_FINALIZER);
    if binding.metadata.deletion_timestamp.is_some() {
        agent.untrack(&member.name, &record);
        remove_placed(&agent, &member, &record, &BTreeMap::new()).await?;
        if has_finalizer {
            let rest = binding
                .finalizers()
                .iter()
                .filter(|f| *f != CLEANUP_FINALIZER)
                .cloned()
                .collect();
            set_finalizers::<S>(&bindings, &name, rest).await?;
        }
        return Ok(Action::await_change());
    }
    let generation = binding.metadata.generation.unwrap_or(1);
    let Some(master) = snapshot_to_apply(&binding.spec, binding.status.as_ref(), generation) else {
        return Ok(Action::await_change());
    };
    if !has_finalizer {
        let mut finalizers = binding.finalizers().to_vec();
        finalizers.push(CLEANUP_FINALIZER.to_string());
        set_finalizers::<S>(&bindings, &name, finalizers).await?;
    }

    let objects = snapshot_objects::<S>(&agent.hub, binding.namespace(), master).await?;
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let old = binding.status.as_ref();
    let (objects, with_overrides) =
        match render_for_cluster(&agent.hub, &binding.spec, objects).await? {
            Rendered::Objects {
                objects,
                with_overrides,
            } => (objects, with_overrides),
            // The member keeps what it has; the binding waits for a change of its spec.
            Rendered::Failed(error) => {
                let status = override_failed(old, generation, &error.to_string(), &now)
                    .into_status(old)
                    .map_err(|source| AgentError::Serialize {
                        what: "the binding's status",
                        source,
                    })?;
                if old != Some(&status) {
                    write_status::<S>(&bindings, &name, &status).await?;
                }
                return Ok(Action::await_change());
            }
        };
    let ids = objects
        .iter()
        .map(ResourceRef::of_manifest)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|missing| AgentError::Manifest {
            snapshot: master.to_string(),
            missing,
        })?;
    let strategy = binding.spec.apply_strategy.as_ref();
    let report_diff =
        defaulted_apply_strategy(strategy).type_ == Some(ApplyStrategyType::ReportDiff);
    let mut pass = ApplyPass {
        report_diff,
        ..ApplyPass::default()
    };
    for (id, object) in ids.into_iter().zip(&objects) {
        let processed = process(&agent, &member, &id, object, &record, strategy, report_diff).await;
        if processed.owned_before {
            pass.owned_before(&id);
        }
        if let Some((generation, drifts)) = processed.drifts {
            pass.push_drifts(id.clone(), generation, drifts);
        }
        pass.push(id, processed.outcome);
    }
    // ReportDiff touches nothing on the member, left-over objects and the record included
    // (placement-extras §2.6).
    if !report_diff {
        let placed = pass.placed();
        remove_placed(&agent, &member, &record, &placed).await?;
        write_record(&member, &record, &placed).await?;
    }
    let deployments = pass.objects.iter().any(|(id, _)| id.kind == "Deployment");
    agent.track(
        &member,
        &record,
        (binding.namespace().map(str::to_string), name.clone()),
        deployments,
    );

    let status = report_overridden(old, generation, &pass, &placement, with_overrides, &now)
        .into_status(old)
        .map_err(|source| AgentError::Serialize {
            what: "the binding's failed placements",
            source,
        })?;
    if old != Some(&status) {
        write_status::<S>(&bindings, &name, &status).await?;
    }
    Ok(if !pass.settled() {
        Action::requeue(AVAILABILITY_RECHECK)
    } else if watches_for_drifts(strategy) {
        // Edits on the member wake nothing on the hub: look again, as KubeFleet's backed-off
        // requeue of every Work does.
        Action::requeue(DRIFT_RECHECK)
    } else {
        Action::await_change()
    })
}

/// Strategies whose outcome changes with edits made on the member: drift detection
/// (`IfNotDrifted`, `FullComparison`) and ReportDiff.
fn watches_for_drifts(strategy: Option<&ApplyStrategy>) -> bool {
    let s = defaulted_apply_strategy(strategy);
    s.type_ == Some(ApplyStrategyType::ReportDiff)
        || s.when_to_apply == Some(WhenToApply::IfNotDrifted)
        || s.comparison_option == Some(ComparisonOption::FullComparison)
}

/// The placement a binding belongs to, from the label its placement controller sets.
fn placement_of<S: RunScope>(binding: &Binding<S>) -> Result<String> {
    binding
        .labels()
        .get(PARENT_PLACEMENT_LABEL)
        .cloned()
        .ok_or_else(|| AgentError::NoPlacementLabel {
            binding: binding.name_any(),
            label: PARENT_PLACEMENT_LABEL,
        })
}

/// Sets a binding's finalizers (a merge patch of `metadata.finalizers`).
pub(super) async fn set_finalizers<S: RunScope>(
    bindings: &Api<Binding<S>>,
    name: &str,
    finalizers: Vec<String>,
) -> Result<()> {
    #[derive(Debug, Serialize)]
    struct MetadataPatch {
        metadata: ObjectMeta,
    }
    let patch = MetadataPatch {
        metadata: ObjectMeta {
            finalizers: Some(finalizers),
            ..ObjectMeta::default()
        },
    };
    bindings
        .patch(name, &patch_params(), &Patch::Merge(patch))
        .await?;
    Ok(())
}

/// Writes a binding's status (a merge patch of `status`). A merge patch keeps every field it does
/// not name, so failed, drifted and diffed placements this pass no longer reports are cleared
/// with an explicit null:
/// left out, they stayed on the hub, the next pass saw a status unlike its own and wrote again,
/// and each write woke the binding once more.
async fn write_status<S: RunScope>(
    bindings: &Api<Binding<S>>,
    name: &str,
    status: &ResourceBindingStatus,
) -> Result<()> {
    let mut status = serde_json::to_value(status).map_err(|source| AgentError::Serialize {
        what: "the binding's status",
        source,
    })?;
    if let Some(fields) = status.as_object_mut() {
        for list in ["failedPlacements", "driftedPlacements", "diffedPlacements"] {
            fields.entry(list).or_insert(serde_json::Value::Null);
        }
    }
    bindings
        .patch_status(name, &patch_params(), &Patch::Merge(StatusPatch { status }))
        .await?;
    Ok(())
}

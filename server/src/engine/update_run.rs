//! The staged update run controller (spec §9) for both scopes: read the run and its world, call
//! [`app::fleet::staged::run::step`], write the effects and the status. Event-driven: approval requests,
//! bindings and placements map to their runs; the spec's 15 s / 60 s are only fallback requeues
//! (§9.1). Bindings and member clusters come from the process's shared caches (`cache`,
//! `crate::informers`), except at initialization and before a run is failed, which read the hub
//! itself.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use app::fleet::placement::placement_ref::PlacementRefError;
use app::fleet::placement::resource_placement::RolloutStrategyType;
use app::fleet::staged::run::exec::{BindingUpdate, BindingWrite, Effects, NewApproval};
use app::fleet::staged::run::init::{self, RunMeta};
use app::fleet::staged::run::{self, report, ApprovalView, BindingView, Outcome, World};
use app::fleet::types::condition::{self, messages, reasons, types, TRUE};
use app::fleet::types::merge_patch::FinalizersPatch;
use app::fleet::types::names::{
    IS_LATEST_SNAPSHOT_LABEL, PARENT_PLACEMENT_LABEL, STAGED_UPDATE_RUN_FINALIZER,
    TARGET_UPDATE_RUN_LABEL,
};
use app::fleet::{FleetKind, Object};
use futures::{StreamExt, TryStreamExt};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::Controller;
use kube::Api;

use super::cache;
use super::metrics::controller;
use super::selection::{SelectionError, Selector};
use super::snapshots::{get_or_create, PlacementRef};
use super::{Context, Error, Result};
use crate::informers::Informers;
use crate::scope::{api, object_ref, RunScope};

type Run<S> = Object<<S as RunScope>::Run>;

/// How many binding writes of one pass are in flight at once.
const BINDING_WRITES_IN_FLIGHT: usize = 16;
/// A binding that keeps changing under an update (the agent reporting) is tried this often.
const BINDING_WRITE_ATTEMPTS: usize = 4;

/// The context of one scope's reconciler: the shared one and its caches.
struct RunContext<S: RunScope> {
    ctx: Arc<Context>,
    bindings: Store<Object<S::Binding>>,
    members: Store<app::fleet::MemberCluster>,
}

/// Runs the controller of scope `S` until the process stops, on the process's shared watches.
pub async fn run_controller<S: RunScope>(ctx: Arc<Context>, informers: &Informers) {
    let runs = informers.of::<Run<S>>();
    let approvals = informers.of::<Object<S::Approval>>();
    let bindings = informers.of::<Object<S::Binding>>();
    let placements = informers.of::<Object<S::Placement>>();
    // Member labels only matter to validation, which the next run event repeats (upstream does
    // not watch members either): the members are only read from the cache.
    let rctx = Arc::new(RunContext::<S> {
        ctx,
        bindings: bindings.store(),
        members: informers.store::<app::fleet::MemberCluster>(),
    });
    let controller = Controller::for_shared_stream(runs.applied(), runs.store());
    let runs = controller.store();
    let runs_of_placement = runs.clone();
    controller
        // §9.1: an approval request wakes its run (`spec.parentStageRollout`, same namespace).
        .watches_shared_stream(approvals.touched(), |a| {
            Some(object_ref(a.namespace(), &a.spec.parent_stage_rollout))
        })
        // fleetdeck: bindings wake every run of their placement (upstream polls instead).
        .watches_shared_stream(bindings.touched(), move |b| {
            let placement = b.labels().get(PARENT_PLACEMENT_LABEL).cloned();
            runs.state()
                .iter()
                .filter(|r| {
                    Some(&r.spec.placement_name) == placement.as_ref()
                        && r.namespace() == b.namespace()
                })
                .map(|r| ObjectRef::from_obj(r.as_ref()))
                .collect::<Vec<_>>()
        })
        // fleetdeck: a placement change (its deletion above all, §9.4.1) wakes its runs at once.
        .watches_shared_stream(placements.touched(), move |p| {
            runs_of_placement
                .state()
                .iter()
                .filter(|r| r.spec.placement_name == p.name() && r.namespace() == p.namespace())
                .map(|r| ObjectRef::from_obj(r.as_ref()))
                .collect::<Vec<_>>()
        })
        .run(reconcile::<S>, error_policy::<S>, rctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "update run reconcile");
            }
        })
        .await;
}

/// Runs the cluster-scoped and the namespaced controllers.
pub async fn run(ctx: Arc<Context>, informers: Informers) {
    tokio::join!(
        run_controller::<crate::scope::ClusterScoped>(ctx.clone(), &informers),
        run_controller::<crate::scope::Namespaced>(ctx, &informers),
    );
}

fn error_policy<S: RunScope>(run: Arc<Run<S>>, error: &Error, rctx: Arc<RunContext<S>>) -> Action {
    tracing::info!(%error, "update run reconcile failed; retrying");
    Action::requeue(rctx.ctx.retry_after(&*run))
}

async fn reconcile<S: RunScope>(trigger: Arc<Run<S>>, rctx: Arc<RunContext<S>>) -> Result<Action> {
    let ctx = &rctx.ctx;
    let started = Instant::now();
    let result = reconcile_run::<S>(&trigger, &rctx).await;
    ctx.reconciled(
        controller_name::<S>(),
        &*trigger,
        started.elapsed(),
        &result,
    )
    .await;
    result
}

/// KubeFleet's controller names (spec §9), in metrics and events.
fn controller_name<S: RunScope>() -> &'static str {
    if <S::Run as FleetKind>::KIND.starts_with("Cluster") {
        controller::CLUSTER_UPDATE_RUN
    } else {
        controller::UPDATE_RUN
    }
}

async fn reconcile_run<S: RunScope>(trigger: &Run<S>, rctx: &RunContext<S>) -> Result<Action> {
    let ctx = &*rctx.ctx;
    let ns = trigger.namespace();
    let runs: Api<Run<S>> = api::<S::Run>(&ctx.client, ns);
    // Re-read: the trigger may be stale, and status writes need the latest resourceVersion.
    let Some(run) = runs.get_opt(trigger.name()).await? else {
        // A cluster-scoped run has no namespace: its metric series use "".
        ctx.metrics
            .forget_run(ns.unwrap_or_default(), trigger.name());
        return Ok(Action::await_change());
    };
    let name = run.name().to_string();
    // No finalizers yet is a valid state (a run the engine has not seen).
    let finalizers = run.metadata.finalizers.clone().unwrap_or_default();
    let has_finalizer = finalizers.iter().any(|f| f == STAGED_UPDATE_RUN_FINALIZER);
    if run.metadata.deletion_timestamp.is_some() {
        // §9.10: remove the run's approval requests and metrics, then the finalizer.
        ctx.metrics.forget_run(ns.unwrap_or_default(), &name);
        if has_finalizer {
            let approvals = api::<S::Approval>(&ctx.client, ns);
            let lp = ListParams::default().labels(&format!("{TARGET_UPDATE_RUN_LABEL}={name}"));
            approvals
                .delete_collection(&DeleteParams::default(), &lp)
                .await?;
            let rest: Vec<String> = finalizers
                .iter()
                .filter(|f| *f != STAGED_UPDATE_RUN_FINALIZER)
                .cloned()
                .collect();
            let patch = FinalizersPatch::new(rest, run.metadata.resource_version.clone());
            runs.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        return Ok(Action::await_change());
    }
    if !has_finalizer {
        let mut all = finalizers.clone();
        all.push(STAGED_UPDATE_RUN_FINALIZER.to_string());
        let patch = FinalizersPatch::new(all, run.metadata.resource_version.clone());
        runs.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        // The patch triggers a new reconcile with the finalizer in place.
        return Ok(Action::await_change());
    }

    let initialized = run
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .and_then(|c| condition::find_condition(c, types::INITIALIZED))
        .is_some();
    // The plan is made once, from the hub itself: a cache still filling would leave clusters out.
    let source = if initialized {
        Source::Cache
    } else {
        Source::Hub
    };
    let meta = RunMeta {
        name: &name,
        namespace: ns,
        generation: run.generation(),
        spec: &run.spec,
    };
    let mut world = read_world::<S>(rctx, &run, !initialized, source).await?;
    let mut selection_error = None;
    // Spec §9.3: the snapshot group comes at step 5, so a run failing before it creates none.
    if !initialized && init::reaches_snapshot_step(&meta, &world) {
        selection_error = snapshot_for_run::<S>(ctx, &run).await?;
        world = read_world::<S>(rctx, &run, true, source).await?;
        world.resource_selection_error = selection_error.clone();
    }
    let now = ctx.clock.now();
    let mut step = run::step(&meta, run.status.as_ref(), &world, &now, ctx.config.timing);
    if source == Source::Cache && needs_confirmation(run.status.as_ref(), &step) {
        // A cache lagging our own writes must never fail or stall a run: decide again from
        // the hub (rare: only on such transitions).
        let mut world = read_world::<S>(rctx, &run, false, Source::Hub).await?;
        world.resource_selection_error = selection_error;
        step = run::step(&meta, run.status.as_ref(), &world, &now, ctx.config.timing);
    }
    // §9.2.6: the status metric, from the status this reconcile decides.
    if let Some(sample) = report::status_sample(Some(&step.status), run.generation()) {
        let seconds = now.0.as_millisecond() as f64 / 1000.0;
        let state = run.spec.state().as_str();
        ctx.metrics
            .run_status(ns.unwrap_or_default(), &name, state, &sample, seconds);
    }
    // Effects first: a status saying "Started" must never precede its binding write (§15.6).
    write_effects::<S>(rctx, ns, &step.effects).await?;
    if run.status.as_ref() != Some(&step.status) {
        let (observations, events) = report::transitions(run.status.as_ref(), &step.status, &now);
        let mut updated = run.clone();
        updated.status = Some(step.status);
        let written = runs
            .replace_status(&name, &PostParams::default(), &updated)
            .await?;
        // Only what the hub now holds is reported, once.
        ctx.metrics
            .observe(ns.unwrap_or_default(), &name, &observations);
        if !events.is_empty() {
            let reference = app::fleet::types::event::reference(&written);
            super::events::publish(
                &ctx.client,
                &reference,
                controller_name::<S>(),
                &events,
                &now,
            )
            .await;
        }
    }
    match step.outcome {
        Outcome::Done => Ok(Action::await_change()),
        Outcome::Requeue(after) => Ok(Action::requeue(after)),
        Outcome::Retry(message) => Err(Error::RunRetry { run: name, message }),
    }
}

/// Spec §10.3: a run without `resourceSnapshotIndex` selects the placement's resources at
/// initialization and gets or creates the matching snapshot group at once (no throttle, DESIGN.md).
/// Returns the selection's user error, which fails initialization.
async fn snapshot_for_run<S: RunScope>(ctx: &Context, run: &Run<S>) -> Result<Option<String>> {
    if run
        .spec
        .resource_snapshot_index
        .as_deref()
        .is_some_and(|i| !i.is_empty())
    {
        return Ok(None);
    }
    let ns = run.namespace();
    let Some(placement) = api::<S::Placement>(&ctx.client, ns)
        .get_opt(&run.spec.placement_name)
        .await?
    else {
        return Ok(None); // initialization reports the missing placement
    };
    if placement.spec.strategy_type() != RolloutStrategyType::External {
        return Ok(None);
    }
    let selector = Selector::discover(ctx.client.clone()).await?;
    let resources = match selector.select(&placement.spec, ns).await {
        Ok(resources) => resources,
        Err(SelectionError::User(message)) => return Ok(Some(message)),
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
        .unwrap_or(10) as u32;
    let owner = PlacementRef {
        api_version: placement.api_version.clone(),
        kind: placement.kind.clone(),
        name: placement.name().to_string(),
        namespace: ns.map(str::to_string),
        // Snapshots carry it in their owner reference: a placement read from the hub has one.
        uid: placement.metadata.uid.clone().ok_or_else(|| {
            Error::InvalidObject(PlacementRefError::NoUid(placement.name().to_string()).to_string())
        })?,
    };
    get_or_create::<S::ResourceSnapshot>(&ctx.client, &owner, &resources, limit).await?;
    Ok(None)
}

/// Where bindings and member clusters are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    Cache,
    Hub,
}

/// Whether `step` moves the run to a state a stale cache could have caused wrongly: a retry, or
/// a False top-level condition it did not have.
fn needs_confirmation(
    before: Option<&app::fleet::staged::staged_update_run::StagedUpdateRunStatus>,
    step: &run::Step,
) -> bool {
    matches!(step.outcome, Outcome::Retry(_)) || report::adds_false_condition(before, &step.status)
}

/// Everything the pure core reads; resource snapshots and the strategy only before initialization.
async fn read_world<S: RunScope>(
    rctx: &RunContext<S>,
    run: &Run<S>,
    initializing: bool,
    source: Source,
) -> Result<World> {
    let ns = run.namespace();
    let client = &rctx.ctx.client;
    let placement_name = &run.spec.placement_name;
    let of_placement =
        ListParams::default().labels(&format!("{PARENT_PLACEMENT_LABEL}={placement_name}"));
    let latest = ListParams::default().labels(&format!(
        "{PARENT_PLACEMENT_LABEL}={placement_name},{IS_LATEST_SNAPSHOT_LABEL}=true"
    ));
    let placement = api::<S::Placement>(client, ns)
        .get_opt(placement_name)
        .await?;
    let policies = api::<S::PolicySnapshot>(client, ns).list(&latest).await?;
    let (bindings, members): (Vec<BindingView>, Vec<app::fleet::MemberCluster>) = match source {
        Source::Hub => {
            let bindings = api::<S::Binding>(client, ns).list(&of_placement).await?;
            let members = Api::<app::fleet::MemberCluster>::all(client.clone())
                .list(&ListParams::default())
                .await?;
            (
                bindings.items.iter().map(BindingView::from).collect(),
                members.items,
            )
        }
        Source::Cache => {
            let bindings = cache::bindings_of(&rctx.bindings, ns, placement_name).await?;
            let members: Vec<app::fleet::MemberCluster> = cache::all(&rctx.members)
                .await?
                .iter()
                .map(|m| (**m).clone())
                .collect();
            (
                bindings
                    .iter()
                    .map(|b| BindingView::from(b.as_ref()))
                    .collect(),
                members,
            )
        }
    };
    let approvals = api::<S::Approval>(client, ns)
        .list(&ListParams::default().labels(&format!("{TARGET_UPDATE_RUN_LABEL}={}", run.name())))
        .await?;
    let (strategy, resource_snapshots, overrides) = if initializing {
        let strategy = api::<S::Strategy>(client, ns)
            .get_opt(&run.spec.staged_rollout_strategy_name)
            .await?;
        let snapshots = api::<S::ResourceSnapshot>(client, ns)
            .list(&of_placement)
            .await?;
        let mut overrides = crate::engine::overrides::latest_snapshots(client).await?;
        overrides.resources = snapshots
            .items
            .iter()
            .map(|s| (s.name().to_string(), s.spec.selected_resources.clone()))
            .collect();
        (
            strategy.map(|s| s.spec),
            snapshots.items.iter().map(Into::into).collect(),
            overrides,
        )
    } else {
        (None, Vec::new(), Default::default())
    };
    Ok(World {
        placement: placement.map(|p| p.spec),
        latest_policy_snapshots: policies.items.iter().map(Into::into).collect(),
        bindings,
        strategy,
        members,
        resource_snapshots,
        approvals: approvals
            .items
            .iter()
            .map(|a| (a.name().to_string(), ApprovalView::from(a)))
            .collect::<BTreeMap<_, _>>(),
        resource_selection_error: None,
        overrides,
    })
}

async fn write_effects<S: RunScope>(
    rctx: &RunContext<S>,
    ns: Option<&str>,
    fx: &Effects,
) -> Result<()> {
    let ctx = &*rctx.ctx;
    let approvals = api::<S::Approval>(&ctx.client, ns);
    for new in &fx.approvals_to_create {
        create_approval::<S>(&approvals, ns, new).await?;
    }
    for name in &fx.approvals_to_accept {
        accept_approval::<S>(&approvals, name, &ctx.clock.now()).await?;
    }
    let bindings = api::<S::Binding>(&ctx.client, ns);
    // A window of clusters starts together: its binding writes go out together too.
    let mut writes = Vec::with_capacity(fx.binding_updates.len());
    for update in &fx.binding_updates {
        let cached = rctx
            .bindings
            .get(&object_ref(ns, &update.name))
            .map(|b| (*b).clone());
        writes.push(update_binding::<S>(&bindings, cached, update));
    }
    futures::stream::iter(writes)
        .buffer_unordered(BINDING_WRITES_IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    for name in &fx.binding_deletes {
        match bindings.delete(name, &DeleteParams::default()).await {
            Err(kube::Error::Api(s)) if s.is_not_found() => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

async fn create_approval<S: RunScope>(
    approvals: &Api<Object<S::Approval>>,
    ns: Option<&str>,
    new: &NewApproval,
) -> Result<()> {
    let mut obj = Object::<S::Approval>::new(&new.name, new.spec.clone());
    obj.metadata.namespace = ns.map(str::to_string);
    obj.metadata.labels = Some(new.labels.clone());
    match approvals.create(&PostParams::default(), &obj).await {
        Err(kube::Error::Api(s)) if s.is_already_exists() => Ok(()),
        other => other.map(drop).map_err(Into::into),
    }
}

/// Writes `ApprovalAccepted=True` at the request's generation (spec §9.5.D).
async fn accept_approval<S: RunScope>(
    approvals: &Api<Object<S::Approval>>,
    name: &str,
    now: &condition::Time,
) -> Result<()> {
    let mut request = approvals.get(name).await?;
    let generation = request.generation();
    let status = request.status.get_or_insert_with(Default::default);
    condition::set_condition_opt(
        &mut status.conditions,
        condition::new_condition(
            types::APPROVAL_ACCEPTED,
            TRUE,
            reasons::APPROVAL_REQUEST_APPROVAL_ACCEPTED,
            messages::APPROVAL_ACCEPTED,
            generation,
            now,
        ),
    );
    approvals
        .replace_status(name, &PostParams::default(), &request)
        .await?;
    Ok(())
}

/// Spec first, then `RolloutStarted` at the binding's new generation (spec §9.5.A.4). Starts
/// from the cached binding and re-reads it only when the hub says it changed meanwhile (409).
async fn update_binding<S: RunScope>(
    bindings: &Api<Object<S::Binding>>,
    cached: Option<Object<S::Binding>>,
    update: &BindingUpdate,
) -> Result<()> {
    let mut current = cached;
    for _ in 0..BINDING_WRITE_ATTEMPTS {
        let binding = match current.take() {
            Some(b) => b,
            None => bindings.get(&update.name).await?,
        };
        match try_update_binding::<S>(bindings, binding, update).await {
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            other => return other.map_err(Into::into),
        }
    }
    Err(Error::RunRetry {
        run: update.name.clone(),
        message: format!(
            "the binding {} keeps changing under the update",
            update.name
        ),
    })
}

async fn try_update_binding<S: RunScope>(
    bindings: &Api<Object<S::Binding>>,
    mut binding: Object<S::Binding>,
    update: &BindingUpdate,
) -> kube::Result<()> {
    match update.needed_by(&binding.spec, binding.status.as_ref(), binding.generation()) {
        BindingWrite::Nothing => return Ok(()),
        BindingWrite::Status => {}
        BindingWrite::SpecAndStatus => {
            binding.spec = update.spec.clone();
            binding = bindings
                .replace(&update.name, &PostParams::default(), &binding)
                .await?;
        }
    }
    let generation = binding.generation();
    let status = binding.status.get_or_insert_with(Default::default);
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    condition::remove_condition(conditions, types::ROLLOUT_STARTED);
    let mut started = update.rollout_started.clone();
    started.observed_generation = Some(generation);
    conditions.push(started);
    bindings
        .replace_status(&update.name, &PostParams::default(), &binding)
        .await?;
    Ok(())
}

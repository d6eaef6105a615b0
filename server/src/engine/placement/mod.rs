//! The placement controller (spec §3, §4.2, §5, §10.2): for every ClusterResourcePlacement and
//! ResourcePlacement it keeps a scheduling-policy snapshot, schedules member clusters into
//! bindings, snapshots and rolls out resources for `RollingUpdate` placements (External ones move
//! only by update runs), and writes the placement's status. Decisions are in `app::fleet`
//! (`policy_snapshot`, `scheduling`, `binding_writes`, `snapshot_group`, `rolling_update`,
//! `placement_status`); these modules read and write. Member clusters and bindings come from the
//! process's shared caches (`cache`, `crate::informers`); any binding write is decided again from
//! the hub's own list first, so a cache behind our writes never duplicates a binding.

mod bindings;
mod policy_snapshot;
mod rollout;
mod status;

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::fleet::placement::placement_ref::PlacementRef;
use app::fleet::placement::resource_placement::RolloutStrategyType;
use app::fleet::{FleetKind, MemberCluster, Object};
use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::{self, watcher};
use kube::runtime::WatchStreamExt;
use kube::ResourceExt;
use tokio::sync::mpsc::unbounded_channel;
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::selection::Selector;
use super::{Context, Error, Result};
use crate::informers::Informers;
use crate::scope::RunScope;

type Placement<S> = Object<<S as RunScope>::Placement>;

/// What the placement reconciler needs besides the shared context.
pub struct PlacementContext {
    pub ctx: Arc<Context>,
    pub selector: Selector,
}

/// One scope's reconciler context: the shared one and the scope's caches.
struct ScopeContext<S: RunScope> {
    pctx: Arc<PlacementContext>,
    bindings: Store<Object<S::Binding>>,
    members: Store<MemberCluster>,
}

/// Runs the controller for both scopes until the stream ends, on the process's shared watches of
/// placements, bindings and member clusters.
pub async fn run(ctx: Arc<Context>, informers: Informers) -> Result<()> {
    // The hub may still be starting (a real apiserver): retry discovery until it answers.
    let selector = loop {
        match Selector::discover(ctx.client.clone()).await {
            Ok(selector) => break selector,
            Err(error) => {
                tracing::warn!(%error, "placement controller: discovery failed; retrying");
                tokio::time::sleep(ctx.config.error_backoff.max(Duration::from_secs(1))).await;
            }
        }
    };
    // One watch per selectable kind, whose ticks wake both scopes' controllers.
    let (cluster_tx, cluster_ticks) = unbounded_channel();
    let (namespaced_tx, namespaced_ticks) = unbounded_channel();
    let ticks = resource_changes(&ctx.client, &selector).for_each(move |()| {
        let _ = cluster_tx.send(());
        let _ = namespaced_tx.send(());
        futures::future::ready(())
    });
    let pctx = Arc::new(PlacementContext { ctx, selector });
    tokio::join!(
        ticks,
        run_controller::<crate::scope::ClusterScoped>(
            pctx.clone(),
            &informers,
            UnboundedReceiverStream::new(cluster_ticks),
        ),
        run_controller::<crate::scope::Namespaced>(
            pctx,
            &informers,
            UnboundedReceiverStream::new(namespaced_ticks),
        ),
    );
    Ok(())
}

async fn run_controller<S: RunScope>(
    pctx: Arc<PlacementContext>,
    informers: &Informers,
    resources: impl futures::Stream<Item = ()> + Send + 'static,
) {
    let placements = informers.of::<Placement<S>>();
    let bindings = informers.of::<Object<S::Binding>>();
    let members = informers.of::<MemberCluster>();
    let sctx = Arc::new(ScopeContext::<S> {
        pctx,
        bindings: bindings.store(),
        members: members.store(),
    });
    let cro_snapshots = informers.of::<app::fleet::ClusterResourceOverrideSnapshot>();
    let ro_snapshots = informers.of::<app::fleet::ResourceOverrideSnapshot>();
    let controller = Controller::for_shared_stream(placements.applied(), placements.store());
    let placements = controller.store();
    let (placements_of_cro, placements_of_ro) = (placements.clone(), placements.clone());
    controller
        // A binding's status feeds the placement's status.
        .owns_shared_stream(bindings.touched())
        // Members joining, leaving or relabelled reschedule every placement; heartbeats do not.
        .watches_shared_stream(scheduling_changes(&members), move |_| {
            placements
                .state()
                .iter()
                .map(|p| ObjectRef::from_obj(p.as_ref()))
                .collect::<Vec<_>>()
        })
        // placement-extras §1.10: a new override snapshot may change any placement's overrides
        // (a RollingUpdate placement rolls them out; an External one waits for a run).
        .watches_shared_stream(cro_snapshots.touched(), move |_| {
            all_refs(&placements_of_cro)
        })
        .watches_shared_stream(ro_snapshots.touched(), move |_| all_refs(&placements_of_ro))
        // A change to any selectable object may change a RollingUpdate placement's snapshot.
        .reconcile_all_on(resources)
        .run(reconcile::<S>, error_policy::<S>, sctx)
        .for_each(|_| async {})
        .await;
}

fn all_refs<K>(store: &Store<K>) -> Vec<ObjectRef<K>>
where
    K: kube::Resource<DynamicType = ()> + Clone + 'static,
{
    store
        .state()
        .iter()
        .map(|p| ObjectRef::from_obj(p.as_ref()))
        .collect()
}

/// The member events that can change a schedule: any change of what the scheduler reads of a
/// member (`bindings::candidate`), and deletions; not a heartbeat, which only renews times
/// (KubeFleet's member watcher ignores those too, spec placement-extras §3.3). At 10,000 members
/// heartbeats arrive 167 times a second.
fn scheduling_changes(
    members: &crate::informers::Informer<MemberCluster>,
) -> impl futures::Stream<Item = Arc<MemberCluster>> + Send + 'static {
    let mut seen = std::collections::HashMap::new();
    members.events().filter_map(move |event| {
        futures::future::ready(match event {
            watcher::Event::Apply(m) | watcher::Event::InitApply(m) => {
                let candidate = bindings::candidate(&m);
                if seen.get(&candidate.name) == Some(&candidate) {
                    None
                } else {
                    seen.insert(candidate.name.clone(), candidate);
                    Some(m)
                }
            }
            watcher::Event::Delete(m) => {
                seen.remove(&m.name_any());
                Some(m)
            }
            watcher::Event::Init | watcher::Event::InitDone => None,
        })
    })
}

/// One tick per change of a selectable object on the hub (after each watch's initial list).
fn resource_changes(
    client: &kube::Client,
    selector: &Selector,
) -> impl futures::Stream<Item = ()> + Send + 'static {
    let watches = selector.selectable_kinds().map(|kind| {
        let resource = Selector::api_resource(kind);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let kind = kind.kind.clone();
        // The backoff matters beyond politeness: `filter_map` drops errors and polls again at
        // once, so a watch failing without a pause would spin inside one poll and starve the
        // runtime (a leader's client whose hub went away did exactly that).
        watcher(api, watcher::Config::default())
            .default_backoff()
            .filter_map(move |event| {
                futures::future::ready(match event {
                    Ok(watcher::Event::Apply(_)) | Ok(watcher::Event::Delete(_)) => Some(()),
                    Ok(_) => None,
                    Err(error) => {
                        tracing::warn!(%error, %kind, "placement: resource watch failed; retrying");
                        None
                    }
                })
            })
            .boxed()
    });
    futures::stream::select_all(watches)
}

fn error_policy<S: RunScope>(
    placement: Arc<Placement<S>>,
    error: &Error,
    sctx: Arc<ScopeContext<S>>,
) -> Action {
    tracing::info!(%error, "placement reconcile failed; retrying");
    Action::requeue(sctx.pctx.ctx.retry_after(&*placement))
}

async fn reconcile<S: RunScope>(
    placement: Arc<Placement<S>>,
    sctx: Arc<ScopeContext<S>>,
) -> Result<Action> {
    let pctx = &sctx.pctx;
    let started = Instant::now();
    let result = reconcile_inner::<S>(&placement, &sctx).await;
    let controller = if <S::Placement as FleetKind>::KIND.starts_with("Cluster") {
        super::metrics::controller::CLUSTER_PLACEMENT
    } else {
        super::metrics::controller::PLACEMENT
    };
    pctx.ctx
        .reconciled(controller, &*placement, started.elapsed(), &result)
        .await;
    result
}

/// Policy snapshot, bindings, the snapshot's status, the rollout, the placement's status: in
/// this order, each step writing only what the domain decided from what the previous ones read.
async fn reconcile_inner<S: RunScope>(
    placement: &Placement<S>,
    sctx: &ScopeContext<S>,
) -> Result<Action> {
    let pctx = &*sctx.pctx;
    if placement.metadata.deletion_timestamp.is_some() {
        // Snapshots and bindings are owned by the placement: the hub's GC removes them.
        return Ok(Action::await_change());
    }
    let owner = PlacementRef::of(placement).map_err(|e| Error::InvalidObject(e.to_string()))?;

    // 1. Policy snapshot (spec §4.2).
    let policy_snapshot = policy_snapshot::ensure::<S>(&pctx.ctx.client, placement, &owner).await?;

    // 2. Schedule and bind (spec §5).
    let bound = bindings::schedule_and_bind::<S>(sctx, placement, &owner, &policy_snapshot).await?;

    // Only now is the snapshot scheduled: an update run initializes from it at once and counts
    // these bindings (spec §9.3 step 3), so they must all exist first, as in KubeFleet.
    policy_snapshot::write_status::<S>(pctx, placement, &policy_snapshot, &bound.schedule).await?;

    // 3. RollingUpdate placements: snapshot and roll out (External ones wait for runs, §10.2).
    let external = placement.spec.strategy_type() == RolloutStrategyType::External;
    if !external {
        let pass = rollout::snapshot_and_roll_out::<S>(pctx, placement, &owner).await?;
        if let rollout::RolloutPass::InvalidSelectors = pass {
            // Reported on the placement; nothing to retry: a change of the placement wakes it.
            return Ok(Action::await_change());
        }
    }

    // 4. Status from the bindings as they are now: the cache, unless this pass wrote bindings
    // (a binding event that the cache has not seen yet wakes another pass anyway).
    let bindings: Vec<Arc<Object<S::Binding>>> = if bound.wrote || !external {
        bindings::list::<S>(&pctx.ctx.client, &owner)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect()
    } else {
        bound.cached
    };
    status::write::<S>(pctx, placement, &bound.schedule, &bindings, external).await?;
    Ok(Action::requeue(pctx.ctx.config.placement_resync))
}

/// The placement's `metadata.generation`, which the hub always sets.
fn generation<S: RunScope>(placement: &Placement<S>) -> Result<i64> {
    placement.metadata.generation.ok_or_else(|| {
        Error::InvalidObject(format!(
            "placement {} has no metadata.generation",
            placement.name_any()
        ))
    })
}

//! The placement controller (spec §3, §4.2, §5, §10.2): for every ClusterResourcePlacement and
//! ResourcePlacement it keeps a scheduling-policy snapshot, schedules member clusters into
//! bindings, snapshots and rolls out resources for `RollingUpdate` placements (External ones move
//! only by update runs), and writes the placement's status. Decisions are in `app::fleet`
//! (`scheduling`, `snapshot_group`, `placement_status`); this file reads and writes. Member
//! clusters and bindings come from the engine's caches (`cache`); any binding write is decided
//! again from the hub's own list first, so a cache behind our writes never duplicates a binding.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::fleet::binding::BindingState;
use app::fleet::condition::{find_condition, new_condition, Condition, TRUE};
use app::fleet::names::{
    binding_name, policy_snapshot_name, IS_LATEST_SNAPSHOT_LABEL, NUMBER_OF_CLUSTERS_ANNOTATION,
    PARENT_PLACEMENT_LABEL, POLICY_INDEX_LABEL, PREVIOUS_BINDING_STATE_ANNOTATION,
};
use app::fleet::placement::{
    defaulted_apply_strategy, PlacementType, ResourceIdentifier, RolloutStrategyType,
};
use app::fleet::placement_status::{
    common_index, derive, keep_transition_times, set_invalid_selectors, ClusterView, PlacementFacts,
};
use app::fleet::scheduling::{binding_changes, schedule, Candidate, ExistingBinding, Schedule};
use app::fleet::snapshot::{resource_hash, ClusterDecision};
use app::fleet::snapshot_group::DEFAULT_REVISION_HISTORY_LIMIT;
use app::fleet::{FleetKind, MemberCluster, Object};
use futures::StreamExt;
use kube::api::DynamicObject;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::{self, watcher};
use kube::runtime::WatchStreamExt;
use kube::ResourceExt;
use serde_json::{json, Value};

use super::cache;
use super::scope::{api, RunScope};
use super::selection::{SelectionError, Selector};
use super::snapshots::{get_or_create, PlacementRef};
use super::{Context, Error, Result};

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

/// Runs the controller for both scopes until the stream ends.
pub async fn run(ctx: Arc<Context>) -> Result<()> {
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
    let pctx = Arc::new(PlacementContext { ctx, selector });
    tokio::join!(
        run_controller::<super::scope::ClusterScoped>(pctx.clone()),
        run_controller::<super::scope::Namespaced>(pctx),
    );
    Ok(())
}

async fn run_controller<S: RunScope>(pctx: Arc<PlacementContext>) {
    let client = pctx.ctx.client.clone();
    let (bindings, binding_events) = cache::reflected(api::<S::Binding>(&client, None));
    let (members, member_events) = cache::reflected(Api::<MemberCluster>::all(client.clone()));
    let resources = resource_changes(&client, &pctx.selector);
    let sctx = Arc::new(ScopeContext::<S> {
        pctx,
        bindings,
        members,
    });
    let controller = Controller::new(
        api::<S::Placement>(&client, None),
        watcher::Config::default(),
    );
    let placements = controller.store();
    controller
        // A binding's status feeds the placement's status.
        .owns_stream(binding_events)
        // Members joining, leaving or relabelled reschedule every placement.
        .watches_stream(member_events, move |_| {
            placements
                .state()
                .iter()
                .map(|p| ObjectRef::from_obj(p.as_ref()))
                .collect::<Vec<_>>()
        })
        // A change to any selectable object may change a RollingUpdate placement's snapshot.
        .reconcile_all_on(resources)
        .run(reconcile::<S>, error_policy::<S>, sctx)
        .for_each(|_| async {})
        .await;
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

async fn reconcile_inner<S: RunScope>(
    placement: &Placement<S>,
    sctx: &ScopeContext<S>,
) -> Result<Action> {
    let pctx = &*sctx.pctx;
    if placement.metadata.deletion_timestamp.is_some() {
        // Snapshots and bindings are owned by the placement: the hub's GC removes them.
        return Ok(Action::await_change());
    }
    let client = &pctx.ctx.client;
    let name = placement.name_any();
    let ns = placement.namespace();
    let generation = placement.metadata.generation.unwrap_or(1);
    let owner = owner_of::<S>(placement)?;

    // 1. Policy snapshot (spec §4.2).
    let policy_snapshot = ensure_policy_snapshot::<S>(client, placement, &owner).await?;

    // 2. Schedule and bind (spec §5).
    let members = cache::all(&sctx.members).await?;
    let candidates: Vec<Candidate> = members.iter().map(|m| candidate(m)).collect();
    let scheduled = schedule(placement.spec.policy.as_ref(), &candidates).map_err(|message| {
        Error::Placement {
            placement: name.clone(),
            message,
        }
    })?;
    let bindings_api = api::<S::Binding>(client, ns);
    let of_placement = ListParams::default().labels(&format!("{PARENT_PLACEMENT_LABEL}={name}"));
    let bindings = cache::bindings_of(&sctx.bindings, ns, &name).await?;
    let existing: Vec<ExistingBinding> =
        bindings.iter().map(|b| existing_binding::<S>(b)).collect();
    let mut changes = binding_changes(&scheduled.selected, &existing, &policy_snapshot);
    let wrote_bindings = !changes.is_empty();
    if wrote_bindings {
        // Decide writes from the hub itself: the cache may not hold our last creations yet.
        let listed = bindings_api.list(&of_placement).await?.items;
        let existing: Vec<ExistingBinding> = listed.iter().map(existing_binding::<S>).collect();
        changes = binding_changes(&scheduled.selected, &existing, &policy_snapshot);
    }
    let decisions = decisions_by_cluster(&scheduled);
    for cluster in &changes.create {
        let decision = decisions.get(cluster.as_str()).copied().cloned();
        let binding = json!({
            "apiVersion": <S::Binding as FleetKind>::api_version(),
            "kind": <S::Binding as FleetKind>::KIND,
            "metadata": {
                "name": binding_name(&name, cluster, &random_suffix()),
                "namespace": ns,
                "labels": { PARENT_PLACEMENT_LABEL: name },
                "ownerReferences": [owner.clone()],
            },
            "spec": {
                "state": "Scheduled",
                "targetCluster": cluster,
                "schedulingPolicySnapshotName": policy_snapshot,
                "clusterDecision": decision,
            },
        });
        let binding: Object<S::Binding> =
            serde_json::from_value(binding).map_err(kube::Error::SerdeError)?;
        bindings_api
            .create(&PostParams::default(), &binding)
            .await?;
    }
    for (binding, previous) in &changes.unschedule {
        let patch = json!({
            "metadata": { "annotations": { PREVIOUS_BINDING_STATE_ANNOTATION: previous.as_str() } },
            "spec": { "state": "Unscheduled" },
        });
        bindings_api
            .patch(binding, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
    }
    for (binding, state) in &changes.restore {
        let patch = json!({
            "metadata": { "annotations": { PREVIOUS_BINDING_STATE_ANNOTATION: null } },
            "spec": { "state": state.as_str(), "schedulingPolicySnapshotName": policy_snapshot },
        });
        bindings_api
            .patch(binding, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
    }
    for binding in &changes.repoint {
        let patch = json!({ "spec": { "schedulingPolicySnapshotName": policy_snapshot } });
        bindings_api
            .patch(binding, &PatchParams::default(), &Patch::Merge(patch))
            .await?;
    }

    // Only now is the snapshot scheduled: an update run initializes from it at once and counts
    // these bindings (spec §9.3 step 3), so they must all exist first, as in KubeFleet.
    write_policy_snapshot_status::<S>(client, ns, &policy_snapshot, generation, &scheduled, pctx)
        .await?;

    // 3. RollingUpdate placements: snapshot and roll out (External ones wait for runs, §10.2).
    let strategy = placement.spec.strategy.clone().unwrap_or_default();
    let external = strategy.type_.unwrap_or_default() == RolloutStrategyType::External;
    if !external {
        let resources = match pctx.selector.select(&placement.spec, ns).await {
            Ok(resources) => resources,
            Err(SelectionError::User(message)) => {
                report_invalid_selectors::<S>(client, placement, &message, pctx).await?;
                // Nothing to retry: a change of the placement wakes it again.
                return Ok(Action::await_change());
            }
            Err(SelectionError::Hub(e)) => return Err(e.into()),
        };
        let limit = placement
            .spec
            .revision_history_limit
            .filter(|l| *l > 0)
            .map_or(DEFAULT_REVISION_HISTORY_LIMIT, |l| l as u32);
        let plan = get_or_create::<S::ResourceSnapshot>(
            client,
            &owner_ref(&owner, ns.map(str::to_string)),
            &resources,
            limit,
        )
        .await?;
        roll_out::<S>(&bindings_api, &name, &plan.master_name, placement, pctx).await?;
    }

    // 4. Status from the bindings as they are now: the cache, unless this pass wrote bindings
    // (a binding event that the cache has not seen yet wakes another pass anyway).
    let bindings: Vec<Arc<Object<S::Binding>>> = if wrote_bindings || !external {
        bindings_api
            .list(&of_placement)
            .await?
            .items
            .into_iter()
            .map(Arc::new)
            .collect()
    } else {
        bindings
    };
    write_status::<S>(client, placement, &scheduled, &bindings, external, pctx).await?;
    Ok(Action::requeue(pctx.ctx.config.placement_resync))
}

/// Moves bindings to the latest master, at most `maxUnavailable` clusters in flight at a time
/// (spec §3.1 `strategy.rollingUpdate`; default 25%, at least one).
async fn roll_out<S: RunScope>(
    bindings_api: &Api<Object<S::Binding>>,
    placement_name: &str,
    master: &str,
    placement: &Placement<S>,
    pctx: &PlacementContext,
) -> Result<()> {
    let bindings = bindings_api
        .list(&ListParams::default().labels(&format!("{PARENT_PLACEMENT_LABEL}={placement_name}")))
        .await?
        .items;
    // De-selected clusters leave: the member agent removes what their bindings placed before
    // the bindings go (an External placement leaves this to an update run's deletion stage).
    for binding in bindings.iter().filter(|b| {
        b.spec.state == BindingState::Unscheduled && b.metadata.deletion_timestamp.is_none()
    }) {
        match bindings_api
            .delete(&binding.name_any(), &DeleteParams::default())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let active: Vec<&Object<S::Binding>> = bindings
        .iter()
        .filter(|b| b.spec.state != BindingState::Unscheduled)
        .collect();
    let max_unavailable = max_unavailable::<S>(placement, active.len());
    let in_flight = active
        .iter()
        .filter(|b| b.spec.resource_snapshot_name.as_deref() == Some(master) && !available(b))
        .count();
    let mut budget = max_unavailable.saturating_sub(in_flight);
    let apply_strategy = defaulted_apply_strategy(
        placement
            .spec
            .strategy
            .as_ref()
            .and_then(|s| s.apply_strategy.as_ref()),
    );
    for binding in active {
        if budget == 0 {
            break;
        }
        if binding.spec.state == BindingState::Bound
            && binding.spec.resource_snapshot_name.as_deref() == Some(master)
        {
            continue;
        }
        let name = binding.name_any();
        let spec_patch = json!({ "spec": { "state": "Bound", "resourceSnapshotName": master, "applyStrategy": apply_strategy } });
        let updated = bindings_api
            .patch(&name, &PatchParams::default(), &Patch::Merge(spec_patch))
            .await?;
        // The member agent acts on RolloutStarted at the binding's generation (spec §15 item 6).
        let generation = updated.metadata.generation.unwrap_or(1);
        let mut conditions = updated
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        conditions.retain(|c| c.type_ != "RolloutStarted");
        conditions.push(new_condition(
            "RolloutStarted",
            TRUE,
            "RolloutStarted",
            &format!("Detected the new changes on the resources and started the rollout process, resourceSnapshotName: {master}"),
            generation,
            &pctx.ctx.clock.now(),
        ));
        bindings_api
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": { "conditions": conditions } })),
            )
            .await?;
        budget -= 1;
    }
    Ok(())
}

fn max_unavailable<S: RunScope>(placement: &Placement<S>, clusters: usize) -> usize {
    let value = placement
        .spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| serde_json::to_value(&r.max_unavailable).ok())
        .unwrap_or(Value::Null);
    let n = match value {
        Value::Number(n) => n.as_u64().unwrap_or(1) as usize,
        Value::String(s) if s.ends_with('%') => {
            let percent: usize = s.trim_end_matches('%').parse().unwrap_or(25);
            clusters * percent / 100
        }
        Value::String(s) => s.parse().unwrap_or(1),
        _ => clusters * 25 / 100,
    };
    n.max(1)
}

fn available<K: FleetKind<Status = app::fleet::binding::ResourceBindingStatus>>(
    binding: &Object<K>,
) -> bool {
    let generation = binding.metadata.generation.unwrap_or(0);
    binding
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| find_condition(c, "Available"))
        .is_some_and(|c| c.status == TRUE && c.observed_generation == Some(generation))
}

/// The latest policy snapshot for the placement's current policy, created when the policy
/// changed (PickN's cluster count is an annotation on the same snapshot, spec §4.2).
async fn ensure_policy_snapshot<S: RunScope>(
    client: &kube::Client,
    placement: &Placement<S>,
    owner: &Value,
) -> Result<String> {
    let name = placement.name_any();
    let ns = placement.namespace();
    let snapshots = api::<S::PolicySnapshot>(client, ns);
    let existing = snapshots
        .list(&ListParams::default().labels(&format!("{PARENT_PLACEMENT_LABEL}={name}")))
        .await?
        .items;
    let policy = placement.spec.policy.clone();
    // The hash ignores PickN's count: changing N patches the annotation instead (spec §4.2).
    let mut hashed = serde_json::to_value(&policy).unwrap_or(Value::Null);
    if let Some(map) = hashed.as_object_mut() {
        map.remove("numberOfClusters");
    }
    let hash = resource_hash(&[hashed]);
    let encoded = base64_of(&hash);
    let count = policy
        .as_ref()
        .filter(|p| p.placement_type == Some(PlacementType::PickN))
        .and_then(|p| p.number_of_clusters)
        .map(|n| n.to_string());
    let index_of = |s: &Object<S::PolicySnapshot>| -> Option<u64> {
        s.labels().get(POLICY_INDEX_LABEL)?.parse().ok()
    };
    let latest = existing
        .iter()
        .filter(|s| s.labels().get(IS_LATEST_SNAPSHOT_LABEL).map(String::as_str) == Some("true"))
        .max_by_key(|s| index_of(s))
        .or_else(|| existing.iter().max_by_key(|s| index_of(s)));
    if let Some(latest) = latest.filter(|s| s.spec.policy_hash == encoded) {
        let current = latest
            .annotations()
            .get(NUMBER_OF_CLUSTERS_ANNOTATION)
            .cloned();
        if current != count {
            let patch =
                json!({ "metadata": { "annotations": { NUMBER_OF_CLUSTERS_ANNOTATION: count } } });
            snapshots
                .patch(
                    &latest.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(patch),
                )
                .await?;
        }
        return Ok(latest.name_any());
    }
    let index = latest.and_then(index_of).map_or(0, |i| i + 1);
    for old in existing
        .iter()
        .filter(|s| s.labels().get(IS_LATEST_SNAPSHOT_LABEL).map(String::as_str) == Some("true"))
    {
        let patch = json!({ "metadata": { "labels": { IS_LATEST_SNAPSHOT_LABEL: "false" } } });
        snapshots
            .patch(
                &old.name_any(),
                &PatchParams::default(),
                &Patch::Merge(patch),
            )
            .await?;
    }
    let snapshot_name = policy_snapshot_name(&name, index);
    let mut annotations = BTreeMap::new();
    if let Some(count) = count {
        annotations.insert(NUMBER_OF_CLUSTERS_ANNOTATION.to_string(), count);
    }
    let object = json!({
        "apiVersion": <S::PolicySnapshot as FleetKind>::api_version(),
        "kind": <S::PolicySnapshot as FleetKind>::KIND,
        "metadata": {
            "name": snapshot_name,
            "namespace": ns,
            "labels": {
                PARENT_PLACEMENT_LABEL: name,
                POLICY_INDEX_LABEL: index.to_string(),
                IS_LATEST_SNAPSHOT_LABEL: "true",
            },
            "annotations": annotations,
            "ownerReferences": [owner],
        },
        "spec": { "policy": policy, "policyHash": encoded },
    });
    let object: Object<S::PolicySnapshot> =
        serde_json::from_value(object).map_err(kube::Error::SerdeError)?;
    match snapshots.create(&PostParams::default(), &object).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => return Err(e.into()),
    }
    Ok(snapshot_name)
}

async fn write_policy_snapshot_status<S: RunScope>(
    client: &kube::Client,
    ns: Option<&str>,
    snapshot: &str,
    generation: i64,
    scheduled: &Schedule,
    pctx: &PlacementContext,
) -> Result<()> {
    let snapshots = api::<S::PolicySnapshot>(client, ns);
    let current = snapshots.get(snapshot).await?;
    let snapshot_generation = current.metadata.generation.unwrap_or(1);
    let (status, reason, message) = if scheduled.fulfilled {
        (
            TRUE,
            "SchedulingPolicyFulfilled",
            "found all cluster needed as specified by the scheduling policy",
        )
    } else {
        (
            "False",
            "SchedulingPolicyUnfulfilled",
            "could not find all the clusters needed as specified by the scheduling policy",
        )
    };
    let mut conditions: Vec<Condition> = current
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    app::fleet::condition::set_condition(
        &mut conditions,
        new_condition(
            "Scheduled",
            status,
            reason,
            message,
            snapshot_generation,
            &pctx.ctx.clock.now(),
        ),
    );
    let desired = json!({
        "observedCRPGeneration": generation,
        "conditions": conditions,
        "targetClusters": scheduled.status_decisions(),
    });
    let have = serde_json::to_value(&current.status).unwrap_or(Value::Null);
    if have != desired {
        snapshots
            .patch_status(
                snapshot,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": desired })),
            )
            .await?;
    }
    Ok(())
}

/// Selectors the placement cannot follow: `…Scheduled` False with KubeFleet's reason and the
/// selection error, so `kubectl get crp` and `describe` say what to fix.
async fn report_invalid_selectors<S: RunScope>(
    client: &kube::Client,
    placement: &Placement<S>,
    error: &str,
    pctx: &PlacementContext,
) -> Result<()> {
    tracing::info!(placement = %placement.name_any(), %error, "invalid resource selectors");
    let mut conditions = placement.status.as_ref().and_then(|s| s.conditions.clone());
    let changed = set_invalid_selectors(
        &mut conditions,
        <S::Placement as FleetKind>::KIND,
        error,
        placement.metadata.generation.unwrap_or(1),
        &pctx.ctx.clock.now(),
    );
    if changed {
        api::<S::Placement>(client, placement.namespace())
            .patch_status(
                &placement.name_any(),
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": { "conditions": conditions } })),
            )
            .await?;
    }
    Ok(())
}

async fn write_status<S: RunScope>(
    client: &kube::Client,
    placement: &Placement<S>,
    scheduled: &Schedule,
    bindings: &[Arc<Object<S::Binding>>],
    external: bool,
    pctx: &PlacementContext,
) -> Result<()> {
    let ns = placement.namespace();
    // By cluster, first one wins: lookups stay linear at 10,000 clusters.
    let decisions = decisions_by_cluster(scheduled);
    let mut active: HashMap<&str, &Object<S::Binding>> = HashMap::new();
    for b in bindings
        .iter()
        .filter(|b| b.spec.state != BindingState::Unscheduled)
    {
        active.entry(b.spec.target_cluster.as_str()).or_insert(b);
    }
    let views: Vec<ClusterView> = scheduled
        .selected
        .iter()
        .map(|cluster| {
            let decision = decisions.get(cluster.as_str()).copied();
            let binding = active.get(cluster.as_str()).copied();
            let generation = binding.and_then(|b| b.metadata.generation).unwrap_or(0);
            ClusterView {
                cluster: cluster.clone(),
                reason: decision.and_then(|d| d.reason.clone()).unwrap_or_default(),
                affinity_score: decision
                    .and_then(|d| d.cluster_score.as_ref())
                    .and_then(|s| s.affinity_score)
                    .unwrap_or(0),
                resource_index: binding
                    .filter(|b| b.spec.state == BindingState::Bound)
                    .and_then(|b| b.spec.resource_snapshot_name.as_deref())
                    .and_then(app::fleet::member_view::snapshot_index),
                conditions: binding
                    .and_then(|b| b.status.as_ref())
                    .and_then(|s| s.conditions.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|c| c.observed_generation == Some(generation))
                    .collect(),
                failed_placements: binding
                    .and_then(|b| b.status.as_ref())
                    .and_then(|s| s.failed_placements.clone()),
            }
        })
        .collect();
    let selected_resources = match common_index(&views) {
        Some(index) => selected_resources::<S>(client, placement, &index).await?,
        None => Vec::new(),
    };
    let facts = PlacementFacts {
        prefix: <S::Placement as FleetKind>::KIND,
        run_kind: <S::Run as FleetKind>::KIND,
        generation: placement.metadata.generation.unwrap_or(1),
        external,
        fulfilled: scheduled.fulfilled,
        scheduled_count: scheduled.selected.len(),
        selected_resources,
    };
    let mut status = derive(&facts, &views, &pctx.ctx.clock.now());
    keep_transition_times(&mut status, placement.status.as_ref());
    if placement.status.as_ref() == Some(&status) {
        return Ok(());
    }
    let placements = api::<S::Placement>(client, ns);
    let body = json!({ "status": status });
    placements
        .patch_status(
            &placement.name_any(),
            &PatchParams::default(),
            &Patch::Merge(body),
        )
        .await?;
    Ok(())
}

/// The resource identifiers of the master snapshot `<placement>-<index>-snapshot`.
async fn selected_resources<S: RunScope>(
    client: &kube::Client,
    placement: &Placement<S>,
    index: &str,
) -> Result<Vec<ResourceIdentifier>> {
    let snapshots = api::<S::ResourceSnapshot>(client, placement.namespace());
    let name = format!("{}-{index}-snapshot", placement.name_any());
    let Some(master) = snapshots.get_opt(&name).await? else {
        return Ok(Vec::new());
    };
    Ok(master
        .spec
        .selected_resources
        .iter()
        .map(|r| {
            let api_version = r["apiVersion"].as_str().unwrap_or_default();
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            ResourceIdentifier {
                group: Some(group.to_string()),
                version: Some(version.to_string()),
                kind: r["kind"].as_str().unwrap_or_default().to_string(),
                name: r["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                namespace: r["metadata"]["namespace"].as_str().map(str::to_string),
                envelope: None,
            }
        })
        .collect())
}

/// The first decision for each cluster.
fn decisions_by_cluster(scheduled: &Schedule) -> HashMap<&str, &ClusterDecision> {
    let mut map = HashMap::with_capacity(scheduled.decisions.len());
    for d in &scheduled.decisions {
        map.entry(d.cluster_name.as_str()).or_insert(d);
    }
    map
}

fn candidate(member: &MemberCluster) -> Candidate {
    let status = member.status.as_ref();
    let joined = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| find_condition(c, "Joined"))
        .is_some_and(|c| c.status == TRUE)
        && member.metadata.deletion_timestamp.is_none();
    Candidate {
        name: member.name_any(),
        labels: member.labels().clone(),
        joined,
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

fn existing_binding<S: RunScope>(b: &Object<S::Binding>) -> ExistingBinding {
    let previous = b
        .annotations()
        .get(PREVIOUS_BINDING_STATE_ANNOTATION)
        .and_then(|s| match s.as_str() {
            "Bound" => Some(BindingState::Bound),
            "Scheduled" => Some(BindingState::Scheduled),
            _ => None,
        });
    ExistingBinding {
        name: b.name_any(),
        cluster: b.spec.target_cluster.clone(),
        state: b.spec.state,
        previous_state: previous,
        policy_snapshot: b.spec.scheduling_policy_snapshot_name.clone(),
    }
}

fn owner_of<S: RunScope>(placement: &Placement<S>) -> Result<Value> {
    let uid = placement.uid().ok_or_else(|| {
        Error::InvalidObject(format!("placement {} has no uid", placement.name_any()))
    })?;
    Ok(json!({
        "apiVersion": <S::Placement as FleetKind>::api_version(),
        "kind": <S::Placement as FleetKind>::KIND,
        "name": placement.name_any(),
        "uid": uid,
        "controller": true,
        "blockOwnerDeletion": true,
    }))
}

fn owner_ref(owner: &Value, namespace: Option<String>) -> PlacementRef {
    let field = |k: &str| owner[k].as_str().unwrap_or_default().to_string();
    PlacementRef {
        api_version: field("apiVersion"),
        kind: field("kind"),
        name: field("name"),
        namespace,
        uid: field("uid"),
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

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

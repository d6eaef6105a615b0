//! The upgrade-run controller (seed 004, `updates.fleetdeck.dev` UpdateRun): read the run, the
//! member clusters (from the process's shared cache), its gates and the release catalogue; call
//! the pure [`app::fleet::upgrade::run::step`]; perform the effects (ask members to upgrade,
//! create and complete gates, Events) and write the status. Before that, a run referencing a
//! strategy gets its copy (aks §2) and a new run gets its planned status tree (aks §4, §10).
//!
//! Event-driven: a run wakes on its own changes (start / stop / skip are status writes by the
//! client, checked by the domain's actions), on its gates and on the member clusters it lists
//! (an upgrade finishing); the step's `requeue_at` covers waits, windows and scheduled gates.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::fleet::placement::member_cluster::MemberClusterStatus;
use app::fleet::staged::run::report::{EventKind, RunEvent};
use app::fleet::types::merge_patch::FinalizersPatch;
use app::fleet::types::names::{GATE_UPDATE_RUN_LABEL, START_WHEN_PLANNED, UPGRADE_RUN_FINALIZER};
use app::fleet::upgrade::managed_cluster::{member_view, OperationPhase, UpgradeOperation};
use app::fleet::upgrade::member_target::MemberUpgrade;
use app::fleet::upgrade::member_view::MemberView;
use app::fleet::upgrade::plan::{copy_strategy, plan};
use app::fleet::upgrade::release_catalogue::ReleaseCatalogue;
use app::fleet::upgrade::run::{self, Effect, GateProperties, GateState, GateView, RunRef, World};
use app::fleet::upgrade::upgrade_error::UpgradeError;
use app::fleet::upgrade::upgrade_run::{UpdateRunStatus, UpdateState, UpdateStatus};
use app::fleet::{Gate, MemberCluster, UpdateRun, UpdateStrategy};
use futures::StreamExt;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::Controller;
use kube::Api;

use super::{cache, Context, Error, Result};
use crate::informers::Informers;
use crate::members::sim::upgrader::chrono_now;

/// The controller's name in metrics and events.
pub const CONTROLLER: &str = "updaterun-controller";

/// A member's status write that keeps conflicting with others (heartbeats) is tried this often.
const MEMBER_WRITE_ATTEMPTS: usize = 8;

struct UpgradeContext {
    ctx: Arc<Context>,
    members: Store<MemberCluster>,
    gates: Store<Gate>,
}

/// Runs the controller until the process stops, on the process's shared watches.
pub async fn run(ctx: Arc<Context>, informers: Informers) {
    let runs = informers.of::<UpdateRun>();
    let members = informers.of::<MemberCluster>();
    let gates = informers.of::<Gate>();
    let uctx = Arc::new(UpgradeContext {
        ctx,
        members: members.store(),
        gates: gates.store(),
    });
    let controller = Controller::for_shared_stream(runs.applied(), runs.store());
    let runs = controller.store();
    controller
        // A gate wakes the run that created it (an approval, aks §12).
        .watches_shared_stream(gates.touched(), |g| {
            Some(ObjectRef::new(&g.spec.target.update_run_properties.name))
        })
        // A member wakes the runs that wait on it: active ones listing it, and runs not planned
        // yet (a member joining a group can make a plan valid).
        .watches_shared_stream(members.touched(), move |m| {
            let name = m.metadata.name.clone().unwrap_or_default();
            runs.state()
                .iter()
                .filter(|r| wakes(r, &name))
                .map(|r| ObjectRef::from_obj(r.as_ref()))
                .collect::<Vec<_>>()
        })
        .run(reconcile, error_policy, uctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "upgrade run reconcile");
            }
        })
        .await;
}

fn wakes(run: &UpdateRun, member: &str) -> bool {
    let Some(status) = run.status.as_ref() else {
        return true;
    };
    let Some(stages) = status.stages.as_ref() else {
        return true;
    };
    let state = status.status.as_ref().and_then(|s| s.state);
    matches!(
        state,
        Some(UpdateState::Running | UpdateState::Pending | UpdateState::Stopping)
    ) && stages
        .iter()
        .flat_map(|s| s.groups.iter().flatten())
        .flat_map(|g| g.members.iter().flatten())
        .any(|m| m.name == member)
}

fn error_policy(run: Arc<UpdateRun>, error: &Error, uctx: Arc<UpgradeContext>) -> Action {
    tracing::info!(%error, "upgrade run reconcile failed; retrying");
    Action::requeue(uctx.ctx.retry_after(&*run))
}

async fn reconcile(trigger: Arc<UpdateRun>, uctx: Arc<UpgradeContext>) -> Result<Action> {
    let started = Instant::now();
    let result = reconcile_run(&trigger, &uctx).await;
    uctx.ctx
        .reconciled(CONTROLLER, &*trigger, started.elapsed(), &result)
        .await;
    result
}

async fn reconcile_run(trigger: &UpdateRun, uctx: &UpgradeContext) -> Result<Action> {
    let ctx = &*uctx.ctx;
    let runs: Api<UpdateRun> = Api::all(ctx.client.clone());
    // Re-read: the trigger may be stale, and status writes need the latest resourceVersion.
    let Some(run) = runs.get_opt(trigger.name()).await? else {
        return Ok(Action::await_change());
    };
    let name = run.name().to_string();
    let finalizers = run.metadata.finalizers.clone().unwrap_or_default();
    let has_finalizer = finalizers.iter().any(|f| f == UPGRADE_RUN_FINALIZER);
    if run.metadata.deletion_timestamp.is_some() {
        // aks §12: the run's gates are removed with it.
        if has_finalizer {
            let gates: Api<Gate> = Api::all(ctx.client.clone());
            let lp = ListParams::default().labels(&format!("{GATE_UPDATE_RUN_LABEL}={name}"));
            gates
                .delete_collection(&DeleteParams::default(), &lp)
                .await?;
            let rest: Vec<String> = finalizers
                .into_iter()
                .filter(|f| f != UPGRADE_RUN_FINALIZER)
                .collect();
            let patch = FinalizersPatch::new(rest, run.metadata.resource_version.clone());
            runs.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        return Ok(Action::await_change());
    }
    if !has_finalizer {
        let mut all = finalizers;
        all.push(UPGRADE_RUN_FINALIZER.to_string());
        let patch = FinalizersPatch::new(all, run.metadata.resource_version.clone());
        runs.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
        return Ok(Action::await_change());
    }

    // aks §2: a run naming a strategy gets a copy of it at creation; later edits of the
    // strategy never reach it. The copy is written to the spec (the next event plans).
    if run.spec.update_strategy_id.is_some() && run.spec.strategy.is_none() {
        let id = run.spec.update_strategy_id.clone().unwrap_or_default();
        let strategy = Api::<UpdateStrategy>::all(ctx.client.clone())
            .get_opt(id.rsplit('/').next().unwrap_or(&id))
            .await?
            .map(|s| s.spec.strategy);
        let mut copy = run.clone();
        return match copy_strategy(&mut copy.spec, |_| strategy.clone()) {
            Ok(()) => {
                runs.replace(&name, &PostParams::default(), &copy).await?;
                Ok(Action::await_change())
            }
            Err(e) => {
                write_status(&runs, &run, not_planned(&run, &e)).await?;
                Ok(Action::await_change())
            }
        };
    }

    let members: BTreeMap<String, MemberView> = cache::all(&uctx.members)
        .await?
        .iter()
        .map(|m| member_view(m))
        .map(|v| (v.name.clone(), v))
        .collect();
    let catalogue = load_catalogue(ctx)?;
    let now = chrono_now(&ctx.clock);
    let status = run.status.clone().unwrap_or_default();
    let planned = status.stages.as_ref().is_some_and(|s| !s.is_empty());
    if !planned {
        // aks §4: the member list and thresholds are fixed when the run is created. Read from
        // the hub itself: a cache lagging a group assignment made just before would leave the
        // member out.
        let listed: Vec<MemberView> = Api::<MemberCluster>::all(ctx.client.clone())
            .list(&ListParams::default())
            .await?
            .items
            .iter()
            .map(member_view)
            .collect();
        let next = match plan(&name, &run.spec, &listed, &catalogue) {
            // An auto-upgrade trigger's run starts in the write that plans it (aks §11).
            Ok(tree) if start_when_planned(&run) => {
                match run::start(&run.spec, &tree, &listed, &catalogue, now) {
                    Ok(started) => started,
                    Err(e) => {
                        tracing::warn!(run = %name, error = %e, "a run to start when planned did not start");
                        tree
                    }
                }
            }
            Ok(tree) => tree,
            Err(e) => not_planned(&run, &e),
        };
        write_status(&runs, &run, next).await?;
        return Ok(Action::await_change());
    }

    let gates = gates_of(&uctx.gates, &name).await?;
    let world = World {
        members: &members,
        catalogue: &catalogue,
        gates: &gates,
    };
    let step = run::step(
        RunRef {
            name: &name,
            uid: run.metadata.uid.as_deref(),
        },
        &run.spec,
        &status,
        world,
        now,
    );
    // Effects first: a member shown Running always has its operation on the member.
    let mut events = Vec::new();
    for effect in &step.effects {
        match effect {
            Effect::StartUpgrade {
                member,
                operation_id,
                upgrade,
            } => start_upgrade(ctx, member, operation_id, upgrade).await?,
            Effect::CreateGate { gate_id, gate } => create_gate(ctx, &name, gate_id, gate).await?,
            Effect::CompleteGate { gate_id } => complete_gate(ctx, gate_id).await?,
            Effect::Event {
                warning,
                reason,
                message,
            } => events.push(RunEvent {
                kind: if *warning {
                    EventKind::Warning
                } else {
                    EventKind::Normal
                },
                reason,
                note: message.clone(),
                action: "Reconcile",
            }),
        }
    }
    let changed = run.status.as_ref() != Some(&step.status);
    let written = write_status(&runs, &run, step.status).await?;
    if changed && written.is_none() {
        // Lost the write to a user's action: decide again on it (its event wakes us).
        return Ok(Action::await_change());
    }
    if !events.is_empty() {
        let reference = app::fleet::types::event::reference(written.as_ref().unwrap_or(&run));
        super::events::publish(
            &ctx.client,
            &reference,
            CONTROLLER,
            &events,
            &ctx.clock.now(),
        )
        .await;
    }
    Ok(match step.requeue_at {
        Some(at) => Action::requeue((at - now).to_std().unwrap_or(Duration::ZERO)),
        None => Action::await_change(),
    })
}

fn start_when_planned(run: &UpdateRun) -> bool {
    run.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(START_WHEN_PLANNED))
        .is_some_and(|v| v == "true")
}

pub(super) fn load_catalogue(ctx: &Context) -> Result<ReleaseCatalogue> {
    let path = ctx.config.release_catalogue.as_deref().ok_or_else(|| {
        Error::Invalid("no release catalogue is configured for upgrade runs".into())
    })?;
    crate::release_catalogue::load(path).map_err(Error::Invalid)
}

/// A run that cannot be planned stays NotStarted with the reason as its error (start refuses
/// it); the next change of the run or of a member plans it again.
fn not_planned(run: &UpdateRun, error: &UpgradeError) -> UpdateRunStatus {
    let mut status = run.status.clone().unwrap_or_default();
    status.status = Some(UpdateStatus {
        state: Some(UpdateState::NotStarted),
        error: Some(serde_json::json!({"code": error.code(), "message": error.to_string()})),
        ..Default::default()
    });
    status
}

/// Writes `status` when it differs from what the hub has: `Some(written)`, or `None` when
/// there was nothing to write or another writer came first.
async fn write_status(
    runs: &Api<UpdateRun>,
    run: &UpdateRun,
    status: UpdateRunStatus,
) -> Result<Option<UpdateRun>> {
    if run.status.as_ref() == Some(&status) {
        return Ok(None);
    }
    let mut updated = run.clone();
    updated.status = Some(status);
    match runs
        .replace_status(run.name(), &PostParams::default(), &updated)
        .await
    {
        // Someone else (a start, stop or skip) wrote first: that write wakes the next
        // reconcile, which decides again on it. Effects already performed are adopted then.
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(None),
        other => Ok(Some(other?)),
    }
}

async fn gates_of(store: &Store<Gate>, run: &str) -> Result<BTreeMap<String, GateView>> {
    Ok(cache::all(store)
        .await?
        .iter()
        .filter(|g| {
            g.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(GATE_UPDATE_RUN_LABEL))
                .is_some_and(|r| r == run)
        })
        .map(|g| {
            let at = g
                .spec
                .scheduled_start_properties
                .as_ref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s.absolute_start_time).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            (
                g.name().to_string(),
                GateView {
                    state: g.spec.state,
                    absolute_start_time: at,
                },
            )
        })
        .collect())
}

/// Asks the member to upgrade: an InProgress operation in its `fleetdeck.dev/managedCluster`
/// status. Safe to repeat: the same operation is never written twice.
async fn start_upgrade(
    ctx: &Context,
    member: &str,
    operation_id: &str,
    upgrade: &MemberUpgrade,
) -> Result<()> {
    let api: Api<MemberCluster> = Api::all(ctx.client.clone());
    for _ in 0..MEMBER_WRITE_ATTEMPTS {
        // A member that left is failed by the next step (aks §18.5).
        let Some(mut current) = api.get_opt(member).await? else {
            return Ok(());
        };
        let now = chrono_now(&ctx.clock);
        let status = current
            .status
            .get_or_insert_with(MemberClusterStatus::default);
        let cluster = status.managed_cluster.get_or_insert_with(Default::default);
        let existing = cluster.operation.as_ref();
        if existing.is_some_and(|op| op.id == operation_id) {
            return Ok(());
        }
        if let Some(op) = existing.filter(|op| op.state == OperationPhase::InProgress) {
            // Decision (users ask for it, aks §16 #5733): another operation on the cluster is
            // waited for, not failed. The reconcile retries with backoff; the run's status is
            // not written meanwhile, so the member stays NotStarted.
            return Err(Error::RunRetry {
                run: operation_id.to_string(),
                message: format!(
                    "member {member} is busy with operation {}; waiting for it to finish",
                    op.id
                ),
            });
        }
        cluster.operation = Some(UpgradeOperation::requested(operation_id, upgrade, now));
        match api
            .replace_status(member, &PostParams::default(), &current)
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            other => return other.map(drop).map_err(Into::into),
        }
    }
    Err(Error::Invalid(format!(
        "the status of member {member} keeps changing under the upgrade request"
    )))
}

async fn create_gate(ctx: &Context, run: &str, id: &str, gate: &GateProperties) -> Result<()> {
    let api: Api<Gate> = Api::all(ctx.client.clone());
    let mut obj = Gate::new(id, gate.clone());
    obj.metadata.labels = Some([(GATE_UPDATE_RUN_LABEL.to_string(), run.to_string())].into());
    match api.create(&PostParams::default(), &obj).await {
        Err(kube::Error::Api(s)) if s.is_already_exists() => Ok(()),
        other => other.map(drop).map_err(Into::into),
    }
}

/// A ScheduledStart gate's time came (aks §12).
async fn complete_gate(ctx: &Context, id: &str) -> Result<()> {
    let api: Api<Gate> = Api::all(ctx.client.clone());
    let Some(mut gate) = api.get_opt(id).await? else {
        return Ok(());
    };
    if gate.spec.state != GateState::Pending {
        return Ok(());
    }
    gate.spec.state = GateState::Completed;
    api.replace(id, &PostParams::default(), &gate).await?;
    Ok(())
}

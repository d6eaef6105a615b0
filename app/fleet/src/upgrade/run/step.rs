//! One reconcile of a started run (aks §6–§8): record finished operations, enforce the failure
//! thresholds, move through gates, groups, members and waits, then roll states up (aks §7.2).

use chrono::{DateTime, Duration, Utc};

use super::derive::{count_failures, enforce_thresholds, roll_up};
use super::gates::{advance_gates, skip_gates, GatePlace, GateTiming};
use super::{
    derived_id, is_done, run_key, set_error, set_state, state_of, Effect, RunRef, Step, World,
};
use crate::upgrade::maintenance_window::WindowBucket;
use crate::upgrade::member_target::{decide_member, MemberDecision};
use crate::upgrade::member_view::OperationState;
use crate::upgrade::plan::effective_strategy;
use crate::upgrade::thresholds::{GROUP_DEFAULT_CONCURRENCY, STAGE_MAX_CONCURRENCY};
use crate::upgrade::upgrade_error::UpgradeError;
use crate::upgrade::upgrade_run::{
    MemberUpdateStatus, UpdateGroupStatus, UpdateRunSpec, UpdateRunStatus, UpdateStage,
    UpdateState, WaitStatus,
};
use crate::upgrade::versions::NodeImage;

/// Shared inputs and outputs of one pass.
pub(crate) struct Pass<'a> {
    pub run: RunRef<'a>,
    pub spec: &'a UpdateRunSpec,
    pub world: World<'a>,
    pub now: DateTime<Utc>,
    pub selected: Vec<NodeImage>,
    pub effects: Vec<Effect>,
    pub requeue: Option<DateTime<Utc>>,
    /// A threshold was crossed: no new work anywhere (aks §8.2 fail-fast).
    pub halted: bool,
}

impl Pass<'_> {
    pub fn requeue_at(&mut self, at: DateTime<Utc>) {
        self.requeue = Some(self.requeue.map_or(at, |r| r.min(at)));
    }
}

pub(crate) fn in_flight(state: UpdateState) -> bool {
    matches!(state, UpdateState::Running | UpdateState::Stopping)
}

/// One reconcile. Runs that are not Running, Pending or Stopping are left as they are: actions
/// ([`super::start`], [`super::stop`], [`super::skip`]) move them.
pub fn step(
    run: RunRef,
    spec: &UpdateRunSpec,
    status: &UpdateRunStatus,
    world: World,
    now: DateTime<Utc>,
) -> Step {
    let mut st = status.clone();
    let before = state_of(&st.status);
    // A run without a planned tree is not the step's to finish: plan() always gives ≥ 1 stage.
    let planned = st.stages.as_ref().is_some_and(|s| !s.is_empty());
    if !planned
        || !matches!(
            before,
            UpdateState::Running | UpdateState::Pending | UpdateState::Stopping
        )
    {
        return Step {
            status: st,
            effects: Vec::new(),
            requeue_at: None,
        };
    }
    let selected = st
        .node_image_selection
        .as_ref()
        .and_then(|s| s.selected_node_image_versions.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| NodeImage::parse(&v.version).ok())
        .collect();
    let mut p = Pass {
        run,
        spec,
        world,
        now,
        selected,
        effects: Vec::new(),
        requeue: None,
        halted: false,
    };
    observe(&mut p, &mut st);
    count_failures(&mut st);
    p.halted = enforce_thresholds(&mut st, now);
    let stop_requested = before == UpdateState::Stopping;
    if !p.halted && !stop_requested {
        advance(&mut p, &mut st);
        count_failures(&mut st);
        p.halted |= enforce_thresholds(&mut st, now);
    }
    roll_up(&mut p, &mut st, stop_requested, before);
    Step {
        status: st,
        effects: p.effects,
        requeue_at: p.requeue,
    }
}

/// Records the result of every operation in flight (aks §5 member states).
fn observe(p: &mut Pass, st: &mut UpdateRunStatus) {
    let members = st
        .stages
        .iter_mut()
        .flatten()
        .flat_map(|s| s.groups.iter_mut().flatten())
        .flat_map(|g| g.members.iter_mut().flatten());
    for m in members {
        if !in_flight(state_of(&m.status)) {
            continue;
        }
        let Some(view) = p.world.members.get(&m.name) else {
            fail_member(p, m, &UpgradeError::MemberLeft(m.name.clone()));
            continue;
        };
        let op = view
            .operation
            .as_ref()
            .filter(|op| Some(&op.id) == m.operation_id.as_ref());
        match op.map(|op| &op.state) {
            Some(OperationState::Succeeded) => {
                set_state(&mut m.status, UpdateState::Completed, p.now);
            }
            Some(OperationState::Failed { code, message }) => {
                set_state(&mut m.status, UpdateState::Failed, p.now);
                set_error(&mut m.status, code, message);
                m.message = Some(message.clone());
                p.effects.push(Effect::Event {
                    warning: true,
                    reason: "MemberUpgradeFailed",
                    message: format!("member {} failed to upgrade: {message}", m.name),
                });
            }
            // Still running, or the start is not visible yet.
            _ => {}
        }
    }
}

fn fail_member(p: &mut Pass, m: &mut MemberUpdateStatus, e: &UpgradeError) {
    set_state(&mut m.status, UpdateState::Failed, p.now);
    set_error(&mut m.status, e.code(), &e.to_string());
    m.message = Some(e.to_string());
    p.effects.push(Effect::Event {
        warning: true,
        reason: "MemberUpgradeFailed",
        message: format!("member {} failed to upgrade: {e}", m.name),
    });
}

/// Stages strictly in order; a finished stage lets the next one start in the same pass.
fn advance(p: &mut Pass, st: &mut UpdateRunStatus) {
    let strategy = effective_strategy(p.spec);
    for (si, stage) in st.stages.iter_mut().flatten().enumerate() {
        if p.halted {
            return;
        }
        if is_done(state_of(&stage.status)) {
            continue;
        }
        let config = strategy.stages.get(si);
        mark_started(&mut stage.status, p.now);
        if !advance_gates(
            p,
            &mut stage.before_gates,
            config.and_then(|c| c.before_gates.as_deref()),
            GatePlace {
                stage: &stage.name,
                group: None,
                timing: GateTiming::Before,
            },
        ) {
            return;
        }
        // plan() resolves both ceilings; a status without them gets the spec's defaults.
        let stage_cap = stage
            .max_concurrency
            .and_then(|c| usize::try_from(c).ok())
            .map_or(STAGE_MAX_CONCURRENCY, |c| c.max(1));
        let mut stage_slots = stage_cap.saturating_sub(running_in(stage.groups.iter().flatten()));
        let stage_max = stage.max_allowed_failures.unwrap_or(0).max(0);
        let mut stage_failures = stage.failure_count.unwrap_or(0);
        // Tie rule: when the stage's ceiling is tighter than its groups' ceilings together, the
        // free slots go to groups in array order.
        for group in stage.groups.iter_mut().flatten() {
            if p.halted {
                return;
            }
            if is_done(state_of(&group.status)) {
                continue;
            }
            advance_group(
                p,
                &stage.name,
                config,
                group,
                &mut stage_slots,
                &mut stage_failures,
            );
            if stage_failures > stage_max {
                p.halted = true;
                return;
            }
        }
        let groups = stage.groups.as_deref().unwrap_or_default();
        if !groups.iter().all(|g| is_done(state_of(&g.status))) {
            return;
        }
        // Every group Skipped ⇒ the stage is Skipped, its wait and after-gates with it
        // (decision: nothing was upgraded, so there is nothing to soak).
        if groups
            .iter()
            .all(|g| state_of(&g.status) == UpdateState::Skipped)
        {
            set_state(&mut stage.status, UpdateState::Skipped, p.now);
            skip_gates(&mut stage.after_gates, p.now);
            skip_wait(&mut stage.after_stage_wait_status, p.now);
            continue;
        }
        // The after-gates and the wait run at the same time (aks §6.1.5).
        let gates_done = advance_gates(
            p,
            &mut stage.after_gates,
            config.and_then(|c| c.after_gates.as_deref()),
            GatePlace {
                stage: &stage.name,
                group: None,
                timing: GateTiming::After,
            },
        );
        let wait_done = advance_wait(p, &mut stage.after_stage_wait_status);
        if !(gates_done && wait_done) {
            return;
        }
        set_state(&mut stage.status, UpdateState::Completed, p.now);
        p.effects.push(Effect::Event {
            warning: false,
            reason: "StageCompleted",
            message: format!("stage {} completed", stage.name),
        });
    }
}

fn running_in<'a>(groups: impl Iterator<Item = &'a UpdateGroupStatus>) -> usize {
    groups
        .flat_map(|g| g.members.iter().flatten())
        .filter(|m| in_flight(state_of(&m.status)))
        .count()
}

fn mark_started(s: &mut Option<crate::upgrade::upgrade_run::UpdateStatus>, now: DateTime<Utc>) {
    if state_of(s) == UpdateState::NotStarted {
        set_state(s, UpdateState::Running, now);
    }
}

fn advance_group(
    p: &mut Pass,
    stage_name: &str,
    stage: Option<&UpdateStage>,
    group: &mut UpdateGroupStatus,
    stage_slots: &mut usize,
    stage_failures: &mut i32,
) {
    let config = stage
        .and_then(|s| s.groups.as_deref())
        .and_then(|gs| gs.iter().find(|g| g.name == group.name));
    mark_started(&mut group.status, p.now);
    if !advance_gates(
        p,
        &mut group.before_gates,
        config.and_then(|c| c.before_gates.as_deref()),
        GatePlace {
            stage: stage_name,
            group: Some(&group.name),
            timing: GateTiming::Before,
        },
    ) {
        return;
    }
    schedule_members(p, group, stage_slots, stage_failures);
    if p.halted {
        return;
    }
    let members = group.members.as_deref().unwrap_or_default();
    if !members.iter().all(|m| is_done(state_of(&m.status))) {
        return;
    }
    // Every member Skipped (by the user or the system) ⇒ the group is Skipped (aks §8.4).
    // Decision: a group no member matched (a selector's, possible only with selectors) has
    // nothing to do and is Skipped the same way.
    if members
        .iter()
        .all(|m| state_of(&m.status) == UpdateState::Skipped)
    {
        set_state(&mut group.status, UpdateState::Skipped, p.now);
        skip_gates(&mut group.before_gates, p.now);
        skip_gates(&mut group.after_gates, p.now);
        return;
    }
    if advance_gates(
        p,
        &mut group.after_gates,
        config.and_then(|c| c.after_gates.as_deref()),
        GatePlace {
            stage: stage_name,
            group: Some(&group.name),
            timing: GateTiming::After,
        },
    ) {
        set_state(&mut group.status, UpdateState::Completed, p.now);
    }
}

/// Starts members while the group's and the stage's ceilings allow (aks §6.4), best maintenance
/// window first (aks §6.3), ties in list order. A member turning Pending takes no slot and does
/// not block the ones after it.
fn schedule_members(
    p: &mut Pass,
    group: &mut UpdateGroupStatus,
    stage_slots: &mut usize,
    stage_failures: &mut i32,
) {
    let cap = group
        .max_concurrency
        .and_then(|c| usize::try_from(c).ok())
        .map_or(GROUP_DEFAULT_CONCURRENCY, |c| c.max(1));
    let max_failures = group.max_allowed_failures.unwrap_or(0).max(0);
    let kind = p.spec.managed_cluster_update.upgrade.type_;
    let Some(members) = group.members.as_mut() else {
        return;
    };
    let mut running = members
        .iter()
        .filter(|m| in_flight(state_of(&m.status)))
        .count();
    let mut failures = members
        .iter()
        .filter(|m| state_of(&m.status) == UpdateState::Failed)
        .count() as i32;
    let mut ranked: Vec<(WindowBucket, usize)> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            matches!(
                state_of(&m.status),
                UpdateState::NotStarted | UpdateState::Pending
            )
        })
        .map(|(i, m)| {
            let bucket = p
                .world
                .members
                .get(&m.name)
                .and_then(|v| v.window_for(kind))
                .map_or(WindowBucket::NoWindow, |w| {
                    w.bucket(p.now).unwrap_or(WindowBucket::NoWindow)
                });
            (bucket, i)
        })
        .collect();
    ranked.sort();
    for (_, i) in ranked {
        if running >= cap || *stage_slots == 0 {
            break;
        }
        let m = &mut members[i];
        let Some(view) = p.world.members.get(&m.name) else {
            // Decision (aks §18.5): a member that left the fleet before its turn is Skipped.
            set_state(&mut m.status, UpdateState::Skipped, p.now);
            m.message = Some(format!("member {} is no longer in the fleet", m.name));
            continue;
        };
        let previous = m.operation_id.clone().unwrap_or_default();
        let id = derived_id(&[run_key(&p.run), &m.name, &previous]);
        // The operation this turn would start already exists: an earlier pass started it and its
        // status write was lost. Adopt it; the next pass records its result.
        if view.operation.as_ref().is_some_and(|op| op.id == id) {
            m.operation_id = Some(id);
            set_state(&mut m.status, UpdateState::Running, p.now);
            running += 1;
            *stage_slots -= 1;
            continue;
        }
        let busy = view.operation.as_ref().is_some_and(|op| {
            op.state == OperationState::InProgress && Some(&op.id) != m.operation_id.as_ref()
        });
        let decision = if busy {
            MemberDecision::Fail(UpgradeError::OperationInProgress(m.name.clone()))
        } else {
            decide_member(
                view,
                &p.spec.managed_cluster_update,
                &p.selected,
                p.world.catalogue,
                p.now,
            )
        };
        match decision {
            MemberDecision::Start(upgrade) => {
                m.operation_id = Some(id.clone());
                m.message = upgrade.message.clone();
                set_state(&mut m.status, UpdateState::Running, p.now);
                // A member's times are its operation's, not when it was first reached.
                if let Some(s) = m.status.as_mut() {
                    s.error = None;
                    s.start_time = Some(super::timestamp(p.now));
                }
                p.effects.push(Effect::StartUpgrade {
                    member: m.name.clone(),
                    operation_id: id,
                    upgrade,
                });
                running += 1;
                *stage_slots -= 1;
            }
            MemberDecision::Skip(message) => {
                set_state(&mut m.status, UpdateState::Skipped, p.now);
                m.message = Some(message);
            }
            MemberDecision::Pending {
                message,
                error,
                until,
            } => {
                set_state(&mut m.status, UpdateState::Pending, p.now);
                if let Some(s) = m.status.as_mut() {
                    s.error = error.map(|e| super::error_detail(e.code(), &e.to_string()));
                }
                m.message = Some(message);
                if let Some(t) = until {
                    p.requeue_at(t);
                }
            }
            MemberDecision::Fail(e) => {
                fail_member(p, m, &e);
                failures += 1;
                *stage_failures += 1;
                if failures > max_failures {
                    p.halted = true;
                    return;
                }
            }
        }
    }
}

/// The after-stage wait (aks §3.1): starts when the stage's groups are done, ends after
/// `waitDurationInSeconds`. Decision (aks §18.2): the last stage waits too, as the examples show
/// a wait status on the last stage.
fn advance_wait(p: &mut Pass, wait: &mut Option<WaitStatus>) -> bool {
    let Some(w) = wait.as_mut() else {
        return true;
    };
    match state_of(&w.status) {
        UpdateState::Completed | UpdateState::Skipped => return true,
        UpdateState::NotStarted => set_state(&mut w.status, UpdateState::Running, p.now),
        _ => {}
    }
    // An unreadable start (the status is outside data) restarts the wait now.
    let started = w
        .status
        .as_ref()
        .and_then(|s| s.start_time.as_deref())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or(p.now, |t| t.with_timezone(&Utc));
    let end = started + Duration::seconds(i64::from(w.wait_duration_in_seconds.unwrap_or(0)));
    if p.now >= end {
        set_state(&mut w.status, UpdateState::Completed, p.now);
        true
    } else {
        p.requeue_at(end);
        false
    }
}

pub(crate) fn skip_wait(wait: &mut Option<WaitStatus>, now: DateTime<Utc>) {
    if let Some(w) = wait.as_mut() {
        if !matches!(
            state_of(&w.status),
            UpdateState::Completed | UpdateState::Skipped
        ) {
            set_state(&mut w.status, UpdateState::Skipped, now);
        }
    }
}

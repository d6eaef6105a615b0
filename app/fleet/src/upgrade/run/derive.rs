//! Child → parent aggregation (aks §7.2): failure counts, thresholds, and the states of groups,
//! stages and the run derived from their children. Nodes already Completed, Skipped or Failed keep
//! their state (a user skip or a crossed threshold sticks until a restart reopens it).

use chrono::{DateTime, Utc};

use super::gates::any_pending;
use super::step::{in_flight, Pass};
use super::{is_done, set_error, set_state, state_of, Effect};
use crate::upgrade::upgrade_run::{
    UpdateGroupStatus, UpdateRunStatus, UpdateStageStatus, UpdateState,
};

/// `failureCount` = Failed members, summed group → stage → run (aks §7.2). A member's state stays
/// Failed whatever the thresholds say.
pub(crate) fn count_failures(st: &mut UpdateRunStatus) {
    let mut run = 0;
    for stage in st.stages.iter_mut().flatten() {
        let mut in_stage = 0;
        for group in stage.groups.iter_mut().flatten() {
            let n = group
                .members
                .iter()
                .flatten()
                .filter(|m| state_of(&m.status) == UpdateState::Failed)
                .count() as i32;
            group.failure_count = Some(n);
            in_stage += n;
        }
        stage.failure_count = Some(in_stage);
        run += in_stage;
    }
    st.failure_count = Some(run);
}

/// Fails every group over its `maxAllowedFailures` and every stage with a Failed group or over
/// its own limit (aks §7.2, §8.2). `true` if anything is Failed: no new work may start.
pub(crate) fn enforce_thresholds(st: &mut UpdateRunStatus, now: DateTime<Utc>) -> bool {
    let mut any = false;
    for stage in st.stages.iter_mut().flatten() {
        let mut group_failed = false;
        for group in stage.groups.iter_mut().flatten() {
            let failures = group.failure_count.unwrap_or(0);
            let max = group.max_allowed_failures.unwrap_or(0);
            // Finished groups take no new work, so a late result cannot fail them (aks §8.2:
            // the threshold is checked when scheduling).
            let open = !matches!(
                state_of(&group.status),
                UpdateState::Skipped | UpdateState::Completed
            );
            if failures > max && open {
                if state_of(&group.status) != UpdateState::Failed {
                    set_state(&mut group.status, UpdateState::Failed, now);
                    let msg = format!(
                        "group {} failed: {failures} member(s) failed, more than the {max} allowed",
                        group.name
                    );
                    set_error(&mut group.status, "UpdateGroupFailed", &msg);
                }
                group_failed = true;
            }
        }
        let failures = stage.failure_count.unwrap_or(0);
        let max = stage.max_allowed_failures.unwrap_or(0);
        let open = !matches!(
            state_of(&stage.status),
            UpdateState::Skipped | UpdateState::Completed
        );
        let over = failures > max && open;
        if (group_failed && open) || over {
            if state_of(&stage.status) != UpdateState::Failed {
                set_state(&mut stage.status, UpdateState::Failed, now);
                let msg = format!(
                    "stage {} failed: {failures} member(s) failed (at most {max} allowed in the stage)",
                    stage.name
                );
                set_error(&mut stage.status, "UpdateStageFailed", &msg);
            }
            any = true;
        }
    }
    any
}

fn any_member(group: &UpdateGroupStatus, f: impl Fn(UpdateState) -> bool) -> bool {
    group
        .members
        .iter()
        .flatten()
        .any(|m| f(state_of(&m.status)))
}

fn started(s: &Option<crate::upgrade::upgrade_run::UpdateStatus>) -> bool {
    s.as_ref().is_some_and(|s| s.start_time.is_some())
}

/// A group's state from its members and gates (aks §5, §7.2); `halting` = the run is stopping.
fn group_state(group: &mut UpdateGroupStatus, halting: bool, now: DateTime<Utc>) -> UpdateState {
    if any_member(group, in_flight) {
        if halting {
            for m in group.members.iter_mut().flatten() {
                if state_of(&m.status) == UpdateState::Running {
                    set_state(&mut m.status, UpdateState::Stopping, now);
                }
            }
            return UpdateState::Stopping;
        }
        return UpdateState::Running;
    }
    if halting {
        // Decision: a member held Pending goes back to NotStarted when its run stops, so a
        // stopped run shows no member waiting.
        for m in group.members.iter_mut().flatten() {
            if state_of(&m.status) == UpdateState::Pending {
                m.status = None;
                set_state(&mut m.status, UpdateState::NotStarted, now);
                m.message = None;
            }
        }
        return if started(&group.status) {
            UpdateState::Stopped
        } else {
            UpdateState::NotStarted
        };
    }
    if !started(&group.status) {
        return UpdateState::NotStarted;
    }
    let waiting = any_pending(&group.before_gates)
        || any_pending(&group.after_gates)
        || any_member(group, |s| s == UpdateState::Pending);
    if waiting {
        UpdateState::Pending
    } else {
        UpdateState::Running
    }
}

fn stage_state(stage: &mut UpdateStageStatus, halting: bool, now: DateTime<Utc>) -> UpdateState {
    let mut states = Vec::new();
    for g in stage.groups.iter_mut().flatten() {
        if !is_done(state_of(&g.status)) {
            let s = group_state(g, halting, now);
            if state_of(&g.status) != s {
                set_state(&mut g.status, s, now);
            }
            states.push(s);
        }
    }
    if states.iter().any(|s| in_flight(*s)) {
        return if halting {
            UpdateState::Stopping
        } else {
            UpdateState::Running
        };
    }
    if halting {
        return if started(&stage.status) {
            UpdateState::Stopped
        } else {
            UpdateState::NotStarted
        };
    }
    if !started(&stage.status) {
        return UpdateState::NotStarted;
    }
    let gate_waiting = any_pending(&stage.before_gates) || any_pending(&stage.after_gates);
    let groups_waiting = !states.is_empty()
        && states.contains(&UpdateState::Pending)
        && states
            .iter()
            .all(|s| matches!(s, UpdateState::Pending | UpdateState::NotStarted));
    if gate_waiting || groups_waiting {
        UpdateState::Pending
    } else {
        UpdateState::Running
    }
}

/// Rolls every open group and stage up, then the run (aks §7.1, §7.2), with an Event for each
/// change of the run's state.
pub(crate) fn roll_up(
    p: &mut Pass,
    st: &mut UpdateRunStatus,
    stop_requested: bool,
    before: UpdateState,
) {
    let now = p.now;
    let failed = st
        .stages
        .iter()
        .flatten()
        .any(|s| state_of(&s.status) == UpdateState::Failed);
    let halting = failed || stop_requested;
    let mut current: Option<UpdateState> = None;
    for stage in st.stages.iter_mut().flatten() {
        // A finished stage can still hold open groups: a Failed stage's other groups (Stopping,
        // then Stopped) and a skipped group's member in flight.
        if is_done(state_of(&stage.status)) {
            if halting {
                for g in stage.groups.iter_mut().flatten() {
                    if !is_done(state_of(&g.status)) {
                        let s = group_state(g, true, now);
                        set_state(&mut g.status, s, now);
                    } else if any_member(g, in_flight) && state_of(&g.status) != UpdateState::Failed
                    {
                        group_state(g, true, now);
                    }
                }
            }
            continue;
        }
        let s = stage_state(stage, halting, now);
        if state_of(&stage.status) != s {
            set_state(&mut stage.status, s, now);
        }
        current.get_or_insert(s);
    }
    let stages = st.stages.as_deref().unwrap_or_default();
    let busy = stages
        .iter()
        .flat_map(|s| s.groups.iter().flatten())
        .any(|g| any_member(g, in_flight));
    let state = if failed {
        if busy {
            UpdateState::Stopping
        } else {
            UpdateState::Failed
        }
    } else if stop_requested {
        if busy {
            UpdateState::Stopping
        } else {
            UpdateState::Stopped
        }
    } else if !stages.is_empty()
        && stages
            .iter()
            .all(|s| state_of(&s.status) == UpdateState::Skipped)
    {
        UpdateState::Skipped
    } else if current.is_none() {
        UpdateState::Completed
    } else if current == Some(UpdateState::Pending) {
        UpdateState::Pending
    } else {
        UpdateState::Running
    };
    if state == UpdateState::Failed {
        let names: Vec<&str> = stages
            .iter()
            .filter(|s| state_of(&s.status) == UpdateState::Failed)
            .map(|s| s.name.as_str())
            .collect();
        let msg = format!(
            "the update run failed: stage {} failed with {} member failure(s)",
            names.join(", "),
            st.failure_count.unwrap_or(0)
        );
        set_error(&mut st.status, "UpdateRunFailed", &msg);
    }
    if state != before {
        set_state(&mut st.status, state, now);
        p.effects.push(Effect::Event {
            warning: matches!(state, UpdateState::Failed | UpdateState::Stopping if failed),
            reason: run_reason(state),
            message: format!("update run {} is {state:?}", p.run.name),
        });
    }
}

fn run_reason(state: UpdateState) -> &'static str {
    match state {
        UpdateState::NotStarted => "UpdateRunNotStarted",
        UpdateState::Running => "UpdateRunRunning",
        UpdateState::Pending => "UpdateRunPending",
        UpdateState::Stopping => "UpdateRunStopping",
        UpdateState::Stopped => "UpdateRunStopped",
        UpdateState::Skipped => "UpdateRunSkipped",
        UpdateState::Failed => "UpdateRunFailed",
        UpdateState::Completed => "UpdateRunCompleted",
    }
}

//! The top of every reconcile (spec §9.2): re-stamp, initialize or validate, then execute or stop,
//! and record failure or completion (§9.8).

use std::time::Duration;

use crate::staged::staged_update::StageTaskType;
use crate::staged::staged_update_run::{
    StageUpdatingStatus, StagedUpdateRunStatus, UpdateRunState,
};
use crate::types::condition::{
    self as cond, find_condition, messages as msg, reasons, types, Condition, Time, FALSE, TRUE,
    UNKNOWN,
};

use super::deletion::deletion_stage;
use super::exec::{by_cluster, enter_execute, execute_stage, Effects, Flow, Pass, Timing};
use super::init::{initialize, RunMeta};
use super::stop::stop_stage;
use super::validate::{validate, Position};
use super::views::World;
use super::RunError;

pub type StepConfig = Timing;

/// What the engine does after writing the effects and the status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing more to do until an event (finished, failed, stopped, `Initialize`).
    Done,
    /// Reconcile again after this long at the latest (a fallback; events come sooner).
    Requeue(Duration),
    /// A retriable error: write the effects and status, then retry with backoff.
    Retry(String),
}

/// The decision of one reconcile.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub status: StagedUpdateRunStatus,
    pub effects: Effects,
    pub outcome: Outcome,
}

/// One reconcile of a run that is not being deleted.
pub fn step(
    run: &RunMeta,
    status: Option<&StagedUpdateRunStatus>,
    world: &World,
    now: &Time,
    timing: Timing,
) -> Step {
    let mut status = status.cloned().unwrap_or_default();
    restamp(&mut status, run.generation);
    strip_approval_wait(&mut status);
    let mut effects = Effects::default();
    let outcome = decide(run, &mut status, world, now, timing, &mut effects);
    Step {
        status,
        effects,
        outcome,
    }
}

fn decide(
    run: &RunMeta,
    status: &mut StagedUpdateRunStatus,
    world: &World,
    now: &Time,
    timing: Timing,
    fx: &mut Effects,
) -> Outcome {
    let conds = status.conditions.clone().unwrap_or_default();
    match find_condition(&conds, types::INITIALIZED) {
        Some(c) if c.status == TRUE => {
            if find_condition(&conds, types::SUCCEEDED).is_some() {
                return Outcome::Done;
            }
        }
        Some(_) => return Outcome::Done,
        None => match initialize(run, world, status, now) {
            Ok(()) => {}
            Err(RunError::Terminal(_)) => return Outcome::Done,
            Err(RunError::Retriable(m)) => return Outcome::Retry(m),
        },
    }
    let validated = match validate(run, world, status) {
        Ok(v) => v,
        Err(RunError::Retriable(m)) => return Outcome::Retry(m),
        Err(e) => {
            fail_run(run, status, now, &e.validation_message());
            return Outcome::Done;
        }
    };
    let state = run.spec.state();
    if validated.position == Position::Done {
        succeed_run(run, status, now);
        return Outcome::Done;
    }
    let p = Pass {
        run,
        selected: &validated.selected,
        to_delete: &validated.to_delete,
        approvals: &world.approvals,
        now,
        timing,
        selected_by_cluster: by_cluster(&validated.selected),
    };
    match state {
        UpdateRunState::Initialize => Outcome::Done,
        UpdateRunState::Run => run_stages(&p, status, validated.position, fx),
        UpdateRunState::Stop => stop(&p, status, validated.position, fx),
    }
}

fn run_stages(
    p: &Pass,
    status: &mut StagedUpdateRunStatus,
    mut pos: Position,
    fx: &mut Effects,
) -> Outcome {
    enter_execute(p, status);
    let stages = status.stages_status.as_ref().map_or(0, Vec::len);
    loop {
        let result = match pos {
            Position::Stage(i) => execute_stage(p, status, i, fx),
            Position::Deletion => deletion_stage(p, status, fx, false),
            Position::Done => return Outcome::Done,
        };
        match result {
            Ok(Flow::Wait(d)) => return Outcome::Requeue(d),
            // A completed stage goes straight on (upstream requeues immediately).
            Ok(Flow::Completed) => {
                pos = match pos {
                    Position::Stage(i) if i + 1 < stages => Position::Stage(i + 1),
                    Position::Stage(_) => Position::Deletion,
                    _ => {
                        succeed_run(p.run, status, p.now);
                        return Outcome::Done;
                    }
                }
            }
            Err(e) => return stage_error(p, status, pos, e),
        }
    }
}

fn stop(p: &Pass, status: &mut StagedUpdateRunStatus, pos: Position, fx: &mut Effects) -> Outcome {
    let c = &mut status.conditions;
    p.set(
        c,
        types::PROGRESSING,
        UNKNOWN,
        reasons::UPDATE_RUN_STOPPING,
        msg::UPDATE_RUN_STOPPING,
    );
    let result = match pos {
        Position::Stage(i) => stop_stage(p, status, i),
        Position::Deletion => deletion_stage(p, status, fx, true),
        Position::Done => return Outcome::Done,
    };
    match result {
        Ok(Flow::Completed) => {
            let c = &mut status.conditions;
            p.set(
                c,
                types::PROGRESSING,
                FALSE,
                reasons::UPDATE_RUN_STOPPED,
                msg::UPDATE_RUN_STOPPED,
            );
            Outcome::Done
        }
        Ok(Flow::Wait(d)) => Outcome::Requeue(d),
        Err(e) => stage_error(p, status, pos, e),
    }
}

fn stage_error(
    p: &Pass,
    status: &mut StagedUpdateRunStatus,
    pos: Position,
    e: RunError,
) -> Outcome {
    match e {
        RunError::Retriable(m) => Outcome::Retry(m),
        RunError::Terminal(_) => {
            let text = e.execution_message();
            let stage = match pos {
                Position::Stage(i) => status.stages_status.as_mut().and_then(|s| s.get_mut(i)),
                _ => status.deletion_stage_status.as_mut(),
            };
            if let Some(stage) = stage {
                fail_stage(p, stage, &text);
            }
            fail_run(p.run, status, p.now, &text);
            Outcome::Done
        }
    }
}

fn fail_stage(p: &Pass, stage: &mut StageUpdatingStatus, text: &str) {
    stage.end_time.get_or_insert_with(|| p.now.clone());
    let r = reasons::STAGE_UPDATING_FAILED;
    p.set(
        &mut stage.conditions,
        types::PROGRESSING,
        FALSE,
        r,
        msg::STAGE_FAILED,
    );
    p.set(&mut stage.conditions, types::SUCCEEDED, FALSE, r, text);
}

/// §9.8 Failed.
fn fail_run(run: &RunMeta, status: &mut StagedUpdateRunStatus, now: &Time, text: &str) {
    let r = reasons::UPDATE_RUN_FAILED;
    let g = run.generation;
    let c = &mut status.conditions;
    cond::set_condition_opt(
        c,
        cond::new_condition(types::PROGRESSING, FALSE, r, msg::UPDATE_RUN_FAILED, g, now),
    );
    cond::set_condition_opt(
        c,
        cond::new_condition(types::SUCCEEDED, FALSE, r, text, g, now),
    );
}

/// §9.8 Succeeded.
fn succeed_run(run: &RunMeta, status: &mut StagedUpdateRunStatus, now: &Time) {
    let r = reasons::UPDATE_RUN_SUCCEEDED;
    let g = run.generation;
    let c = &mut status.conditions;
    let m = msg::UPDATE_RUN_SUCCEEDED_PROGRESSING;
    cond::set_condition_opt(
        c,
        cond::new_condition(types::PROGRESSING, FALSE, r, m, g, now),
    );
    cond::set_condition_opt(
        c,
        cond::new_condition(types::SUCCEEDED, TRUE, r, msg::UPDATE_RUN_SUCCEEDED, g, now),
    );
}

/// §9.2 step 2: every condition of the status observes the current generation.
pub fn restamp(status: &mut StagedUpdateRunStatus, generation: i64) {
    fn stamp(c: &mut Option<Vec<Condition>>, g: i64) {
        if let Some(c) = c {
            cond::restamp_generation(c, g);
        }
    }
    stamp(&mut status.conditions, generation);
    let stages = status.stages_status.iter_mut().flatten();
    for stage in stages.chain(status.deletion_stage_status.as_mut()) {
        stamp(&mut stage.conditions, generation);
        for c in stage.clusters.iter_mut().flatten() {
            stamp(&mut c.conditions, generation);
        }
        let tasks = stage.before_stage_task_status.iter_mut().flatten();
        for t in tasks.chain(stage.after_stage_task_status.iter_mut().flatten()) {
            stamp(&mut t.conditions, generation);
        }
    }
}

/// §9.2 step 3: Approval tasks carry no `waitTime` in the strategy snapshot.
fn strip_approval_wait(status: &mut StagedUpdateRunStatus) {
    let stages = status
        .staged_update_strategy_snapshot
        .iter_mut()
        .flat_map(|s| s.stages.iter_mut());
    for stage in stages {
        let tasks = stage
            .before_stage_tasks
            .iter_mut()
            .chain(stage.after_stage_tasks.iter_mut());
        for task in tasks.flatten() {
            if task.type_ == StageTaskType::Approval {
                task.wait_time = None;
            }
        }
    }
}

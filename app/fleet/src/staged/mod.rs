//! Staged update runs: strategies, runs, stage plans, approvals, the run state machine (`run`).

pub mod approval;
pub mod concurrency;
pub mod run;
pub mod run_action;
pub mod stage_plan;
pub mod staged_update;
pub mod staged_update_run;
pub mod wait_time;

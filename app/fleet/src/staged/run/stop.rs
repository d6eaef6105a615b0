//! Stop (spec §9.7): finish the in-flight clusters of the current stage, start nothing, ignore
//! approvals and waits.

use crate::staged::staged_update_run::StagedUpdateRunStatus;
use crate::types::condition::{find_condition, messages as msg, reasons, types, FALSE, UNKNOWN};

use super::cluster::{
    cluster_result, cluster_succeeded, earliest, is_stuck, set_stuck_or_progressing, until_stuck,
    ClusterResult,
};
use super::exec::{Flow, Pass};
use super::{is_true, RunError};

/// One stop pass over normal stage `i`; `Completed` means the run is now Stopped.
pub fn stop_stage(
    p: &Pass,
    status: &mut StagedUpdateRunStatus,
    i: usize,
) -> Result<Flow, RunError> {
    let mut run_conds = status.conditions.take();
    let result = stop_stage_inner(p, status, &mut run_conds, i);
    status.conditions = run_conds;
    result
}

fn stop_stage_inner(
    p: &Pass,
    status: &mut StagedUpdateRunStatus,
    run_conds: &mut Option<Vec<crate::types::condition::Condition>>,
    i: usize,
) -> Result<Flow, RunError> {
    let stage = status
        .stages_status
        .as_mut()
        .and_then(|s| s.get_mut(i))
        .ok_or_else(|| {
            RunError::unexpected(format!("the stage with index `{i}` does not exist"))
        })?;
    let name = stage.stage_name.clone();
    let (mut in_flight, mut stuck) = (0usize, Vec::new());
    let mut next_check = p.timing.cluster_poll;
    for cluster in stage.clusters.iter_mut().flatten() {
        let conds = cluster.conditions.as_deref().unwrap_or_default();
        if !is_true(conds, types::STARTED) || find_condition(conds, types::SUCCEEDED).is_some() {
            continue;
        }
        let cname = cluster.cluster_name.clone();
        let binding = p.selected_binding(&cname).ok_or_else(|| {
            RunError::unexpected(format!(
                "the updating cluster `{cname}` in the stage {name} does not have a binding"
            ))
        })?;
        if cluster_result(binding) == ClusterResult::Succeeded {
            cluster_succeeded(p, cluster);
            continue;
        }
        in_flight += 1;
        if is_stuck(p, cluster) {
            stuck.push(cname);
        } else {
            next_check = earliest(next_check, until_stuck(p, cluster));
        }
    }
    if in_flight == 0 {
        let r = reasons::STAGE_UPDATING_STOPPED;
        p.set(
            &mut stage.conditions,
            types::PROGRESSING,
            FALSE,
            r,
            msg::STAGE_STOPPED,
        );
        let r = reasons::UPDATE_RUN_STOPPED;
        p.set(
            run_conds,
            types::PROGRESSING,
            FALSE,
            r,
            msg::UPDATE_RUN_STOPPED,
        );
        return Ok(Flow::Completed);
    }
    let r = reasons::STAGE_UPDATING_STOPPING;
    p.set(
        &mut stage.conditions,
        types::PROGRESSING,
        UNKNOWN,
        r,
        msg::STAGE_STOPPING,
    );
    let stopping = (
        UNKNOWN,
        reasons::UPDATE_RUN_STOPPING,
        msg::UPDATE_RUN_STOPPING,
    );
    set_stuck_or_progressing(p, run_conds, &stuck, &name, Some(stopping));
    Ok(Flow::Wait(next_check))
}

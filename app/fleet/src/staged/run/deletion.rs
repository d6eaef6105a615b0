//! The deletion stage (spec §9.5.C), also while stopping (§9.7): unscheduled bindings are deleted
//! all at once, after every normal stage succeeded.

use crate::staged::staged_update_run::StagedUpdateRunStatus;
use crate::types::condition::{
    find_condition, messages as msg, reasons, types, FALSE, TRUE, UNKNOWN,
};

use super::cluster::cluster_succeeded;
use super::exec::{Effects, Flow, Pass};
use super::{is_true, RunError};

/// One pass over the deletion stage; `stopping` starts no new deletions.
pub fn deletion_stage(
    p: &Pass,
    status: &mut StagedUpdateRunStatus,
    fx: &mut Effects,
    stopping: bool,
) -> Result<Flow, RunError> {
    let stage = status
        .deletion_stage_status
        .get_or_insert_with(Default::default);
    if stopping {
        let r = reasons::STAGE_UPDATING_STOPPING;
        p.set(
            &mut stage.conditions,
            types::PROGRESSING,
            UNKNOWN,
            r,
            msg::STAGE_STOPPING,
        );
    } else {
        stage.start_time.get_or_insert_with(|| p.now.clone());
        let r = reasons::STAGE_UPDATING_STARTED;
        p.set(
            &mut stage.conditions,
            types::PROGRESSING,
            TRUE,
            r,
            msg::STAGE_STARTED,
        );
    }
    for b in p.to_delete {
        let target = &b.spec.target_cluster;
        let Some(cluster) = stage
            .clusters
            .iter_mut()
            .flatten()
            .find(|c| &c.cluster_name == target)
        else {
            return Err(RunError::terminal(format!(
                "the cluster `{target}` to be deleted is not in the delete stage"
            )));
        };
        let conds = cluster.conditions.as_deref().unwrap_or_default();
        if is_true(conds, types::SUCCEEDED) {
            return Err(RunError::unexpected(format!(
                "the deleted cluster `{target}` in the deleting stage still has a binding"
            )));
        }
        if is_true(conds, types::STARTED) {
            if !b.deleting {
                return Err(RunError::unexpected(format!(
                    "the cluster `{target}` in the deleting stage is started but its binding `{}` is not being deleted",
                    b.name
                )));
            }
            continue;
        }
        if stopping {
            continue;
        }
        fx.binding_deletes.push(b.name.clone());
        let r = reasons::CLUSTER_UPDATING_STARTED;
        p.set(
            &mut cluster.conditions,
            types::STARTED,
            TRUE,
            r,
            msg::CLUSTER_STARTED,
        );
    }
    // Listed clusters whose binding is gone are done (§9.5.C.3).
    let mut unfinished_started = false;
    for cluster in stage.clusters.iter_mut().flatten() {
        let gone = !p
            .to_delete
            .iter()
            .any(|b| b.spec.target_cluster == cluster.cluster_name);
        let conds = cluster.conditions.as_deref().unwrap_or_default();
        let started = is_true(conds, types::STARTED);
        let has_result = find_condition(conds, types::SUCCEEDED).is_some();
        if gone && !has_result {
            if !started {
                let r = reasons::CLUSTER_UPDATING_STARTED;
                p.set(
                    &mut cluster.conditions,
                    types::STARTED,
                    TRUE,
                    r,
                    msg::CLUSTER_STARTED,
                );
            }
            cluster_succeeded(p, cluster);
        } else if started && !has_result {
            unfinished_started = true;
        }
    }
    if stopping {
        if !unfinished_started {
            let r = reasons::STAGE_UPDATING_STOPPED;
            p.set(
                &mut stage.conditions,
                types::PROGRESSING,
                FALSE,
                r,
                msg::STAGE_STOPPED,
            );
            if p.to_delete.is_empty() {
                return Ok(Flow::Completed);
            }
        }
        return Ok(Flow::Wait(p.timing.cluster_poll));
    }
    if !p.to_delete.is_empty() {
        return Ok(Flow::Wait(p.timing.cluster_poll));
    }
    stage.end_time.get_or_insert_with(|| p.now.clone());
    let r = reasons::STAGE_UPDATING_SUCCEEDED;
    p.set(
        &mut stage.conditions,
        types::PROGRESSING,
        FALSE,
        r,
        msg::STAGE_SUCCEEDED_PROGRESSING,
    );
    p.set(
        &mut stage.conditions,
        types::SUCCEEDED,
        TRUE,
        r,
        msg::STAGE_SUCCEEDED,
    );
    Ok(Flow::Completed)
}

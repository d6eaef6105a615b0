//! Reading an update run's status: conditions as `(status, reason, message)`, stages and their
//! clusters in order.

use app::fleet::staged::staged_update_run::StageUpdatingStatus;
use app::fleet::types::condition::{find_condition, Condition};
use app::fleet::ClusterStagedUpdateRun;

/// `(status, reason, message)` of condition `type_`, or `None`.
pub fn cond(conds: Option<&Vec<Condition>>, type_: &str) -> Option<(String, String, String)> {
    conds
        .and_then(|c| find_condition(c, type_))
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

pub fn sr(status: &str, reason: &str) -> Option<(String, String)> {
    Some((status.to_string(), reason.to_string()))
}

/// `(status, reason)` of condition `type_`.
pub fn cs(conds: Option<&Vec<Condition>>, type_: &str) -> Option<(String, String)> {
    cond(conds, type_).map(|(s, r, _)| (s, r))
}

/// When condition `type_` last changed, in whole seconds since the epoch (the wire's precision).
pub fn transition_second(conds: Option<&Vec<Condition>>, type_: &str) -> i64 {
    conds
        .and_then(|c| find_condition(c, type_))
        .unwrap_or_else(|| panic!("no {type_} condition"))
        .last_transition_time
        .0
        .as_second()
}

pub fn run_conds(run: &ClusterStagedUpdateRun) -> Option<&Vec<Condition>> {
    run.status.as_ref().and_then(|s| s.conditions.as_ref())
}

/// Whether the run's status lists its stages yet (the engine writes bindings before the run's
/// status, so a wait on a stage must first ask this).
pub fn has_stages(run: &ClusterStagedUpdateRun) -> bool {
    run.status
        .as_ref()
        .is_some_and(|s| s.stages_status.is_some())
}

pub fn stage(run: &ClusterStagedUpdateRun, i: usize) -> &StageUpdatingStatus {
    &run.status
        .as_ref()
        .expect("status")
        .stages_status
        .as_ref()
        .expect("stages")[i]
}

pub fn cluster_names(run: &ClusterStagedUpdateRun, i: usize) -> Vec<String> {
    stage(run, i)
        .clusters()
        .iter()
        .map(|c| c.cluster_name.clone())
        .collect()
}

/// The conditions of cluster `name` in stage `i`.
pub fn cluster_conds<'a>(
    run: &'a ClusterStagedUpdateRun,
    i: usize,
    name: &str,
) -> Option<&'a Vec<Condition>> {
    stage(run, i)
        .clusters()
        .iter()
        .find(|c| c.cluster_name == name)
        .and_then(|c| c.conditions.as_ref())
}

/// Clusters of stage `i` with `Started` True.
pub fn started(run: &ClusterStagedUpdateRun, i: usize) -> Vec<String> {
    with_true(run, i, "Started")
}

/// Clusters of stage `i` with `Succeeded` True.
pub fn succeeded(run: &ClusterStagedUpdateRun, i: usize) -> Vec<String> {
    with_true(run, i, "Succeeded")
}

fn with_true(run: &ClusterStagedUpdateRun, i: usize, type_: &str) -> Vec<String> {
    stage(run, i)
        .clusters()
        .iter()
        .filter(|c| cs(c.conditions.as_ref(), type_).is_some_and(|(s, _)| s == "True"))
        .map(|c| c.cluster_name.clone())
        .collect()
}

pub fn is_succeeded(run: &ClusterStagedUpdateRun) -> bool {
    cs(run_conds(run), "Succeeded").is_some_and(|(s, _)| s == "True")
}

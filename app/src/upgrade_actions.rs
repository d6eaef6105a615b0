//! Start, stop and skip of an upgrade run (aks §8) as a client performs them — the CLI, tests and
//! the dashboard's server functions (as the signed-in person): read the run and the fleet, apply the domain's action
//! ([`crate::fleet::upgrade::run::start`], [`stop`](crate::fleet::upgrade::run::stop),
//! [`skip`](crate::fleet::upgrade::run::skip)), which refuses states the spec does not allow, and
//! write the status at the resourceVersion read (ARM's `If-Match`); the engine is woken by that
//! write and does the work. A write that lost a race is decided again on the new state.
//!
//! Decision (aks §17 leaves "subresource-style actions or an action field" open): the action is a
//! status write, so who may act is Kubernetes RBAC on `updateruns/status`, as approving a staged
//! run's request is on `approvalrequests/status`, and a refused action is an immediate error.
//! Server only (`ssr`): the server crate re-exports it for its CLI.

use crate::fleet::upgrade::managed_cluster::member_view;
use crate::fleet::upgrade::member_view::MemberView;
use crate::fleet::upgrade::release_catalogue::ReleaseCatalogue;
use crate::fleet::upgrade::run::{self, SkipProperties};
use crate::fleet::upgrade::upgrade_error::UpgradeError;
use crate::fleet::{MemberCluster, UpdateRun};
use chrono::{DateTime, Utc};
use kube::api::{Api, ListParams, PostParams};

/// How often an action is decided again after losing a race with another writer.
const ATTEMPTS: usize = 8;

#[derive(Clone, Debug, PartialEq)]
pub enum RunAction {
    Start,
    Stop,
    Skip(SkipProperties),
}

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("update run {0} not found")]
    NotFound(String),
    /// The engine has not planned the run yet, or could not (the reason).
    #[error("update run {name} has no plan yet{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    NotPlanned {
        name: String,
        reason: Option<String>,
    },
    #[error("{0}")]
    Refused(#[from] UpgradeError),
    #[error("hub request failed: {0}")]
    Kube(#[from] kube::Error),
    #[error("update run {0} keeps changing; try again")]
    Contended(String),
}

/// Performs `action` on run `name`; returns the run as written.
pub async fn act(
    client: &kube::Client,
    name: &str,
    action: &RunAction,
    catalogue: &ReleaseCatalogue,
    now: DateTime<Utc>,
) -> Result<UpdateRun, ActionError> {
    let runs: Api<UpdateRun> = Api::all(client.clone());
    for _ in 0..ATTEMPTS {
        let mut current = runs
            .get_opt(name)
            .await?
            .ok_or_else(|| ActionError::NotFound(name.to_string()))?;
        let status = current.status.clone().unwrap_or_default();
        if status.stages.as_ref().is_none_or(|s| s.is_empty()) {
            let reason = status
                .status
                .as_ref()
                .and_then(|s| s.error.as_ref())
                .and_then(|e| e.get("message"))
                .and_then(|m| m.as_str())
                .map(str::to_string);
            return Err(ActionError::NotPlanned {
                name: name.to_string(),
                reason,
            });
        }
        let next = match action {
            RunAction::Start => {
                let members: Vec<MemberView> = Api::<MemberCluster>::all(client.clone())
                    .list(&ListParams::default())
                    .await?
                    .items
                    .iter()
                    .map(member_view)
                    .collect();
                run::start(&current.spec, &status, &members, catalogue, now)?
            }
            RunAction::Stop => run::stop(&status, now)?,
            RunAction::Skip(targets) => run::skip(&status, targets, now)?,
        };
        current.status = Some(next);
        match runs
            .replace_status(name, &PostParams::default(), &current)
            .await
        {
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            other => return other.map_err(Into::into),
        }
    }
    Err(ActionError::Contended(name.to_string()))
}

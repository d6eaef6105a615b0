//! What fleetdeck records when a person changes a run or approves a gate with their own
//! credentials (kubectl on the embedded hub): the same Events the console writes for its own
//! actions, naming the person, and the approver on the approval request. Pure: the server reads
//! the written object and writes what this decides.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::staged::staged_update_run::UpdateRunState;

/// The annotation naming who approved an approval request (console or kubectl).
pub const APPROVED_BY_ANNOTATION: &str = "fleetdeck.dev/approved-by";

const GROUP: &str = "placement.kubernetes-fleet.io";

/// A write the hub accepted from a person, as its audit record names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonWrite<'a> {
    pub user: &'a str,
    /// The RBAC verb: create, update, patch or delete.
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub name: &'a str,
}

/// The object a write is about, read after the write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// A run (`None` when it is already gone, e.g. deleted without finalizers).
    Run(Option<UpdateRunState>),
    /// An approval request: its run and stage, whether it is approved, and the approver the
    /// request already names (an earlier approval, or the console's).
    Approval {
        run: String,
        stage: String,
        approved: bool,
        approved_by: Option<String>,
    },
}

/// What to record about a person's write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribution {
    pub reason: &'static str,
    pub action: &'static str,
    pub message: String,
    /// Set `fleetdeck.dev/approved-by` to this on the approval request.
    pub approved_by: Option<String>,
    /// Record it on this run too (an approval shows in the run's history).
    pub also_on_run: Option<String>,
}

/// Which kind a write is about, when it is one fleetdeck attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    Run,
    Approval,
}

/// The kind `write` is about, if fleetdeck records such writes: the spec of a run (create,
/// change, delete) and the status of an approval request (approve).
pub fn subject(write: &PersonWrite<'_>) -> Option<Subject> {
    if write.group != GROUP {
        return None;
    }
    match (write.resource, write.subresource) {
        ("clusterstagedupdateruns" | "stagedupdateruns", "") => Some(Subject::Run),
        ("clusterapprovalrequests" | "approvalrequests", "status")
            if matches!(write.verb, "update" | "patch") =>
        {
            Some(Subject::Approval)
        }
        _ => None,
    }
}

/// The Event (and annotation) recording `write` on `written`, or `None` when there is nothing
/// to say (not an approval, or one already attributed).
pub fn attribute(write: &PersonWrite<'_>, written: &Written) -> Option<Attribution> {
    let user = write.user;
    let name = write.name;
    let plain = |reason, action, message| Attribution {
        reason,
        action,
        message,
        approved_by: None,
        also_on_run: None,
    };
    match (subject(write)?, written) {
        (Subject::Run, Written::Run(state)) => match write.verb {
            "create" => Some(plain(
                "Created",
                "Create",
                format!(
                    "{user} created run {name} with kubectl{}",
                    state.map(|s| format!(" (state {s:?})")).unwrap_or_default()
                ),
            )),
            "delete" => Some(plain(
                "DeleteRequested",
                "Delete",
                format!("{user} deleted run {name} with kubectl"),
            )),
            "update" | "patch" => {
                let (reason, action, what) = match state {
                    Some(UpdateRunState::Run) => ("RunRequested", "Run", "set it to Run"),
                    Some(UpdateRunState::Stop) => ("StopRequested", "Stop", "set it to Stop"),
                    Some(UpdateRunState::Initialize) | None => ("Changed", "Update", "changed it"),
                };
                Some(plain(
                    reason,
                    action,
                    format!("{user} {what} with kubectl (run {name})"),
                ))
            }
            _ => None,
        },
        (
            Subject::Approval,
            Written::Approval {
                run,
                stage,
                approved: true,
                approved_by: None,
            },
        ) => Some(Attribution {
            reason: "Approved",
            action: "Approve",
            message: format!("{user} approved {name} (stage {stage}) with kubectl"),
            approved_by: Some(user.to_string()),
            also_on_run: Some(run.clone()),
        }),
        _ => None,
    }
}

/// The merge patch naming `user` as the approver on an approval request.
#[derive(Debug, Serialize)]
pub struct ApprovedBy {
    metadata: ObjectMeta,
}

pub fn approved_by(user: &str) -> ApprovedBy {
    ApprovedBy {
        metadata: ObjectMeta {
            annotations: Some(BTreeMap::from([(
                APPROVED_BY_ANNOTATION.to_string(),
                user.to_string(),
            )])),
            ..Default::default()
        },
    }
}

#[cfg(test)]
#[path = "attribution_tests.rs"]
mod tests;

//! The approvals inbox and the Approve action: what a person sees of an approval request and the
//! conditions an approval writes. Pure: the server decides with it, the page renders its rows.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::{Deserialize, Serialize};

use crate::staged::approval::{self, ApprovalRequestSpec, ApprovalRequestStatus};
use crate::types::condition::{find_condition, new_condition, to_utc, types, Time, TRUE};
use crate::types::names;
use crate::{FleetKind, Object};

/// The reason the console writes on the `Approved` condition.
pub const APPROVED_BY_USER: &str = "ApprovedByUser";
/// The longest approval comment accepted, in characters.
pub const MAX_COMMENT_CHARS: usize = 500;

/// One approval request, for the inbox and the run page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApprovalRow {
    pub name: String,
    /// Set for a namespaced ApprovalRequest.
    pub namespace: Option<String>,
    pub run: String,
    pub stage: String,
    /// `before` or `after` the stage.
    pub side: String,
    pub created: Option<DateTime<Utc>>,
    pub state: ApprovalStatus,
    /// The `Approved` condition's message (names the approver when the console wrote it).
    pub approved_message: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ApprovalStatus {
    #[default]
    Pending,
    /// Approved by a person; the run has not accepted it yet.
    Approved,
    /// Accepted by the run: final.
    Accepted,
}

impl ApprovalStatus {
    pub fn label(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "waiting for approval",
            ApprovalStatus::Approved => "approved, not yet accepted by the run",
            ApprovalStatus::Accepted => "accepted",
        }
    }
}

pub fn row<K>(request: &Object<K>) -> ApprovalRow
where
    K: FleetKind<Spec = ApprovalRequestSpec, Status = ApprovalRequestStatus>,
{
    let conditions = conditions_of(request);
    let generation = request.generation();
    let state = if approval::is_accepted(&conditions, generation) {
        ApprovalStatus::Accepted
    } else if approval::is_approved_by_user(&conditions, generation) {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Pending
    };
    let side = match request
        .labels()
        .get(names::TASK_TYPE_LABEL)
        .map(String::as_str)
    {
        Some(names::TASK_TYPE_BEFORE_STAGE) => "before",
        Some(names::TASK_TYPE_AFTER_STAGE) => "after",
        _ => "",
    };
    ApprovalRow {
        name: request.name().to_string(),
        namespace: request.namespace().map(str::to_string),
        run: request.spec.parent_stage_rollout.clone(),
        stage: request.spec.target_stage.clone(),
        side: side.to_string(),
        created: request
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| to_utc(&t.0)),
        state,
        approved_message: find_condition(&conditions, types::APPROVED)
            .filter(|c| c.status == TRUE)
            .map(|c| c.message.clone()),
    }
}

/// Inbox order: what waits for a person first, oldest first within each group.
pub fn inbox_order(rows: &mut [ApprovalRow]) {
    rows.sort_by(|a, b| {
        (
            a.state != ApprovalStatus::Pending,
            a.created,
            &a.namespace,
            &a.name,
        )
            .cmp(&(
                b.state != ApprovalStatus::Pending,
                b.created,
                &b.namespace,
                &b.name,
            ))
    });
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApproveError {
    #[error("this gate was already approved and the run has moved on")]
    Accepted,
    #[error("this gate is already approved ({0}); the run will pick it up")]
    AlreadyApproved(String),
    #[error("a comment is at most {MAX_COMMENT_CHARS} characters, this one has {0}: shorten it")]
    CommentTooLong(usize),
}

/// The request's conditions after `user` approves it: `Approved=True` at the request's current
/// generation (what makes the engine accept it, spec §7.4 — never a hard-coded 1), the comment
/// in its message. Other conditions are kept.
pub fn approve(
    conditions: &[Condition],
    generation: i64,
    user: &str,
    comment: &str,
    now: &Time,
) -> Result<Vec<Condition>, ApproveError> {
    if approval::is_accepted(conditions, generation) {
        return Err(ApproveError::Accepted);
    }
    if approval::is_approved_by_user(conditions, generation) {
        let message = find_condition(conditions, types::APPROVED)
            .map(|c| c.message.clone())
            .unwrap_or_default();
        return Err(ApproveError::AlreadyApproved(message));
    }
    let comment = comment.trim();
    let chars = comment.chars().count();
    if chars > MAX_COMMENT_CHARS {
        return Err(ApproveError::CommentTooLong(chars));
    }
    let message = if comment.is_empty() {
        format!("Approved by {user}")
    } else {
        format!("Approved by {user}: {comment}")
    };
    let mut out: Vec<Condition> = conditions
        .iter()
        .filter(|c| c.type_ != types::APPROVED)
        .cloned()
        .collect();
    out.push(new_condition(
        types::APPROVED,
        TRUE,
        APPROVED_BY_USER,
        &message,
        generation,
        now,
    ));
    Ok(out)
}

fn conditions_of<K>(request: &Object<K>) -> Vec<Condition>
where
    K: FleetKind<Spec = ApprovalRequestSpec, Status = ApprovalRequestStatus>,
{
    request
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::condition::FALSE;

    fn now() -> Time {
        Time("2026-01-12T22:50:00Z".parse().expect("time"))
    }

    #[test]
    fn approving_writes_approved_at_the_current_generation_with_the_approver() {
        let stale = new_condition(types::APPROVED, TRUE, "approved", "approved", 1, &now());
        let out = approve(&[stale], 3, "alice", "  canary looks good ", &now()).expect("approved");
        assert_eq!(
            out.len(),
            1,
            "the stale Approved is replaced, not duplicated"
        );
        assert_eq!(out[0].observed_generation, Some(3));
        assert_eq!(out[0].status, TRUE);
        assert_eq!(out[0].reason, APPROVED_BY_USER);
        assert_eq!(out[0].message, "Approved by alice: canary looks good");
        assert!(approval::is_approved(&out, 3));
        let plain = approve(&[], 1, "bob", "", &now()).expect("approved");
        assert_eq!(plain[0].message, "Approved by bob");
    }

    #[test]
    fn an_approved_or_accepted_gate_refuses_a_second_approval_with_its_reason() {
        let approved = vec![new_condition(
            types::APPROVED,
            TRUE,
            APPROVED_BY_USER,
            "Approved by alice",
            1,
            &now(),
        )];
        assert_eq!(
            approve(&approved, 1, "bob", "", &now()),
            Err(ApproveError::AlreadyApproved("Approved by alice".into()))
        );
        let accepted = vec![
            new_condition(types::APPROVED, FALSE, "changed", "", 1, &now()),
            new_condition(
                types::APPROVAL_ACCEPTED,
                TRUE,
                "ApprovalRequestApprovalAccepted",
                "",
                1,
                &now(),
            ),
        ];
        assert_eq!(
            approve(&accepted, 1, "bob", "", &now()),
            Err(ApproveError::Accepted)
        );
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert_eq!(
            approve(&[], 1, "bob", &long, &now()),
            Err(ApproveError::CommentTooLong(MAX_COMMENT_CHARS + 1))
        );
    }

    #[test]
    fn the_inbox_puts_pending_requests_first_oldest_first() {
        let at = |s: &str| Some(s.parse::<DateTime<Utc>>().expect("time"));
        let mut rows = vec![
            ApprovalRow {
                name: "done".into(),
                state: ApprovalStatus::Accepted,
                created: at("2026-01-01T00:00:00Z"),
                ..Default::default()
            },
            ApprovalRow {
                name: "new".into(),
                created: at("2026-01-03T00:00:00Z"),
                ..Default::default()
            },
            ApprovalRow {
                name: "old".into(),
                created: at("2026-01-02T00:00:00Z"),
                ..Default::default()
            },
        ];
        inbox_order(&mut rows);
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["old", "new", "done"]);
    }
}

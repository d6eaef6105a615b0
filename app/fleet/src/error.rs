//! The domain error type of `app::fleet`: every module's error converts into it.

use thiserror::Error;

use crate::placement::binding_status::MissingField;
use crate::placement::placement_ref::PlacementRefError;
use crate::placement::policy_snapshot::PolicySnapshotError;
use crate::placement::rolling_update::RollingUpdateError;
use crate::placement::snapshot_history::HistoryError;
use crate::staged::concurrency::ConcurrencyError;
use crate::staged::run::RunError;
use crate::staged::run_action::Refused;
use crate::staged::stage_plan::{AtoiError, PlanError, StageTaskError};
use crate::staged::wait_time::DurationError;
use crate::types::label_selector::SelectorError;
use crate::types::selector_text::SelectorSyntaxError;
use crate::upgrade::upgrade_error::UpgradeError;
use crate::validation::staged_update::StateTransitionError;
use crate::views::approval_view::ApproveError;

/// Errors from the pure fleet functions. Messages equal KubeFleet's where one exists (spec §9).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A stage plan could not be computed (spec §9.3 step 4).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A stage's before/after tasks are invalid (spec §7.1).
    #[error(transparent)]
    StageTasks(#[from] StageTaskError),
    /// A sorting label is not an integer.
    #[error(transparent)]
    Integer(#[from] AtoiError),
    /// A label selector is malformed.
    #[error(transparent)]
    Selector(#[from] SelectorError),
    /// A label selector written as text does not read.
    #[error(transparent)]
    SelectorSyntax(#[from] SelectorSyntaxError),
    /// A `waitTime` or other duration does not parse.
    #[error(transparent)]
    Duration(#[from] DurationError),
    /// `maxConcurrency` cannot be turned into a number.
    #[error(transparent)]
    Concurrency(#[from] ConcurrencyError),
    /// `maxUnavailable` cannot be turned into a number.
    #[error(transparent)]
    RollingUpdate(#[from] RollingUpdateError),
    /// A run's `spec.state` change is not allowed (spec §7.2).
    #[error(transparent)]
    StateTransition(#[from] StateTransitionError),
    /// A policy snapshot decision lacks what it needs.
    #[error(transparent)]
    PolicySnapshot(#[from] PolicySnapshotError),
    /// A placement cannot own snapshots or bindings yet.
    #[error(transparent)]
    PlacementRef(#[from] PlacementRefError),
    /// A snapshot object lacks a field every object has.
    #[error(transparent)]
    MissingField(#[from] MissingField),
    /// A staged update run step failed (terminal or retriable).
    #[error(transparent)]
    Run(#[from] RunError),
    /// A console run action does not apply to the run's state.
    #[error(transparent)]
    RunAction(#[from] Refused),
    /// An approval cannot be given.
    #[error(transparent)]
    Approve(#[from] ApproveError),
    /// A resource snapshot cannot be placed in its placement's history.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// An upgrade run (seed 004) is invalid, an action on it is refused, or a member cannot be
    /// upgraded (aks §10, §13).
    #[error(transparent)]
    Upgrade(#[from] UpgradeError),
    /// A JSON value could not be (de)serialised.
    #[error("serialization error: {0}")]
    Serde(String),
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Serde(e.to_string())
    }
}

impl Error {
    /// A short, stable snake_case name of the kind of error, for metric labels.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::Plan(_) => "stage_plan",
            Error::StageTasks(_) => "stage_tasks",
            Error::Integer(_) => "integer",
            Error::Selector(_) => "label_selector",
            Error::SelectorSyntax(_) => "selector_syntax",
            Error::Duration(_) => "duration",
            Error::Concurrency(_) => "max_concurrency",
            Error::RollingUpdate(_) => "max_unavailable",
            Error::StateTransition(_) => "state_transition",
            Error::PolicySnapshot(_) => "policy_snapshot",
            Error::PlacementRef(_) => "placement_ref",
            Error::MissingField(_) => "missing_field",
            Error::Run(_) => "update_run",
            Error::RunAction(_) => "run_action",
            Error::Approve(_) => "approve",
            Error::History(_) => "snapshot_history",
            Error::Upgrade(_) => "upgrade_run",
            Error::Serde(_) => "serialization",
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::staged::staged_update_run::UpdateRunState;

    /// Position of the variant in the enum. Exhaustive, so a new variant fails to compile here
    /// until it also gets a sample below.
    fn ordinal(e: &Error) -> usize {
        match e {
            Error::Plan(_) => 0,
            Error::StageTasks(_) => 1,
            Error::Integer(_) => 2,
            Error::Selector(_) => 3,
            Error::SelectorSyntax(_) => 4,
            Error::Duration(_) => 5,
            Error::Concurrency(_) => 6,
            Error::RollingUpdate(_) => 7,
            Error::StateTransition(_) => 8,
            Error::PolicySnapshot(_) => 9,
            Error::PlacementRef(_) => 10,
            Error::MissingField(_) => 11,
            Error::Run(_) => 12,
            Error::RunAction(_) => 13,
            Error::Approve(_) => 14,
            Error::History(_) => 15,
            Error::Upgrade(_) => 16,
            Error::Serde(_) => 17,
        }
    }

    fn one_of_each() -> Vec<Error> {
        vec![
            PlanError::ClusterInMultipleStages {
                cluster: "m".into(),
            }
            .into(),
            StageTaskError::TooManyBeforeTasks.into(),
            AtoiError::InvalidSyntax("x".into()).into(),
            SelectorError("bad".into()).into(),
            SelectorSyntaxError {
                part: "a in b".into(),
                why: "no parentheses".into(),
            }
            .into(),
            DurationError::Invalid("x".into()).into(),
            ConcurrencyError::TooSmall(0).into(),
            RollingUpdateError::TooSmall(0).into(),
            StateTransitionError {
                from: UpdateRunState::Run,
                to: UpdateRunState::Initialize,
            }
            .into(),
            PolicySnapshotError::NoIndex("p-0".into()).into(),
            PlacementRefError::NoName.into(),
            MissingField("kind").into(),
            RunError::Retriable("later".into()).into(),
            Refused("no".into()).into(),
            ApproveError::Accepted.into(),
            HistoryError::MissingIndex {
                name: "p-0-snapshot".into(),
            }
            .into(),
            UpgradeError::NoStages.into(),
            Error::Serde("eof".into()),
        ]
    }

    #[test]
    fn every_variant_has_its_own_snake_case_metric_label() {
        let errors = one_of_each();
        let ordinals: Vec<usize> = errors.iter().map(ordinal).collect();
        assert_eq!(ordinals, (0..errors.len()).collect::<Vec<_>>());
        let labels: BTreeSet<&str> = errors.iter().map(Error::metric_label).collect();
        assert_eq!(labels.len(), errors.len(), "labels repeat: {labels:?}");
        for label in labels {
            assert!(
                !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{label} is not snake_case"
            );
        }
    }

    #[test]
    fn module_errors_keep_their_text() {
        let e: Error = AtoiError::OutOfRange("9".into()).into();
        assert_eq!(
            e.to_string(),
            "strconv.Atoi: parsing \"9\": value out of range"
        );
    }
}

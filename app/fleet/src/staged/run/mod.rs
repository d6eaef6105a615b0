//! The staged update run state machine (spec §9) without I/O: the engine fetches a [`World`],
//! calls [`step`], and performs the returned [`Step`]'s writes. Time is always a parameter.
//!
//! - [`init`]: initialization (§9.3), once per run.
//! - [`validate`]: validation on every later reconcile (§9.4).
//! - [`exec`]: execute (§9.5) and stop (§9.7), including the approval handshake.
//! - [`step`]: the top of every reconcile (§9.2) tying them together.

pub mod cluster;
pub mod deletion;
pub mod exec;
pub mod init;
pub mod report;
pub mod step;
pub mod stop;
pub mod tasks;
pub mod validate;
pub mod views;

#[cfg(test)]
mod tests;

pub use step::{step, Outcome, Step, StepConfig};
pub use views::{ApprovalView, BindingView, PolicySnapshotView, ResourceSnapshotView, World};

use thiserror::Error;

/// Prefix of every terminal error (spec §9.2 error taxonomy).
pub const ABORTED: &str = "cannot continue the updateRun";
/// Prefix of validation errors; seed 003 shows it on initialization failures too.
pub const VALIDATION_FAILED: &str = "failed to validate the updateRun";
const CLIENT_ERROR: &str = "failed to process the request due to a client error";
const UNEXPECTED: &str = "unexpected behavior which cannot be handled by the controller";

/// A run error: terminal ones fail the run (or its initialization), retriable ones retry.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RunError {
    #[error("{0}")]
    Terminal(String),
    #[error("{0}")]
    Retriable(String),
}

impl RunError {
    /// A terminal user error: `failed to process the request due to a client error: <msg>`.
    pub fn user(msg: impl std::fmt::Display) -> Self {
        RunError::Terminal(format!("{CLIENT_ERROR}: {msg}"))
    }

    /// A terminal invariant error: `unexpected behavior which cannot be handled by the controller: <msg>`.
    pub fn unexpected(msg: impl std::fmt::Display) -> Self {
        RunError::Terminal(format!("{UNEXPECTED}: {msg}"))
    }

    pub fn terminal(msg: impl std::fmt::Display) -> Self {
        RunError::Terminal(msg.to_string())
    }

    pub fn is_terminal(&self) -> bool {
        matches!(self, RunError::Terminal(_))
    }

    /// The condition message of a terminal error raised by validation or initialization.
    pub fn validation_message(&self) -> String {
        format!("{ABORTED}: {VALIDATION_FAILED}: {self}")
    }

    /// The condition message of a terminal error raised while executing or stopping.
    pub fn execution_message(&self) -> String {
        format!("{ABORTED}: {self}")
    }
}

/// Go's `errors.Join`-like aggregate of controller-runtime: one error prints as itself, several
/// as `[e1, e2]` (spec §9.5.A.6).
pub fn aggregate(errors: &[String]) -> String {
    match errors {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// A condition is True. Every condition of a run is re-stamped to the run's generation at the top
/// of a reconcile (spec §9.2 step 2), so the run's own conditions need no generation check.
pub(crate) fn is_true(conditions: &[condition::Condition], type_: &str) -> bool {
    condition::find_condition(conditions, type_).is_some_and(|c| c.status == condition::TRUE)
}

use crate::types::condition;

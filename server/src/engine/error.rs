//! The engine's one error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum Error {
    /// A hub request failed (retried with backoff).
    #[error("hub request failed: {}", describe(.0))]
    Kube(#[from] kube::Error),
    /// A retriable update-run error (spec §9.3/§9.5 "retriable"), e.g. a transient binding state.
    #[error("update run `{run}`: {message}")]
    RunRetry { run: String, message: String },
    /// A placement whose policy the scheduler cannot evaluate (logged and retried; selectors
    /// it cannot follow are reported on the placement instead, as `InvalidResourceSelectors`).
    #[error("placement `{placement}`: {message}")]
    Placement { placement: String, message: String },
    /// An object from the hub lacks a field the engine relies on.
    #[error("invalid object from the hub: {0}")]
    InvalidObject(String),
    /// A cache's watch ended (the controller is stopping).
    #[error("the engine's cache of the hub stopped")]
    CacheStopped,
    /// The engine was configured wrongly (the message says how to fix it).
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The hub's own words for an API error (message, code, reason), without the debug dump of its
/// Status that kube's `Display` appends: this text reaches users in Warning Events.
fn describe(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            format!("{} ({} {})", status.message, status.code, status.reason)
        }
        other => other.to_string(),
    }
}

//! The domain error type of `app::fleet`.

use thiserror::Error;

/// Errors from the pure fleet functions. Messages equal KubeFleet's where one exists (spec §9).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    /// A stage plan could not be computed (spec §9.3 step 4).
    #[error(transparent)]
    Plan(#[from] crate::staged::stage_plan::PlanError),
    /// A label selector is malformed.
    #[error(transparent)]
    Selector(#[from] crate::types::label_selector::SelectorError),
    /// A `waitTime` or other duration does not parse.
    #[error(transparent)]
    Duration(#[from] crate::staged::wait_time::DurationError),
    /// `maxConcurrency` cannot be turned into a number.
    #[error(transparent)]
    Concurrency(#[from] crate::staged::concurrency::ConcurrencyError),
    /// A JSON value could not be (de)serialised.
    #[error("serialization error: {0}")]
    Serde(String),
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Serde(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

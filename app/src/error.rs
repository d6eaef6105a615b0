//! The one error type the dashboard shows to people. Server functions return it, and every page
//! renders it the same way, so a message written on the server reaches the user unchanged.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// The user's input cannot be accepted; the message says what to change.
    #[error("{0}")]
    Invalid(String),
    /// The server could not be reached or answered something unreadable.
    #[error("fleetdeck could not complete the request: {0}")]
    Transport(String),
    /// A server-side dependency (later: the hub) is not available.
    #[error("fleetdeck is not ready: {0}")]
    Unavailable(String),
    /// The hub refused the acting user; the message says which permission is missing.
    #[error("{0}")]
    Forbidden(String),
    /// The object is not there (any more).
    #[error("{0}")]
    NotFound(String),
    /// The object changed since the page showed it, or the action no longer applies.
    #[error("{0}")]
    Conflict(String),
    /// Refused: the request did not come from a fleetdeck page.
    #[error("{0}")]
    CrossSite(String),
    /// Nobody is signed in (or the session ended): sign in and try again.
    #[error("{0}")]
    SignedOut(String),
    /// The hub refused the input, field by field, so a form can show each message by its field.
    #[error("{message}")]
    Rejected {
        message: String,
        causes: Vec<FieldCause>,
    },
}

/// One of the hub's `details.causes[]`: the field (`spec.stages[0].maxConcurrency`) and the
/// hub's message about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldCause {
    pub field: String,
    pub message: String,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments the server could not read (missing, malformed, a foreign encoding) are
            // the caller's mistake: a 422 saying so, where it was a 500 "Transport" error.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                let error =
                    AppError::Invalid(format!("this action cannot read its arguments: {value}"));
                #[cfg(feature = "ssr")]
                let error = respond(error);
                error
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    /// A short, stable snake_case name of the kind of error, for metric labels.
    pub fn metric_label(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid",
            AppError::Transport(_) => "transport",
            AppError::Unavailable(_) => "unavailable",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::CrossSite(_) => "cross_site",
            AppError::Rejected { .. } => "rejected",
            AppError::SignedOut(_) => "signed_out",
        }
    }

    /// The HTTP status a server function answers with when it fails this way.
    pub fn http_status(&self) -> u16 {
        match self {
            AppError::Invalid(_) | AppError::Rejected { .. } => 422,
            AppError::Transport(_) => 502,
            AppError::Unavailable(_) => 503,
            AppError::Forbidden(_) | AppError::CrossSite(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::SignedOut(_) => 401,
        }
    }
}

/// Sets the server function's HTTP status from the error (instead of a blanket 500) and hands the
/// error back, for use as `.map_err(respond)?` in server function bodies.
#[cfg(feature = "ssr")]
pub fn respond(error: AppError) -> AppError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(error.http_status()) {
            response.set_status(status);
        }
    }
    error
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Position of the variant. Exhaustive, so a new variant fails to compile here until it also
    /// gets a sample below.
    fn ordinal(e: &AppError) -> usize {
        match e {
            AppError::Invalid(_) => 0,
            AppError::Transport(_) => 1,
            AppError::Unavailable(_) => 2,
            AppError::Forbidden(_) => 3,
            AppError::NotFound(_) => 4,
            AppError::Conflict(_) => 5,
            AppError::CrossSite(_) => 6,
            AppError::Rejected { .. } => 7,
            AppError::SignedOut(_) => 8,
        }
    }

    #[test]
    fn every_variant_has_its_own_snake_case_metric_label() {
        let m = || String::from("m");
        let errors = [
            AppError::Invalid(m()),
            AppError::Transport(m()),
            AppError::Unavailable(m()),
            AppError::Forbidden(m()),
            AppError::NotFound(m()),
            AppError::Conflict(m()),
            AppError::CrossSite(m()),
            AppError::Rejected {
                message: m(),
                causes: vec![FieldCause {
                    field: "spec.stages[0].maxConcurrency".into(),
                    message: m(),
                }],
            },
            AppError::SignedOut(m()),
        ];
        let ordinals: Vec<usize> = errors.iter().map(ordinal).collect();
        assert_eq!(ordinals, (0..errors.len()).collect::<Vec<_>>());
        let labels: BTreeSet<&str> = errors.iter().map(|e| e.metric_label()).collect();
        assert_eq!(labels.len(), errors.len(), "labels repeat: {labels:?}");
        for label in labels {
            assert!(
                !label.is_empty() && label.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{label} is not snake_case"
            );
        }
    }
}

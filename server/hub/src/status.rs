//! The crate's one error type, and its single mapping to Kubernetes `Status` bodies (spec §7).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One `details.causes[]` entry of a 422 Invalid Status; also what a kind's validation hook returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

impl Cause {
    pub fn new(reason: &str, field: &str, message: impl Into<String>) -> Self {
        Cause {
            reason: reason.into(),
            message: message.into(),
            field: field.into(),
        }
    }
    /// `FieldValueInvalid`, e.g. `Invalid value: "x": must be ...`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new("FieldValueInvalid", field, message)
    }
    /// `FieldValueRequired`, e.g. `Required value: name or generateName is required`.
    pub fn required(field: &str, message: impl Into<String>) -> Self {
        Self::new("FieldValueRequired", field, message)
    }
    /// `FieldValueForbidden`.
    pub fn forbidden(field: &str, message: impl Into<String>) -> Self {
        Self::new("FieldValueForbidden", field, message)
    }
}

/// Identifies the resource an error is about, as the apiserver names it in messages and `details`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub group: String,
    pub plural: String,
    pub kind: String,
    pub name: String,
}

impl Subject {
    /// `configmaps` or `clusterstagedupdateruns.placement.kubernetes-fleet.io`.
    pub(crate) fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
    fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{} \"{}\" not found", .0.qualified_resource(), .0.name)]
    NotFound(Subject),
    #[error("the server could not find the requested resource")]
    NoRoute,
    #[error("{} \"{}\" already exists", .0.qualified_resource(), .0.name)]
    AlreadyExists(Subject),
    #[error("Operation cannot be fulfilled on {} \"{}\": {}", .0.qualified_resource(), .0.name, .1)]
    Conflict(Subject, String),
    #[error("{} \"{}\" is invalid: {}", .0.qualified_kind(), .0.name, render_causes(.1))]
    Invalid(Subject, Vec<Cause>),
    /// A server-side apply that would change fields other managers own (409 with one
    /// `FieldManagerConflict` cause per field, as `errors.NewApplyConflict`).
    #[error("{message}")]
    ApplyConflict { message: String, causes: Vec<Cause> },
    /// A JSON patch that does not apply (422 without causes).
    #[error("{0}")]
    UnprocessablePatch(String),
    #[error("{0}")]
    Forbidden(String),
    /// An authorizer's refusal; `message` is the apiserver's full sentence, the rest `details`.
    #[error("{message}")]
    Denied {
        group: String,
        resource: String,
        name: String,
        message: String,
    },
    #[error("Unauthorized")]
    Unauthorized,
    #[error("too old resource version: {requested} ({oldest})")]
    Expired { requested: u64, oldest: u64 },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the server does not allow this method on the requested resource")]
    MethodNotAllowed,
    #[error("the request is too large: limit is 3145728 bytes")]
    TooLarge,
    /// The client did not send the request's body within the hub's body timeout.
    #[error("the request body was not received within {} s", .0.as_secs_f64())]
    BodyTimeout(std::time::Duration),
    #[error("storage error: {0}")]
    Storage(#[from] rusqlite::Error),
    #[error("internal error: {0}")]
    Internal(String),
    /// The users file cannot be read (at start, never from a request).
    #[error("users file: {0}")]
    Users(String),
    /// The database file is not one the hub can use (at start, never from a request).
    #[error("{0}")]
    Database(String),
    /// A write whose commit failed (the whole group it was committed with failed too): nothing of
    /// it was kept, in memory or on disk. The text says why and what to do.
    #[error("{0}")]
    NotSaved(String),
}

fn render_causes(causes: &[Cause]) -> String {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| {
            if c.field.is_empty() {
                c.message.clone()
            } else {
                format!("{}: {}", c.field, c.message)
            }
        })
        .collect();
    match parts.len() {
        1 => parts[0].clone(),
        _ => format!("[{}]", parts.join(", ")),
    }
}

impl Error {
    /// A short, stable snake_case name of the kind of error, for metric labels.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "bad_request",
            Error::NotFound(_) => "not_found",
            Error::NoRoute => "no_route",
            Error::AlreadyExists(_) => "already_exists",
            Error::Conflict(..) => "conflict",
            Error::ApplyConflict { .. } => "apply_conflict",
            Error::Invalid(..) => "invalid",
            Error::UnprocessablePatch(_) => "unprocessable_patch",
            Error::Forbidden(_) => "forbidden",
            Error::Denied { .. } => "denied",
            Error::Unauthorized => "unauthorized",
            Error::Expired { .. } => "expired",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::TooLarge => "too_large",
            Error::BodyTimeout(_) => "body_timeout",
            Error::Storage(_) => "storage",
            Error::Internal(_) => "internal",
            Error::Users(_) => "users_file",
            Error::Database(_) => "database",
            Error::NotSaved(_) => "not_saved",
        }
    }

    /// 409 for a write whose resourceVersion or precondition no longer matches (spec §3.5).
    pub(crate) fn stale(subject: Subject) -> Error {
        Error::Conflict(
            subject,
            "the object has been modified; please apply your changes to the latest version and try again".into(),
        )
    }

    pub fn code(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) | Error::NoRoute => StatusCode::NOT_FOUND,
            Error::AlreadyExists(_) | Error::Conflict(..) | Error::ApplyConflict { .. } => {
                StatusCode::CONFLICT
            }
            Error::Invalid(..) | Error::UnprocessablePatch(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Forbidden(_) | Error::Denied { .. } => StatusCode::FORBIDDEN,
            Error::Unauthorized => StatusCode::UNAUTHORIZED,
            Error::Expired { .. } => StatusCode::GONE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Error::Storage(_)
            | Error::Internal(_)
            | Error::Users(_)
            | Error::Database(_)
            | Error::NotSaved(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn reason(&self) -> &'static str {
        match self {
            Error::BadRequest(_) => "BadRequest",
            Error::NotFound(_) | Error::NoRoute => "NotFound",
            Error::AlreadyExists(_) => "AlreadyExists",
            Error::Conflict(..) | Error::ApplyConflict { .. } => "Conflict",
            Error::Invalid(..) | Error::UnprocessablePatch(_) => "Invalid",
            Error::Forbidden(_) | Error::Denied { .. } => "Forbidden",
            Error::Unauthorized => "Unauthorized",
            Error::Expired { .. } => "Expired",
            Error::UnsupportedMediaType(_) => "UnsupportedMediaType",
            Error::MethodNotAllowed => "MethodNotAllowed",
            Error::TooLarge => "RequestEntityTooLarge",
            // metav1.StatusReasonTimeout, with HTTP's own code for a client that is too slow.
            Error::BodyTimeout(_) => "Timeout",
            Error::Storage(_)
            | Error::Internal(_)
            | Error::Users(_)
            | Error::Database(_)
            | Error::NotSaved(_) => "InternalError",
        }
    }

    fn details(&self) -> Option<Value> {
        match self {
            // details.kind is the plural for NotFound/AlreadyExists/Conflict (spec §7).
            Error::NotFound(s) | Error::AlreadyExists(s) | Error::Conflict(s, _) => {
                Some(json!({"name": s.name, "group": s.group, "kind": s.plural}))
            }
            Error::ApplyConflict { causes, .. } => Some(json!({ "causes": causes })),
            // ...and the Kind for Invalid; kubectl renders `The <Kind> "<name>" is invalid`.
            Error::Invalid(s, causes) => {
                Some(json!({"name": s.name, "group": s.group, "kind": s.kind, "causes": causes}))
            }
            // As `NewForbidden`: empty fields are left out (a path denial has `details: {}`).
            Error::Denied {
                group,
                resource,
                name,
                ..
            } => {
                let mut d = serde_json::Map::new();
                for (k, v) in [("name", name), ("group", group), ("kind", resource)] {
                    if !v.is_empty() {
                        d.insert(k.into(), json!(v));
                    }
                }
                Some(Value::Object(d))
            }
            _ => None,
        }
    }

    /// The `Status` object, also used in-stream for watch ERROR events (spec §3.8).
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.to_string(), "reason": self.reason(), "code": self.code().as_u16(),
        });
        if let Some(d) = self.details() {
            status["details"] = d;
        }
        status
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if matches!(
            self,
            Error::Storage(_) | Error::Internal(_) | Error::NotSaved(_)
        ) {
            tracing::error!(error = %self, "hub request failed");
        }
        let body = self.to_status().to_string();
        (
            self.code(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// The success Status most built-ins answer a DELETE with (spec §3.7).
pub fn success(details: Value) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details})
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Position of the variant. Exhaustive, so a new variant fails to compile here until it also
    /// gets a sample below.
    fn ordinal(e: &Error) -> usize {
        match e {
            Error::BadRequest(_) => 0,
            Error::NotFound(_) => 1,
            Error::NoRoute => 2,
            Error::AlreadyExists(_) => 3,
            Error::Conflict(..) => 4,
            Error::Invalid(..) => 5,
            Error::UnprocessablePatch(_) => 6,
            Error::Forbidden(_) => 7,
            Error::Unauthorized => 8,
            Error::Expired { .. } => 9,
            Error::UnsupportedMediaType(_) => 10,
            Error::MethodNotAllowed => 11,
            Error::TooLarge => 12,
            Error::Storage(_) => 13,
            Error::Internal(_) => 14,
            Error::Denied { .. } => 15,
            Error::Users(_) => 16,
            Error::Database(_) => 17,
            Error::NotSaved(_) => 18,
            Error::ApplyConflict { .. } => 19,
            Error::BodyTimeout(_) => 20,
        }
    }

    #[test]
    fn every_variant_has_its_own_snake_case_metric_label() {
        let m = || String::from("m");
        let errors = [
            Error::BadRequest(m()),
            Error::NotFound(Subject::default()),
            Error::NoRoute,
            Error::AlreadyExists(Subject::default()),
            Error::Conflict(Subject::default(), m()),
            Error::Invalid(Subject::default(), Vec::new()),
            Error::UnprocessablePatch(m()),
            Error::Forbidden(m()),
            Error::Unauthorized,
            Error::Expired {
                requested: 1,
                oldest: 2,
            },
            Error::UnsupportedMediaType(m()),
            Error::MethodNotAllowed,
            Error::TooLarge,
            Error::Storage(rusqlite::Error::InvalidQuery),
            Error::Internal(m()),
            Error::Denied {
                group: m(),
                resource: m(),
                name: m(),
                message: m(),
            },
            Error::Users(m()),
            Error::Database(m()),
            Error::NotSaved(m()),
            Error::ApplyConflict {
                message: m(),
                causes: Vec::new(),
            },
            Error::BodyTimeout(std::time::Duration::from_secs(1)),
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

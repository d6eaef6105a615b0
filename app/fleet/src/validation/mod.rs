//! Admission validation, one function per kind family, `validate_*(old, new)`: `old` is `None` on
//! create. Messages are the apiserver's for the CRDs' OpenAPI and CEL rules (spec §7) so that the
//! hub, `kubectl` users and the UI see the same text (DESIGN.md "Validation: one source of truth").
//!
//! Formats (apimachinery `field.Error`): `<path>: Required value`, `<path>: Too many: N: must have
//! at most M items`, `<path>: Too long: may not be more than M bytes`, `<path>: Invalid value:
//! "<v>": <path> in body should match '<re>'`, `<path>: Unsupported value: "v": supported values:
//! "a", "b"`, and CEL: `<path>: Invalid value: "<type>": <message>` (`<nil>` for root rules).

use std::fmt;

pub mod approval;
pub mod auto_upgrade;
pub mod cel_rule;
pub mod int_range;
pub mod member_cluster;
pub mod overrides;
pub mod placement;
pub mod staged_update;
pub mod upgrade_run;

pub use approval::validate_approval_request;
pub use auto_upgrade::validate_auto_upgrade_profile;
pub use member_cluster::validate_member_cluster;
pub use overrides::{validate_cluster_resource_override, validate_resource_override};
pub use placement::validate_placement;
pub use staged_update::{validate_staged_update_run, validate_staged_update_strategy};
pub use upgrade_run::{validate_update_run, validate_update_strategy};

/// The kind of a field error, as apimachinery's `field.ErrorType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    Required,
    /// `value` is already rendered (Go `%q` for strings, `"object"`/`"string"` for CEL).
    Invalid {
        value: String,
    },
    TooMany {
        actual: usize,
        max: usize,
    },
    TooLong {
        max: usize,
    },
    Unsupported {
        value: String,
        supported: Vec<String>,
    },
    Forbidden,
}

/// One validation failure on one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub kind: FieldErrorKind,
    pub detail: String,
}

impl FieldError {
    pub fn required(field: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Required,
            detail: String::new(),
        }
    }

    pub fn too_many(field: impl Into<String>, actual: usize, max: usize) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::TooMany { actual, max },
            detail: String::new(),
        }
    }

    pub fn too_long(field: impl Into<String>, max: usize) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::TooLong { max },
            detail: String::new(),
        }
    }

    /// OpenAPI `pattern` failure.
    pub fn pattern(field: impl Into<String>, value: &str, pattern: &str) -> Self {
        let field = field.into();
        let detail = format!("{field} in body should match '{pattern}'");
        FieldError {
            field,
            kind: FieldErrorKind::Invalid {
                value: format!("{value:?}"),
            },
            detail,
        }
    }

    /// OpenAPI `minItems` failure.
    pub fn too_few(field: impl Into<String>, actual: usize, min: usize) -> Self {
        let field = field.into();
        let detail = format!("{field} in body should have at least {min} items");
        FieldError {
            field,
            kind: FieldErrorKind::Invalid {
                value: actual.to_string(),
            },
            detail,
        }
    }

    /// OpenAPI `minimum` / `maximum` failure.
    pub fn out_of_range(
        field: impl Into<String>,
        value: i64,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Self {
        let field = field.into();
        let detail = match (min, max) {
            (Some(min), _) if value < min => {
                format!("{field} in body should be greater than or equal to {min}")
            }
            (_, Some(max)) => format!("{field} in body should be less than or equal to {max}"),
            _ => String::new(),
        };
        FieldError {
            field,
            kind: FieldErrorKind::Invalid {
                value: value.to_string(),
            },
            detail,
        }
    }

    /// A CEL `x-kubernetes-validations` rule failure on a value of CEL type `cel_type`.
    pub fn cel(field: impl Into<String>, cel_type: &str, message: &str) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Invalid {
                value: format!("{cel_type:?}"),
            },
            detail: message.to_string(),
        }
    }

    pub fn unsupported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Unsupported {
                value: value.to_string(),
                supported: supported.iter().map(|s| s.to_string()).collect(),
            },
            detail: String::new(),
        }
    }

    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Forbidden,
            detail: detail.to_string(),
        }
    }

    /// The part after `<field>: `.
    pub fn body(&self) -> String {
        let with_detail = |head: String| {
            if self.detail.is_empty() {
                head
            } else {
                format!("{head}: {}", self.detail)
            }
        };
        match &self.kind {
            FieldErrorKind::Required => with_detail("Required value".into()),
            FieldErrorKind::Invalid { value } => with_detail(format!("Invalid value: {value}")),
            FieldErrorKind::TooMany { actual, max } => {
                format!("Too many: {actual}: must have at most {max} items")
            }
            FieldErrorKind::TooLong { max } => {
                format!("Too long: may not be more than {max} bytes")
            }
            FieldErrorKind::Unsupported { value, supported } => {
                let list = supported
                    .iter()
                    .map(|s| format!("{s:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("Unsupported value: {value:?}: supported values: {list}")
            }
            FieldErrorKind::Forbidden => with_detail("Forbidden".into()),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

impl std::error::Error for FieldError {}

/// The field path of CEL rules placed on the object root.
pub const ROOT: &str = "<nil>";

/// Turns collected errors into the `Result` every validator returns.
pub(crate) fn finish(errors: Vec<FieldError>) -> Result<(), Vec<FieldError>> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Message of the root CEL rule `size(self.metadata.name) < 64` (spec §6, §7.2).
pub const MSG_NAME_MAX_63: &str = "metadata.name max length is 63";

/// The root rule on the names of runs and member clusters (spec §6, §7.2).
pub const NAME_MAX_63: cel_rule::CelRule<str> = cel_rule::CelRule {
    cel: cel_rule::Cel {
        rule: "size(self.metadata.name) < 64",
        message: MSG_NAME_MAX_63,
        field_path: None,
        cel_type: "object",
    },
    holds: |name| name.len() < 64,
};

/// [`NAME_MAX_63`] on an object named `name`.
pub(crate) fn check_name_max_63(name: &str, errors: &mut Vec<FieldError>) {
    NAME_MAX_63.check(ROOT, name, errors);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_match_the_apiserver() {
        assert_eq!(
            FieldError::too_many("spec.stages", 32, 31).to_string(),
            "spec.stages: Too many: 32: must have at most 31 items"
        );
        assert_eq!(
            FieldError::pattern("spec.stages[0].name", "dev-clusters", "^[a-z0-9]+$").to_string(),
            "spec.stages[0].name: Invalid value: \"dev-clusters\": spec.stages[0].name in body should match '^[a-z0-9]+$'"
        );
        assert_eq!(
            FieldError::unsupported("spec.state", "Bogus", &["Initialize", "Run", "Stop"]).to_string(),
            "spec.state: Unsupported value: \"Bogus\": supported values: \"Initialize\", \"Run\", \"Stop\""
        );
        assert_eq!(
            FieldError::required("spec.placementName").to_string(),
            "spec.placementName: Required value"
        );
        assert_eq!(
            FieldError::too_long("spec.stages[0].name", 63).to_string(),
            "spec.stages[0].name: Too long: may not be more than 63 bytes"
        );
        assert_eq!(
            FieldError::cel("spec.placementName", "string", "placementName is immutable")
                .to_string(),
            "spec.placementName: Invalid value: \"string\": placementName is immutable"
        );
    }
}

//! A CEL rule of the CRDs, declared once (DESIGN.md "Validation: one source of truth"): its CEL
//! text, message and `fieldPath` go into the CRD's `x-kubernetes-validations`
//! (`crate::crd`), and its Rust twin, declared next to it, runs in the validators and
//! reports the error the apiserver reports for that rule (spec §7):
//! `<path>: Invalid value: "<type>": <message>`.
//!
//! Rules whose message depends on the object (the PickN/PickFixed field rules) are data of their
//! own, [`super::placement::PolicyRule`], rendered both ways the same way.

use serde_json::{json, Value};

use super::FieldError;

/// What a rule puts into the CRD, and how its error reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cel {
    /// The CEL expression; true means the object is valid.
    pub rule: &'static str,
    /// The message, verbatim from spec §7 where the spec quotes one.
    pub message: &'static str,
    /// `fieldPath`: where, below the node the rule sits on, the error is reported (`.strategy`).
    pub field_path: Option<&'static str>,
    /// The CEL type of the node the rule sits on, as the apiserver prints it in the error:
    /// `object`, `string`, `array`, or empty for an int-or-string.
    pub cel_type: &'static str,
}

impl Cel {
    /// The `x-kubernetes-validations` entry.
    pub fn to_json(&self) -> Value {
        let mut v = json!({"rule": self.rule, "message": self.message});
        if let (Some(path), Some(map)) = (self.field_path, v.as_object_mut()) {
            map.insert("fieldPath".into(), json!(path));
        }
        v
    }

    /// The error of this rule on the node at `path` (e.g. `spec.stages[0].maxConcurrency`).
    pub fn error(&self, path: &str) -> FieldError {
        let field = match self.field_path {
            Some(sub) => format!("{path}{sub}"),
            None => path.to_string(),
        };
        FieldError::cel(field, self.cel_type, self.message)
    }
}

/// A rule on one value of type `T` (the node it sits on).
pub struct CelRule<T: ?Sized> {
    pub cel: Cel,
    /// The Rust twin of [`Cel::rule`].
    pub holds: fn(&T) -> bool,
}

impl<T: ?Sized> CelRule<T> {
    /// Pushes this rule's error for the node at `path` when `value` breaks the rule.
    pub fn check(&self, path: &str, value: &T, errors: &mut Vec<FieldError>) {
        if !(self.holds)(value) {
            errors.push(self.cel.error(path));
        }
    }
}

/// A transition rule (one that reads `oldSelf`): the apiserver runs it on update only, and only
/// when the node is present in both the old and the new object.
pub struct TransitionRule<T: ?Sized> {
    pub cel: Cel,
    /// The Rust twin of [`Cel::rule`], on `(old, new)`.
    pub holds: fn(&T, &T) -> bool,
}

impl<T: ?Sized> TransitionRule<T> {
    /// Pushes this rule's error for the node at `path` when the change breaks the rule.
    pub fn check(&self, path: &str, old: &T, new: &T, errors: &mut Vec<FieldError>) {
        if !(self.holds)(old, new) {
            errors.push(self.cel.error(path));
        }
    }
}

impl<T: PartialEq + ?Sized> TransitionRule<T> {
    /// `self == oldSelf` on a node of CEL type `cel_type`.
    pub const fn immutable(message: &'static str, cel_type: &'static str) -> Self {
        TransitionRule {
            cel: Cel {
                rule: "self == oldSelf",
                message,
                field_path: None,
                cel_type,
            },
            holds: <T as PartialEq>::eq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSITIVE: CelRule<i64> = CelRule {
        cel: Cel {
            rule: "self >= 1",
            message: "must be at least 1",
            field_path: None,
            cel_type: "integer",
        },
        holds: |n| *n >= 1,
    };

    #[test]
    fn a_rule_renders_for_the_crd_and_reports_the_apiserver_error() {
        assert_eq!(
            POSITIVE.cel.to_json(),
            json!({"rule": "self >= 1", "message": "must be at least 1"})
        );
        let mut errors = Vec::new();
        POSITIVE.check("spec.n", &1, &mut errors);
        assert!(errors.is_empty());
        POSITIVE.check("spec.n", &0, &mut errors);
        assert_eq!(
            errors[0].to_string(),
            "spec.n: Invalid value: \"integer\": must be at least 1"
        );
    }

    #[test]
    fn a_field_path_moves_the_error_below_the_node() {
        let rule: TransitionRule<str> = TransitionRule {
            cel: Cel {
                field_path: Some(".name"),
                ..TransitionRule::<str>::immutable("name is immutable", "string").cel
            },
            holds: |a, b| a == b,
        };
        assert_eq!(rule.cel.to_json()["fieldPath"], ".name");
        let mut errors = Vec::new();
        rule.check("spec", "a", "a", &mut errors);
        assert!(errors.is_empty());
        rule.check("spec", "a", "b", &mut errors);
        assert_eq!(
            errors[0].to_string(),
            "spec.name: Invalid value: \"string\": name is immutable"
        );
    }

    #[test]
    fn immutable_is_self_equals_old_self() {
        let rule = TransitionRule::<String>::immutable("x is immutable", "string");
        assert_eq!(
            rule.cel.to_json(),
            json!({"rule": "self == oldSelf", "message": "x is immutable"})
        );
        assert!((rule.holds)(&"a".into(), &"a".into()));
        assert!(!(rule.holds)(&"a".into(), &"b".into()));
    }
}

//! An integer field's OpenAPI `minimum` / `maximum`, declared once: the CRD carries the keywords
//! (`crate::crd`) and [`IntRange::check`] reports the apiserver's error for them.

use super::FieldError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
}

impl IntRange {
    /// Pushes the error for `value` at `path` when it is out of range (below the minimum first).
    pub fn check(&self, path: &str, value: i64, errors: &mut Vec<FieldError>) {
        if self.minimum.is_some_and(|min| value < min) {
            errors.push(FieldError::out_of_range(path, value, self.minimum, None));
        } else if self.maximum.is_some_and(|max| value > max) {
            errors.push(FieldError::out_of_range(path, value, None, self.maximum));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_bound_that_is_crossed() {
        let range = IntRange {
            minimum: Some(1),
            maximum: Some(600),
        };
        let mut errors = Vec::new();
        for ok in [1, 600] {
            range.check("spec.n", ok, &mut errors);
        }
        assert!(errors.is_empty());
        range.check("spec.n", 0, &mut errors);
        range.check("spec.n", 601, &mut errors);
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            messages,
            [
                "spec.n: Invalid value: 0: spec.n in body should be greater than or equal to 1",
                "spec.n: Invalid value: 601: spec.n in body should be less than or equal to 600",
            ]
        );
        let unbounded_above = IntRange {
            minimum: Some(0),
            maximum: None,
        };
        unbounded_above.check("spec.m", i64::MAX, &mut errors);
        assert_eq!(errors.len(), 2);
    }
}

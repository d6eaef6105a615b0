//! Generic CRD enforcement (DESIGN.md "Validation: one source of truth"; spec §7): a kind may carry
//! its CRD version's `openAPIV3Schema`, and every write is defaulted and validated against it like
//! kube-apiserver does — structural checks here (`structural.rs`), `x-kubernetes-validations` CEL
//! rules (transition rules with `oldSelf` included) through kube-cel.
//!
//! Updates ratchet like kube-apiserver ≥ 1.30 (CRDValidationRatcheting): an error on a value the
//! update did not change is dropped, so objects stored before a rule existed stay writable.

mod cel;
mod defaults;
mod structural;

use serde_json::Value;

use crate::status::Cause;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Field(String),
    Index(usize),
    Key(String),
}

/// A field path rendered like apimachinery's `field.Path`: `spec.stages[0].name`, `data[key]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldPath(Vec<Seg>);

impl FieldPath {
    fn push_field(&mut self, k: &str) {
        self.0.push(Seg::Field(k.into()));
    }
    fn push_index(&mut self, i: usize) {
        self.0.push(Seg::Index(i));
    }
    fn push_key(&mut self, k: &str) {
        self.0.push(Seg::Key(k.into()));
    }
    fn pop(&mut self) {
        self.0.pop();
    }
    fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    fn render(&self) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Field(f) if s.is_empty() => s.push_str(f),
                Seg::Field(f) => {
                    s.push('.');
                    s.push_str(f);
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
                Seg::Key(k) => s.push_str(&format!("[{k}]")),
            }
        }
        s
    }
    /// Parses kube-cel's `spec.stages[0].name` form (map keys come out as fields there).
    fn parse(s: &str) -> FieldPath {
        let mut segs = Vec::new();
        for part in s.split('.').filter(|p| !p.is_empty()) {
            let (field, mut rest) = part.split_once('[').map_or((part, ""), |(f, r)| (f, r));
            if !field.is_empty() {
                segs.push(Seg::Field(field.into()));
            }
            while !rest.is_empty() {
                let (inner, after) = rest.split_once(']').unwrap_or((rest, ""));
                segs.push(match inner.parse() {
                    Ok(i) => Seg::Index(i),
                    Err(_) => Seg::Key(inner.into()),
                });
                rest = after.strip_prefix('[').unwrap_or(after);
            }
        }
        FieldPath(segs)
    }
    fn lookup<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        self.0.iter().try_fold(v, |v, seg| match seg {
            Seg::Field(k) | Seg::Key(k) => v.get(k.as_str()),
            Seg::Index(i) => v.get(*i),
        })
    }
}

/// One failed check, before ratcheting decides whether it stands.
pub(crate) struct Violation {
    path: FieldPath,
    cause: Cause,
    /// Whether an unchanged value excuses it (not for transition rules, which compare versions).
    ratchets: bool,
}

/// A CRD version's `openAPIV3Schema`, with its CEL rules compiled once.
pub struct OpenApiSchema {
    raw: Value,
    /// Where the CEL rules are; `None` when the schema has none.
    cel: Option<cel::CelNode>,
    /// Where the defaults are; `None` when the schema has none.
    defaults: Option<defaults::Defaults>,
}

impl std::fmt::Debug for OpenApiSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApiSchema")
            .field("raw", &self.raw)
            .finish()
    }
}

impl OpenApiSchema {
    pub fn new(raw: Value) -> Self {
        let cel = cel::CelNode::build(&raw);
        let defaults = defaults::Defaults::of(&raw);
        OpenApiSchema { raw, cel, defaults }
    }

    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Fills in the schema's `default`s in place, as the apiserver does when it decodes a request
    /// body; metadata is never defaulted from the CRD schema.
    pub fn apply_defaults(&self, obj: &mut Value) {
        if let Some(d) = &self.defaults {
            d.apply(obj, Some("metadata"));
        }
    }

    /// Validates `new` (already defaulted); `old` is the stored object on update.
    pub fn validate(&self, old: Option<&Value>, new: &Value) -> Vec<Cause> {
        let mut found = Vec::new();
        structural::Walker { out: &mut found }.walk(&self.raw, new, &mut FieldPath::default());
        // Type errors block CEL evaluation, as upstream's hasBlockingErr.
        let blocking = found
            .iter()
            .any(|v| v.cause.message.contains("must be of type"));
        if !blocking {
            self.cel_violations(old, new, &mut found);
        }
        found
            .into_iter()
            .filter(|v| {
                let Some(old) = old.filter(|_| v.ratchets) else {
                    return true;
                };
                v.path.lookup(old) != v.path.lookup(new)
            })
            .map(|v| v.cause)
            .collect()
    }

    fn cel_violations(&self, old: Option<&Value>, new: &Value, out: &mut Vec<Violation>) {
        let Some(cel) = &self.cel else {
            return;
        };
        for e in &cel.validate(new, old) {
            match e.kind {
                // This CEL build has no `type()`, so a rule such as maxConcurrency's
                // `type(self) != int || self >= 1` fails with "No such overload" on valid data.
                // Such rules are skipped (the model's own check still runs) instead of rejecting.
                kube_cel::ErrorKind::EvaluationError if unsupported_by_engine(&e.message) => {
                    tracing::debug!(rule = %e.rule, error = %e.message, "CRD rule skipped");
                    continue;
                }
                kube_cel::ErrorKind::ValidationFailure
                | kube_cel::ErrorKind::InvalidResult
                | kube_cel::ErrorKind::EvaluationError => {}
                // A rule this CEL build cannot run is not enforced rather than failing every write.
                _ => {
                    tracing::debug!(rule = %e.rule, error = %e.message, "CRD rule skipped");
                    continue;
                }
            }
            let path = FieldPath::parse(&e.field_path);
            let (declared_at, type_) = self.rule_node(&path, &e.rule);
            let field = path.render();
            let quoted = format!("{type_:?}");
            let cause = match e.reason.as_deref() {
                Some("FieldValueForbidden") => {
                    Cause::forbidden(&field, format!("Forbidden: {}", e.message))
                }
                Some("FieldValueRequired") => {
                    Cause::required(&field, format!("Required value: {}", e.message))
                }
                Some("FieldValueDuplicate") => Cause::new(
                    "FieldValueDuplicate",
                    &field,
                    format!("Duplicate value: {quoted}"),
                ),
                _ => Cause::invalid(&field, format!("Invalid value: {quoted}: {}", e.message)),
            };
            out.push(Violation {
                path: declared_at,
                cause,
                ratchets: !e.rule.contains("oldSelf"),
            });
        }
    }

    /// The schema node that declares `rule` along `path` (a rule's `fieldPath` may point below
    /// it), and that node's type, which the apiserver prints as the invalid value.
    fn rule_node(&self, path: &FieldPath, rule: &str) -> (FieldPath, String) {
        let declares = |s: &Value| {
            s.get("x-kubernetes-validations")
                .and_then(Value::as_array)
                .is_some_and(|rs| {
                    rs.iter()
                        .any(|r| r.get("rule").and_then(Value::as_str) == Some(rule))
                })
        };
        let type_of = |s: &Value| {
            s.get("type")
                .and_then(Value::as_str)
                .unwrap_or("object")
                .to_string()
        };
        let mut node = &self.raw;
        let mut best = (FieldPath::default(), type_of(node));
        let mut walked = FieldPath::default();
        for seg in &path.0 {
            let next = match seg {
                Seg::Field(k) | Seg::Key(k) => node
                    .get("properties")
                    .and_then(|p| p.get(k.as_str()))
                    .or_else(|| node.get("additionalProperties")),
                Seg::Index(_) => node.get("items"),
            };
            let Some(next) = next else { break };
            node = next;
            walked.0.push(seg.clone());
            if declares(node) {
                best = (walked.clone(), type_of(node));
            }
        }
        if !declares(&self.raw) && best.0.is_root() {
            best = (walked, type_of(node));
        }
        best
    }
}

/// Evaluation errors that come from what this CEL engine lacks, not from the object.
fn unsupported_by_engine(message: &str) -> bool {
    message.contains("No such overload")
        || message.contains("Undeclared reference")
        || message.contains("Unknown function")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_round_trip() {
        for p in ["spec.stages[0].name", "spec", "a.b[2][3].c", "data[key]"] {
            assert_eq!(FieldPath::parse(p).render(), p);
        }
        let v = serde_json::json!({"spec": {"stages": [{"name": "x"}]}});
        assert_eq!(
            FieldPath::parse("spec.stages[0].name").lookup(&v),
            Some(&Value::from("x"))
        );
    }
}

//! Per-resource diff between two resource snapshots (the dashboard's compare/rollback view),
//! unified and side-by-side, computed with `similar`. Resources are rendered as pretty JSON by
//! [`render`]; callers wanting YAML can diff their own renderings with [`unified`] / [`side_by_side`].

use std::collections::BTreeMap;

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// Identity of a selected resource: `apiVersion`, `kind`, namespace, name.
pub type ResourceKey = (String, String, String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Removed,
    Modified,
    Unchanged,
}

/// One resource's change between the old and the new snapshot.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceDiff {
    pub key: ResourceKey,
    pub change: Change,
    pub old_text: String,
    pub new_text: String,
}

impl ResourceDiff {
    /// `git diff`-style text with 3 lines of context.
    pub fn unified(&self) -> String {
        unified(&self.old_text, &self.new_text, &label(&self.key))
    }

    pub fn side_by_side(&self) -> Vec<SideBySideRow> {
        side_by_side(&self.old_text, &self.new_text)
    }
}

fn label(key: &ResourceKey) -> String {
    let (api_version, kind, ns, name) = key;
    if ns.is_empty() {
        format!("{api_version}/{kind}/{name}")
    } else {
        format!("{api_version}/{kind}/{ns}/{name}")
    }
}

fn key_of(v: &Value) -> ResourceKey {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    (
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/namespace"),
        s("/metadata/name"),
    )
}

/// Stable text of one resource (pretty JSON, keys sorted).
pub fn render(v: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(v)).unwrap_or_default();
    text.push('\n');
    text
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let ordered: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Diffs two selected-resource lists, matched by resource identity, sorted by identity.
pub fn diff_resources(old: &[Value], new: &[Value]) -> Vec<ResourceDiff> {
    let index = |list: &[Value]| -> BTreeMap<ResourceKey, String> {
        list.iter().map(|v| (key_of(v), render(v))).collect()
    };
    let (old, new) = (index(old), index(new));
    let mut keys: Vec<&ResourceKey> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let o = old.get(k).cloned().unwrap_or_default();
            let n = new.get(k).cloned().unwrap_or_default();
            let change = match (old.contains_key(k), new.contains_key(k)) {
                (false, _) => Change::Added,
                (_, false) => Change::Removed,
                _ if o == n => Change::Unchanged,
                _ => Change::Modified,
            };
            ResourceDiff {
                key: k.clone(),
                change,
                old_text: o,
                new_text: n,
            }
        })
        .collect()
}

pub fn unified(old: &str, new: &str, name: &str) -> String {
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// One row of a side-by-side view: old line (number, text) | new line (number, text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideBySideRow {
    pub tag: RowTag,
    pub old: Option<(usize, String)>,
    pub new: Option<(usize, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowTag {
    Equal,
    Delete,
    Insert,
    Replace,
}

/// Pairs deletions with the insertions that follow them so a changed line sits next to its
/// replacement.
pub fn side_by_side(old: &str, new: &str) -> Vec<SideBySideRow> {
    let diff = TextDiff::from_lines(old, new);
    let mut rows = Vec::new();
    for op in diff.ops() {
        let (mut dels, mut ins) = (Vec::new(), Vec::new());
        for change in diff.iter_changes(op) {
            let line = change.value().trim_end_matches('\n').to_string();
            match change.tag() {
                ChangeTag::Equal => rows.push(SideBySideRow {
                    tag: RowTag::Equal,
                    old: change.old_index().map(|i| (i + 1, line.clone())),
                    new: change.new_index().map(|i| (i + 1, line)),
                }),
                ChangeTag::Delete => dels.push(change.old_index().map(|i| (i + 1, line))),
                ChangeTag::Insert => ins.push(change.new_index().map(|i| (i + 1, line))),
            }
        }
        for i in 0..dels.len().max(ins.len()) {
            let old = dels.get(i).cloned().flatten();
            let new = ins.get(i).cloned().flatten();
            let tag = match (&old, &new) {
                (Some(_), Some(_)) => RowTag::Replace,
                (Some(_), None) => RowTag::Delete,
                _ => RowTag::Insert,
            };
            rows.push(SideBySideRow { tag, old, new });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(value: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "test-cm", "namespace": "test-namespace"}, "data": {"key": value}})
    }

    fn ns() -> Value {
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "test-namespace"}})
    }

    #[test]
    fn rollback_diff_between_seed_snapshots() {
        let old = vec![ns(), cm("value1")];
        let new = vec![
            cm("value2"),
            ns(),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "test-namespace"}}),
        ];
        let diffs = diff_resources(&old, &new);
        let summary: Vec<(&str, Change)> =
            diffs.iter().map(|d| (d.key.1.as_str(), d.change)).collect();
        assert_eq!(
            summary,
            [
                ("ConfigMap", Change::Modified),
                ("Namespace", Change::Unchanged),
                ("Secret", Change::Added)
            ]
        );
        let u = diffs[0].unified();
        assert!(
            u.contains("--- a/v1/ConfigMap/test-namespace/test-cm"),
            "{u}"
        );
        assert!(
            u.contains("-    \"key\": \"value1\"") && u.contains("+    \"key\": \"value2\""),
            "{u}"
        );
        let rows = diffs[0].side_by_side();
        let replaced: Vec<&SideBySideRow> =
            rows.iter().filter(|r| r.tag == RowTag::Replace).collect();
        assert_eq!(replaced.len(), 1);
        assert_eq!(
            replaced[0].old.as_ref().map(|(_, l)| l.trim()),
            Some("\"key\": \"value1\"")
        );
        assert_eq!(
            replaced[0].new.as_ref().map(|(_, l)| l.trim()),
            Some("\"key\": \"value2\"")
        );
        assert!(diff_resources(&new, &old)
            .iter()
            .any(|d| d.change == Change::Removed));
    }
}

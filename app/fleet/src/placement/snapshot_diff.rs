//! Per-resource diff between two resource snapshots (the dashboard's compare/rollback view),
//! unified and side-by-side, computed with `similar` over each resource's YAML ([`render`]).
//! Fields the API server manages (uid, resourceVersion, managedFields, status, …) are noise in
//! a comparison of what was placed: [`strip_noise`] hides them unless asked to show them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

/// Identity of a selected resource: `apiVersion`, `kind`, namespace, name.
pub type ResourceKey = (String, String, String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    Added,
    Removed,
    Modified,
    Unchanged,
}

/// One resource's change between the old and the new snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// Stable text of one resource: YAML as `kubectl get -o yaml` lays it out (keys sorted).
pub fn render(v: &Value) -> String {
    crate::types::yaml::to_yaml(v)
}

/// `metadata` fields the API server sets; they differ between any two copies of an object and
/// say nothing about what was placed.
pub const NOISE_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "managedFields",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// Annotations written by tools rather than people (`last-applied-configuration` repeats the
/// object itself; the Deployment revision is the controller's counter).
pub const NOISE_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// The resource without server-managed fields: [`NOISE_METADATA`], [`NOISE_ANNOTATIONS`] (an
/// emptied `annotations` goes too) and the whole `status`.
pub fn strip_noise(v: &Value) -> Value {
    let mut v = v.clone();
    if let Value::Object(top) = &mut v {
        top.remove("status");
        if let Some(Value::Object(meta)) = top.get_mut("metadata") {
            for field in NOISE_METADATA {
                meta.remove(*field);
            }
            if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
                for a in NOISE_ANNOTATIONS {
                    annotations.remove(*a);
                }
                if annotations.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
    v
}

/// How to compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffOptions {
    /// Keep the server-managed fields that [`strip_noise`] removes.
    pub show_noise: bool,
}

/// Counts over a diff, for its headline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSummary {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub unchanged: usize,
}

pub fn summary(diffs: &[ResourceDiff]) -> DiffSummary {
    let mut s = DiffSummary::default();
    for d in diffs {
        match d.change {
            Change::Added => s.added += 1,
            Change::Removed => s.removed += 1,
            Change::Modified => s.changed += 1,
            Change::Unchanged => s.unchanged += 1,
        }
    }
    s
}

/// Diffs two selected-resource lists, matched by resource identity, sorted by identity.
pub fn diff_resources(old: &[Value], new: &[Value], options: DiffOptions) -> Vec<ResourceDiff> {
    let text = |v: &Value| {
        if options.show_noise {
            render(v)
        } else {
            render(&strip_noise(v))
        }
    };
    let index = |list: &[Value]| -> BTreeMap<ResourceKey, String> {
        list.iter().map(|v| (key_of(v), text(v))).collect()
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SideBySideRow {
    pub tag: RowTag,
    pub old: Option<(usize, String)>,
    pub new: Option<(usize, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        let diffs = diff_resources(&old, &new, DiffOptions::default());
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
            u.contains("-  key: value1\n") && u.contains("+  key: value2\n"),
            "{u}"
        );
        let rows = diffs[0].side_by_side();
        let replaced: Vec<&SideBySideRow> =
            rows.iter().filter(|r| r.tag == RowTag::Replace).collect();
        assert_eq!(replaced.len(), 1);
        assert_eq!(
            replaced[0].old.as_ref().map(|(_, l)| l.trim()),
            Some("key: value1")
        );
        assert_eq!(
            replaced[0].new.as_ref().map(|(_, l)| l.trim()),
            Some("key: value2")
        );
        assert!(diff_resources(&new, &old, DiffOptions::default())
            .iter()
            .any(|d| d.change == Change::Removed));
    }

    #[test]
    fn server_managed_fields_are_hidden_unless_asked_for() {
        let placed = cm("value1");
        let mut read_back = placed.clone();
        read_back["metadata"]["uid"] = json!("0b1c");
        read_back["metadata"]["resourceVersion"] = json!("42");
        read_back["metadata"]["managedFields"] = json!([{"manager": "kubectl"}]);
        read_back["metadata"]["annotations"] =
            json!({"kubectl.kubernetes.io/last-applied-configuration": "{}", "team": "web"});
        read_back["status"] = json!({"phase": "Active"});
        let quiet = diff_resources(
            std::slice::from_ref(&placed),
            &[read_back.clone()],
            DiffOptions::default(),
        );
        assert_eq!(
            quiet[0].change,
            Change::Modified,
            "the team annotation is real"
        );
        let u = quiet[0].unified();
        assert!(u.contains("+    team: web"), "{u}");
        for noise in [
            "uid",
            "resourceVersion",
            "managedFields",
            "last-applied",
            "status",
        ] {
            assert!(!u.contains(noise), "{noise} shown by default:\n{u}");
        }
        let loud = diff_resources(&[placed], &[read_back], DiffOptions { show_noise: true });
        let u = loud[0].unified();
        for noise in [
            "uid: \"0b1c\"",
            "resourceVersion: \"42\"",
            "managedFields:",
            "status:",
        ] {
            assert!(u.contains(noise), "{noise} hidden when asked for:\n{u}");
        }
        let mut only_noise = cm("value1");
        only_noise["metadata"]["uid"] = json!("x");
        let same = diff_resources(&[cm("value1")], &[only_noise], DiffOptions::default());
        assert_eq!(summary(&same).unchanged, 1, "noise alone is no change");
    }
}

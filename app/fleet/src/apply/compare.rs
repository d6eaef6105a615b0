//! Comparing a manifest with the object a member holds (placement-extras §2.7): both are cleaned
//! of what the API server or Fleet itself writes, then diffed as KubeFleet's JSON diff does, and
//! each operation becomes a [`PatchDetail`]. The spec hash the pre-apply drift check keys on is
//! taken over the cleaned manifest.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::OWNER_LABEL;

/// At most this many details per object (KubeFleet's limit).
pub const MAX_DETAILS: usize = 100;
/// What a Secret's `data`/`stringData` values read as in a detail.
pub const REDACTED: &str = "(redacted for security reasons)";
/// The diff reported for an object the member does not have.
pub const WHOLE_OBJECT: &str = "(the whole object)";

/// One difference between the hub's manifest and the member's object, at a JSON-pointer `path`.
/// A value only in the member has no `valueInHub`, a value only in the hub no `valueInMember`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchDetail {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_in_member: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_in_hub: Option<String>,
}

/// Label and annotation keys Kubernetes or Fleet own: left out of every comparison.
const RESERVED_DOMAINS: [&str; 3] = ["kubernetes.io/", "k8s.io/", "kubernetes-fleet.io/"];
/// Metadata the API server writes (or the hub's copy names) rather than the user.
const SERVER_METADATA: [&str; 12] = [
    "name",
    "namespace",
    "generateName",
    "finalizers",
    "managedFields",
    "ownerReferences",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "resourceVersion",
    "selfLink",
    "uid",
];

/// An object as it is compared and hashed: server-written metadata, `status`, creation
/// timestamps and reserved labels and annotations removed (placement-extras §2.7). Labels or
/// annotations left empty are dropped, so an object without any equals one with `{}`.
pub fn cleaned(object: &Value) -> Value {
    let mut object = object.clone();
    let Some(fields) = object.as_object_mut() else {
        return object;
    };
    fields.remove("status");
    if let Some(meta) = fields.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_METADATA.iter().chain(&["creationTimestamp"]) {
            meta.remove(*key);
        }
        for map in ["labels", "annotations"] {
            if let Some(entries) = meta.get_mut(map).and_then(Value::as_object_mut) {
                entries.retain(|k, _| {
                    k != OWNER_LABEL && !RESERVED_DOMAINS.iter().any(|d| k.contains(d))
                });
                if entries.is_empty() {
                    meta.remove(map);
                }
            }
        }
        if meta.is_empty() {
            fields.remove("metadata");
        }
    }
    for path in [
        &["spec", "template", "metadata"][..],
        &["spec", "jobTemplate", "spec", "template", "metadata"][..],
    ] {
        let mut at = Some(&mut object);
        for key in path {
            at = at.and_then(|v| v.get_mut(*key));
        }
        if let Some(meta) = at.and_then(Value::as_object_mut) {
            meta.remove("creationTimestamp");
        }
    }
    object
}

/// The `kubernetes-fleet.io/spec-hash` of a manifest: hex SHA-256 of its cleaned JSON (keys in
/// order, so equal manifests hash equal).
pub fn spec_hash(manifest: &Value) -> String {
    let text = serde_json::to_string(&cleaned(manifest)).unwrap_or_default();
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `FullComparison`: every difference between the cleaned manifest and the cleaned member
/// object, fields only the member has included.
pub fn full_diff(manifest: &Value, member: &Value) -> Vec<PatchDetail> {
    finish(manifest, diff(&cleaned(manifest), &cleaned(member)))
}

/// `PartialComparison`: what applying the manifest would change. KubeFleet runs a forced
/// server-side apply in dry-run mode and diffs its result with the live object; here the result
/// is computed: the manifest's fields laid over the member's object (maps merged key by key,
/// everything else replaced), so fields the manifest does not set never count.
pub fn partial_diff(manifest: &Value, member: &Value) -> Vec<PatchDetail> {
    let member = cleaned(member);
    let applied = overlay(&member, &cleaned(manifest));
    finish(manifest, diff(&applied, &member))
}

/// The diff reported for a manifest whose object the member lacks.
pub fn absent_object() -> Vec<PatchDetail> {
    vec![PatchDetail {
        path: "/".into(),
        value_in_member: None,
        value_in_hub: Some(WHOLE_OBJECT.into()),
    }]
}

fn overlay(base: &Value, top: &Value) -> Value {
    match (base, top) {
        (Value::Object(b), Value::Object(t)) => {
            let mut out = b.clone();
            for (k, v) in t {
                let merged = match b.get(k) {
                    Some(bv) => overlay(bv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (_, t) => t.clone(),
    }
}

/// Secrets' values redacted, at most [`MAX_DETAILS`].
fn finish(manifest: &Value, mut details: Vec<PatchDetail>) -> Vec<PatchDetail> {
    let secret = manifest["apiVersion"] == "v1" && manifest["kind"] == "Secret";
    if secret {
        for d in &mut details {
            if d.path.starts_with("/data") || d.path.starts_with("/stringData") {
                for v in [&mut d.value_in_hub, &mut d.value_in_member] {
                    if v.is_some() {
                        *v = Some(REDACTED.into());
                    }
                }
            }
        }
    }
    details.truncate(MAX_DETAILS);
    details
}

/// A JSON diff from `hub` to `member` as JSON-patch operations would describe it: maps key by
/// key, arrays index by index (extra member items added, extra hub items removed), anything else
/// replaced whole.
fn diff(hub: &Value, member: &Value) -> Vec<PatchDetail> {
    let mut out = Vec::new();
    walk("", hub, member, &mut out);
    out
}

fn walk(path: &str, hub: &Value, member: &Value, out: &mut Vec<PatchDetail>) {
    match (hub, member) {
        (Value::Object(h), Value::Object(m)) => {
            let keys: std::collections::BTreeSet<&String> = h.keys().chain(m.keys()).collect();
            for k in keys {
                let p = format!("{path}/{}", escape(k));
                match (h.get(k), m.get(k)) {
                    (Some(hv), Some(mv)) => walk(&p, hv, mv, out),
                    (Some(hv), None) => out.push(only_hub(p, hv)),
                    (None, Some(mv)) => out.push(only_member(p, mv)),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(h), Value::Array(m)) => {
            for i in 0..h.len().max(m.len()) {
                let p = format!("{path}/{i}");
                match (h.get(i), m.get(i)) {
                    (Some(hv), Some(mv)) => walk(&p, hv, mv, out),
                    (Some(hv), None) => out.push(only_hub(p, hv)),
                    (None, Some(mv)) => out.push(only_member(p, mv)),
                    (None, None) => {}
                }
            }
        }
        (h, m) if h == m => {}
        (h, m) => out.push(PatchDetail {
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            value_in_member: Some(go_format(m)),
            value_in_hub: Some(go_format(h)),
        }),
    }
}

fn only_hub(path: String, value: &Value) -> PatchDetail {
    PatchDetail {
        path,
        value_in_member: None,
        value_in_hub: Some(go_format(value)),
    }
}

fn only_member(path: String, value: &Value) -> PatchDetail {
    PatchDetail {
        path,
        value_in_member: Some(go_format(value)),
        value_in_hub: None,
    }
}

/// JSON-pointer escaping of one key (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A value as Go's `%v` prints a decoded JSON value: strings bare, `map[k:v …]` with sorted
/// keys, `[a b]`, `<nil>`.
pub fn go_format(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(go_format).collect::<Vec<_>>().join(" ")
        ),
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            let entries = keys
                .into_iter()
                .map(|k| format!("{k}:{}", go_format(&fields[k])))
                .collect::<Vec<_>>()
                .join(" ");
            format!("map[{entries}]")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm", "namespace": "ns"}, "data": data})
    }

    fn live(data: Value) -> Value {
        let mut v = cm(data);
        v["metadata"]["uid"] = json!("u-1");
        v["metadata"]["resourceVersion"] = json!("7");
        v["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
        v["metadata"]["labels"] = json!({"fleetdeck.dev/applied-by": "crp-p"});
        v["metadata"]["annotations"] = json!({"kubernetes-fleet.io/spec-hash": "abc"});
        v
    }

    #[test]
    fn server_written_fields_and_reserved_keys_are_no_difference() {
        let hub = cm(json!({"key": "a"}));
        let mut member = live(json!({"key": "a"}));
        member["metadata"]["annotations"]["kubernetes.io/change-cause"] = json!("x");
        member["status"] = json!({"phase": "x"});
        // fleetdeck's ownership label is its own, as Fleet's owner reference is.
        assert_eq!(full_diff(&hub, &member), vec![]);
        assert_eq!(partial_diff(&hub, &member), vec![]);
    }

    #[test]
    fn a_changed_value_is_a_replace_with_both_values() {
        let d = full_diff(&cm(json!({"key": "a"})), &cm(json!({"key": "b"})));
        assert_eq!(
            d,
            vec![PatchDetail {
                path: "/data/key".into(),
                value_in_member: Some("b".into()),
                value_in_hub: Some("a".into()),
            }]
        );
    }

    #[test]
    fn full_comparison_counts_member_only_fields_and_partial_does_not() {
        let hub = cm(json!({"key": "a"}));
        let member = cm(json!({"key": "a", "extra": "m"}));
        assert_eq!(
            full_diff(&hub, &member),
            vec![PatchDetail {
                path: "/data/extra".into(),
                value_in_member: Some("m".into()),
                value_in_hub: None,
            }]
        );
        assert_eq!(partial_diff(&hub, &member), vec![]);
    }

    #[test]
    fn partial_comparison_reports_a_hub_field_the_member_lacks() {
        let hub = cm(json!({"key": "a", "more": "h"}));
        let member = cm(json!({"key": "a"}));
        assert_eq!(
            partial_diff(&hub, &member),
            vec![PatchDetail {
                path: "/data/more".into(),
                value_in_member: None,
                value_in_hub: Some("h".into()),
            }]
        );
    }

    #[test]
    fn arrays_compare_index_by_index() {
        let hub = json!({"spec": {"ports": [80, 443]}});
        let member = json!({"spec": {"ports": [80, 8443, 9000]}});
        let d = full_diff(&hub, &member);
        assert_eq!(
            d.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
            ["/spec/ports/1", "/spec/ports/2"]
        );
        assert_eq!(d[1].value_in_member.as_deref(), Some("9000"));
    }

    #[test]
    fn values_print_as_go_does() {
        assert_eq!(
            go_format(&json!({"b": [1, "x"], "a": null, "c": true})),
            "map[a:<nil> b:[1 x] c:true]"
        );
    }

    #[test]
    fn secret_values_are_redacted() {
        let hub = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "aGk="}});
        let member = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "b2s="}});
        let d = full_diff(&hub, &member);
        assert_eq!(d[0].value_in_hub.as_deref(), Some(REDACTED));
        assert_eq!(d[0].value_in_member.as_deref(), Some(REDACTED));
    }

    #[test]
    fn at_most_a_hundred_details() {
        let many: Map<String, Value> = (0..150).map(|i| (format!("k{i:03}"), json!(i))).collect();
        assert_eq!(
            full_diff(&cm(Value::Object(many)), &cm(json!({}))).len(),
            MAX_DETAILS
        );
    }

    #[test]
    fn the_spec_hash_ignores_what_the_member_adds_and_follows_the_manifest() {
        assert_eq!(
            spec_hash(&cm(json!({"key": "a"}))),
            spec_hash(&live(json!({"key": "a"})))
        );
        assert_ne!(
            spec_hash(&cm(json!({"key": "a"}))),
            spec_hash(&cm(json!({"key": "b"})))
        );
        assert_eq!(spec_hash(&cm(json!({}))).len(), 64);
    }
}

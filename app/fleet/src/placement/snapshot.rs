//! Resource snapshots and scheduling-policy snapshots (spec §4), and the snapshot content hash
//! (spec §10.1 step 1).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::placement::resource_placement::PlacementPolicy;

/// `spec` of `ClusterResourceSnapshot` / `ResourceSnapshot`: raw embedded objects, kept as JSON
/// values so that every field of a selected resource survives a round trip.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSnapshotSpec {
    #[serde(default)]
    #[schemars(extend("items" = {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "x-kubernetes-embedded-resource": true}))]
    pub selected_resources: Vec<Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSnapshotStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
}

/// `spec` of `ClusterSchedulingPolicySnapshot` / `SchedulingPolicySnapshot` (spec §4.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingPolicySnapshotSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PlacementPolicy>,
    /// Go `[]byte`, base64 in JSON; kept as the wire string.
    #[serde(default)]
    pub policy_hash: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SchedulingPolicySnapshotStatus {
    #[serde(
        rename = "observedCRPGeneration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub observed_crp_generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Max 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_clusters: Option<Vec<ClusterDecision>>,
}

/// One scheduling decision (policy snapshot status and binding spec).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDecision {
    pub cluster_name: String,
    #[serde(default)]
    pub selected: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_score: Option<ClusterScore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterScore {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity_score: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_score: Option<i32>,
}

/// Lowercase hex SHA-256 of the JSON of the whole selected-resource list (the master snapshot's
/// `resource-hash` annotation). The JSON is written as Go's `encoding/json` writes it: compact,
/// object keys sorted, and `<`, `>`, `&`, U+2028, U+2029 escaped, so equal content hashes equally
/// whatever key order the input had.
pub fn resource_hash(selected_resources: &[Value]) -> String {
    let mut json = String::new();
    write_go_json(&Value::Array(selected_resources.to_vec()), &mut json);
    let digest = Sha256::digest(json.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_go_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(k, out);
                out.push(':');
                if let Some(child) = map.get(k) {
                    write_go_json(child, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_go_string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_go_string(s: &str, out: &mut String) {
    // serde_json's escaping, then Go's HTML-safe extras.
    let escaped = Value::String(s.to_string()).to_string();
    for ch in escaped.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_is_sha256_hex_of_compact_sorted_json() {
        // sha256("[]")
        assert_eq!(
            resource_hash(&[]),
            "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
        );
        let a = json!({"b": 1, "a": {"y": "<&>", "x": [true, null]}});
        let mut s = String::new();
        write_go_json(&Value::Array(vec![a.clone()]), &mut s);
        assert_eq!(
            s,
            r#"[{"a":{"x":[true,null],"y":"\u003c\u0026\u003e"},"b":1}]"#
        );
        let h = resource_hash(std::slice::from_ref(&a));
        assert_eq!(h.len(), 64);
        assert!(h
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }

    #[test]
    fn hash_changes_with_content_not_key_order() {
        let one = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"key": "value1"}});
        let reordered = json!({"data": {"key": "value1"}, "kind": "ConfigMap", "apiVersion": "v1"});
        let two = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"key": "value2"}});
        assert_eq!(
            resource_hash(std::slice::from_ref(&one)),
            resource_hash(&[reordered])
        );
        assert_ne!(resource_hash(&[one]), resource_hash(&[two]));
    }
}

//! Every manifest of the seed documents parses into its typed kind and serialises back to the
//! same JSON (nothing lost, nothing added). Corpus: tests/fixtures/seeds (see its README).

use std::path::Path;

use app::fleet::{self, FleetKind, Object};
use serde_json::Value;

fn round_trip<K: FleetKind>(doc: &Value) -> Result<Value, String> {
    let typed: Object<K> = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    if !K::accepts_api_version(&typed.api_version) {
        return Err(format!(
            "apiVersion {} not accepted for {}",
            typed.api_version,
            K::KIND
        ));
    }
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

fn round_trip_plain<T: serde::de::DeserializeOwned + serde::Serialize>(
    doc: &Value,
) -> Result<Value, String> {
    let typed: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

fn dispatch(doc: &Value) -> Result<Value, String> {
    use fleet::types::kind::*;
    match doc.get("kind").and_then(Value::as_str).unwrap_or_default() {
        "ClusterResourcePlacement" => round_trip::<ClusterResourcePlacement>(doc),
        "ResourcePlacement" => round_trip::<ResourcePlacement>(doc),
        "ClusterResourceSnapshot" => round_trip::<ClusterResourceSnapshot>(doc),
        "ResourceSnapshot" => round_trip::<ResourceSnapshot>(doc),
        "ClusterSchedulingPolicySnapshot" => round_trip::<ClusterSchedulingPolicySnapshot>(doc),
        "SchedulingPolicySnapshot" => round_trip::<SchedulingPolicySnapshot>(doc),
        "ClusterResourceBinding" => round_trip::<ClusterResourceBinding>(doc),
        "ResourceBinding" => round_trip::<ResourceBinding>(doc),
        "ClusterStagedUpdateStrategy" => round_trip::<ClusterStagedUpdateStrategy>(doc),
        "StagedUpdateStrategy" => round_trip::<StagedUpdateStrategy>(doc),
        "ClusterStagedUpdateRun" => round_trip::<ClusterStagedUpdateRun>(doc),
        "StagedUpdateRun" => round_trip::<StagedUpdateRun>(doc),
        "ClusterApprovalRequest" => round_trip::<ClusterApprovalRequest>(doc),
        "ApprovalRequest" => round_trip::<ApprovalRequest>(doc),
        "MemberCluster" => round_trip::<MemberCluster>(doc),
        // Plain Kubernetes objects shown in the seeds.
        "ConfigMap" => round_trip_plain::<k8s_openapi::api::core::v1::ConfigMap>(doc),
        other => Err(format!("no type for kind {other:?}")),
    }
}

#[test]
fn every_seed_manifest_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seeds");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut fleet_kinds = 0;
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read fixture");
        let doc: Value = match serde_saphyr::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: yaml: {e}", path.display()));
                continue;
            }
        };
        match dispatch(&doc) {
            Ok(back) if back == doc => {
                if doc["apiVersion"]
                    .as_str()
                    .is_some_and(|v| v.contains("kubernetes-fleet.io"))
                {
                    fleet_kinds += 1;
                }
            }
            Ok(back) => failures.push(format!(
                "{}: changed on round trip:\n in: {doc}\nout: {back}",
                path.display()
            )),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    println!(
        "seed manifests round-tripped: {} ({} fleet kinds, {} others)",
        files.len(),
        fleet_kinds,
        files.len() - fleet_kinds
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // 000: 9, 001: 13, 002: 18, 003: 1 (see the fixtures README).
    assert_eq!(files.len(), 41);
}

#[test]
fn v1_and_v1beta1_are_accepted_other_groups_are_not() {
    use fleet::types::kind::ClusterStagedUpdateRun as K;
    assert!(K::accepts_api_version(
        "placement.kubernetes-fleet.io/v1beta1"
    ));
    assert!(K::accepts_api_version("placement.kubernetes-fleet.io/v1"));
    assert!(!K::accepts_api_version(
        "cluster.kubernetes-fleet.io/v1beta1"
    ));
    assert!(!K::accepts_api_version("v1"));
}

#[test]
fn unknown_fields_inside_selected_resources_survive() {
    let doc = serde_json::json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourceSnapshot",
        "metadata": {"name": "p-0-snapshot"},
        "spec": {"selectedResources": [{"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "spec": {"anything": {"nested": [1, 2, {"x": null}]}}, "extra": true}]}
    });
    assert_eq!(dispatch(&doc), Ok(doc.clone()));
}

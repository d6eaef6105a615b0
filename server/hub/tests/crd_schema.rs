//! Generic CRD enforcement (DESIGN.md "Validation: one source of truth"): kinds registered from the
//! real generated CRDs in deploy/crds get kube-apiserver's defaults and its structural and CEL
//! error messages (spec §7), in 422 Status bodies with causes.

mod common;

use std::path::PathBuf;

use axum::body::Body;
use axum::http::Request;
use hub::{Hub, KindSpec, Scope};
use serde_json::{json, Value};
use tower::ServiceExt;

fn crd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds")
}

fn load(file: &str) -> Value {
    let text = std::fs::read_to_string(crd_dir().join(file)).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

fn fleet_hub() -> Hub {
    Hub::memory(common::fleet_registry())
}

async fn send(hub: &Hub, method: &str, path: &str, body: Value) -> (u16, Value) {
    let ct = if method == "PATCH" {
        "application/merge-patch+json"
    } else {
        "application/json"
    };
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", ct)
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = hub.router().oneshot(req).await.unwrap();
    let code = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (code, serde_json::from_slice(&bytes).unwrap())
}

/// The 422's causes as `field: message` lines.
fn causes(status: &Value) -> Vec<String> {
    assert_eq!(status["code"], 422, "{status}");
    assert_eq!(status["reason"], "Invalid", "{status}");
    status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}: {}",
                c["field"].as_str().unwrap(),
                c["message"].as_str().unwrap()
            )
        })
        .collect()
}

const CSUS: &str = "/apis/placement.kubernetes-fleet.io/v1/clusterstagedupdatestrategies";
const CSUR: &str = "/apis/placement.kubernetes-fleet.io/v1/clusterstagedupdateruns";

fn strategy(name: &str, stages: Vec<Value>) -> Value {
    json!({"apiVersion": "placement.kubernetes-fleet.io/v1", "kind": "ClusterStagedUpdateStrategy",
           "metadata": {"name": name}, "spec": {"stages": stages}})
}

fn run(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "placement.kubernetes-fleet.io/v1", "kind": "ClusterStagedUpdateRun",
           "metadata": {"name": name}, "spec": spec})
}

#[test]
fn from_crd_reads_names_scope_versions_subresources_and_columns() {
    let csur = KindSpec::from_crd(&load(
        "placement.kubernetes-fleet.io_clusterstagedupdateruns.yaml",
    ))
    .unwrap();
    assert_eq!(csur.group, "placement.kubernetes-fleet.io");
    assert_eq!(csur.kind, "ClusterStagedUpdateRun");
    assert_eq!(csur.plural, "clusterstagedupdateruns");
    assert_eq!(csur.singular, "clusterstagedupdaterun");
    assert_eq!(csur.short_names, ["csur"]);
    assert!(csur.categories.contains(&"fleet".to_string()));
    assert_eq!(csur.scope, Scope::Cluster);
    assert_eq!(
        csur.versions[0], "v1",
        "GA is preferred: {:?}",
        csur.versions
    );
    assert!(csur.status_subresource && !csur.builtin && csur.generation);
    let cols: Vec<(&str, i32)> = csur
        .printer_columns
        .iter()
        .map(|c| (c.name.as_str(), c.priority))
        .collect();
    assert_eq!(cols.first(), Some(&("Placement", 0)), "{cols:?}");
    assert!(cols.contains(&("Age", 0)), "{cols:?}");
    assert!(csur.schema.is_some());

    let rp = KindSpec::from_crd(&load(
        "placement.kubernetes-fleet.io_resourceplacements.yaml",
    ))
    .unwrap();
    assert_eq!(rp.scope, Scope::Namespaced);

    let Err(err) = KindSpec::from_crd(&json!({"spec": {"group": "x.dev"}})) else {
        panic!("a CRD without names is refused");
    };
    assert!(err.to_string().contains("spec.names.kind"), "{err}");
}

#[tokio::test]
async fn strategy_with_32_stages_is_too_many() {
    let hub = fleet_hub();
    let stages: Vec<Value> = (0..32).map(|i| json!({"name": format!("s{i}")})).collect();
    let (code, status) = send(&hub, "POST", CSUS, strategy("big", stages)).await;
    assert_eq!(code, 422);
    assert_eq!(
        causes(&status),
        ["spec.stages: Too many: 32: must have at most 31 items"]
    );
    assert_eq!(
        status["message"],
        "ClusterStagedUpdateStrategy.placement.kubernetes-fleet.io \"big\" is invalid: \
         spec.stages: Too many: 32: must have at most 31 items"
    );
    let stages: Vec<Value> = (0..31).map(|i| json!({"name": format!("s{i}")})).collect();
    let (code, created) = send(&hub, "POST", CSUS, strategy("ok", stages)).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["spec"]["stages"][0]["maxConcurrency"], 1,
        "schema default applied on create"
    );
}

#[tokio::test]
async fn structural_messages_match_the_apiserver() {
    let hub = fleet_hub();
    let (_, status) = send(
        &hub,
        "POST",
        CSUS,
        strategy("s", vec![json!({"name": "Dev"})]),
    )
    .await;
    assert_eq!(
        causes(&status),
        [
            r#"spec.stages[0].name: Invalid value: "Dev": spec.stages[0].name in body should match '^[a-z0-9]+$'"#
        ]
    );
    let long = "a".repeat(64);
    let (_, status) = send(
        &hub,
        "POST",
        CSUS,
        strategy("s", vec![json!({"name": long})]),
    )
    .await;
    assert_eq!(
        causes(&status),
        ["spec.stages[0].name: Too long: may not be more than 63 bytes"]
    );
    let (_, status) = send(&hub, "POST", CSUS, strategy("s", vec![json!({"name": 7})])).await;
    assert_eq!(
        causes(&status),
        [
            r#"spec.stages[0].name: Invalid value: "integer": spec.stages[0].name in body must be of type string: "integer""#
        ]
    );
    let (_, status) = send(&hub, "POST", CSUS, strategy("s", vec![json!({})])).await;
    assert_eq!(causes(&status), ["spec.stages[0].name: Required value"]);
    let (_, status) = send(
        &hub,
        "POST",
        CSUR,
        run(
            "r",
            json!({"stagedRolloutStrategyName": "s", "state": "Foo"}),
        ),
    )
    .await;
    assert_eq!(
        causes(&status),
        [
            "spec.placementName: Required value",
            r#"spec.state: Unsupported value: "Foo": supported values: "Initialize", "Run", "Stop""#
        ]
    );
    // A CEL rule on an object node: its schema type is what the apiserver prints.
    let (_, status) = send(
        &hub,
        "POST",
        CSUS,
        strategy(
            "s",
            vec![json!({"name": "a", "afterStageTasks": [{"type": "TimedWait"}]})],
        ),
    )
    .await;
    assert_eq!(
        causes(&status),
        [
            r#"spec.stages[0].afterStageTasks[0]: Invalid value: "object": AfterStageTaskType is TimedWait, waitTime is required"#
        ]
    );
}

#[tokio::test]
async fn cel_transition_rules_use_the_stored_object() {
    let hub = fleet_hub();
    let spec = json!({"placementName": "p", "stagedRolloutStrategyName": "s"});
    let (code, created) = send(&hub, "POST", CSUR, run("r1", spec)).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["spec"]["state"], "Initialize", "defaulted");
    let url = format!("{CSUR}/r1");
    let (code, _) = send(&hub, "PATCH", &url, json!({"spec": {"state": "Run"}})).await;
    assert_eq!(code, 200);
    let (_, status) = send(
        &hub,
        "PATCH",
        &url,
        json!({"spec": {"state": "Initialize"}}),
    )
    .await;
    assert_eq!(
        causes(&status),
        [
            r#"spec.state: Invalid value: "string": invalid state transition: cannot transition from Run to Initialize"#
        ]
    );
    let (_, status) = send(&hub, "PATCH", &url, json!({"spec": {"placementName": "q"}})).await;
    assert_eq!(
        causes(&status),
        [r#"spec.placementName: Invalid value: "string": placementName is immutable"#]
    );
    // Status writes leave spec alone, so the transition rules do not fire on them.
    let (code, body) = send(
        &hub,
        "PATCH",
        &format!("{url}/status"),
        json!({"status": {"conditions": []}}),
    )
    .await;
    assert_eq!(code, 200, "{body}");
}

/// A status write is validated against the CRD's status schema like kube-apiserver does: a
/// condition without `lastTransitionTime` (required by metav1.Condition's schema) is a 422
/// Invalid whose message and cause are the apiserver's "Required value" wording.
#[tokio::test]
async fn a_status_condition_without_last_transition_time_is_required_value() {
    let hub = fleet_hub();
    let spec = json!({"placementName": "p", "stagedRolloutStrategyName": "s"});
    let (code, created) = send(&hub, "POST", CSUR, run("r1", spec)).await;
    assert_eq!(code, 201, "{created}");
    let condition = json!({"type": "Initialized", "status": "True", "observedGeneration": 1,
        "reason": "UpdateRunInitializedSuccessfully", "message": "The UpdateRun initialized successfully"});
    for (method, body) in [
        (
            "PATCH",
            json!({"status": {"conditions": [condition.clone()]}}),
        ),
        ("PUT", {
            let mut object = created.clone();
            object["status"] = json!({"conditions": [condition.clone()]});
            object
        }),
    ] {
        let (code, status) = send(&hub, method, &format!("{CSUR}/r1/status"), body).await;
        assert_eq!(code, 422, "{method}: {status}");
        assert_eq!(
            causes(&status),
            ["status.conditions[0].lastTransitionTime: Required value"],
            "{method}"
        );
        assert_eq!(
            status["message"],
            "ClusterStagedUpdateRun.placement.kubernetes-fleet.io \"r1\" is invalid: status.conditions[0].lastTransitionTime: Required value",
            "{method}"
        );
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "FieldValueRequired"
        );
    }
}

//! Server-side apply on the hub (issue 18): kubectl 1.32's `apply --server-side` by two managers
//! over TCP, and kube-rs `Patch::Apply`, against field ownership as kube-apiserver keeps it.

mod common;

use axum::body::Body;
use axum::http::Request;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use tower::ServiceExt;

fn cm_yaml(data: &[(&str, &str)]) -> String {
    let mut y = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\ndata:\n",
    );
    for (k, v) in data {
        y.push_str(&format!("  {k}: {v}\n"));
    }
    y
}

/// `[(manager, operation, fieldsV1)]` of an object read back as JSON.
fn owners(obj: &Value) -> Vec<(String, String, Value)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["manager"].as_str().unwrap_or("").to_string(),
                e["operation"].as_str().unwrap_or("").to_string(),
                e["fieldsV1"].clone(),
            )
        })
        .collect()
}

fn owned_by(obj: &Value, manager: &str) -> Value {
    owners(obj)
        .into_iter()
        .find(|(m, op, _)| m == manager && op == "Apply")
        .map(|(_, _, f)| f)
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_server_side_apply_conflicts_force_and_removal() {
    let hub = common::memory_hub();
    let dir = tempfile::tempdir().unwrap();
    let Some((k, server)) = common::kubectl::serve(&hub, dir.path()).await else {
        return;
    };
    let apply = |manager: &'static str, extra: &'static [&'static str]| {
        let mut args = vec!["apply", "--server-side", "--field-manager", manager];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-f", "-"]);
        args
    };
    let get = || async {
        let out = k
            .ok(
                &["get", "cm", "shared", "-o", "json", "--show-managed-fields"],
                None,
            )
            .await;
        serde_json::from_str::<Value>(&out).unwrap()
    };

    let first = cm_yaml(&[("key", "from-a"), ("dropme", "x")]);
    assert_eq!(
        k.ok(&apply("a", &[]), Some(&first)).await.trim(),
        "configmap/shared serverside-applied"
    );
    let obj = get().await;
    assert_eq!(
        owned_by(&obj, "a"),
        json!({"f:data": {"f:dropme": {}, "f:key": {}}})
    );
    // kubectl hides managedFields unless asked, but the server sends them.
    let plain = k.ok(&["get", "cm", "shared", "-o", "yaml"], None).await;
    assert!(!plain.contains("managedFields"), "{plain}");

    // b wants another value of a's field: the apiserver's conflict, as kubectl prints it.
    let second = cm_yaml(&[("key", "from-b")]);
    let (success, _, err) = k.run(&apply("b", &[]), Some(&second)).await;
    assert!(!success);
    assert!(
        err.contains("Apply failed with 1 conflict: conflict with \"a\": .data.key"),
        "{err}"
    );
    assert!(err.contains("--force-conflicts"), "{err}");
    // A server-side dry run conflicts the same way, and a forced one changes nothing.
    let (success, _, err) = k
        .run(&apply("b", &["--dry-run=server"]), Some(&second))
        .await;
    assert!(
        !success && err.contains("conflict with \"a\": .data.key"),
        "{err}"
    );
    k.ok(
        &apply("b", &["--dry-run=server", "--force-conflicts"]),
        Some(&second),
    )
    .await;
    assert_eq!(get().await["data"]["key"], "from-a");

    // --force-conflicts takes the field over: b owns it now, a keeps the rest.
    assert_eq!(
        k.ok(&apply("b", &["--force-conflicts"]), Some(&second))
            .await
            .trim(),
        "configmap/shared serverside-applied"
    );
    let obj = get().await;
    assert_eq!(obj["data"], json!({"key": "from-b", "dropme": "x"}));
    assert_eq!(owned_by(&obj, "a"), json!({"f:data": {"f:dropme": {}}}));
    assert_eq!(owned_by(&obj, "b"), json!({"f:data": {"f:key": {}}}));

    // a's next apply leaves dropme out: removed. key is b's, so it stays.
    let third = cm_yaml(&[("added", "later")]);
    k.ok(&apply("a", &[]), Some(&third)).await;
    let obj = get().await;
    assert_eq!(obj["data"], json!({"key": "from-b", "added": "later"}));
    assert_eq!(owned_by(&obj, "a"), json!({"f:data": {"f:added": {}}}));

    // kubectl diff --server-side is a dry-run apply: it shows a's change and stores nothing.
    let (changed, out, err) = k
        .run(
            &["diff", "--server-side", "--field-manager", "a", "-f", "-"],
            Some(&cm_yaml(&[("added", "again")])),
        )
        .await;
    assert!(!changed, "diff exits 1 when there are differences: {err}");
    assert!(
        out.contains("-  added: later") && out.contains("+  added: again"),
        "{out}\n{err}"
    );
    assert_eq!(get().await["data"]["added"], "later");

    // Client-side edits are Update entries named after kubectl's field manager.
    k.ok(&["label", "cm", "shared", "team=x"], None).await;
    let obj = get().await;
    assert!(
        owners(&obj).contains(&(
            "kubectl-label".into(),
            "Update".into(),
            json!({"f:metadata": {"f:labels": {".": {}, "f:team": {}}}})
        )),
        "{:?}",
        owners(&obj)
    );
    server.abort();
}

#[tokio::test]
async fn kube_rs_patch_apply_conflicts_and_force() {
    let hub = common::memory_hub();
    let client = common::client(&hub);
    let cms: Api<ConfigMap> = Api::default_namespaced(client);
    let cm = |v: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k"},
            "data": {"key": v}})
    };

    let created = cms
        .patch("k", &PatchParams::apply("x"), &Patch::Apply(cm("1")))
        .await
        .unwrap();
    let mf = created.metadata.managed_fields.unwrap_or_default();
    assert_eq!(mf.len(), 1);
    assert_eq!(
        (mf[0].manager.as_deref(), mf[0].operation.as_deref()),
        (Some("x"), Some("Apply"))
    );
    assert_eq!(mf[0].fields_type.as_deref(), Some("FieldsV1"));
    assert_eq!(mf[0].api_version.as_deref(), Some("v1"));

    let err = cms
        .patch("k", &PatchParams::apply("y"), &Patch::Apply(cm("2")))
        .await
        .unwrap_err();
    let kube::Error::Api(status) = err else {
        panic!("want a Status, got {err:?}");
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"x\": .data.key"
    );

    let forced = cms
        .patch(
            "k",
            &PatchParams::apply("y").force(),
            &Patch::Apply(cm("2")),
        )
        .await
        .unwrap();
    assert_eq!(
        forced
            .data
            .unwrap_or_default()
            .get("key")
            .map(String::as_str),
        Some("2")
    );
    // x owned nothing else, so its entry is gone; y's is the only one.
    let managers: Vec<_> = forced
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e.manager)
        .collect();
    assert_eq!(managers, ["y"]);

    // An Update through kube-rs `replace` names its fieldManager and takes the field back.
    let mut live = cms.get("k").await.unwrap();
    live.data = Some([("key".to_string(), "3".to_string())].into());
    let pp = PostParams {
        field_manager: Some("z".into()),
        ..Default::default()
    };
    let replaced = cms.replace("k", &pp, &live).await.unwrap();
    let entries = replaced.metadata.managed_fields.unwrap_or_default();
    let z = entries
        .iter()
        .find(|e| e.manager.as_deref() == Some("z"))
        .expect("an entry for z");
    assert_eq!(z.operation.as_deref(), Some("Update"));
    assert!(
        entries.iter().all(|e| e.manager.as_deref() != Some("y")),
        "y lost its only field"
    );
}

async fn raw_patch(hub: &hub::Hub, uri: &str, body: Value) -> (u16, Value) {
    let req = Request::builder()
        .method("PATCH")
        .uri(uri)
        .header("content-type", "application/apply-patch+yaml")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = hub.router().oneshot(req).await.unwrap();
    let code = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn apply_options_are_validated_like_the_apiserver() {
    let hub = common::memory_hub();
    let uri = "/api/v1/namespaces/default/configmaps/v";
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "v"}});
    let (code, status) = raw_patch(&hub, uri, body.clone()).await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    let long = "m".repeat(129);
    let (code, status) = raw_patch(&hub, &format!("{uri}?fieldManager={long}"), body.clone()).await;
    assert_eq!(code, 422);
    assert_eq!(
        status["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Too long: may not be more than 128 bytes"
    );
    let mut owned = body.clone();
    owned["metadata"]["managedFields"] = json!([]);
    let (code, status) = raw_patch(&hub, &format!("{uri}?fieldManager=m"), owned).await;
    assert_eq!(
        (code, &status["message"]),
        (400, &json!("metadata.managedFields must be nil"))
    );
    let (code, _) = raw_patch(&hub, &format!("{uri}?fieldManager={}", &long[..128]), body).await;
    assert_eq!(code, 201);
}

#[tokio::test]
async fn status_apply_merges_conditions_per_type_for_a_keyed_list() {
    let mut reg = hub::Registry::new();
    reg.register(
        hub::KindSpec::new(
            "example.dev",
            "v1",
            "Widget",
            "widgets",
            hub::Scope::Namespaced,
        )
        .status_subresource()
        .openapi_schema(json!({"type": "object", "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "status": {"type": "object", "properties": {"conditions": {
                    "type": "array", "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["type"],
                    "items": {"type": "object", "properties": {
                        "type": {"type": "string"}, "status": {"type": "string"}}}}}}}})),
    );
    let hub = hub::Hub::memory(reg);
    let uri = "/apis/example.dev/v1/namespaces/default/widgets/w";
    let w = |status: Value| {
        json!({"apiVersion": "example.dev/v1", "kind": "Widget", "metadata": {"name": "w"},
            "spec": {"size": 1}, "status": status})
    };
    let (code, _) = raw_patch(&hub, &format!("{uri}?fieldManager=owner"), w(json!({}))).await;
    assert_eq!(code, 201);
    let cond = |t: &str| json!({"conditions": [{"type": t, "status": "True"}]});
    let (code, _) = raw_patch(
        &hub,
        &format!("{uri}/status?fieldManager=one"),
        w(cond("A")),
    )
    .await;
    assert_eq!(code, 200);
    let (code, obj) = raw_patch(
        &hub,
        &format!("{uri}/status?fieldManager=two"),
        w(cond("B")),
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        obj["status"]["conditions"],
        json!([{"type": "A", "status": "True"}, {"type": "B", "status": "True"}]),
        "two managers' conditions live side by side"
    );
    let entry = obj["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["manager"] == "two")
        .cloned()
        .unwrap();
    assert_eq!(entry["subresource"], "status");
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:status": {"f:conditions": {"k:{\"type\":\"B\"}": {
            ".": {}, "f:status": {}, "f:type": {}}}}})
    );
    // one drops its condition: only A goes.
    let (_, obj) = raw_patch(
        &hub,
        &format!("{uri}/status?fieldManager=one"),
        w(json!({"conditions": []})),
    )
    .await;
    assert_eq!(
        obj["status"]["conditions"],
        json!([{"type": "B", "status": "True"}])
    );
    // Changing B's status as `one` conflicts with `two` (status writer, subresource named).
    let (code, status) = raw_patch(
        &hub,
        &format!("{uri}/status?fieldManager=one"),
        w(json!({"conditions": [{"type": "B", "status": "False"}]})),
    )
    .await;
    assert_eq!(code, 409);
    assert_eq!(
        status["message"],
        "Apply failed with 1 conflict: conflict with \"two\" with subresource \"status\": .status.conditions[type=\"B\"].status"
    );
    assert_eq!(
        status["details"]["causes"],
        json!([{"reason": "FieldManagerConflict",
            "message": "conflict with \"two\" with subresource \"status\"",
            "field": ".status.conditions[type=\"B\"].status"}])
    );
}

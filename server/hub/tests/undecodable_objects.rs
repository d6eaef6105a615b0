//! Objects that a typed client cannot decode are refused (found by `tcp_fuzz`, issue 21): a
//! label that is not a string, a ConfigMap whose `data` holds a map, a strategic-merge directive
//! left in `finalizers`. The hub stored them, and then every typed list of the kind failed — the
//! engine's informers included — so one bad write broke the kind for everyone.

mod common;

use axum::body::Body;
use axum::http::Request;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams};
use serde_json::{json, Value};
use tower::ServiceExt;

async fn send(hub: &hub::Hub, method: &str, uri: &str, ct: &str, body: Value) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ct)
        .body(Body::from(body.to_string()))
        .expect("request");
    let resp = hub.router().oneshot(req).await.expect("infallible");
    let code = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    (code, serde_json::from_slice(&bytes).expect("JSON"))
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn writes_that_would_not_decode_are_400_and_typed_lists_keep_working() {
    let hub = common::memory_hub();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "good"}, "data": {"k": "v"}});
    assert_eq!(send(&hub, "POST", CMS, "application/json", cm).await.0, 201);

    let refused = [
        (
            "POST",
            CMS.to_string(),
            "application/json",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "data": {"k": {"nested": 1}}}),
        ),
        (
            "POST",
            CMS.to_string(),
            "application/json",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad", "labels": {"a": 1}}}),
        ),
        (
            "POST",
            "/api/v1/namespaces".to_string(),
            "application/json",
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bad", "labels": {"a": false}}}),
        ),
        // A custom kind: its CRD schema does not cover metadata, the hub must.
        (
            "POST",
            "/apis/placement.kubernetes-fleet.io/v1beta1/clusterstagedupdateruns".to_string(),
            "application/json",
            json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
                   "metadata": {"name": "bad", "labels": {"a": 0.5}}, "spec": {}}),
        ),
        (
            "PATCH",
            format!("{CMS}/good"),
            "application/merge-patch+json",
            json!({"data": {"k": {"nested": 1}}}),
        ),
        (
            "PATCH",
            format!("{CMS}/good"),
            "application/strategic-merge-patch+json",
            json!({"metadata": {"labels": {"x": 7}}}),
        ),
    ];
    for (method, uri, ct, body) in refused {
        let (code, status) = send(&hub, method, &uri, ct, body.clone()).await;
        assert_eq!(code, 400, "{method} {uri} {body}: {status}");
        assert_eq!(status["reason"], "BadRequest", "{status}");
        let msg = status["message"].as_str().unwrap_or_default();
        assert!(msg.contains("cannot be handled as a"), "{msg}");
    }

    // A directive in a list of scalars is not a member of it.
    let (code, cm) = send(
        &hub,
        "PATCH",
        &format!("{CMS}/good"),
        "application/strategic-merge-patch+json",
        json!({"metadata": {"finalizers": [{"$patch": "delete"}, "example.com/keep"]}}),
    )
    .await;
    assert_eq!(code, 200, "{cm}");
    assert_eq!(cm["metadata"]["finalizers"], json!(["example.com/keep"]));

    let client = kube::Client::new(hub.router(), "default");
    let cms = Api::<ConfigMap>::namespaced(client.clone(), "default")
        .list(&ListParams::default())
        .await
        .expect("a typed list of ConfigMaps");
    assert_eq!(cms.items.len(), 1);
    assert_eq!(
        cms.items[0]
            .data
            .as_ref()
            .and_then(|d| d.get("k"))
            .map(String::as_str),
        Some("v"),
        "the refused patches changed nothing"
    );
    Api::<Namespace>::all(client)
        .list(&ListParams::default())
        .await
        .expect("a typed list of Namespaces");
}

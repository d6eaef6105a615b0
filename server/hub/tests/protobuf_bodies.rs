//! `kubectl create <generator>` bodies (spec §0.2, §3.4): the captured protobuf fixtures decode to
//! the JSON recorded next to them and go through the normal create path; replies stay JSON.

mod common;

use axum::body::Body;
use axum::http::Request;
use base64::Engine;
use serde_json::{json, Value};
use tower::ServiceExt;

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// (path, expected decoding, body) for every capture in the fixture file.
fn fixtures() -> Vec<(String, Value, Vec<u8>)> {
    let text = include_str!("fixtures/kubectl-create-protobuf.txt");
    let mut out = Vec::new();
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    while let (Some(req), Some(decoded), Some(b64)) = (lines.next(), lines.next(), lines.next()) {
        let path = req.trim_start_matches("# POST ").to_string();
        let json_text = decoded.trim_start_matches("# PROTOBUF(decoded)=");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .expect("fixture base64");
        out.push((path, serde_json::from_str(json_text).unwrap(), bytes));
    }
    out
}

async fn send(hub: &hub::Hub, method: &str, path: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", ct)
        .header(
            "accept",
            "application/vnd.kubernetes.protobuf,application/json",
        )
        .body(Body::from(body))
        .unwrap();
    let resp = hub.router().oneshot(req).await.unwrap();
    let code = resp.status().as_u16();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    (code, serde_json::from_slice(&bytes).unwrap())
}

/// The fields of `want` (the fixture's decoding) are all present in `got` with the same values.
fn contains(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| g.get(k).is_some_and(|gv| contains(gv, wv))),
        (Value::Array(g), Value::Array(w)) => {
            g.len() == w.len() && g.iter().zip(w).all(|(g, w)| contains(g, w))
        }
        _ => got == want,
    }
}

#[tokio::test]
async fn every_captured_kubectl_create_body_is_created_as_json() {
    let hub = common::memory_hub();
    let all = fixtures();
    assert_eq!(
        all.len(),
        5,
        "namespace, configmap, secret, deployment, service"
    );
    for (path, want, bytes) in all {
        let (code, got) = send(&hub, "POST", &path, PROTOBUF, bytes).await;
        assert_eq!(code, 201, "{path}: {got}");
        assert!(contains(&got, &want), "{path}:\n got {got}\nwant {want}");
        assert!(got["metadata"]["uid"].is_string(), "{got}");
    }
    let (_, secret) = send(
        &hub,
        "GET",
        "/api/v1/namespaces/test-namespace/secrets/s1",
        "",
        vec![],
    )
    .await;
    assert_eq!(secret["data"], json!({"pw": "aHVudGVyMg=="}));
    let (_, svc) = send(
        &hub,
        "GET",
        "/api/v1/namespaces/test-namespace/services/svc1",
        "",
        vec![],
    )
    .await;
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], 8080);
    assert!(svc["spec"]["clusterIP"].is_string(), "{svc}");
    let (_, deploy) = send(
        &hub,
        "GET",
        "/apis/apps/v1/namespaces/test-namespace/deployments/web",
        "",
        vec![],
    )
    .await;
    assert_eq!(
        deploy["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.20"
    );
    assert_eq!(deploy["metadata"]["generation"], 1);
}

#[tokio::test]
async fn undecodable_or_unknown_protobuf_gets_a_status() {
    let hub = common::memory_hub();
    let cms = "/api/v1/namespaces/default/configmaps";
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"not protobuf".to_vec(), 400, "magic prefix"),
        (b"k8s\0\x0a\xff\xff".to_vec(), 400, "couldn't decode"),
        // runtime.Unknown{typeMeta{apiVersion:"v1", kind:"Pod"}}: a kind the hub takes only as JSON.
        (
            [&b"k8s\0\x0a\x09\x0a\x02v1\x12\x03Pod"[..]].concat(),
            415,
            "\"Pod\"",
        ),
    ];
    for (body, code, needle) in cases {
        let (got_code, status) = send(&hub, "POST", cms, PROTOBUF, body).await;
        assert_eq!(got_code, code, "{status}");
        assert_eq!(status["kind"], "Status");
        assert_eq!(status["code"], code);
        assert!(
            status["message"].as_str().unwrap().contains(needle),
            "{status}"
        );
    }
    // A ConfigMap body posted to the secrets collection is refused like a JSON one would be.
    let (_, _, cm) = fixtures().swap_remove(1);
    let (code, status) = send(
        &hub,
        "POST",
        "/api/v1/namespaces/default/secrets",
        PROTOBUF,
        cm,
    )
    .await;
    assert_eq!(code, 400, "{status}");
}

/// `kubectl auth can-i` posts its SelfSubjectAccessReview as protobuf (typed clientset).
#[tokio::test]
async fn a_protobuf_self_subject_access_review_is_answered() {
    use k8s_pb::api::authorization::v1 as authz;
    use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
    use prost::Message;
    let review = authz::SelfSubjectAccessReview {
        spec: Some(authz::SelfSubjectAccessReviewSpec {
            resource_attributes: Some(authz::ResourceAttributes {
                verb: Some("update".into()),
                group: Some("placement.kubernetes-fleet.io".into()),
                resource: Some("clusterapprovalrequests".into()),
                subresource: Some("status".into()),
                namespace: Some(String::new()),
                ..Default::default()
            }),
            non_resource_attributes: None,
        }),
        ..Default::default()
    };
    let unknown = Unknown {
        type_meta: Some(TypeMeta {
            api_version: Some("authorization.k8s.io/v1".into()),
            kind: Some("SelfSubjectAccessReview".into()),
        }),
        raw: Some(review.encode_to_vec()),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.encode_to_vec());
    let hub = common::memory_hub();
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let (code, reply) = send(&hub, "POST", path, PROTOBUF, body).await;
    assert_eq!(code, 201, "{reply}");
    assert_eq!(
        reply["spec"]["resourceAttributes"],
        json!({"verb": "update", "group": "placement.kubernetes-fleet.io",
               "resource": "clusterapprovalrequests", "subresource": "status"})
    );
    // The in-process router's caller is the hub's own: system:masters.
    assert_eq!(reply["status"], json!({"allowed": true}));
}

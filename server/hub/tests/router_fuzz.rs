//! Property test: malformed requests of every shape (methods, paths, query strings, headers,
//! broken JSON/YAML/protobuf bodies, oversized bodies) never panic the router, and every non-2xx
//! answer is a JSON `Status` whose `code` is the HTTP status (issue 4 "Bad input gets a 4xx").

mod common;

use axum::body::Body;
use axum::http::Request;
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "api", "apis", "v1", "v2", "namespaces", "default", "kube-system", "nope", "configmaps",
            "secrets", "pods", "events", "services", "cm1", "status", "scale", "finalize", "apps",
            "deployments", "placement.kubernetes-fleet.io", "v1beta1", "clusterstagedupdateruns",
            "version", "openapi", "v3", "healthz", "", "..", "%zz", "%2F", "UPPER", "a.b",
        ])
        .prop_map(String::from),
        1 => "[a-zA-Z0-9._~%-]{0,12}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(segment(), 0..7).prop_map(|s| format!("/{}", s.join("/")))
}

fn query() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "watch",
        "labelSelector",
        "fieldSelector",
        "resourceVersion",
        "resourceVersionMatch",
        "timeoutSeconds",
        "limit",
        "continue",
        "dryRun",
        "includeObject",
        "allowWatchBookmarks",
        "sendInitialEvents",
        "fieldManager",
        "propagationPolicy",
        "x",
    ]);
    let value = prop_oneof![
        prop::sample::select(vec![
            "true",
            "1",
            "0",
            "-1",
            "18446744073709551616",
            "All",
            "a in (b",
            "a notin (x,y)",
            "!a",
            "metadata.name=x",
            "spec.foo=1",
            "a==b,c!=d",
            "Object",
            "",
            "=",
        ])
        .prop_map(String::from),
        ".{0,16}",
    ];
    prop::collection::vec((key, value), 0..4).prop_map(|pairs| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            // Never an endless watch: the property reads no 2xx body, but the server would run on.
            if k == "watch" {
                s.append_pair("timeoutSeconds", "0");
            }
            s.append_pair(k, &v);
        }
        s.finish()
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let fixture = {
        let text = include_str!("fixtures/kubectl-create-protobuf.txt");
        let line = text.lines().nth(6).unwrap_or_default();
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(line.trim())
            .unwrap_or_default()
    };
    prop_oneof![
        Just(Vec::new()),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::sample::select(vec![
            "{", "[1,2]", "null", "\"x\"", "{\"metadata\":null}", "{\"metadata\":{\"name\":7}}",
            "{\"metadata\":{\"name\":\"cm1\"},\"data\":{\"k\":1}}",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm1\",\"namespace\":\"default\"}}",
            "{\"metadata\":{\"name\":\"Bad_Name\"}}", "{\"spec\":{\"replicas\":\"x\"}}",
            "[{\"op\":\"replace\",\"path\":\"/x/y\",\"value\":1}]", "[{\"op\":\"bogus\"}]",
            "{\"metadata\":{\"resourceVersion\":\"1\"}}", "{\"propagationPolicy\":\"Nope\"}",
            "metadata:\n  name: y\n: :", "k8s\u{0}", "{\"$setElementOrder/containers\":[{}]}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        (0..fixture.len().max(1), any::<u8>()).prop_map(move |(i, b)| {
            let mut f = fixture.clone();
            if let Some(x) = f.get_mut(i) {
                *x = b;
            }
            f.truncate(i + 1 + (b as usize % 8));
            f
        }),
    ]
}

fn header(name: &'static str) -> impl Strategy<Value = Option<(&'static str, String)>> {
    let v = prop_oneof![
        prop::sample::select(vec![
            "application/json",
            "application/merge-patch+json",
            "application/json-patch+json",
            "application/strategic-merge-patch+json",
            "application/apply-patch+yaml",
            "application/vnd.kubernetes.protobuf",
            "application/yaml",
            "text/plain",
            "*/*",
            "application/json;as=Table;v=v1;g=meta.k8s.io",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        ])
        .prop_map(String::from),
        "[ -~]{0,20}",
    ];
    prop::option::of(v.prop_map(move |v| (name, v)))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn check(hub: &hub::Hub, req: Request<Body>) -> Result<(), TestCaseError> {
    let head = req.method() == axum::http::Method::HEAD;
    let resp = hub.router().oneshot(req).await.unwrap();
    let code = resp.status().as_u16();
    if head {
        // HTTP strips HEAD bodies; the code is all there is to check.
        prop_assert!(
            resp.status().is_success() || (400..600).contains(&code),
            "{}",
            code
        );
        return Ok(());
    }
    if resp.status().is_success() {
        return Ok(()); // 2xx bodies (objects, lists, watch streams) are the conformance suites' job.
    }
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .unwrap();
    let status: Value = serde_json::from_slice(&bytes)
        .map_err(|e| TestCaseError::fail(format!("{code} body is not JSON ({e}): {bytes:?}")))?;
    prop_assert!(ct.starts_with("application/json"), "{ct}");
    prop_assert_eq!(&status["kind"], "Status", "{}", status);
    prop_assert_eq!(&status["status"], "Failure", "{}", status);
    prop_assert_eq!(status["code"].as_u64(), Some(u64::from(code)), "{}", status);
    prop_assert!(
        status["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{}",
        status
    );
    prop_assert!((400..600).contains(&code), "{}", code);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn malformed_requests_get_status_answers(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW"]),
        path in path(),
        query in query(),
        ct in header("content-type"),
        accept in header("accept"),
        body in body(),
    ) {
        let rt = runtime();
        let hub = common::memory_hub();
        let uri = if query.is_empty() { path.clone() } else { format!("{path}?{query}") };
        let mut req = Request::builder().method(method).uri(&uri);
        for (name, value) in [ct, accept].into_iter().flatten() {
            req = req.header(name, value);
        }
        // An unparsable URI or header is rejected by the HTTP layer before the router.
        let Ok(req) = req.body(Body::from(body)) else { return Ok(()) };
        rt.block_on(check(&hub, req))?;
    }
}

#[test]
fn oversized_bodies_are_413_statuses_on_every_write_verb() {
    let rt = runtime();
    let hub = common::memory_hub();
    let big = vec![b' '; 3 * 1024 * 1024 + 1];
    for (method, path, ct) in [
        (
            "POST",
            "/api/v1/namespaces/default/configmaps",
            "application/json",
        ),
        (
            "PUT",
            "/api/v1/namespaces/default/configmaps/x",
            "application/json",
        ),
        (
            "PATCH",
            "/api/v1/namespaces/default/configmaps/x",
            "application/merge-patch+json",
        ),
        (
            "POST",
            "/api/v1/namespaces",
            "application/vnd.kubernetes.protobuf",
        ),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .body(Body::from(big.clone()))
            .unwrap();
        let resp = rt.block_on(hub.router().oneshot(req)).unwrap();
        assert_eq!(resp.status().as_u16(), 413, "{method} {path}");
    }
}

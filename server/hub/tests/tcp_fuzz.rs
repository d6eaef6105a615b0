//! A seeded fuzz run against the hub over real TCP (issue 21, "Hub input fuzzing"): thousands of
//! malformed requests — broken and huge JSON and protobuf bodies, wrong kinds, groups and
//! versions, bad selectors, every patch type with broken patches, absurd resourceVersions, watch
//! parameters, long paths and headers, bad content types, slow, cut-off and stalled bodies,
//! broken chunked encoding — interleaved with valid writes so there is state.
//!
//! Checked: every answer the hub gives to a bad request is a `Status` (kind Status, apiVersion
//! v1, status Failure, `code` the HTTP code, a reason), 4xx where the client is wrong; nothing
//! in the process panics; no request goes unanswered (each has a client deadline: a hang fails
//! naming the request); `/healthz` answers after every batch; and afterwards every object listed
//! is readable by GET, decodes, and agrees with its list item.
//!
//! `FLEETDECK_FUZZ_SEED=<n>` replays a run, `FLEETDECK_FUZZ_REQUESTS=<n>` changes its size.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hub::{Hub, Options, Storage};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEFAULT_SEED: u64 = 20_261_207;
const DEFAULT_REQUESTS: usize = 10_000;
/// Concurrent clients; each has its own generator (seed + its index), so a seed replays the same
/// requests (their interleaving differs).
const WORKERS: usize = 8;
/// Requests per batch; `/healthz` must answer between batches.
const BATCH: usize = 500;
/// A guard against hanging, not a timing requirement: a request the hub has not answered by
/// then is reported as a hang. Generous, for a debug build on a busy machine.
const CLIENT_DEADLINE: Duration = Duration::from_secs(20);
/// The hub's body deadline in this run; a stalled body must be answered 408 once it passes.
const BODY_TIMEOUT: Duration = Duration::from_millis(300);
const RESPONSE_CAP: usize = 32 << 20;
/// The fuzz run's hub is served as fleetdeck serves it: behind bearer-token authentication.
const TOKEN: &str = "fuzz-token";

/// splitmix64: small, seedable, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
    /// Up to `max` random bytes.
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// How the client ends a request after sending what it sends.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    /// A complete request; the connection may be reused.
    Complete,
    /// Half-close after a short body: the hub sees the connection end mid-body.
    CutOff,
    /// Keep the connection open without sending the rest of the body: the hub's body deadline
    /// must answer.
    Stall,
    /// The bytes do not frame a request (garbage, broken chunks): any answer or a close is fine,
    /// as long as an answer is well-formed.
    Broken,
}

struct Plan {
    what: String,
    /// Request head and body as pieces sent with a pause between them (slow bodies).
    pieces: Vec<Vec<u8>>,
    pause: Duration,
    end: End,
    /// A watch: a 200 is a stream, left after its headers.
    watch: bool,
}

const NAMES: &[&str] = &["f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7"];
const NAMESPACES: &[&str] = &["default", "fuzz", "nope"];

fn protobuf_fixture() -> Vec<u8> {
    use base64::Engine;
    let text = include_str!("fixtures/kubectl-create-protobuf.txt");
    let line = text.lines().nth(6).unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(line.trim())
        .expect("the fixture's protobuf line is base64")
}

fn configmap(name: &str, ns: &str, rng: &mut Rng) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": {"fuzz": format!("v{}", rng.below(4))}},
        "data": {"k": format!("{}", rng.next())},
    })
}

fn csur(name: &str, rng: &mut Rng) -> Value {
    json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
        "metadata": {"name": name},
        "spec": {"placementName": format!("p{}", rng.below(3)), "state": "Initialize"},
    })
}

/// A JSON text broken in one of several ways.
fn broken_json(rng: &mut Rng, valid: &Value) -> Vec<u8> {
    let text = valid.to_string().into_bytes();
    match rng.below(9) {
        0 => text[..rng.below(text.len())].to_vec(),
        1 => {
            let mut t = text;
            let i = rng.below(t.len());
            t[i] = rng.next() as u8;
            t
        }
        2 => rng.bytes(200),
        // Nesting past serde_json's recursion limit.
        3 => {
            let depth = 100 + rng.below(5000);
            let mut t = "[".repeat(depth).into_bytes();
            t.extend(std::iter::repeat_n(b']', depth));
            t
        }
        4 => format!(
            "{{\"metadata\":{{\"name\":\"{}\"}}}}",
            "a".repeat(rng.below(100_000))
        )
        .into_bytes(),
        5 => b"\xff\xfe{\"a\":1}".to_vec(),
        6 => {
            let choices: &[&str] = &[
                "null",
                "[]",
                "1e999999",
                "\"x\"",
                "{\"metadata\":[]}",
                "{\"metadata\":{\"name\":7}}",
                "{\"metadata\":{\"labels\":{\"a\":1}}}",
                "{\"metadata\":{\"resourceVersion\":5}}",
                "{\"data\":[1,2]}",
                "{\"spec\":\"x\"}",
                "{\"apiVersion\":7,\"kind\":[]}",
                "{\"metadata\":{\"name\":\"Bad_Name!\"}}",
                "{\"metadata\":{\"finalizers\":\"x\"}}",
                "{\"metadata\":{\"ownerReferences\":[{}]}}",
                "{\"metadata\":{\"namespace\":\"other\"}}",
                "{\"metadata\":{\"creationTimestamp\":\"yesterday\"}}",
                "{\"status\":{\"conditions\":7}}",
                "{\"a\":1,\"a\":2}",
                "{\"\\ud800\":1}",
            ];
            rng.pick(choices).as_bytes().to_vec()
        }
        // Just over the body limit, and far over it.
        7 => {
            let n = hub::MAX_BODY + 1 + rng.below(4 << 20);
            let mut t = b"{\"data\":{\"k\":\"".to_vec();
            t.extend(std::iter::repeat_n(b'x', n));
            t.extend(b"\"}}");
            t
        }
        // Large but under the limit: valid JSON of ~1-2.5 MiB.
        _ => {
            let mut v = valid.clone();
            v["data"] = json!({"big": "y".repeat((1 << 20) + rng.below(3 << 19))});
            v.to_string().into_bytes()
        }
    }
}

fn broken_protobuf(rng: &mut Rng, fixture: &[u8]) -> Vec<u8> {
    let mut f = fixture.to_vec();
    match rng.below(4) {
        0 => {
            f.truncate(rng.below(f.len()));
            f
        }
        1 => {
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(f.len());
                f[i] = rng.next() as u8;
            }
            f
        }
        2 => {
            let mut t = b"k8s\0".to_vec();
            t.extend(rng.bytes(300));
            t
        }
        _ => {
            // A length prefix that claims more than is there.
            let mut t = b"k8s\0\x0a\xff\xff\xff\xff\x0f".to_vec();
            t.extend(rng.bytes(40));
            t
        }
    }
}

fn bad_selector(rng: &mut Rng) -> String {
    let choices: &[&str] = &[
        "a in (b",
        "a notin (x,y)",
        "!a",
        "a==b,c!=d",
        "=",
        "a=b=c",
        "(((",
        ")",
        "a in ()",
        "a in (b,c)",
        "a,,b",
        "!",
        "!!a",
        "a!=",
        "key with space=x",
        "a=~b",
        "a in b)",
        "a in (b))",
        "x=é",
        "a in ((b))",
        "a  notin  ( b , c )",
        ",",
        "a=b,",
        "  ",
        "metadata.name=f1",
        "metadata.namespace!=default",
        "spec.placementName=p1",
        "status.phase=Running",
        "metadata.name",
        "metadata.name==",
        "=x",
        "metadata.name=f1,=",
        "metadata.labels.fuzz=v1",
    ];
    match rng.below(4) {
        0 => {
            let n = 1 + rng.below(5000);
            "a".repeat(n) + "=" + &"b".repeat(rng.below(100))
        }
        1 => String::from_utf8_lossy(&rng.bytes(30)).into_owned(),
        _ => rng.pick(choices).to_string(),
    }
}

fn absurd_rv(rng: &mut Rng) -> String {
    let choices: &[&str] = &[
        "0",
        "1",
        "-1",
        "18446744073709551615",
        "18446744073709551616",
        "99999999999999999999999999",
        "abc",
        "",
        " 1",
        "1.5",
        "0x10",
        "9223372036854775807",
        "9223372036854775808",
        "00001",
    ];
    rng.pick(choices).to_string()
}

fn watch_query(rng: &mut Rng) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("watch", rng.pick(&["true", "1", "false", "yes", ""]));
    let params: &[(&str, &[&str])] = &[
        (
            "timeoutSeconds",
            &["0", "1", "-5", "99999999999999999999", "x", "1.5", ""],
        ),
        ("allowWatchBookmarks", &["true", "false", "maybe", ""]),
        (
            "resourceVersionMatch",
            &["NotOlderThan", "Exact", "Bogus", ""],
        ),
        ("sendInitialEvents", &["true", "false", "2"]),
        (
            "resourceVersion",
            &["0", "1", "-1", "huge", "18446744073709551616"],
        ),
        ("labelSelector", &["fuzz=v1", "a in (", "!fuzz"]),
        ("fieldSelector", &["metadata.name=f1", "spec.x=1", "bad"]),
        ("limit", &["1", "-1", "x"]),
    ];
    for (k, vs) in params {
        if rng.chance(40) {
            s.append_pair(k, rng.pick(vs));
        }
    }
    s.finish()
}

fn list_query(rng: &mut Rng) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for _ in 0..rng.below(4) {
        match rng.below(7) {
            0 => s.append_pair("labelSelector", &bad_selector(rng)),
            1 => s.append_pair("fieldSelector", &bad_selector(rng)),
            2 => s.append_pair("resourceVersion", &absurd_rv(rng)),
            3 => s.append_pair(
                "resourceVersionMatch",
                rng.pick(&["NotOlderThan", "Exact", "x", ""]),
            ),
            4 => s.append_pair(
                "limit",
                rng.pick(&["0", "1", "-3", "500", "abc", "99999999999999999999"]),
            ),
            5 => s.append_pair("continue", rng.pick(&["x", "eyJ2IjoxfQ==", "", "%%%"])),
            _ => s.append_pair(
                rng.pick(&[
                    "dryRun",
                    "fieldManager",
                    "propagationPolicy",
                    "includeObject",
                    "pretty",
                    "x",
                ]),
                rng.pick(&["All", "true", "Orphan", "Object", "", "Nope"]),
            ),
        };
    }
    s.finish()
}

/// A resource collection path: mostly real ones, some wrong in group, version or kind.
fn collection(rng: &mut Rng, ns: &str) -> String {
    let choices: Vec<String> = vec![
        format!("/api/v1/namespaces/{ns}/configmaps"),
        format!("/api/v1/namespaces/{ns}/secrets"),
        "/api/v1/namespaces".into(),
        "/apis/placement.kubernetes-fleet.io/v1beta1/clusterstagedupdateruns".into(),
        format!("/apis/apps/v1/namespaces/{ns}/deployments"),
        format!("/api/v2/namespaces/{ns}/configmaps"),
        format!("/apis/nope.example/v1/namespaces/{ns}/widgets"),
        "/apis/placement.kubernetes-fleet.io/v9/clusterstagedupdateruns".into(),
        format!(
            "/apis/placement.kubernetes-fleet.io/v1beta1/namespaces/{ns}/clusterstagedupdateruns"
        ),
        "/api/v1/configmaps".into(),
        format!("/api/v1/namespaces/{ns}/pods"),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles".into(),
    ];
    choices[rng.below(choices.len())].clone()
}

fn content_type(rng: &mut Rng) -> String {
    let choices: &[&str] = &[
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
        "application/vnd.kubernetes.protobuf",
        "application/yaml",
        "text/plain",
        "*/*",
        "",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json;;;",
        "application/vnd.kubernetes.protobuf;stream=watch",
        "application/foo+protobuf",
    ];
    rng.pick(choices).to_string()
}

fn head(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body_len: Option<usize>,
) -> Vec<u8> {
    let mut h = format!("{method} {target} HTTP/1.1\r\nHost: hub\r\n");
    // The admin's token, as fleetdeck's hub is served, unless the request brings its own.
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        h.push_str(&format!("Authorization: Bearer {TOKEN}\r\n"));
    }
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = body_len {
        h.push_str(&format!("Content-Length: {n}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// An ordinary request with a whole body.
fn simple(what: String, method: &str, target: &str, ct: Option<String>, body: Vec<u8>) -> Plan {
    let headers: Vec<(String, String)> =
        ct.into_iter().map(|c| ("Content-Type".into(), c)).collect();
    let len = (!body.is_empty() || method != "GET").then_some(body.len());
    let mut bytes = head(method, target, &headers, len);
    bytes.extend(body);
    Plan {
        what,
        pieces: vec![bytes],
        pause: Duration::ZERO,
        end: End::Complete,
        watch: false,
    }
}

fn generate(rng: &mut Rng, fixture: &[u8], kinds: &[Resource]) -> Plan {
    let ns = rng.pick(NAMESPACES).to_string();
    let name = rng.pick(NAMES).to_string();
    let cm_coll = format!("/api/v1/namespaces/{ns}/configmaps");
    let cm_item = format!("{cm_coll}/{name}");
    let csur_item =
        format!("/apis/placement.kubernetes-fleet.io/v1beta1/clusterstagedupdateruns/{name}");
    // One request in eight is an object of a served kind with schema-shaped random contents.
    if rng.below(8) == 0 {
        return schema_fuzz(rng, kinds, &ns, &name);
    }
    match rng.below(100) {
        // Valid writes, so there is state to break.
        0..=17 => {
            let (kind, item, coll, obj) = if rng.chance(75) {
                ("cm", cm_item, cm_coll, configmap(&name, &ns, rng))
            } else {
                (
                    "csur",
                    csur_item,
                    "/apis/placement.kubernetes-fleet.io/v1beta1/clusterstagedupdateruns".into(),
                    csur(&name, rng),
                )
            };
            let json = Some("application/json".to_string());
            match rng.below(6) {
                0 | 1 => simple(
                    format!("create {kind} {name}"),
                    "POST",
                    &coll,
                    json,
                    obj.to_string().into_bytes(),
                ),
                2 => simple(
                    format!("replace {kind} {name}"),
                    "PUT",
                    &item,
                    json,
                    obj.to_string().into_bytes(),
                ),
                3 => simple(
                    format!("merge-patch {kind} {name}"),
                    "PATCH",
                    &item,
                    Some("application/merge-patch+json".into()),
                    json!({"metadata": {"labels": {"fuzz": format!("p{}", rng.below(3))}}})
                        .to_string()
                        .into_bytes(),
                ),
                4 => simple(
                    format!("delete {kind} {name}"),
                    "DELETE",
                    &item,
                    None,
                    Vec::new(),
                ),
                _ => simple(format!("get {kind} {name}"), "GET", &item, None, Vec::new()),
            }
        }
        // Broken, wrong and huge bodies on create and replace.
        18..=29 => {
            let method = rng.pick(&["POST", "PUT"]);
            let target = if method == "POST" {
                collection(rng, &ns)
            } else {
                format!("{}/{name}", collection(rng, &ns))
            };
            let valid = if rng.chance(50) {
                configmap(&name, &ns, rng)
            } else {
                csur(&name, rng)
            };
            let (ct, body) = match rng.below(5) {
                0 => (
                    "application/vnd.kubernetes.protobuf".to_string(),
                    broken_protobuf(rng, fixture),
                ),
                1 => (
                    "application/vnd.kubernetes.protobuf".to_string(),
                    fixture.to_vec(),
                ),
                // A valid object of another kind, group or version than the path's.
                2 => {
                    let mut v = valid.clone();
                    v["kind"] = json!(rng.pick(&[
                        "Secret",
                        "Pod",
                        "Nope",
                        "",
                        "ConfigMap",
                        "ClusterStagedUpdateRun"
                    ]));
                    v["apiVersion"] = json!(rng.pick(&[
                        "v1",
                        "v2",
                        "apps/v1",
                        "placement.kubernetes-fleet.io/v1beta1",
                        "x/y/z",
                        ""
                    ]));
                    (content_type(rng), v.to_string().into_bytes())
                }
                _ => (content_type(rng), broken_json(rng, &valid)),
            };
            simple(
                format!("{method} {target} broken body ({} bytes, {ct})", body.len()),
                method,
                &target,
                Some(ct),
                body,
            )
        }
        // Every patch type with broken (and some fitting) patches.
        30..=43 => {
            let target = if rng.chance(70) { cm_item } else { csur_item };
            let target = if rng.chance(20) {
                format!("{target}/status")
            } else {
                target
            };
            let ct = rng
                .pick(&[
                    "application/merge-patch+json",
                    "application/json-patch+json",
                    "application/strategic-merge-patch+json",
                    "application/apply-patch+yaml",
                    "application/apply-patch+json",
                    "application/json",
                    "",
                ])
                .to_string();
            let patches: &[&str] = &[
                "[{\"op\":\"replace\",\"path\":\"/data/k\",\"value\":\"1\"}]",
                "[{\"op\":\"add\",\"path\":\"/metadata/labels/x\",\"value\":\"y\"}]",
                "[{\"op\":\"remove\",\"path\":\"/metadata\"}]",
                "[{\"op\":\"remove\",\"path\":\"/metadata/name\"}]",
                "[{\"op\":\"replace\",\"path\":\"/metadata/namespace\",\"value\":\"other\"}]",
                "[{\"op\":\"replace\",\"path\":\"/kind\",\"value\":\"Secret\"}]",
                "[{\"op\":\"move\",\"from\":\"/data\",\"path\":\"/data/k\"}]",
                "[{\"op\":\"copy\",\"from\":\"/metadata\",\"path\":\"/spec\"}]",
                "[{\"op\":\"test\",\"path\":\"/data/k\",\"value\":\"nope\"}]",
                "[{\"op\":\"bogus\"}]",
                "[{\"op\":\"add\",\"path\":\"no-slash\",\"value\":1}]",
                "[{\"op\":\"add\",\"path\":\"/a/b/c/d\",\"value\":1}]",
                "[{\"op\":\"add\",\"path\":\"/data/~2\",\"value\":1}]",
                "[{\"op\":\"replace\",\"path\":\"/metadata/resourceVersion\",\"value\":\"1\"}]",
                "[{\"op\":\"replace\",\"path\":\"/metadata/uid\",\"value\":\"x\"}]",
                "[{\"op\":\"add\",\"path\":\"/spec/stagedRolloutStrategyName\",\"value\":7}]",
                "[]",
                "{}",
                "null",
                "7",
                "\"x\"",
                "[1]",
                "[[[]]]",
                "{\"metadata\":null}",
                "{\"metadata\":{\"name\":\"other\"}}",
                "{\"data\":null}",
                "{\"data\":{\"k\":{\"nested\":1}}}",
                "{\"spec\":{\"state\":\"Bogus\"}}",
                "{\"$patch\":\"replace\"}",
                "{\"$patch\":\"delete\"}",
                "{\"metadata\":{\"$patch\":\"delete\"}}",
                "{\"$retainKeys\":[\"data\"]}",
                "{\"$deleteFromPrimitiveList/finalizers\":[\"a\"]}",
                "{\"metadata\":{\"finalizers\":[\"a/b\"]}}",
                "{\"metadata\":{\"finalizers\":[{\"$patch\":\"delete\"}]}}",
                "{\"metadata\":{\"ownerReferences\":[{\"uid\":\"u\",\"$patch\":\"delete\"}]}}",
                "{\"status\":{\"conditions\":[{\"type\":\"A\"},{\"$patch\":\"replace\"}]}}",
                "{\"metadata\":{\"resourceVersion\":\"1\"}}",
                "{\"metadata\":{\"resourceVersion\":\"abc\"}}",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f1\n",
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"f1\"}}",
            ];
            let body = match rng.below(3) {
                0 => {
                    let valid = configmap(&name, &ns, rng);
                    broken_json(rng, &valid)
                }
                _ => rng.pick(patches).as_bytes().to_vec(),
            };
            let q = if rng.chance(20) {
                format!(
                    "?{}",
                    rng.pick(&[
                        "fieldManager=x",
                        "force=true",
                        "force=maybe",
                        "dryRun=All",
                        "dryRun=Bogus",
                        "fieldValidation=Strict"
                    ])
                )
            } else {
                String::new()
            };
            simple(
                format!(
                    "PATCH {target}{q} ({ct}) {}",
                    String::from_utf8_lossy(&body[..body.len().min(80)])
                ),
                "PATCH",
                &format!("{target}{q}"),
                Some(ct),
                body,
            )
        }
        // Lists and GETs with bad selectors, absurd resourceVersions, odd Accept headers.
        44..=55 => {
            let target = if rng.chance(70) {
                collection(rng, &ns)
            } else {
                format!("{}/{name}", collection(rng, &ns))
            };
            let q = list_query(rng);
            let accept = rng.pick(&[
                "application/json",
                "application/json;as=Table;v=v1;g=meta.k8s.io",
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
                "application/vnd.kubernetes.protobuf",
                "text/html",
                "*/*",
                "",
                "application/json;as=Bogus",
            ]);
            let mut bytes = head(
                "GET",
                &format!("{target}?{q}"),
                &[("Accept".into(), accept.into())],
                None,
            );
            bytes.truncate(bytes.len());
            Plan {
                what: format!("GET {target}?{q} accept {accept}"),
                pieces: vec![bytes],
                pause: Duration::ZERO,
                end: End::Complete,
                watch: false,
            }
        }
        // Watches with every parameter.
        56..=62 => {
            let target = if rng.chance(80) {
                collection(rng, &ns)
            } else {
                format!("/api/v1/watch/namespaces/{ns}/configmaps")
            };
            let q = watch_query(rng);
            let bytes = head("GET", &format!("{target}?{q}"), &[], None);
            Plan {
                what: format!("watch {target}?{q}"),
                pieces: vec![bytes],
                pause: Duration::ZERO,
                end: End::Complete,
                watch: true,
            }
        }
        // Long paths.
        63..=66 => {
            let target = match rng.below(4) {
                0 => format!(
                    "/api/v1/namespaces/{ns}/configmaps/{}",
                    "n".repeat(1 + rng.below(70_000))
                ),
                1 => "/api/v1".to_string() + &"/x".repeat(1 + rng.below(20_000)),
                2 => format!(
                    "/api/v1/namespaces/{}/configmaps",
                    "%41".repeat(1 + rng.below(5000))
                ),
                _ => format!("/apis/{}/v1/things", "g.".repeat(1 + rng.below(30_000))),
            };
            let method = rng.pick(&["GET", "DELETE", "POST"]);
            simple(
                format!("{method} long path ({} bytes)", target.len()),
                method,
                &target,
                Some("application/json".into()),
                Vec::new(),
            )
        }
        // Long and many headers.
        67..=70 => {
            let mut headers: Vec<(String, String)> = Vec::new();
            match rng.below(4) {
                0 => headers.push(("X-Long".into(), "v".repeat(1 + rng.below(600_000)))),
                // Credentials that are wrong, malformed or huge: 401, never a crash.
                3 => {
                    let long = format!("Bearer {}", "t".repeat(rng.below(100_000)));
                    let odd: &[&str] = &[
                        "Bearer wrong",
                        "Bearer",
                        "Bearer ",
                        "Basic YWRtaW46YWRtaW4=",
                        "bearer fuzz-token",
                        "Bearer fuzz-token extra",
                        "Bearer fuzz-tokeN",
                        "Negotiate x",
                        "",
                        "Bearer \u{7f}",
                    ];
                    let v = if rng.chance(20) {
                        long
                    } else {
                        rng.pick(odd).to_string()
                    };
                    headers.push(("Authorization".into(), v));
                }
                1 => {
                    for i in 0..1 + rng.below(300) {
                        headers.push((format!("X-Many-{i}"), "v".into()));
                    }
                }
                _ => {
                    headers.push((
                        "Impersonate-User".into(),
                        rng.pick(&["nobody", "", "system:admin", "a\tb"]).into(),
                    ));
                    if rng.chance(50) {
                        headers.push((
                            "Impersonate-Group".into(),
                            rng.pick(&["system:masters", "x", ""]).into(),
                        ));
                    }
                    headers.push(("Accept".into(), "a".repeat(rng.below(5000))));
                    headers.push((
                        "Content-Type".into(),
                        format!("application/json; {}", "x=y;".repeat(rng.below(2000))),
                    ));
                }
            }
            let n: usize = headers.iter().map(|(k, v)| k.len() + v.len()).sum();
            let body = configmap(&name, &ns, rng).to_string().into_bytes();
            let mut bytes = head("POST", &cm_coll, &headers, Some(body.len()));
            bytes.extend(body);
            Plan {
                what: format!("POST {cm_coll} with {} headers of {n} bytes", headers.len()),
                pieces: vec![bytes],
                pause: Duration::ZERO,
                end: End::Complete,
                watch: false,
            }
        }
        // Slow bodies: sent in pieces with pauses, complete in the end.
        71..=76 => {
            let body = configmap(&name, &ns, rng).to_string().into_bytes();
            let mut pieces = vec![head(
                "POST",
                &cm_coll,
                &[("Content-Type".into(), "application/json".into())],
                Some(body.len()),
            )];
            let cut = rng.below(body.len());
            pieces.push(body[..cut].to_vec());
            pieces.push(body[cut..].to_vec());
            let pause = Duration::from_millis(rng.below(40) as u64);
            Plan {
                what: format!(
                    "slow body POST {cm_coll} in pieces of {cut}/{} bytes",
                    body.len()
                ),
                pieces,
                pause,
                end: End::Complete,
                watch: false,
            }
        }
        // Cut-off bodies: Content-Length larger than what is sent, then the client closes.
        77..=82 => {
            let body = configmap(&name, &ns, rng).to_string().into_bytes();
            let sent = rng.below(body.len());
            let method = rng.pick(&["POST", "PUT", "PATCH"]);
            let target = if method == "POST" { cm_coll } else { cm_item };
            let mut bytes = head(
                method,
                &target,
                &[("Content-Type".into(), "application/merge-patch+json".into())],
                Some(body.len() + 1 + rng.below(1 << 20)),
            );
            bytes.extend(&body[..sent]);
            Plan {
                what: format!("cut-off body {method} {target} after {sent} bytes"),
                pieces: vec![bytes],
                pause: Duration::ZERO,
                end: End::CutOff,
                watch: false,
            }
        }
        // Stalled bodies: the client keeps the connection and sends no more.
        83..=84 => {
            let body = configmap(&name, &ns, rng).to_string().into_bytes();
            let sent = rng.below(body.len());
            let mut bytes = head(
                "POST",
                &cm_coll,
                &[("Content-Type".into(), "application/json".into())],
                Some(body.len()),
            );
            bytes.extend(&body[..sent]);
            Plan {
                what: format!(
                    "stalled body POST {cm_coll} after {sent} of {} bytes",
                    body.len()
                ),
                pieces: vec![bytes],
                pause: Duration::ZERO,
                end: End::Stall,
                watch: false,
            }
        }
        // Chunked encoding, broken in several ways.
        85..=92 => {
            let body = configmap(&name, &ns, rng).to_string();
            let chunks = match rng.below(7) {
                0 => format!("zz\r\n{body}\r\n0\r\n\r\n"),
                1 => format!("{:x}\r\n{body}\r\n", body.len() + 10),
                2 => format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()),
                3 => format!("{:x};ext=\"unterminated\r\n{body}\r\n0\r\n\r\n", body.len()),
                4 => format!("ffffffffffffffffffff\r\n{body}\r\n0\r\n\r\n"),
                5 => format!("{:x}\r\n{body}XX0\r\n\r\n", body.len()),
                _ => format!("-1\r\n{body}\r\n0\r\n\r\n"),
            };
            let mut headers = vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                (
                    "Transfer-Encoding".into(),
                    rng.pick(&[
                        "chunked",
                        "chunked",
                        "gzip, chunked",
                        "chunked, identity",
                        "bogus",
                    ])
                    .into(),
                ),
            ];
            if rng.chance(20) {
                headers.push(("Content-Length".into(), "5".into()));
            }
            let mut bytes = head("POST", &cm_coll, &headers, None);
            bytes.extend(chunks.as_bytes());
            let end = if rng.chance(50) {
                End::Broken
            } else {
                End::CutOff
            };
            Plan {
                what: format!(
                    "chunked POST {cm_coll}: {}",
                    chunks.chars().take(60).collect::<String>().escape_debug()
                ),
                pieces: vec![bytes],
                pause: Duration::ZERO,
                end,
                watch: false,
            }
        }
        // Bad methods, request lines and versions.
        _ => {
            let choices: &[&str] = &[
                "BREW /api/v1/namespaces HTTP/1.1\r\nHost: hub\r\n\r\n",
                "GET /api/v1/namespaces HTTP/9.9\r\nHost: hub\r\n\r\n",
                "GET\r\n\r\n",
                "GARBAGE\r\n\r\n",
                "GET /api/v1/namespaces HTTP/1.1\r\nHost hub\r\n\r\n",
                "GET /api/v1/namespaces HTTP/1.1\r\nHost: hub\r\nContent-Length: -1\r\n\r\n",
                "GET /api/v1/namespaces HTTP/1.1\r\nHost: hub\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                "POST /api/v1/namespaces HTTP/1.1\r\nHost: hub\r\nContent-Length: 99999999999999999999999\r\n\r\n{}",
                "GET /api/v1/namespaces\x00 HTTP/1.1\r\nHost: hub\r\n\r\n",
                "GET http://evil/api/v1/namespaces HTTP/1.1\r\nHost: hub\r\n\r\n",
                "OPTIONS * HTTP/1.1\r\nHost: hub\r\n\r\n",
                "GET /api/v1/namespaces HTTP/1.0\r\n\r\n",
                "HEAD /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: hub\r\n\r\n",
                "DELETE /api/v1/namespaces/default/configmaps HTTP/1.1\r\nHost: hub\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
                "GET /../../etc/passwd HTTP/1.1\r\nHost: hub\r\n\r\n",
                "GET /api/v1/namespaces/%ff%fe/configmaps HTTP/1.1\r\nHost: hub\r\n\r\n",
            ];
            let raw = rng.pick(choices);
            let authorized = raw.replace(
                "Host: hub\r\n",
                &format!("Host: hub\r\nAuthorization: Bearer {TOKEN}\r\n"),
            );
            Plan {
                what: format!("raw {}", raw.escape_debug()),
                pieces: vec![authorized.into_bytes()],
                pause: Duration::ZERO,
                end: End::Broken,
                watch: false,
            }
        }
    }
}

#[derive(Debug)]
struct Response {
    code: u16,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
    /// The hub asked to close (or the response ended the connection).
    close: bool,
}

enum Outcome {
    Answered(Response),
    /// The connection ended without a (complete) answer.
    Closed(String),
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP/1.1 response (`Content-Length`, chunked, or up to the close); `None` at EOF
/// before a complete one. A watch's 200 is returned after its headers.
async fn read_response(
    sock: &mut TcpStream,
    buf: &mut Vec<u8>,
    watch: bool,
    head_request: bool,
) -> std::io::Result<Option<Response>> {
    let mut chunk = vec![0u8; 64 << 10];
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let code: u16 = status
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP status line: {status:?}")))?;
    let headers: BTreeMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut close = headers
        .get("connection")
        .is_some_and(|c| c.eq_ignore_ascii_case("close"));
    if watch && code == 200 {
        return Ok(Some(Response {
            code,
            headers,
            body: Vec::new(),
            close: true,
        }));
    }
    let body = if head_request {
        Vec::new()
    } else if let Some(len) = headers.get("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| std::io::Error::other("bad Content-Length"))?;
        while buf.len() < len {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..len).collect()
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(buf, b"\r\n") {
                    break i;
                }
                let n = sock.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            };
            let size_line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size_line:?}")))?;
            while buf.len() < line_end + 2 + size + 2 {
                let n = sock.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
            buf.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break body;
            }
            if body.len() > RESPONSE_CAP {
                return Err(std::io::Error::other("response too large"));
            }
        }
    } else if code == 204 || code == 304 || (100..200).contains(&code) {
        Vec::new()
    } else {
        // No length: the body runs to the close.
        close = true;
        loop {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                break std::mem::take(buf);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    };
    Ok(Some(Response {
        code,
        headers,
        body,
        close,
    }))
}

/// Sends a plan on `conn` (or a new connection) and reads the answer.
async fn exchange(
    addr: SocketAddr,
    conn: &mut Option<(TcpStream, Vec<u8>)>,
    plan: &Plan,
) -> std::io::Result<Outcome> {
    let reuse = plan.end == End::Complete && !plan.watch;
    let (mut sock, mut buf) = match conn.take() {
        Some(c) if reuse => c,
        _ => (TcpStream::connect(addr).await?, Vec::new()),
    };
    for (i, piece) in plan.pieces.iter().enumerate() {
        if i > 0 && !plan.pause.is_zero() {
            tokio::time::sleep(plan.pause).await;
        }
        if let Err(e) = sock.write_all(piece).await {
            // The hub may answer and close before it has read everything (a 413 on a huge body,
            // a 431 on huge headers): what it answered is still to be checked.
            if e.kind() != std::io::ErrorKind::BrokenPipe
                && e.kind() != std::io::ErrorKind::ConnectionReset
            {
                return Err(e);
            }
            break;
        }
    }
    if plan.end == End::CutOff {
        let _ = sock.shutdown().await;
    }
    let head_request = plan.pieces.first().is_some_and(|p| p.starts_with(b"HEAD "));
    match read_response(&mut sock, &mut buf, plan.watch, head_request).await {
        Ok(Some(resp)) => {
            // Only after a success: hyper closes a connection whose request body the handler
            // left unread (most refusals), and a reused one would then look unanswered.
            if reuse && !resp.close && resp.code < 300 {
                *conn = Some((sock, buf));
            }
            Ok(Outcome::Answered(resp))
        }
        Ok(None) => Ok(Outcome::Closed("closed without an answer".into())),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            Ok(Outcome::Closed("connection reset".into()))
        }
        Err(e) => Err(e),
    }
}

#[derive(Default)]
struct Tally {
    by_code: BTreeMap<u16, usize>,
    /// Answers from the HTTP layer (hyper) before the hub: no body, no Status.
    http_layer: BTreeMap<u16, usize>,
    closed: usize,
    server_errors: Vec<String>,
    failures: Vec<String>,
}

/// Checks one answer; returns a failure text.
fn check(plan: &Plan, resp: &Response) -> Option<String> {
    let code = resp.code;
    let what = &plan.what;
    if !(200..600).contains(&code) {
        return Some(format!("{what}: HTTP {code}"));
    }
    if plan.pieces.first().is_some_and(|p| p.starts_with(b"HEAD ")) {
        // HTTP strips HEAD bodies; the code is all there is to check.
        return (code >= 500).then(|| format!("{what}: {code}"));
    }
    // The hub must not call a broken or cut-off body a large one.
    let sent: usize = plan.pieces.iter().map(Vec::len).sum();
    if code == 413 && sent < hub::MAX_BODY {
        return Some(format!("{what}: 413 for {sent} bytes"));
    }
    if code < 400 {
        if plan.watch || resp.body.is_empty() {
            return None;
        }
        let ct = resp
            .headers
            .get("content-type")
            .map(String::as_str)
            .unwrap_or("");
        if ct.starts_with("application/json")
            && serde_json::from_slice::<Value>(&resp.body).is_err()
        {
            return Some(format!(
                "{what}: {code} with a body that is not JSON: {}",
                String::from_utf8_lossy(&resp.body[..resp.body.len().min(200)])
            ));
        }
        return None;
    }
    let status: Value = match serde_json::from_slice(&resp.body) {
        Ok(v) => v,
        Err(_) if resp.body.is_empty() && !resp.headers.contains_key("content-type") => {
            // hyper's own refusal of a request it cannot parse (never reaches the hub), like Go's
            // net/http in front of kube-apiserver. Must still be a client error, never a 5xx.
            return (code >= 500).then(|| format!("{what}: the HTTP layer answered {code}"));
        }
        Err(e) => {
            return Some(format!(
                "{what}: {code} body is not JSON ({e}): {}",
                String::from_utf8_lossy(&resp.body[..resp.body.len().min(200)])
            ))
        }
    };
    let ct = resp
        .headers
        .get("content-type")
        .map(String::as_str)
        .unwrap_or("");
    let ok = ct.starts_with("application/json")
        && status["kind"] == "Status"
        && status["apiVersion"] == "v1"
        && status["status"] == "Failure"
        && status["code"].as_u64() == Some(u64::from(code))
        && status["reason"].as_str().is_some_and(|r| !r.is_empty())
        && status["message"].as_str().is_some();
    (!ok).then(|| format!("{what}: {code} is not a well-formed Status ({ct}): {status}"))
}

fn seed() -> u64 {
    std::env::var("FLEETDECK_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED)
}

fn budget() -> usize {
    std::env::var("FLEETDECK_FUZZ_REQUESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_REQUESTS)
}

async fn health(addr: SocketAddr) -> Result<(), String> {
    let plan = Plan {
        what: "GET /healthz".into(),
        pieces: vec![head("GET", "/healthz", &[], None)],
        pause: Duration::ZERO,
        end: End::Complete,
        watch: false,
    };
    match tokio::time::timeout(CLIENT_DEADLINE, exchange(addr, &mut None, &plan)).await {
        Ok(Ok(Outcome::Answered(r))) if r.code == 200 => Ok(()),
        Ok(Ok(Outcome::Answered(r))) => Err(format!("/healthz answered {}", r.code)),
        Ok(Ok(Outcome::Closed(why))) => Err(format!("/healthz: {why}")),
        Ok(Err(e)) => Err(format!("/healthz: {e}")),
        Err(_) => Err("/healthz did not answer".into()),
    }
}

async fn get_json(addr: SocketAddr, path: &str) -> (u16, Value) {
    let plan = Plan {
        what: format!("GET {path}"),
        pieces: vec![head(
            "GET",
            path,
            &[("Accept".into(), "application/json".into())],
            None,
        )],
        pause: Duration::ZERO,
        end: End::Complete,
        watch: false,
    };
    match tokio::time::timeout(CLIENT_DEADLINE, exchange(addr, &mut None, &plan)).await {
        Ok(Ok(Outcome::Answered(r))) => {
            let v = serde_json::from_slice(&r.body)
                .unwrap_or_else(|e| panic!("GET {path}: {} is not JSON: {e}", r.code));
            (r.code, v)
        }
        _ => panic!("GET {path} got no answer"),
    }
}

/// A resource the hub serves, from discovery: where its objects live and what they are.
#[derive(Clone, Debug)]
struct Resource {
    /// `/api/v1` or `/apis/<group>/<version>`.
    prefix: String,
    plural: String,
    namespaced: bool,
    kind: String,
    api_version: String,
}

impl Resource {
    fn collection(&self, ns: &str) -> String {
        if self.namespaced {
            format!("{}/namespaces/{ns}/{}", self.prefix, self.plural)
        } else {
            format!("{}/{}", self.prefix, self.plural)
        }
    }
}

/// Every resource the hub lists in discovery that can be created (built-ins and every fleet CRD).
async fn resources(addr: SocketAddr) -> Vec<Resource> {
    let mut groups = vec![("/api/v1".to_string(), "v1".to_string())];
    let (_, apis) = get_json(addr, "/apis").await;
    for g in apis["groups"].as_array().into_iter().flatten() {
        for v in g["versions"].as_array().into_iter().flatten() {
            if let Some(gv) = v["groupVersion"].as_str() {
                groups.push((format!("/apis/{gv}"), gv.to_string()));
            }
        }
    }
    let mut out = Vec::new();
    for (prefix, api_version) in groups {
        let (_, list) = get_json(addr, &prefix).await;
        for r in list["resources"].as_array().into_iter().flatten() {
            let plural = r["name"].as_str().unwrap_or_default();
            let creatable = r["verbs"]
                .as_array()
                .is_some_and(|v| v.contains(&json!("create")));
            if plural.contains('/') || !creatable {
                continue;
            }
            out.push(Resource {
                prefix: prefix.clone(),
                plural: plural.to_string(),
                namespaced: r["namespaced"] == true,
                kind: r["kind"].as_str().unwrap_or_default().to_string(),
                api_version: api_version.clone(),
            });
        }
    }
    out
}

/// Field names of the fleet CRDs and built-ins, so that random objects hit their schemas (types,
/// enums, patterns, CEL rules) rather than only unknown fields.
const FIELDS: &[&str] = &[
    "placementName",
    "resourceSnapshotIndex",
    "stagedRolloutStrategyName",
    "state",
    "stages",
    "name",
    "labelSelector",
    "matchLabels",
    "matchExpressions",
    "key",
    "operator",
    "values",
    "maxConcurrency",
    "afterStageTasks",
    "beforeStageTasks",
    "type",
    "waitTime",
    "sortingLabelKey",
    "policy",
    "placementType",
    "numberOfClusters",
    "clusterNames",
    "affinity",
    "clusterAffinity",
    "requiredDuringSchedulingIgnoredDuringExecution",
    "clusterSelectorTerms",
    "tolerations",
    "resourceSelectors",
    "group",
    "version",
    "kind",
    "strategy",
    "rollingUpdate",
    "maxUnavailable",
    "maxSurge",
    "unavailablePeriodSeconds",
    "applyStrategy",
    "whenToApply",
    "whenToTakeOver",
    "comparisonOption",
    "revisionHistoryLimit",
    "conditions",
    "status",
    "reason",
    "message",
    "lastTransitionTime",
    "observedGeneration",
    "identity",
    "heartbeatPeriodSeconds",
    "overrideRules",
    "clusterSelector",
    "jsonPatchOverrides",
    "op",
    "path",
    "value",
    "overrideType",
    "placement",
    "targetCluster",
    "resourceSnapshotName",
    "schedulingPolicySnapshotName",
    "replicas",
    "data",
    "rules",
    "verbs",
    "subjects",
    "roleRef",
    "members",
    "release",
    "targets",
    "gates",
    "approved",
];

/// Scalars at the edges of what schemas accept.
fn odd_scalar(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => json!(rng.pick(&[
            "",
            "Run",
            "Initialize",
            "Stop",
            "PickAll",
            "PickN",
            "PickFixed",
            "RollingUpdate",
            "External",
            "TimedWait",
            "Approval",
            "In",
            "NotIn",
            "Exists",
            "1h",
            "-1s",
            "99999999999h",
            "25%",
            "101%",
            "x/y",
            "*",
            "${x}",
            "has(self.x)",
            "\u{0}",
            "Always",
            "IfNotDrifted",
            "Never",
            "True",
            "False",
            "Unknown",
            "replace",
            "add",
            "remove",
        ])),
        1 => json!("z".repeat(rng.below(5000))),
        2 => json!([0i64, -1, 1, 2, 100, i64::MAX, i64::MIN, 1 << 53][rng.below(8)]),
        3 => json!([0.5f64, -0.0, 1e308, -1e308, 3.0][rng.below(5)]),
        4 => json!(rng.chance(50)),
        5 => Value::Null,
        _ => json!(format!("v{}", rng.below(10))),
    }
}

fn odd_value(rng: &mut Rng, depth: usize) -> Value {
    if depth == 0 {
        return odd_scalar(rng);
    }
    match rng.below(5) {
        0 => Value::Array(
            (0..rng.below(4))
                .map(|_| odd_value(rng, depth - 1))
                .collect(),
        ),
        1 | 2 => odd_object(rng, depth - 1),
        _ => odd_scalar(rng),
    }
}

fn odd_object(rng: &mut Rng, depth: usize) -> Value {
    let mut m = serde_json::Map::new();
    for _ in 0..1 + rng.below(5) {
        let k = if rng.chance(90) {
            rng.pick(FIELDS).to_string()
        } else {
            String::from_utf8_lossy(&rng.bytes(12)).into_owned()
        };
        m.insert(k, odd_value(rng, depth));
    }
    Value::Object(m)
}

/// An object of a served kind (sometimes under a wrong version or kind) with random contents
/// shaped like its schema's fields: create, replace, patch, or write its status.
fn schema_fuzz(rng: &mut Rng, kinds: &[Resource], ns: &str, name: &str) -> Plan {
    let r = &kinds[rng.below(kinds.len())];
    let mut obj = json!({
        "apiVersion": if rng.chance(85) { r.api_version.clone() } else { format!("{}x", r.api_version) },
        "kind": if rng.chance(90) { r.kind.clone() } else { "Other".into() },
        "metadata": {"name": name},
        "spec": odd_object(rng, 3),
    });
    if r.namespaced {
        obj["metadata"]["namespace"] = json!(ns);
    }
    if rng.chance(30) {
        obj["status"] = odd_object(rng, 3);
    }
    if rng.chance(20) {
        obj["metadata"]["labels"] = json!({rng.pick(FIELDS): odd_scalar(rng)});
    }
    let coll = r.collection(ns);
    let item = format!("{coll}/{name}");
    let (method, target, ct, body) = match rng.below(5) {
        0 | 1 => ("POST", coll, "application/json", obj),
        2 => ("PUT", item, "application/json", obj),
        3 => (
            "PATCH",
            item,
            rng.pick(&[
                "application/merge-patch+json",
                "application/apply-patch+yaml",
            ]),
            json!({"spec": odd_object(rng, 3)}),
        ),
        _ => (
            if rng.chance(50) { "PUT" } else { "PATCH" },
            format!("{item}/status"),
            "application/merge-patch+json",
            obj,
        ),
    };
    let text = body.to_string();
    simple(
        format!(
            "{method} {target} ({ct}) {}",
            text.chars().take(200).collect::<String>()
        ),
        method,
        &target,
        Some(ct.to_string()),
        text.into_bytes(),
    )
}

/// Every object of every listable resource: readable by GET, the same as its list item.
async fn check_store(addr: SocketAddr) -> usize {
    let mut groups = vec![("/api/v1".to_string(), String::new())];
    let (_, apis) = get_json(addr, "/apis").await;
    for g in apis["groups"].as_array().into_iter().flatten() {
        for v in g["versions"].as_array().into_iter().flatten() {
            if let Some(gv) = v["groupVersion"].as_str() {
                groups.push((format!("/apis/{gv}"), gv.to_string()));
            }
        }
    }
    let (mut objects, mut undecodable) = (0, Vec::new());
    for (prefix, gv) in groups {
        let api_version = if gv.is_empty() { "v1".to_string() } else { gv };
        let (_, list) = get_json(addr, &prefix).await;
        for r in list["resources"].as_array().into_iter().flatten() {
            let plural = r["name"].as_str().unwrap_or_default();
            let verbs: Vec<&str> = r["verbs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if plural.contains('/') || !verbs.contains(&"list") || !verbs.contains(&"get") {
                continue;
            }
            let (code, items) = get_json(addr, &format!("{prefix}/{plural}")).await;
            assert_eq!(code, 200, "list {prefix}/{plural}: {items}");
            for item in items["items"].as_array().into_iter().flatten() {
                let name = item["metadata"]["name"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{plural} item without a name: {item}"));
                assert!(
                    item["metadata"]["uid"].is_string()
                        && item["metadata"]["resourceVersion"].is_string(),
                    "{plural}/{name}: {item}"
                );
                let path = match item["metadata"]["namespace"].as_str() {
                    Some(ns) if r["namespaced"] == true => {
                        format!("{prefix}/namespaces/{ns}/{plural}/{name}")
                    }
                    _ => format!("{prefix}/{plural}/{name}"),
                };
                let (code, got) = get_json(addr, &path).await;
                assert_eq!(code, 200, "GET {path} of a listed object: {got}");
                let strip = |v: &Value| {
                    let mut v = v.clone();
                    if let Some(m) = v.as_object_mut() {
                        m.remove("kind");
                        m.remove("apiVersion");
                    }
                    v
                };
                assert_eq!(
                    strip(&got),
                    strip(item),
                    "GET {path} and its list item differ"
                );
                // An object is what its URL says: its kind, version, name and namespace.
                assert_eq!(got["kind"], r["kind"], "GET {path}: {got}");
                assert_eq!(got["apiVersion"], api_version.as_str(), "GET {path}: {got}");
                assert_eq!(got["metadata"]["name"], name, "GET {path}: {got}");
                assert_eq!(
                    got["metadata"]["namespace"].is_string(),
                    r["namespaced"] == true,
                    "GET {path}: {got}"
                );
                // Every client decodes metadata as ObjectMeta and built-ins as their types: one
                // object that does not decode fails a whole list for a typed client.
                let meta = serde_json::from_value::<ObjectMeta>(got["metadata"].clone()).err();
                let typed = match plural {
                    "configmaps" => serde_json::from_value::<ConfigMap>(got.clone()).err(),
                    "secrets" => serde_json::from_value::<Secret>(got.clone()).err(),
                    "namespaces" => serde_json::from_value::<Namespace>(got.clone()).err(),
                    _ => None,
                };
                for e in meta.into_iter().chain(typed) {
                    undecodable.push(format!("{path}: {e}: {got}"));
                }
                objects += 1;
            }
        }
    }
    assert!(
        undecodable.is_empty(),
        "{} stored objects do not decode:\n{}",
        undecodable.len(),
        undecodable.join("\n")
    );
    objects
}

/// Counts panics anywhere in the process (the hub's handlers run in this process).
fn count_panics() -> Arc<AtomicUsize> {
    let panics = Arc::new(AtomicUsize::new(0));
    let p = panics.clone();
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        p.fetch_add(1, Ordering::SeqCst);
        default(info);
    }));
    panics
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_over_tcp_get_status_answers_and_leave_the_store_consistent() {
    let (seed, budget) = (seed(), budget());
    println!(
        "tcp fuzz: seed {seed} (FLEETDECK_FUZZ_SEED), {budget} requests (FLEETDECK_FUZZ_REQUESTS)"
    );
    let panics = count_panics();
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::open_with(
        Storage::Sqlite(dir.path().join("hub.db")),
        common::fleet_registry(),
        Options {
            body_timeout: BODY_TIMEOUT,
            ..Options::default()
        },
    )
    .expect("hub");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = hub.router_with_token(TOKEN);
    tokio::spawn(async move { axum::serve(listener, router).await });
    let ns =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fuzz"}}).to_string();
    let plan = simple(
        "create namespace fuzz".into(),
        "POST",
        "/api/v1/namespaces",
        Some("application/json".into()),
        ns.into_bytes(),
    );
    assert!(
        matches!(exchange(addr, &mut None, &plan).await, Ok(Outcome::Answered(r)) if r.code == 201)
    );

    let fixture = Arc::new(protobuf_fixture());
    let kinds = Arc::new(resources(addr).await);
    println!("tcp fuzz: {} creatable resources", kinds.len());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = std::time::Instant::now();
    let mut done = 0;
    let mut rngs: Vec<Rng> = (0..WORKERS as u64).map(|w| Rng(seed ^ (w << 48))).collect();
    let mut index = 0usize;
    while done < budget {
        let batch = BATCH.min(budget - done);
        let mut tasks = Vec::new();
        for (w, rng) in rngs.iter_mut().enumerate() {
            let share = batch / WORKERS + usize::from(w < batch % WORKERS);
            let plans: Vec<(usize, Plan)> = (0..share)
                .map(|i| (index + w + i * WORKERS, generate(rng, &fixture, &kinds)))
                .collect();
            let tally = tally.clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = None;
                for (n, plan) in plans {
                    let outcome =
                        tokio::time::timeout(CLIENT_DEADLINE, exchange(addr, &mut conn, &plan))
                            .await;
                    let mut t = tally.lock().expect("tally");
                    match outcome {
                        Err(_) => t
                            .failures
                            .push(format!("request {n} (worker {w}) hung: {}", plan.what)),
                        Ok(Err(e)) => t
                            .failures
                            .push(format!("request {n} (worker {w}): {e}: {}", plan.what)),
                        Ok(Ok(Outcome::Closed(why))) => {
                            // Only a request that does not frame or complete may go unanswered.
                            if plan.end == End::Complete || plan.end == End::Stall {
                                t.failures
                                    .push(format!("request {n} (worker {w}) {why}: {}", plan.what));
                            }
                            t.closed += 1;
                        }
                        Ok(Ok(Outcome::Answered(resp))) => {
                            if let Some(f) = check(&plan, &resp) {
                                t.failures.push(format!("request {n} (worker {w}): {f}"));
                            }
                            if resp.body.is_empty()
                                && resp.code >= 400
                                && !resp.headers.contains_key("content-type")
                            {
                                *t.http_layer.entry(resp.code).or_default() += 1;
                            } else {
                                *t.by_code.entry(resp.code).or_default() += 1;
                            }
                            if resp.code >= 500 {
                                let body =
                                    String::from_utf8_lossy(&resp.body[..resp.body.len().min(300)])
                                        .into_owned();
                                t.server_errors.push(format!(
                                    "request {n}: {} → {} {body}",
                                    plan.what, resp.code
                                ));
                            }
                            if plan.end == End::Stall && resp.code != 408 {
                                t.failures.push(format!(
                                    "request {n}: {} answered {}, want 408",
                                    plan.what, resp.code
                                ));
                            }
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await.expect("a fuzz worker");
        }
        index += batch;
        done += batch;
        if let Err(e) = health(addr).await {
            panic!("after {done} requests (seed {seed}): {e}");
        }
    }
    let elapsed = started.elapsed();
    let objects = check_store(addr).await;
    let t = tally.lock().expect("tally");
    println!(
        "tcp fuzz: {done} requests in {:.1} s; hub answers by code {:?}; HTTP-layer refusals {:?}; {} closed unanswered; {objects} objects consistent afterwards",
        elapsed.as_secs_f64(),
        t.by_code,
        t.http_layer,
        t.closed,
    );
    for e in &t.server_errors {
        println!("5xx: {e}");
    }
    let shown: Vec<&String> = t.failures.iter().take(30).collect();
    assert!(
        t.failures.is_empty(),
        "seed {seed}: {} failures, first ones:\n{}",
        t.failures.len(),
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        t.server_errors.is_empty(),
        "seed {seed}: 5xx answers to client input (listed above)"
    );
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "seed {seed}: something panicked (see stderr)"
    );
}

/// A client that sends its headers and then trickles its body (a byte at a time, each well
/// within any per-read timeout) or stops gets a 408 Status once the hub's body deadline passes,
/// and its connection is closed; another client is served meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_or_stops_gets_408_and_holds_up_no_one() {
    let hub = Hub::open_with(
        Storage::Memory,
        common::registry(),
        Options {
            body_timeout: BODY_TIMEOUT,
            ..Options::default()
        },
    )
    .expect("hub");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = hub.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let mut rng = Rng(1);
    let body = configmap("slow", "default", &mut rng)
        .to_string()
        .into_bytes();
    let head = head(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        &[("Content-Type".into(), "application/json".into())],
        Some(body.len()),
    );
    for trickle in [false, true] {
        let mut sock = TcpStream::connect(addr).await.expect("connect");
        sock.write_all(&head).await.expect("headers");
        sock.write_all(&body[..10]).await.expect("a first piece");
        let sender = async {
            let mut sock = sock;
            if trickle {
                // A byte every tenth of the deadline: the whole body would take ~13 deadlines.
                // Writing fails once the hub has answered and closed.
                for b in &body[10..] {
                    tokio::time::sleep(BODY_TIMEOUT / 10).await;
                    if sock.write_all(std::slice::from_ref(b)).await.is_err() {
                        break;
                    }
                }
            }
            sock
        };
        // Meanwhile another client is served.
        let other = simple(
            "create cm other".into(),
            "POST",
            "/api/v1/namespaces/default/configmaps",
            Some("application/json".into()),
            configmap(&format!("other-{trickle}"), "default", &mut rng)
                .to_string()
                .into_bytes(),
        );
        let mut fresh = None;
        let served = tokio::time::timeout(CLIENT_DEADLINE, exchange(addr, &mut fresh, &other));
        let (mut sock, served) = tokio::join!(sender, served);
        assert!(
            matches!(served, Ok(Ok(Outcome::Answered(ref r))) if r.code == 201),
            "another client was not served while one stalled"
        );
        let mut buf = Vec::new();
        let resp = tokio::time::timeout(
            CLIENT_DEADLINE,
            read_response(&mut sock, &mut buf, false, false),
        )
        .await
        .unwrap_or_else(|_| {
            panic!(
                "no answer to a {} body",
                if trickle { "trickling" } else { "stalled" }
            )
        })
        .expect("read")
        .expect("an answer before the close");
        assert_eq!(resp.code, 408, "{resp:?}");
        let status: Value = serde_json::from_slice(&resp.body).expect("a Status");
        assert_eq!(status["reason"], "Timeout", "{status}");
        assert_eq!(status["code"], 408, "{status}");
        // And the connection is closed: nothing more is read from it.
        let mut rest = [0u8; 16];
        let n = tokio::time::timeout(CLIENT_DEADLINE, sock.read(&mut rest))
            .await
            .expect("the hub closes the connection")
            .unwrap_or(0);
        assert_eq!(n, 0, "the connection stayed open");
    }
    let (code, _) = get_json(addr, "/api/v1/namespaces/default/configmaps/slow").await;
    assert_eq!(code, 404, "a body that never arrived created nothing");
}

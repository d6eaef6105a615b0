//! Authentication and RBAC on the hub, through its HTTP router with real bearer tokens: the
//! shipped ClusterRoles (deploy/rbac) × the console's actions, cluster- and namespace-scoped,
//! each allowed or refused with kube-apiserver's exact 403; impersonation; access reviews.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hub::{token_sha256, Authenticator, Hub, UsersFile};
use serde_json::{json, Value};
use tower::ServiceExt;

const G: &str = "placement.kubernetes-fleet.io";
const V: &str = "/apis/placement.kubernetes-fleet.io/v1beta1";
const ADMIN: &str = "admin-token";

/// Users of the test, each with the token `<name>-token`.
const USERS: [&str; 7] = ["vera", "otto", "alma", "ada", "nora", "nobody", "ivan"];

struct Fixture {
    router: axum::Router,
    /// `hub.router()`: no authentication, as the engine and the dashboard use it in-process.
    in_process: axum::Router,
}

struct Reply {
    code: StatusCode,
    body: Value,
}

fn token(user: &str) -> String {
    format!("{user}-token")
}

impl Fixture {
    async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.call_as(token, &[], method, path, body).await
    }

    async fn call_as(
        &self,
        token: Option<&str>,
        headers: &[(&str, &str)],
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let content_type = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", content_type);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        // No token at all: the in-process router, whose callers are the hub's own.
        let router = if token.is_some() {
            &self.router
        } else {
            &self.in_process
        };
        let resp = router
            .clone()
            .oneshot(req.body(Body::from(body)).expect("a request"))
            .await
            .expect("the router answers");
        let code = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { code, body }
    }

    async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
        let r = self.call(Some(ADMIN), method, path, Some(body)).await;
        assert!(
            r.code.is_success(),
            "admin {method} {path}: {} {}",
            r.code,
            r.body
        );
        r.body
    }
}

fn run(name: &str, kind: &str, ns: Option<&str>) -> Value {
    json!({"apiVersion": format!("{G}/v1beta1"), "kind": kind,
           "metadata": {"name": name, "namespace": ns},
           "spec": {"placementName": "web", "stagedRolloutStrategyName": "s", "state": "Run"}})
}

fn approval(name: &str, kind: &str, ns: Option<&str>) -> Value {
    json!({"apiVersion": format!("{G}/v1beta1"), "kind": kind,
           "metadata": {"name": name, "namespace": ns},
           "spec": {"parentStageRollout": "r", "targetStage": "canary"}})
}

fn binding(kind: &str, name: &str, ns: Option<&str>, role: &str, user: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": {"name": name, "namespace": ns},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
           "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
}

/// A hub with the fleet CRDs, the shipped roles, one binding per user and, for each user, a run
/// and an approval request of each scope to act on.
async fn fixture() -> Fixture {
    let hub = Hub::memory(common::fleet_registry());
    let users = UsersFile {
        users: USERS
            .iter()
            .map(|u| hub::UserEntry {
                name: u.to_string(),
                groups: vec![],
                token_sha256: token_sha256(&token(u)),
            })
            .collect(),
    };
    let authn = Authenticator::admin(ADMIN)
        .with_users(&users)
        .expect("valid hashes");
    let f = Fixture {
        router: hub.router_with_auth(authn),
        in_process: hub.router(),
    };
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/rbac");
    for role in ["viewer", "operator", "approver", "admin"] {
        let text = std::fs::read_to_string(dir.join(format!("fleetdeck-{role}.yaml")))
            .expect("a shipped role");
        let doc: Value = serde_saphyr::from_str(&text).expect("YAML");
        f.admin(
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            doc,
        )
        .await;
    }
    for ns in ["team", "other"] {
        f.admin(
            "POST",
            "/api/v1/namespaces",
            json!({"metadata": {"name": ns}}),
        )
        .await;
    }
    let crb = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    for (user, role) in [
        ("vera", "viewer"),
        ("otto", "operator"),
        ("alma", "approver"),
        ("ada", "admin"),
    ] {
        let b = binding(
            "ClusterRoleBinding",
            &format!("{user}-{role}"),
            None,
            &format!("fleetdeck-{role}"),
            user,
        );
        f.admin("POST", crb, b).await;
    }
    // nora operates runs in `team` only: namespaced runs are governed per namespace.
    let rb = "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings";
    f.admin(
        "POST",
        rb,
        binding(
            "RoleBinding",
            "nora-operator",
            Some("team"),
            "fleetdeck-operator",
            "nora",
        ),
    )
    .await;
    for user in USERS {
        let name = format!("run-{user}");
        f.admin(
            "POST",
            &format!("{V}/clusterstagedupdateruns"),
            run(&name, "ClusterStagedUpdateRun", None),
        )
        .await;
        f.admin(
            "POST",
            &format!("{V}/clusterapprovalrequests"),
            approval(&format!("car-{user}"), "ClusterApprovalRequest", None),
        )
        .await;
        for ns in ["team", "other"] {
            f.admin(
                "POST",
                &format!("{V}/namespaces/{ns}/stagedupdateruns"),
                run(&name, "StagedUpdateRun", Some(ns)),
            )
            .await;
            f.admin(
                "POST",
                &format!("{V}/namespaces/{ns}/approvalrequests"),
                approval(&format!("ar-{user}"), "ApprovalRequest", Some(ns)),
            )
            .await;
        }
    }
    f
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    CreateRun,
    PatchRunState,
    UpdateApprovalStatus,
    DeleteRun,
}

/// Where an action happens: the cluster-scoped kinds, or the namespaced ones in a namespace.
fn collection(plural_cluster: &str, plural_ns: &str, ns: Option<&str>) -> String {
    match ns {
        None => format!("{V}/{plural_cluster}"),
        Some(ns) => format!("{V}/namespaces/{ns}/{plural_ns}"),
    }
}

/// Performs `action` as `user`; the reply and the verb/resource/name a refusal would name.
async fn act(
    f: &Fixture,
    user: &str,
    action: Action,
    ns: Option<&str>,
) -> (Reply, &'static str, String, String) {
    let runs = collection("clusterstagedupdateruns", "stagedupdateruns", ns);
    let approvals = collection("clusterapprovalrequests", "approvalrequests", ns);
    let (run_kind, run_res, appr_res) = match ns {
        None => (
            "ClusterStagedUpdateRun",
            "clusterstagedupdateruns",
            "clusterapprovalrequests",
        ),
        Some(_) => ("StagedUpdateRun", "stagedupdateruns", "approvalrequests"),
    };
    let t = token(user);
    match action {
        Action::CreateRun => {
            let r = f
                .call(
                    Some(&t),
                    "POST",
                    &runs,
                    Some(run(&format!("new-{user}"), run_kind, ns)),
                )
                .await;
            (r, "create", run_res.to_string(), String::new())
        }
        Action::PatchRunState => {
            let name = format!("run-{user}");
            let r = f
                .call(
                    Some(&t),
                    "PATCH",
                    &format!("{runs}/{name}"),
                    Some(json!({"spec": {"state": "Stop"}})),
                )
                .await;
            (r, "patch", run_res.to_string(), name)
        }
        Action::UpdateApprovalStatus => {
            let prefix = if ns.is_some() { "ar" } else { "car" };
            let name = format!("{prefix}-{user}");
            let path = format!("{approvals}/{name}/status");
            let mut obj = f.call(Some(ADMIN), "GET", &path, None).await.body;
            obj["status"] = json!({"conditions": [{"type": "Approved", "status": "True", "reason": "Approved",
                "message": format!("approved by {user}"), "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1}]});
            let r = f.call(Some(&t), "PUT", &path, Some(obj)).await;
            (r, "update", format!("{appr_res}/status"), name)
        }
        Action::DeleteRun => {
            let name = format!("run-{user}");
            let r = f
                .call(Some(&t), "DELETE", &format!("{runs}/{name}"), None)
                .await;
            (r, "delete", run_res.to_string(), name)
        }
    }
}

/// kube-apiserver's 403 message for a refused fleet request.
fn forbidden(user: &str, verb: &str, resource: &str, name: &str, ns: Option<&str>) -> String {
    let plural = resource.split('/').next().unwrap_or(resource);
    let named = if name.is_empty() {
        format!("{plural}.{G}")
    } else {
        format!("{plural}.{G} \"{name}\"")
    };
    let scope = match ns {
        None => "at the cluster scope".to_string(),
        Some(ns) => format!("in the namespace \"{ns}\""),
    };
    format!("{named} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{G}\" {scope}")
}

/// A user and the actions allowed at the cluster scope, in `team` and in `other`.
type Row<'a> = (&'a str, &'a [Action], &'a [Action], &'a [Action]);

#[tokio::test]
async fn every_role_may_do_exactly_what_its_cluster_role_says() {
    use Action::*;
    let f = fixture().await;
    let all = [CreateRun, PatchRunState, UpdateApprovalStatus, DeleteRun];
    let table: [Row; 6] = [
        ("vera", &[], &[], &[]),
        (
            "otto",
            &[CreateRun, PatchRunState, DeleteRun],
            &[CreateRun, PatchRunState, DeleteRun],
            &[CreateRun, PatchRunState, DeleteRun],
        ),
        (
            "alma",
            &[UpdateApprovalStatus],
            &[UpdateApprovalStatus],
            &[UpdateApprovalStatus],
        ),
        ("ada", &all, &all, &all),
        ("nora", &[], &[CreateRun, PatchRunState, DeleteRun], &[]),
        ("nobody", &[], &[], &[]),
    ];
    for (user, cluster, team, other) in table {
        for (ns, allowed) in [
            (None, cluster),
            (Some("team"), team),
            (Some("other"), other),
        ] {
            for action in all {
                let (reply, verb, resource, name) = act(&f, user, action, ns).await;
                let what = format!("{user} {action:?} in {ns:?}");
                if allowed.contains(&action) {
                    assert!(
                        reply.code.is_success(),
                        "{what}: {} {}",
                        reply.code,
                        reply.body
                    );
                    continue;
                }
                assert_eq!(reply.code, StatusCode::FORBIDDEN, "{what}: {}", reply.body);
                assert_eq!(
                    reply.body["message"],
                    forbidden(user, verb, &resource, &name, ns),
                    "{what}"
                );
                assert_eq!(reply.body["reason"], "Forbidden");
                assert_eq!(reply.body["code"], 403);
                let plural = resource.split('/').next().unwrap_or("");
                assert_eq!(reply.body["details"]["kind"], plural, "{what}");
                assert_eq!(reply.body["details"]["group"], G, "{what}");
            }
        }
    }
}

#[tokio::test]
async fn refusals_read_exactly_as_kube_apiservers() {
    let f = fixture().await;
    let r = f
        .call(
            Some("vera-token"),
            "PATCH",
            &format!("{V}/clusterstagedupdateruns/run-vera"),
            Some(json!({"spec": {"state": "Stop"}})),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "clusterstagedupdateruns.placement.kubernetes-fleet.io \"run-vera\" is forbidden: User \"vera\" cannot patch resource \"clusterstagedupdateruns\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope",
               "reason": "Forbidden",
               "details": {"name": "run-vera", "group": "placement.kubernetes-fleet.io", "kind": "clusterstagedupdateruns"},
               "code": 403})
    );
    let r = f
        .call(
            Some("otto-token"),
            "PATCH",
            &format!("{V}/namespaces/team/approvalrequests/ar-otto/status"),
            Some(json!({"status": {}})),
        )
        .await;
    assert_eq!(
        r.body["message"],
        "approvalrequests.placement.kubernetes-fleet.io \"ar-otto\" is forbidden: User \"otto\" cannot patch resource \"approvalrequests/status\" in API group \"placement.kubernetes-fleet.io\" in the namespace \"team\""
    );
    let r = f
        .call(
            Some("nobody-token"),
            "GET",
            &format!("{V}/clusterstagedupdateruns?watch=true"),
            None,
        )
        .await;
    assert_eq!(
        r.body["message"],
        "clusterstagedupdateruns.placement.kubernetes-fleet.io is forbidden: User \"nobody\" cannot watch resource \"clusterstagedupdateruns\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope"
    );
}

#[tokio::test]
async fn viewers_read_and_everyone_authenticated_may_discover() {
    let f = fixture().await;
    let list = f
        .call(
            Some("vera-token"),
            "GET",
            &format!("{V}/clusterstagedupdateruns"),
            None,
        )
        .await;
    assert_eq!(list.code, StatusCode::OK);
    assert_eq!(
        list.body["items"].as_array().map(Vec::len),
        Some(USERS.len())
    );
    let get = f
        .call(
            Some("vera-token"),
            "GET",
            &format!("{V}/namespaces/team/stagedupdateruns/run-otto"),
            None,
        )
        .await;
    assert_eq!(get.code, StatusCode::OK);
    for path in ["/api", "/apis", "/api/v1", V, "/openapi/v3"] {
        let r = f.call(Some("nobody-token"), "GET", path, None).await;
        assert_eq!(r.code, StatusCode::OK, "{path}: {}", r.body);
    }
    // Non-resource refusals name the path.
    let r = f.call(Some("nobody-token"), "POST", "/apis", None).await;
    assert_eq!(
        r.body["message"],
        "forbidden: User \"nobody\" cannot post path \"/apis\""
    );
    // The viewer cannot read what fleetdeck does not show, e.g. Secrets.
    let r = f
        .call(
            Some("vera-token"),
            "GET",
            "/api/v1/namespaces/team/secrets",
            None,
        )
        .await;
    assert_eq!(
        r.body["message"],
        "secrets is forbidden: User \"vera\" cannot list resource \"secrets\" in API group \"\" in the namespace \"team\""
    );
}

#[tokio::test]
async fn no_token_or_an_unknown_one_is_401_and_version_stays_open() {
    let f = fixture().await;
    let unauthorized = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": "Unauthorized", "reason": "Unauthorized", "code": 401});
    for t in [Some("wrong"), Some("")] {
        let r = f
            .call(t, "GET", &format!("{V}/clusterstagedupdateruns"), None)
            .await;
        assert_eq!(
            (r.code, &r.body),
            (StatusCode::UNAUTHORIZED, &unauthorized),
            "{t:?}"
        );
    }
    // A token's hash is not a token.
    let r = f
        .call(Some(&token_sha256("vera-token")), "GET", "/apis", None)
        .await;
    assert_eq!(r.code, StatusCode::UNAUTHORIZED);
    assert_eq!(
        f.call(None, "GET", "/version", None).await.code,
        StatusCode::OK
    );
}

#[tokio::test]
async fn impersonation_needs_the_impersonate_verb() {
    let f = fixture().await;
    let runs = format!("{V}/clusterstagedupdateruns");
    let r = f
        .call_as(
            Some("nobody-token"),
            &[("Impersonate-User", "ada")],
            "GET",
            &runs,
            None,
        )
        .await;
    assert_eq!(r.code, StatusCode::FORBIDDEN);
    assert_eq!(
        r.body["message"],
        "users \"ada\" is forbidden: User \"nobody\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
    assert_eq!(r.body["details"], json!({"name": "ada", "kind": "users"}));

    // ivan may impersonate vera only, and no group.
    f.admin("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", json!({
        "metadata": {"name": "impersonate-vera"},
        "rules": [{"apiGroups": [""], "resources": ["users"], "resourceNames": ["vera"], "verbs": ["impersonate"]}]}))
        .await;
    f.admin(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        binding(
            "ClusterRoleBinding",
            "ivan-impersonates",
            None,
            "impersonate-vera",
            "ivan",
        ),
    )
    .await;
    let r = f
        .call_as(
            Some("ivan-token"),
            &[("Impersonate-User", "vera")],
            "GET",
            &runs,
            None,
        )
        .await;
    assert_eq!(r.code, StatusCode::OK, "{}", r.body);
    // …and then acts with vera's rights, not more.
    let r = f
        .call_as(
            Some("ivan-token"),
            &[("Impersonate-User", "vera")],
            "DELETE",
            &format!("{runs}/run-ivan"),
            None,
        )
        .await;
    assert_eq!(
        r.body["message"],
        forbidden(
            "vera",
            "delete",
            "clusterstagedupdateruns",
            "run-ivan",
            None
        )
    );
    let r = f
        .call_as(
            Some("ivan-token"),
            &[("Impersonate-User", "ada")],
            "GET",
            &runs,
            None,
        )
        .await;
    assert_eq!(r.code, StatusCode::FORBIDDEN);
    let r = f
        .call_as(
            Some("ivan-token"),
            &[
                ("Impersonate-User", "vera"),
                ("Impersonate-Group", "system:masters"),
            ],
            "GET",
            &runs,
            None,
        )
        .await;
    assert_eq!(
        r.body["message"],
        "groups \"system:masters\" is forbidden: User \"ivan\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope"
    );
    // The admin (system:masters) may impersonate anyone: the dashboard acts as its users so.
    let r = f
        .call_as(
            Some(ADMIN),
            &[("Impersonate-User", "vera")],
            "DELETE",
            &format!("{runs}/run-vera"),
            None,
        )
        .await;
    assert_eq!(
        r.body["message"],
        forbidden(
            "vera",
            "delete",
            "clusterstagedupdateruns",
            "run-vera",
            None
        )
    );
    let r = f
        .call_as(
            Some(ADMIN),
            &[("Impersonate-User", "otto")],
            "DELETE",
            &format!("{runs}/run-otto"),
            None,
        )
        .await;
    assert!(r.code.is_success(), "{}", r.body);
}

fn access_review(verb: &str, resource: &str, sub: &str, ns: &str) -> Value {
    json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
           "spec": {"resourceAttributes": {"verb": verb, "group": G, "resource": resource, "subresource": sub, "namespace": ns}}})
}

#[tokio::test]
async fn self_subject_access_reviews_answer_as_rbac_decides() {
    let f = fixture().await;
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let r = f
        .call(
            Some("alma-token"),
            "POST",
            path,
            Some(access_review(
                "update",
                "clusterapprovalrequests",
                "status",
                "",
            )),
        )
        .await;
    assert_eq!(r.code, StatusCode::CREATED);
    assert_eq!(r.body["kind"], "SelfSubjectAccessReview");
    assert_eq!(
        r.body["status"],
        json!({"allowed": true, "reason": "RBAC: allowed by ClusterRoleBinding \"alma-approver\" of ClusterRole \"fleetdeck-approver\" to User \"alma\""})
    );
    let r = f
        .call(
            Some("alma-token"),
            "POST",
            path,
            Some(access_review("patch", "clusterstagedupdateruns", "", "")),
        )
        .await;
    assert_eq!(r.body["status"], json!({"allowed": false}));
    let r = f
        .call(
            Some("nora-token"),
            "POST",
            path,
            Some(access_review("create", "stagedupdateruns", "", "team")),
        )
        .await;
    assert_eq!(r.body["status"]["allowed"], true);
    let r = f
        .call(
            Some("nora-token"),
            "POST",
            path,
            Some(access_review("create", "stagedupdateruns", "", "other")),
        )
        .await;
    assert_eq!(r.body["status"]["allowed"], false);
    let r = f
        .call(
            Some(ADMIN),
            "POST",
            path,
            Some(access_review("delete", "anything", "", "")),
        )
        .await;
    assert_eq!(r.body["status"], json!({"allowed": true}));
    // Non-resource attributes, and neither kind of attributes.
    let r = f
        .call(
            Some("nobody-token"),
            "POST",
            path,
            Some(json!({"spec": {"nonResourceAttributes": {"verb": "get", "path": "/apis"}}})),
        )
        .await;
    assert_eq!(r.body["status"]["allowed"], true);
    let r = f
        .call(
            Some("nobody-token"),
            "POST",
            path,
            Some(json!({"spec": {}})),
        )
        .await;
    assert_eq!(r.code, StatusCode::UNPROCESSABLE_ENTITY);
    // Reviews are never stored: nothing to list.
    let r = f.call(Some(ADMIN), "GET", path, None).await;
    assert_eq!(r.code, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn self_subject_rules_reviews_list_the_rules_of_a_namespace() {
    let f = fixture().await;
    let path = "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews";
    let review = |ns: &str| json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {"namespace": ns}});
    let r = f
        .call(Some("nora-token"), "POST", path, Some(review("team")))
        .await;
    assert_eq!(r.code, StatusCode::CREATED, "{}", r.body);
    let rules = r.body["status"]["resourceRules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        rules.iter().any(|rule| rule["resources"]
            == json!(["clusterstagedupdateruns", "stagedupdateruns"])
            && rule["verbs"] == json!(["create", "update", "patch", "delete"])),
        "{rules:?}"
    );
    let r = f
        .call(Some("nora-token"), "POST", path, Some(review("other")))
        .await;
    let rules = r.body["status"]["resourceRules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        rules
            .iter()
            .all(|rule| rule["verbs"] != json!(["create", "update", "patch", "delete"])),
        "{rules:?}"
    );
    assert_eq!(r.body["status"]["incomplete"], false);
}

#[tokio::test]
async fn discovery_lists_rbac_and_the_create_only_reviews() {
    let f = fixture().await;
    let r = f
        .call(
            Some("nobody-token"),
            "GET",
            "/apis/authorization.k8s.io/v1",
            None,
        )
        .await;
    let verbs: Vec<&Value> = r.body["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|res| &res["verbs"])
        .collect();
    assert_eq!(
        verbs,
        vec![&json!(["create"]), &json!(["create"])],
        "{}",
        r.body
    );
    let r = f
        .call(
            Some("nobody-token"),
            "GET",
            "/apis/rbac.authorization.k8s.io/v1",
            None,
        )
        .await;
    assert_eq!(
        r.body["resources"].as_array().map(Vec::len),
        Some(4),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_role_that_does_not_decode_is_refused_and_a_dangling_binding_is_the_reason() {
    let f = fixture().await;
    let r = f
        .call(
            Some(ADMIN),
            "POST",
            "/apis/rbac.authorization.k8s.io/v1/clusterroles",
            Some(json!({"metadata": {"name": "bad"}, "rules": "all"})),
        )
        .await;
    assert_eq!(r.code, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    f.admin(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        binding("ClusterRoleBinding", "dangling", None, "gone", "nobody"),
    )
    .await;
    let r = f
        .call(
            Some("nobody-token"),
            "GET",
            &format!("{V}/clusterstagedupdateruns"),
            None,
        )
        .await;
    assert_eq!(
        r.body["message"],
        "clusterstagedupdateruns.placement.kubernetes-fleet.io is forbidden: User \"nobody\" cannot list resource \"clusterstagedupdateruns\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
    );
}

#[tokio::test]
async fn the_in_process_router_runs_impersonated_requests_under_rbac() {
    let f = fixture().await;
    let run = |u: &str| format!("{V}/clusterstagedupdateruns/run-{u}");
    let stop = || Some(json!({"spec": {"state": "Stop"}}));
    // The engine's requests (no impersonation) are the hub's own and not checked.
    let r = f.call(None, "PATCH", &run("nobody"), stop()).await;
    assert!(r.code.is_success(), "{}", r.body);
    // The console acting as a viewer is refused as the viewer, in the apiserver's words.
    let r = f
        .call_as(
            None,
            &[("Impersonate-User", "vera")],
            "PATCH",
            &run("vera"),
            stop(),
        )
        .await;
    assert_eq!(
        r.body["message"],
        forbidden("vera", "patch", "clusterstagedupdateruns", "run-vera", None)
    );
    let r = f
        .call_as(
            None,
            &[("Impersonate-User", "otto")],
            "PATCH",
            &run("otto"),
            stop(),
        )
        .await;
    assert!(r.code.is_success(), "{}", r.body);
    // An access review answers for the impersonated user.
    let review = access_review("patch", "clusterstagedupdateruns", "", "");
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let r = f
        .call_as(
            None,
            &[("Impersonate-User", "vera")],
            "POST",
            path,
            Some(review),
        )
        .await;
    assert_eq!(r.body["status"], json!({"allowed": false}));
    // Groups without a user are a malformed request.
    let r = f
        .call_as(None, &[("Impersonate-Group", "g")], "GET", V, None)
        .await;
    assert_eq!(r.code, StatusCode::BAD_REQUEST);
}

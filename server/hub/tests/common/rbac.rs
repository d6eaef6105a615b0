//! The RBAC fixture: a hub with the fleet CRDs, the shipped roles (deploy/rbac), users with
//! bearer tokens bound to them, and objects of each scope to act on; requests go through the
//! router with real `Authorization` headers.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use hub::{token_sha256, Authenticator, Hub, UsersFile};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const G: &str = "placement.kubernetes-fleet.io";
pub const V: &str = "/apis/placement.kubernetes-fleet.io/v1beta1";
pub const ADMIN: &str = "admin-token";

/// Users of the test, each with the token `<name>-token`.
pub const USERS: [&str; 7] = ["vera", "otto", "alma", "ada", "nora", "nobody", "ivan"];

pub struct Fixture {
    pub router: axum::Router,
    /// `hub.router()`: no authentication, as the engine and the dashboard use it in-process.
    pub in_process: axum::Router,
}

pub struct Reply {
    pub code: StatusCode,
    pub body: Value,
}

pub fn token(user: &str) -> String {
    format!("{user}-token")
}

impl Fixture {
    pub async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.call_as(token, &[], method, path, body).await
    }

    pub async fn call_as(
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

    pub async fn admin(&self, method: &str, path: &str, body: Value) -> Value {
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

pub fn run(name: &str, kind: &str, ns: Option<&str>) -> Value {
    json!({"apiVersion": format!("{G}/v1beta1"), "kind": kind,
           "metadata": {"name": name, "namespace": ns},
           "spec": {"placementName": "web", "stagedRolloutStrategyName": "s", "state": "Run"}})
}

pub fn approval(name: &str, kind: &str, ns: Option<&str>) -> Value {
    json!({"apiVersion": format!("{G}/v1beta1"), "kind": kind,
           "metadata": {"name": name, "namespace": ns},
           "spec": {"parentStageRollout": "r", "targetStage": "canary"}})
}

pub fn binding(kind: &str, name: &str, ns: Option<&str>, role: &str, user: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
           "metadata": {"name": name, "namespace": ns},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
           "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
}

/// A hub with the fleet CRDs, the shipped roles, one binding per user and, for each user, a run
/// and an approval request of each scope to act on.
pub async fn fixture() -> Fixture {
    let hub = Hub::memory(super::fleet_registry());
    let users = UsersFile {
        users: USERS
            .iter()
            .map(|u| hub::UserEntry::new(u, token_sha256(&token(u))))
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

/// kube-apiserver's 403 message for a refused fleet request.
pub fn forbidden(user: &str, verb: &str, resource: &str, name: &str, ns: Option<&str>) -> String {
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

pub fn access_review(verb: &str, resource: &str, sub: &str, ns: &str) -> Value {
    json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
           "spec": {"resourceAttributes": {"verb": verb, "group": G, "resource": resource, "subresource": sub, "namespace": ns}}})
}

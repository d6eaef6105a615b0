//! The shipped ClusterRoles (deploy/rbac) × the console's actions, cluster- and
//! namespace-scoped, through the hub's router with real bearer tokens: each allowed, or refused
//! with kube-apiserver's exact 403; 401 without a known token.

mod common;

use axum::http::StatusCode;
use common::rbac::*;
use hub::token_sha256;
use serde_json::json;

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

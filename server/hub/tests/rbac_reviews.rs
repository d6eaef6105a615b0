//! Impersonation (over HTTPS-like bearer auth and on the in-process router), the self access
//! and rules reviews, and discovery of the RBAC and authorization groups.

mod common;

use axum::http::StatusCode;
use common::rbac::*;
use serde_json::{json, Value};

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

/// `kubectl auth whoami`'s question: the caller's own name and groups, as the token (or the
/// impersonation) makes them — what the dashboard asks when someone signs in with a token.
#[tokio::test]
async fn a_self_subject_review_says_who_the_caller_is() {
    let f = fixture().await;
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let path = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    let r = f
        .call_as(
            Some("nobody-token"),
            &[],
            "POST",
            path,
            Some(review.clone()),
        )
        .await;
    assert_eq!(r.code, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"]["userInfo"]["username"], "nobody");
    let groups = r.body["status"]["userInfo"]["groups"].clone();
    assert!(
        groups
            .as_array()
            .is_some_and(|g| g.iter().any(|g| g == "system:authenticated")),
        "{groups}"
    );
    let r = f
        .call_as(
            Some("ivan-token"),
            &[("Impersonate-User", "vera")],
            "POST",
            path,
            Some(review),
        )
        .await;
    assert_eq!(
        r.code,
        StatusCode::FORBIDDEN,
        "ivan may not impersonate here: {}",
        r.body
    );
}

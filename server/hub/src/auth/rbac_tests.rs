use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

fn strs(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| s.to_string()).collect())
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule {
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        api_groups: strs(groups),
        resources: strs(resources),
        ..Default::default()
    }
}

fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(String::from),
        ..Default::default()
    }
}

fn subject(kind: &str, name: &str, ns: Option<&str>) -> Subject {
    Subject {
        kind: kind.into(),
        name: name.into(),
        namespace: ns.map(String::from),
        api_group: None,
    }
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: kind.into(),
        name: name.into(),
    }
}

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo {
        name: name.into(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
    }
}

const FLEET: &str = "placement.kubernetes-fleet.io";

fn res(verb: &str, resource: &str, sub: &str, ns: &str, name: &str) -> Attributes {
    Attributes {
        verb: verb.into(),
        resource_request: true,
        group: FLEET.into(),
        version: "v1beta1".into(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: ns.into(),
        name: name.into(),
        path: String::new(),
    }
}

fn path(verb: &str, p: &str) -> Attributes {
    Attributes {
        verb: verb.into(),
        path: p.into(),
        ..Default::default()
    }
}

#[test]
fn verbs_match_exactly_or_by_star() {
    let r = rule(&["get", "list"], &[FLEET], &["clusterstagedupdateruns"]);
    assert!(rule_allows(
        &res("get", "clusterstagedupdateruns", "", "", "a"),
        &r
    ));
    assert!(rule_allows(
        &res("list", "clusterstagedupdateruns", "", "", ""),
        &r
    ));
    assert!(!rule_allows(
        &res("watch", "clusterstagedupdateruns", "", "", ""),
        &r
    ));
    assert!(!rule_allows(
        &res("patch", "clusterstagedupdateruns", "", "", "a"),
        &r
    ));
    let star = rule(&["*"], &[FLEET], &["clusterstagedupdateruns"]);
    assert!(rule_allows(
        &res("deletecollection", "clusterstagedupdateruns", "", "", ""),
        &star
    ));
}

#[test]
fn api_groups_match_exactly_or_by_star() {
    let r = rule(&["get"], &[FLEET], &["*"]);
    assert!(rule_allows(&res("get", "x", "", "", "a"), &r));
    let mut other = res("get", "x", "", "", "a");
    other.group = "apps".into();
    assert!(!rule_allows(&other, &r));
    assert!(rule_allows(&other, &rule(&["get"], &["*"], &["x"])));
    // The core group is the empty string, not a wildcard.
    other.group = String::new();
    assert!(!rule_allows(&other, &r));
    assert!(rule_allows(&other, &rule(&["get"], &[""], &["x"])));
}

#[test]
fn a_subresource_needs_its_own_grant() {
    let main = rule(&["update"], &[FLEET], &["clusterapprovalrequests"]);
    let status = rule(&["update"], &[FLEET], &["clusterapprovalrequests/status"]);
    let any_status = rule(&["update"], &[FLEET], &["*/status"]);
    let on_status = res("update", "clusterapprovalrequests", "status", "", "a");
    let on_main = res("update", "clusterapprovalrequests", "", "", "a");
    assert!(!rule_allows(&on_status, &main));
    assert!(rule_allows(&on_status, &status));
    assert!(!rule_allows(&on_main, &status));
    assert!(rule_allows(&on_status, &any_status));
    assert!(!rule_allows(&on_main, &any_status));
    assert!(!rule_allows(
        &res("update", "clusterapprovalrequests", "scale", "", "a"),
        &any_status
    ));
    assert!(rule_allows(
        &on_status,
        &rule(&["update"], &[FLEET], &["*"])
    ));
}

#[test]
fn resource_names_limit_named_requests_only_to_those_names() {
    let mut r = rule(
        &["get", "list", "update"],
        &[FLEET],
        &["clusterstagedupdateruns"],
    );
    r.resource_names = strs(&["mine"]);
    assert!(rule_allows(
        &res("get", "clusterstagedupdateruns", "", "", "mine"),
        &r
    ));
    assert!(!rule_allows(
        &res("get", "clusterstagedupdateruns", "", "", "theirs"),
        &r
    ));
    // A list has no name, so a rule with names does not allow it (as upstream).
    assert!(!rule_allows(
        &res("list", "clusterstagedupdateruns", "", "", ""),
        &r
    ));
}

#[test]
fn non_resource_urls_match_exactly_by_prefix_or_star() {
    let mut r = rule(&["get"], &[], &[]);
    r.non_resource_urls = strs(&["/apis", "/apis/*", "/version"]);
    assert!(rule_allows(&path("get", "/apis"), &r));
    assert!(rule_allows(&path("get", "/apis/fleet/v1"), &r));
    assert!(rule_allows(&path("get", "/version"), &r));
    assert!(!rule_allows(&path("get", "/api"), &r));
    assert!(!rule_allows(&path("get", "/versions"), &r));
    assert!(!rule_allows(&path("post", "/apis"), &r));
    r.non_resource_urls = strs(&["*"]);
    assert!(rule_allows(&path("get", "/anything"), &r));
    // A non-resource rule never grants a resource request, and a resource rule no path.
    assert!(!rule_allows(&res("get", "x", "", "", "a"), &r));
    assert!(!rule_allows(
        &path("get", "/apis"),
        &rule(&["get"], &["*"], &["*"])
    ));
}

fn policy() -> Policy {
    Policy {
        cluster_roles: vec![
            ClusterRole {
                metadata: meta("viewer", None),
                rules: Some(vec![rule(&["get", "list", "watch"], &[FLEET], &["*"])]),
                ..Default::default()
            },
            ClusterRole {
                metadata: meta("operator", None),
                rules: Some(vec![rule(&["patch"], &[FLEET], &["stagedupdateruns"])]),
                ..Default::default()
            },
        ],
        roles: vec![Role {
            metadata: meta("approver", Some("team")),
            rules: Some(vec![rule(
                &["update"],
                &[FLEET],
                &["approvalrequests/status"],
            )]),
        }],
        cluster_role_bindings: vec![ClusterRoleBinding {
            metadata: meta("viewers", None),
            role_ref: role_ref("ClusterRole", "viewer"),
            subjects: Some(vec![subject("Group", "readers", None)]),
        }],
        role_bindings: vec![
            RoleBinding {
                metadata: meta("ops", Some("team")),
                role_ref: role_ref("ClusterRole", "operator"),
                subjects: Some(vec![subject("User", "olive", None)]),
            },
            RoleBinding {
                metadata: meta("approvers", Some("team")),
                role_ref: role_ref("Role", "approver"),
                subjects: Some(vec![subject("ServiceAccount", "bot", None)]),
            },
        ],
    }
}

#[test]
fn a_cluster_role_binding_grants_everywhere_and_says_so() {
    let d = policy().authorize(
        &user("rita", &["readers"]),
        &res("list", "stagedupdateruns", "", "team", ""),
    );
    assert_eq!(
        d,
        Decision {
            allowed: true,
            reason: r#"RBAC: allowed by ClusterRoleBinding "viewers" of ClusterRole "viewer" to Group "readers""#.into()
        }
    );
    let no_group = policy().authorize(&user("rita", &[]), &res("list", "x", "", "", ""));
    assert_eq!(
        no_group,
        Decision {
            allowed: false,
            reason: String::new()
        }
    );
}

#[test]
fn a_role_binding_grants_a_cluster_role_in_its_namespace_only() {
    let p = policy();
    let olive = user("olive", &[]);
    let d = p.authorize(&olive, &res("patch", "stagedupdateruns", "", "team", "r"));
    assert!(d.allowed);
    assert_eq!(
        d.reason,
        r#"RBAC: allowed by RoleBinding "ops/team" of ClusterRole "operator" to User "olive""#
    );
    assert!(
        !p.authorize(&olive, &res("patch", "stagedupdateruns", "", "other", "r"))
            .allowed
    );
    assert!(
        !p.authorize(&olive, &res("patch", "stagedupdateruns", "", "", "r"))
            .allowed
    );
    // A different user with the same groups gets nothing from a User subject.
    assert!(
        !p.authorize(
            &user("oscar", &[]),
            &res("patch", "stagedupdateruns", "", "team", "r")
        )
        .allowed
    );
}

#[test]
fn a_service_account_subject_defaults_to_the_binding_namespace() {
    let p = policy();
    let bot = user("system:serviceaccount:team:bot", &[]);
    let d = p.authorize(
        &bot,
        &res("update", "approvalrequests", "status", "team", "a"),
    );
    assert_eq!(
        d.reason,
        r#"RBAC: allowed by RoleBinding "approvers/team" of Role "approver" to ServiceAccount "bot/team""#
    );
    let elsewhere = user("system:serviceaccount:other:bot", &[]);
    assert!(
        !p.authorize(
            &elsewhere,
            &res("update", "approvalrequests", "status", "team", "a")
        )
        .allowed
    );
}

#[test]
fn a_role_is_found_in_the_binding_namespace_only() {
    let mut p = policy();
    p.role_bindings.push(RoleBinding {
        metadata: meta("stray", Some("other")),
        role_ref: role_ref("Role", "approver"),
        subjects: Some(vec![subject("User", "una", None)]),
    });
    let d = p.authorize(
        &user("una", &[]),
        &res("update", "approvalrequests", "status", "other", "a"),
    );
    assert_eq!(
        d,
        Decision {
            allowed: false,
            reason: r#"RBAC: role.rbac.authorization.k8s.io "approver" not found"#.into()
        }
    );
}

#[test]
fn a_missing_cluster_role_is_the_denial_reason() {
    let mut p = policy();
    p.cluster_role_bindings.push(ClusterRoleBinding {
        metadata: meta("dangling", None),
        role_ref: role_ref("ClusterRole", "gone"),
        subjects: Some(vec![subject("User", "dan", None)]),
    });
    let d = p.authorize(&user("dan", &[]), &res("get", "x", "", "", "a"));
    assert_eq!(
        d.reason,
        r#"RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found"#
    );
}

#[test]
fn rules_for_collects_cluster_and_namespace_rules() {
    let p = policy();
    let (rules, errors) = p.rules_for(&user("olive", &["readers"]), "team");
    assert_eq!(rules.len(), 2);
    assert!(errors.is_empty());
    let (rules, _) = p.rules_for(&user("olive", &["readers"]), "");
    assert_eq!(rules.len(), 1);
}

//! Kubernetes RBAC evaluation, pure: the roles and bindings in, a decision out. Mirrors
//! kube-apiserver's `plugin/pkg/auth/authorizer/rbac` (rule matching in `rbac.go` and
//! `evaluation_helpers.go`, subjects and role lookup in `rule.go`), including its reasons.

use std::fmt;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};

use super::{Attributes, UserInfo};

/// The RBAC objects a decision is made from.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    pub cluster_roles: Vec<ClusterRole>,
    pub roles: Vec<Role>,
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
    pub role_bindings: Vec<RoleBinding>,
}

/// An authorizer's answer; `reason` is kube-apiserver's (`RBAC: allowed by …`, or the lookup
/// errors met on the way to a denial).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// The binding a rule came through, worded as kube-apiserver's describers.
enum Source<'a> {
    Cluster(&'a ClusterRoleBinding, &'a Subject),
    Namespaced(&'a RoleBinding, &'a Subject),
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Cluster(b, s) => write!(
                f,
                "ClusterRoleBinding {:?} of {} {:?} to {}",
                name_of(&b.metadata),
                b.role_ref.kind,
                b.role_ref.name,
                describe_subject(s, "")
            ),
            Source::Namespaced(b, s) => {
                let ns = namespace_of(&b.metadata);
                write!(
                    f,
                    "RoleBinding {:?} of {} {:?} to {}",
                    format!("{}/{ns}", name_of(&b.metadata)),
                    b.role_ref.kind,
                    b.role_ref.name,
                    describe_subject(s, ns)
                )
            }
        }
    }
}

fn describe_subject(s: &Subject, binding_namespace: &str) -> String {
    if s.kind == "ServiceAccount" {
        let ns = s.namespace.as_deref().unwrap_or("");
        let ns = if ns.is_empty() { binding_namespace } else { ns };
        return format!("{} {:?}", s.kind, format!("{}/{ns}", s.name));
    }
    format!("{} {:?}", s.kind, s.name)
}

fn name_of(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    m.name.as_deref().unwrap_or("")
}

fn namespace_of(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    m.namespace.as_deref().unwrap_or("")
}

impl Policy {
    /// Whether RBAC allows the request; the first rule that allows it names its binding.
    pub fn authorize(&self, user: &UserInfo, attrs: &Attributes) -> Decision {
        let mut errors = Vec::new();
        let mut allowed_by = None;
        self.visit_rules(user, &attrs.namespace, &mut |source, rule| match rule {
            Ok(rule) if rule_allows(attrs, rule) => {
                allowed_by = Some(format!("RBAC: allowed by {source}"));
                false
            }
            Ok(_) => true,
            Err(e) => {
                errors.push(e);
                true
            }
        });
        match allowed_by {
            Some(reason) => Decision {
                allowed: true,
                reason,
            },
            // kube-apiserver's denial reason is empty unless a binding pointed nowhere.
            None => Decision {
                allowed: false,
                reason: match errors.len() {
                    0 => String::new(),
                    1 => format!("RBAC: {}", errors[0]),
                    _ => format!("RBAC: [{}]", errors.join(", ")),
                },
            },
        }
    }

    /// Every rule that applies to `user` in `namespace` (cluster-wide ones included), and the
    /// lookup errors met: what a SelfSubjectRulesReview answers.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<PolicyRule>, Vec<String>) {
        let (mut rules, mut errors) = (Vec::new(), Vec::new());
        self.visit_rules(user, namespace, &mut |_, rule| {
            match rule {
                Ok(r) => rules.push(r.clone()),
                Err(e) => errors.push(e),
            }
            true
        });
        (rules, errors)
    }

    /// Walks cluster role bindings, then the role bindings of `namespace`, as `VisitRulesFor`
    /// does; the visitor returns false to stop.
    fn visit_rules(
        &self,
        user: &UserInfo,
        namespace: &str,
        visit: &mut dyn FnMut(Source<'_>, Result<&PolicyRule, String>) -> bool,
    ) {
        for b in &self.cluster_role_bindings {
            let Some(subject) = applies_to(user, b.subjects.as_deref(), "") else {
                continue;
            };
            match self.role_rules(&b.role_ref, "") {
                Ok(rules) => {
                    for r in rules {
                        if !visit(Source::Cluster(b, subject), Ok(r)) {
                            return;
                        }
                    }
                }
                Err(e) => {
                    if !visit(Source::Cluster(b, subject), Err(e)) {
                        return;
                    }
                }
            }
        }
        if namespace.is_empty() {
            return;
        }
        for b in self
            .role_bindings
            .iter()
            .filter(|b| namespace_of(&b.metadata) == namespace)
        {
            let Some(subject) = applies_to(user, b.subjects.as_deref(), namespace) else {
                continue;
            };
            match self.role_rules(&b.role_ref, namespace) {
                Ok(rules) => {
                    for r in rules {
                        if !visit(Source::Namespaced(b, subject), Ok(r)) {
                            return;
                        }
                    }
                }
                Err(e) => {
                    if !visit(Source::Namespaced(b, subject), Err(e)) {
                        return;
                    }
                }
            }
        }
    }

    /// The rules a roleRef names; a Role is looked up in the binding's namespace.
    fn role_rules(&self, r: &RoleRef, namespace: &str) -> Result<&[PolicyRule], String> {
        match r.kind.as_str() {
            "ClusterRole" => self
                .cluster_roles
                .iter()
                .find(|c| name_of(&c.metadata) == r.name)
                .map(|c| c.rules.as_deref().unwrap_or_default())
                .ok_or_else(|| {
                    format!(
                        "clusterrole.rbac.authorization.k8s.io {:?} not found",
                        r.name
                    )
                }),
            "Role" => self
                .roles
                .iter()
                .find(|c| name_of(&c.metadata) == r.name && namespace_of(&c.metadata) == namespace)
                .map(|c| c.rules.as_deref().unwrap_or_default())
                .ok_or_else(|| format!("role.rbac.authorization.k8s.io {:?} not found", r.name)),
            other => Err(format!("unsupported role reference kind: {other:?}")),
        }
    }
}

/// The first subject that names `user`; a ServiceAccount without a namespace means the
/// binding's own (kube-apiserver's `appliesToUser`).
fn applies_to<'a>(
    user: &UserInfo,
    subjects: Option<&'a [Subject]>,
    namespace: &str,
) -> Option<&'a Subject> {
    subjects?.iter().find(|s| match s.kind.as_str() {
        "User" => user.name == s.name,
        "Group" => user.groups.contains(&s.name),
        "ServiceAccount" => {
            let ns = match s.namespace.as_deref() {
                Some(ns) if !ns.is_empty() => ns,
                _ => namespace,
            };
            !ns.is_empty() && user.name == format!("system:serviceaccount:{ns}:{}", s.name)
        }
        _ => false,
    })
}

/// One rule against one request (`RuleAllows`).
pub fn rule_allows(attrs: &Attributes, rule: &PolicyRule) -> bool {
    if !verb_matches(rule, &attrs.verb) {
        return false;
    }
    if !attrs.resource_request {
        return non_resource_url_matches(rule, &attrs.path);
    }
    let combined = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    api_group_matches(rule, &attrs.group)
        && resource_matches(rule, &combined, &attrs.subresource)
        && resource_name_matches(rule, &attrs.name)
}

fn list(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or_default()
}

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    list(&rule.api_groups)
        .iter()
        .any(|g| g == "*" || g == group)
}

/// `*`, the exact `resource[/subresource]`, or `*/subresource` for any resource's subresource.
fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    list(&rule.resources).iter().any(|r| {
        r == "*"
            || r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

/// No names in the rule means every name; names in the rule never match a nameless request
/// (list, create), as upstream.
fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    let names = list(&rule.resource_names);
    names.is_empty() || names.iter().any(|n| n == name)
}

/// `*`, the exact path, or a prefix ending in `*`.
fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    list(&rule.non_resource_urls).iter().any(|u| {
        u == "*"
            || u == path
            || u.strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    })
}

#[cfg(test)]
mod tests {
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
}

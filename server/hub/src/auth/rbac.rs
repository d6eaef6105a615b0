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
#[path = "rbac_tests.rs"]
mod tests;

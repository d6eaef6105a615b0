//! The bootstrap policy every kube-apiserver starts with, reduced to what the hub serves:
//! `cluster-admin` for `system:masters`, discovery and self access reviews for every
//! authenticated user. Stored objects of the same name take their place.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::rbac::Policy;
use super::users::{AUTHENTICATED, MASTERS};

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        rules: Some(rules),
        ..Default::default()
    }
}

fn binding(name: &str, group: &str) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: name.into(),
        },
        subjects: Some(vec![Subject {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "Group".into(),
            name: group.into(),
            namespace: None,
        }]),
    }
}

pub(super) fn cluster_roles() -> Vec<ClusterRole> {
    vec![
        role(
            "cluster-admin",
            vec![
                PolicyRule {
                    verbs: strings(&["*"]),
                    api_groups: Some(strings(&["*"])),
                    resources: Some(strings(&["*"])),
                    ..Default::default()
                },
                PolicyRule {
                    verbs: strings(&["*"]),
                    non_resource_urls: Some(strings(&["*"])),
                    ..Default::default()
                },
            ],
        ),
        role(
            "system:discovery",
            vec![PolicyRule {
                verbs: strings(&["get"]),
                non_resource_urls: Some(strings(&[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ])),
                ..Default::default()
            }],
        ),
        role(
            "system:basic-user",
            vec![
                PolicyRule {
                    verbs: strings(&["create"]),
                    api_groups: Some(strings(&["authorization.k8s.io"])),
                    resources: Some(strings(&[
                        "selfsubjectaccessreviews",
                        "selfsubjectrulesreviews",
                    ])),
                    ..Default::default()
                },
                PolicyRule {
                    verbs: strings(&["create"]),
                    api_groups: Some(strings(&["authentication.k8s.io"])),
                    resources: Some(strings(&["selfsubjectreviews"])),
                    ..Default::default()
                },
            ],
        ),
    ]
}

pub(super) fn bindings() -> Vec<ClusterRoleBinding> {
    vec![
        binding("cluster-admin", MASTERS),
        binding("system:discovery", AUTHENTICATED),
        binding("system:basic-user", AUTHENTICATED),
    ]
}

/// Adds each bootstrap role and binding whose name the store does not hold.
pub(super) fn add_missing(p: &mut Policy) {
    for r in cluster_roles() {
        if !p
            .cluster_roles
            .iter()
            .any(|c| c.metadata.name == r.metadata.name)
        {
            p.cluster_roles.push(r);
        }
    }
    for b in bindings() {
        if !p
            .cluster_role_bindings
            .iter()
            .any(|c| c.metadata.name == b.metadata.name)
        {
            p.cluster_role_bindings.push(b);
        }
    }
}

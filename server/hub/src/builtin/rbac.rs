//! rbac.authorization.k8s.io/v1 (stored like any kind, read by the authorizer on each request)
//! and authorization.k8s.io/v1's self reviews (create-only, answered and never stored).

use serde_json::{json, Value};

use crate::auth::rbac_check;
use crate::registry::{KindSpec, PrinterColumn as Col, Registry, Scope};

const RBAC: &str = "rbac.authorization.k8s.io";

/// `ClusterRole/name`, as kubectl's binding printer shows the role.
fn role_ref(o: &Value) -> Value {
    let kind = o
        .pointer("/roleRef/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    let name = o
        .pointer("/roleRef/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    json!(format!("{kind}/{name}"))
}

pub fn register(reg: &mut Registry) {
    for (kind, plural, scope) in [
        ("ClusterRole", "clusterroles", Scope::Cluster),
        ("Role", "roles", Scope::Namespaced),
    ] {
        let check = rbac_check(kind);
        reg.register(
            KindSpec::builtin(RBAC, "v1", kind, plural, scope)
                .validate(move |_, new| check(new))
                .columns(vec![Col::new(
                    "Created At",
                    "date",
                    ".metadata.creationTimestamp",
                )]),
        );
    }
    for (kind, plural, scope) in [
        ("ClusterRoleBinding", "clusterrolebindings", Scope::Cluster),
        ("RoleBinding", "rolebindings", Scope::Namespaced),
    ] {
        let check = rbac_check(kind);
        reg.register(
            KindSpec::builtin(RBAC, "v1", kind, plural, scope)
                .validate(move |_, new| check(new))
                .columns(vec![Col::computed("Role", "string", role_ref), Col::age()]),
        );
    }
    for (kind, plural) in [
        ("SelfSubjectAccessReview", "selfsubjectaccessreviews"),
        ("SelfSubjectRulesReview", "selfsubjectrulesreviews"),
    ] {
        reg.register(
            KindSpec::builtin("authorization.k8s.io", "v1", kind, plural, Scope::Cluster)
                .verbs(&["create"]),
        );
    }
    reg.register(
        KindSpec::builtin(
            "authentication.k8s.io",
            "v1",
            "SelfSubjectReview",
            "selfsubjectreviews",
            Scope::Cluster,
        )
        .verbs(&["create"]),
    );
}

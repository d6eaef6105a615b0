//! Schemas of the built-in kinds: k8s-openapi's `schemars` impls carry upstream's OpenAPI
//! definitions (names such as `io.k8s.api.core.v1.ConfigMap`, descriptions word for word), so
//! nothing is copied into this repository.

use k8s_openapi::api::{apps, authorization, coordination, core, events, rbac};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::schemars::generate::{SchemaGenerator, SchemaSettings};
use k8s_openapi::schemars::JsonSchema;
use serde_json::{Map, Value};

/// Collects definitions for one document, `$ref`s pointing at `#/components/schemas/…`.
pub(super) struct Definitions(SchemaGenerator);

impl Definitions {
    pub fn new() -> Self {
        // openapi3() also wraps a `$ref` with a sibling description in `allOf`, as kube-openapi
        // does for its v3 documents; kubectl explain prints both descriptions from that shape.
        Definitions(SchemaSettings::openapi3().into_generator())
    }

    fn add<T: JsonSchema>(&mut self) -> String {
        self.0.subschema_for::<T>();
        T::schema_name().into_owned()
    }

    /// `ObjectMeta` and what it references, which every CRD schema points to.
    pub fn object_meta(&mut self) -> String {
        self.add::<ObjectMeta>()
    }

    /// Adds the upstream schema of a built-in kind and returns its definition name; None for a
    /// kind k8s-openapi does not know.
    pub fn builtin(&mut self, group: &str, version: &str, kind: &str) -> Option<String> {
        Some(match (group, version, kind) {
            ("", "v1", "Namespace") => self.add::<core::v1::Namespace>(),
            ("", "v1", "ConfigMap") => self.add::<core::v1::ConfigMap>(),
            ("", "v1", "Secret") => self.add::<core::v1::Secret>(),
            ("", "v1", "Service") => self.add::<core::v1::Service>(),
            ("", "v1", "Event") => self.add::<core::v1::Event>(),
            ("", "v1", "Pod") => self.add::<core::v1::Pod>(),
            ("events.k8s.io", "v1", "Event") => self.add::<events::v1::Event>(),
            ("apps", "v1", "Deployment") => self.add::<apps::v1::Deployment>(),
            ("rbac.authorization.k8s.io", "v1", "ClusterRole") => {
                self.add::<rbac::v1::ClusterRole>()
            }
            ("rbac.authorization.k8s.io", "v1", "Role") => self.add::<rbac::v1::Role>(),
            ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => {
                self.add::<rbac::v1::ClusterRoleBinding>()
            }
            ("rbac.authorization.k8s.io", "v1", "RoleBinding") => {
                self.add::<rbac::v1::RoleBinding>()
            }
            ("authorization.k8s.io", "v1", "SelfSubjectAccessReview") => {
                self.add::<authorization::v1::SelfSubjectAccessReview>()
            }
            ("authorization.k8s.io", "v1", "SelfSubjectRulesReview") => {
                self.add::<authorization::v1::SelfSubjectRulesReview>()
            }
            ("coordination.k8s.io", "v1", "Lease") => self.add::<coordination::v1::Lease>(),
            _ => return None,
        })
    }

    /// The definitions collected so far, with the generator's OpenAPI 3 transforms applied.
    pub fn take(&mut self) -> Map<String, Value> {
        self.0.take_definitions(true)
    }
}

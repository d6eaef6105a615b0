//! CustomResourceDefinitions for a real hub, generated from the fleet types (spec §1, §7, §8):
//! `deploy/crds/<group>_<plural>.yaml` is [`all_crds`] rendered as YAML (never edited by hand;
//! `UPDATE_CRDS=1 cargo test -p app --features ssr crds` rewrites it).
//!
//! The OpenAPI schema comes from schemars with kube's structural-schema transforms (the same
//! settings `#[derive(CustomResource)]` uses). The rules the CRDs enforce (spec §3.1, §6, §7) are
//! placed by [`add_rules`] from the constants and rule declarations of
//! [`crate::validation`]: a limit, pattern or message is written once, and each CEL rule is
//! declared once with its Rust twin ([`crate::validation::cel_rule`]), so the Rust
//! validators and the apiserver agree (DESIGN.md "Validation: one source of truth"). This module
//! only assembles: `columns` (spec §8), `rules` per kind, `schema_node` for editing the schema.

mod columns;
mod overrides;
mod placement;
mod rules;
mod schema_node;
mod staged_update;
#[cfg(test)]
mod tests;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionNames, CustomResourceDefinitionSpec,
    CustomResourceDefinitionVersion, CustomResourceSubresourceStatus, CustomResourceSubresources,
    CustomResourceValidation, JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::schema::{OptionalEnum, OptionalIntOrString, StructuralSchemaRewriter};
use schemars::generate::SchemaSettings;
use schemars::transform::AddNullable;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

pub use columns::printer_columns;
use rules::add_rules;

use crate::types::kind;
use crate::types::object::{FleetKind, Scope};

/// Every CRD fleetdeck installs on a real hub, in spec §1 order, then the upgrade-run kinds, then
/// the override kinds (placement-extras §1.1).
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        crd::<kind::ClusterResourcePlacement>(),
        crd::<kind::ResourcePlacement>(),
        crd::<kind::ClusterResourceSnapshot>(),
        crd::<kind::ResourceSnapshot>(),
        crd::<kind::ClusterSchedulingPolicySnapshot>(),
        crd::<kind::SchedulingPolicySnapshot>(),
        crd::<kind::ClusterResourceBinding>(),
        crd::<kind::ResourceBinding>(),
        crd::<kind::ClusterStagedUpdateStrategy>(),
        crd::<kind::StagedUpdateStrategy>(),
        crd::<kind::ClusterStagedUpdateRun>(),
        crd::<kind::StagedUpdateRun>(),
        crd::<kind::ClusterApprovalRequest>(),
        crd::<kind::ApprovalRequest>(),
        crd::<kind::MemberCluster>(),
        crd::<kind::UpdateRun>(),
        crd::<kind::UpdateStrategy>(),
        crd::<kind::Gate>(),
        crd::<kind::AutoUpgradeProfile>(),
        crd::<kind::ClusterResourceOverride>(),
        crd::<kind::ResourceOverride>(),
        crd::<kind::ClusterResourceOverrideSnapshot>(),
        crd::<kind::ResourceOverrideSnapshot>(),
    ]
}

/// `<group>_<plural>.yaml`, as in KubeFleet's `config/crd/bases`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// The kinds whose `v1alpha1` schema differs upstream (left out of their CRDs, see
/// [`served_versions`]). The override kinds' `v1alpha1` is their `v1beta1` schema less the
/// placement-immutability rule (placement-extras §1.1), so they serve it.
const OLDER_V1ALPHA1: &[&str] = &[
    "ClusterStagedUpdateStrategy",
    "ClusterStagedUpdateRun",
    "ClusterApprovalRequest",
];

/// The served versions of a kind's CRD; the storage version is [`FleetKind::VERSION`].
///
/// `v1alpha1` of the three cluster-scoped staged kinds has an older schema upstream (no `state`,
/// `maxConcurrency`, `beforeStageTasks`; spec §1). With one Rust type per kind it cannot be served
/// with an honest schema and no conversion webhook, so fleetdeck's CRDs leave it out; objects
/// written as `v1alpha1` are still accepted by the types on input.
pub fn served_versions<K: FleetKind>() -> Vec<&'static str> {
    let mut versions: Vec<&'static str> = std::iter::once(K::VERSION)
        .chain(
            K::ALSO_ACCEPTED
                .iter()
                .copied()
                .filter(|v| *v != "v1alpha1" || !OLDER_V1ALPHA1.contains(&K::KIND)),
        )
        .collect();
    // controller-gen's order: by name.
    versions.sort_unstable();
    versions
}

/// The CRD of one kind.
pub fn crd<K>() -> CustomResourceDefinition
where
    K: FleetKind,
    K::Spec: JsonSchema,
    K::Status: JsonSchema,
{
    let schema = open_api_schema::<K>();
    let columns = printer_columns(K::KIND);
    let versions = served_versions::<K>()
        .into_iter()
        .map(|version| CustomResourceDefinitionVersion {
            additional_printer_columns: (!columns.is_empty()).then(|| columns.clone()),
            name: version.to_string(),
            schema: Some(CustomResourceValidation {
                open_api_v3_schema: Some(schema.clone()),
            }),
            served: true,
            storage: version == K::VERSION,
            subresources: K::STATUS_SUBRESOURCE.then(|| CustomResourceSubresources {
                scale: None,
                status: Some(CustomResourceSubresourceStatus(json!({}))),
            }),
            ..Default::default()
        })
        .collect();
    let non_empty =
        |items: &[&str]| (!items.is_empty()).then(|| items.iter().map(|s| s.to_string()).collect());
    CustomResourceDefinition {
        metadata: ObjectMeta {
            name: Some(format!("{}.{}", K::PLURAL, K::GROUP)),
            ..Default::default()
        },
        spec: CustomResourceDefinitionSpec {
            group: K::GROUP.to_string(),
            names: CustomResourceDefinitionNames {
                categories: non_empty(K::CATEGORIES),
                kind: K::KIND.to_string(),
                list_kind: Some(format!("{}List", K::KIND)),
                plural: K::PLURAL.to_string(),
                short_names: non_empty(K::SHORT_NAMES),
                singular: Some(K::KIND.to_ascii_lowercase()),
            },
            scope: match K::SCOPE {
                Scope::Cluster => "Cluster",
                Scope::Namespaced => "Namespaced",
            }
            .to_string(),
            versions,
            ..Default::default()
        },
        status: None,
    }
}

/// The `openAPIV3Schema` of one kind: structural, with the rules of [`add_rules`].
pub fn open_api_schema<K>() -> JSONSchemaProps
where
    K: FleetKind,
    K::Spec: JsonSchema,
    K::Status: JsonSchema,
{
    let mut properties = Map::new();
    properties.insert("apiVersion".into(), json!({"type": "string"}));
    properties.insert("kind".into(), json!({"type": "string"}));
    properties.insert("metadata".into(), json!({"type": "object"}));
    properties.insert("spec".into(), type_schema::<K::Spec>());
    let status = type_schema::<K::Status>();
    // Kinds without a status (strategies) get no `status` property, as upstream.
    if status
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
    {
        properties.insert("status".into(), status);
    }
    let mut root = json!({
        "description": format!("{} ({}); generated by fleetdeck from app/src/fleet.", K::KIND, K::GROUP),
        "type": "object",
        "properties": properties,
        "required": ["spec"],
    });
    make_structural(&mut root);
    add_rules(K::KIND, &mut root);
    // The schema is derived from our own types; failing here is a programming error that the
    // `crds_*` tests catch, never a runtime input problem.
    serde_json::from_value(root).expect("generated schema is a valid JSONSchemaProps")
}

/// The schema of one type with the settings of kube's `#[derive(CustomResource)]`.
fn type_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(AddNullable::default())
        .with_transform(StructuralSchemaRewriter)
        .with_transform(OptionalEnum)
        .with_transform(OptionalIntOrString)
        .into_generator();
    let mut value = generator.into_root_schema_for::<T>().to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.remove("title");
    }
    value
}

/// Raw JSON (`serde_json::Value`) has no schema of its own; a structural schema needs a type at
/// every node, so such nodes become objects that keep unknown fields (failed placements,
/// envelopes, ARM error details).
fn make_structural(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let typed = obj.contains_key("type")
        || obj.contains_key("x-kubernetes-int-or-string")
        || obj.contains_key("x-kubernetes-preserve-unknown-fields");
    if !typed {
        obj.insert("type".into(), json!("object"));
        obj.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
    }
    // `Option<Enum>` comes out as `enum: [..., null]` with `nullable: true`; the apiserver
    // admits null through `nullable`, and kubectl explain should not list it as a value.
    if let Some(values) = obj.get_mut("enum").and_then(Value::as_array_mut) {
        values.retain(|v| !v.is_null());
    }
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        props.values_mut().for_each(make_structural);
    }
    if let Some(items) = obj.get_mut("items") {
        make_structural(items);
    }
    if let Some(extra) = obj.get_mut("additionalProperties") {
        if extra.is_object() {
            make_structural(extra);
        }
    }
}

//! Validation of `ClusterResourceOverride` / `ResourceOverride` (placement-extras §1.3): the CRDs'
//! CEL rules with their Rust twins, and KubeFleet's validating webhooks
//! (`fleet.clusterresourceoverride.validating` / `fleet.resourceoverride.validating`), whose
//! denials the hub reports as the apiserver does: `admission webhook "<name>" denied the request:
//! <text>`, one error as-is and several as `[e1, e2]`.
//!
//! The list sizes, required fields and enums are the schema's (the hub checks them generically
//! before these rules, as an apiserver does before its webhooks). The webhook's checks against the
//! other overrides (at most 100, one override per resource) get them from the hub's admission hook.

use std::collections::BTreeSet;

use super::cel_rule::{Cel, CelRule, TransitionRule};
use super::{finish, FieldError, ROOT};
use crate::overrides::override_spec::{
    ClusterResourceOverrideSpec, JsonPatchOp, JsonPatchOverride, OverridePolicy, OverrideType,
    PlacementRef, PlacementScope, ResourceOverrideSpec,
};
use crate::placement::resource_placement::{ClusterSelectorTerm, ResourceSelector};
use crate::types::label_selector::{self, LabelSelector};
use crate::{FleetKind, Object};

/// The webhook that checks ClusterResourceOverrides.
pub const CRO_WEBHOOK: &str = "fleet.clusterresourceoverride.validating";
/// The webhook that checks ResourceOverrides.
pub const RO_WEBHOOK: &str = "fleet.resourceoverride.validating";

pub const MSG_CRO_NAMESPACED_PLACEMENT: &str =
    "clusterResourceOverride placement reference cannot be Namespaced scope";
pub const MSG_PLACEMENT_IMMUTABLE: &str = "The placement field is immutable";

/// CRO root rule: its placement reference cannot name a ResourcePlacement.
pub const CRO_PLACEMENT_NOT_NAMESPACED: CelRule<ClusterResourceOverrideSpec> = CelRule {
    cel: Cel {
        rule: "!has(self.spec.placement) || self.spec.placement.scope != 'Namespaced'",
        message: MSG_CRO_NAMESPACED_PLACEMENT,
        field_path: None,
        cel_type: "object",
    },
    holds: |spec| {
        spec.placement
            .as_ref()
            .is_none_or(|p| p.scope() != PlacementScope::Namespaced)
    },
};

/// The placement reference cannot be changed, added or removed (on `spec`; `v1beta1`/`v1`).
pub const PLACEMENT_IMMUTABLE: TransitionRule<Option<PlacementRef>> = TransitionRule {
    cel: Cel {
        rule: "(has(oldSelf.placement) && has(self.placement) && oldSelf.placement == self.placement) || (!has(oldSelf.placement) && !has(self.placement))",
        message: MSG_PLACEMENT_IMMUTABLE,
        field_path: None,
        cel_type: "object",
    },
    holds: |old, new| placement_eq(old.as_ref(), new.as_ref()),
};

/// CEL equality of two references, the defaulted scope included.
fn placement_eq(old: Option<&PlacementRef>, new: Option<&PlacementRef>) -> bool {
    match (old, new) {
        (Some(a), Some(b)) => a.name == b.name && a.scope() == b.scope(),
        (None, None) => true,
        _ => false,
    }
}

/// The CRD's CEL rules on a ClusterResourceOverride.
pub fn validate_cluster_resource_override<K>(
    old: Option<&Object<K>>,
    new: &Object<K>,
) -> Result<(), Vec<FieldError>>
where
    K: FleetKind<Spec = ClusterResourceOverrideSpec>,
{
    let mut errors = Vec::new();
    CRO_PLACEMENT_NOT_NAMESPACED.check(ROOT, &new.spec, &mut errors);
    if let Some(old) = old {
        PLACEMENT_IMMUTABLE.check(
            "spec",
            &old.spec.placement,
            &new.spec.placement,
            &mut errors,
        );
    }
    finish(errors)
}

/// The CRD's CEL rule on a ResourceOverride.
pub fn validate_resource_override<K>(
    old: Option<&Object<K>>,
    new: &Object<K>,
) -> Result<(), Vec<FieldError>>
where
    K: FleetKind<Spec = ResourceOverrideSpec>,
{
    let mut errors = Vec::new();
    if let Some(old) = old {
        PLACEMENT_IMMUTABLE.check(
            "spec",
            &old.spec.placement,
            &new.spec.placement,
            &mut errors,
        );
    }
    finish(errors)
}

/// Upstream's cap on overrides: cluster-wide for CROs, per namespace for ROs.
pub const MAX_OVERRIDES: usize = 100;

/// The webhook's denial text for ClusterResourceOverride `name`, if it denies it. `existing` are
/// the CROs on the hub (this one's stored version included on update); `create` is a CREATE.
pub fn webhook_cluster_resource_override(
    name: &str,
    spec: &ClusterResourceOverrideSpec,
    existing: &[(String, ClusterResourceOverrideSpec)],
    create: bool,
) -> Result<(), String> {
    if create && existing.len() >= MAX_OVERRIDES {
        return Err(format!(
            "clusterResourceOverride limit has been reached: at most {MAX_OVERRIDES} cluster resources can be created."
        ));
    }
    // Selector errors are returned alone: the other checks assume selection by name.
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for selector in &spec.cluster_resource_selectors {
        let shown = go_selector_term(selector);
        if selector.label_selector.is_some() {
            errors.push(format!(
                "label selector is not supported for resource selection {shown}"
            ));
            continue;
        }
        if selector.name.as_deref().unwrap_or_default().is_empty() {
            errors.push(format!(
                "resource name is required for resource selection {shown}"
            ));
            continue;
        }
        if !seen.insert(shown.clone()) {
            errors.push(format!(
                "resource selector {shown} already exists, and must be unique"
            ));
        }
    }
    aggregate(errors)?;
    let taken = existing.iter().flat_map(|(other, s)| {
        s.cluster_resource_selectors
            .iter()
            .map(move |sel| (go_selector_term(sel), other.as_str()))
    });
    let mut errors = selected_by_others(
        name,
        spec.cluster_resource_selectors.iter().map(go_selector_term),
        taken,
    );
    errors.extend(policy_errors(&spec.policy));
    aggregate(errors)
}

/// The webhook's denial text for ResourceOverride `name`, if it denies it; `existing` are the
/// ROs of its namespace.
pub fn webhook_resource_override(
    name: &str,
    spec: &ResourceOverrideSpec,
    existing: &[(String, ResourceOverrideSpec)],
    create: bool,
) -> Result<(), String> {
    if create && existing.len() >= MAX_OVERRIDES {
        return Err(format!(
            "resourceOverride limit has been reached: at most {MAX_OVERRIDES} resources can be created."
        ));
    }
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for selector in &spec.resource_selectors {
        if !seen.insert(selector) {
            errors.push(format!(
                "resource selector {} already exists, and must be unique",
                go_ro_selector(selector)
            ));
        }
    }
    aggregate(errors)?;
    let taken = existing.iter().flat_map(|(other, s)| {
        s.resource_selectors
            .iter()
            .map(move |sel| (go_ro_selector(sel), other.as_str()))
    });
    let mut errors = selected_by_others(
        name,
        spec.resource_selectors.iter().map(go_ro_selector),
        taken,
    );
    errors.extend(policy_errors(&spec.policy));
    aggregate(errors)
}

/// `validate…ResourceLimit`: each of this override's selectors (as Go prints them) that another
/// override already has. As upstream, a selector held by several others names the last listed.
fn selected_by_others<'a>(
    name: &str,
    mine: impl Iterator<Item = String>,
    taken: impl Iterator<Item = (String, &'a str)>,
) -> Vec<String> {
    let owners: std::collections::BTreeMap<String, &str> = taken.collect();
    mine.filter_map(|shown| {
        let other = owners.get(&shown).filter(|o| **o != name)?;
        Some(format!(
            "invalid resource selector {shown}: the resource has been selected by both {name} and {other}, which is not supported"
        ))
    })
    .collect()
}

fn go_ro_selector(s: &crate::overrides::override_spec::OverrideResourceSelector) -> String {
    format!(
        "{{Group:{} Version:{} Kind:{} Name:{}}}",
        s.group, s.version, s.kind, s.name
    )
}

/// The apiserver's rendering of a webhook denial.
pub fn webhook_denial(webhook: &str, text: &str) -> String {
    format!("admission webhook {webhook:?} denied the request: {text}")
}

/// `validateOverridePolicy`: one aggregated error, or none.
fn policy_errors(policy: &OverridePolicy) -> Option<String> {
    let mut errors = Vec::new();
    for rule in &policy.override_rules {
        for term in rule
            .cluster_selector
            .iter()
            .flat_map(|s| &s.cluster_selector_terms)
        {
            let shown = go_cluster_selector_term(term);
            if term.property_selector.is_some() || term.property_sorter.is_some() {
                errors.push(format!(
                    "invalid clusterSelector {shown}: only labelSelector is supported"
                ));
                continue;
            }
            match &term.label_selector {
                None => errors.push(format!(
                    "invalid clusterSelector {shown}: labelSelector is required"
                )),
                Some(selector) => {
                    if let Err(e) = label_selector::validate(selector) {
                        errors.push(format!(
                            "the labelSelector in cluster selector {} is invalid: {e}",
                            go_label_selector(Some(selector))
                        ));
                    }
                }
            }
        }
        match rule.override_type() {
            // [quirk] upstream returns this one alone, dropping the errors found so far.
            OverrideType::Delete if !rule.patches().is_empty() => {
                return Some(
                    "invalid JSONPatchOverrides: JSONPatchOverrides cannot be set when the override type is Delete"
                        .to_string(),
                );
            }
            OverrideType::Delete => {}
            OverrideType::JSONPatch => {
                if let Err(e) = json_patch_errors(rule.patches()) {
                    errors.push(e);
                }
            }
        }
    }
    aggregate(errors).err()
}

fn json_patch_errors(patches: &[JsonPatchOverride]) -> Result<(), String> {
    if patches.is_empty() {
        return Err("invalid JSONPatchOverrides: JSONPatchOverrides cannot be empty".to_string());
    }
    let mut errors = Vec::new();
    for patch in patches {
        if let Err(e) = path_error(&patch.path) {
            errors.push(format!(
                "invalid JSONPatchOverride {}: {e}",
                go_json_patch(patch)
            ));
        }
        if patch.op == JsonPatchOp::Remove && patch.value.is_some() {
            errors.push(format!(
                "invalid JSONPatchOverride {}: remove operation cannot have value",
                go_json_patch(patch)
            ));
        }
    }
    aggregate(errors)
}

/// `validateJSONPatchOverridePath`.
fn path_error(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("path cannot be empty");
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err("path must start with /");
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts[0] {
        "kind" | "apiVersion" => return Err("cannot override typeMeta fields"),
        "metadata" => match parts.get(1) {
            None => return Err("cannot override field metadata"),
            Some(&"annotations") | Some(&"labels") => {}
            Some(_) => return Err("cannot override metadata fields except annotations and labels"),
        },
        "status" => return Err("cannot override status fields"),
        _ => {}
    }
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err("path cannot contain empty string");
    }
    Ok(())
}

/// apimachinery's `NewAggregate(...).Error()`: one error as-is, several as `[e1, e2]`.
fn aggregate(errors: Vec<String>) -> Result<(), String> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.into_iter().next().unwrap_or_default()),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

/// Go's `%+v` of a `ResourceSelectorTerm` as the webhook receives it (selectionScope defaulted).
fn go_selector_term(s: &ResourceSelector) -> String {
    // The enum's serde names are Go's constants.
    let scope = serde_json::to_value(s.selection_scope.unwrap_or_default())
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!(
        "{{Group:{} Version:{} Kind:{} Name:{} LabelSelector:{} SelectionScope:{scope}}}",
        s.group,
        s.version,
        s.kind,
        s.name.as_deref().unwrap_or_default(),
        go_label_selector(s.label_selector.as_ref()),
    )
}

/// Go's `%+v` of a `ClusterSelectorTerm` (pointers to generated types print through `String()`).
fn go_cluster_selector_term(t: &ClusterSelectorTerm) -> String {
    let present = |p: bool, name: &str| {
        if p {
            format!("&{name}{{...}}")
        } else {
            "<nil>".to_string()
        }
    };
    format!(
        "{{LabelSelector:{} PropertySelector:{} PropertySorter:{}}}",
        go_label_selector(t.label_selector.as_ref()),
        present(t.property_selector.is_some(), "PropertySelector"),
        present(t.property_sorter.is_some(), "PropertySorter"),
    )
}

/// A `*metav1.LabelSelector` as Go prints it (`String()` of the generated type).
fn go_label_selector(s: Option<&LabelSelector>) -> String {
    let Some(s) = s else {
        return "<nil>".to_string();
    };
    let labels: String = s
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}: {v},"))
        .collect();
    let expressions: String = s
        .match_expressions
        .iter()
        .flatten()
        .map(|e| {
            let values: String = e.values.iter().flatten().map(|v| format!("{v},")).collect();
            format!(
                "LabelSelectorRequirement{{Key:{},Operator:{},Values:[]string{{{values}}},}},",
                e.key, e.operator
            )
        })
        .collect();
    format!(
        "&LabelSelector{{MatchLabels:map[string]string{{{labels}}},MatchExpressions:[]LabelSelectorRequirement{{{expressions}}},}}"
    )
}

/// Go's `%s` of a `JSONPatchOverride`: `{op path {raw value}}`.
fn go_json_patch(p: &JsonPatchOverride) -> String {
    let value = p.value.as_ref().map(|v| v.to_string()).unwrap_or_default();
    format!("{{{} {} {{{value}}}}}", p.op.as_str(), p.path)
}

#[cfg(test)]
#[path = "overrides_tests.rs"]
mod tests;

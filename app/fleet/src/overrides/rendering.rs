//! What a cluster's overrides make of the selected resources (placement-extras §1.8): CROs first
//! (by the resource, or by its Namespace when it is namespaced), then ROs, each in the binding's
//! order; within one override its rules in order, a matching `Delete` rule drops the resource and
//! ends that override's rules, a `JSONPatch` rule applies its operations as one RFC 6902 patch
//! after the reserved variables are replaced.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::overrides::matching::{
    cro_selects, ro_selects, rule_matches, CroSnapshot, ResourceKey, RoSnapshot,
};
use crate::overrides::override_spec::{JsonPatchOverride, OverrideRule, OverrideType};

/// Replaced by the member cluster's name.
pub const CLUSTER_NAME_VARIABLE: &str = "${MEMBER-CLUSTER-NAME}";
/// `${MEMBER-CLUSTER-LABEL-KEY-<key>}` is replaced by the value of label `<key>` on the cluster.
pub const CLUSTER_LABEL_KEY_VARIABLE_PREFIX: &str = "${MEMBER-CLUSTER-LABEL-KEY-";

/// The cluster the resources are rendered for.
#[derive(Clone, Copy, Debug)]
pub struct TargetCluster<'a> {
    pub name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

/// Why a cluster's overrides could not be applied: the user's to fix (KubeFleet's wording).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("clusterResourceOverrideSnapshot {0} is not found")]
    CroNotFound(String),
    #[error("resourceOverrideSnapshot {{{name} {namespace}}} is not found")]
    RoNotFound { name: String, namespace: String },
    #[error("{kind} {snapshot:?} failed to apply on {target}: {reason}")]
    Failed {
        kind: &'static str,
        snapshot: String,
        target: String,
        reason: String,
    },
}

/// The binding's override snapshots, found on the hub in the binding's order.
#[derive(Clone, Debug, Default)]
pub struct BindingOverrides {
    pub cros: Vec<CroSnapshot>,
    pub ros: Vec<RoSnapshot>,
}

/// Each resource as the cluster gets it, `None` when a `Delete` rule drops it, in input order.
pub fn render(
    resources: &[Value],
    overrides: &BindingOverrides,
    cluster: TargetCluster,
) -> Result<Vec<Option<Value>>, OverrideError> {
    resources
        .iter()
        .map(|resource| render_one(resource, overrides, cluster))
        .collect()
}

fn render_one(
    resource: &Value,
    overrides: &BindingOverrides,
    cluster: TargetCluster,
) -> Result<Option<Value>, OverrideError> {
    let Some(key) = ResourceKey::of(resource) else {
        return Ok(Some(resource.clone()));
    };
    let mut doc = Some(resource.clone());
    let cro_key = key.cro_key();
    for cro in overrides
        .cros
        .iter()
        .filter(|c| cro_selects(&c.spec, &cro_key))
    {
        apply_rules(
            &mut doc,
            &cro.spec.override_spec.policy.override_rules,
            cluster,
        )
        .map_err(|reason| failed("ClusterResourceOverrideSnapshot", &cro.name, &key, reason))?;
    }
    if key.is_namespaced() {
        for ro in overrides
            .ros
            .iter()
            .filter(|r| ro_selects(&r.namespace, &r.spec, &key))
        {
            apply_rules(
                &mut doc,
                &ro.spec.override_spec.policy.override_rules,
                cluster,
            )
            .map_err(|reason| failed("ResourceOverrideSnapshot", &ro.name, &key, reason))?;
        }
    }
    Ok(doc)
}

fn failed(kind: &'static str, snapshot: &str, key: &ResourceKey, reason: String) -> OverrideError {
    let target = if key.namespace.is_empty() {
        format!("{} {:?}", key.kind, key.name)
    } else {
        format!(
            "{} {:?} in namespace {:?}",
            key.kind, key.name, key.namespace
        )
    };
    OverrideError::Failed {
        kind,
        snapshot: snapshot.to_string(),
        target,
        reason,
    }
}

/// One override's rules on `doc`. A resource an earlier override dropped stays dropped: upstream
/// then fails the later override's patch on the empty document (an inferred quirk fleetdeck does
/// not keep).
fn apply_rules(
    doc: &mut Option<Value>,
    rules: &[OverrideRule],
    cluster: TargetCluster,
) -> Result<(), String> {
    for rule in rules {
        let Some(current) = doc.as_mut() else {
            return Ok(());
        };
        if !rule_matches(rule, cluster.labels).map_err(|e| e.to_string())? {
            continue;
        }
        match rule.override_type() {
            OverrideType::Delete => {
                *doc = None;
                return Ok(());
            }
            OverrideType::JSONPatch => apply_patch(current, rule.patches(), cluster)?,
        }
    }
    Ok(())
}

fn apply_patch(
    doc: &mut Value,
    patches: &[JsonPatchOverride],
    cluster: TargetCluster,
) -> Result<(), String> {
    if patches.is_empty() {
        return Ok(());
    }
    let mut ops = Vec::with_capacity(patches.len());
    for p in patches {
        let mut op = serde_json::json!({"op": p.op.as_str(), "path": p.path});
        if let Some(value) = &p.value {
            let text = substitute(&value.to_string(), cluster)?;
            op["value"] = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        }
        ops.push(op);
    }
    let patch: json_patch::Patch =
        serde_json::from_value(Value::Array(ops)).map_err(|e| e.to_string())?;
    json_patch::patch(doc, &patch).map_err(|e| e.to_string())
}

/// The reserved variables replaced in a value's JSON text, as upstream does (plain text, so a
/// label value is inserted as it is).
pub fn substitute(input: &str, cluster: TargetCluster) -> Result<String, String> {
    let mut result = input.replace(CLUSTER_NAME_VARIABLE, cluster.name);
    let prefix = CLUSTER_LABEL_KEY_VARIABLE_PREFIX;
    while let Some(start) = result.find(prefix) {
        let after = start + prefix.len();
        let Some(len) = result[after..].find('}') else {
            return Err(format!("input {input} is missing the closing bracket `}}`"));
        };
        let key = &result[after..after + len];
        let value = cluster
            .labels
            .get(key)
            .ok_or_else(|| format!("label key {key} not found on cluster {}", cluster.name))?;
        result.replace_range(start..after + len + 1, value);
    }
    Ok(result)
}

#[cfg(test)]
#[path = "rendering_tests.rs"]
mod tests;

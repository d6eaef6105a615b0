//! Which overrides apply to a placement's resources (placement-extras §1.5) and to each of its
//! clusters (§1.6). The lists this yields, sorted, are what bindings and update runs record.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::overrides::override_spec::{
    ClusterResourceOverrideSnapshotSpec, OverrideRule, PlacementScope, ResourceOverrideSnapshotSpec,
};
use crate::placement::resource_placement::NamespacedName;
use crate::types::label_selector::{self, SelectorError};

/// A latest CRO snapshot as matching reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct CroSnapshot {
    pub name: String,
    pub spec: ClusterResourceOverrideSnapshotSpec,
}

/// A latest RO snapshot (its namespace is the RO's).
#[derive(Clone, Debug, PartialEq)]
pub struct RoSnapshot {
    pub name: String,
    pub namespace: String,
    pub spec: ResourceOverrideSnapshotSpec,
}

/// `{group, version, kind, namespace, name}` of a resource; `namespace` empty when cluster-scoped.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceKey {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ResourceKey {
    /// The key of a manifest; `None` for one without apiVersion, kind or name.
    pub fn of(manifest: &Value) -> Option<Self> {
        let api_version = manifest["apiVersion"].as_str()?;
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        Some(ResourceKey {
            group: group.to_string(),
            version: version.to_string(),
            kind: manifest["kind"].as_str()?.to_string(),
            namespace: manifest["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            name: manifest["metadata"]["name"].as_str()?.to_string(),
        })
    }

    pub fn is_namespaced(&self) -> bool {
        !self.namespace.is_empty()
    }

    /// What a CRO selects this resource by: itself when cluster-scoped, else its Namespace.
    pub fn cro_key(&self) -> ResourceKey {
        if self.is_namespaced() {
            ResourceKey {
                version: "v1".into(),
                kind: "Namespace".into(),
                name: self.namespace.clone(),
                ..ResourceKey::default()
            }
        } else {
            self.clone()
        }
    }
}

/// The key a placement is known by to overrides: `<name>` for a ClusterResourcePlacement,
/// `<ns>/<name>` for a ResourcePlacement.
pub fn placement_key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

/// What a CRO snapshot selects.
pub fn cro_selects(spec: &ClusterResourceOverrideSnapshotSpec, key: &ResourceKey) -> bool {
    spec.override_spec
        .cluster_resource_selectors
        .iter()
        .any(|s| {
            s.group == key.group
                && s.version == key.version
                && s.kind == key.kind
                && s.name.as_deref().unwrap_or_default() == key.name
                && key.namespace.is_empty()
        })
}

/// What an RO snapshot in `namespace` selects.
pub fn ro_selects(namespace: &str, spec: &ResourceOverrideSnapshotSpec, key: &ResourceKey) -> bool {
    namespace == key.namespace
        && spec.override_spec.resource_selectors.iter().any(|s| {
            s.group == key.group
                && s.version == key.version
                && s.kind == key.kind
                && s.name == key.name
        })
}

/// The latest snapshots that apply to placement `placement_key` over `resources` (every object of
/// its snapshot group), in input order (§1.5). Envelopes are placed as the objects they are.
pub fn matching_overrides<'a>(
    placement_key: &str,
    resources: &[Value],
    cros: &'a [CroSnapshot],
    ros: &'a [RoSnapshot],
) -> (Vec<&'a CroSnapshot>, Vec<&'a RoSnapshot>) {
    if cros.is_empty() && ros.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let keys: Vec<ResourceKey> = resources.iter().filter_map(ResourceKey::of).collect();
    let cro_keys: BTreeSet<ResourceKey> = keys.iter().map(ResourceKey::cro_key).collect();
    let ro_keys: Vec<&ResourceKey> = keys.iter().filter(|k| k.is_namespaced()).collect();
    let cros = cros
        .iter()
        .filter(|c| {
            c.spec
                .override_spec
                .placement
                .as_ref()
                .is_none_or(|p| p.name == placement_key)
                && cro_keys.iter().any(|k| cro_selects(&c.spec, k))
        })
        .collect();
    let ros = ros
        .iter()
        .filter(|r| {
            r.spec.override_spec.placement.as_ref().is_none_or(|p| {
                let key = match p.scope() {
                    PlacementScope::Cluster => p.name.clone(),
                    PlacementScope::Namespaced => format!("{}/{}", r.namespace, p.name),
                };
                key == placement_key
            }) && ro_keys.iter().any(|k| ro_selects(&r.namespace, &r.spec, k))
        })
        .collect();
    (cros, ros)
}

/// Whether a rule applies to a cluster with `labels` (`isClusterMatched`): no selector, no
/// cluster; no terms, every cluster; else any term's label selector (none: nothing).
pub fn rule_matches(
    rule: &OverrideRule,
    labels: &BTreeMap<String, String>,
) -> Result<bool, SelectorError> {
    let Some(selector) = &rule.cluster_selector else {
        return Ok(false);
    };
    if selector.cluster_selector_terms.is_empty() {
        return Ok(true);
    }
    for term in &selector.cluster_selector_terms {
        if label_selector::matches(term.label_selector.as_ref(), labels)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The overrides of one cluster, as a binding and a run's cluster record them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterOverrides {
    /// CRO snapshot names, ascending.
    pub cluster_resource_overrides: Vec<String>,
    /// RO snapshots by namespace, then name.
    pub resource_overrides: Vec<NamespacedName>,
}

impl ClusterOverrides {
    pub fn is_empty(&self) -> bool {
        self.cluster_resource_overrides.is_empty() && self.resource_overrides.is_empty()
    }
}

/// Of the placement's matching overrides, those with a rule for a cluster with `labels` (§1.6).
pub fn for_cluster(
    cros: &[&CroSnapshot],
    ros: &[&RoSnapshot],
    labels: &BTreeMap<String, String>,
) -> Result<ClusterOverrides, SelectorError> {
    let any_rule = |rules: &[OverrideRule]| -> Result<bool, SelectorError> {
        for rule in rules {
            if rule_matches(rule, labels)? {
                return Ok(true);
            }
        }
        Ok(false)
    };
    let mut out = ClusterOverrides::default();
    for c in cros {
        if any_rule(&c.spec.override_spec.policy.override_rules)? {
            out.cluster_resource_overrides.push(c.name.clone());
        }
    }
    for r in ros {
        if any_rule(&r.spec.override_spec.policy.override_rules)? {
            out.resource_overrides.push(NamespacedName {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
            });
        }
    }
    out.cluster_resource_overrides.sort();
    out.resource_overrides
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(out)
}

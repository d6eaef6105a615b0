//! The schema rules of the override kinds and their snapshots (placement-extras §1.2–§1.3).

use serde_json::{json, Value};

use super::schema_node::{cel, required, set};
use crate::validation::overrides as vo;

/// Rules on an override spec at `spec` (`spec.overrideSpec` in a snapshot); `selectors` is
/// `clusterResourceSelectors` or `resourceSelectors`.
fn spec_rules(root: &mut Value, spec: &str, selectors: &str) {
    required(root, spec, &[selectors, "policy"]);
    let list = |root: &mut Value, path: &str, min: Option<u64>, max: u64| {
        if let Some(min) = min {
            set(root, path, "minItems", json!(min));
        }
        set(root, path, "maxItems", json!(max));
    };
    list(root, &format!("{spec}.{selectors}"), Some(1), 20);
    if selectors == "resourceSelectors" {
        required(
            root,
            &format!("{spec}.resourceSelectors[]"),
            &["group", "kind", "name", "version"],
        );
    } else {
        required(
            root,
            &format!("{spec}.clusterResourceSelectors[]"),
            &["group", "kind", "version"],
        );
        set(
            root,
            &format!("{spec}.clusterResourceSelectors[].selectionScope"),
            "default",
            json!("NamespaceWithResources"),
        );
    }
    required(root, &format!("{spec}.placement"), &["name"]);
    set(
        root,
        &format!("{spec}.placement.scope"),
        "default",
        json!("Cluster"),
    );
    let rules = format!("{spec}.policy.overrideRules");
    required(root, &format!("{spec}.policy"), &["overrideRules"]);
    list(root, &rules, Some(1), 20);
    let rule = format!("{rules}[]");
    set(
        root,
        &format!("{rule}.overrideType"),
        "default",
        json!("JSONPatch"),
    );
    list(root, &format!("{rule}.jsonPatchOverrides"), Some(1), 20);
    required(
        root,
        &format!("{rule}.jsonPatchOverrides[]"),
        &["op", "path"],
    );
    required(
        root,
        &format!("{rule}.clusterSelector"),
        &["clusterSelectorTerms"],
    );
    list(
        root,
        &format!("{rule}.clusterSelector.clusterSelectorTerms"),
        None,
        10,
    );
}

pub(super) fn override_rules(kind: &str, root: &mut Value) {
    match kind {
        "ClusterResourceOverride" => {
            required(root, "", &["spec"]);
            spec_rules(root, "spec", "clusterResourceSelectors");
            cel(root, "", &vo::CRO_PLACEMENT_NOT_NAMESPACED.cel);
            cel(root, "spec", &vo::PLACEMENT_IMMUTABLE.cel);
        }
        "ResourceOverride" => {
            required(root, "", &["spec"]);
            spec_rules(root, "spec", "resourceSelectors");
            cel(root, "spec", &vo::PLACEMENT_IMMUTABLE.cel);
        }
        "ClusterResourceOverrideSnapshot" => {
            required(root, "", &["spec"]);
            required(root, "spec", &["overrideHash", "overrideSpec"]);
            spec_rules(root, "spec.overrideSpec", "clusterResourceSelectors");
        }
        "ResourceOverrideSnapshot" => {
            required(root, "", &["spec"]);
            required(root, "spec", &["overrideHash", "overrideSpec"]);
            spec_rules(root, "spec.overrideSpec", "resourceSelectors");
        }
        _ => {}
    }
}

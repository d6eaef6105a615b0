//! The rules of `ClusterResourcePlacement` / `ResourcePlacement` (spec §3.1): defaults, limits
//! and the CEL rules declared in [`crate::validation::placement`].

use serde_json::{json, Value};

use super::schema_node::{cel, range, required, set, validation};
use crate::validation::placement as vp;

/// spec §3.1.
pub(super) fn placement_rules(kind: &str, root: &mut Value) {
    required(root, "spec", &["resourceSelectors"]);
    if kind == "ResourcePlacement" {
        cel(
            root,
            "spec.resourceSelectors[]",
            &vp::RP_SELECTS_NO_NAMESPACE.cel,
        );
    }
    cel(
        root,
        "spec.resourceSelectors[]",
        &vp::SCOPED_NAMESPACE_BY_NAME.cel,
    );
    cel(
        root,
        "spec.resourceSelectors",
        &vp::SCOPED_NAMESPACE_ONLY_ONE.cel,
    );
    cel(root, "spec", &vp::NAMESPACE_ACCESSIBLE_ONE_NAMESPACE.cel);
    let sel = "spec.resourceSelectors";
    set(root, sel, "minItems", json!(vp::MIN_RESOURCE_SELECTORS));
    set(root, sel, "maxItems", json!(vp::MAX_RESOURCE_SELECTORS));
    required(
        root,
        "spec.resourceSelectors[]",
        &["group", "version", "kind"],
    );
    cel(
        root,
        "spec.resourceSelectors[]",
        &vp::NAME_OR_LABEL_SELECTOR.cel,
    );
    set(
        root,
        "spec.resourceSelectors[].selectionScope",
        "default",
        json!("NamespaceWithResources"),
    );
    set(root, "spec.revisionHistoryLimit", "default", json!(10));
    range(
        root,
        "spec.revisionHistoryLimit",
        &vp::REVISION_HISTORY_LIMIT,
    );
    set(
        root,
        "spec.statusReportingScope",
        "default",
        json!("ClusterScopeOnly"),
    );
    cel(
        root,
        "spec.statusReportingScope",
        &vp::STATUS_REPORTING_SCOPE_IMMUTABLE.cel,
    );
    cel(root, "spec", &vp::POLICY_NOT_REMOVED.cel);
    cel(root, "spec", &vp::EXTERNAL_STAYS_EXTERNAL.cel);
    let policy = "spec.policy";
    set(
        root,
        &format!("{policy}.placementType"),
        "default",
        json!("PickAll"),
    );
    cel(
        root,
        &format!("{policy}.placementType"),
        &vp::PLACEMENT_TYPE_IMMUTABLE.cel,
    );
    set(
        root,
        &format!("{policy}.clusterNames"),
        "maxItems",
        json!(vp::MAX_CLUSTER_NAMES),
    );
    range(
        root,
        &format!("{policy}.numberOfClusters"),
        &vp::NUMBER_OF_CLUSTERS,
    );
    set(
        root,
        &format!("{policy}.tolerations"),
        "maxItems",
        json!(vp::MAX_TOLERATIONS),
    );
    set(
        root,
        &format!("{policy}.tolerations[].operator"),
        "default",
        json!("Equal"),
    );
    set(
        root,
        &format!("{policy}.affinity.clusterAffinity.requiredDuringSchedulingIgnoredDuringExecution.clusterSelectorTerms"),
        "maxItems",
        json!(vp::MAX_CLUSTER_SELECTOR_TERMS),
    );
    let preferred = format!(
        "{policy}.affinity.clusterAffinity.preferredDuringSchedulingIgnoredDuringExecution[]"
    );
    set(root, &format!("{preferred}.weight"), "minimum", json!(-100));
    set(root, &format!("{preferred}.weight"), "maximum", json!(100));
    let spread = format!("{policy}.topologySpreadConstraints[]");
    set(root, &format!("{spread}.maxSkew"), "default", json!(1));
    set(root, &format!("{spread}.maxSkew"), "minimum", json!(1));
    set(
        root,
        &format!("{spread}.whenUnsatisfiable"),
        "default",
        json!("DoNotSchedule"),
    );
    // PickN / PickFixed field rules (spec §3.1), with the validator's detail texts.
    for rule in vp::POLICY_RULES {
        validation(root, policy, rule.cel());
    }
    let toleration = format!("{policy}.tolerations[]");
    cel(root, &toleration, &vp::TOLERATION_EXISTS_HAS_NO_VALUE.cel);
    cel(
        root,
        &toleration,
        &vp::TOLERATION_EMPTY_KEY_NEEDS_EXISTS.cel,
    );
    let strategy = "spec.strategy";
    set(
        root,
        &format!("{strategy}.type"),
        "default",
        json!("RollingUpdate"),
    );
    let rolling = format!("{strategy}.rollingUpdate");
    set(
        root,
        &format!("{rolling}.maxUnavailable"),
        "default",
        json!("25%"),
    );
    set(
        root,
        &format!("{rolling}.maxSurge"),
        "default",
        json!("25%"),
    );
    set(
        root,
        &format!("{rolling}.unavailablePeriodSeconds"),
        "default",
        json!(60),
    );
    let apply = format!("{strategy}.applyStrategy");
    for (field, default) in [
        ("comparisonOption", "PartialComparison"),
        ("type", "ClientSideApply"),
        ("whenToApply", "Always"),
        ("whenToTakeOver", "Always"),
    ] {
        set(root, &format!("{apply}.{field}"), "default", json!(default));
    }
    set(
        root,
        &format!("{strategy}.deleteStrategy.propagationPolicy"),
        "default",
        json!("Delete"),
    );
    set(
        root,
        &format!("{strategy}.reportBackStrategy.type"),
        "default",
        json!("Disabled"),
    );
    cel(
        root,
        &format!("{strategy}.reportBackStrategy"),
        &vp::MIRROR_NEEDS_DESTINATION.cel,
    );
}

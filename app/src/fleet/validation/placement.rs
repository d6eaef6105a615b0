//! Validation of `ClusterResourcePlacement` / `ResourcePlacement` (spec §3.1).
//!
//! Where the spec quotes a message it is used verbatim (External strategy type). The spec names
//! the PickN/PickFixed and policy rules without quoting their messages; those texts are
//! fleetdeck's and are kept in the constants below so that the CRD generator and tests share them.

use super::{finish, FieldError};
use crate::fleet::placement::{
    PlacementPolicy, PlacementSpec, PlacementType, ReportBackStrategyType, ResourceSelector,
    RolloutStrategyType, SelectionScope, StatusReportingScope, TolerationOperator,
};
use crate::fleet::{FleetKind, Object, Scope};

pub const MAX_RESOURCE_SELECTORS: usize = 100;
pub const MAX_CLUSTER_NAMES: usize = 100;
pub const MAX_TOLERATIONS: usize = 100;
pub const MAX_CLUSTER_SELECTOR_TERMS: usize = 10;
pub const MSG_EXTERNAL_STRATEGY: &str =
    "cannot change rollout strategy type from 'External' to other types";
pub const MSG_POLICY_REMOVED: &str = "policy cannot be removed once set";
pub const MSG_PLACEMENT_TYPE_IMMUTABLE: &str = "placement type is immutable";
pub const MSG_STATUS_SCOPE_IMMUTABLE: &str = "statusReportingScope is immutable";
pub const MSG_NAME_AND_SELECTOR: &str =
    "the name field and the labelSelector field are mutually exclusive";
/// Kubernetes' own toleration texts (core/v1 validation), which the spec's rules restate.
pub const MSG_TOLERATION_EXISTS_VALUE: &str = "value must be empty when `operator` is 'Exists'";
pub const MSG_TOLERATION_EMPTY_KEY: &str =
    "operator must be Exists when `key` is empty, which means \"match all values and all keys\"";
pub const MSG_REPORT_BACK_DESTINATION: &str =
    "destination must be set when the report back strategy type is Mirror";
pub const MSG_SCOPE_SELECTORS_BY_NAME: &str =
    "a namespace selector with selectionScope NamespaceWithResourceSelectors must select the namespace by name";
pub const MSG_SCOPE_SELECTORS_ONLY_ONE: &str =
    "a namespace selector with selectionScope NamespaceWithResourceSelectors must be the only namespace selector";
pub const MSG_NAMESPACE_ACCESSIBLE_ONE_NAMESPACE: &str =
    "statusReportingScope NamespaceAccessible requires exactly one Namespace selector";
pub const MSG_RP_NO_NAMESPACES: &str = "a ResourcePlacement cannot select namespaces";

/// CEL twins of the Rust checks below, for the CRD generator (`crate::fleet::crd`).
pub const CEL_IS_NAMESPACE: &str = "s.group == '' && s.kind == 'Namespace'";
pub const REPORT_BACK_CEL_RULE: &str =
    "!has(self.type) || self.type != 'Mirror' || has(self.destination)";
pub const TOLERATION_EXISTS_VALUE_CEL_RULE: &str =
    "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''";
pub const TOLERATION_EMPTY_KEY_CEL_RULE: &str =
    "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')";

/// How a policy field depends on `placementType` (spec §3.1: CEL on `spec.policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyRuleKind {
    OnlyAllowedFor(PlacementType),
    NotAllowedFor(PlacementType),
    RequiredFor(PlacementType),
}

/// One PickN/PickFixed field rule; [`POLICY_RULES`] drives both the Rust check and the CRD's CEL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    /// JSON name of the `spec.policy` field.
    pub field: &'static str,
    pub kind: PolicyRuleKind,
}

pub const POLICY_RULES: &[PolicyRule] = &[
    PolicyRule {
        field: "clusterNames",
        kind: PolicyRuleKind::OnlyAllowedFor(PlacementType::PickFixed),
    },
    PolicyRule {
        field: "numberOfClusters",
        kind: PolicyRuleKind::RequiredFor(PlacementType::PickN),
    },
    PolicyRule {
        field: "numberOfClusters",
        kind: PolicyRuleKind::OnlyAllowedFor(PlacementType::PickN),
    },
    PolicyRule {
        field: "affinity",
        kind: PolicyRuleKind::NotAllowedFor(PlacementType::PickFixed),
    },
    PolicyRule {
        field: "tolerations",
        kind: PolicyRuleKind::NotAllowedFor(PlacementType::PickFixed),
    },
    PolicyRule {
        field: "topologySpreadConstraints",
        kind: PolicyRuleKind::OnlyAllowedFor(PlacementType::PickN),
    },
];

/// `placementType` in CEL with its default applied.
const CEL_PLACEMENT_TYPE: &str = "(has(self.placementType) ? self.placementType : 'PickAll')";

impl PolicyRule {
    fn is_set(&self, policy: &PlacementPolicy) -> bool {
        match self.field {
            "clusterNames" => policy.cluster_names.is_some(),
            "numberOfClusters" => policy.number_of_clusters.is_some(),
            "affinity" => policy.affinity.is_some(),
            "tolerations" => policy.tolerations.is_some(),
            "topologySpreadConstraints" => policy.topology_spread_constraints.is_some(),
            _ => false,
        }
    }

    /// The message when `policy` (of type `current`) breaks this rule.
    pub fn check(&self, current: PlacementType, policy: &PlacementPolicy) -> Option<String> {
        let set = self.is_set(policy);
        let field = self.field;
        match self.kind {
            PolicyRuleKind::OnlyAllowedFor(t) if set && current != t => Some(format!(
                "{field} is only allowed for {} placement type, current: {}",
                t.as_str(),
                current.as_str()
            )),
            PolicyRuleKind::NotAllowedFor(t) if set && current == t => Some(format!(
                "{field} is not allowed for {} placement type",
                t.as_str()
            )),
            PolicyRuleKind::RequiredFor(t) if !set && current == t => Some(format!(
                "{field} is required for {} placement type",
                t.as_str()
            )),
            _ => None,
        }
    }

    /// The `x-kubernetes-validations` entry on `spec.policy` (with `fieldPath`), as JSON.
    pub fn cel(&self) -> serde_json::Value {
        let f = self.field;
        let (rule, message) = match self.kind {
            PolicyRuleKind::OnlyAllowedFor(t) => (
                format!("!has(self.{f}) || {CEL_PLACEMENT_TYPE} == '{}'", t.as_str()),
                serde_json::json!({"messageExpression": format!(
                    "'{f} is only allowed for {} placement type, current: ' + {CEL_PLACEMENT_TYPE}",
                    t.as_str()
                )}),
            ),
            PolicyRuleKind::NotAllowedFor(t) => (
                format!("!has(self.{f}) || {CEL_PLACEMENT_TYPE} != '{}'", t.as_str()),
                serde_json::json!({"message": format!("{f} is not allowed for {} placement type", t.as_str())}),
            ),
            PolicyRuleKind::RequiredFor(t) => (
                format!("{CEL_PLACEMENT_TYPE} != '{}' || has(self.{f})", t.as_str()),
                serde_json::json!({"message": format!("{f} is required for {} placement type", t.as_str())}),
            ),
        };
        let mut v = serde_json::json!({"rule": rule, "fieldPath": format!(".{f}")});
        if let (Some(v), Some(m)) = (v.as_object_mut(), message.as_object()) {
            v.extend(m.clone());
        }
        v
    }
}

fn is_namespace_selector(sel: &ResourceSelector) -> bool {
    sel.group.is_empty() && sel.kind == "Namespace"
}

pub fn validate_placement<K>(
    old: Option<&Object<K>>,
    new: &Object<K>,
) -> Result<(), Vec<FieldError>>
where
    K: FleetKind<Spec = PlacementSpec>,
{
    let mut errors = Vec::new();
    validate_spec(&new.spec, &mut errors);
    validate_selectors(K::SCOPE, &new.spec, &mut errors);
    if let Some(old) = old {
        validate_transition(&old.spec, &new.spec, &mut errors);
    }
    finish(errors)
}

fn validate_spec(spec: &PlacementSpec, errors: &mut Vec<FieldError>) {
    let n = spec.resource_selectors.len();
    if n == 0 {
        errors.push(FieldError::too_few("spec.resourceSelectors", 0, 1));
    } else if n > MAX_RESOURCE_SELECTORS {
        errors.push(FieldError::too_many(
            "spec.resourceSelectors",
            n,
            MAX_RESOURCE_SELECTORS,
        ));
    }
    for (i, sel) in spec.resource_selectors.iter().enumerate() {
        if sel.name.is_some() && sel.label_selector.is_some() {
            errors.push(FieldError::cel(
                format!("spec.resourceSelectors[{i}]"),
                "object",
                MSG_NAME_AND_SELECTOR,
            ));
        }
    }
    if let Some(limit) = spec.revision_history_limit {
        if !(1..=1000).contains(&limit) {
            let (min, max) = if limit < 1 {
                (Some(1), None)
            } else {
                (None, Some(1000))
            };
            errors.push(FieldError::out_of_range(
                "spec.revisionHistoryLimit",
                i64::from(limit),
                min,
                max,
            ));
        }
    }
    let Some(policy) = &spec.policy else { return };
    let kind = spec.placement_type();
    if let Some(names) = &policy.cluster_names {
        if names.len() > MAX_CLUSTER_NAMES {
            errors.push(FieldError::too_many(
                "spec.policy.clusterNames",
                names.len(),
                MAX_CLUSTER_NAMES,
            ));
        }
    }
    if let Some(n) = policy.number_of_clusters {
        if n < 0 {
            errors.push(FieldError::out_of_range(
                "spec.policy.numberOfClusters",
                i64::from(n),
                Some(0),
                None,
            ));
        }
    }
    for rule in POLICY_RULES {
        if let Some(message) = rule.check(kind, policy) {
            errors.push(FieldError::cel(
                format!("spec.policy.{}", rule.field),
                "object",
                &message,
            ));
        }
    }
    for (i, t) in policy.tolerations.iter().flatten().enumerate() {
        let operator = t.operator.unwrap_or_default();
        let path = format!("spec.policy.tolerations[{i}]");
        if operator == TolerationOperator::Exists
            && t.value.as_deref().is_some_and(|v| !v.is_empty())
        {
            errors.push(FieldError::cel(
                &path,
                "object",
                MSG_TOLERATION_EXISTS_VALUE,
            ));
        }
        if t.key.as_deref().unwrap_or_default().is_empty() && operator != TolerationOperator::Exists
        {
            errors.push(FieldError::cel(&path, "object", MSG_TOLERATION_EMPTY_KEY));
        }
    }
    if let Some(t) = &policy.tolerations {
        if t.len() > MAX_TOLERATIONS {
            errors.push(FieldError::too_many(
                "spec.policy.tolerations",
                t.len(),
                MAX_TOLERATIONS,
            ));
        }
    }
    let terms = policy
        .affinity
        .as_ref()
        .and_then(|a| a.cluster_affinity.as_ref())
        .and_then(|c| {
            c.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map_or(0, |r| r.cluster_selector_terms.len());
    if terms > MAX_CLUSTER_SELECTOR_TERMS {
        errors.push(FieldError::too_many(
            "spec.policy.affinity.clusterAffinity.requiredDuringSchedulingIgnoredDuringExecution.clusterSelectorTerms",
            terms,
            MAX_CLUSTER_SELECTOR_TERMS,
        ));
    }
}

/// spec §3.1: `selectionScope`, namespaces and RPs, `statusReportingScope`, `reportBackStrategy`.
fn validate_selectors(scope: Scope, spec: &PlacementSpec, errors: &mut Vec<FieldError>) {
    let namespace_selectors = spec
        .resource_selectors
        .iter()
        .filter(|s| is_namespace_selector(s))
        .count();
    let mut scoped = false;
    for (i, sel) in spec.resource_selectors.iter().enumerate() {
        let path = format!("spec.resourceSelectors[{i}]");
        if scope == Scope::Namespaced && is_namespace_selector(sel) {
            errors.push(FieldError::cel(&path, "object", MSG_RP_NO_NAMESPACES));
        }
        if is_namespace_selector(sel)
            && sel.selection_scope == Some(SelectionScope::NamespaceWithResourceSelectors)
        {
            scoped = true;
            if sel.name.is_none() {
                errors.push(FieldError::cel(
                    &path,
                    "object",
                    MSG_SCOPE_SELECTORS_BY_NAME,
                ));
            }
        }
    }
    if scoped && namespace_selectors != 1 {
        errors.push(FieldError::cel(
            "spec.resourceSelectors",
            "array",
            MSG_SCOPE_SELECTORS_ONLY_ONE,
        ));
    }
    if spec.status_reporting_scope == Some(StatusReportingScope::NamespaceAccessible)
        && namespace_selectors != 1
    {
        errors.push(FieldError::cel(
            "spec",
            "object",
            MSG_NAMESPACE_ACCESSIBLE_ONE_NAMESPACE,
        ));
    }
    if let Some(rb) = spec
        .strategy
        .as_ref()
        .and_then(|s| s.report_back_strategy.as_ref())
    {
        if rb.type_ == Some(ReportBackStrategyType::Mirror) && rb.destination.is_none() {
            errors.push(FieldError::cel(
                "spec.strategy.reportBackStrategy",
                "object",
                MSG_REPORT_BACK_DESTINATION,
            ));
        }
    }
}

fn validate_transition(old: &PlacementSpec, new: &PlacementSpec, errors: &mut Vec<FieldError>) {
    // spec §3.1 / §10.2: once External, always External; RollingUpdate→External is allowed.
    if old.strategy_type() == RolloutStrategyType::External
        && new.strategy_type() != RolloutStrategyType::External
    {
        errors.push(FieldError::cel(
            "spec.strategy",
            "object",
            MSG_EXTERNAL_STRATEGY,
        ));
    }
    match (&old.policy, &new.policy) {
        (Some(_), None) => errors.push(FieldError::cel("spec", "object", MSG_POLICY_REMOVED)),
        (Some(_), Some(_)) if old.placement_type() != new.placement_type() => {
            errors.push(FieldError::cel(
                "spec.policy.placementType",
                "string",
                MSG_PLACEMENT_TYPE_IMMUTABLE,
            ))
        }
        _ => {}
    }
    if old.status_reporting_scope.unwrap_or_default()
        != new.status_reporting_scope.unwrap_or_default()
    {
        errors.push(FieldError::cel(
            "spec.statusReportingScope",
            "string",
            MSG_STATUS_SCOPE_IMMUTABLE,
        ));
    }
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;

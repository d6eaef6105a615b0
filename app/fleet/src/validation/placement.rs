//! Validation of `ClusterResourcePlacement` / `ResourcePlacement` (spec §3.1).
//!
//! Where the spec quotes a message it is used verbatim (External strategy type). The spec names
//! the PickN/PickFixed and policy rules without quoting their messages; those texts are
//! fleetdeck's and are kept in the constants below so that the CRD generator and tests share them.

use super::cel_rule::{Cel, CelRule, TransitionRule};
use super::int_range::IntRange;
use super::{finish, FieldError};
use crate::placement::resource_placement::{
    PlacementPolicy, PlacementSpec, PlacementType, ReportBackStrategy, ReportBackStrategyType,
    ResourceSelector, RolloutStrategyType, SelectionScope, StatusReportingScope, Toleration,
    TolerationOperator,
};
use crate::{FleetKind, Object, Scope};

pub const MIN_RESOURCE_SELECTORS: usize = 1;
pub const MAX_RESOURCE_SELECTORS: usize = 100;
pub const REVISION_HISTORY_LIMIT: IntRange = IntRange {
    minimum: Some(1),
    maximum: Some(1000),
};
pub const NUMBER_OF_CLUSTERS: IntRange = IntRange {
    minimum: Some(0),
    maximum: None,
};
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

/// `<s>` is a Namespace selector, in CEL.
macro_rules! is_namespace {
    ($s:literal) => {
        concat!($s, ".group == '' && ", $s, ".kind == 'Namespace'")
    };
}

/// On `spec.resourceSelectors[]` of a `ResourcePlacement` only.
pub const RP_SELECTS_NO_NAMESPACE: CelRule<ResourceSelector> = CelRule {
    cel: Cel {
        rule: concat!("!(", is_namespace!("self"), ")"),
        message: MSG_RP_NO_NAMESPACES,
        field_path: None,
        cel_type: "object",
    },
    holds: |sel| !is_namespace_selector(sel),
};

/// On `spec.resourceSelectors[]`.
pub const SCOPED_NAMESPACE_BY_NAME: CelRule<ResourceSelector> = CelRule {
    cel: Cel {
        rule: concat!(
            "!(",
            is_namespace!("self"),
            " && has(self.selectionScope) && self.selectionScope == 'NamespaceWithResourceSelectors') || has(self.name)"
        ),
        message: MSG_SCOPE_SELECTORS_BY_NAME,
        field_path: None,
        cel_type: "object",
    },
    holds: |sel| !is_scoped_namespace_selector(sel) || sel.name.is_some(),
};

/// On `spec.resourceSelectors`.
pub const SCOPED_NAMESPACE_ONLY_ONE: CelRule<[ResourceSelector]> = CelRule {
    cel: Cel {
        rule: concat!(
            "!self.exists(s, ",
            is_namespace!("s"),
            " && has(s.selectionScope) && s.selectionScope == 'NamespaceWithResourceSelectors') || self.filter(s, ",
            is_namespace!("s"),
            ").size() == 1"
        ),
        message: MSG_SCOPE_SELECTORS_ONLY_ONE,
        field_path: None,
        cel_type: "array",
    },
    holds: |sels| {
        !sels.iter().any(is_scoped_namespace_selector) || namespace_selectors(sels) == 1
    },
};

/// On `spec`.
pub const NAMESPACE_ACCESSIBLE_ONE_NAMESPACE: CelRule<PlacementSpec> = CelRule {
    cel: Cel {
        rule: concat!(
            "!has(self.statusReportingScope) || self.statusReportingScope != 'NamespaceAccessible' || self.resourceSelectors.filter(s, ",
            is_namespace!("s"),
            ").size() == 1"
        ),
        message: MSG_NAMESPACE_ACCESSIBLE_ONE_NAMESPACE,
        field_path: None,
        cel_type: "object",
    },
    holds: |spec| {
        spec.status_reporting_scope != Some(StatusReportingScope::NamespaceAccessible)
            || namespace_selectors(&spec.resource_selectors) == 1
    },
};

/// On `spec.resourceSelectors[]`.
pub const NAME_OR_LABEL_SELECTOR: CelRule<ResourceSelector> = CelRule {
    cel: Cel {
        rule: "!(has(self.name) && has(self.labelSelector))",
        message: MSG_NAME_AND_SELECTOR,
        field_path: None,
        cel_type: "object",
    },
    holds: |sel| !(sel.name.is_some() && sel.label_selector.is_some()),
};

/// On `spec.statusReportingScope`, which has a default, so it is always set.
pub const STATUS_REPORTING_SCOPE_IMMUTABLE: TransitionRule<Option<StatusReportingScope>> =
    TransitionRule {
        cel: Cel {
            rule: "self == oldSelf",
            message: MSG_STATUS_SCOPE_IMMUTABLE,
            field_path: None,
            cel_type: "string",
        },
        holds: |old, new| old.unwrap_or_default() == new.unwrap_or_default(),
    };

/// On `spec`, so that removing `policy` is caught too.
pub const POLICY_NOT_REMOVED: TransitionRule<PlacementSpec> = TransitionRule {
    cel: Cel {
        rule: "!has(oldSelf.policy) || has(self.policy)",
        message: MSG_POLICY_REMOVED,
        field_path: None,
        cel_type: "object",
    },
    holds: |old, new| old.policy.is_none() || new.policy.is_some(),
};

/// On `spec`, so that removing `strategy` is caught too; spec §3.1 / §10.2: once External,
/// always External (RollingUpdate→External is allowed).
pub const EXTERNAL_STAYS_EXTERNAL: TransitionRule<PlacementSpec> = TransitionRule {
    cel: Cel {
        rule: "!(has(oldSelf.strategy) && has(oldSelf.strategy.type) && oldSelf.strategy.type == 'External') || (has(self.strategy) && has(self.strategy.type) && self.strategy.type == 'External')",
        message: MSG_EXTERNAL_STRATEGY,
        field_path: Some(".strategy"),
        cel_type: "object",
    },
    holds: |old, new| {
        old.strategy_type() != RolloutStrategyType::External
            || new.strategy_type() == RolloutStrategyType::External
    },
};

/// On `spec.policy.placementType`, which has a default, so it is set whenever `policy` is.
pub const PLACEMENT_TYPE_IMMUTABLE: TransitionRule<Option<PlacementType>> = TransitionRule {
    cel: Cel {
        rule: "self == oldSelf",
        message: MSG_PLACEMENT_TYPE_IMMUTABLE,
        field_path: None,
        cel_type: "string",
    },
    holds: |old, new| old.unwrap_or_default() == new.unwrap_or_default(),
};

/// On `spec.policy.tolerations[]`.
pub const TOLERATION_EXISTS_HAS_NO_VALUE: CelRule<Toleration> = CelRule {
    cel: Cel {
        rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
        message: MSG_TOLERATION_EXISTS_VALUE,
        field_path: None,
        cel_type: "object",
    },
    holds: |t| {
        t.operator.unwrap_or_default() != TolerationOperator::Exists
            || t.value.as_deref().is_none_or(str::is_empty)
    },
};

/// On `spec.policy.tolerations[]`.
pub const TOLERATION_EMPTY_KEY_NEEDS_EXISTS: CelRule<Toleration> = CelRule {
    cel: Cel {
        rule:
            "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')",
        message: MSG_TOLERATION_EMPTY_KEY,
        field_path: None,
        cel_type: "object",
    },
    holds: |t| {
        !t.key.as_deref().unwrap_or_default().is_empty()
            || t.operator.unwrap_or_default() == TolerationOperator::Exists
    },
};

/// On `spec.strategy.reportBackStrategy`.
pub const MIRROR_NEEDS_DESTINATION: CelRule<ReportBackStrategy> = CelRule {
    cel: Cel {
        rule: "!has(self.type) || self.type != 'Mirror' || has(self.destination)",
        message: MSG_REPORT_BACK_DESTINATION,
        field_path: None,
        cel_type: "object",
    },
    holds: |rb| !(rb.type_ == Some(ReportBackStrategyType::Mirror) && rb.destination.is_none()),
};

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

fn is_scoped_namespace_selector(sel: &ResourceSelector) -> bool {
    is_namespace_selector(sel)
        && sel.selection_scope == Some(SelectionScope::NamespaceWithResourceSelectors)
}

fn namespace_selectors(sels: &[ResourceSelector]) -> usize {
    sels.iter().filter(|s| is_namespace_selector(s)).count()
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
    if n < MIN_RESOURCE_SELECTORS {
        errors.push(FieldError::too_few(
            "spec.resourceSelectors",
            n,
            MIN_RESOURCE_SELECTORS,
        ));
    } else if n > MAX_RESOURCE_SELECTORS {
        errors.push(FieldError::too_many(
            "spec.resourceSelectors",
            n,
            MAX_RESOURCE_SELECTORS,
        ));
    }
    for (i, sel) in spec.resource_selectors.iter().enumerate() {
        NAME_OR_LABEL_SELECTOR.check(&format!("spec.resourceSelectors[{i}]"), sel, errors);
    }
    if let Some(limit) = spec.revision_history_limit {
        REVISION_HISTORY_LIMIT.check("spec.revisionHistoryLimit", i64::from(limit), errors);
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
        NUMBER_OF_CLUSTERS.check("spec.policy.numberOfClusters", i64::from(n), errors);
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
        let path = format!("spec.policy.tolerations[{i}]");
        TOLERATION_EXISTS_HAS_NO_VALUE.check(&path, t, errors);
        TOLERATION_EMPTY_KEY_NEEDS_EXISTS.check(&path, t, errors);
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
    for (i, sel) in spec.resource_selectors.iter().enumerate() {
        let path = format!("spec.resourceSelectors[{i}]");
        if scope == Scope::Namespaced {
            RP_SELECTS_NO_NAMESPACE.check(&path, sel, errors);
        }
        SCOPED_NAMESPACE_BY_NAME.check(&path, sel, errors);
    }
    SCOPED_NAMESPACE_ONLY_ONE.check("spec.resourceSelectors", &spec.resource_selectors, errors);
    NAMESPACE_ACCESSIBLE_ONE_NAMESPACE.check("spec", spec, errors);
    if let Some(rb) = spec
        .strategy
        .as_ref()
        .and_then(|s| s.report_back_strategy.as_ref())
    {
        MIRROR_NEEDS_DESTINATION.check("spec.strategy.reportBackStrategy", rb, errors);
    }
}

fn validate_transition(old: &PlacementSpec, new: &PlacementSpec, errors: &mut Vec<FieldError>) {
    EXTERNAL_STAYS_EXTERNAL.check("spec", old, new, errors);
    POLICY_NOT_REMOVED.check("spec", old, new, errors);
    if let (Some(o), Some(n)) = (&old.policy, &new.policy) {
        PLACEMENT_TYPE_IMMUTABLE.check(
            "spec.policy.placementType",
            &o.placement_type,
            &n.placement_type,
            errors,
        );
    }
    STATUS_REPORTING_SCOPE_IMMUTABLE.check(
        "spec.statusReportingScope",
        &old.status_reporting_scope,
        &new.status_reporting_scope,
        errors,
    );
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;

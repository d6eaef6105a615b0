//! Validation of `ClusterResourcePlacement` / `ResourcePlacement` (spec §3.1).
//!
//! Where the spec quotes a message it is used verbatim (External strategy type). The spec names
//! the PickN/PickFixed and policy rules without quoting their messages; those texts are
//! fleetdeck's and are kept in the constants below so that the CRD generator and tests share them.

use super::{finish, FieldError};
use crate::fleet::placement::{PlacementSpec, PlacementType, RolloutStrategyType};
use crate::fleet::{FleetKind, Object};

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

pub fn validate_placement<K>(
    old: Option<&Object<K>>,
    new: &Object<K>,
) -> Result<(), Vec<FieldError>>
where
    K: FleetKind<Spec = PlacementSpec>,
{
    let mut errors = Vec::new();
    validate_spec(&new.spec, &mut errors);
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
    let name = match kind {
        PlacementType::PickAll => "PickAll",
        PlacementType::PickN => "PickN",
        PlacementType::PickFixed => "PickFixed",
    };
    if let Some(names) = &policy.cluster_names {
        if names.len() > MAX_CLUSTER_NAMES {
            errors.push(FieldError::too_many(
                "spec.policy.clusterNames",
                names.len(),
                MAX_CLUSTER_NAMES,
            ));
        }
        if kind != PlacementType::PickFixed {
            errors.push(FieldError::forbidden(
                "spec.policy.clusterNames",
                &format!(
                    "clusterNames is only allowed for PickFixed placement type, current: {name}"
                ),
            ));
        }
    }
    match (kind, policy.number_of_clusters) {
        (PlacementType::PickN, None) => errors.push(FieldError {
            detail: "numberOfClusters is required for PickN placement type".into(),
            ..FieldError::required("spec.policy.numberOfClusters")
        }),
        (PlacementType::PickN, Some(n)) if n < 0 => errors.push(FieldError::out_of_range(
            "spec.policy.numberOfClusters",
            i64::from(n),
            Some(0),
            None,
        )),
        (PlacementType::PickAll | PlacementType::PickFixed, Some(_)) => {
            errors.push(FieldError::forbidden(
                "spec.policy.numberOfClusters",
                &format!(
                    "numberOfClusters is only allowed for PickN placement type, current: {name}"
                ),
            ))
        }
        _ => {}
    }
    if kind == PlacementType::PickFixed {
        for (field, set) in [
            ("affinity", policy.affinity.is_some()),
            ("tolerations", policy.tolerations.is_some()),
        ] {
            if set {
                errors.push(FieldError::forbidden(
                    format!("spec.policy.{field}"),
                    &format!("{field} is not allowed for PickFixed placement type"),
                ));
            }
        }
    }
    if kind != PlacementType::PickN && policy.topology_spread_constraints.is_some() {
        errors.push(FieldError::forbidden(
            "spec.policy.topologySpreadConstraints",
            &format!("topologySpreadConstraints is only allowed for PickN placement type, current: {name}"),
        ));
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

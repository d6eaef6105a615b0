//! The fleet kinds the embedded hub serves. They are registered from the very CRD documents that
//! `deploy/crds/` holds for a real hub (`app::fleet::crd::all_crds()`), so names, scopes, versions
//! and printer columns cannot drift apart, and the model's validation is the admission check.

use std::sync::Arc;

use app::fleet::types::kind;
use app::fleet::validation::{self, overrides, FieldError, FieldErrorKind};
use app::fleet::{FleetKind, Object};
use hub::{Cause, KindSpec, Registry, ValidateFn};
use serde_json::Value;

/// Every fleet kind, ready for `hub::Hub::open`.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    for crd in app::fleet::crd::all_crds() {
        let crd = match serde_json::to_value(&crd) {
            Ok(crd) => crd,
            // The CRDs are built from our own types; a failure here is a bug caught by tests.
            Err(e) => panic!("a generated CRD does not serialise: {e}"),
        };
        if let Some(spec) = kind_spec(&crd) {
            registry.register(spec);
        }
    }
    registry
}

/// Reads a CRD (as JSON) into the hub's registration: the hub enforces its schema and CEL rules
/// generically; the model's check runs after it (identical causes are reported once), which also
/// covers the rules the CEL engine cannot evaluate.
fn kind_spec(crd: &Value) -> Option<KindSpec> {
    let kind = crd["spec"]["names"]["kind"].as_str()?.to_string();
    match KindSpec::from_crd(crd) {
        Ok(mut spec) => {
            spec.validate = validator(&kind);
            Some(spec)
        }
        // Our own generated CRDs: a failure is a bug that the tests catch.
        Err(e) => panic!("the generated CRD for {kind} is not usable by the hub: {e}"),
    }
}

/// The model's admission check for a kind, adapted to the hub's JSON hook.
fn validator(kind: &str) -> Option<ValidateFn> {
    Some(match kind {
        "ClusterResourcePlacement" => {
            typed::<kind::ClusterResourcePlacement>(validation::validate_placement)
        }
        "ResourcePlacement" => typed::<kind::ResourcePlacement>(validation::validate_placement),
        "ClusterStagedUpdateStrategy" => {
            typed::<kind::ClusterStagedUpdateStrategy>(validation::validate_staged_update_strategy)
        }
        "StagedUpdateStrategy" => {
            typed::<kind::StagedUpdateStrategy>(validation::validate_staged_update_strategy)
        }
        "ClusterStagedUpdateRun" => {
            typed::<kind::ClusterStagedUpdateRun>(validation::validate_staged_update_run)
        }
        "StagedUpdateRun" => typed::<kind::StagedUpdateRun>(validation::validate_staged_update_run),
        "ClusterApprovalRequest" => {
            typed::<kind::ClusterApprovalRequest>(validation::validate_approval_request)
        }
        "ApprovalRequest" => typed::<kind::ApprovalRequest>(validation::validate_approval_request),
        "MemberCluster" => typed::<kind::MemberCluster>(validation::validate_member_cluster),
        "UpdateRun" => typed::<kind::UpdateRun>(validation::validate_update_run),
        "UpdateStrategy" => typed::<kind::UpdateStrategy>(validation::validate_update_strategy),
        "ClusterResourceOverride" => with_webhook::<kind::ClusterResourceOverride>(
            validation::validate_cluster_resource_override,
            |spec| {
                overrides::webhook_cluster_resource_override(spec)
                    .map_err(|text| overrides::webhook_denial(overrides::CRO_WEBHOOK, &text))
            },
        ),
        "ResourceOverride" => {
            with_webhook::<kind::ResourceOverride>(validation::validate_resource_override, |spec| {
                overrides::webhook_resource_override(spec)
                    .map_err(|text| overrides::webhook_denial(overrides::RO_WEBHOOK, &text))
            })
        }
        // Snapshots and bindings are written by the engine; their schema is the check.
        _ => return None,
    })
}

type TypedCheck<K> = fn(Option<&Object<K>>, &Object<K>) -> Result<(), Vec<FieldError>>;

fn typed<K: FleetKind>(check: TypedCheck<K>) -> ValidateFn {
    Arc::new(move |old: Option<&Value>, new: &Value| {
        let new: Object<K> = decode(new)?;
        let old: Option<Object<K>> = old.map(decode).transpose()?;
        check(old.as_ref(), &new).map_err(|errors| errors.iter().map(cause).collect())
    })
}

/// A kind's CRD rules, then (when they pass, as an apiserver calls its webhooks after the schema)
/// its KubeFleet validating webhook, whose denial the hub answers with 403.
fn with_webhook<K: FleetKind>(
    check: TypedCheck<K>,
    webhook: fn(&K::Spec) -> Result<(), String>,
) -> ValidateFn {
    Arc::new(move |old: Option<&Value>, new: &Value| {
        let new: Object<K> = decode(new)?;
        let old: Option<Object<K>> = old.map(decode).transpose()?;
        check(old.as_ref(), &new).map_err(|errors| errors.iter().map(cause).collect::<Vec<_>>())?;
        webhook(&new.spec).map_err(|denial| vec![Cause::webhook_denied(denial)])
    })
}

fn decode<K: FleetKind>(value: &Value) -> Result<Object<K>, Vec<Cause>> {
    serde_json::from_value(value.clone()).map_err(|e| {
        vec![Cause::invalid(
            "",
            format!("Invalid value: {}: {e}", K::KIND),
        )]
    })
}

fn cause(error: &FieldError) -> Cause {
    let reason = match error.kind {
        FieldErrorKind::Required => "FieldValueRequired",
        FieldErrorKind::Invalid { .. } => "FieldValueInvalid",
        FieldErrorKind::TooMany { .. } => "FieldValueTooMany",
        FieldErrorKind::TooLong { .. } => "FieldValueTooLong",
        FieldErrorKind::Unsupported { .. } => "FieldValueNotSupported",
        FieldErrorKind::Forbidden => "FieldValueForbidden",
    };
    Cause::new(reason, &error.field, error.body())
}

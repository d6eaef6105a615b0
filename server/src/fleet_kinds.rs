//! The fleet kinds the embedded hub serves. They are registered from the very CRD documents that
//! `deploy/crds/` holds for a real hub (`app::fleet::crd::all_crds()`), so names, scopes, versions
//! and printer columns cannot drift apart, and the model's validation is the admission check.

use std::sync::Arc;

use app::fleet::types::kind;
use app::fleet::validation::{self, overrides, FieldError, FieldErrorKind};
use app::fleet::{FleetKind, Object};
use hub::{AdmitDeleteFn, AdmitFn, Cause, KindSpec, Registry, ValidateFn};
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
            spec.admit = admission(&kind);
            spec.admit_delete = delete_admission(&kind);
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
        "AutoUpgradeProfile" => {
            typed::<kind::AutoUpgradeProfile>(validation::validate_auto_upgrade_profile)
        }
        "ClusterResourceOverride" => {
            typed::<kind::ClusterResourceOverride>(validation::validate_cluster_resource_override)
        }
        "ResourceOverride" => {
            typed::<kind::ResourceOverride>(validation::validate_resource_override)
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

/// KubeFleet's validating webhooks (placement-extras §1.3), for the hub's admission hook.
fn admission(kind: &str) -> Option<AdmitFn> {
    Some(match kind {
        "ClusterResourceOverride" => webhook::<kind::ClusterResourceOverride>(
            overrides::CRO_WEBHOOK,
            overrides::webhook_cluster_resource_override,
        ),
        "ResourceOverride" => webhook::<kind::ResourceOverride>(
            overrides::RO_WEBHOOK,
            overrides::webhook_resource_override,
        ),
        _ => return None,
    })
}

/// Deletes the model refuses: an upgrade run whose members may be in flight (aks §8.5, the
/// decision in `spec_change::check_delete`), so kubectl is held to what the CLI and the dashboard
/// already refuse.
fn delete_admission(kind: &str) -> Option<AdmitDeleteFn> {
    match kind {
        "UpdateRun" => Some(Arc::new(|stored: &Value| {
            let run: Object<kind::UpdateRun> =
                serde_json::from_value(stored.clone()).map_err(|e| e.to_string())?;
            let state = run
                .status
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .and_then(|s| s.state)
                .unwrap_or_default();
            app::fleet::upgrade::spec_change::check_delete(state).map_err(|e| e.to_string())
        })),
        _ => None,
    }
}

type WebhookCheck<S> = fn(&str, &S, &[(String, S)], bool) -> Result<(), String>;

/// A webhook over the kind's stored objects (cluster-wide, or the object's namespace), denying
/// with the apiserver's sentence.
fn webhook<K: FleetKind>(name: &'static str, check: WebhookCheck<K::Spec>) -> AdmitFn {
    Arc::new(move |old, new, stored| {
        let deny = |text: String| overrides::webhook_denial(name, &text);
        let new: Object<K> =
            serde_json::from_value(new.clone()).map_err(|e| deny(e.to_string()))?;
        let existing: Vec<(String, K::Spec)> = stored(new.metadata.namespace.as_deref())
            .iter()
            .filter_map(|o| serde_json::from_value::<Object<K>>((**o).clone()).ok())
            .map(|o| (o.name().to_string(), o.spec))
            .collect();
        check(new.name(), &new.spec, &existing, old.is_none()).map_err(deny)
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

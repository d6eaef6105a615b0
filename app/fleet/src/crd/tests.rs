//! The CRDs and the Rust validators must agree on where each CEL rule sits: a rule declared once
//! in `crate::validation` but placed at another node here (or not at all) would hold on one
//! hub and not on the other. These tests break every declared rule, run the validators, and look
//! each CEL error up in the generated schema at the path the validator reports.

use std::collections::BTreeSet;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::JsonSchema;
use serde_json::Value;

use super::open_api_schema;
use crate::placement::member_cluster::{MemberClusterSpec, Subject};
use crate::placement::resource_placement::{
    PlacementPolicy, PlacementSpec, PlacementType, ReportBackStrategy, ReportBackStrategyType,
    ResourceSelector, RolloutStrategy, RolloutStrategyType, SelectionScope, StatusReportingScope,
    Toleration, TolerationOperator,
};
use crate::staged::approval::ApprovalRequestSpec;
use crate::staged::staged_update::{
    StageConfig, StageTask, StageTaskType, StagedUpdateStrategySpec,
};
use crate::staged::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use crate::types::label_selector::LabelSelector;
use crate::validation::cel_rule::Cel;
use crate::validation::{
    self, approval as va, placement as vp, staged_update as vs, FieldError, FieldErrorKind,
};
use crate::{types::kind, FleetKind, Object};

fn schema<K>() -> Value
where
    K: FleetKind,
    K::Spec: JsonSchema,
    K::Status: JsonSchema,
{
    serde_json::to_value(open_api_schema::<K>()).expect("schema as JSON")
}

/// The schema node at `path` (`spec.stages[].name`, `""` for the root), if the schema has it.
fn node<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(schema);
    }
    let mut cur = schema;
    for seg in path.split('.') {
        let (name, is_list) = match seg.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (seg, false),
        };
        cur = cur.get("properties")?.get(name)?;
        if is_list {
            cur = cur.get("items")?;
        }
    }
    Some(cur)
}

/// `spec.stages[2].name` → `spec.stages[].name`; the root's `<nil>` → `""`.
fn schema_path(field: &str) -> String {
    if field == validation::ROOT {
        return String::new();
    }
    let mut out = String::new();
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push('[');
            }
            ']' => {
                in_index = false;
                out.push(']');
            }
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// An error the apiserver reports for a CEL rule (not for a `pattern` or range keyword).
fn is_cel(e: &FieldError) -> bool {
    matches!(&e.kind, FieldErrorKind::Invalid { value }
        if ["\"object\"", "\"string\"", "\"array\"", "\"\""].contains(&value.as_str()))
        && !e.detail.contains(" in body should ")
}

/// Whether `schema` carries, at the node of `path` or at an ancestor with the matching
/// `fieldPath`, a rule with `message` (or a `messageExpression`, whose text is computed).
fn has_rule(schema: &Value, path: &str, message: &str) -> bool {
    let mut splits = vec![(path.to_string(), None)];
    for (i, _) in path.match_indices('.') {
        splits.push((path[..i].to_string(), Some(path[i..].to_string())));
    }
    if !path.is_empty() {
        splits.push((String::new(), Some(format!(".{path}"))));
    }
    splits.iter().any(|(at, field_path)| {
        node(schema, at)
            .and_then(|n| n.get("x-kubernetes-validations"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|rule| {
                rule.get("fieldPath").and_then(Value::as_str) == field_path.as_deref()
                    && (rule.get("message").and_then(Value::as_str) == Some(message)
                        || rule.get("messageExpression").is_some())
            })
    })
}

/// Asserts that every CEL error is a rule of `schema` at the reported path, and records its
/// message in `seen`.
fn assert_placed(schema: &Value, result: Result<(), Vec<FieldError>>, seen: &mut BTreeSet<String>) {
    let errors = result.expect_err("the object breaks rules");
    for e in errors.iter().filter(|e| is_cel(e)) {
        let path = schema_path(&e.field);
        assert!(
            has_rule(schema, &path, &e.detail),
            "`{e}`: the CRD has no rule with this message at `{path}`"
        );
        seen.insert(e.detail.clone());
    }
}

fn selector(kind: &str, name: Option<&str>) -> ResourceSelector {
    ResourceSelector {
        group: if kind == "Namespace" { "" } else { "apps" }.into(),
        version: "v1".into(),
        kind: kind.into(),
        name: name.map(String::from),
        ..Default::default()
    }
}

/// A placement spec that breaks every CEL rule of spec §3.1 that needs no old object.
fn bad_placement() -> PlacementSpec {
    PlacementSpec {
        resource_selectors: vec![
            ResourceSelector {
                selection_scope: Some(SelectionScope::NamespaceWithResourceSelectors),
                ..selector("Namespace", None)
            },
            selector("Namespace", Some("second")),
            ResourceSelector {
                label_selector: Some(LabelSelector::default()),
                ..selector("Deployment", Some("both"))
            },
        ],
        status_reporting_scope: Some(StatusReportingScope::NamespaceAccessible),
        policy: Some(PlacementPolicy {
            placement_type: Some(PlacementType::PickFixed),
            number_of_clusters: Some(1),
            tolerations: Some(vec![
                Toleration {
                    key: Some("k".into()),
                    operator: Some(TolerationOperator::Exists),
                    value: Some("v".into()),
                    ..Default::default()
                },
                Toleration::default(),
            ]),
            ..Default::default()
        }),
        strategy: Some(RolloutStrategy {
            type_: Some(RolloutStrategyType::RollingUpdate),
            report_back_strategy: Some(ReportBackStrategy {
                type_: Some(ReportBackStrategyType::Mirror),
                destination: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What [`bad_placement`] changes from: External, PickN, ClusterScopeOnly.
fn old_placement() -> PlacementSpec {
    PlacementSpec {
        resource_selectors: vec![selector("Namespace", Some("one"))],
        status_reporting_scope: Some(StatusReportingScope::ClusterScopeOnly),
        policy: Some(PlacementPolicy {
            placement_type: Some(PlacementType::PickN),
            number_of_clusters: Some(1),
            ..Default::default()
        }),
        strategy: Some(RolloutStrategy {
            type_: Some(RolloutStrategyType::External),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn task(type_: StageTaskType, wait_time: Option<&str>) -> StageTask {
    StageTask {
        type_,
        wait_time: wait_time.map(String::from),
    }
}

fn bad_strategy() -> StagedUpdateStrategySpec {
    StagedUpdateStrategySpec {
        stages: vec![
            StageConfig {
                name: "canary".into(),
                max_concurrency: Some(IntOrString::Int(0)),
                after_stage_tasks: Some(vec![
                    task(StageTaskType::TimedWait, None),
                    task(StageTaskType::Approval, Some("1m")),
                ]),
                before_stage_tasks: Some(vec![task(StageTaskType::TimedWait, Some("1m"))]),
                ..Default::default()
            },
            StageConfig {
                name: "prod".into(),
                before_stage_tasks: Some(vec![task(StageTaskType::Approval, Some("1m"))]),
                ..Default::default()
            },
        ],
    }
}

fn run_spec(
    placement: &str,
    index: &str,
    strategy: &str,
    state: UpdateRunState,
) -> StagedUpdateRunSpec {
    StagedUpdateRunSpec {
        placement_name: placement.into(),
        resource_snapshot_index: Some(index.into()),
        staged_rollout_strategy_name: strategy.into(),
        state: Some(state),
    }
}

/// A kind's validator, `validate_*(old, new)`.
type Validator<K> = fn(Option<&Object<K>>, &Object<K>) -> Result<(), Vec<FieldError>>;

/// Validates `new` (after `old`) as a `K` named with 64 characters, and checks where the CEL
/// errors point.
fn check_kind<K>(
    seen: &mut BTreeSet<String>,
    old: Option<K::Spec>,
    new: K::Spec,
    validate: Validator<K>,
) where
    K: FleetKind,
    K::Spec: JsonSchema,
    K::Status: JsonSchema,
{
    let name = "x".repeat(64);
    let object = |spec: K::Spec| match K::SCOPE {
        crate::Scope::Cluster => Object::<K>::new(&name, spec),
        crate::Scope::Namespaced => Object::<K>::new_namespaced("ns", &name, spec),
    };
    let old = old.map(object);
    assert_placed(&schema::<K>(), validate(old.as_ref(), &object(new)), seen);
}

#[test]
fn every_cel_rule_sits_where_the_validators_report_it() {
    let mut seen = BTreeSet::new();
    let seen = &mut seen;
    let (bad, old) = (bad_placement(), old_placement());
    check_kind::<kind::ClusterResourcePlacement>(
        seen,
        Some(old.clone()),
        bad.clone(),
        validation::validate_placement,
    );
    check_kind::<kind::ResourcePlacement>(
        seen,
        Some(old.clone()),
        bad.clone(),
        validation::validate_placement,
    );
    let no_policy = PlacementSpec {
        policy: None,
        ..bad.clone()
    };
    check_kind::<kind::ClusterResourcePlacement>(
        seen,
        Some(old),
        no_policy,
        validation::validate_placement,
    );
    check_kind::<kind::ClusterStagedUpdateStrategy>(
        seen,
        None,
        bad_strategy(),
        validation::validate_staged_update_strategy,
    );
    check_kind::<kind::StagedUpdateStrategy>(
        seen,
        None,
        bad_strategy(),
        validation::validate_staged_update_strategy,
    );
    let (old_run, new_run) = (
        run_spec("a", "1", "s", UpdateRunState::Initialize),
        run_spec("b", "2", "t", UpdateRunState::Stop),
    );
    check_kind::<kind::ClusterStagedUpdateRun>(
        seen,
        Some(old_run.clone()),
        new_run.clone(),
        validation::validate_staged_update_run,
    );
    check_kind::<kind::StagedUpdateRun>(
        seen,
        Some(old_run),
        new_run,
        validation::validate_staged_update_run,
    );
    let approval = |stage: &str| ApprovalRequestSpec {
        parent_stage_rollout: "run".into(),
        target_stage: stage.into(),
    };
    check_kind::<kind::ClusterApprovalRequest>(
        seen,
        Some(approval("canary")),
        approval("prod"),
        validation::validate_approval_request,
    );
    check_kind::<kind::ApprovalRequest>(
        seen,
        Some(approval("canary")),
        approval("prod"),
        validation::validate_approval_request,
    );
    let member = MemberClusterSpec {
        identity: Subject {
            kind: "ServiceAccount".into(),
            name: "fleet-member-agent".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    check_kind::<kind::MemberCluster>(seen, None, member, validation::validate_member_cluster);

    // Every rule declared once was broken above, so none escaped the check.
    let declared: Vec<&Cel> = [
        &validation::NAME_MAX_63.cel,
        &va::SPEC_IMMUTABLE.cel,
        &vs::MAX_CONCURRENCY_AT_LEAST_1.cel,
        &vs::BEFORE_STAGE_TASK_NOT_TIMED_WAIT.cel,
        &vs::TIMED_WAIT_NEEDS_WAIT_TIME.cel,
        &vs::APPROVAL_HAS_NO_WAIT_TIME.cel,
        &vp::RP_SELECTS_NO_NAMESPACE.cel,
        &vp::SCOPED_NAMESPACE_BY_NAME.cel,
        &vp::SCOPED_NAMESPACE_ONLY_ONE.cel,
        &vp::NAMESPACE_ACCESSIBLE_ONE_NAMESPACE.cel,
        &vp::NAME_OR_LABEL_SELECTOR.cel,
        &vp::STATUS_REPORTING_SCOPE_IMMUTABLE.cel,
        &vp::POLICY_NOT_REMOVED.cel,
        &vp::EXTERNAL_STAYS_EXTERNAL.cel,
        &vp::PLACEMENT_TYPE_IMMUTABLE.cel,
        &vp::TOLERATION_EXISTS_HAS_NO_VALUE.cel,
        &vp::TOLERATION_EMPTY_KEY_NEEDS_EXISTS.cel,
        &vp::MIRROR_NEEDS_DESTINATION.cel,
    ]
    .into_iter()
    .chain(vs::IMMUTABLE_RUN_FIELDS.iter().map(|f| &f.rule.cel))
    .collect();
    for cel in declared {
        assert!(
            seen.contains(cel.message),
            "rule `{}` ({}) was not exercised",
            cel.rule,
            cel.message
        );
    }
    assert!(seen.contains("invalid state transition: cannot transition from Initialize to Stop"));
}

#[test]
fn the_lookup_finds_rules_only_where_they_are() {
    let crp = schema::<kind::ClusterResourcePlacement>();
    assert!(has_rule(&crp, "spec.strategy", vp::MSG_EXTERNAL_STRATEGY));
    assert!(!has_rule(&crp, "spec.policy", vp::MSG_EXTERNAL_STRATEGY));
    assert!(!has_rule(
        &crp,
        "spec.resourceSelectors[]",
        vp::MSG_RP_NO_NAMESPACES
    ));
    assert!(has_rule(
        &schema::<kind::ResourcePlacement>(),
        "spec.resourceSelectors[]",
        vp::MSG_RP_NO_NAMESPACES
    ));
    assert_eq!(
        schema_path("spec.stages[12].afterStageTasks[0]"),
        "spec.stages[].afterStageTasks[]"
    );
    assert_eq!(schema_path(validation::ROOT), "");
}

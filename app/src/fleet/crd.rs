//! CustomResourceDefinitions for a real hub, generated from the fleet types (spec §1, §7, §8):
//! `deploy/crds/<group>_<plural>.yaml` is [`all_crds`] rendered as YAML (never edited by hand;
//! `UPDATE_CRDS=1 cargo test -p app --features ssr crds` rewrites it).
//!
//! The OpenAPI schema comes from schemars with kube's structural-schema transforms (the same
//! settings `#[derive(CustomResource)]` uses). The rules the CRDs enforce (spec §3.1, §6, §7) are
//! injected by [`add_rules`] from the constants and functions of [`crate::fleet::validation`], so a
//! limit, pattern or message is written once and the Rust validators and the apiserver agree
//! (DESIGN.md "Validation: one source of truth").

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceColumnDefinition, CustomResourceDefinition, CustomResourceDefinitionNames,
    CustomResourceDefinitionSpec, CustomResourceDefinitionVersion, CustomResourceSubresourceStatus,
    CustomResourceSubresources, CustomResourceValidation, JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::schema::{OptionalEnum, OptionalIntOrString, StructuralSchemaRewriter};
use schemars::generate::SchemaSettings;
use schemars::transform::AddNullable;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use crate::fleet::kind;
use crate::fleet::object::{FleetKind, Scope};
use crate::fleet::staged_update_run::UpdateRunState;
use crate::fleet::validation::{self, placement as vp, staged_update as vs, update_run as vu};
use crate::fleet::wait_time::WAIT_TIME_PATTERN;

/// Every CRD fleetdeck installs on a real hub, in spec §1 order, then the upgrade-run kinds.
pub fn all_crds() -> Vec<CustomResourceDefinition> {
    vec![
        crd::<kind::ClusterResourcePlacement>(),
        crd::<kind::ResourcePlacement>(),
        crd::<kind::ClusterResourceSnapshot>(),
        crd::<kind::ResourceSnapshot>(),
        crd::<kind::ClusterSchedulingPolicySnapshot>(),
        crd::<kind::SchedulingPolicySnapshot>(),
        crd::<kind::ClusterResourceBinding>(),
        crd::<kind::ResourceBinding>(),
        crd::<kind::ClusterStagedUpdateStrategy>(),
        crd::<kind::StagedUpdateStrategy>(),
        crd::<kind::ClusterStagedUpdateRun>(),
        crd::<kind::StagedUpdateRun>(),
        crd::<kind::ClusterApprovalRequest>(),
        crd::<kind::ApprovalRequest>(),
        crd::<kind::MemberCluster>(),
        crd::<kind::UpdateRun>(),
        crd::<kind::UpdateStrategy>(),
    ]
}

/// `<group>_<plural>.yaml`, as in KubeFleet's `config/crd/bases`.
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// The served versions of a kind's CRD; the storage version is [`FleetKind::VERSION`].
///
/// `v1alpha1` of the three cluster-scoped staged kinds has an older schema upstream (no `state`,
/// `maxConcurrency`, `beforeStageTasks`; spec §1). With one Rust type per kind it cannot be served
/// with an honest schema and no conversion webhook, so fleetdeck's CRDs leave it out; objects
/// written as `v1alpha1` are still accepted by the types on input.
pub fn served_versions<K: FleetKind>() -> Vec<&'static str> {
    let mut versions: Vec<&'static str> = std::iter::once(K::VERSION)
        .chain(
            K::ALSO_ACCEPTED
                .iter()
                .copied()
                .filter(|v| *v != "v1alpha1"),
        )
        .collect();
    // controller-gen's order: by name.
    versions.sort_unstable();
    versions
}

/// The CRD of one kind.
pub fn crd<K>() -> CustomResourceDefinition
where
    K: FleetKind,
    K::Spec: JsonSchema,
    K::Status: JsonSchema,
{
    let schema = open_api_schema::<K>();
    let columns = printer_columns(K::KIND);
    let versions = served_versions::<K>()
        .into_iter()
        .map(|version| CustomResourceDefinitionVersion {
            additional_printer_columns: (!columns.is_empty()).then(|| columns.clone()),
            name: version.to_string(),
            schema: Some(CustomResourceValidation {
                open_api_v3_schema: Some(schema.clone()),
            }),
            served: true,
            storage: version == K::VERSION,
            subresources: K::STATUS_SUBRESOURCE.then(|| CustomResourceSubresources {
                scale: None,
                status: Some(CustomResourceSubresourceStatus(json!({}))),
            }),
            ..Default::default()
        })
        .collect();
    let non_empty =
        |items: &[&str]| (!items.is_empty()).then(|| items.iter().map(|s| s.to_string()).collect());
    CustomResourceDefinition {
        metadata: ObjectMeta {
            name: Some(format!("{}.{}", K::PLURAL, K::GROUP)),
            ..Default::default()
        },
        spec: CustomResourceDefinitionSpec {
            group: K::GROUP.to_string(),
            names: CustomResourceDefinitionNames {
                categories: non_empty(K::CATEGORIES),
                kind: K::KIND.to_string(),
                list_kind: Some(format!("{}List", K::KIND)),
                plural: K::PLURAL.to_string(),
                short_names: non_empty(K::SHORT_NAMES),
                singular: Some(K::KIND.to_ascii_lowercase()),
            },
            scope: match K::SCOPE {
                Scope::Cluster => "Cluster",
                Scope::Namespaced => "Namespaced",
            }
            .to_string(),
            versions,
            ..Default::default()
        },
        status: None,
    }
}

/// The `openAPIV3Schema` of one kind: structural, with the rules of [`add_rules`].
pub fn open_api_schema<K>() -> JSONSchemaProps
where
    K: FleetKind,
    K::Spec: JsonSchema,
    K::Status: JsonSchema,
{
    let mut properties = Map::new();
    properties.insert("apiVersion".into(), json!({"type": "string"}));
    properties.insert("kind".into(), json!({"type": "string"}));
    properties.insert("metadata".into(), json!({"type": "object"}));
    properties.insert("spec".into(), type_schema::<K::Spec>());
    let status = type_schema::<K::Status>();
    // Kinds without a status (strategies) get no `status` property, as upstream.
    if status
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty())
    {
        properties.insert("status".into(), status);
    }
    let mut root = json!({
        "description": format!("{} ({}); generated by fleetdeck from app/src/fleet.", K::KIND, K::GROUP),
        "type": "object",
        "properties": properties,
        "required": ["spec"],
    });
    make_structural(&mut root);
    add_rules(K::KIND, &mut root);
    // The schema is derived from our own types; failing here is a programming error that the
    // `crds_*` tests catch, never a runtime input problem.
    serde_json::from_value(root).expect("generated schema is a valid JSONSchemaProps")
}

/// The schema of one type with the settings of kube's `#[derive(CustomResource)]`.
fn type_schema<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(AddNullable::default())
        .with_transform(StructuralSchemaRewriter)
        .with_transform(OptionalEnum)
        .with_transform(OptionalIntOrString)
        .into_generator();
    let mut value = generator.into_root_schema_for::<T>().to_value();
    if let Some(obj) = value.as_object_mut() {
        obj.remove("title");
    }
    value
}

/// Raw JSON (`serde_json::Value`) has no schema of its own; a structural schema needs a type at
/// every node, so such nodes become objects that keep unknown fields (failed placements,
/// envelopes, ARM error details).
fn make_structural(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let typed = obj.contains_key("type")
        || obj.contains_key("x-kubernetes-int-or-string")
        || obj.contains_key("x-kubernetes-preserve-unknown-fields");
    if !typed {
        obj.insert("type".into(), json!("object"));
        obj.insert("x-kubernetes-preserve-unknown-fields".into(), json!(true));
    }
    // `Option<Enum>` comes out as `enum: [..., null]` with `nullable: true`; the apiserver
    // admits null through `nullable`, and kubectl explain should not list it as a value.
    if let Some(values) = obj.get_mut("enum").and_then(Value::as_array_mut) {
        values.retain(|v| !v.is_null());
    }
    if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
        props.values_mut().for_each(make_structural);
    }
    if let Some(items) = obj.get_mut("items") {
        make_structural(items);
    }
    if let Some(extra) = obj.get_mut("additionalProperties") {
        if extra.is_object() {
            make_structural(extra);
        }
    }
}

// ----- printer columns (spec §8) -----

/// One `additionalPrinterColumns` entry; `wide` columns get `priority: 1` (`-o wide` only).
fn column(name: &str, json_path: &str, type_: &str, wide: bool) -> CustomResourceColumnDefinition {
    CustomResourceColumnDefinition {
        name: name.to_string(),
        json_path: json_path.to_string(),
        type_: type_.to_string(),
        priority: wide.then_some(1),
        description: None,
        format: None,
    }
}

fn condition_status(type_: &str) -> String {
    format!(".status.conditions[?(@.type==\"{type_}\")].status")
}

fn condition_generation(type_: &str) -> String {
    format!(".status.conditions[?(@.type==\"{type_}\")].observedGeneration")
}

fn age() -> CustomResourceColumnDefinition {
    column("Age", ".metadata.creationTimestamp", "date", false)
}

/// The printer columns of a kind, in the order of spec §8 (empty: kubectl's default NAME, AGE).
pub fn printer_columns(kind: &str) -> Vec<CustomResourceColumnDefinition> {
    match kind {
        "ClusterStagedUpdateRun" | "StagedUpdateRun" => vec![
            column("Placement", ".spec.placementName", "string", false),
            // spec §8: the requested index, empty when omitted (not the used one).
            column(
                "Resource-Snapshot-Index",
                ".spec.resourceSnapshotIndex",
                "string",
                false,
            ),
            column(
                "Policy-Snapshot-Index",
                ".status.policySnapshotIndexUsed",
                "string",
                false,
            ),
            column(
                "Initialized",
                &condition_status("Initialized"),
                "string",
                false,
            ),
            column(
                "Progressing",
                &condition_status("Progressing"),
                "string",
                false,
            ),
            column("Succeeded", &condition_status("Succeeded"), "string", false),
            age(),
            column(
                "Strategy",
                ".spec.stagedRolloutStrategyName",
                "string",
                true,
            ),
        ],
        "ClusterApprovalRequest" | "ApprovalRequest" => vec![
            column("Update-Run", ".spec.parentStageRollout", "string", false),
            column("Stage", ".spec.targetStage", "string", false),
            column("Approved", &condition_status("Approved"), "string", false),
            age(),
        ],
        "ClusterResourcePlacement" | "ResourcePlacement" => {
            // Condition types carry the kind as prefix (spec §3.3).
            let t = |suffix: &str| format!("{kind}{suffix}");
            vec![
                column("Gen", ".metadata.generation", "string", false),
                column("Type", ".spec.strategy.type", "string", true),
                column(
                    "Scheduled",
                    &condition_status(&t("Scheduled")),
                    "string",
                    false,
                ),
                column(
                    "Scheduled-Gen",
                    &condition_generation(&t("Scheduled")),
                    "string",
                    false,
                ),
                column(
                    "Work-Synchronized",
                    &condition_status(&t("WorkSynchronized")),
                    "string",
                    true,
                ),
                column(
                    "Work-Synchronized-Gen",
                    &condition_generation(&t("WorkSynchronized")),
                    "string",
                    true,
                ),
                column(
                    "Available",
                    &condition_status(&t("Available")),
                    "string",
                    false,
                ),
                column(
                    "Available-Gen",
                    &condition_generation(&t("Available")),
                    "string",
                    false,
                ),
                age(),
            ]
        }
        "ClusterResourceSnapshot"
        | "ResourceSnapshot"
        | "ClusterSchedulingPolicySnapshot"
        | "SchedulingPolicySnapshot" => vec![
            column("Gen", ".metadata.generation", "string", false),
            age(),
        ],
        "ClusterResourceBinding" | "ResourceBinding" => vec![
            column(
                "WorkSynchronized",
                &condition_status("WorkSynchronized"),
                "string",
                false,
            ),
            column(
                "ResourcesApplied",
                &condition_status("Applied"),
                "string",
                false,
            ),
            column(
                "ResourceAvailable",
                &condition_status("Available"),
                "string",
                true,
            ),
            age(),
        ],
        "MemberCluster" => vec![
            column("Joined", &condition_status("Joined"), "string", false),
            age(),
            column(
                "Member-Agent-Last-Seen",
                ".status.agentStatus[?(@.type==\"MemberAgent\")].lastReceivedHeartbeat",
                "date",
                false,
            ),
            column(
                "Node-Count",
                ".status.properties.kubernetes-fleet\\.io/node-count.value",
                "string",
                false,
            ),
            column(
                "Available-CPU",
                ".status.resourceUsage.available.cpu",
                "string",
                false,
            ),
            column(
                "Available-Memory",
                ".status.resourceUsage.available.memory",
                "string",
                false,
            ),
            column(
                "Allocatable-CPU",
                ".status.resourceUsage.allocatable.cpu",
                "string",
                true,
            ),
            column(
                "Allocatable-Memory",
                ".status.resourceUsage.allocatable.memory",
                "string",
                true,
            ),
        ],
        // Seed 004 kinds are fleetdeck's own (spec/aks-update-runs.md); §8 lists none.
        _ => Vec::new(),
    }
}

// ----- rules (spec §3.1, §6, §7) -----

/// The schema node at a dotted path below the root: `spec.stages[].name` walks `properties` and,
/// after `[]`, `items`. Panics on a path the types do not have (a bug the tests catch).
fn node<'a>(root: &'a mut Value, path: &str) -> &'a mut Map<String, Value> {
    let mut cur = root;
    for seg in path.split('.') {
        let (name, is_list) = match seg.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (seg, false),
        };
        cur = cur
            .get_mut("properties")
            .and_then(|p| p.get_mut(name))
            .unwrap_or_else(|| panic!("CRD rule path `{path}`: no property `{name}`"));
        if is_list {
            cur = cur
                .get_mut("items")
                .unwrap_or_else(|| panic!("CRD rule path `{path}`: `{name}` is not a list"));
        }
    }
    cur.as_object_mut()
        .unwrap_or_else(|| panic!("CRD rule path `{path}`: not a schema object"))
}

/// The root node for `""`, otherwise [`node`].
fn at<'a>(root: &'a mut Value, path: &str) -> &'a mut Map<String, Value> {
    if path.is_empty() {
        root.as_object_mut()
            .unwrap_or_else(|| panic!("CRD root schema is not an object"))
    } else {
        node(root, path)
    }
}

fn set(root: &mut Value, path: &str, key: &str, value: Value) {
    at(root, path).insert(key.to_string(), value);
}

fn required(root: &mut Value, path: &str, fields: &[&str]) {
    let obj = at(root, path);
    let list = obj.entry("required").or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        for f in fields {
            if !list.iter().any(|v| v == f) {
                list.push(json!(f));
            }
        }
    }
}

/// Appends one `x-kubernetes-validations` rule.
fn cel(root: &mut Value, path: &str, rule: Value) {
    let obj = at(root, path);
    let list = obj
        .entry("x-kubernetes-validations")
        .or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        list.push(rule);
    }
}

fn cel_msg(root: &mut Value, path: &str, rule: &str, message: &str) {
    cel(root, path, json!({"rule": rule, "message": message}));
}

/// Removes the `default` schemars derives from `#[serde(default)]` (e.g. `[]`, `""`): only the
/// defaults KubeFleet's CRDs declare may be applied by an apiserver.
fn strip_defaults(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    obj.remove("default");
    for key in ["properties"] {
        if let Some(props) = obj.get_mut(key).and_then(Value::as_object_mut) {
            props.values_mut().for_each(strip_defaults);
        }
    }
    if let Some(items) = obj.get_mut("items") {
        strip_defaults(items);
    }
    if let Some(extra) = obj.get_mut("additionalProperties") {
        strip_defaults(extra);
    }
}

/// Puts the OpenAPI and CEL rules of a kind into its schema.
fn add_rules(kind: &str, root: &mut Value) {
    strip_defaults(root);
    match kind {
        "ClusterResourcePlacement" | "ResourcePlacement" => placement_rules(kind, root),
        "ClusterResourceSnapshot" | "ResourceSnapshot" => {
            required(root, "spec", &["selectedResources"]);
        }
        "ClusterSchedulingPolicySnapshot" | "SchedulingPolicySnapshot" => {
            set(root, "status.targetClusters", "maxItems", json!(1000));
        }
        "ClusterStagedUpdateStrategy" | "StagedUpdateStrategy" => {
            required(root, "spec", &["stages"]);
            strategy_rules(root, "spec");
        }
        "ClusterStagedUpdateRun" | "StagedUpdateRun" => run_rules(root),
        "ClusterApprovalRequest" | "ApprovalRequest" => {
            required(root, "spec", &["parentStageRollout", "targetStage"]);
            cel_msg(
                root,
                "spec",
                "self == oldSelf",
                validation::approval::MSG_SPEC_IMMUTABLE,
            );
        }
        "MemberCluster" => member_cluster_rules(root),
        "UpdateRun" | "UpdateStrategy" => update_run_rules(root),
        _ => {}
    }
}

fn name_max_63(root: &mut Value) {
    cel_msg(
        root,
        "",
        "size(self.metadata.name) < 64",
        validation::MSG_NAME_MAX_63,
    );
}

/// Stage rules of a strategy spec found at `path` (spec §7.1).
fn strategy_rules(root: &mut Value, path: &str) {
    let stages = format!("{path}.stages");
    set(root, &stages, "maxItems", json!(vs::MAX_STAGES));
    let stage = format!("{stages}[]");
    set(
        root,
        &format!("{stage}.name"),
        "pattern",
        json!(vs::STAGE_NAME_PATTERN),
    );
    set(
        root,
        &format!("{stage}.name"),
        "maxLength",
        json!(vs::STAGE_NAME_MAX_LENGTH),
    );
    let mc = format!("{stage}.maxConcurrency");
    set(root, &mc, "default", json!(1));
    set(root, &mc, "pattern", json!(vs::MAX_CONCURRENCY_PATTERN));
    cel_msg(
        root,
        &mc,
        "type(self) != int || self >= 1",
        vs::MSG_MAX_CONCURRENCY_MIN,
    );
    let after = format!("{stage}.afterStageTasks");
    set(root, &after, "maxItems", json!(vs::MAX_AFTER_STAGE_TASKS));
    let before = format!("{stage}.beforeStageTasks");
    set(root, &before, "maxItems", json!(vs::MAX_BEFORE_STAGE_TASKS));
    for tasks in [&after, &before] {
        let task = format!("{tasks}[]");
        set(
            root,
            &format!("{task}.waitTime"),
            "pattern",
            json!(WAIT_TIME_PATTERN),
        );
        if tasks == &before {
            cel_msg(
                root,
                &task,
                "self.type != 'TimedWait'",
                vs::MSG_BEFORE_NO_TIMED_WAIT,
            );
        } else {
            cel_msg(
                root,
                &task,
                "!(self.type == 'TimedWait' && !has(self.waitTime))",
                vs::MSG_TIMED_WAIT_NEEDS_WAIT,
            );
        }
        cel_msg(
            root,
            &task,
            "!(self.type == 'Approval' && has(self.waitTime))",
            vs::MSG_APPROVAL_NO_WAIT,
        );
    }
}

/// spec §7.2: name length, required and immutable fields, the `state` enum and transitions.
fn run_rules(root: &mut Value) {
    name_max_63(root);
    required(
        root,
        "spec",
        &["placementName", "stagedRolloutStrategyName"],
    );
    set(
        root,
        "spec.placementName",
        "maxLength",
        json!(vs::PLACEMENT_NAME_MAX_LENGTH),
    );
    for (field, message) in [
        ("placementName", vs::MSG_PLACEMENT_NAME_IMMUTABLE),
        (
            "resourceSnapshotIndex",
            vs::MSG_RESOURCE_SNAPSHOT_INDEX_IMMUTABLE,
        ),
        ("stagedRolloutStrategyName", vs::MSG_STRATEGY_NAME_IMMUTABLE),
    ] {
        cel_msg(root, &format!("spec.{field}"), "self == oldSelf", message);
    }
    set(
        root,
        "spec.state",
        "default",
        json!(UpdateRunState::default().as_str()),
    );
    // One transition rule per forbidden (from, to) pair, with the validator's own message.
    for from in UpdateRunState::ALL {
        for to in UpdateRunState::ALL {
            if let Err(message) = vs::check_state_transition(from, to) {
                cel_msg(
                    root,
                    "spec.state",
                    &format!("!(oldSelf == '{from}' && self == '{to}')"),
                    &message,
                );
            }
        }
    }
    strategy_rules(root, "status.stagedUpdateStrategySnapshot");
    for tasks in ["beforeStageTaskStatus", "afterStageTaskStatus"] {
        let max = if tasks.starts_with("before") {
            vs::MAX_BEFORE_STAGE_TASKS
        } else {
            vs::MAX_AFTER_STAGE_TASKS
        };
        set(
            root,
            &format!("status.stagesStatus[].{tasks}"),
            "maxItems",
            json!(max),
        );
    }
}

/// spec §3.1.
fn placement_rules(kind: &str, root: &mut Value) {
    required(root, "spec", &["resourceSelectors"]);
    let is_ns = vp::CEL_IS_NAMESPACE;
    let self_is_ns = is_ns.replace("s.", "self.");
    if kind == "ResourcePlacement" {
        cel_msg(
            root,
            "spec.resourceSelectors[]",
            &format!("!({self_is_ns})"),
            vp::MSG_RP_NO_NAMESPACES,
        );
    }
    let scoped =
        "has(self.selectionScope) && self.selectionScope == 'NamespaceWithResourceSelectors'";
    cel_msg(
        root,
        "spec.resourceSelectors[]",
        &format!("!({self_is_ns} && {scoped}) || has(self.name)"),
        vp::MSG_SCOPE_SELECTORS_BY_NAME,
    );
    cel_msg(
        root,
        "spec.resourceSelectors",
        &format!(
            "!self.exists(s, {is_ns} && has(s.selectionScope) && s.selectionScope == 'NamespaceWithResourceSelectors') || self.filter(s, {is_ns}).size() == 1"
        ),
        vp::MSG_SCOPE_SELECTORS_ONLY_ONE,
    );
    cel_msg(
        root,
        "spec",
        &format!(
            "!has(self.statusReportingScope) || self.statusReportingScope != 'NamespaceAccessible' || self.resourceSelectors.filter(s, {is_ns}).size() == 1"
        ),
        vp::MSG_NAMESPACE_ACCESSIBLE_ONE_NAMESPACE,
    );
    let sel = "spec.resourceSelectors";
    set(root, sel, "minItems", json!(1));
    set(root, sel, "maxItems", json!(vp::MAX_RESOURCE_SELECTORS));
    required(
        root,
        "spec.resourceSelectors[]",
        &["group", "version", "kind"],
    );
    cel_msg(
        root,
        "spec.resourceSelectors[]",
        "!(has(self.name) && has(self.labelSelector))",
        vp::MSG_NAME_AND_SELECTOR,
    );
    set(
        root,
        "spec.resourceSelectors[].selectionScope",
        "default",
        json!("NamespaceWithResources"),
    );
    set(root, "spec.revisionHistoryLimit", "default", json!(10));
    set(root, "spec.revisionHistoryLimit", "minimum", json!(1));
    set(root, "spec.revisionHistoryLimit", "maximum", json!(1000));
    set(
        root,
        "spec.statusReportingScope",
        "default",
        json!("ClusterScopeOnly"),
    );
    cel_msg(
        root,
        "spec.statusReportingScope",
        "self == oldSelf",
        vp::MSG_STATUS_SCOPE_IMMUTABLE,
    );
    // Transition rules on `spec` so that removing `policy` / `strategy` is caught too.
    cel_msg(
        root,
        "spec",
        "!has(oldSelf.policy) || has(self.policy)",
        vp::MSG_POLICY_REMOVED,
    );
    cel(
        root,
        "spec",
        json!({
            "rule": "!(has(oldSelf.strategy) && has(oldSelf.strategy.type) && oldSelf.strategy.type == 'External') || (has(self.strategy) && has(self.strategy.type) && self.strategy.type == 'External')",
            "message": vp::MSG_EXTERNAL_STRATEGY,
            "fieldPath": ".strategy",
        }),
    );
    let policy = "spec.policy";
    set(
        root,
        &format!("{policy}.placementType"),
        "default",
        json!("PickAll"),
    );
    cel_msg(
        root,
        &format!("{policy}.placementType"),
        "self == oldSelf",
        vp::MSG_PLACEMENT_TYPE_IMMUTABLE,
    );
    set(
        root,
        &format!("{policy}.clusterNames"),
        "maxItems",
        json!(vp::MAX_CLUSTER_NAMES),
    );
    set(
        root,
        &format!("{policy}.numberOfClusters"),
        "minimum",
        json!(0),
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
        cel(root, policy, rule.cel());
    }
    let toleration = format!("{policy}.tolerations[]");
    cel_msg(
        root,
        &toleration,
        vp::TOLERATION_EXISTS_VALUE_CEL_RULE,
        vp::MSG_TOLERATION_EXISTS_VALUE,
    );
    cel_msg(
        root,
        &toleration,
        vp::TOLERATION_EMPTY_KEY_CEL_RULE,
        vp::MSG_TOLERATION_EMPTY_KEY,
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
    cel_msg(
        root,
        &format!("{strategy}.reportBackStrategy"),
        vp::REPORT_BACK_CEL_RULE,
        vp::MSG_REPORT_BACK_DESTINATION,
    );
}

/// spec §6.
fn member_cluster_rules(root: &mut Value) {
    name_max_63(root);
    required(root, "spec", &["identity"]);
    let hb = "spec.heartbeatPeriodSeconds";
    set(root, hb, "default", json!(60));
    set(root, hb, "minimum", json!(1));
    set(root, hb, "maximum", json!(600));
    set(
        root,
        "spec.taints",
        "maxItems",
        json!(validation::member_cluster::MAX_TAINTS),
    );
    set(
        root,
        "spec.deleteOptions.validationMode",
        "default",
        json!("Strict"),
    );
}

/// spec/aks-update-runs.md §2–§5: the ARM names' pattern and limits.
fn update_run_rules(root: &mut Value) {
    set(root, "spec.strategy.stages", "minItems", json!(1));
    let stage = "spec.strategy.stages[]".to_string();
    for node_path in [stage.clone(), format!("{stage}.groups[]")] {
        set(
            root,
            &format!("{node_path}.name"),
            "pattern",
            json!(vu::ARM_NAME_PATTERN),
        );
        set(
            root,
            &format!("{node_path}.name"),
            "maxLength",
            json!(vu::ARM_NAME_MAX_LENGTH),
        );
        set(
            root,
            &format!("{node_path}.maxConcurrency"),
            "pattern",
            json!(vu::STAGE_MAX_CONCURRENCY_PATTERN),
        );
        set(
            root,
            &format!("{node_path}.maxAllowedFailures"),
            "pattern",
            json!(vu::MAX_ALLOWED_FAILURES_PATTERN),
        );
    }
    set(
        root,
        &format!("{stage}.groups"),
        "maxItems",
        json!(vu::MAX_GROUPS_PER_STAGE),
    );
}

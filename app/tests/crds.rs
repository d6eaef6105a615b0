//! The CRDs in `deploy/crds` are generated from the fleet types (`app::fleet::crd`); these tests
//! keep the committed YAML in step, pin the printer columns of spec §8 and the kube-rs typing.
#![cfg(feature = "ssr")]

use std::collections::BTreeSet;
use std::path::PathBuf;

use app::fleet::crd::{all_crds, file_name, printer_columns};
use app::fleet::{types::kind, ClusterStagedUpdateRun, FleetKind, StagedUpdateRun};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::core::{ApiResource, ClusterResourceScope, NamespaceResourceScope, Request, Resource};
use serde_json::Value;

const REGENERATE: &str = "UPDATE_CRDS=1 cargo test -p app --features ssr crds";

fn crd_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/crds")
}

fn render(crd: &CustomResourceDefinition) -> String {
    let yaml = serde_saphyr::to_string(crd).expect("a CRD renders as YAML");
    format!("# Generated from app/src/fleet by `{REGENERATE}`; do not edit.\n---\n{yaml}")
}

#[test]
fn crds_are_up_to_date() {
    let dir = crd_dir();
    let update = std::env::var_os("UPDATE_CRDS").is_some_and(|v| v == "1");
    let crds = all_crds();
    let mut expected = BTreeSet::new();
    let mut stale = Vec::new();
    for crd in &crds {
        let name = file_name(crd);
        let path = dir.join(&name);
        let want = render(crd);
        if update {
            std::fs::create_dir_all(&dir).expect("create deploy/crds");
            std::fs::write(&path, &want).expect("write CRD");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
            stale.push(name.clone());
        }
        expected.insert(name);
    }
    // A kind that was removed or renamed must not leave its old file behind.
    let present: BTreeSet<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".yaml"))
                .collect()
        })
        .unwrap_or_default();
    let extra: Vec<_> = present.difference(&expected).collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "deploy/crds is out of date (stale: {stale:?}, not generated: {extra:?}); regenerate with `{REGENERATE}`"
    );
    assert_eq!(crds.len(), 23);
    println!("{} CRDs up to date in deploy/crds", crds.len());
}

#[test]
fn rendered_crds_parse_back_unchanged() {
    for crd in all_crds() {
        let parsed: CustomResourceDefinition =
            serde_saphyr::from_str(&render(&crd)).expect("rendered CRD parses");
        assert_eq!(parsed, crd, "{}", file_name(&crd));
    }
}

fn find<'a>(crds: &'a [CustomResourceDefinition], kind: &str) -> &'a CustomResourceDefinition {
    crds.iter()
        .find(|c| c.spec.names.kind == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind}"))
}

/// `(name, jsonPath, type, priority)` of every column of the first (all identical) version.
fn columns(crd: &CustomResourceDefinition) -> Vec<(String, String, String, i32)> {
    let versions = &crd.spec.versions;
    for v in versions {
        assert_eq!(
            v.additional_printer_columns, versions[0].additional_printer_columns,
            "{}: versions differ in columns",
            crd.spec.names.kind
        );
    }
    versions[0]
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| {
            (
                c.name.clone(),
                c.json_path.clone(),
                c.type_.clone(),
                c.priority.unwrap_or(0),
            )
        })
        .collect()
}

fn cols(rows: &[(&str, &str, &str, i32)]) -> Vec<(String, String, String, i32)> {
    rows.iter()
        .map(|(n, p, t, pr)| (n.to_string(), p.to_string(), t.to_string(), *pr))
        .collect()
}

#[test]
fn printer_columns_match_spec_section_8() {
    let crds = all_crds();
    let age = ("Age", ".metadata.creationTimestamp", "date", 0);
    let cond = |t: &str| format!(".status.conditions[?(@.type==\"{t}\")].status");
    let gen = |t: &str| format!(".status.conditions[?(@.type==\"{t}\")].observedGeneration");
    let (initialized, progressing, succeeded, approved) = (
        cond("Initialized"),
        cond("Progressing"),
        cond("Succeeded"),
        cond("Approved"),
    );
    let run = cols(&[
        ("Placement", ".spec.placementName", "string", 0),
        (
            "Resource-Snapshot-Index",
            ".spec.resourceSnapshotIndex",
            "string",
            0,
        ),
        (
            "Policy-Snapshot-Index",
            ".status.policySnapshotIndexUsed",
            "string",
            0,
        ),
        ("Initialized", &initialized, "string", 0),
        ("Progressing", &progressing, "string", 0),
        ("Succeeded", &succeeded, "string", 0),
        age,
        ("Strategy", ".spec.stagedRolloutStrategyName", "string", 1),
    ]);
    let approval = cols(&[
        ("Update-Run", ".spec.parentStageRollout", "string", 0),
        ("Stage", ".spec.targetStage", "string", 0),
        ("Approved", &approved, "string", 0),
        age,
    ]);
    let snapshot = cols(&[("Gen", ".metadata.generation", "string", 0), age]);
    let (ws, applied, available) = (cond("WorkSynchronized"), cond("Applied"), cond("Available"));
    let binding = cols(&[
        ("WorkSynchronized", &ws, "string", 0),
        ("ResourcesApplied", &applied, "string", 0),
        ("ResourceAvailable", &available, "string", 1),
        age,
    ]);
    for kind in ["ClusterStagedUpdateRun", "StagedUpdateRun"] {
        assert_eq!(columns(find(&crds, kind)), run, "{kind}");
    }
    for kind in ["ClusterApprovalRequest", "ApprovalRequest"] {
        assert_eq!(columns(find(&crds, kind)), approval, "{kind}");
    }
    for kind in [
        "ClusterResourceSnapshot",
        "ResourceSnapshot",
        "ClusterSchedulingPolicySnapshot",
        "SchedulingPolicySnapshot",
    ] {
        assert_eq!(columns(find(&crds, kind)), snapshot, "{kind}");
    }
    for kind in ["ClusterResourceBinding", "ResourceBinding"] {
        assert_eq!(columns(find(&crds, kind)), binding, "{kind}");
    }
    for kind in ["ClusterResourcePlacement", "ResourcePlacement"] {
        let t = |s: &str| format!("{kind}{s}");
        let (s, sg) = (cond(&t("Scheduled")), gen(&t("Scheduled")));
        let (w, wg) = (cond(&t("WorkSynchronized")), gen(&t("WorkSynchronized")));
        let (a, ag) = (cond(&t("Available")), gen(&t("Available")));
        let want = cols(&[
            ("Gen", ".metadata.generation", "string", 0),
            ("Type", ".spec.strategy.type", "string", 1),
            ("Scheduled", &s, "string", 0),
            ("Scheduled-Gen", &sg, "string", 0),
            ("Work-Synchronized", &w, "string", 1),
            ("Work-Synchronized-Gen", &wg, "string", 1),
            ("Available", &a, "string", 0),
            ("Available-Gen", &ag, "string", 0),
            age,
        ]);
        assert_eq!(columns(find(&crds, kind)), want, "{kind}");
    }
    let member: Vec<(String, i32)> = columns(find(&crds, "MemberCluster"))
        .into_iter()
        .map(|(n, _, _, p)| (n, p))
        .collect();
    let want_member: Vec<(String, i32)> = [
        ("Joined", 0),
        ("Age", 0),
        ("Member-Agent-Last-Seen", 0),
        ("Node-Count", 0),
        ("Available-CPU", 0),
        ("Available-Memory", 0),
        ("Allocatable-CPU", 1),
        ("Allocatable-Memory", 1),
    ]
    .iter()
    .map(|(n, p)| (n.to_string(), *p))
    .collect();
    assert_eq!(member, want_member);
    // Strategies declare none: kubectl shows NAME, AGE.
    for kind in ["ClusterStagedUpdateStrategy", "StagedUpdateStrategy"] {
        assert!(find(&crds, kind).spec.versions[0]
            .additional_printer_columns
            .is_none());
        assert!(printer_columns(kind).is_empty());
    }
}

#[test]
fn names_scopes_versions_and_subresources_follow_spec_section_1() {
    let crds = all_crds();
    let expect = [
        ("ClusterResourcePlacement", "crp", "Cluster", true),
        ("ResourcePlacement", "rp", "Namespaced", true),
        ("ClusterResourceSnapshot", "crs", "Cluster", true),
        ("ResourceSnapshot", "rs", "Namespaced", true),
        ("ClusterSchedulingPolicySnapshot", "csps", "Cluster", true),
        ("SchedulingPolicySnapshot", "sps", "Namespaced", true),
        ("ClusterResourceBinding", "crb", "Cluster", true),
        ("ResourceBinding", "rb", "Namespaced", true),
        ("ClusterStagedUpdateStrategy", "csus", "Cluster", true),
        ("StagedUpdateStrategy", "sus", "Namespaced", false),
        ("ClusterStagedUpdateRun", "csur", "Cluster", true),
        ("StagedUpdateRun", "sur", "Namespaced", true),
        ("ClusterApprovalRequest", "careq", "Cluster", true),
        ("ApprovalRequest", "areq", "Namespaced", true),
        ("MemberCluster", "cluster", "Cluster", true),
    ];
    for (kind, short, scope, status) in expect {
        let crd = find(&crds, kind);
        assert_eq!(
            crd.spec.names.short_names,
            Some(vec![short.to_string()]),
            "{kind}"
        );
        assert_eq!(crd.spec.scope, scope, "{kind}");
        let cats = crd.spec.names.categories.clone().unwrap_or_default();
        let want_cats = if kind == "MemberCluster" {
            ["fleet", "fleet-cluster"]
        } else {
            ["fleet", "fleet-placement"]
        };
        assert_eq!(cats, want_cats, "{kind}");
        let versions: Vec<(&str, bool, bool)> = crd
            .spec
            .versions
            .iter()
            .map(|v| (v.name.as_str(), v.served, v.storage))
            .collect();
        assert_eq!(
            versions,
            [("v1", true, false), ("v1beta1", true, true)],
            "{kind}"
        );
        for v in &crd.spec.versions {
            assert_eq!(
                v.subresources
                    .as_ref()
                    .and_then(|s| s.status.as_ref())
                    .is_some(),
                status,
                "{kind} status subresource"
            );
        }
    }
    for kind in ["UpdateRun", "UpdateStrategy", "Gate"] {
        let crd = find(&crds, kind);
        assert_eq!(crd.spec.group, "updates.fleetdeck.dev");
        assert_eq!(crd.spec.scope, "Cluster");
        assert_eq!(crd.spec.versions.len(), 1);
        assert_eq!(crd.spec.versions[0].name, "v1alpha1");
        assert!(crd.spec.versions[0].storage);
    }
    assert_eq!(
        file_name(find(&crds, "ClusterStagedUpdateRun")),
        "placement.kubernetes-fleet.io_clusterstagedupdateruns.yaml"
    );
}

fn schema_of(crds: &[CustomResourceDefinition], kind: &str) -> Value {
    let crd = find(crds, kind);
    let schema = crd.spec.versions[0]
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
        .expect("schema");
    serde_json::to_value(schema).expect("schema as JSON")
}

/// Structural schema (apiextensions): every node has a type unless it is int-or-string or keeps
/// unknown fields; no `oneOf`/`anyOf` left from schemars.
fn assert_structural(path: &str, node: &Value) {
    let obj = node
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object"));
    let exempt = obj.contains_key("x-kubernetes-int-or-string")
        || obj.contains_key("x-kubernetes-preserve-unknown-fields");
    assert!(
        obj.contains_key("type") || exempt,
        "{path}: no type: {node}"
    );
    for key in ["oneOf", "anyOf", "allOf", "$ref"] {
        assert!(!obj.contains_key(key), "{path}: has {key}");
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            assert_structural(&format!("{path}.{k}"), v);
        }
    }
    if let Some(items) = obj.get("items") {
        assert_structural(&format!("{path}[]"), items);
    }
}

#[test]
fn schemas_are_structural() {
    let crds = all_crds();
    for crd in &crds {
        assert_structural(
            &crd.spec.names.kind,
            &schema_of(&crds, &crd.spec.names.kind),
        );
    }
}

fn messages(node: &Value) -> Vec<String> {
    node.get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("message").and_then(Value::as_str).map(str::to_string))
        .collect()
}

#[test]
fn staged_update_rules_carry_the_spec_section_7_messages() {
    let crds = all_crds();
    let run = schema_of(&crds, "ClusterStagedUpdateRun");
    assert_eq!(messages(&run), ["metadata.name max length is 63"]);
    let spec = &run["properties"]["spec"];
    assert_eq!(
        spec["required"],
        serde_json::json!(["placementName", "stagedRolloutStrategyName"])
    );
    assert_eq!(spec["properties"]["placementName"]["maxLength"], 255);
    assert_eq!(
        messages(&spec["properties"]["placementName"]),
        ["placementName is immutable"]
    );
    assert_eq!(
        messages(&spec["properties"]["resourceSnapshotIndex"]),
        ["resourceSnapshotIndex is immutable"]
    );
    let state = &spec["properties"]["state"];
    assert_eq!(state["default"], "Initialize");
    assert_eq!(
        state["enum"],
        serde_json::json!(["Initialize", "Run", "Stop"])
    );
    assert_eq!(
        messages(state),
        [
            "invalid state transition: cannot transition from Initialize to Stop",
            "invalid state transition: cannot transition from Run to Initialize",
            "invalid state transition: cannot transition from Stop to Initialize",
        ]
    );

    let strategy = schema_of(&crds, "StagedUpdateStrategy");
    let stages = &strategy["properties"]["spec"]["properties"]["stages"];
    assert_eq!(stages["maxItems"], 31);
    let stage = &stages["items"]["properties"];
    assert_eq!(stage["name"]["pattern"], "^[a-z0-9]+$");
    assert_eq!(stage["name"]["maxLength"], 63);
    assert_eq!(stage["maxConcurrency"]["default"], 1);
    assert_eq!(stage["maxConcurrency"]["x-kubernetes-int-or-string"], true);
    assert_eq!(
        messages(&stage["maxConcurrency"]),
        ["maxConcurrency must be at least 1"]
    );
    assert_eq!(stage["afterStageTasks"]["maxItems"], 2);
    assert_eq!(stage["beforeStageTasks"]["maxItems"], 1);
    assert_eq!(
        messages(&stage["afterStageTasks"]["items"]),
        [
            "AfterStageTaskType is TimedWait, waitTime is required",
            "AfterStageTaskType is Approval, waitTime is not allowed",
        ]
    );
    assert_eq!(
        messages(&stage["beforeStageTasks"]["items"]),
        [
            "BeforeStageTaskType cannot be TimedWait",
            "AfterStageTaskType is Approval, waitTime is not allowed",
        ]
    );
    assert_eq!(
        stage["afterStageTasks"]["items"]["properties"]["waitTime"]["pattern"],
        app::fleet::staged::wait_time::WAIT_TIME_PATTERN
    );
    let approval = schema_of(&crds, "ApprovalRequest");
    assert_eq!(
        messages(&approval["properties"]["spec"]),
        ["The spec field is immutable"]
    );
    let placement = schema_of(&crds, "ClusterResourcePlacement");
    let strategy_rule = placement["properties"]["spec"]["x-kubernetes-validations"]
        .as_array()
        .and_then(|rules| {
            rules
                .iter()
                .find(|r| r.get("fieldPath") == Some(&".strategy".into()))
        })
        .expect("External transition rule");
    assert_eq!(
        strategy_rule["message"],
        "cannot change rollout strategy type from 'External' to other types"
    );
}

#[test]
fn snapshot_selected_resources_keep_unknown_fields() {
    let crds = all_crds();
    for kind in ["ClusterResourceSnapshot", "ResourceSnapshot"] {
        let items = &schema_of(&crds, kind)["properties"]["spec"]["properties"]
            ["selectedResources"]["items"];
        assert_eq!(
            items["x-kubernetes-preserve-unknown-fields"], true,
            "{kind}"
        );
        assert_eq!(items["type"], "object", "{kind}");
    }
}

fn assert_cluster_scoped<R: Resource<Scope = ClusterResourceScope>>() {}
fn assert_namespaced<R: Resource<Scope = NamespaceResourceScope>>() {}

#[test]
fn kube_resource_impls_name_the_storage_version() {
    assert_cluster_scoped::<ClusterStagedUpdateRun>();
    assert_namespaced::<StagedUpdateRun>();
    assert_cluster_scoped::<app::fleet::MemberCluster>();
    assert_cluster_scoped::<app::fleet::UpdateRun>();
    assert_namespaced::<app::fleet::ApprovalRequest>();

    let ar = ApiResource::erase::<ClusterStagedUpdateRun>(&());
    assert_eq!(
        (
            ar.group.as_str(),
            ar.version.as_str(),
            ar.kind.as_str(),
            ar.plural.as_str()
        ),
        (
            "placement.kubernetes-fleet.io",
            "v1beta1",
            "ClusterStagedUpdateRun",
            "clusterstagedupdateruns"
        )
    );
    assert_eq!(ar.api_version, "placement.kubernetes-fleet.io/v1beta1");
    let ar = ApiResource::erase::<app::fleet::UpdateStrategy>(&());
    assert_eq!(ar.api_version, "updates.fleetdeck.dev/v1alpha1");
    assert_eq!(ar.plural, "updatestrategies");

    let get = |path: String| {
        Request::new(path)
            .get("example-run", &Default::default())
            .expect("request")
            .uri()
            .to_string()
    };
    assert_eq!(
        get(ClusterStagedUpdateRun::url_path(&(), None)),
        "/apis/placement.kubernetes-fleet.io/v1beta1/clusterstagedupdateruns/example-run"
    );
    assert_eq!(
        get(StagedUpdateRun::url_path(&(), Some("test-namespace"))),
        "/apis/placement.kubernetes-fleet.io/v1beta1/namespaces/test-namespace/stagedupdateruns/example-run"
    );
    assert_eq!(
        get(app::fleet::MemberCluster::url_path(&(), None)),
        "/apis/cluster.kubernetes-fleet.io/v1beta1/memberclusters/example-run"
    );
    // Every CRD names the kind's plural and storage version, and every kind has a CRD.
    let crds = all_crds();
    for (kind, plural, _) in app::fleet::types::kind::ALL_KINDS {
        let crd = find(&crds, kind);
        assert_eq!(crd.spec.names.plural, *plural);
        assert_eq!(
            crd.metadata.name.as_deref(),
            Some(format!("{plural}.{}", crd.spec.group).as_str())
        );
    }
    assert_eq!(crds.len(), app::fleet::types::kind::ALL_KINDS.len());
    let storage: Vec<_> = find(&crds, "ClusterStagedUpdateRun")
        .spec
        .versions
        .iter()
        .filter(|v| v.storage)
        .map(|v| v.name.clone())
        .collect();
    assert_eq!(storage, [kind::ClusterStagedUpdateRun::VERSION]);
}

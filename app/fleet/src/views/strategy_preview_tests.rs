//! The preview against the engine: for the seeds' strategies over the seeds' fleet, the stages and
//! their order equal what the run's initialization writes into its status, and where
//! initialization fails the preview says the same words.

use std::collections::BTreeSet;

use serde_json::json;

use super::*;
use crate::placement::binding::{BindingState, ResourceBindingSpec};
use crate::staged::run::init::{initialize, RunMeta};
use crate::staged::run::{BindingView, PolicySnapshotView, ResourceSnapshotView, World};
use crate::staged::staged_update_run::{StagedUpdateRunSpec, StagedUpdateRunStatus};
use crate::types::condition::{find_condition, new_condition, Time};
use crate::{ClusterStagedUpdateStrategy, MemberCluster, StagedUpdateStrategy};

/// seed 000: staging then canary sorted by `order`, no maxConcurrency.
const SEED_000: &str = r#"
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata:
  name: example-strategy
spec:
  stages:
    - name: staging
      labelSelector:
        matchLabels:
          environment: staging
      afterStageTasks:
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      afterStageTasks:
        - type: Approval
"#;

/// seed 002's cluster-scoped strategy (seed 001's differs only in `maxConcurrency: 1`).
const SEED_002: &str = r#"
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: ClusterStagedUpdateStrategy
metadata:
  name: example-strategy
spec:
  stages:
    - name: staging
      labelSelector:
        matchLabels:
          environment: staging
      maxConcurrency: 30%
      afterStageTasks:
        - type: TimedWait
          waitTime: 1m
    - name: canary
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 2
      beforeStageTasks:
        - type: Approval
      afterStageTasks:
        - type: Approval
"#;

/// seed 002's namespaced strategy.
const SEED_002_NAMESPACED: &str = r#"
apiVersion: placement.kubernetes-fleet.io/v1beta1
kind: StagedUpdateStrategy
metadata:
  name: app-rollout-strategy
  namespace: my-app-namespace
spec:
  stages:
    - name: dev
      labelSelector:
        matchLabels:
          environment: staging
      maxConcurrency: 2
      afterStageTasks:
        - type: TimedWait
          waitTime: 30s
    - name: prod
      labelSelector:
        matchLabels:
          environment: canary
      sortingLabelKey: order
      maxConcurrency: 1
      beforeStageTasks:
        - type: Approval
      afterStageTasks:
        - type: Approval
"#;

fn member(name: &str, labels: &[(&str, &str)]) -> MemberCluster {
    let labels: std::collections::BTreeMap<&str, &str> = labels.iter().copied().collect();
    serde_json::from_value(json!({"apiVersion": "cluster.kubernetes-fleet.io/v1beta1",
        "kind": "MemberCluster", "metadata": {"name": name, "labels": labels}, "spec": {}}))
    .expect("member")
}

/// The seeds' fleet (README "Try the tutorial"), plus a fourth cluster some tests schedule.
fn fleet() -> Vec<MemberCluster> {
    vec![
        member("member1", &[("environment", "canary"), ("order", "2")]),
        member("member2", &[("environment", "staging")]),
        member("member3", &[("environment", "canary"), ("order", "1")]),
        member("member4", &[("environment", "prod")]),
    ]
}

fn t0() -> Time {
    Time("2026-01-01T00:00:00Z".parse().expect("time"))
}

/// An External placement whose latest policy snapshot scheduled `scheduled`.
fn world(spec: &StagedUpdateStrategySpec, scheduled: &[&str]) -> World {
    World {
        placement: Some(
            serde_json::from_value(
                json!({"resourceSelectors": [], "strategy": {"type": "External"}}),
            )
            .expect("placement"),
        ),
        latest_policy_snapshots: vec![PolicySnapshotView {
            name: "p-0".into(),
            generation: 1,
            labels: [(
                "kubernetes-fleet.io/policy-index".to_string(),
                "0".to_string(),
            )]
            .into(),
            conditions: vec![new_condition("Scheduled", "True", "r", "m", 1, &t0())],
            ..Default::default()
        }],
        bindings: scheduled
            .iter()
            .map(|c| BindingView {
                name: format!("p-{c}-0a1b2c3d"),
                generation: 1,
                deleting: false,
                spec: ResourceBindingSpec {
                    state: BindingState::Scheduled,
                    target_cluster: c.to_string(),
                    scheduling_policy_snapshot_name: Some("p-0".into()),
                    ..Default::default()
                },
                conditions: vec![],
            })
            .collect(),
        strategy: Some(spec.clone()),
        members: fleet(),
        resource_snapshots: vec![ResourceSnapshotView {
            name: "p-0-snapshot".into(),
            labels: [(
                "kubernetes-fleet.io/resource-index".to_string(),
                "0".to_string(),
            )]
            .into(),
            annotations: [(
                "kubernetes-fleet.io/resource-hash".to_string(),
                "ab".to_string(),
            )]
            .into(),
        }],
        approvals: Default::default(),
        resource_selection_error: None,
        overrides: Default::default(),
    }
}

/// What the engine's initialization writes: each stage's clusters, or its condition message.
fn engine(
    namespace: Option<&str>,
    strategy: &str,
    spec: &StagedUpdateStrategySpec,
    scheduled: &[&str],
) -> (Vec<(String, Vec<String>)>, Option<String>) {
    let run_spec = StagedUpdateRunSpec {
        placement_name: "p".into(),
        staged_rollout_strategy_name: strategy.into(),
        ..Default::default()
    };
    let meta = RunMeta {
        name: "run",
        namespace,
        generation: 1,
        spec: &run_spec,
    };
    let mut status = StagedUpdateRunStatus::default();
    let result = initialize(&meta, &world(spec, scheduled), &mut status, &t0());
    let stages = status
        .stages_status
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            let clusters = s
                .clusters()
                .iter()
                .map(|c| c.cluster_name.clone())
                .collect();
            (s.stage_name, clusters)
        })
        .collect();
    let message = result.err().map(|_| {
        let conditions = status.conditions.unwrap_or_default();
        find_condition(&conditions, "Initialized")
            .map(|c| c.message.clone())
            .unwrap_or_default()
    });
    (stages, message)
}

fn browser(key: &str, spec: &StagedUpdateStrategySpec, scheduled: &[&str]) -> StrategyPreview {
    let members = fleet();
    let scheduled: BTreeSet<String> = scheduled.iter().map(|s| s.to_string()).collect();
    preview(
        key,
        spec,
        members.iter().map(ClusterLabels::from),
        &scheduled,
    )
}

fn stages_of(p: &StrategyPreview) -> Vec<(String, Vec<String>)> {
    p.stages
        .iter()
        .map(|s| (s.name.clone(), s.clusters.clone()))
        .collect()
}

fn cluster_spec(yaml: &str) -> StagedUpdateStrategySpec {
    serde_saphyr::from_str::<ClusterStagedUpdateStrategy>(yaml)
        .expect("seed strategy")
        .spec
}

#[test]
fn seed_strategies_preview_exactly_what_the_engine_initializes() {
    let seeds = [
        (None, "example-strategy", cluster_spec(SEED_000)),
        (None, "example-strategy", cluster_spec(SEED_002)),
        (
            Some("my-app-namespace"),
            "app-rollout-strategy",
            serde_saphyr::from_str::<StagedUpdateStrategy>(SEED_002_NAMESPACED)
                .expect("seed strategy")
                .spec,
        ),
    ];
    for (namespace, name, spec) in seeds {
        let key = crate::types::names::object_key(namespace, name);
        for scheduled in [
            &["member1", "member2", "member3"][..],
            &["member1", "member3"][..],
            &["member2"][..],
        ] {
            let (want, failed) = engine(namespace, name, &spec, scheduled);
            assert_eq!(failed, None, "{key} over {scheduled:?}");
            let got = browser(&key, &spec, scheduled);
            assert_eq!(stages_of(&got), want, "{key} over {scheduled:?}");
            assert!(got.plans() && got.unmatched.is_empty());
        }
    }
}

#[test]
fn seed_002_concurrency_gives_one_then_two_at_once() {
    let p = browser(
        "/example-strategy",
        &cluster_spec(SEED_002),
        &["member1", "member2", "member3"],
    );
    // 30% of one cluster rounds down to 0, and is at least 1 (spec §7.1).
    assert_eq!(p.stages[0].max_concurrency, Some(1));
    assert_eq!(p.stages[0].batches, vec![vec!["member2".to_string()]]);
    assert_eq!(p.stages[1].max_concurrency, Some(2));
    assert_eq!(
        p.stages[1].batches,
        vec![vec!["member3".to_string(), "member1".to_string()]]
    );
    let mut one_at_a_time = cluster_spec(SEED_002);
    one_at_a_time.stages[1].max_concurrency =
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(1));
    let p = browser(
        "/example-strategy",
        &one_at_a_time,
        &["member1", "member2", "member3"],
    );
    assert_eq!(p.stages[1].batches.len(), 2);
}

#[test]
fn unmatched_clusters_are_listed_with_the_engines_message_and_the_stages_still_show() {
    let spec = cluster_spec(SEED_002);
    let scheduled = ["member1", "member2", "member3", "member4"];
    let (_, failed) = engine(None, "example-strategy", &spec, &scheduled);
    let failed = failed.expect("initialization fails");
    let p = browser("/example-strategy", &spec, &scheduled);
    assert_eq!(p.unmatched, vec!["member4".to_string()]);
    let said = p.error.clone().expect("error");
    assert!(failed.ends_with(&said), "engine: {failed}\npreview: {said}");
    assert_eq!(
        stages_of(&p),
        vec![
            ("staging".to_string(), vec!["member2".to_string()]),
            (
                "canary".to_string(),
                vec!["member3".to_string(), "member1".to_string()]
            ),
        ]
    );
}

#[test]
fn planning_errors_name_their_stage_as_the_engine_does() {
    let mut spec = cluster_spec(SEED_002);
    let scheduled = ["member1", "member2", "member3"];
    // A key the text form cannot even write: only a hand-written object holds it.
    spec.stages[1].label_selector = Some(crate::types::label_selector::LabelSelector {
        match_labels: Some([("bad key".to_string(), "x".to_string())].into()),
        match_expressions: None,
    });
    let (_, failed) = engine(None, "example-strategy", &spec, &scheduled);
    let p = browser("/example-strategy", &spec, &scheduled);
    let said = p.error.clone().expect("error");
    assert!(failed.expect("fails").ends_with(&said));
    assert!(
        said.starts_with("the stage label selector is invalid"),
        "{said}"
    );
    assert_eq!(p.error_stage, Some(1));
    assert!(p.stages.is_empty());

    let mut unsorted = cluster_spec(SEED_002);
    unsorted.stages[0].sorting_label_key = Some("order".into());
    let p = browser("/example-strategy", &unsorted, &scheduled);
    assert_eq!(
        p.error.as_deref(),
        Some("the sorting label `order:` on cluster `member2` is not valid: strconv.Atoi: parsing \"\": invalid syntax")
    );
}

#[test]
fn an_invalid_max_concurrency_is_reported_on_its_stage() {
    let mut spec = cluster_spec(SEED_002);
    spec.stages[1].max_concurrency =
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String("abc".into()));
    let p = browser("/example-strategy", &spec, &["member1", "member3"]);
    assert_eq!(p.stages[1].max_concurrency, None);
    assert!(p.stages[1].concurrency_error.is_some());
    assert!(p.stages[1].batches.is_empty());
    assert!(!p.plans(), "the run would fail when the stage starts");
}

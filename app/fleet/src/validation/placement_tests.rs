use super::*;
use crate::placement::resource_placement::{
    PlacementPolicy, ReportBackDestination, ReportBackStrategy, ReportBackStrategyType,
    ResourceSelector, RolloutStrategy, SelectionScope, StatusReportingScope, Toleration,
    TolerationOperator,
};
use crate::{ClusterResourcePlacement, ResourcePlacement};

fn crp(policy: Option<PlacementPolicy>, strategy: RolloutStrategyType) -> ClusterResourcePlacement {
    ClusterResourcePlacement::new(
        "example-placement",
        PlacementSpec {
            resource_selectors: vec![ResourceSelector {
                group: "".into(),
                version: "v1".into(),
                kind: "Namespace".into(),
                name: Some("test-namespace".into()),
                ..Default::default()
            }],
            policy,
            strategy: Some(RolloutStrategy {
                type_: Some(strategy),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
}

fn policy(t: PlacementType) -> PlacementPolicy {
    PlacementPolicy {
        placement_type: Some(t),
        ..Default::default()
    }
}

fn messages(r: Result<(), Vec<FieldError>>) -> Vec<String> {
    r.err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn external_cannot_go_back_to_rolling_update() {
    let old = crp(None, RolloutStrategyType::External);
    let new = crp(None, RolloutStrategyType::RollingUpdate);
    assert_eq!(
        messages(validate_placement(Some(&old), &new)),
        ["spec.strategy: Invalid value: \"object\": cannot change rollout strategy type from 'External' to other types"]
    );
    // The other direction is allowed (spec §10.2).
    assert_eq!(validate_placement(Some(&new), &old), Ok(()));
}

#[test]
fn pick_n_and_pick_fixed_field_rules() {
    let ext = RolloutStrategyType::External;
    let cases: Vec<(PlacementPolicy, &[&str])> = vec![
        (policy(PlacementType::PickN), &["spec.policy.numberOfClusters: Invalid value: \"object\": numberOfClusters is required for PickN placement type"]),
        (PlacementPolicy { number_of_clusters: Some(2), ..policy(PlacementType::PickN) }, &[]),
        (PlacementPolicy { number_of_clusters: Some(-1), ..policy(PlacementType::PickN) }, &["spec.policy.numberOfClusters: Invalid value: -1: spec.policy.numberOfClusters in body should be greater than or equal to 0"]),
        (
            PlacementPolicy { cluster_names: Some(vec!["member1".into()]), number_of_clusters: Some(1), ..policy(PlacementType::PickN) },
            &["spec.policy.clusterNames: Invalid value: \"object\": clusterNames is only allowed for PickFixed placement type, current: PickN"],
        ),
        (PlacementPolicy { cluster_names: Some(vec!["member1".into()]), ..policy(PlacementType::PickFixed) }, &[]),
        (
            PlacementPolicy { number_of_clusters: Some(1), tolerations: Some(vec![Toleration { key: Some("k".into()), ..Default::default() }]), ..policy(PlacementType::PickFixed) },
            &[
                "spec.policy.numberOfClusters: Invalid value: \"object\": numberOfClusters is only allowed for PickN placement type, current: PickFixed",
                "spec.policy.tolerations: Invalid value: \"object\": tolerations is not allowed for PickFixed placement type",
            ],
        ),
        (
            PlacementPolicy { cluster_names: Some(vec!["m".into()]), ..policy(PlacementType::PickAll) },
            &["spec.policy.clusterNames: Invalid value: \"object\": clusterNames is only allowed for PickFixed placement type, current: PickAll"],
        ),
        (
            PlacementPolicy { cluster_names: Some(vec!["m".into(); 101]), ..policy(PlacementType::PickFixed) },
            &["spec.policy.clusterNames: Too many: 101: must have at most 100 items"],
        ),
    ];
    for (i, (p, want)) in cases.into_iter().enumerate() {
        assert_eq!(
            messages(validate_placement(None, &crp(Some(p), ext))),
            want,
            "case {i}"
        );
    }
}

#[test]
fn policy_cannot_be_removed_and_type_is_immutable() {
    let ext = RolloutStrategyType::External;
    let old = crp(Some(policy(PlacementType::PickAll)), ext);
    assert_eq!(
        messages(validate_placement(Some(&old), &crp(None, ext))),
        ["spec: Invalid value: \"object\": policy cannot be removed once set"]
    );
    let fixed = crp(
        Some(PlacementPolicy {
            cluster_names: Some(vec!["m".into()]),
            ..policy(PlacementType::PickFixed)
        }),
        ext,
    );
    assert_eq!(
        messages(validate_placement(Some(&old), &fixed)),
        ["spec.policy.placementType: Invalid value: \"string\": placement type is immutable"]
    );
}

#[test]
fn selectors_count_and_exclusivity_on_namespaced_twin() {
    let mut rp = ResourcePlacement::new_namespaced("ns", "rp", PlacementSpec::default());
    assert_eq!(
        messages(validate_placement(None, &rp)),
        ["spec.resourceSelectors: Invalid value: 0: spec.resourceSelectors in body should have at least 1 items"]
    );
    rp.spec.resource_selectors = vec![ResourceSelector {
        name: Some("web-app".into()),
        label_selector: Some(Default::default()),
        ..Default::default()
    }];
    assert_eq!(
        messages(validate_placement(None, &rp)),
        ["spec.resourceSelectors[0]: Invalid value: \"object\": the name field and the labelSelector field are mutually exclusive"]
    );
}

fn selector(kind: &str, name: Option<&str>, scope: Option<SelectionScope>) -> ResourceSelector {
    ResourceSelector {
        group: "".into(),
        version: "v1".into(),
        kind: kind.into(),
        name: name.map(Into::into),
        label_selector: name.is_none().then(Default::default),
        selection_scope: scope,
    }
}

#[test]
fn selection_scope_and_namespace_rules() {
    let scoped = Some(SelectionScope::NamespaceWithResourceSelectors);
    let cases: Vec<(Vec<ResourceSelector>, Option<StatusReportingScope>, &[&str])> = vec![
        (vec![selector("Namespace", Some("app"), scoped), selector("ConfigMap", Some("cm"), None)], None, &[]),
        (
            vec![selector("Namespace", None, scoped)],
            None,
            &["spec.resourceSelectors[0]: Invalid value: \"object\": a namespace selector with selectionScope NamespaceWithResourceSelectors must select the namespace by name"],
        ),
        (
            vec![selector("Namespace", Some("a"), scoped), selector("Namespace", Some("b"), None)],
            None,
            &["spec.resourceSelectors: Invalid value: \"array\": a namespace selector with selectionScope NamespaceWithResourceSelectors must be the only namespace selector"],
        ),
        // Other scopes allow several namespace selectors.
        (vec![selector("Namespace", Some("a"), None), selector("Namespace", Some("b"), Some(SelectionScope::NamespaceOnly))], None, &[]),
        (vec![selector("Namespace", Some("a"), None)], Some(StatusReportingScope::NamespaceAccessible), &[]),
        (
            vec![selector("Namespace", Some("a"), None), selector("Namespace", Some("b"), None)],
            Some(StatusReportingScope::NamespaceAccessible),
            &["spec: Invalid value: \"object\": statusReportingScope NamespaceAccessible requires exactly one Namespace selector"],
        ),
    ];
    for (i, (selectors, status_scope, want)) in cases.into_iter().enumerate() {
        let mut p = crp(None, RolloutStrategyType::RollingUpdate);
        p.spec.resource_selectors = selectors;
        p.spec.status_reporting_scope = status_scope;
        assert_eq!(messages(validate_placement(None, &p)), want, "case {i}");
    }
    // An RP selects namespaced resources only (spec §3.1).
    let mut rp = ResourcePlacement::new_namespaced("ns", "rp", PlacementSpec::default());
    rp.spec.resource_selectors = vec![
        selector("ConfigMap", Some("cm"), None),
        selector("Namespace", Some("ns"), None),
    ];
    assert_eq!(
        messages(validate_placement(None, &rp)),
        ["spec.resourceSelectors[1]: Invalid value: \"object\": a ResourcePlacement cannot select namespaces"]
    );
}

#[test]
fn toleration_and_report_back_rules() {
    let tol = |key: Option<&str>, op: Option<TolerationOperator>, value: Option<&str>| Toleration {
        key: key.map(Into::into),
        operator: op,
        value: value.map(Into::into),
        effect: None,
    };
    let cases: Vec<(Toleration, &[&str])> = vec![
        (tol(Some("k"), None, Some("v")), &[]),
        (tol(None, Some(TolerationOperator::Exists), None), &[]),
        (
            tol(Some("k"), Some(TolerationOperator::Exists), Some("v")),
            &["spec.policy.tolerations[0]: Invalid value: \"object\": value must be empty when `operator` is 'Exists'"],
        ),
        (
            tol(None, None, None),
            &["spec.policy.tolerations[0]: Invalid value: \"object\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""],
        ),
    ];
    for (i, (t, want)) in cases.into_iter().enumerate() {
        let p = crp(
            Some(PlacementPolicy {
                tolerations: Some(vec![t]),
                ..policy(PlacementType::PickAll)
            }),
            RolloutStrategyType::RollingUpdate,
        );
        assert_eq!(messages(validate_placement(None, &p)), want, "case {i}");
    }
    let mut p = crp(None, RolloutStrategyType::RollingUpdate);
    let strategy = p.spec.strategy.get_or_insert_with(Default::default);
    strategy.report_back_strategy = Some(ReportBackStrategy {
        type_: Some(ReportBackStrategyType::Mirror),
        destination: None,
    });
    assert_eq!(
        messages(validate_placement(None, &p)),
        ["spec.strategy.reportBackStrategy: Invalid value: \"object\": destination must be set when the report back strategy type is Mirror"]
    );
    if let Some(s) = p.spec.strategy.as_mut() {
        s.report_back_strategy = Some(ReportBackStrategy {
            type_: Some(ReportBackStrategyType::Mirror),
            destination: Some(ReportBackDestination::OriginalResource),
        });
    }
    assert_eq!(validate_placement(None, &p), Ok(()));
}

#[test]
fn policy_rules_render_as_cel_with_the_same_messages() {
    let rule = POLICY_RULES[0].cel();
    assert_eq!(rule["fieldPath"], ".clusterNames");
    assert_eq!(
        rule["messageExpression"],
        "'clusterNames is only allowed for PickFixed placement type, current: ' + (has(self.placementType) ? self.placementType : 'PickAll')"
    );
    let required = POLICY_RULES[1].cel();
    assert_eq!(
        required["message"],
        "numberOfClusters is required for PickN placement type"
    );
    assert_eq!(
        required["rule"],
        "(has(self.placementType) ? self.placementType : 'PickAll') != 'PickN' || has(self.numberOfClusters)"
    );
}

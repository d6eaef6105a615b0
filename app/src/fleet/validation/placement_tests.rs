use super::*;
use crate::fleet::placement::{PlacementPolicy, ResourceSelector, RolloutStrategy, Toleration};
use crate::fleet::{ClusterResourcePlacement, ResourcePlacement};

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
        (policy(PlacementType::PickN), &["spec.policy.numberOfClusters: Required value: numberOfClusters is required for PickN placement type"]),
        (PlacementPolicy { number_of_clusters: Some(2), ..policy(PlacementType::PickN) }, &[]),
        (PlacementPolicy { number_of_clusters: Some(-1), ..policy(PlacementType::PickN) }, &["spec.policy.numberOfClusters: Invalid value: -1: spec.policy.numberOfClusters in body should be greater than or equal to 0"]),
        (
            PlacementPolicy { cluster_names: Some(vec!["member1".into()]), number_of_clusters: Some(1), ..policy(PlacementType::PickN) },
            &["spec.policy.clusterNames: Forbidden: clusterNames is only allowed for PickFixed placement type, current: PickN"],
        ),
        (PlacementPolicy { cluster_names: Some(vec!["member1".into()]), ..policy(PlacementType::PickFixed) }, &[]),
        (
            PlacementPolicy { number_of_clusters: Some(1), tolerations: Some(vec![Toleration::default()]), ..policy(PlacementType::PickFixed) },
            &[
                "spec.policy.numberOfClusters: Forbidden: numberOfClusters is only allowed for PickN placement type, current: PickFixed",
                "spec.policy.tolerations: Forbidden: tolerations is not allowed for PickFixed placement type",
            ],
        ),
        (
            PlacementPolicy { cluster_names: Some(vec!["m".into()]), ..policy(PlacementType::PickAll) },
            &["spec.policy.clusterNames: Forbidden: clusterNames is only allowed for PickFixed placement type, current: PickAll"],
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

use serde_json::json;

use super::*;

fn member(name: &str, labels: &[(&str, &str)]) -> Candidate {
    Candidate {
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        joined: true,
        ..Candidate::default()
    }
}

fn fleet() -> Vec<Candidate> {
    vec![
        member("member3", &[("environment", "canary"), ("order", "1")]),
        member("member1", &[("environment", "canary"), ("order", "2")]),
        member("member2", &[("environment", "staging")]),
    ]
}

fn policy(json: serde_json::Value) -> PlacementPolicy {
    serde_json::from_value(json).expect("policy")
}

#[test]
fn the_snapshot_status_reports_at_most_a_thousand_decisions_picked_first() {
    let mut clusters: Vec<Candidate> = (0..1200)
        .map(|i| member(&format!("m{i:04}"), &[("env", "prod")]))
        .collect();
    clusters.push(member("other", &[("env", "dev")]));
    let p = policy(
        json!({"placementType": "PickAll", "affinity": {"clusterAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
            {"labelSelector": {"matchLabels": {"env": "prod"}}}]}}}}),
    );
    let s = schedule(Some(&p), &clusters).expect("schedule");
    assert_eq!(s.selected.len(), 1200);
    assert_eq!(s.decisions.len(), 1201);
    let reported = s.status_decisions();
    assert_eq!(reported.len(), MAX_STATUS_DECISIONS);
    assert!(reported.iter().all(|d| d.selected));
    assert_eq!(reported[0].cluster_name, "m0000");
}

#[test]
fn pick_all_takes_every_joined_cluster_in_name_order() {
    let mut clusters = fleet();
    clusters.push(Candidate {
        joined: false,
        ..member("member4", &[])
    });
    let s = schedule(None, &clusters).expect("schedule");
    assert_eq!(s.selected, ["member1", "member2", "member3"]);
    assert!(s.fulfilled);
    assert_eq!(
        s.decisions[0].reason.as_deref(),
        Some("Successfully scheduled resources for placement in \"member1\" (affinity score: 0, topology spread score: 0): picked by scheduling policy")
    );
    assert!(!s.decisions[3].selected);
}

#[test]
fn required_affinity_filters_clusters() {
    let p = policy(
        json!({"placementType": "PickAll", "affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
        {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"environment": "canary"}}}]}}}}),
    );
    assert_eq!(
        schedule(Some(&p), &fleet()).expect("schedule").selected,
        ["member1", "member3"]
    );
}

#[test]
fn pick_n_prefers_higher_scores_and_reports_shortfall() {
    let p = policy(
        json!({"placementType": "PickN", "numberOfClusters": 2, "affinity": {"clusterAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {"labelSelector": {"matchLabels": {"environment": "staging"}}}}]}}}),
    );
    let s = schedule(Some(&p), &fleet()).expect("schedule");
    // member1 and member3 tie at 0: the higher name wins (placement-extras §3.4).
    assert_eq!(s.selected, ["member2", "member3"]);
    assert!(s.fulfilled);
    let too_many = policy(json!({"placementType": "PickN", "numberOfClusters": 5}));
    assert!(
        !schedule(Some(&too_many), &fleet())
            .expect("schedule")
            .fulfilled
    );
}

#[test]
fn pick_fixed_takes_the_named_clusters_and_flags_missing_ones() {
    let p = policy(json!({"placementType": "PickFixed", "clusterNames": ["member2", "ghost"]}));
    let s = schedule(Some(&p), &fleet()).expect("schedule");
    assert_eq!(s.selected, ["member2"]);
    assert!(!s.fulfilled);
    assert_eq!(
        s.decisions[1].reason.as_deref(),
        Some("Specified cluster \"ghost\" is not found")
    );
}

#[test]
fn taints_need_tolerations() {
    let mut clusters = fleet();
    clusters[2].taints = vec![serde_json::from_value(
        json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}),
    )
    .expect("taint")];
    assert_eq!(
        schedule(None, &clusters).expect("schedule").selected,
        ["member1", "member3"]
    );
    let p =
        policy(json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu"}]}));
    assert_eq!(
        schedule(Some(&p), &clusters).expect("schedule").selected,
        ["member1", "member2", "member3"]
    );
}

#[test]
fn property_selectors_compare_numbers() {
    let mut clusters = fleet();
    clusters[0]
        .properties
        .insert("kubernetes-fleet.io/node-count".into(), "5".into());
    clusters[1]
        .properties
        .insert("kubernetes-fleet.io/node-count".into(), "3".into());
    let p = policy(
        json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms":
        [{"propertySelector": {"matchExpressions": [{"name": "kubernetes-fleet.io/node-count", "operator": "Ge", "values": ["4"]}]}}]}}}}),
    );
    assert_eq!(
        schedule(Some(&p), &clusters).expect("schedule").selected,
        ["member3"]
    );
}

#[test]
fn binding_changes_create_unschedule_restore_and_repoint() {
    let b = |name: &str, cluster: &str, state, prev, snap: &str| ExistingBinding {
        name: name.into(),
        cluster: cluster.into(),
        state,
        previous_state: prev,
        policy_snapshot: Some(snap.into()),
    };
    let existing = vec![
        b("b1", "member1", BindingState::Bound, None, "p-0"),
        b(
            "b2",
            "member2",
            BindingState::Unscheduled,
            Some(BindingState::Bound),
            "p-0",
        ),
        b("b4", "member4", BindingState::Scheduled, None, "p-1"),
    ];
    let changes = binding_changes(
        &["member1".into(), "member2".into(), "member3".into()],
        &existing,
        "p-1",
    );
    assert_eq!(changes.create, ["member3"]);
    assert_eq!(changes.restore, [("b2".to_string(), BindingState::Bound)]);
    assert_eq!(changes.repoint, ["b1"]);
    assert_eq!(
        changes.unschedule,
        [("b4".to_string(), BindingState::Scheduled)]
    );
}

/// The pairwise definition the linear version must agree with.
fn binding_changes_reference(
    selected: &[String],
    existing: &[ExistingBinding],
    policy_snapshot: &str,
) -> BindingChanges {
    let mut changes = BindingChanges::default();
    for cluster in selected {
        match existing.iter().find(|b| &b.cluster == cluster) {
            None => changes.create.push(cluster.clone()),
            Some(b) if b.state == BindingState::Unscheduled => changes.restore.push((
                b.name.clone(),
                b.previous_state.unwrap_or(BindingState::Scheduled),
            )),
            Some(b) if b.policy_snapshot.as_deref() != Some(policy_snapshot) => {
                changes.repoint.push(b.name.clone())
            }
            Some(_) => {}
        }
    }
    for b in existing {
        if b.state != BindingState::Unscheduled && !selected.contains(&b.cluster) {
            changes.unschedule.push((b.name.clone(), b.state));
        }
    }
    changes
}

proptest::proptest! {
    #[test]
    fn binding_changes_agree_with_the_pairwise_definition(
        selected in proptest::collection::vec(0u8..12, 0..12),
        existing in proptest::collection::vec((0u8..12, 0u8..3, 0u8..3, proptest::bool::ANY), 0..16),
    ) {
        let state = |n: u8| match n {
            0 => BindingState::Scheduled,
            1 => BindingState::Bound,
            _ => BindingState::Unscheduled,
        };
        let selected: Vec<String> = selected.iter().map(|c| format!("m{c}")).collect();
        let existing: Vec<ExistingBinding> = existing
            .iter()
            .enumerate()
            .map(|(i, (cluster, st, prev, latest))| ExistingBinding {
                name: format!("b{i}"),
                cluster: format!("m{cluster}"),
                state: state(*st),
                previous_state: (*prev < 2).then(|| state(*prev)),
                policy_snapshot: Some(if *latest { "p-1" } else { "p-0" }.into()),
            })
            .collect();
        proptest::prop_assert_eq!(
            binding_changes(&selected, &existing, "p-1"),
            binding_changes_reference(&selected, &existing, "p-1")
        );
    }
}

fn reasons(s: &Schedule) -> Vec<(String, bool, Option<i32>, String)> {
    s.decisions
        .iter()
        .map(|d| {
            (
                d.cluster_name.clone(),
                d.selected,
                d.cluster_score.as_ref().and_then(|c| c.affinity_score),
                d.reason.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// placement-extras §3.4, upstream's own example: PickN N=1 with no preferences over
/// kind-cluster-1..3 picks kind-cluster-3; the others follow in the same (descending) order.
#[test]
fn equal_scores_pick_the_highest_name_first() {
    let clusters: Vec<Candidate> = (1..=3)
        .map(|i| member(&format!("kind-cluster-{i}"), &[]))
        .collect();
    let p = policy(json!({"placementType": "PickN", "numberOfClusters": 1}));
    let s = schedule(Some(&p), &clusters).expect("schedule");
    assert_eq!(s.selected, ["kind-cluster-3"]);
    assert!(s.fulfilled);
    let not_picked = |c: &str| {
        (
            c.to_string(),
            false,
            Some(0),
            format!("Cluster \"{c}\" does not score high enough (affinity score: 0, topology spread score: 0)"),
        )
    };
    assert_eq!(
        reasons(&s),
        [
            (
                "kind-cluster-3".to_string(),
                true,
                Some(0),
                "Successfully scheduled resources for placement in \"kind-cluster-3\" (affinity score: 0, topology spread score: 0): picked by scheduling policy".to_string()
            ),
            not_picked("kind-cluster-2"),
            not_picked("kind-cluster-1"),
        ]
    );
}

/// placement-extras §3.3–§3.4: summed preferred weights rank first, name descending breaks
/// ties; filtered clusters come last, by name, with the framework's `ClusterUnschedulable` text.
#[test]
fn pick_n_orders_by_score_then_name_descending_and_lists_filtered_clusters_last() {
    let mut clusters = vec![
        member("a", &[("zone", "x"), ("tier", "gold")]),
        member("b", &[("zone", "x")]),
        member("c", &[("zone", "x"), ("tier", "gold")]),
        member("d", &[("zone", "x")]),
        member("e", &[("zone", "y"), ("tier", "gold")]),
        member("f", &[("zone", "x")]),
    ];
    clusters[5].taints =
        vec![
            serde_json::from_value(json!({"key": "dedicated", "effect": "NoSchedule"}))
                .expect("taint"),
        ];
    let p = policy(
        json!({"placementType": "PickN", "numberOfClusters": 3, "affinity": {"clusterAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
            {"labelSelector": {"matchLabels": {"zone": "x"}}}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 20, "preference": {"labelSelector": {"matchLabels": {"tier": "gold"}}}},
            {"weight": 5, "preference": {"labelSelector": {"matchLabels": {"zone": "x"}}}}]}}}),
    );
    let s = schedule(Some(&p), &clusters).expect("schedule");
    assert_eq!(s.selected, ["c", "a", "d"]);
    assert!(s.fulfilled);
    let got = reasons(&s);
    let order: Vec<(&str, bool, Option<i32>)> = got
        .iter()
        .map(|(c, sel, score, _)| (c.as_str(), *sel, *score))
        .collect();
    assert_eq!(
        order,
        [
            ("c", true, Some(25)),
            ("a", true, Some(25)),
            ("d", true, Some(5)),
            ("b", false, Some(5)),
            ("e", false, None),
            ("f", false, None),
        ]
    );
    assert_eq!(
        got[3].3,
        "Cluster \"b\" does not score high enough (affinity score: 5, topology spread score: 0)"
    );
    assert_eq!(
        got[4].3,
        "ClusterUnschedulable, cluster does not match with any of the required cluster affinity terms"
    );
    assert_eq!(
        got[5].3,
        "ClusterUnschedulable, taint &{Key:dedicated Value: Effect:NoSchedule} cannot be tolerated"
    );
}

/// placement-extras §3.6: fewer fitting clusters than N picks every fitting one (best first),
/// reports the policy unfulfilled, and lists no not-picked decision.
#[test]
fn fewer_fitting_clusters_than_n_take_all_that_fit_and_are_unfulfilled() {
    let p = policy(
        json!({"placementType": "PickN", "numberOfClusters": 5, "affinity": {"clusterAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
            {"labelSelector": {"matchLabels": {"environment": "canary"}}}]}}}}),
    );
    let s = schedule(Some(&p), &fleet()).expect("schedule");
    assert_eq!(s.selected, ["member3", "member1"]);
    assert!(!s.fulfilled);
    assert_eq!(
        reasons(&s)
            .into_iter()
            .filter(|d| !d.1)
            .map(|d| (d.0, d.3))
            .collect::<Vec<_>>(),
        [(
            "member2".to_string(),
            "ClusterUnschedulable, cluster does not match with any of the required cluster affinity terms".to_string()
        )]
    );
    // N = 0 asks for nothing and gets it.
    let zero = policy(json!({"placementType": "PickN", "numberOfClusters": 0}));
    let s = schedule(Some(&zero), &fleet()).expect("schedule");
    assert!(s.selected.is_empty());
    assert!(s.fulfilled);
}

/// placement-extras §3.2: a toleration with an effect tolerates only taints of that effect; an
/// empty one tolerates every effect.
#[test]
fn a_toleration_without_effect_matches_any_effect() {
    let taint: Taint =
        serde_json::from_value(json!({"key": "k", "value": "v", "effect": "NoSchedule"}))
            .expect("taint");
    let toleration =
        |t: serde_json::Value| -> Toleration { serde_json::from_value(t).expect("toleration") };
    assert!(tolerates(
        &toleration(json!({"key": "k", "operator": "Equal", "value": "v"})),
        &taint
    ));
    assert!(tolerates(
        &toleration(json!({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"})),
        &taint
    ));
    assert!(!tolerates(
        &toleration(json!({"key": "k", "operator": "Equal", "value": "w"})),
        &taint
    ));
    assert!(tolerates(
        &toleration(json!({"operator": "Exists"})),
        &taint
    ));
}

/// placement-extras §3.3: a property sorter scales the weight by the cluster's place between the
/// fleet's lowest and highest value — Descending favours high values, Ascending low ones — with
/// Go's rounding; a cluster not reporting the property counts as 0; equal values score 0.
#[test]
fn a_property_sorter_scales_the_weight_between_the_fleets_extremes() {
    let with = |name: &str, nodes: Option<&str>| {
        let mut c = member(name, &[]);
        if let Some(n) = nodes {
            c.properties
                .insert("kubernetes-fleet.io/node-count".into(), n.into());
        }
        c
    };
    let clusters = vec![
        with("a", Some("2")),
        with("b", Some("4")),
        with("c", Some("10")),
        with("d", None),
    ];
    let sorted = |order: &str| {
        policy(
            json!({"placementType": "PickN", "numberOfClusters": 4, "affinity": {"clusterAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {
                "propertySorter": {"name": "kubernetes-fleet.io/node-count", "sortOrder": order}}}]}}}),
        )
    };
    let scores = |p: &PlacementPolicy| -> Vec<(String, Option<i32>)> {
        schedule(Some(p), &clusters)
            .expect("schedule")
            .decisions
            .iter()
            .map(|d| {
                (
                    d.cluster_name.clone(),
                    d.cluster_score.as_ref().and_then(|s| s.affinity_score),
                )
            })
            .collect()
    };
    // (v − 2) / 8 · 10: a 0, b 2.5 → 3, c 10, d (0 − 2) / 8 · 10 = −2.5 → −3.
    assert_eq!(
        scores(&sorted("Descending")),
        [
            ("c".to_string(), Some(10)),
            ("b".to_string(), Some(3)),
            ("a".to_string(), Some(0)),
            ("d".to_string(), Some(-3)),
        ]
    );
    // (1 − (v − 2) / 8) · 10: a 10, b 7.5 → 8, c 0, d 12.5 → 13.
    assert_eq!(
        scores(&sorted("Ascending")),
        [
            ("d".to_string(), Some(13)),
            ("a".to_string(), Some(10)),
            ("b".to_string(), Some(8)),
            ("c".to_string(), Some(0)),
        ]
    );
    let same = vec![with("a", Some("3")), with("b", Some("3"))];
    let s = schedule(Some(&sorted("Descending")), &same).expect("schedule");
    assert!(s
        .decisions
        .iter()
        .all(|d| d.cluster_score.as_ref().and_then(|c| c.affinity_score) == Some(0)));
}

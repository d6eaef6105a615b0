use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::placement::snapshot::ClusterDecision;
use crate::types::condition::find_condition;

fn owner() -> PlacementRef {
    PlacementRef {
        api_version: "placement.kubernetes-fleet.io/v1beta1".into(),
        kind: "ClusterResourcePlacement".into(),
        name: "crp".into(),
        namespace: None,
        uid: "u".into(),
    }
}

fn pick_n(n: i32) -> PlacementPolicy {
    PlacementPolicy {
        placement_type: Some(PlacementType::PickN),
        number_of_clusters: Some(n),
        ..PlacementPolicy::default()
    }
}

fn pick_fixed(names: &[&str]) -> PlacementPolicy {
    PlacementPolicy {
        placement_type: Some(PlacementType::PickFixed),
        cluster_names: Some(names.iter().map(|n| n.to_string()).collect()),
        ..PlacementPolicy::default()
    }
}

fn snapshot(
    name: &str,
    index: Option<u64>,
    is_latest: bool,
    policy: Option<&PlacementPolicy>,
) -> ExistingPolicySnapshot {
    ExistingPolicySnapshot {
        name: name.into(),
        index,
        is_latest,
        policy_hash: policy_hash(policy).expect("hashes"),
        number_of_clusters: number_of_clusters(policy),
    }
}

fn t(s: &str) -> Time {
    Time(s.parse().expect("valid timestamp"))
}

#[test]
fn base64_is_rfc_4648_with_padding() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
        ("\u{ff}\u{fe}", "w7/Dvg=="),
    ];
    for (input, want) in cases {
        assert_eq!(base64(input.as_bytes()), want, "{input:?}");
    }
}

#[test]
fn the_hash_is_base64_of_the_hex_digest_and_ignores_number_of_clusters() {
    // sha256(`[null]`) and sha256(`[{"placementType":"PickN"}]`), hex, then base64.
    let cases = [
        (None, "MWQ4ZmM2Y2ViMWY5NGM2MzI2ZDZkNTQ4M2QyNThmY2IyZTE3OWU5ODY5MzI1YjI0NWQxMDVjMjIxOWJmNjlmZA=="),
        (Some(pick_n(3)), "ZjgzNjE0MWZjZGFlYjRiZGYyNWY4ZWU1NGQ3ZDdlZTg3Mzk3YmU0ZDdiODVhYmQyODUwODdhZmRlZmE0YzFlYg=="),
        (Some(pick_n(7)), "ZjgzNjE0MWZjZGFlYjRiZGYyNWY4ZWU1NGQ3ZDdlZTg3Mzk3YmU0ZDdiODVhYmQyODUwODdhZmRlZmE0YzFlYg=="),
    ];
    for (policy, want) in cases {
        assert_eq!(
            policy_hash(policy.as_ref()).expect("hashes"),
            want,
            "{policy:?}"
        );
    }
    assert_ne!(
        policy_hash(Some(&pick_fixed(&["a"]))),
        policy_hash(Some(&pick_fixed(&["b"])))
    );
}

#[test]
fn only_pick_n_has_a_number_of_clusters() {
    let mut fixed = pick_fixed(&["a"]);
    fixed.number_of_clusters = Some(2);
    let cases = [
        (None, None),
        (Some(pick_n(0)), Some("0")),
        (Some(pick_n(4)), Some("4")),
        (Some(fixed), None),
    ];
    for (policy, want) in cases {
        assert_eq!(
            number_of_clusters(policy.as_ref()).as_deref(),
            want,
            "{policy:?}"
        );
    }
}

#[test]
fn the_first_snapshot_is_index_0_labelled_latest_and_owned() {
    let policy = pick_n(2);
    let plan = plan(&owner(), Some(&policy), &[]).expect("plans");
    let PolicySnapshotPlan::Create {
        unmark_latest,
        snapshot,
    } = plan
    else {
        panic!("expected a new snapshot, got {plan:?}");
    };
    assert!(unmark_latest.is_empty());
    assert_eq!(snapshot.index, 0);
    let object = snapshot.to_object::<crate::types::kind::ClusterSchedulingPolicySnapshot>();
    assert_eq!(
        serde_json::to_value(&object).expect("serializes"),
        json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
            "kind": "ClusterSchedulingPolicySnapshot",
            "metadata": {
                "name": "crp-0",
                "labels": {
                    PARENT_PLACEMENT_LABEL: "crp",
                    POLICY_INDEX_LABEL: "0",
                    IS_LATEST_SNAPSHOT_LABEL: "true",
                },
                "annotations": {NUMBER_OF_CLUSTERS_ANNOTATION: "2"},
                "ownerReferences": [{
                    "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
                    "kind": "ClusterResourcePlacement",
                    "name": "crp",
                    "uid": "u",
                    "controller": true,
                    "blockOwnerDeletion": true,
                }],
            },
            "spec": {
                "policy": {"placementType": "PickN", "numberOfClusters": 2},
                "policyHash": policy_hash(Some(&policy)).expect("hashes"),
            },
        })
    );
}

#[test]
fn a_policy_snapshot_is_kept_created_or_refused_by_the_latest_one() {
    let a = pick_fixed(&["a"]);
    let b = pick_fixed(&["b"]);
    let n3 = pick_n(3);
    let n5 = pick_n(5);
    /// The snapshot's name, the names unmarked, the number-of-clusters patch (Keep unmarks none).
    type Planned = (
        &'static str,
        Vec<&'static str>,
        Option<Option<&'static str>>,
    );
    struct Case {
        what: &'static str,
        existing: Vec<ExistingPolicySnapshot>,
        policy: PlacementPolicy,
        want: Result<Planned, PolicySnapshotError>,
    }
    let cases = [
        Case {
            what: "same hash: keep, nothing to write",
            existing: vec![snapshot("crp-0", Some(0), true, Some(&a))],
            policy: a.clone(),
            want: Ok(("crp-0", vec![], None)),
        },
        Case {
            what: "only N changed: keep and patch the annotation",
            existing: vec![snapshot("crp-0", Some(0), true, Some(&n3))],
            policy: n5.clone(),
            want: Ok(("crp-0", vec![], Some(Some("5")))),
        },
        Case {
            what: "annotation missing on a PickN snapshot: set it",
            existing: vec![ExistingPolicySnapshot {
                number_of_clusters: None,
                ..snapshot("crp-0", Some(0), true, Some(&n3))
            }],
            policy: n3.clone(),
            want: Ok(("crp-0", vec![], Some(Some("3")))),
        },
        Case {
            what: "new hash: next index, every latest unmarked",
            existing: vec![
                snapshot("crp-0", Some(0), false, Some(&a)),
                snapshot("crp-1", Some(1), true, Some(&a)),
                snapshot("crp-x", Some(0), true, Some(&a)),
            ],
            policy: b.clone(),
            want: Ok(("crp-2", vec!["crp-1", "crp-x"], None)),
        },
        Case {
            what: "a labelled latest wins over a higher unlabelled index",
            existing: vec![
                snapshot("crp-1", Some(1), true, Some(&b)),
                snapshot("crp-4", Some(4), false, Some(&a)),
            ],
            policy: b.clone(),
            want: Ok(("crp-1", vec![], None)),
        },
        Case {
            what: "none labelled latest (crash window): the highest index is the latest",
            existing: vec![
                snapshot("crp-0", Some(0), false, Some(&b)),
                snapshot("crp-3", Some(3), false, Some(&a)),
            ],
            policy: a.clone(),
            want: Ok(("crp-3", vec![], None)),
        },
        Case {
            what: "none labelled latest and the policy changed: after the highest index",
            existing: vec![snapshot("crp-3", Some(3), false, Some(&a))],
            policy: b.clone(),
            want: Ok(("crp-4", vec![], None)),
        },
        Case {
            what: "the latest has no index: no guess",
            existing: vec![snapshot("crp-odd", None, true, Some(&a))],
            policy: b.clone(),
            want: Err(PolicySnapshotError::NoIndex("crp-odd".into())),
        },
    ];
    for case in cases {
        let got = plan(&owner(), Some(&case.policy), &case.existing).map(|p| {
            let name = p.name().to_string();
            match p {
                PolicySnapshotPlan::Keep {
                    number_of_clusters, ..
                } => (
                    name,
                    vec![],
                    number_of_clusters.map(|patch| {
                        patch.annotations.expect("annotations")[NUMBER_OF_CLUSTERS_ANNOTATION]
                            .clone()
                    }),
                ),
                PolicySnapshotPlan::Create {
                    unmark_latest,
                    snapshot,
                } => {
                    assert_eq!(
                        snapshot.spec.policy_hash,
                        policy_hash(Some(&case.policy)).expect("hashes"),
                        "{}",
                        case.what
                    );
                    (name, unmark_latest, None)
                }
            }
        });
        let want = case.want.map(|(name, unmarked, patch)| {
            (
                name.to_string(),
                unmarked.into_iter().map(String::from).collect::<Vec<_>>(),
                patch.map(|p| p.map(String::from)),
            )
        });
        assert_eq!(got, want, "{}", case.what);
    }
}

#[test]
fn dropping_pick_n_removes_the_annotation() {
    // Same hash, no count: a stale annotation is removed (sent as null).
    let mut existing = snapshot("crp-0", Some(0), true, None);
    existing.number_of_clusters = Some("2".into());
    let plan = plan(&owner(), None, &[existing]).expect("plans");
    assert_eq!(
        plan,
        PolicySnapshotPlan::Keep {
            name: "crp-0".into(),
            number_of_clusters: Some(MetadataPatch::annotation(
                NUMBER_OF_CLUSTERS_ANNOTATION,
                None
            )),
        }
    );
}

fn schedule(selected: usize, rejected: usize, fulfilled: bool) -> Schedule {
    let decision = |i: usize, selected: bool| ClusterDecision {
        cluster_name: format!("m{i}"),
        selected,
        ..ClusterDecision::default()
    };
    Schedule {
        selected: (0..selected).map(|i| format!("m{i}")).collect(),
        decisions: (0..selected)
            .map(|i| decision(i, true))
            .chain((selected..selected + rejected).map(|i| decision(i, false)))
            .collect(),
        fulfilled,
    }
}

#[test]
fn scheduled_is_true_only_when_the_policy_is_fulfilled() {
    let now = t("2026-01-01T00:00:00Z");
    let cases = [
        (
            true,
            TRUE,
            "SchedulingPolicyFulfilled",
            "found all cluster needed as specified by the scheduling policy, found 3 cluster(s)",
        ),
        (
            false,
            FALSE,
            "SchedulingPolicyUnfulfilled",
            "could not find all clusters needed as specified by the scheduling policy, found 3 cluster(s) instead",
        ),
    ];
    for (fulfilled, status, reason, message) in cases {
        let c = scheduled_condition(fulfilled, 3, 4, &now);
        assert_eq!(
            (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_str(),
                c.message.as_str()
            ),
            ("Scheduled", status, reason, message)
        );
        assert_eq!(c.observed_generation, Some(4));
    }
}

#[test]
fn the_status_is_written_once_and_caps_target_clusters_at_1000() {
    let now = t("2026-01-01T00:00:00Z");
    let later = t("2026-01-01T00:05:00Z");
    let big = schedule(900, 300, false);
    let status = scheduled_status(None, 1, 7, &big, &now).expect("a first status");
    assert_eq!(status.observed_crp_generation, Some(7));
    let targets = status.target_clusters.clone().expect("target clusters");
    assert_eq!(targets.len(), 1000);
    assert!(targets[..900].iter().all(|d| d.selected), "picked first");
    // Unchanged: nothing to write, whatever the clock says.
    assert_eq!(scheduled_status(Some(&status), 1, 7, &big, &later), None);
    // A new placement generation is written; the condition keeps its transition time.
    let next = scheduled_status(Some(&status), 1, 8, &big, &later).expect("generation moved");
    let scheduled = |s: &SchedulingPolicySnapshotStatus| {
        find_condition(s.conditions.as_deref().unwrap_or_default(), "Scheduled")
            .cloned()
            .expect("Scheduled")
    };
    assert_eq!(scheduled(&next).last_transition_time, now);
    // Fulfilled now: the condition flips and its time moves; other conditions stay.
    let mut with_other = next.clone();
    with_other
        .conditions
        .get_or_insert_with(Vec::new)
        .push(new_condition("Other", TRUE, "R", "m", 1, &now));
    let small = schedule(2, 0, true);
    let flipped = scheduled_status(Some(&with_other), 1, 8, &small, &later).expect("flips");
    assert_eq!(scheduled(&flipped).status, TRUE);
    assert_eq!(scheduled(&flipped).last_transition_time, later);
    assert!(find_condition(flipped.conditions.as_deref().unwrap_or_default(), "Other").is_some());
    assert_eq!(flipped.target_clusters.map(|t| t.len()), Some(2));
    // An empty schedule still reports an (empty) list.
    let empty = scheduled_status(None, 1, 1, &schedule(0, 0, true), &now).expect("status");
    assert_eq!(empty.target_clusters, Some(vec![]));
}

/// Carries out a plan on the snapshots as a hub would.
fn apply(existing: &mut Vec<ExistingPolicySnapshot>, plan: &PolicySnapshotPlan) {
    match plan {
        PolicySnapshotPlan::Keep {
            name,
            number_of_clusters: Some(patch),
        } => {
            let value = patch.annotations.as_ref().expect("annotations")
                [NUMBER_OF_CLUSTERS_ANNOTATION]
                .clone();
            for s in existing.iter_mut().filter(|s| &s.name == name) {
                s.number_of_clusters = value.clone();
            }
        }
        PolicySnapshotPlan::Keep { .. } => {}
        PolicySnapshotPlan::Create {
            unmark_latest,
            snapshot,
        } => {
            for s in existing
                .iter_mut()
                .filter(|s| unmark_latest.contains(&s.name))
            {
                s.is_latest = false;
            }
            existing.push(ExistingPolicySnapshot {
                name: snapshot.name.clone(),
                index: Some(snapshot.index),
                is_latest: true,
                policy_hash: snapshot.spec.policy_hash.clone(),
                number_of_clusters: snapshot
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(NUMBER_OF_CLUSTERS_ANNOTATION).cloned()),
            });
        }
    }
}

fn policy_strategy() -> impl Strategy<Value = Option<PlacementPolicy>> {
    prop_oneof![
        Just(None),
        (0i32..4).prop_map(|n| Some(pick_n(n))),
        (0u8..3).prop_map(|i| Some(pick_fixed(&[["a", "b", "c"][i as usize]]))),
    ]
}

proptest! {
    /// Whatever sequence of policies a placement goes through, exactly one snapshot is the
    /// latest afterwards, it holds the last policy, indexes only grow, and planning again is a
    /// no-op.
    #[test]
    fn one_latest_snapshot_holds_the_last_policy(
        policies in proptest::collection::vec(policy_strategy(), 1..12)
    ) {
        let mut existing = Vec::new();
        let mut last_index = None;
        for policy in &policies {
            let p = plan(&owner(), policy.as_ref(), &existing).expect("plans");
            apply(&mut existing, &p);
            let latest: Vec<_> = existing.iter().filter(|s| s.is_latest).collect();
            prop_assert_eq!(latest.len(), 1);
            prop_assert_eq!(&latest[0].name, p.name());
            prop_assert_eq!(&latest[0].policy_hash, &policy_hash(policy.as_ref()).expect("hashes"));
            prop_assert_eq!(&latest[0].number_of_clusters, &number_of_clusters(policy.as_ref()));
            prop_assert!(latest[0].index >= last_index);
            last_index = latest[0].index;
            let again = plan(&owner(), policy.as_ref(), &existing).expect("plans");
            prop_assert_eq!(
                again,
                PolicySnapshotPlan::Keep { name: p.name().to_string(), number_of_clusters: None }
            );
        }
    }
}

use serde_json::{json, Value};

use super::*;
use crate::apply::compare::spec_hash;
use crate::placement::resource_placement::ServerSideApplyConfig;

const RECORD: &str = "crp-p";

fn cm(value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "ns"}, "data": {"key": value}})
}

/// `object` as the member holds it: server fields, and the label of `owner` if any.
fn on_member(object: Value, owner: Option<&str>) -> Value {
    let mut v = object;
    v["metadata"]["uid"] = json!("u-1");
    v["metadata"]["resourceVersion"] = json!("3");
    if let Some(owner) = owner {
        v["metadata"]["labels"] = json!({OWNER_LABEL: owner});
    }
    v
}

/// What the agent leaves on the member after applying `manifest`.
fn applied(manifest: &Value) -> Value {
    on_member(prepared(manifest, RECORD), None)
}

fn strategy(edit: impl FnOnce(&mut ApplyStrategy)) -> ApplyStrategy {
    let mut s = ApplyStrategy::default();
    edit(&mut s);
    s
}

fn reason(d: &Decision) -> &'static str {
    match d {
        Decision::Refuse(f) => f.reason,
        Decision::Report(r) => r.reason(),
        Decision::Create => "create",
        Decision::Apply(_) => "apply",
    }
}

#[test]
fn an_absent_object_is_created_whatever_the_takeover_rule() {
    for when in [
        WhenToTakeOver::Always,
        WhenToTakeOver::IfNoDiff,
        WhenToTakeOver::Never,
    ] {
        let s = strategy(|s| s.when_to_take_over = Some(when));
        assert_eq!(decide(Some(&s), &cm("a"), None, RECORD), Decision::Create);
    }
}

#[test]
fn takeover_always_applies_over_a_pre_existing_object() {
    let live = on_member(cm("member"), None);
    assert_eq!(
        decide(None, &cm("hub"), Some(&live), RECORD),
        Decision::Apply(ApplyOp::Replace)
    );
}

#[test]
fn takeover_never_leaves_a_pre_existing_object_alone_and_says_so() {
    let s = strategy(|s| s.when_to_take_over = Some(WhenToTakeOver::Never));
    let live = on_member(cm("hub"), None);
    let Decision::Refuse(f) = decide(Some(&s), &cm("hub"), Some(&live), RECORD) else {
        panic!("not refused");
    };
    assert_eq!(f.reason, "NotTakenOver");
    assert_eq!(
        f.message(),
        "Failed to apply the manifest (error: no ownership of the object in the member cluster; takeover is needed)"
    );
    // Its own objects it keeps applying.
    let ours = on_member(cm("old"), Some(RECORD));
    assert_eq!(
        decide(Some(&s), &cm("hub"), Some(&ours), RECORD),
        Decision::Apply(ApplyOp::Replace)
    );
}

#[test]
fn takeover_if_no_diff_takes_over_only_an_equal_object() {
    let s = strategy(|s| s.when_to_take_over = Some(WhenToTakeOver::IfNoDiff));
    let equal = on_member(cm("hub"), None);
    assert_eq!(
        decide(Some(&s), &cm("hub"), Some(&equal), RECORD),
        Decision::Apply(ApplyOp::Replace)
    );
    let differs = on_member(cm("member"), None);
    let Decision::Refuse(f) = decide(Some(&s), &cm("hub"), Some(&differs), RECORD) else {
        panic!("not refused");
    };
    assert_eq!(f.reason, "FailedToTakeOver");
    assert_eq!(f.error, "cannot take over object: configuration differences are found between the manifest object and the corresponding object in the member cluster");
    assert_eq!(
        f.diffs,
        vec![PatchDetail {
            path: "/data/key".into(),
            value_in_member: Some("member".into()),
            value_in_hub: Some("hub".into()),
        }]
    );
}

#[test]
fn if_no_diff_with_partial_comparison_ignores_fields_only_the_member_has() {
    let mut s = strategy(|s| s.when_to_take_over = Some(WhenToTakeOver::IfNoDiff));
    let mut extra = on_member(cm("hub"), None);
    extra["data"]["more"] = json!("m");
    assert_eq!(
        reason(&decide(Some(&s), &cm("hub"), Some(&extra), RECORD)),
        "apply"
    );
    s.comparison_option = Some(ComparisonOption::FullComparison);
    assert_eq!(
        reason(&decide(Some(&s), &cm("hub"), Some(&extra), RECORD)),
        "FailedToTakeOver"
    );
}

#[test]
fn objects_of_other_owners_or_placements_are_not_taken_over() {
    let mut owned = on_member(cm("hub"), None);
    owned["metadata"]["ownerReferences"] =
        json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u-9"}]);
    let Decision::Refuse(f) = decide(None, &cm("hub"), Some(&owned), RECORD) else {
        panic!("not refused");
    };
    assert_eq!(f.error, "failed to take over a pre-existing object: the object is already owned by some other sources(s) and co-ownership is disallowed (existingOwnerRefs: [{APIVersion:apps/v1 Kind:ReplicaSet Name:rs UID:u-9}])");
    let s = strategy(|s| s.allow_co_ownership = Some(true));
    assert_eq!(
        reason(&decide(Some(&s), &cm("hub"), Some(&owned), RECORD)),
        "apply"
    );

    let other = on_member(cm("hub"), Some("crp-other"));
    let Decision::Refuse(f) = decide(Some(&s), &cm("hub"), Some(&other), RECORD) else {
        panic!("not refused");
    };
    assert_eq!(f.reason, "FailedToTakeOver");
    assert_eq!(f.error, "failed to take over a pre-existing object: the object is already owned by another Fleet AppliedWork object");
}

#[test]
fn report_diff_writes_nothing_and_reports_the_differences() {
    let s = strategy(|s| s.type_ = Some(ApplyStrategyType::ReportDiff));
    let Decision::Report(absent) = decide(Some(&s), &cm("hub"), None, RECORD) else {
        panic!("not a report");
    };
    assert_eq!(absent.reason(), "FoundDiff");
    assert_eq!(absent.generation, None);
    assert_eq!(absent.diffs[0].path, "/");
    assert_eq!(
        absent.diffs[0].value_in_hub.as_deref(),
        Some("(the whole object)")
    );

    let mut live = on_member(cm("member"), Some(RECORD));
    live["metadata"]["generation"] = json!(4);
    let Decision::Report(r) = decide(Some(&s), &cm("hub"), Some(&live), RECORD) else {
        panic!("not a report");
    };
    assert_eq!(
        (r.reason(), r.generation, r.diffs.len()),
        ("FoundDiff", Some(4), 1)
    );

    // Takeover rules do not stop the report: `Never` still diffs an object not ours.
    let s = strategy(|s| {
        s.type_ = Some(ApplyStrategyType::ReportDiff);
        s.when_to_take_over = Some(WhenToTakeOver::Never);
    });
    let same = on_member(cm("hub"), None);
    let Decision::Report(r) = decide(Some(&s), &cm("hub"), Some(&same), RECORD) else {
        panic!("not a report");
    };
    assert_eq!(r.reason(), "NoDiffFound");
    assert_eq!(
        r.message(),
        "No diff has been found between the hub cluster and the member cluster"
    );
}

#[test]
fn if_not_drifted_refuses_while_the_member_edited_what_was_applied() {
    let s = strategy(|s| s.when_to_apply = Some(WhenToApply::IfNotDrifted));
    let mut drifted = applied(&cm("hub"));
    drifted["data"]["key"] = json!("edited");
    let Decision::Refuse(f) = decide(Some(&s), &cm("hub"), Some(&drifted), RECORD) else {
        panic!("not refused");
    };
    assert_eq!(f.reason, "FoundDrifts");
    assert_eq!(f.message(), "Failed to apply the manifest (error: cannot apply manifest: drifts are found between the manifest and the object from the member cluster)");
    assert_eq!(f.drifts[0].path, "/data/key");
    assert_eq!(f.drifts[0].value_in_member.as_deref(), Some("edited"));

    // Undrifted, it applies; a new hub manifest overwrites the drift; `Always` ignores drifts.
    assert_eq!(
        reason(&decide(
            Some(&s),
            &cm("hub"),
            Some(&applied(&cm("hub"))),
            RECORD
        )),
        "apply"
    );
    assert_eq!(
        reason(&decide(Some(&s), &cm("hub-v2"), Some(&drifted), RECORD)),
        "apply"
    );
    assert_eq!(
        reason(&decide(None, &cm("hub"), Some(&drifted), RECORD)),
        "apply"
    );
}

#[test]
fn server_side_apply_forces_when_asked_or_when_only_the_agent_manages_the_object() {
    let ssa = |force: Option<bool>| {
        strategy(|s| {
            s.type_ = Some(ApplyStrategyType::ServerSideApply);
            s.server_side_apply_config = force.map(|f| ServerSideApplyConfig { force: Some(f) });
        })
    };
    let mut live = on_member(cm("member"), Some(RECORD));
    live["metadata"]["managedFields"] =
        json!([{"manager": "kubectl"}, {"manager": WORK_FIELD_MANAGER}]);
    assert_eq!(
        decide(Some(&ssa(Some(true))), &cm("hub"), Some(&live), RECORD),
        Decision::Apply(ApplyOp::ServerSide { force: true })
    );
    assert_eq!(
        decide(Some(&ssa(None)), &cm("hub"), Some(&live), RECORD),
        Decision::Apply(ApplyOp::ServerSide { force: false })
    );
    live["metadata"]["managedFields"] =
        json!([{"manager": "before-first-apply"}, {"manager": WORK_FIELD_MANAGER}]);
    assert_eq!(
        decide(Some(&ssa(Some(false))), &cm("hub"), Some(&live), RECORD),
        Decision::Apply(ApplyOp::ServerSide { force: true })
    );
}

#[test]
fn full_comparison_reports_post_apply_drifts_and_partial_none() {
    let full = strategy(|s| s.comparison_option = Some(ComparisonOption::FullComparison));
    let mut live = applied(&cm("hub"));
    live["data"]["added"] = json!("by member");
    let drifts = post_apply_drifts(Some(&full), &cm("hub"), &live);
    assert_eq!(drifts.len(), 1);
    assert_eq!(drifts[0].path, "/data/added");
    assert!(post_apply_drifts(None, &cm("hub"), &live).is_empty());
}

#[test]
fn the_written_object_carries_its_owner_and_spec_hash() {
    let p = prepared(&cm("hub"), RECORD);
    assert_eq!(p["metadata"]["labels"][OWNER_LABEL], RECORD);
    assert_eq!(
        p["metadata"]["annotations"][SPEC_HASH_ANNOTATION],
        spec_hash(&cm("hub"))
    );
    assert_eq!(Ownership::of(Some(&p), RECORD), Ownership::Ours);
}

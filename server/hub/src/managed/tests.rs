use serde_json::{json, Value};

use super::*;

const NOW: &str = "2026-12-07T10:00:00Z";
const LATER: &str = "2026-12-07T11:00:00Z";

fn writer(manager: &str) -> Writer {
    Writer {
        manager: manager.into(),
        api_version: "v1".into(),
        status: false,
    }
}

const MAIN: Scope = Scope {
    status: false,
    has_status_subresource: false,
};

fn cm(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "default"}, "data": data})
}

fn fields(obj: &Value) -> Vec<(String, String, Value)> {
    obj["metadata"]["managedFields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["manager"].as_str().unwrap_or("").to_string(),
                        e["operation"].as_str().unwrap_or("").to_string(),
                        e["fieldsV1"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn apply_as(
    live: Option<&Value>,
    config: &Value,
    m: &str,
    force: bool,
) -> Result<Value, Conflicts> {
    apply(
        live,
        config,
        Shape::root(None),
        &writer(m),
        force,
        MAIN,
        NOW,
    )
}

#[test]
fn create_records_an_update_entry_with_the_real_encoding() {
    let mut obj = cm(json!({"key": "v"}));
    obj["metadata"]["uid"] = json!("u");
    update(
        None,
        &mut obj,
        Shape::root(None),
        &writer("kubectl-create"),
        MAIN,
        NOW,
    );
    assert_eq!(
        obj["metadata"]["managedFields"],
        json!([{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
            "time": NOW, "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:key": {}}}}])
    );
}

#[test]
fn an_update_takes_changed_fields_from_other_managers_and_keeps_its_time_when_idle() {
    let mut obj = cm(json!({"a": "1", "b": "2"}));
    update(
        None,
        &mut obj,
        Shape::root(None),
        &writer("first"),
        MAIN,
        NOW,
    );
    let mut next = obj.clone();
    next["data"]["a"] = json!("changed");
    update(
        Some(&obj),
        &mut next,
        Shape::root(None),
        &writer("second"),
        MAIN,
        LATER,
    );
    assert_eq!(
        fields(&next),
        vec![
            (
                "first".into(),
                "Update".into(),
                json!({"f:data": {".": {}, "f:b": {}}})
            ),
            (
                "second".into(),
                "Update".into(),
                json!({"f:data": {"f:a": {}}})
            ),
        ]
    );
    // A write that changes nothing leaves every entry, times included, as it was.
    let mut same = next.clone();
    update(
        Some(&next),
        &mut same,
        Shape::root(None),
        &writer("third"),
        MAIN,
        "2030-01-01T00:00:00Z",
    );
    assert_eq!(same, next);
}

#[test]
fn apply_conflicts_with_another_owner_of_a_changed_field_and_force_moves_it() {
    let a = apply_as(None, &cm(json!({"key": "a", "other": "x"})), "a", false).unwrap();
    assert_eq!(
        fields(&a),
        vec![(
            "a".into(),
            "Apply".into(),
            json!({"f:data": {"f:key": {}, "f:other": {}}})
        )]
    );
    let err = apply_as(Some(&a), &cm(json!({"key": "b"})), "b", false).unwrap_err();
    assert_eq!(
        err.message(),
        "Apply failed with 1 conflict: conflict with \"a\": .data.key"
    );
    assert_eq!(
        err.causes(),
        vec![Cause::new(
            "FieldManagerConflict",
            ".data.key",
            "conflict with \"a\""
        )]
    );
    // The same value is shared ownership, not a conflict.
    let shared = apply_as(Some(&a), &cm(json!({"key": "a"})), "b", false).unwrap();
    assert_eq!(fields(&shared).len(), 2);
    let forced = apply_as(Some(&a), &cm(json!({"key": "b"})), "b", true).unwrap();
    assert_eq!(forced["data"], json!({"key": "b", "other": "x"}));
    assert_eq!(
        fields(&forced),
        vec![
            (
                "a".into(),
                "Apply".into(),
                json!({"f:data": {"f:other": {}}})
            ),
            ("b".into(), "Apply".into(), json!({"f:data": {"f:key": {}}})),
        ]
    );
}

#[test]
fn conflicts_with_update_managers_name_the_version_and_several_are_listed() {
    let mut obj = cm(json!({"x": "1", "y": "1"}));
    update(
        None,
        &mut obj,
        Shape::root(None),
        &writer("kubectl-client-side-apply"),
        MAIN,
        NOW,
    );
    let err = apply_as(
        Some(&obj),
        &cm(json!({"x": "2", "y": "2"})),
        "kubectl",
        false,
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "Apply failed with 2 conflicts: conflicts with \"kubectl-client-side-apply\" using v1:\n- .data.x\n- .data.y"
    );
}

#[test]
fn a_field_dropped_from_the_next_apply_is_removed_unless_someone_else_owns_it() {
    let first = apply_as(
        None,
        &cm(json!({"keep": "1", "drop": "1", "shared": "s"})),
        "a",
        false,
    )
    .unwrap();
    let both = apply_as(Some(&first), &cm(json!({"shared": "s"})), "b", false).unwrap();
    let next = apply_as(Some(&both), &cm(json!({"keep": "1"})), "a", false).unwrap();
    assert_eq!(next["data"], json!({"keep": "1", "shared": "s"}));
    // b's apply changed nothing, so its entry has no time and sorts first (upstream order).
    assert_eq!(
        fields(&next),
        vec![
            (
                "b".into(),
                "Apply".into(),
                json!({"f:data": {"f:shared": {}}})
            ),
            (
                "a".into(),
                "Apply".into(),
                json!({"f:data": {"f:keep": {}}})
            ),
        ]
    );
}

#[test]
fn the_first_apply_to_an_unmanaged_object_sees_its_fields_owned_by_before_first_apply() {
    let old = cm(json!({"key": "old"}));
    let err = apply_as(Some(&old), &cm(json!({"key": "new"})), "a", false).unwrap_err();
    assert_eq!(
        err.message(),
        "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.key"
    );
}

#[test]
fn status_writes_own_only_status_with_the_subresource_named() {
    let schema = json!({"type": "object", "properties": {"status": {"type": "object",
        "properties": {"conditions": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["type"]}}}}});
    let shape = Shape::root(Some(&schema));
    let status_scope = Scope {
        status: true,
        has_status_subresource: true,
    };
    let mut w = writer("agent");
    w.status = true;
    let live = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"},
        "spec": {"a": 1}, "status": {"conditions": [{"type": "A", "status": "True"}]}});
    let config = json!({"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"},
        "spec": {"a": 2}, "status": {"conditions": [{"type": "B", "status": "True"}]}});
    let out = apply(Some(&live), &config, shape, &w, true, status_scope, NOW).unwrap();
    assert_eq!(
        out["status"]["conditions"].as_array().map(Vec::len),
        Some(2)
    );
    let entry = &out["metadata"]["managedFields"][0];
    assert_eq!(
        (&entry["manager"], &entry["subresource"]),
        (&json!("agent"), &json!("status"))
    );
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:status": {"f:conditions": {"k:{\"type\":\"B\"}": {".": {}, "f:status": {}, "f:type": {}}}}})
    );
}

#[test]
fn managers_come_from_the_user_agent_and_are_validated() {
    assert_eq!(
        manager_from_user_agent("kubectl/v1.32.0 (linux/amd64)"),
        "kubectl"
    );
    assert_eq!(manager_from_user_agent(""), "");
    assert_eq!(manager_from_user_agent(&"x".repeat(300)).len(), 128);
    assert!(validate_manager(&"x".repeat(128)).is_empty());
    assert_eq!(
        validate_manager(&"x".repeat(129))[0].message,
        "Too long: may not be more than 128 bytes"
    );
}

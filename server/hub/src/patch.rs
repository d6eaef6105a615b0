//! PATCH bodies: JSON merge patch, JSON patch (RFC 6902, via `json-patch`) and the subset of
//! strategic merge patch the built-in kinds need (spec §3.6).

use serde_json::{Map, Value};

use crate::status::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    /// Server-side apply, simplified to a merge patch (spec §3.6 lists the divergences).
    Apply,
}

const ACCEPTED: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

impl PatchType {
    pub fn from_content_type(ct: &str) -> Result<PatchType> {
        let essence = ct.split(';').next().unwrap_or("").trim();
        match essence {
            "application/merge-patch+json" => Ok(PatchType::Merge),
            "application/json-patch+json" => Ok(PatchType::Json),
            "application/strategic-merge-patch+json" => Ok(PatchType::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(PatchType::Apply),
            _ => Err(Error::UnsupportedMediaType(ACCEPTED.into())),
        }
    }
}

/// Applies a patch to `target`. `strategic_ok` is false for custom kinds, which answer 415 to
/// strategic merge patch like a real apiserver (spec §0, §8.7).
pub fn apply(pt: PatchType, target: &Value, patch: &Value, strategic_ok: bool) -> Result<Value> {
    let mut doc = target.clone();
    match pt {
        PatchType::Merge | PatchType::Apply => {
            if !patch.is_object() {
                return Err(Error::BadRequest(
                    "a merge patch must be a JSON object".into(),
                ));
            }
            json_patch::merge(&mut doc, patch);
        }
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| Error::BadRequest(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut doc, &ops).map_err(|e| {
                Error::UnprocessablePatch(format!(
                    "the server rejected our request due to an error in our request: {e}"
                ))
            })?;
        }
        PatchType::Strategic => {
            if !strategic_ok {
                return Err(Error::UnsupportedMediaType(ACCEPTED.into()));
            }
            let Some(p) = patch.as_object() else {
                return Err(Error::BadRequest(
                    "a strategic merge patch must be a JSON object".into(),
                ));
            };
            strategic_map(&mut doc, p, None);
        }
    }
    Ok(doc)
}

/// patchMergeKey of the list fields kubectl patches on built-ins; every other list is replaced.
fn merge_key(field: &str, items: &[Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => Some("name"),
        "volumeMounts" | "volumeDevices" => Some("mountPath"),
        "ownerReferences" => Some("uid"),
        "conditions" => Some("type"),
        "hostAliases" => Some("ip"),
        // Container ports merge by containerPort, Service ports by port.
        "ports" if items.iter().any(|i| i.get("containerPort").is_some()) => Some("containerPort"),
        "ports" => Some("port"),
        _ => None,
    }
}

/// Lists of scalars that merge as sets.
fn is_set_list(field: &str) -> bool {
    field == "finalizers"
}

fn strategic_map(target: &mut Value, patch: &Map<String, Value>, _field: Option<&str>) {
    if patch.get("$patch").and_then(Value::as_str) == Some("replace") {
        let mut replaced = patch.clone();
        replaced.remove("$patch");
        *target = Value::Object(replaced);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return;
    };
    let mut retain: Option<Vec<String>> = None;
    for (k, pv) in patch {
        if k.starts_with("$setElementOrder/") || k == "$patch" {
            continue;
        }
        if k == "$retainKeys" {
            retain = pv.as_array().map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            });
            continue;
        }
        if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(cur)), Some(del)) = (t.get_mut(list), pv.as_array()) {
                cur.retain(|v| !del.contains(v));
            }
            continue;
        }
        match pv {
            Value::Null => {
                t.remove(k);
            }
            Value::Object(pm) => {
                if pm.get("$patch").and_then(Value::as_str) == Some("delete") {
                    t.remove(k);
                } else {
                    strategic_map(t.entry(k.clone()).or_insert(Value::Null), pm, Some(k));
                }
            }
            Value::Array(items) => {
                let merged = match t.get(k) {
                    Some(Value::Array(cur)) => strategic_list(k, cur, items),
                    _ => strip_directives(items),
                };
                t.insert(k.clone(), Value::Array(merged));
            }
            _ => {
                t.insert(k.clone(), pv.clone());
            }
        }
    }
    if let Some(keep) = retain {
        t.retain(|k, _| keep.contains(k));
    }
}

fn strip_directives(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .filter(|i| i.get("$patch").is_none())
        .map(|i| match i {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| !k.starts_with('$'))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            v => v.clone(),
        })
        .collect()
}

fn strategic_list(field: &str, cur: &[Value], items: &[Value]) -> Vec<Value> {
    if is_set_list(field) {
        let mut out = cur.to_vec();
        // Directives (`{"$patch": …}`) are not members of a set of scalars.
        for i in &strip_directives(items) {
            if !out.contains(i) {
                out.push(i.clone());
            }
        }
        return out;
    }
    let Some(key) = merge_key(field, items) else {
        return strip_directives(items);
    };
    let mut out = cur.to_vec();
    for item in items {
        let Some(im) = item.as_object() else { continue };
        let id = im.get(key);
        let pos = id.and_then(|id| out.iter().position(|o| o.get(key) == Some(id)));
        match (im.get("$patch").and_then(Value::as_str), pos) {
            (Some("delete"), Some(p)) => {
                out.remove(p);
            }
            (Some("delete"), None) => {}
            (_, Some(p)) => strategic_map(&mut out[p], im, Some(field)),
            (_, None) => out.extend(strip_directives(std::slice::from_ref(item))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name_and_ignores_set_element_order() {
        let dep = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "nginx", "image": "nginx:1.20", "ports": [{"containerPort": 80}]},
            {"name": "side", "image": "busybox"}]}}}});
        let p = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "nginx"}, {"name": "side"}],
            "containers": [{"image": "nginx:1.21", "name": "nginx"}]}}}});
        let out = apply(PatchType::Strategic, &dep, &p, true).unwrap();
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs[0]["image"], "nginx:1.21");
        assert_eq!(
            cs[0]["ports"][0]["containerPort"], 80,
            "untouched fields kept"
        );
        assert_eq!(cs[1]["name"], "side", "other elements kept");
    }

    #[test]
    fn strategic_maps_delete_and_replace() {
        let cm = json!({"data": {"a": "1", "b": "2"}, "metadata": {"finalizers": ["x"]}});
        let p = json!({"data": {"a": null, "c": "3"}, "metadata": {"finalizers": ["y"]}});
        let out = apply(PatchType::Strategic, &cm, &p, true).unwrap();
        assert_eq!(out["data"], json!({"b": "2", "c": "3"}));
        assert_eq!(out["metadata"]["finalizers"], json!(["x", "y"]));
        let p = json!({"data": {"$patch": "replace", "z": "9"}});
        assert_eq!(
            apply(PatchType::Strategic, &cm, &p, true).unwrap()["data"],
            json!({"z": "9"})
        );
        let p = json!({"spec": {"ports": [{"port": 80, "$patch": "delete"}]}});
        let svc = json!({"spec": {"ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            apply(PatchType::Strategic, &svc, &p, true).unwrap()["spec"]["ports"],
            json!([{"port": 443}])
        );
    }

    #[test]
    fn strategic_on_custom_kind_is_415() {
        let e = apply(PatchType::Strategic, &json!({}), &json!({}), false).unwrap_err();
        assert_eq!(e.code().as_u16(), 415);
    }

    #[test]
    fn merge_replaces_lists_and_json_patch_applies() {
        let o = json!({"status": {"conditions": [{"type": "A"}, {"type": "B"}]}});
        let p = json!({"status": {"conditions": [{"type": "C"}]}});
        assert_eq!(
            apply(PatchType::Merge, &o, &p, false).unwrap()["status"]["conditions"],
            json!([{"type": "C"}])
        );
        let jp = json!([{"op": "replace", "path": "/status/conditions/0/type", "value": "Z"}]);
        assert_eq!(
            apply(PatchType::Json, &o, &jp, false).unwrap()["status"]["conditions"][0]["type"],
            "Z"
        );
        let bad = json!([{"op": "remove", "path": "/nope"}]);
        assert_eq!(
            apply(PatchType::Json, &o, &bad, false)
                .unwrap_err()
                .code()
                .as_u16(),
            422
        );
        assert_eq!(
            apply(PatchType::Json, &o, &json!({"x": 1}), false)
                .unwrap_err()
                .code()
                .as_u16(),
            400
        );
    }
}

/// Property tests (issue 21): the patch engines never panic, refuse what is not a patch, and a
/// merge patch computed between two documents turns the first into the second.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::*;

    /// Keys drawn from a small set so that documents and patches overlap, plus the strategic
    /// directives and merge-key list names the engine treats specially.
    fn key(special: bool) -> BoxedStrategy<String> {
        let plain =
            prop::sample::select(vec!["a", "b", "c", "data", "spec", "metadata", "x.y/z", ""]);
        if special {
            prop_oneof![
                3 => plain.prop_map(String::from),
                1 => prop::sample::select(vec![
                    "$patch", "$retainKeys", "$setElementOrder/containers",
                    "$deleteFromPrimitiveList/finalizers", "containers", "ports", "finalizers",
                    "conditions", "env", "volumeMounts",
                ])
                .prop_map(String::from),
            ]
            .boxed()
        } else {
            plain.prop_map(String::from).boxed()
        }
    }

    /// Any JSON value; `nulls` says whether object members may be null (a merge patch cannot
    /// express a document holding null members: null there means delete).
    fn json(special: bool, nulls: bool) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop::sample::select(vec!["", "x", "name", "delete", "replace", "merge"])
                .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(special), inner), 0..5).prop_map(move |kv| {
                    Value::Object(
                        kv.into_iter()
                            .filter(|(_, v)| nulls || !v.is_null())
                            .collect::<Map<String, Value>>(),
                    )
                }),
            ]
        })
    }

    fn object(special: bool, nulls: bool) -> impl Strategy<Value = Value> {
        prop::collection::vec((key(special), json(special, nulls)), 0..5).prop_map(move |kv| {
            Value::Object(
                kv.into_iter()
                    .filter(|(_, v)| nulls || !v.is_null())
                    .collect(),
            )
        })
    }

    /// RFC 7386's patch from `from` to `to` (objects): removed members become null, objects on
    /// both sides recurse, anything else is replaced.
    fn merge_diff(from: &Map<String, Value>, to: &Map<String, Value>) -> Value {
        let mut patch = Map::new();
        for k in from.keys() {
            if !to.contains_key(k) {
                patch.insert(k.clone(), Value::Null);
            }
        }
        for (k, v) in to {
            match (from.get(k), v) {
                (Some(a), b) if a == b => {}
                (Some(Value::Object(a)), Value::Object(b)) => {
                    patch.insert(k.clone(), merge_diff(a, b));
                }
                // A new object member is merged into nothing (null members already dropped).
                _ => {
                    patch.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Object(patch)
    }

    /// Strips null members recursively, which is what merging an object into nothing does.
    fn without_nulls(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), without_nulls(v)))
                    .collect(),
            ),
            v => v.clone(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn a_computed_merge_patch_turns_one_document_into_the_other(
            from in object(false, false),
            to in object(false, false),
        ) {
            let (Value::Object(f), Value::Object(t)) = (&from, &to) else { unreachable!() };
            let patch = merge_diff(f, t);
            prop_assert_eq!(&apply(PatchType::Merge, &from, &patch, false).unwrap(), &to);
            // Server-side apply is served as a merge patch (spec §3.6).
            prop_assert_eq!(&apply(PatchType::Apply, &from, &patch, false).unwrap(), &to);
            // Without lists or directives, strategic merge is a merge patch too.
            prop_assert_eq!(&apply(PatchType::Strategic, &from, &patch, true).unwrap(), &to);
            // Applying it again changes nothing.
            prop_assert_eq!(&apply(PatchType::Merge, &to, &patch, false).unwrap(), &to);
        }

        #[test]
        fn merge_and_strategic_agree_on_plain_documents(
            target in json(false, true),
            patch in object(false, true),
        ) {
            let merged = apply(PatchType::Merge, &target, &patch, false).unwrap();
            let strategic = apply(PatchType::Strategic, &target, &patch, true).unwrap();
            // RFC 7386 keeps nulls inside replaced arrays and new values; so does strategic.
            prop_assert_eq!(&without_nulls(&merged), &without_nulls(&strategic));
        }

        #[test]
        fn no_patch_panics_and_non_objects_are_refused(
            target in json(true, true),
            patch in json(true, true),
            strategic_ok in any::<bool>(),
        ) {
            for pt in [PatchType::Merge, PatchType::Json, PatchType::Strategic, PatchType::Apply] {
                let r = apply(pt, &target, &patch, strategic_ok);
                if let Err(e) = &r {
                    prop_assert!((400..500).contains(&e.code().as_u16()), "{pt:?}: {e}");
                }
                let refused = match pt {
                    PatchType::Merge | PatchType::Apply => !patch.is_object(),
                    PatchType::Strategic => !patch.is_object() || !strategic_ok,
                    PatchType::Json => !patch.is_array(),
                };
                if refused {
                    prop_assert!(r.is_err(), "{pt:?} accepted {patch}");
                }
            }
        }

        #[test]
        fn json_patch_ops_on_arbitrary_paths_fail_cleanly_or_apply(
            target in object(true, true),
            op in prop::sample::select(vec!["add", "remove", "replace", "move", "copy", "test", "bogus"]),
            path in prop::collection::vec(prop::sample::select(vec!["a", "b", "0", "1", "-", "~0", "~1", "~2", "", "data"]), 0..4),
            from in prop::collection::vec(prop::sample::select(vec!["a", "b", "0", "-", ""]), 0..3),
            value in json(true, true),
        ) {
            let pointer = |p: &[&str]| p.iter().map(|s| format!("/{s}")).collect::<String>();
            let patch = json!([{"op": op, "path": pointer(&path), "from": pointer(&from), "value": value.clone()}]);
            match apply(PatchType::Json, &target, &patch, false) {
                Ok(out) => {
                    // The patch did what it says where it is checkable.
                    if op == "add" || op == "replace" {
                        if let Some(p) = path.last().filter(|p| !["-", "~2"].contains(p)) {
                            let parent = pointer(&path[..path.len() - 1]);
                            let key = p.replace("~1", "/").replace("~0", "~");
                            let parent = out.pointer(&parent);
                            if let Some(Value::Object(m)) = parent {
                                prop_assert_eq!(m.get(&key), Some(&value));
                            }
                        }
                    }
                    if op == "test" {
                        prop_assert_eq!(&out, &target, "test changes nothing");
                    }
                }
                Err(e) => prop_assert!([400, 422].contains(&e.code().as_u16()), "{e}"),
            }
        }

        #[test]
        fn strategic_list_merge_keeps_other_elements_and_updates_by_key(
            names in prop::collection::btree_set("[a-d]", 1..4),
            pick in any::<prop::sample::Index>(),
            image in "[a-z]{1,5}",
        ) {
            let names: Vec<String> = names.into_iter().collect();
            let containers: Vec<Value> = names.iter().map(|n| json!({"name": n, "image": "old", "keep": n})).collect();
            let target = json!({"spec": {"containers": containers}});
            let name = pick.get(&names);
            let patch = json!({"spec": {"containers": [{"name": name, "image": image}]}});
            let out = apply(PatchType::Strategic, &target, &patch, true).unwrap();
            let got = out["spec"]["containers"].as_array().unwrap();
            prop_assert_eq!(got.len(), names.len());
            for (c, n) in got.iter().zip(&names) {
                prop_assert_eq!(&c["name"], &json!(n), "order kept");
                prop_assert_eq!(&c["keep"], &json!(n), "untouched fields kept");
                let want = if n == name { json!(image) } else { json!("old") };
                prop_assert_eq!(&c["image"], &want);
            }
        }
    }
}

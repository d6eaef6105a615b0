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
        for i in items {
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

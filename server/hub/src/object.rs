//! Typed access to the `metadata` of objects kept as `serde_json::Value`, so unknown fields survive.

use serde_json::{Map, Value};

use crate::registry::NameRule;

pub fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

/// `metadata`, created as `{}` if absent or not an object.
pub fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    let map = obj.as_object_mut().expect("just made an object");
    let m = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !m.is_object() {
        *m = Value::Object(Map::new());
    }
    m.as_object_mut().expect("just made an object")
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    meta(obj).and_then(|m| m.get(field)).and_then(Value::as_str)
}

pub fn name(obj: &Value) -> &str {
    meta_str(obj, "name").unwrap_or("")
}

pub fn namespace(obj: &Value) -> &str {
    meta_str(obj, "namespace").unwrap_or("")
}

pub fn uid(obj: &Value) -> &str {
    meta_str(obj, "uid").unwrap_or("")
}

pub fn labels(obj: &Value) -> Option<&Map<String, Value>> {
    meta(obj)
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
}

pub fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn is_deleting(obj: &Value) -> bool {
    meta(obj)
        .and_then(|m| m.get("deletionTimestamp"))
        .is_some_and(|v| !v.is_null())
}

/// Owner uids from `metadata.ownerReferences`.
pub fn owner_uids(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Follows a dotted path (`spec.replicas`).
pub fn get_path<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |v, seg| v.get(seg.as_str()))
}

pub fn set_path(obj: &mut Value, path: &[String], value: Value) {
    let mut cur = obj;
    for seg in path {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = cur
            .as_object_mut()
            .expect("object")
            .entry(seg.clone())
            .or_insert(Value::Null);
    }
    *cur = value;
}

/// RFC 3339 UTC with second precision, as the apiserver renders metav1.Time.
pub fn now_timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// DNS-1123 checks with kube-apiserver's messages (apimachinery validation.IsDNS1123*).
pub fn validate_name(name: &str, rule: NameRule) -> Option<String> {
    let (max, label) = match rule {
        NameRule::Subdomain => (253, false),
        NameRule::Label => (63, true),
    };
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.chars().all(|c| alnum(c) || c == '-')
            && p.chars().next().is_some_and(alnum)
            && p.chars().last().is_some_and(alnum)
    };
    let ok = if label {
        part_ok(name)
    } else {
        name.split('.').all(part_ok)
    };
    if name.len() > max {
        return Some(format!("must be no more than {max} characters"));
    }
    if ok {
        return None;
    }
    Some(if label {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".into()
    } else {
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(validate_name("a-b.c", NameRule::Subdomain).is_none());
        assert!(validate_name("a-b.c", NameRule::Label).is_some());
        assert!(validate_name("Upper", NameRule::Subdomain).is_some());
        assert!(validate_name("-x", NameRule::Label).is_some());
        assert!(validate_name("x-", NameRule::Subdomain).is_some());
        assert!(validate_name(&"a".repeat(64), NameRule::Label).is_some());
        assert!(validate_name("a..b", NameRule::Subdomain).is_some());
    }
}

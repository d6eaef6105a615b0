//! `meta.k8s.io/v1` Table output from printer columns, as the CRD table convertor builds it
//! (spec §3.3): column 0 is Name with format "name", dates become server-rendered ages.

use serde_json::{json, Value};

use crate::registry::{CellSource, KindSpec, PrinterColumn};

/// What `rows[].object` holds: PartialObjectMetadata by default, the object for includeObject=Object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Include {
    Metadata,
    Object,
    None,
}

impl Include {
    pub fn from_query(v: Option<&str>) -> Include {
        match v {
            Some("Object") => Include::Object,
            Some("None") => Include::None,
            _ => Include::Metadata,
        }
    }
}

fn columns(kind: &KindSpec) -> Vec<PrinterColumn> {
    let mut cols = vec![PrinterColumn::new("Name", "string", ".metadata.name")
        .format("name")
        .description("Name must be unique within a namespace.")];
    if kind.printer_columns.is_empty() {
        cols.push(PrinterColumn::age());
    } else {
        cols.extend(kind.printer_columns.iter().cloned());
    }
    cols
}

pub fn partial_metadata(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
           "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({}))})
}

/// A Table of `objs`; `with_columns` false omits the column definitions (watch events after the first).
pub fn table(
    kind: &KindSpec,
    objs: &[&Value],
    rv: u64,
    include: Include,
    with_columns: bool,
) -> Value {
    let cols = columns(kind);
    let now = chrono::Utc::now();
    let defs: Vec<Value> = cols
        .iter()
        .map(|c| json!({"name": c.name, "type": c.type_, "format": c.format, "description": c.description, "priority": c.priority}))
        .collect();
    let rows: Vec<Value> = objs
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols.iter().map(|c| cell(c, o, now)).collect();
            let mut row = json!({"cells": cells});
            match include {
                Include::Metadata => row["object"] = partial_metadata(o),
                Include::Object => row["object"] = (*o).clone(),
                Include::None => {}
            }
            row
        })
        .collect();
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": rv.to_string()},
           "columnDefinitions": if with_columns { defs } else { vec![] }, "rows": rows})
}

fn cell(col: &PrinterColumn, obj: &Value, now: chrono::DateTime<chrono::Utc>) -> Value {
    let found = match &col.source {
        CellSource::Computed(f) => return f(obj),
        CellSource::JsonPath(p) => eval(p, obj),
    };
    if found.is_empty() {
        return Value::Null;
    }
    match col.type_.as_str() {
        "date" => match found[0]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        {
            Some(t) => Value::String(human_duration(now.signed_duration_since(t).num_seconds())),
            None => Value::Null,
        },
        "integer" | "number" | "boolean" if found.len() == 1 => found[0].clone(),
        _ => Value::String(found.iter().map(print_value).collect::<Vec<_>>().join(" ")),
    }
}

fn print_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

/// The JSONPath subset the fleet CRDs use: `.a.b`, `[N]`, `[*]` and `[?(@.k=="v")]` (spec §3.3).
pub fn eval(path: &str, obj: &Value) -> Vec<Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut cur: Vec<&Value> = vec![obj];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let field = &r[..end];
            cur = cur.into_iter().filter_map(|v| v.get(field)).collect();
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return vec![];
            };
            let inner = &r[..end];
            rest = &r[end + 1..];
            let items = cur.into_iter().filter_map(Value::as_array).flatten();
            cur = if inner == "*" {
                items.collect()
            } else if let Some(filter) =
                inner.strip_prefix("?(@.").and_then(|f| f.strip_suffix(')'))
            {
                let Some((field, want)) = filter.split_once("==") else {
                    return vec![];
                };
                let want = want.trim().trim_matches(|c| c == '"' || c == '\'');
                let field_path: Vec<&str> = field.trim().split('.').collect();
                items
                    .filter(|i| {
                        field_path
                            .iter()
                            .try_fold(*i, |v, f| v.get(*f))
                            .map(print_value)
                            .as_deref()
                            == Some(want)
                    })
                    .collect()
            } else if let Ok(n) = inner.parse::<usize>() {
                items
                    .collect::<Vec<_>>()
                    .into_iter()
                    .nth(n)
                    .into_iter()
                    .collect()
            } else {
                return vec![];
            };
        } else {
            return vec![];
        }
    }
    cur.into_iter().filter(|v| !v.is_null()).cloned().collect()
}

/// Port of apimachinery `duration.HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(310), "5m10s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(4 * 3600 + 120), "4h2m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(400 * 86400), "400d");
        assert_eq!(human_duration(3 * 365 * 86400 + 86400), "3y1d");
    }

    #[test]
    fn jsonpath_subset() {
        let o = json!({"spec": {"a": "x", "n": 3}, "status": {"conditions": [
            {"type": "Initialized", "status": "True"}, {"type": "Succeeded", "status": "False"}]}});
        assert_eq!(eval(".spec.a", &o), vec![json!("x")]);
        assert_eq!(
            eval(".status.conditions[?(@.type==\"Succeeded\")].status", &o),
            vec![json!("False")]
        );
        assert_eq!(
            eval(".status.conditions[1].type", &o),
            vec![json!("Succeeded")]
        );
        assert_eq!(eval(".status.conditions[*].type", &o).len(), 2);
        assert!(eval(".spec.missing", &o).is_empty());
        assert!(eval(".status.conditions[?(@.type==\"Progressing\")].status", &o).is_empty());
    }
}

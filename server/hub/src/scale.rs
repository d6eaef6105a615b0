//! The `/scale` subresource: `autoscaling/v1` Scale in and out (spec §3.2, §8.18).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::object;
use crate::ops::{self, Sub};
use crate::patch::{self, PatchType};
use crate::registry::{KindSpec, Registry};
use crate::selector::LabelSelector;
use crate::status::{Cause, Error, Result};
use crate::store::Tx;

pub enum Change {
    Replace(Value),
    Patch(PatchType, Value),
}

pub fn of(kind: &KindSpec, obj: &Value) -> Value {
    let Some(s) = &kind.scale else {
        return json!({});
    };
    let meta = object::meta(obj).cloned().unwrap_or_default();
    let pick = |k: &str| meta.get(k).cloned().unwrap_or(Value::Null);
    let selector = object::get_path(obj, &s.selector)
        .map(LabelSelector::render_object)
        .unwrap_or_default();
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": pick("name"), "namespace": pick("namespace"), "uid": pick("uid"),
                     "resourceVersion": pick("resourceVersion"), "creationTimestamp": pick("creationTimestamp")},
        "spec": {"replicas": object::get_path(obj, &s.spec_replicas).and_then(Value::as_i64).unwrap_or(0)},
        "status": {"replicas": object::get_path(obj, &s.status_replicas).and_then(Value::as_i64).unwrap_or(0), "selector": selector}})
}

pub fn update(
    tx: &mut Tx<'_>,
    reg: &Registry,
    kind: &KindSpec,
    ns: &str,
    name: &str,
    change: Change,
) -> Result<Arc<Value>> {
    let Some(spec) = &kind.scale else {
        return Err(Error::NoRoute);
    };
    let old = tx
        .get(&kind.resource(), ns, name)
        .ok_or_else(|| Error::NotFound(kind.subject(name)))?;
    let current = of(kind, &old);
    let wanted = match change {
        Change::Replace(v) => {
            if let Some(rv) = object::meta_str(&v, "resourceVersion").filter(|s| !s.is_empty()) {
                if Some(rv) != object::meta_str(&old, "resourceVersion") {
                    return Err(Error::stale(kind.subject(name)));
                }
            }
            v
        }
        Change::Patch(pt, p) => patch::apply(pt, &current, &p, true)?,
    };
    let replicas = wanted
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .filter(|r| *r >= 0)
        .ok_or_else(|| {
            Error::Invalid(
                crate::status::Subject {
                    group: "autoscaling".into(),
                    plural: "scale".into(),
                    kind: "Scale".into(),
                    name: name.into(),
                },
                vec![Cause::invalid(
                    "spec.replicas",
                    "Invalid value: must be greater than or equal to 0",
                )],
            )
        })?;
    let mut new = (*old).clone();
    object::set_path(&mut new, &spec.spec_replicas, json!(replicas));
    ops::commit(tx, reg, kind, &old, new, Sub::Main, ops::Fields::Keep)
}

//! DELETE semantics: preconditions, finalizers and deletionTimestamp, ownerReference garbage
//! collection and namespace content removal, which kube-controller-manager would do on a real
//! cluster and the hub must do itself (spec §7, §8.20).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{json, Value};

use crate::object::{self, meta_mut};
use crate::registry::{KindSpec, Registry};
use crate::status::{Error, Result};
use crate::store::Tx;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Propagation {
    #[default]
    Background,
    Foreground,
    Orphan,
}

#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub propagation: Propagation,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    /// `dryRun: ["All"]` in the body: kube-rs and `kubectl delete --dry-run=server` send it there
    /// rather than in the query.
    pub dry_run: bool,
}

impl DeleteOptions {
    /// Reads a DeleteOptions body (`{}` or `{"propagationPolicy":…,"preconditions":…}`).
    pub fn from_body(body: &Value) -> Result<DeleteOptions> {
        let propagation = match body.get("propagationPolicy").and_then(Value::as_str) {
            None | Some("Background") => Propagation::Background,
            Some("Foreground") => Propagation::Foreground,
            Some("Orphan") => Propagation::Orphan,
            Some(p) => {
                return Err(Error::BadRequest(format!(
                    "unsupported propagationPolicy {p:?}"
                )))
            }
        };
        let pre = body.get("preconditions");
        let get = |k: &str| {
            pre.and_then(|p| p.get(k))
                .and_then(Value::as_str)
                .map(String::from)
        };
        Ok(DeleteOptions {
            propagation,
            uid: get("uid"),
            resource_version: get("resourceVersion"),
            dry_run: body
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|v| v == "All")),
        })
    }
}

/// Deletes one object; returns its state after deletion (still present when finalizers hold it).
pub fn delete(
    tx: &mut Tx<'_>,
    reg: &Registry,
    kind: &KindSpec,
    ns: &str,
    name: &str,
    opts: &DeleteOptions,
) -> Result<Arc<Value>> {
    let old = tx
        .get(&kind.resource(), ns, name)
        .ok_or_else(|| Error::NotFound(kind.subject(name)))?;
    if opts.uid.as_deref().is_some_and(|u| u != object::uid(&old))
        || opts
            .resource_version
            .as_deref()
            .is_some_and(|rv| Some(rv) != object::meta_str(&old, "resourceVersion"))
    {
        return Err(Error::stale(kind.subject(name)));
    }
    if let Some(check) = kind
        .admit_delete
        .as_ref()
        .filter(|_| !object::is_deleting(&old))
    {
        check(&old).map_err(|reason| {
            Error::Forbidden(format!(
                "{} \"{name}\" is forbidden: {reason}",
                kind.subject(name).qualified_resource()
            ))
        })?;
    }
    if opts.propagation == Propagation::Orphan {
        orphan_dependents(tx, object::uid(&old));
    }
    if kind.group.is_empty() && kind.plural == "namespaces" {
        return delete_namespace(tx, reg, kind, &old);
    }
    if !object::finalizers(&old).is_empty() {
        if object::is_deleting(&old) {
            return Ok(old);
        }
        let mut obj = (*old).clone();
        let m = meta_mut(&mut obj);
        m.insert(
            "deletionTimestamp".into(),
            Value::String(object::now_timestamp()),
        );
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
        if kind.generation {
            // markAsDeleting bumps generation the first time (spec §7).
            let g = m.get("generation").and_then(Value::as_i64).unwrap_or(0);
            m.insert("generation".into(), json!(g + 1));
        }
        return Ok(tx.put(&kind.resource(), obj));
    }
    // Foreground is approximated by deleting dependents in the same write as the owner.
    remove(tx, reg, kind, ns, name)
}

/// Removes an object for good, then collects what depended on it.
pub fn remove(
    tx: &mut Tx<'_>,
    reg: &Registry,
    kind: &KindSpec,
    ns: &str,
    name: &str,
) -> Result<Arc<Value>> {
    let last = tx
        .remove(&kind.resource(), ns, name)
        .ok_or_else(|| Error::NotFound(kind.subject(name)))?;
    collect_garbage(tx, reg, vec![object::uid(&last).to_string()])?;
    if !ns.is_empty() {
        finish_namespace_if_empty(tx, reg, ns)?;
    }
    Ok(last)
}

fn kind_of(reg: &Registry, resource: &str) -> Option<Arc<KindSpec>> {
    reg.kinds()
        .iter()
        .find(|k| k.resource() == resource)
        .cloned()
}

/// Background GC: an object whose owners are all gone is deleted (matching by uid, spec §7).
fn collect_garbage(tx: &mut Tx<'_>, reg: &Registry, mut gone: Vec<String>) -> Result<()> {
    while let Some(uid) = gone.pop() {
        let all = tx.all();
        let live: HashSet<&str> = all.iter().map(|(_, v)| object::uid(v)).collect();
        let orphans: Vec<_> = all
            .iter()
            .filter(|(_, v)| {
                let owners = object::owner_uids(v);
                owners.contains(&uid) && owners.iter().all(|o| !live.contains(o.as_str()))
            })
            .map(|(k, v)| (k.clone(), object::uid(v).to_string()))
            .collect();
        for ((res, ns, name), dep_uid) in orphans {
            let Some(kind) = kind_of(reg, &res) else {
                continue;
            };
            if tx.get(&res, &ns, &name).is_none() {
                continue;
            }
            let after = delete(tx, reg, &kind, &ns, &name, &DeleteOptions::default())?;
            if tx.get(&res, &ns, &name).is_none() && !object::is_deleting(&after) {
                gone.push(dep_uid);
            }
        }
    }
    Ok(())
}

fn orphan_dependents(tx: &mut Tx<'_>, owner: &str) {
    for ((res, _, _), v) in tx.all() {
        if !object::owner_uids(&v).iter().any(|u| u == owner) {
            continue;
        }
        let mut obj = (*v).clone();
        if let Some(Value::Array(refs)) = meta_mut(&mut obj).get_mut("ownerReferences") {
            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(owner));
        }
        tx.put(&res, obj);
    }
}

/// Marks the namespace Terminating and deletes its content; the namespace goes once it is empty.
fn delete_namespace(
    tx: &mut Tx<'_>,
    reg: &Registry,
    kind: &KindSpec,
    old: &Arc<Value>,
) -> Result<Arc<Value>> {
    let name = object::name(old).to_string();
    let mut current = old.clone();
    if !object::is_deleting(old) {
        let mut obj = (**old).clone();
        meta_mut(&mut obj).insert(
            "deletionTimestamp".into(),
            Value::String(object::now_timestamp()),
        );
        meta_mut(&mut obj).insert("deletionGracePeriodSeconds".into(), json!(0));
        obj["status"] = json!({"phase": "Terminating"});
        current = tx.put(&kind.resource(), obj);
    }
    let contents: Vec<_> = tx
        .all()
        .into_iter()
        .filter(|((_, ns, _), _)| *ns == name)
        .collect();
    for ((res, ns, obj_name), _) in contents {
        let Some(k) = kind_of(reg, &res) else {
            continue;
        };
        if tx.get(&res, &ns, &obj_name).is_some() {
            delete(tx, reg, &k, &ns, &obj_name, &DeleteOptions::default())?;
        }
    }
    Ok(finish_namespace_if_empty(tx, reg, &name)?.unwrap_or(current))
}

fn finish_namespace_if_empty(
    tx: &mut Tx<'_>,
    reg: &Registry,
    ns: &str,
) -> Result<Option<Arc<Value>>> {
    let Some(namespace) = tx.get("namespaces", "", ns) else {
        return Ok(None);
    };
    if !object::is_deleting(&namespace) || tx.all().iter().any(|((_, n, _), _)| n == ns) {
        return Ok(None);
    }
    let last = tx.remove("namespaces", "", ns);
    if let Some(l) = &last {
        collect_garbage(tx, reg, vec![object::uid(l).to_string()])?;
    }
    Ok(last)
}

//! Write semantics of a real apiserver (spec §3.4–§3.7, §7): server-owned metadata, generation,
//! status subresource, optimistic concurrency, no-op writes, validation hooks.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::deletion;
use crate::managed::{self, Scope, Shape, Writer};
use crate::object::{self, meta_mut};
use crate::patch::{self, PatchType};
use crate::registry::{KindSpec, Registry};
use crate::status::{Cause, Error, Result, Subject};
use crate::store::Tx;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sub {
    Main,
    Status,
}

/// What a write does to `metadata.managedFields`.
pub enum Fields<'a> {
    /// An Update by this writer: it owns what it changed (create, PUT, non-apply PATCH).
    Update(&'a Writer),
    /// Already worked out by an apply: these entries (`Null` for none).
    Set(Value),
    /// As they were (scale writes, the hub's own objects).
    Keep,
}

/// The schema field management walks for `kind`: the CRD's, or a built-in's list semantics.
fn shape(kind: &KindSpec) -> Shape<'_> {
    Shape::root(
        kind.schema
            .as_ref()
            .map(|s| s.raw())
            .or_else(|| managed::builtin_schema(&kind.kind)),
    )
}

fn scope(kind: &KindSpec, sub: Sub) -> Scope {
    Scope {
        status: sub == Sub::Status,
        has_status_subresource: kind.status_subresource,
    }
}

fn set_fields(obj: &mut Value, fields: Value) {
    let m = meta_mut(obj);
    if fields.is_null() {
        m.remove("managedFields");
    } else {
        m.insert("managedFields".into(), fields);
    }
}

fn invalid(kind: &KindSpec, name: &str, causes: Vec<Cause>) -> Error {
    Error::Invalid(kind.subject(name), causes)
}

/// Checks apiVersion/kind in a body against the URL's kind and sets them.
fn stamp_type(kind: &KindSpec, version: &str, obj: &mut Value) -> Result<()> {
    let want_av = kind.api_version(version);
    let Some(map) = obj.as_object_mut() else {
        return Err(Error::BadRequest(
            "the request body must be a JSON object".into(),
        ));
    };
    if let Some(av) = map.get("apiVersion").and_then(Value::as_str) {
        if !kind.versions.iter().any(|v| kind.api_version(v) == av) {
            return Err(Error::BadRequest(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )));
        }
    }
    if let Some(k) = map.get("kind").and_then(Value::as_str) {
        if k != kind.kind {
            return Err(Error::BadRequest(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                kind.kind
            )));
        }
    }
    map.insert("apiVersion".into(), Value::String(want_av));
    map.insert("kind".into(), Value::String(kind.kind.clone()));
    Ok(())
}

pub fn create(
    tx: &mut Tx<'_>,
    kind: &KindSpec,
    version: &str,
    url_ns: Option<&str>,
    mut obj: Value,
    fields: Fields<'_>,
) -> Result<Arc<Value>> {
    stamp_type(kind, version, &mut obj)?;
    if kind.status_subresource {
        // spec §0.7: create drops .status (upstream PrepareForCreate).
        obj.as_object_mut().map(|m| m.remove("status"));
    }
    if let Some(schema) = &kind.schema {
        schema.apply_defaults(&mut obj);
    }
    let m = meta_mut(&mut obj);
    for server_owned in [
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    ] {
        m.remove(server_owned);
    }
    let mut name = m
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if name.is_empty() {
        if let Some(prefix) = m
            .get("generateName")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            let suffix: String = uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .chars()
                .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                .take(5)
                .collect();
            name = format!("{prefix}{suffix}");
            m.insert("name".into(), Value::String(name.clone()));
        }
    }
    if name.is_empty() {
        return Err(invalid(
            kind,
            "",
            vec![Cause::required(
                "metadata.name",
                "Required value: name or generateName is required",
            )],
        ));
    }
    if let Some(msg) = object::validate_name(&name, kind.name_rule) {
        return Err(invalid(
            kind,
            &name,
            vec![Cause::invalid(
                "metadata.name",
                format!("Invalid value: {name:?}: {msg}"),
            )],
        ));
    }
    let body_ns = m
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let ns = if kind.namespaced() {
        let ns = url_ns.unwrap_or("").to_string();
        if ns.is_empty() {
            return Err(Error::BadRequest("the namespace of the provided object does not match the namespace sent on the request".into()));
        }
        if !body_ns.is_empty() && body_ns != ns {
            return Err(Error::BadRequest("the namespace of the provided object does not match the namespace sent on the request".into()));
        }
        m.insert("namespace".into(), Value::String(ns.clone()));
        ns
    } else {
        m.remove("namespace");
        String::new()
    };
    if kind.namespaced() {
        let namespace = tx.get("namespaces", "", &ns).ok_or_else(|| {
            Error::NotFound(Subject {
                plural: "namespaces".into(),
                kind: "Namespace".into(),
                name: ns.clone(),
                ..Default::default()
            })
        })?;
        if object::is_deleting(&namespace) {
            return Err(Error::Forbidden(format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                kind.plural
            )));
        }
    }
    if tx.get(&kind.resource(), &ns, &name).is_some() {
        return Err(Error::AlreadyExists(kind.subject(&name)));
    }
    if let Some(defaults) = &kind.defaults {
        defaults(&mut obj);
    }
    let m = meta_mut(&mut obj);
    m.insert(
        "uid".into(),
        Value::String(uuid::Uuid::new_v4().to_string()),
    );
    m.insert(
        "creationTimestamp".into(),
        Value::String(object::now_timestamp()),
    );
    if kind.generation {
        m.insert("generation".into(), json!(1));
    }
    match fields {
        Fields::Update(writer) => {
            let now = object::now_timestamp();
            managed::update(
                None,
                &mut obj,
                shape(kind),
                writer,
                scope(kind, Sub::Main),
                &now,
            );
        }
        Fields::Set(f) => set_fields(&mut obj, f),
        Fields::Keep => {}
    }
    check(kind, &name, None, &obj)?;
    admit(kind, tx, None, &obj)?;
    Ok(tx.put(&kind.resource(), obj))
}

/// The object a write addresses: its kind, namespace (empty for cluster scope) and name.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub kind: &'a KindSpec,
    pub ns: &'a str,
    pub name: &'a str,
}

/// PUT: `require_rv` is the CR rule "metadata.resourceVersion must be specified" (spec §3.5).
pub fn update(
    tx: &mut Tx<'_>,
    reg: &Registry,
    Target { kind, ns, name }: Target<'_>,
    version: &str,
    mut obj: Value,
    sub: Sub,
    writer: &Writer,
) -> Result<Arc<Value>> {
    stamp_type(kind, version, &mut obj)?;
    let old = tx
        .get(&kind.resource(), ns, name)
        .ok_or_else(|| Error::NotFound(kind.subject(name)))?;
    let body_name = object::name(&obj);
    if body_name != name {
        return Err(Error::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    match object::meta_str(&obj, "resourceVersion").filter(|s| !s.is_empty()) {
        None if !kind.builtin => {
            return Err(invalid(
                kind,
                name,
                vec![Cause::invalid(
                    "metadata.resourceVersion",
                    "Invalid value: 0x0: must be specified for an update",
                )],
            ));
        }
        Some(rv) if rv != object::meta_str(&old, "resourceVersion").unwrap_or("") => {
            return Err(Error::stale(kind.subject(name)));
        }
        _ => {}
    }
    commit(tx, reg, kind, &old, obj, sub, Fields::Update(writer))
}

/// PATCH: applies to the latest version; a resourceVersion in a merge body is a precondition.
pub fn patch(
    tx: &mut Tx<'_>,
    reg: &Registry,
    Target { kind, ns, name }: Target<'_>,
    pt: PatchType,
    body: &Value,
    sub: Sub,
    writer: &Writer,
) -> Result<Arc<Value>> {
    let old = tx
        .get(&kind.resource(), ns, name)
        .ok_or_else(|| Error::NotFound(kind.subject(name)))?;
    precondition(kind, &old, body)?;
    let new = patch::apply(pt, &old, body, kind.builtin)?;
    if !new.is_object() {
        return Err(Error::BadRequest(
            "the patch turned the object into a non-object".into(),
        ));
    }
    commit(tx, reg, kind, &old, new, sub, Fields::Update(writer))
}

/// A resourceVersion in a patch or apply body is a precondition.
fn precondition(kind: &KindSpec, old: &Value, body: &Value) -> Result<()> {
    if let Some(rv) = body
        .get("metadata")
        .and_then(|m| m.get("resourceVersion"))
        .and_then(Value::as_str)
    {
        if rv != object::meta_str(old, "resourceVersion").unwrap_or("") {
            return Err(Error::stale(kind.subject(object::name(old))));
        }
    }
    Ok(())
}

/// Server-side apply (`application/apply-patch+yaml`): merges `config` with field ownership and
/// conflicts (see `managed`); creates the object when it is missing. `true` when it created.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    tx: &mut Tx<'_>,
    reg: &Registry,
    Target { kind, ns, name }: Target<'_>,
    version: &str,
    mut config: Value,
    writer: &Writer,
    force: bool,
    sub: Sub,
) -> Result<(Arc<Value>, bool)> {
    stamp_type(kind, version, &mut config)?;
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|f| !f.is_null())
    {
        // An applied configuration states fields, never who owns them (upstream fieldmanager).
        return Err(Error::BadRequest(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let body_name = object::name(&config);
    if !body_name.is_empty() && body_name != name {
        return Err(Error::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let now = object::now_timestamp();
    let conflict = |c: managed::Conflicts| Error::ApplyConflict {
        message: c.message(),
        causes: c.causes(),
    };
    let Some(old) = tx.get(&kind.resource(), ns, name) else {
        if sub == Sub::Status {
            return Err(Error::NotFound(kind.subject(name)));
        }
        meta_mut(&mut config).insert("name".into(), Value::String(name.into()));
        let mut merged = managed::apply(
            None,
            &config,
            shape(kind),
            writer,
            force,
            scope(kind, sub),
            &now,
        )
        .map_err(conflict)?;
        let fields = meta_mut(&mut merged)
            .remove("managedFields")
            .unwrap_or(Value::Null);
        let url_ns = kind.namespaced().then_some(ns);
        let created = create(tx, kind, version, url_ns, merged, Fields::Set(fields))?;
        return Ok((created, true));
    };
    precondition(kind, &old, &config)?;
    let mut merged = managed::apply(
        Some(&old),
        &config,
        shape(kind),
        writer,
        force,
        scope(kind, sub),
        &now,
    )
    .map_err(conflict)?;
    let fields = meta_mut(&mut merged)
        .remove("managedFields")
        .unwrap_or(Value::Null);
    Ok((
        commit(tx, reg, kind, &old, merged, sub, Fields::Set(fields))?,
        false,
    ))
}

/// The shared tail of PUT and PATCH: restore server-owned fields, apply subresource rules, bump
/// generation on spec change only, skip no-op writes, validate, finish deletions (spec §7).
pub fn commit(
    tx: &mut Tx<'_>,
    reg: &Registry,
    kind: &KindSpec,
    old: &Value,
    mut new: Value,
    sub: Sub,
    fields: Fields<'_>,
) -> Result<Arc<Value>> {
    let name = object::name(old).to_string();
    let mut new = match sub {
        // Status writes copy the stored object and take only .status (statusStrategy). Only the
        // status is defaulted and copied: at 10,000 clusters the rest of a run or placement is
        // megabytes that this write cannot change.
        Sub::Status => {
            let status = match new {
                Value::Object(mut m) => m.remove("status"),
                _ => None,
            };
            let status = match (&kind.schema, status) {
                (Some(schema), Some(s)) => {
                    let mut wrapped = json!({ "status": s });
                    schema.apply_defaults(&mut wrapped);
                    wrapped.get_mut("status").map(Value::take)
                }
                (_, s) => s,
            };
            let mut o: serde_json::Map<String, Value> = old
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| *k != "status")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if let Some(s) = status {
                o.insert("status".into(), s);
            }
            Value::Object(o)
        }
        Sub::Main => {
            if let Some(schema) = &kind.schema {
                schema.apply_defaults(&mut new);
            }
            new
        }
    };
    if sub == Sub::Main && kind.status_subresource {
        let m = new
            .as_object_mut()
            .ok_or_else(|| Error::BadRequest("object expected".into()))?;
        match old.get("status") {
            Some(s) => m.insert("status".into(), s.clone()),
            None => m.remove("status"),
        };
    }
    for k in ["apiVersion", "kind"] {
        if let Some(v) = old.get(k) {
            new[k] = v.clone();
        }
    }
    let old_meta = object::meta(old).cloned().unwrap_or_default();
    let m = meta_mut(&mut new);
    // What a client sends back in managedFields is ignored: ownership is worked out below.
    m.remove("managedFields");
    for owned in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "resourceVersion",
    ] {
        match old_meta.get(owned) {
            Some(v) => m.insert(owned.into(), v.clone()),
            None => m.remove(owned),
        };
    }
    if object::is_deleting(old) {
        let before = object::finalizers(old);
        if object::finalizers(&new).iter().any(|f| !before.contains(f)) {
            return Err(invalid(
                kind,
                &name,
                vec![Cause::forbidden(
                    "metadata.finalizers",
                    "Forbidden: no new finalizers can be added if the object is being deleted",
                )],
            ));
        }
    }
    // Only spec-ish changes count: metadata never, status never with a status subresource (§7).
    if kind.generation && !same_generational(kind, old, &new) {
        let g = old_meta
            .get("generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        meta_mut(&mut new).insert("generation".into(), json!(g + 1));
    }
    match fields {
        Fields::Update(writer) => {
            let now = object::now_timestamp();
            managed::update(
                Some(old),
                &mut new,
                shape(kind),
                writer,
                scope(kind, sub),
                &now,
            );
        }
        Fields::Set(f) => set_fields(&mut new, f),
        Fields::Keep => {
            if let Some(f) = old_meta.get("managedFields") {
                meta_mut(&mut new).insert("managedFields".into(), f.clone());
            }
        }
    }
    if new == *old {
        // spec §8.8: a no-op keeps the resourceVersion and emits no event.
        return Ok(Arc::new(old.clone()));
    }
    check(kind, &name, Some(old), &new)?;
    admit(kind, tx, Some(old), &new)?;
    if object::is_deleting(&new) && object::finalizers(&new).is_empty() {
        let ns = object::namespace(&new).to_string();
        tx.put(&kind.resource(), new);
        return deletion::remove(tx, reg, kind, &ns, &name);
    }
    Ok(tx.put(&kind.resource(), new))
}

/// Whether `a` and `b` agree on everything that counts for `metadata.generation`; compared in
/// place, since the objects may be megabytes.
fn same_generational(kind: &KindSpec, a: &Value, b: &Value) -> bool {
    let counts = |k: &str| k != "metadata" && !(kind.status_subresource && k == "status");
    match (a.as_object(), b.as_object()) {
        (Some(a), Some(b)) => {
            a.keys().filter(|k| counts(k)).count() == b.keys().filter(|k| counts(k)).count()
                && a.iter()
                    .filter(|(k, _)| counts(k))
                    .all(|(k, v)| b.get(k) == Some(v))
        }
        _ => a == b,
    }
}

/// The CRD schema (structural + CEL) and then the kind's own hook; all causes in one 422.
/// First the object must decode: metadata as ObjectMeta for every kind (a label that is not a
/// string made every typed client's list of the kind fail), a typed built-in as its type.
fn check(kind: &KindSpec, name: &str, old: Option<&Value>, new: &Value) -> Result<()> {
    let undecodable = |e: String| {
        let version = kind.versions.first().map(String::as_str).unwrap_or("");
        let k = &kind.kind;
        Error::BadRequest(format!(
            "{k} in version \"{version}\" cannot be handled as a {k}: {e}"
        ))
    };
    if let Some(meta) = new.get("metadata") {
        ObjectMeta::deserialize(meta).map_err(|e| undecodable(format!("metadata: {e}")))?;
    }
    if let Some(decode) = kind.decode {
        decode(new).map_err(undecodable)?;
    }
    let mut causes = match &kind.schema {
        Some(schema) => schema.validate(old, new),
        None => Vec::new(),
    };
    if let Some(validate) = &kind.validate {
        if let Err(more) = validate(old, new) {
            for c in more {
                if !causes.contains(&c) {
                    causes.push(c);
                }
            }
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(invalid(kind, name, causes))
    }
}

/// The kind's admission webhook, after [`check`]: it may list the kind's stored objects.
fn admit(kind: &KindSpec, tx: &Tx, old: Option<&Value>, new: &Value) -> Result<()> {
    let Some(admit) = &kind.admit else {
        return Ok(());
    };
    let resource = kind.resource();
    let stored = |ns: Option<&str>| tx.list(&resource, ns);
    admit(old, new, &stored).map_err(Error::Forbidden)
}

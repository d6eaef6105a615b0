//! Field ownership (`metadata.managedFields`) and server-side apply, as kube-apiserver's field
//! manager and structured-merge-diff do it: every write records which manager owns which fields;
//! an apply merges the applied configuration, removes what the manager applied before and has
//! now dropped (unless someone else owns it), and refuses with a 409 to change a field another
//! manager owns unless forced.
//!
//! Not done (README "Server-side apply"): managers are never capped at 10 Update entries into
//! `ancient-changes`; client-side apply's last-applied annotation is not converted; scale writes
//! keep the managed fields as they were; managedFields sent with a create, PUT or patch are
//! ignored, never taken as a reset.

pub mod fieldset;
mod walk;

use serde::Serialize;
use serde_json::Value;

use crate::status::Cause;
pub use fieldset::{path_string, Pe, Set};
pub use walk::{builtin_schema, Shape};

/// kube-apiserver's longest field manager.
pub const MAX_MANAGER_LEN: usize = 128;

/// The manager that owns what an object held before its first apply, when it had no entries.
const BEFORE_FIRST_APPLY: &str = "before-first-apply";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Operation {
    Apply,
    Update,
}

/// One `metadata.managedFields` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub time: Option<String>,
    pub subresource: String,
    pub set: Set,
}

impl Entry {
    /// Upstream `BuildManagerIdentifier`: an applier is the same whatever version it used.
    fn same_owner(&self, other: &Entry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == Operation::Apply || self.api_version == other.api_version)
    }

    /// How conflict messages name the manager (upstream `printManager`).
    fn printed(&self) -> String {
        let mut s = format!("{:?}", self.manager);
        if !self.subresource.is_empty() {
            s.push_str(&format!(" with subresource {:?}", self.subresource));
        }
        if self.operation == Operation::Update {
            s.push_str(&format!(" using {}", self.api_version));
        }
        s
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Encoded<'a> {
    manager: &'a str,
    operation: Operation,
    api_version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<&'a str>,
    fields_type: &'static str,
    fields_v1: Value,
    #[serde(skip_serializing_if = "str::is_empty")]
    subresource: &'a str,
}

/// The entries of a stored object; an entry that does not parse is dropped (kube-apiserver
/// resets managed fields it cannot decode).
pub fn decode(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let operation = match e.get("operation")?.as_str()? {
                "Apply" => Operation::Apply,
                "Update" => Operation::Update,
                _ => return None,
            };
            let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            Some(Entry {
                manager: text("manager"),
                operation,
                api_version: text("apiVersion"),
                time: e.get("time").and_then(Value::as_str).map(String::from),
                subresource: text("subresource"),
                set: Set::from_fields_v1(e.get("fieldsV1")?)?,
            })
        })
        .collect()
}

/// Stores `entries` in `obj`, sorted as upstream `sortEncodedManagedFields` (operation, time,
/// manager, apiVersion, subresource); none at all removes the field.
pub fn store(obj: &mut Value, mut entries: Vec<Entry>) {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|p, q| {
        (p.operation, p.time.as_deref().unwrap_or(""), &p.manager)
            .cmp(&(q.operation, q.time.as_deref().unwrap_or(""), &q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if entries.is_empty() {
        meta.remove("managedFields");
        return;
    }
    let encoded: Vec<Value> = entries
        .iter()
        .filter_map(|e| {
            serde_json::to_value(Encoded {
                manager: &e.manager,
                operation: e.operation,
                api_version: &e.api_version,
                time: e.time.as_deref(),
                fields_type: "FieldsV1",
                fields_v1: e.set.to_fields_v1(),
                subresource: &e.subresource,
            })
            .ok()
        })
        .collect();
    meta.insert("managedFields".into(), Value::Array(encoded));
}

/// Who writes: the request's field manager, the API version it used, and whether it wrote the
/// status subresource.
#[derive(Clone, Debug)]
pub struct Writer {
    pub manager: String,
    pub api_version: String,
    pub status: bool,
}

impl Writer {
    fn entry(&self, operation: Operation, set: Set, time: Option<String>) -> Entry {
        Entry {
            manager: self.manager.clone(),
            operation,
            api_version: self.api_version.clone(),
            time,
            subresource: if self.status {
                "status".into()
            } else {
                "".into()
            },
            set,
        }
    }
}

/// Which fields a write may own: a status write only `.status`; a main write on a kind with a
/// status subresource everything but `.status` (upstream reset fields).
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    pub status: bool,
    pub has_status_subresource: bool,
}

impl Scope {
    fn filter(self, mut set: Set) -> Set {
        let status = Pe::Field("status".into());
        if self.status {
            set.take_subtree(&status)
        } else {
            if self.has_status_subresource {
                set.take_subtree(&status);
            }
            set
        }
    }
}

/// Fields never owned by anyone (upstream `stripMetaManager`).
fn strip(set: Set) -> Set {
    let mut strip = Set::default();
    for p in ["apiVersion", "kind", "metadata"] {
        strip.insert(&[Pe::Field(p.into())]);
    }
    for m in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        strip.insert(&[Pe::Field("metadata".into()), Pe::Field(m.into())]);
    }
    set.difference(&strip)
}

/// An Update (create, PUT, non-apply PATCH) from `old` (`None` on create) to `new`: the writer
/// takes the fields it changed from everyone, removed fields leave every owner, and the writer's
/// entry is stamped `now` when it took anything (upstream `managedFieldsUpdater`).
pub fn update(
    old: Option<&Value>,
    new: &mut Value,
    shape: Shape,
    writer: &Writer,
    scope: Scope,
    now: &str,
) {
    let empty = Value::Object(Default::default());
    let mut entries = old.map(decode).unwrap_or_default();
    let cmp = walk::compare(old.unwrap_or(&empty), new, shape);
    let changed = scope.filter(cmp.changed());
    let removed = scope.filter(cmp.removed);
    for e in &mut entries {
        e.set = e.set.difference(&changed).difference(&removed);
    }
    let taken = strip(changed);
    if !taken.is_empty() {
        let mine = writer.entry(Operation::Update, taken, Some(now.to_string()));
        match entries.iter_mut().find(|e| e.same_owner(&mine)) {
            Some(e) => {
                e.set = e.set.union(&mine.set);
                e.time = mine.time;
            }
            None => entries.push(mine),
        }
    }
    store(new, entries);
}

/// Managers that own a field an apply would change.
#[derive(Debug, PartialEq)]
pub struct Conflicts(Vec<(Entry, Vec<Vec<Pe>>)>);

impl Conflicts {
    fn count(&self) -> usize {
        self.0.iter().map(|(_, ps)| ps.len()).sum()
    }

    /// kube-apiserver's message (`internal.getConflictMessage`).
    pub fn message(&self) -> String {
        if let [(e, paths)] = &self.0[..] {
            if let [p] = &paths[..] {
                return format!(
                    "Apply failed with 1 conflict: conflict with {}: {}",
                    e.printed(),
                    path_string(p)
                );
            }
        }
        let mut lines = Vec::new();
        for (e, paths) in &self.0 {
            lines.push(format!("conflicts with {}:", e.printed()));
            lines.extend(paths.iter().map(|p| format!("- {}", path_string(p))));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            self.count(),
            lines.join("\n")
        )
    }

    /// `details.causes`: one `FieldManagerConflict` per field.
    pub fn causes(&self) -> Vec<Cause> {
        self.0
            .iter()
            .flat_map(|(e, paths)| {
                paths.iter().map(|p| {
                    Cause::new(
                        "FieldManagerConflict",
                        &path_string(p),
                        format!("conflict with {}", e.printed()),
                    )
                })
            })
            .collect()
    }
}

/// Server-side apply of `config` onto `live` (which carries its managed fields): the new object
/// with its new managed fields, or the conflicts. `live` is `None` when the apply creates.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    shape: Shape,
    writer: &Writer,
    force: bool,
    scope: Scope,
    now: &str,
) -> Result<Value, Conflicts> {
    let empty = Value::Object(Default::default());
    let live_obj = live.unwrap_or(&empty);
    let mut config = config.clone();
    if let Some(m) = config.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
    let mut entries = decode(live_obj);
    if entries.is_empty() && live.is_some() {
        // An object nobody manages yet: what it holds is owned by a stand-in, so that the first
        // apply neither silently takes it over nor removes it later.
        let held = strip(scope.filter(walk::to_field_set(live_obj, shape)));
        entries.push(Entry {
            manager: BEFORE_FIRST_APPLY.into(),
            operation: Operation::Update,
            api_version: writer.api_version.clone(),
            time: None,
            subresource: String::new(),
            set: held,
        });
    }
    let mut merged = walk::merge(live_obj, &config, shape);
    let applied = strip(scope.filter(walk::to_field_set(&config, shape)));
    let probe = writer.entry(Operation::Apply, Set::default(), None);
    let last = entries
        .iter()
        .position(|e| e.same_owner(&probe))
        .map(|i| entries.remove(i));

    // Fields this manager applied before and dropped now go, unless someone still owns them.
    if let Some(last) = &last {
        let owned = entries
            .iter()
            .fold(applied.clone(), |acc, e| acc.union(&e.set));
        let dropped = keep_owned_parents(&last.set.difference(&owned), &owned);
        walk::remove(&mut merged, &dropped, shape);
    }

    let cmp = walk::compare(live_obj, &merged, shape);
    let changed = scope.filter(cmp.changed());
    let removed = scope.filter(cmp.removed);
    let mut conflicts = Vec::new();
    for e in &entries {
        let hit = e.set.intersection(&changed);
        if !hit.is_empty() {
            conflicts.push((e.clone(), hit.paths()));
        }
    }
    if !conflicts.is_empty() && !force {
        conflicts.sort_by(|(a, _), (b, _)| {
            (&a.manager, a.operation, &a.subresource).cmp(&(
                &b.manager,
                b.operation,
                &b.subresource,
            ))
        });
        return Err(Conflicts(conflicts));
    }
    for e in &mut entries {
        e.set = e.set.difference(&changed).difference(&removed);
    }
    let unchanged = live.is_some() && merged == *live_obj;
    let time = match (&last, unchanged) {
        (Some(l), true) => l.time.clone(),
        (None, true) => None,
        (_, false) => Some(now.to_string()),
    };
    entries.push(writer.entry(Operation::Apply, applied, time));
    store(&mut merged, entries);
    Ok(merged)
}

/// `dropped` without the paths that still have owned fields below them: a list item another
/// manager owns a field of stays.
fn keep_owned_parents(dropped: &Set, owned: &Set) -> Set {
    let mut out = Set::default();
    for p in dropped.paths() {
        let mut below = Some(owned);
        for pe in &p {
            below = below.and_then(|s| s.child(pe));
        }
        if below.is_none_or(Set::is_empty) {
            out.insert(&p);
        }
    }
    out
}

/// `fieldManager` as kube-apiserver validates it (`ValidateFieldManager`): causes for the
/// `…Options.meta.k8s.io "" is invalid` error.
pub fn validate_manager(manager: &str) -> Vec<Cause> {
    let mut causes = Vec::new();
    if manager.len() > MAX_MANAGER_LEN {
        causes.push(Cause::new(
            "FieldValueTooLong",
            "fieldManager",
            format!("Too long: may not be more than {MAX_MANAGER_LEN} bytes"),
        ));
    }
    for (i, c) in manager.char_indices() {
        if c.is_control() {
            causes.push(Cause::invalid(
                "fieldManager",
                format!(
                    "Invalid value: {manager:?}: invalid character U+{:04X} (at position {i})",
                    c as u32
                ),
            ));
        }
    }
    causes
}

/// kube-apiserver's default manager: the User-Agent up to its first `/`, printable characters
/// only, cut at 128 bytes (`prefixFromUserAgent`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let mut out = String::new();
    for c in user_agent.split('/').next().unwrap_or("").chars() {
        if c.is_control() {
            continue;
        }
        if out.len() + c.len_utf8() > MAX_MANAGER_LEN {
            break;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;

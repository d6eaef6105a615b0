//! A write transaction: reads see committed objects overlaid with every pending write (so a write
//! is decided after all those applied before it), and changes go to the pending overlay with an
//! undo log, until the store queues them for commit or rolls them back.

use std::collections::btree_map::Entry;
use std::sync::Arc;

use serde_json::Value;

use super::{approx_size, in_range, range_start, Event, EventType, Key, Staged, State};
use crate::object;

pub(crate) struct Tx<'a> {
    st: &'a mut State,
    /// Each touched key's pending entry before this write, newest last.
    undo: Vec<(Key, Option<Staged>)>,
    events: Vec<Event>,
    /// `?dryRun=All`: objects come back with the resourceVersion they have in storage (none for a
    /// create), as kube-apiserver's DryRunnableStorage answers, so `kubectl diff` shows no bump.
    dry: bool,
}

impl<'a> Tx<'a> {
    pub(super) fn new(st: &'a mut State, dry: bool) -> Tx<'a> {
        Tx {
            st,
            undo: Vec::new(),
            events: Vec::new(),
            dry,
        }
    }

    pub(super) fn into_parts(self) -> (Vec<(Key, Option<Staged>)>, Vec<Event>) {
        (self.undo, self.events)
    }
}

/// Undoes a write's changes to the pending overlay, newest first, and its resourceVersions.
pub(super) fn rollback(st: &mut State, undo: Vec<(Key, Option<Staged>)>, start_rv: u64) {
    for (k, prev) in undo.into_iter().rev() {
        match prev {
            Some(s) => st.pending.insert(k, s),
            None => st.pending.remove(&k),
        };
    }
    st.rv = start_rv;
}

impl Tx<'_> {
    fn lookup(&self, key: &Key) -> Option<Arc<Value>> {
        match self.st.pending.get(key) {
            Some(staged) => staged.value.clone(),
            None => self.st.objects.get(key).cloned(),
        }
    }

    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.lookup(&(resource.into(), ns.into(), name.into()))
    }

    /// Objects of a resource (one namespace or all), committed and pending, in key order.
    pub fn list(&self, resource: &str, ns: Option<&str>) -> Vec<Arc<Value>> {
        let start = range_start(resource, ns);
        let committed = self
            .st
            .objects
            .range(start.clone()..)
            .take_while(|(k, _)| in_range(k, resource, ns))
            .map(|(k, v)| (k, Some(v.clone())));
        let pending = self
            .st
            .pending
            .range(start..)
            .take_while(|(k, _)| in_range(k, resource, ns))
            .map(|(k, s)| (k, s.value.clone()));
        overlay(committed, pending)
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    /// Every object of every resource, with its key (for garbage collection and namespaces).
    pub fn all(&self) -> Vec<(Key, Arc<Value>)> {
        let committed = self.st.objects.iter().map(|(k, v)| (k, Some(v.clone())));
        let pending = self.st.pending.iter().map(|(k, s)| (k, s.value.clone()));
        overlay(committed, pending)
            .into_iter()
            .map(|(k, v)| (k.clone(), v))
            .collect()
    }

    fn next_rv(&mut self) -> u64 {
        self.st.rv += 1;
        self.st.rv
    }

    /// The resourceVersion a written object carries: a new one, or in a dry run the stored one.
    fn stamp(&self, obj: &mut Value, rv: u64, stored: Option<&Value>) {
        let m = object::meta_mut(obj);
        if !self.dry {
            m.insert("resourceVersion".into(), Value::String(rv.to_string()));
            return;
        }
        match stored.and_then(|o| object::meta_str(o, "resourceVersion")) {
            Some(stored) => m.insert("resourceVersion".into(), Value::String(stored.into())),
            None => m.remove("resourceVersion"),
        };
    }

    /// Sets `key`'s pending value, remembering what was pending before for rollback.
    fn stage(&mut self, key: Key, value: Option<Arc<Value>>, rv: u64) {
        let prev = match self.st.pending.entry(key.clone()) {
            Entry::Occupied(mut e) => Some(std::mem::replace(e.get_mut(), Staged { value, rv })),
            Entry::Vacant(e) => {
                e.insert(Staged { value, rv });
                None
            }
        };
        self.undo.push((key, prev));
    }

    /// Stores `obj` (stamping a new resourceVersion) and records ADDED or MODIFIED.
    pub fn put(&mut self, resource: &str, mut obj: Value) -> Arc<Value> {
        let rv = self.next_rv();
        let key: Key = (
            resource.into(),
            object::namespace(&obj).into(),
            object::name(&obj).into(),
        );
        let old = self.lookup(&key);
        self.stamp(&mut obj, rv, old.as_deref());
        let obj = Arc::new(obj);
        self.stage(key.clone(), Some(obj.clone()), rv);
        let type_ = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.events.push(Event {
            rv,
            resource: key.0,
            namespace: key.1,
            type_,
            size: approx_size(&obj),
            object: obj.clone(),
            old,
            line: Default::default(),
        });
        obj
    }

    /// Removes an object; the DELETED event carries its last state with a new resourceVersion.
    pub fn remove(&mut self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let key: Key = (resource.into(), ns.into(), name.into());
        let old = self.lookup(&key)?;
        let rv = self.next_rv();
        self.stage(key.clone(), None, rv);
        let mut last = (*old).clone();
        self.stamp(&mut last, rv, Some(&old));
        let last = Arc::new(last);
        self.events.push(Event {
            rv,
            resource: key.0,
            namespace: key.1,
            type_: EventType::Deleted,
            size: approx_size(&last),
            object: last.clone(),
            old: Some(old),
            line: Default::default(),
        });
        Some(last)
    }
}

/// Merges two key-ordered sequences, the second overriding the first (`None`: deleted).
fn overlay<'k>(
    base: impl Iterator<Item = (&'k Key, Option<Arc<Value>>)>,
    over: impl Iterator<Item = (&'k Key, Option<Arc<Value>>)>,
) -> Vec<(&'k Key, Arc<Value>)> {
    let mut out = Vec::new();
    let mut base = base.peekable();
    let mut over = over.peekable();
    loop {
        let take_over = match (base.peek(), over.peek()) {
            (None, None) => break,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some((bk, _)), Some((ok, _))) => {
                if bk == ok {
                    base.next();
                    true
                } else {
                    ok < bk
                }
            }
        };
        let next = if take_over { over.next() } else { base.next() };
        if let Some((k, Some(v))) = next {
            out.push((k, v));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(name: &str) -> Key {
        ("r".into(), String::new(), name.into())
    }

    #[test]
    fn overlay_replaces_adds_and_deletes_in_key_order() {
        let keys = [k("a"), k("b"), k("c"), k("d")];
        let v = |s: &str| Some(Arc::new(Value::String(s.into())));
        let base = vec![
            (&keys[0], v("a0")),
            (&keys[1], v("b0")),
            (&keys[3], v("d0")),
        ];
        let over = vec![(&keys[1], None), (&keys[2], v("c1")), (&keys[3], v("d1"))];
        let merged: Vec<String> = overlay(base.into_iter(), over.into_iter())
            .into_iter()
            .map(|(k, v)| format!("{}={}", k.2, v.as_str().unwrap_or("?")))
            .collect();
        assert_eq!(merged, ["a=a0", "c=c1", "d=d1"]);
    }
}

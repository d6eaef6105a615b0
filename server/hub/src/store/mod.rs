//! The object store: all objects in memory (a BTreeMap keyed by resource/namespace/name, so lists
//! come out sorted like etcd keys, spec §7), written through to SQLite, one global resourceVersion,
//! and a bounded event history for watch replay (spec §6.3). Live watches read the same history:
//! they are woken with the latest resourceVersion and fetch what is new, so the only copies of old
//! object versions are the ones the history keeps, bounded by count and by bytes.

mod sqlite;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use serde_json::Value;
use tokio::sync::watch;

use crate::object;
use crate::options::Options;
use crate::status::{Error, Result};

/// (resource, namespace, name); namespace is "" for cluster-scoped objects.
pub type Key = (String, String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change. `old` lets a selector-filtered watch turn MODIFIED into ADDED/DELETED.
#[derive(Debug)]
pub struct Event {
    pub rv: u64,
    pub resource: String,
    pub namespace: String,
    pub type_: EventType,
    pub object: Arc<Value>,
    pub old: Option<Arc<Value>>,
    /// Estimated memory of `object` (`old` is counted by the event that made it).
    size: usize,
}

/// Where objects live.
#[derive(Clone, Debug)]
pub enum Storage {
    /// Nothing persisted; for tests and simulated members.
    Memory,
    /// A SQLite database file (created if missing).
    Sqlite(PathBuf),
}

struct State {
    objects: BTreeMap<Key, Arc<Value>>,
    rv: u64,
    db: Option<sqlite::Db>,
}

/// The retained events, behind their own lock: live watches read it on every commit and must
/// not queue behind writers, which hold the state lock while they validate.
struct History {
    events: VecDeque<Arc<Event>>,
    /// Sum of the `size` of `events`.
    size: usize,
    /// Every event with rv > floor is still in `events`.
    floor: u64,
    /// The resourceVersion the history is complete up to.
    rv: u64,
}

pub(crate) struct Store {
    /// Lock order: `state`, then `history`.
    state: Mutex<State>,
    history: RwLock<History>,
    /// The resourceVersion of the last commit that announced events; wakes live watches.
    latest: watch::Sender<u64>,
    history_cap: usize,
    history_bytes_cap: usize,
    /// Whether commits go to SQLite (and may wait on the disk).
    durable: bool,
}

/// Where a watch starts (spec §3.8).
pub(crate) enum WatchStart {
    /// Synthetic ADDED for every current object, then live events.
    Snapshot(Vec<Arc<Value>>),
    /// Retained events after the requested resourceVersion, then live events.
    Replay(Vec<Arc<Event>>),
}

impl Store {
    pub fn open(storage: &Storage, opts: &Options) -> Result<Store> {
        let (db, objects, rv) = match storage {
            Storage::Memory => (None, BTreeMap::new(), 0),
            Storage::Sqlite(path) => {
                let (db, loaded) = sqlite::Db::open(path)?;
                (Some(db), loaded.objects, loaded.rv)
            }
        };
        Ok(Store {
            durable: db.is_some(),
            state: Mutex::new(State { objects, rv, db }),
            history: RwLock::new(History {
                events: VecDeque::new(),
                size: 0,
                floor: rv,
                rv,
            }),
            latest: watch::Sender::new(rv),
            history_cap: opts.history.max(1),
            history_bytes_cap: opts.history_bytes,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied write (rollback runs before
        // any unwinding point that matters), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read_history(&self) -> std::sync::RwLockReadGuard<'_, History> {
        // Only whole events are ever pushed or popped, so a poisoned lock is still consistent.
        self.history.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a write may wait on the disk (SQLite) rather than only on memory.
    pub fn durable(&self) -> bool {
        self.durable
    }

    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.lock()
            .objects
            .get(&(resource.into(), ns.into(), name.into()))
            .cloned()
    }

    /// Objects of a resource (one namespace or all), sorted by namespace/name, with the list RV.
    pub fn list(&self, resource: &str, ns: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let st = self.lock();
        (list_in(&st.objects, resource, ns), st.rv)
    }

    /// Runs a read-modify-write atomically. Changes become visible, durable and announced only if
    /// `f` succeeds and the SQLite commit succeeds; otherwise memory is rolled back. With `dry`
    /// (`?dryRun=All`) the result is computed and then always rolled back.
    pub fn write<R>(&self, dry: bool, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        let mut st = self.lock();
        let start_rv = st.rv;
        let mut tx = Tx {
            st: &mut st,
            undo: Vec::new(),
            events: Vec::new(),
            dry,
        };
        let out = f(&mut tx);
        let Tx { undo, events, .. } = tx;
        let rollback = |st: &mut State, undo: Vec<(Key, Option<Arc<Value>>)>| {
            for (k, prev) in undo.into_iter().rev() {
                match prev {
                    Some(v) => st.objects.insert(k, v),
                    None => st.objects.remove(&k),
                };
            }
            st.rv = start_rv;
        };
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                rollback(&mut st, undo);
                return Err(e);
            }
        };
        if dry {
            rollback(&mut st, undo);
            return Ok(out);
        }
        if events.is_empty() {
            return Ok(out);
        }
        let rv = st.rv;
        let mut touched: Vec<(Key, Option<Arc<Value>>)> = Vec::new();
        for (k, _) in &undo {
            if !touched.iter().any(|(t, _)| t == k) {
                touched.push((k.clone(), st.objects.get(k).cloned()));
            }
        }
        if let Some(db) = st.db.as_mut() {
            if let Err(e) = db.commit(&touched, rv) {
                rollback(&mut st, undo);
                return Err(e);
            }
        }
        let mut h = self.history.write().unwrap_or_else(|e| e.into_inner());
        for ev in events {
            h.size += ev.size;
            h.events.push_back(Arc::new(ev));
        }
        // The newest event always stays, whatever its size, so live watches never miss it.
        while h.events.len() > self.history_cap
            || (h.size > self.history_bytes_cap && h.events.len() > 1)
        {
            if let Some(old) = h.events.pop_front() {
                h.floor = old.rv;
                h.size -= old.size;
            }
        }
        h.rv = rv;
        drop(h);
        // Under the lock, so a watch subscribing now sees either the events or the wake-up.
        self.latest.send_replace(rv);
        Ok(out)
    }

    /// Subscribes to live events and computes the starting point under one lock, so no event is
    /// missed or duplicated between the two (spec §3.8). `rv` None means ""/"0".
    pub fn watch(
        &self,
        resource: &str,
        ns: Option<&str>,
        rv: Option<u64>,
    ) -> Result<(WatchStart, watch::Receiver<u64>, u64)> {
        let st = self.lock();
        let rx = self.latest.subscribe();
        let start = match rv {
            None => WatchStart::Snapshot(list_in(&st.objects, resource, ns)),
            Some(n) => WatchStart::Replay(events_in(&self.read_history(), n, resource, ns)?),
        };
        Ok((start, rx, st.rv))
    }

    /// The events of `resource` (in `ns`, or all) after resourceVersion `after`, and the
    /// resourceVersion they bring a watch up to; 410 Expired if the history no longer reaches back.
    pub fn events_after(
        &self,
        after: u64,
        resource: &str,
        ns: Option<&str>,
    ) -> Result<(Vec<Arc<Event>>, u64)> {
        let h = self.read_history();
        Ok((events_in(&h, after, resource, ns)?, h.rv))
    }
}

fn events_in(h: &History, after: u64, resource: &str, ns: Option<&str>) -> Result<Vec<Arc<Event>>> {
    if after < h.floor {
        return Err(Error::Expired {
            requested: after,
            oldest: h.floor + 1,
        });
    }
    let first = h.events.partition_point(|e| e.rv <= after);
    Ok(h.events
        .range(first..)
        .filter(|e| e.resource == resource && ns.is_none_or(|ns| e.namespace == ns))
        .cloned()
        .collect())
}

/// A rough size of a JSON value in memory (serde_json's `Value` with its maps and strings); only
/// for budgeting the history, so cheap beats exact.
fn approx_size(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 32,
        Value::String(s) => 32 + s.len(),
        Value::Array(items) => 32 + items.iter().map(approx_size).sum::<usize>(),
        Value::Object(map) => {
            32 + map
                .iter()
                .map(|(k, v)| 64 + k.len() + approx_size(v))
                .sum::<usize>()
        }
    }
}

fn list_in(
    objects: &BTreeMap<Key, Arc<Value>>,
    resource: &str,
    ns: Option<&str>,
) -> Vec<Arc<Value>> {
    let lo = (
        resource.to_string(),
        ns.unwrap_or("").to_string(),
        String::new(),
    );
    objects
        .range(lo..)
        .take_while(|((r, n, _), _)| r == resource && ns.is_none_or(|ns| n == ns))
        .map(|(_, v)| v.clone())
        .collect()
}

/// A write transaction over the in-memory state.
pub(crate) struct Tx<'a> {
    st: &'a mut State,
    undo: Vec<(Key, Option<Arc<Value>>)>,
    events: Vec<Event>,
    /// `?dryRun=All`: objects come back with the resourceVersion they have in storage (none for a
    /// create), as kube-apiserver's DryRunnableStorage answers, so `kubectl diff` shows no bump.
    dry: bool,
}

impl Tx<'_> {
    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.st
            .objects
            .get(&(resource.into(), ns.into(), name.into()))
            .cloned()
    }

    pub fn list(&self, resource: &str, ns: Option<&str>) -> Vec<Arc<Value>> {
        list_in(&self.st.objects, resource, ns)
    }

    /// Every object of every resource, with its key (for garbage collection and namespaces).
    pub fn all(&self) -> Vec<(Key, Arc<Value>)> {
        self.st
            .objects
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
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

    /// Stores `obj` (stamping a new resourceVersion) and records ADDED or MODIFIED.
    pub fn put(&mut self, resource: &str, mut obj: Value) -> Arc<Value> {
        let rv = self.next_rv();
        let key: Key = (
            resource.into(),
            object::namespace(&obj).into(),
            object::name(&obj).into(),
        );
        let stored = self.st.objects.get(&key).cloned();
        self.stamp(&mut obj, rv, stored.as_deref());
        let obj = Arc::new(obj);
        let old = self.st.objects.insert(key.clone(), obj.clone());
        self.undo.push((key.clone(), old.clone()));
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
        });
        obj
    }

    /// Removes an object; the DELETED event carries its last state with a new resourceVersion.
    pub fn remove(&mut self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        let key: Key = (resource.into(), ns.into(), name.into());
        let old = self.st.objects.remove(&key)?;
        self.undo.push((key.clone(), Some(old.clone())));
        let rv = self.next_rv();
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
        });
        Some(last)
    }
}

//! The object store: all objects in memory (a BTreeMap keyed by resource/namespace/name, so lists
//! come out sorted like etcd keys, spec §7), written through to SQLite, one global resourceVersion,
//! and a bounded event history for watch replay (spec §6.3). Live watches read the same history:
//! they are woken with the latest resourceVersion and fetch what is new, so the only copies of old
//! object versions are the ones the history keeps, bounded by count and by bytes.
//!
//! Writes are group-committed (issue 20): a writer validates and applies its change under the state
//! lock into `pending`, queues it and waits; one committer thread takes everything queued, writes it
//! in one SQLite transaction with one fsync, then makes it visible and acknowledges it. Readers
//! (get, list, watch) only ever see committed objects, like etcd's; writers read through `pending`,
//! so they are ordered after every write applied before them. A failed commit fails its whole
//! group and every write applied after it (they were decided on top of it), and `pending` is
//! dropped: nothing half-applied stays, in memory or on disk.

mod commit;
mod sqlite;
mod tx;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock};

use serde_json::Value;
use tokio::sync::watch;

use crate::options::Options;
use crate::status::{Error, Result};

pub(crate) use tx::Tx;

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
    /// The watch line most watches send for this event (its own type, as JSON, at one
    /// apiVersion), encoded once for all of them instead of once per watch.
    line: std::sync::OnceLock<(String, axum::body::Bytes)>,
}

impl Event {
    /// The shared watch line for `api_version`, encoded by `encode` the first time.
    pub fn shared_line(
        &self,
        api_version: &str,
        encode: impl FnOnce() -> axum::body::Bytes,
    ) -> axum::body::Bytes {
        if let Some((v, line)) = self.line.get() {
            if v == api_version {
                return line.clone();
            }
            return encode();
        }
        let line = encode();
        let _ = self.line.set((api_version.to_string(), line.clone()));
        line
    }
}

/// Where objects live.
#[derive(Clone, Debug)]
pub enum Storage {
    /// Nothing persisted; for tests and simulated members.
    Memory,
    /// A SQLite database file (created if missing).
    Sqlite(PathBuf),
}

/// A key's value written by a write not yet committed (`None`: deleted), and that write's rv.
#[derive(Clone)]
struct Staged {
    value: Option<Arc<Value>>,
    rv: u64,
}

/// One write applied in memory and waiting for its commit.
struct Queued {
    /// The write's last resourceVersion (its counter value when it finished).
    rv: u64,
    /// The final state of every key it touched.
    rows: Vec<(Key, Option<Arc<Value>>)>,
    events: Vec<Event>,
    /// Told the outcome once the group is durable (or failed).
    done: std::sync::mpsc::SyncSender<Result<()>>,
}

struct State {
    /// Committed objects: what readers see.
    objects: BTreeMap<Key, Arc<Value>>,
    /// Applied but not yet committed, newest per key; writers read through it.
    pending: BTreeMap<Key, Staged>,
    /// The resourceVersion counter, including pending writes.
    rv: u64,
    /// The resourceVersion of the last committed write.
    committed_rv: u64,
    /// Pending writes in resourceVersion order, not yet taken by the committer.
    queue: Vec<Queued>,
    /// Set when the store is dropped: the committer drains the queue and stops.
    closing: bool,
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

/// What the writers, the readers and the committer thread share.
struct Shared {
    /// Lock order: `state`, then `history`.
    state: Mutex<State>,
    /// Wakes the committer when something is queued (or the store closes).
    queued: Condvar,
    history: RwLock<History>,
    /// The resourceVersion of the last commit that announced events; wakes live watches.
    latest: watch::Sender<u64>,
    history_cap: usize,
    history_bytes_cap: usize,
    /// Transactions written to the database, and the writes they carried.
    groups: AtomicU64,
    grouped_writes: AtomicU64,
}

/// How the hub's writes reached the disk since it opened: `writes` acknowledged writes in `groups`
/// transactions (one fsync each). A memory store reports zeros.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommitStats {
    pub groups: u64,
    pub writes: u64,
}

pub(crate) struct Store {
    shared: Arc<Shared>,
    /// The thread that owns the database connection; `None` for a memory store, whose writes
    /// commit in place.
    committer: Option<std::thread::JoinHandle<()>>,
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
                let (db, loaded) = sqlite::Db::open(path, opts.quota_bytes)?;
                (Some(db), loaded.objects, loaded.rv)
            }
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                objects,
                pending: BTreeMap::new(),
                rv,
                committed_rv: rv,
                queue: Vec::new(),
                closing: false,
            }),
            queued: Condvar::new(),
            history: RwLock::new(History {
                events: VecDeque::new(),
                size: 0,
                floor: rv,
                rv,
            }),
            latest: watch::Sender::new(rv),
            history_cap: opts.history.max(1),
            history_bytes_cap: opts.history_bytes,
            groups: AtomicU64::new(0),
            grouped_writes: AtomicU64::new(0),
        });
        let committer = match db {
            None => None,
            Some(db) => {
                let shared = shared.clone();
                let handle = std::thread::Builder::new()
                    .name("hub-commit".into())
                    .spawn(move || commit::run(&shared, db))
                    .map_err(|e| Error::Internal(format!("cannot start the commit thread: {e}")))?;
                Some(handle)
            }
        };
        Ok(Store { shared, committer })
    }

    /// Whether a write may wait on the disk (SQLite) rather than only on memory.
    pub fn durable(&self) -> bool {
        self.committer.is_some()
    }

    pub fn commit_stats(&self) -> CommitStats {
        CommitStats {
            groups: self.shared.groups.load(Ordering::Relaxed),
            writes: self.shared.grouped_writes.load(Ordering::Relaxed),
        }
    }

    pub fn current_rv(&self) -> u64 {
        self.shared.lock().committed_rv
    }

    pub fn get(&self, resource: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
        self.shared
            .lock()
            .objects
            .get(&(resource.into(), ns.into(), name.into()))
            .cloned()
    }

    /// Committed objects of a resource (one namespace or all), sorted by namespace/name, with
    /// the list RV.
    pub fn list(&self, resource: &str, ns: Option<&str>) -> (Vec<Arc<Value>>, u64) {
        let st = self.shared.lock();
        (list_in(&st.objects, resource, ns), st.committed_rv)
    }

    /// Runs a read-modify-write atomically and returns once it is committed (durable, for a SQLite
    /// store) and announced to watches. If `f` fails, or the commit fails, nothing of the write
    /// stays. With `dry` (`?dryRun=All`) the result is computed and then always rolled back.
    ///
    /// A SQLite store's write blocks until its group's fsync: call it from a blocking thread.
    pub fn write<R>(&self, dry: bool, f: impl FnOnce(&mut Tx<'_>) -> Result<R>) -> Result<R> {
        let mut st = self.shared.lock();
        let start_rv = st.rv;
        let mut tx = Tx::new(&mut st, dry);
        let out = f(&mut tx);
        let (undo, events) = tx.into_parts();
        let out = match out {
            Ok(out) if !dry => out,
            other => {
                tx::rollback(&mut st, undo, start_rv);
                return other;
            }
        };
        if events.is_empty() && st.pending.is_empty() {
            return Ok(out);
        }
        // A write that changed nothing may still have read pending state: it is answered once
        // that is committed, as an empty entry in the queue.
        let mut rows: Vec<(Key, Option<Arc<Value>>)> = Vec::new();
        for (k, _) in &undo {
            if !rows.iter().any(|(t, _)| t == k) {
                let now = st.pending.get(k).and_then(|s| s.value.clone());
                rows.push((k.clone(), now));
            }
        }
        let (done, outcome) = std::sync::mpsc::sync_channel(1);
        let queued = Queued {
            rv: st.rv,
            rows,
            events,
            done,
        };
        if self.committer.is_none() {
            // Memory: nothing to wait for, commit in place.
            commit::publish(&self.shared, &mut st, vec![queued]);
            return Ok(out);
        }
        st.queue.push(queued);
        drop(st);
        self.shared.queued.notify_one();
        match outcome.recv() {
            Ok(Ok(())) => Ok(out),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Internal(
                "the hub's database writer stopped; the write was not saved".into(),
            )),
        }
    }

    /// Subscribes to live events and computes the starting point under one lock, so no event is
    /// missed or duplicated between the two (spec §3.8). `rv` None means ""/"0".
    pub fn watch(
        &self,
        resource: &str,
        ns: Option<&str>,
        rv: Option<u64>,
    ) -> Result<(WatchStart, watch::Receiver<u64>, u64)> {
        let st = self.shared.lock();
        let rx = self.shared.latest.subscribe();
        let start = match rv {
            None => WatchStart::Snapshot(list_in(&st.objects, resource, ns)),
            Some(n) => WatchStart::Replay(events_in(&self.shared.read_history(), n, resource, ns)?),
        };
        Ok((start, rx, st.committed_rv))
    }

    /// The events of `resource` (in `ns`, or all) after resourceVersion `after`, and the
    /// resourceVersion they bring a watch up to; 410 Expired if the history no longer reaches back.
    pub fn events_after(
        &self,
        after: u64,
        resource: &str,
        ns: Option<&str>,
    ) -> Result<(Vec<Arc<Event>>, u64)> {
        let h = self.shared.read_history();
        Ok((events_in(&h, after, resource, ns)?, h.rv))
    }
}

impl Drop for Store {
    /// Lets the committer finish what is queued and close the database, so the file can be
    /// reopened as soon as the hub is gone.
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.queued.notify_all();
        if let Some(handle) = self.committer.take() {
            let _ = handle.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied write (rollback runs before
        // any unwinding point that matters), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read_history(&self) -> std::sync::RwLockReadGuard<'_, History> {
        // Only whole events are ever pushed or popped, so a poisoned lock is still consistent.
        self.history.read().unwrap_or_else(|e| e.into_inner())
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

/// A rough size of what one history event holds for `v`: the `Value` in memory (its maps and
/// strings) plus the watch line encoded from it once and shared by every watch
/// ([`Event::shared_line`]), reserved up front because most events reach some watch. Only for
/// budgeting the history, so cheap beats exact.
fn approx_size(v: &Value) -> usize {
    let (memory, encoded) = sizes(v);
    memory + encoded
}

/// (bytes in memory, bytes as compact JSON, ignoring escapes) of `v`.
fn sizes(v: &Value) -> (usize, usize) {
    match v {
        Value::Null | Value::Bool(_) => (32, 5),
        Value::Number(_) => (32, 8),
        Value::String(s) => (32 + s.len(), 2 + s.len()),
        Value::Array(items) => items
            .iter()
            .map(sizes)
            .fold((32, 2), |(m, e), (im, ie)| (m + im, e + ie + 1)),
        Value::Object(map) => map.iter().fold((32, 2), |(m, e), (k, v)| {
            let (vm, ve) = sizes(v);
            (m + 64 + k.len() + vm, e + k.len() + 4 + ve)
        }),
    }
}

/// The first key of `resource` (in `ns`, or all namespaces) in key order.
fn range_start(resource: &str, ns: Option<&str>) -> Key {
    (
        resource.to_string(),
        ns.unwrap_or("").to_string(),
        String::new(),
    )
}

fn in_range(key: &Key, resource: &str, ns: Option<&str>) -> bool {
    key.0 == resource && ns.is_none_or(|ns| key.1 == ns)
}

fn list_in(
    objects: &BTreeMap<Key, Arc<Value>>,
    resource: &str,
    ns: Option<&str>,
) -> Vec<Arc<Value>> {
    objects
        .range(range_start(resource, ns)..)
        .take_while(|(k, _)| in_range(k, resource, ns))
        .map(|(_, v)| v.clone())
        .collect()
}

#[cfg(test)]
mod history_size_tests {
    use super::{approx_size, sizes};
    use serde_json::json;

    /// The history's byte budget must hold the shared watch line too: a 40 KiB value costs
    /// about 40 KiB in memory and 40 KiB more once encoded for the watches.
    #[test]
    fn an_event_counts_its_value_and_its_encoded_watch_line() {
        let v = json!({
            "metadata": {"name": "big", "labels": {"a": "b"}},
            "data": {"k": "x".repeat(40 << 10)},
            "n": [1, true, null],
        });
        let encoded = serde_json::to_vec(&v).map(|b| b.len()).unwrap_or(0);
        let (_, estimate) = sizes(&v);
        assert!(
            (encoded..encoded + 32).contains(&estimate),
            "estimate {estimate} for {encoded} encoded bytes"
        );
        assert!(approx_size(&v) >= 2 * (40 << 10), "{}", approx_size(&v));
    }
}

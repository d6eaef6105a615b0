//! Group commit: one thread owns the database connection and commits whatever writers queued
//! while the previous group was on its way to the disk, in one transaction and one fsync. Only
//! then are the writes made visible, announced to watches (in resourceVersion order) and
//! acknowledged.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde_json::Value;

use super::{sqlite, Key, Queued, Shared, State};
use crate::status::Error;

/// The committer thread's loop; returns once the store is closing and the queue is empty.
pub(super) fn run(shared: &Shared, mut db: sqlite::Db) {
    loop {
        let group = {
            let mut st = shared.lock();
            while st.queue.is_empty() && !st.closing {
                st = shared.queued.wait(st).unwrap_or_else(|e| e.into_inner());
            }
            if st.queue.is_empty() {
                return;
            }
            std::mem::take(&mut st.queue)
        };
        let outcome = write_group(&mut db, &group);
        let writes = group.iter().filter(|w| !w.rows.is_empty()).count() as u64;
        if outcome.is_ok() && writes > 0 {
            shared.groups.fetch_add(1, Ordering::Relaxed);
            shared.grouped_writes.fetch_add(writes, Ordering::Relaxed);
        }
        let mut st = shared.lock();
        match outcome {
            Ok(()) => publish(shared, &mut st, group),
            Err(e) => fail(&mut st, group, &e),
        }
    }
}

/// Writes the final state of every key the group touched, and the counter, in one transaction.
fn write_group(db: &mut sqlite::Db, group: &[Queued]) -> Result<(), rusqlite::Error> {
    let mut rows: BTreeMap<&Key, &Option<Arc<Value>>> = BTreeMap::new();
    for write in group {
        for (k, v) in &write.rows {
            rows.insert(k, v);
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    let rv = group.last().map_or(0, |w| w.rv);
    db.commit(rows.into_iter(), rv)
}

/// Makes a committed group visible: objects, then the watch history and the wake-up, then the
/// writers' acknowledgements. Called with the state lock held.
pub(super) fn publish(shared: &Shared, st: &mut State, group: Vec<Queued>) {
    let Some(rv) = group.last().map(|w| w.rv) else {
        return;
    };
    let mut events = Vec::new();
    let mut acks = Vec::with_capacity(group.len());
    for write in group {
        for (k, v) in write.rows {
            if st.pending.get(&k).is_some_and(|s| s.rv <= rv) {
                st.pending.remove(&k);
            }
            match v {
                Some(v) => st.objects.insert(k, v),
                None => st.objects.remove(&k),
            };
        }
        events.extend(write.events);
        acks.push(write.done);
    }
    st.committed_rv = rv;
    if !events.is_empty() {
        let mut h = shared.history.write().unwrap_or_else(|e| e.into_inner());
        for ev in events {
            h.size += ev.size;
            h.events.push_back(Arc::new(ev));
        }
        // The newest event always stays, whatever its size, so live watches never miss it.
        while h.events.len() > shared.history_cap
            || (h.size > shared.history_bytes_cap && h.events.len() > 1)
        {
            if let Some(old) = h.events.pop_front() {
                h.floor = old.rv;
                h.size -= old.size;
            }
        }
        h.rv = rv;
        drop(h);
        // Under the state lock, so a watch subscribing now sees either the events or the wake-up.
        shared.latest.send_replace(rv);
    }
    for done in acks {
        // A writer that gave up waiting is not an error of the commit.
        let _ = done.send(Ok(()));
    }
}

/// A group whose commit failed: it, and every write queued after it (decided on top of it), fail
/// with the same cause, and the pending overlay goes, so memory is what the disk holds.
fn fail(st: &mut State, group: Vec<Queued>, cause: &rusqlite::Error) {
    let message = not_saved(cause);
    let later = std::mem::take(&mut st.queue);
    st.pending.clear();
    st.rv = st.committed_rv;
    tracing::error!(error = %cause, writes = group.len() + later.len(), "hub commit failed");
    for write in group.into_iter().chain(later) {
        let _ = write.done.send(Err(Error::NotSaved(message.clone())));
    }
}

/// What a person reads when their write was not saved.
fn not_saved(cause: &rusqlite::Error) -> String {
    let full = matches!(
        cause.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DiskFull)
    );
    if full {
        format!(
            "the write was not saved: the hub's database is full ({cause}). Nothing of it was \
             applied. Free space on the disk holding the data directory (or raise the hub's \
             quota), then retry"
        )
    } else {
        format!(
            "the write was not saved: the hub's database refused it ({cause}). Nothing of it was \
             applied; retry, and if it keeps failing check the data directory's disk"
        )
    }
}

//! SQLite persistence: one row per object plus the resourceVersion counter. WAL with
//! `synchronous=FULL`, so a write is durable once its transaction commits (issue 4: every
//! acknowledged write survives a crash).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::Key;
use crate::status::{Error, Result};

pub(crate) struct Db {
    conn: Connection,
}

pub(crate) struct Loaded {
    pub objects: BTreeMap<Key, Arc<Value>>,
    pub rv: u64,
}

impl Db {
    /// Opens the hub's database at `path` (created if absent). A file that is not an SQLite
    /// database, or one holding another program's tables, is refused with what to do, before
    /// anything is written to it.
    pub fn open(path: &Path, quota_bytes: Option<u64>) -> Result<(Db, Loaded)> {
        Self::open_checked(path, quota_bytes).map_err(|e| match e {
            Error::Storage(cause) => unusable(path, &cause.to_string()),
            other => other,
        })
    }

    fn open_checked(path: &Path, quota_bytes: Option<u64>) -> Result<(Db, Loaded)> {
        let conn = Connection::open(path)?;
        let foreign: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter(|t| !matches!(t.as_str(), "objects" | "counters"))
            .collect();
        if !foreign.is_empty() {
            return Err(unusable(
                path,
                &format!(
                    "it holds tables fleetdeck does not write ({})",
                    foreign.join(", ")
                ),
            ));
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        if let Some(quota) = quota_bytes {
            // Like etcd's backend quota: past it, commits fail with "database or disk is full"
            // and succeed again once deletions free pages.
            let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let pages = (quota / page.max(512) as u64).max(1);
            conn.pragma_update(None, "max_page_count", pages as i64)?;
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS objects (
                 resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
                 body TEXT NOT NULL, PRIMARY KEY (resource, namespace, name));
             CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);",
        )?;
        let rv: Option<i64> = conn
            .query_row(
                "SELECT value FROM counters WHERE key = 'resourceVersion'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let mut objects = BTreeMap::new();
        {
            let mut stmt = conn.prepare("SELECT resource, namespace, name, body FROM objects")?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            for row in rows {
                let (res, ns, name, body) = row?;
                let v: Value = serde_json::from_str(&body).map_err(|e| {
                    unusable(
                        path,
                        &format!("its object {res}/{ns}/{name} is not valid JSON ({e})"),
                    )
                })?;
                objects.insert((res, ns, name), Arc::new(v));
            }
        }
        Ok((
            Db { conn },
            Loaded {
                objects,
                rv: rv.unwrap_or(0).max(0) as u64,
            },
        ))
    }

    /// Writes the final state of every touched key and the counter in one transaction (one fsync).
    pub fn commit<'a>(
        &mut self,
        changes: impl Iterator<Item = (&'a Key, &'a Option<Arc<Value>>)>,
        rv: u64,
    ) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO objects (resource, namespace, name, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(resource, namespace, name) DO UPDATE SET body = excluded.body",
            )?;
            let mut delete = tx.prepare_cached(
                "DELETE FROM objects WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
            )?;
            for ((res, ns, name), obj) in changes {
                match obj {
                    Some(v) => upsert.execute(params![res, ns, name, v.to_string()])?,
                    None => delete.execute(params![res, ns, name])?,
                };
            }
        }
        tx.execute(
            "INSERT INTO counters (key, value) VALUES ('resourceVersion', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![rv as i64],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// The refusal of a database file, naming it and saying what to do.
fn unusable(path: &Path, reason: &str) -> Error {
    Error::Database(format!(
        "cannot use {} as the hub's database: {reason}. Nothing was changed in it. If it is \
         another program's file, point --data-dir elsewhere; if it is a damaged fleetdeck \
         database, move it aside (fleetdeck then starts with an empty hub) or restore it from \
         a backup",
        path.display()
    ))
}

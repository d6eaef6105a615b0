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
    pub fn open(path: &Path) -> Result<(Db, Loaded)> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
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
                    Error::Internal(format!("corrupt object {res}/{ns}/{name}: {e}"))
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

    /// Writes the final state of every touched key and the counter in one transaction.
    pub fn commit(&mut self, changes: &[(Key, Option<Arc<Value>>)], rv: u64) -> Result<()> {
        let tx = self.conn.transaction()?;
        for ((res, ns, name), obj) in changes {
            match obj {
                Some(v) => {
                    tx.execute(
                        "INSERT INTO objects (resource, namespace, name, body) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT(resource, namespace, name) DO UPDATE SET body = excluded.body",
                        params![res, ns, name, v.to_string()],
                    )?;
                }
                None => {
                    tx.execute(
                        "DELETE FROM objects WHERE resource = ?1 AND namespace = ?2 AND name = ?3",
                        params![res, ns, name],
                    )?;
                }
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

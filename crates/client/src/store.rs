//! The device's SQLite file: document snapshots plus incremental chunks,
//! persisted sync states, and the account (server, card, token, directory).
//!
//! A chunk is committed in the same transaction as the action that made it,
//! so a crash never leaves an intent half-written. Chunks are compacted into
//! a snapshot past 64 KB.

use std::path::Path;

use automerge::{AutoCommit, ChangeHash};
use rusqlite::{Connection, OptionalExtension, params};

use crate::DeviceError;

const COMPACT_BYTES: usize = 64 * 1024;

const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE account (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, snapshot BLOB NOT NULL);
CREATE TABLE doc_chunks (doc_id TEXT NOT NULL, seq INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (doc_id, seq));
CREATE TABLE sync_states (doc_id TEXT PRIMARY KEY, state BLOB NOT NULL);
"#];

pub struct Store {
    conn: Connection,
}

fn db<E: std::fmt::Display>(e: E) -> DeviceError {
    DeviceError::Storage(e.to_string())
}

/// A loaded document and what of it is already on disk.
pub struct LocalDoc {
    pub doc: AutoCommit,
    pub saved_heads: Vec<ChangeHash>,
    pub chunk_bytes: usize,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store, DeviceError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        // A deleted row's bytes are overwritten, so signing out leaves
        // nothing of the patron's documents in the file.
        conn.pragma_update(None, "secure_delete", "ON")
            .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)?;
        if version as usize > MIGRATIONS.len() {
            return Err(DeviceError::Storage(
                "this database was written by a newer app".into(),
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            conn.execute_batch(&format!(
                "BEGIN; {sql} PRAGMA user_version = {}; COMMIT;",
                i + 1
            ))
            .map_err(db)?;
        }
        Ok(Store { conn })
    }

    /// Runs one statement through the connection's statement cache.
    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(p)
    }

    /// The first column of the row `sql` selects, if any, through the cache.
    fn one<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Option<T>, DeviceError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut st| st.query_row(p, |r| r.get(0)))
            .optional()
            .map_err(db)
    }

    pub fn get(&self, key: &str) -> Result<Option<String>, DeviceError> {
        self.one("SELECT value FROM account WHERE key = ?1", [key])
    }

    pub fn set(&self, key: &str, value: &str) -> Result<(), DeviceError> {
        self.exec("INSERT INTO account(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])
            .map(|_| ())
            .map_err(db)
    }

    pub fn unset(&self, key: &str) -> Result<(), DeviceError> {
        self.exec("DELETE FROM account WHERE key = ?1", [key])
            .map(|_| ())
            .map_err(db)
    }

    pub fn load_doc(&self, id: &str, kind: &str) -> Result<LocalDoc, DeviceError> {
        let snapshot: Option<Vec<u8>> =
            self.one("SELECT snapshot FROM docs WHERE id = ?1", [id])?;
        let mut doc = match &snapshot {
            Some(s) if !s.is_empty() => AutoCommit::load(s)
                .map_err(|e| DeviceError::Storage(format!("document {kind}: {e}")))?,
            _ => AutoCommit::new(),
        };
        if snapshot.is_none() {
            self.exec(
                "INSERT INTO docs(id, kind, snapshot) VALUES (?1, ?2, x'')",
                [id, kind],
            )
            .map_err(db)?;
        }
        let mut st = self
            .conn
            .prepare_cached("SELECT bytes FROM doc_chunks WHERE doc_id = ?1 ORDER BY seq")
            .map_err(db)?;
        let chunks: Vec<Vec<u8>> = st
            .query_map([id], |r| r.get(0))
            .map_err(db)?
            .collect::<Result<_, _>>()
            .map_err(db)?;
        let mut chunk_bytes = 0;
        for c in &chunks {
            chunk_bytes += c.len();
            doc.load_incremental(c)
                .map_err(|e| DeviceError::Storage(format!("document {kind}: {e}")))?;
        }
        Ok(LocalDoc {
            saved_heads: doc.get_heads(),
            doc,
            chunk_bytes,
        })
    }

    /// Writes what changed in `d` since it was last saved. Call inside a
    /// transaction together with whatever made the change.
    pub fn save_doc(&self, id: &str, d: &mut LocalDoc) -> Result<(), DeviceError> {
        let heads = d.doc.get_heads();
        if heads == d.saved_heads {
            return Ok(());
        }
        if d.chunk_bytes > COMPACT_BYTES {
            let snapshot = d.doc.save();
            self.exec(
                "UPDATE docs SET snapshot = ?2 WHERE id = ?1",
                params![id, snapshot],
            )
            .map_err(db)?;
            self.exec("DELETE FROM doc_chunks WHERE doc_id = ?1", [id])
                .map_err(db)?;
            d.chunk_bytes = 0;
        } else {
            let bytes = d.doc.save_after(&d.saved_heads);
            self.exec(
                    "INSERT INTO doc_chunks(doc_id, seq, bytes) VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM doc_chunks WHERE doc_id = ?1), ?2)",
                    params![id, bytes],
                )
                .map_err(db)?;
            d.chunk_bytes += bytes.len();
        }
        d.saved_heads = heads;
        Ok(())
    }

    pub fn drop_doc(&self, id: &str) -> Result<(), DeviceError> {
        self.exec("DELETE FROM docs WHERE id = ?1", [id])
            .map_err(db)?;
        self.exec("DELETE FROM doc_chunks WHERE doc_id = ?1", [id])
            .map_err(db)?;
        self.exec("DELETE FROM sync_states WHERE doc_id = ?1", [id])
            .map_err(db)?;
        Ok(())
    }

    pub fn sync_state(&self, id: &str) -> Result<Option<Vec<u8>>, DeviceError> {
        self.one("SELECT state FROM sync_states WHERE doc_id = ?1", [id])
    }

    pub fn put_sync_state(&self, id: &str, state: &[u8]) -> Result<(), DeviceError> {
        self.exec("INSERT INTO sync_states(doc_id, state) VALUES (?1, ?2) ON CONFLICT(doc_id) DO UPDATE SET state = excluded.state", params![id, state])
            .map(|_| ())
            .map_err(db)
    }

    pub fn begin(&self) -> Result<(), DeviceError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)
    }

    pub fn commit(&self) -> Result<(), DeviceError> {
        // In the middle of the device's transaction (an intent being
        // recorded, a sync reply being applied).
        pustaka_crashpoint::hit("device_before_commit");
        self.conn.execute_batch("COMMIT").map_err(db)
    }

    pub fn rollback(&self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    /// Removes everything the patron owned on this device (sign-out).
    pub fn wipe(&self) -> Result<(), DeviceError> {
        self.conn
            .execute_batch("BEGIN; DELETE FROM docs; DELETE FROM doc_chunks; DELETE FROM sync_states; DELETE FROM account WHERE key != 'device_id'; COMMIT;")
            .map_err(db)?;
        // Deleted rows' bytes stay in free pages and in the write-ahead
        // log until overwritten: zero them (`secure_delete` is on), move
        // the log into the file and truncate it, and give the pages back.
        self.conn
            .execute_batch(
                "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .map_err(db)
    }
}

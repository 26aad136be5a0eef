//! The SQLite store (WAL): the source of truth for datasets, units,
//! alignments and their change log. All SQL of geoalign lives in this module.
//!
//! One writer connection behind a mutex; readers take pooled read-only
//! connections and, thanks to WAL, never block the writer nor wait for it.

mod addresses;
mod alignments;
mod datasets;
mod error;
mod schema;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use addresses::{AddressPoint, MAX_STREET_CANDIDATES};
pub use alignments::{AlignmentInfo, AlignmentStamp, ChangeRecord, NewChange};
pub use datasets::{DatasetInfo, DatasetMeta};
pub use error::StoreError;
pub use tokens::{IdempotentAnswer, NewToken, Role, TOKEN_PREFIX, TokenInfo, hex, token_hash};

/// Handle to a geoalign store file.
///
/// Durability: WAL with `synchronous = FULL` on the writer, so every acknowledged
/// change set is on disk when the call returns (`cargo bench --bench change` measures
/// what that costs a change).
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    max_alignments: AtomicUsize,
}

/// How many alignments a store keeps by default (the `max_alignments` setting): each
/// is a copy of its units' assignments on disk and, once read, a snapshot in memory,
/// so copies without end would fill both.
pub const MAX_ALIGNMENTS: usize = 1000;

/// Readers kept open for reuse.
const POOLED_READERS: usize = 8;

impl Store {
    /// Opens (creating if needed) and migrates the store at `path`.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = geoalign::store::Store::open(&dir.path().join("g.db")).unwrap();
    /// assert!(store.datasets().unwrap().is_empty());
    /// ```
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
        conn.execute_batch(
            // FULL: the WAL is synced at every commit, so an acknowledged change set
            // survives a power cut, not only a crash of the process (NORMAL).
            // temp_store: statement journals (each `INSERT OR REPLACE` keeps one, to undo
            // its own half if it fails) stay in memory instead of a temporary file written
            // page by page: a million account rows spent 20% of their import there.
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(err)?;
        migrate(&mut conn, path)?;
        Ok(Store {
            path: path.to_owned(),
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            max_alignments: AtomicUsize::new(MAX_ALIGNMENTS),
        })
    }

    /// How many alignments the store keeps at most (creating one more is refused).
    pub fn max_alignments(&self) -> usize {
        self.max_alignments.load(Ordering::Relaxed)
    }

    /// Sets [`Store::max_alignments`] (at least 1).
    pub fn set_max_alignments(&self, limit: usize) {
        self.max_alignments.store(limit.max(1), Ordering::Relaxed);
    }

    /// The value of an integer pragma on the writer connection (e.g. `synchronous`).
    pub fn writer_pragma(&self, name: &str) -> Result<i64, StoreError> {
        self.writer()
            .pragma_query_value(None, name, |r| r.get(0))
            .map_err(|e| self.sqlite_error(e))
    }

    /// Sets the writer's `synchronous` pragma (`FULL`, the default of [`Store::open`], or
    /// `NORMAL`: faster commits that a power cut may lose): for measuring what FULL costs.
    pub fn set_synchronous(&self, mode: &str) -> Result<(), StoreError> {
        self.writer()
            .pragma_update(None, "synchronous", mode)
            .map_err(|e| self.sqlite_error(e))
    }

    /// Path of the store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sqlite_error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The single writer connection.
    fn writer(&self) -> MutexGuard<'_, Connection> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on a pooled read-only connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let pooled = self.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(|e| self.sqlite_error(e))?;
                conn.busy_timeout(Duration::from_secs(10))
                    .map_err(|e| self.sqlite_error(e))?;
                conn
            }
        };
        let result = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < POOLED_READERS {
            pool.push(conn);
        }
        result
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let err = |source| StoreError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let known = schema::MIGRATIONS.len() as i64;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(err)?;
    if version > known {
        return Err(StoreError::FutureSchema {
            path: path.to_owned(),
            found: version,
            known,
        });
    }
    for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction().map_err(err)?;
        tx.execute_batch(sql).map_err(err)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)
            .map_err(err)?;
        tx.commit().map_err(err)?;
        tracing::info!(path = %path.display(), version = i + 1, "store migrated");
    }
    Ok(())
}

//! The SQLite reads of the token endpoint's hot paths (token, code and user by key), run on the
//! calling thread with rusqlite instead of through sqlx.
//!
//! sqlx runs every SQLite statement on a worker thread of its own and hands the answer
//! back: two thread wake-ups per read. Profiling introspection showed the tokio workers
//! spending over a third of their time in the kernel switching threads for that. A read by
//! primary key in WAL mode takes a few microseconds and never waits for the writer, so it
//! is cheaper to run it in place, like any other short computation of a request. The
//! connections are read-only, from a small r2d2 pool (one per thread that reads at once).

use crate::tables::Row;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::Duration;
use tollgate_core::store::{Cause, StoreError};

/// Threads that may read at once: the runtime's workers and a few blocking threads.
const MAX_CONNECTIONS: u32 = 8;

#[derive(Clone)]
pub(crate) struct HotReader {
    pool: r2d2::Pool<SqliteConnectionManager>,
}

fn db_error(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Database(Cause::new(e))
}

impl HotReader {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let manager = SqliteConnectionManager::file(path)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(|c| c.busy_timeout(Duration::from_secs(5)));
        let pool = r2d2::Pool::builder()
            .max_size(MAX_CONNECTIONS)
            .min_idle(Some(0))
            // A local file does not go stale; checking would be one more statement per read.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(db_error)?;
        Ok(Self { pool })
    }

    /// The one row `sql` (with `$1` = `key`) selects, if any, mapped by its table's
    /// `Row::from_rusqlite`.
    pub fn row<T: Row>(&self, sql: &str, key: &str) -> Result<Option<T>, StoreError> {
        let conn = self.pool.get().map_err(db_error)?;
        let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
        stmt.query_row([key], T::from_rusqlite)
            .optional()
            .map_err(db_error)
    }
}

use crate::classify;
use crate::sqlite_writer::{token_batcher, Target};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::str::FromStr;
use std::time::Duration;
use tollgate_core::store::StoreError;

/// SQLite in WAL mode. All writes go through one connection: SQLite has a single writer
/// anyway, and queueing in the pool is fairer than racing for the lock (and never
/// surfaces `SQLITE_BUSY` to a request). Reads use a separate read-only pool and run
/// alongside the writer, as WAL allows.
pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    pub(crate) batcher: crate::batch::TokenBatcher,
    /// Token reads on the caller's thread (`sqlite_hot.rs`); `None` for an in-memory
    /// database, where reads go through the writer connection: a read-only connection
    /// beside it would meet shared-cache table locks instead of WAL snapshots.
    hot: Option<crate::sqlite_hot::HotReader>,
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("database_url: {e}").into()))?
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a write acknowledged to a client survives power loss, not only a crash
            // of the process.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            // A multi-row INSERT keeps a statement journal so it can undo itself on a
            // constraint error; on disk that is a temp file created, written and unlinked
            // for every token batch. In memory it costs a few pages.
            .pragma("temp_store", "MEMORY");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // No ping before each acquire: it is one more round trip to the connection's
            // worker thread, a third of each token batch's time, and an open SQLite file
            // does not go stale the way a network connection does.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(classify)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}").into()))?;
        // Each connection to an in-memory database is a database of its own, so the
        // writer has to serve reads too.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let lease = crate::batch::Lease::new(writer.clone());
        let (reader, hot, batcher) = if in_memory {
            let batcher = token_batcher(base.get_filename(), Target::SharedMemory, lease)?;
            (writer.clone(), None, batcher)
        } else {
            let hot = crate::sqlite_hot::HotReader::open(base.get_filename())?;
            let batcher = token_batcher(base.get_filename(), Target::File, lease)?;
            let reader = SqlitePoolOptions::new()
                .max_connections(4)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(base.read_only(true))
                .await
                .map_err(classify)?;
            (reader, Some(hot), batcher)
        };
        let store = Self {
            batcher,
            writer,
            reader,
            hot,
        };
        store.rekey_identities().await?;
        Ok(store)
    }
}

/// What the shared queries are compiled for here (see `queries/mod.rs`).
type This = SqliteStore;
type Db = sqlx::Sqlite;
const BACKEND: &str = "sqlite";
// The same queries compiled once per backend, as intended (not one module loaded twice by
// mistake, which is what the lint guards against).
#[allow(clippy::duplicate_mod)]
#[path = "queries/mod.rs"]
mod queries;

impl crate::tables::HotReads for SqliteStore {
    /// Reads of the token endpoint's hot paths run on the caller's thread
    /// (`sqlite_hot.rs`), except on an in-memory database.
    fn hot_row<T: crate::tables::Row>(
        &self,
        sql: &str,
        key: &str,
    ) -> Option<Result<Option<T>, StoreError>> {
        self.hot.as_ref().map(|h| h.row(sql, key))
    }
}

impl tollgate_core::store::PoolStore for SqliteStore {
    fn pool_stats(&self) -> Vec<tollgate_core::store::PoolStats> {
        vec![
            crate::pool_stats("writer", &self.writer),
            crate::pool_stats("reader", &self.reader),
        ]
    }
}

use crate::classify;
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
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let base = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Database(format!("database_url: {e}")))?
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a write acknowledged to a client survives power loss, not only a crash
            // of the process.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(classify)?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        // Each connection to an in-memory database is a database of its own, so the
        // writer has to serve reads too.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let reader = if in_memory {
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(base.read_only(true))
                .await
                .map_err(classify)?
        };
        Ok(Self {
            batcher: Self::token_batcher(writer.clone()),
            writer,
            reader,
        })
    }
}

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite, "sqlite");

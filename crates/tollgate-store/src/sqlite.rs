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
    /// Token reads on the caller's thread (`sqlite_hot.rs`); `None` for an in-memory
    /// database, which only the writer connection can see. For the same reason the token
    /// batches of an in-memory database go through sqlx (`token_batcher` below), those of
    /// a file through their own thread and connection (`sqlite_writer.rs`).
    hot: Option<crate::sqlite_hot::HotReader>,
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
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        // Each connection to an in-memory database is a database of its own, so the
        // writer has to serve reads too.
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let (reader, hot, batcher) = if in_memory {
            (writer.clone(), None, Self::token_batcher(writer.clone()))
        } else {
            let hot = crate::sqlite_hot::HotReader::open(base.get_filename())?;
            let batcher = crate::sqlite_writer::token_batcher(
                base.get_filename(),
                crate::batch::Lease::new(writer.clone()),
            )?;
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

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite, "sqlite");

impl SqliteStore {
    /// Reads of the token endpoint's hot paths run on the caller's thread
    /// (`sqlite_hot.rs`), except on an in-memory database.
    fn hot_row<T>(
        &self,
        sql: &str,
        key: &str,
        map: crate::sqlite_hot::RowFn<T>,
    ) -> Option<Result<Option<T>, StoreError>> {
        self.hot.as_ref().map(|h| h.row(sql, key, map))
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

impl SqliteStore {
    /// The group-commit writer of an in-memory database, through sqlx: the writer thread
    /// of a file (`sqlite_writer.rs`) opens a connection of its own, which could not see
    /// this database. The same statements, one round trip to sqlx's worker each; an
    /// in-memory database is for tests and trials, not for speed.
    fn token_batcher(pool: SqlitePool) -> crate::batch::TokenBatcher {
        let lease = crate::batch::Lease::new(pool);
        crate::batch::TokenBatcher::spawn(Box::new(move |batch| {
            let lease = lease.clone();
            Box::pin(async move {
                let mut held = lease.get().await.map_err(classify)?;
                let conn = held.conn()?;
                let result = write_batch(conn, &batch).await;
                if result.is_err() {
                    // A statement failed inside the explicit transaction: end it, so the
                    // next batch starts clean; if even that fails, close the connection.
                    let rolled_back = sqlx::query("ROLLBACK").execute(&mut **conn).await.is_ok();
                    held.discard(!rolled_back);
                }
                result
            })
        }))
    }
}

/// As `sqlite_writer::write_batch`: each write's claim, then its tokens if it won.
async fn write_batch(
    conn: &mut sqlx::SqliteConnection,
    batch: &[crate::batch::Write],
) -> Result<Vec<bool>, StoreError> {
    use crate::rows::ms;
    use crate::sqlite_writer::{claim_sql, INSERT_TOKEN};
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    let mut won = Vec::with_capacity(batch.len());
    for w in batch {
        let took = match &w.claim {
            None => true,
            Some(c) => {
                sqlx::query(claim_sql(c.kind))
                    .bind(&c.key)
                    .bind(ms(c.now))
                    .execute(&mut *conn)
                    .await
                    .map_err(classify)?
                    .rows_affected()
                    == 1
            }
        };
        if took {
            for t in &w.tokens {
                sqlx::query(INSERT_TOKEN)
                    .bind(&t.id)
                    .bind(&t.token_hash)
                    .bind(t.kind.as_str())
                    .bind(&t.client_id)
                    .bind(&t.user_id)
                    .bind(&t.username)
                    .bind(tollgate_core::token::join_scopes(&t.scopes))
                    .bind(t.grant_type.as_str())
                    .bind(&t.family_id)
                    .bind(t.refreshes_left.map(i64::from))
                    .bind(t.client_epoch)
                    .bind(t.user_epoch)
                    .bind(ms(t.issued_at))
                    .bind(t.expires_at.map(ms))
                    .bind(t.revoked_at.map(ms))
                    .bind(t.consumed_at.map(ms))
                    .execute(&mut *conn)
                    .await
                    .map_err(|e| crate::classify_unique(e, "token"))?;
            }
        }
        won.push(took);
    }
    sqlx::query("COMMIT")
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    Ok(won)
}

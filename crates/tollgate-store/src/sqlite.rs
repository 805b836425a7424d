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
    /// database, which only the writer connection can see.
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
        let (reader, hot) = if in_memory {
            (writer.clone(), None)
        } else {
            let hot = crate::sqlite_hot::HotReader::open(base.get_filename())?;
            let reader = SqlitePoolOptions::new()
                .max_connections(4)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(base.read_only(true))
                .await
                .map_err(classify)?;
            (reader, Some(hot))
        };
        Ok(Self {
            batcher: Self::token_batcher(writer.clone()),
            writer,
            reader,
            hot,
        })
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

/// A whole batch is one statement: the rows travel as one JSON array and SQLite unpacks
/// them with `json_each`. sqlx runs every statement as a round trip to the connection's
/// worker thread, so one statement per token made the writer spend its time on thread
/// hand-offs (2–4 ms per batch of 16); one prepared statement per batch, whatever its size,
/// also stays in the statement cache.
macro_rules! insert_tokens_json {
    () => {
        "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, \
         username, scopes, grant_type, family_id, refreshes_left, client_epoch, user_epoch, \
         issued_at, expires_at, revoked_at, consumed_at) \
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, \
         value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, \
         value->>14, value->>15 FROM json_each($1)"
    };
}
/// A batch without claims: its whole transaction as one command.
const BEGIN_INSERT_COMMIT_JSON: &str =
    concat!("BEGIN IMMEDIATE; ", insert_tokens_json!(), "; COMMIT");
/// The second command of a batch with claims (`CLAIM_BOTH_JSON` opened the transaction).
const INSERT_COMMIT_JSON: &str = concat!(insert_tokens_json!(), "; COMMIT");

/// Single-use claims for a whole batch, opening its transaction: `$1` (codes) and `$2`
/// (refresh tokens) are JSON arrays of `[key, now_ms]`; the rows that were still unclaimed
/// come back as `(0, code_hash)` and `(1, id)`.
const CLAIM_BOTH_JSON: &str = "BEGIN IMMEDIATE; \
     UPDATE auth_codes SET used_at = \
     (SELECT value->>1 FROM json_each($1) WHERE value->>0 = auth_codes.code_hash LIMIT 1) \
     WHERE used_at IS NULL AND code_hash IN (SELECT value->>0 FROM json_each($1)) \
     RETURNING 0, code_hash; \
     UPDATE tokens SET consumed_at = \
     (SELECT value->>1 FROM json_each($2) WHERE value->>0 = tokens.id LIMIT 1) \
     WHERE kind = 'refresh' AND consumed_at IS NULL AND revoked_at IS NULL \
     AND id IN (SELECT value->>0 FROM json_each($2)) RETURNING 1, id";

impl SqliteStore {
    /// The group-commit writer. sqlx hands every command to the connection's worker thread
    /// and waits for the answer; on a busy 2-core machine each hand-off can wait for a time
    /// slice, so a batch is as few commands as possible: `BEGIN; INSERT; COMMIT` is one, and
    /// a batch with claims is two (the claims, then the inserts of the writes that won and
    /// the commit). Statements are numbered-parameter multi-statement queries, which sqlx
    /// runs in one go on the worker.
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

async fn write_batch(
    conn: &mut sqlx::SqliteConnection,
    batch: &[crate::batch::Write],
) -> Result<Vec<bool>, StoreError> {
    use crate::batch::{claims_of, settle, winning_tokens, ClaimKind};
    use sqlx::Row;
    let claims = |kind| -> Result<String, StoreError> {
        let arg: Vec<(&str, i64)> = claims_of(batch, kind)
            .iter()
            .map(|(k, now)| (*k, crate::rows::ms(*now)))
            .collect();
        serde_json::to_string(&arg).map_err(|e| StoreError::Database(e.to_string()))
    };
    let (won, insert) = if batch.iter().any(|w| w.claim.is_some()) {
        let rows = sqlx::query(CLAIM_BOTH_JSON)
            .bind(claims(ClaimKind::Code)?)
            .bind(claims(ClaimKind::Refresh)?)
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?;
        let mut won_keys = Vec::with_capacity(rows.len());
        for row in rows {
            let kind = if row.try_get::<i64, _>(0).map_err(classify)? == 0 {
                ClaimKind::Code
            } else {
                ClaimKind::Refresh
            };
            won_keys.push((kind, row.try_get::<String, _>(1).map_err(classify)?));
        }
        (settle(batch, won_keys), INSERT_COMMIT_JSON)
    } else {
        (vec![true; batch.len()], BEGIN_INSERT_COMMIT_JSON)
    };
    sqlx::query(insert)
        .bind(tokens_json(winning_tokens(batch, &won)))
        .execute(&mut *conn)
        .await
        .map_err(|e| crate::classify_unique(e, "token"))?;
    Ok(won)
}

/// The batch as a JSON array of rows, columns in `insert_tokens_json!` order.
fn tokens_json<'a>(batch: impl Iterator<Item = &'a tollgate_core::token::TokenRecord>) -> String {
    use crate::rows::ms;
    use serde_json::{json, Value};
    let rows: Vec<Value> = batch
        .map(|t| {
            json!([
                t.id,
                t.token_hash,
                t.kind.as_str(),
                t.client_id,
                t.user_id,
                t.username,
                tollgate_core::token::join_scopes(&t.scopes),
                t.grant_type.as_str(),
                t.family_id,
                t.refreshes_left,
                t.client_epoch,
                t.user_epoch,
                ms(t.issued_at),
                t.expires_at.map(ms),
                t.revoked_at.map(ms),
                t.consumed_at.map(ms),
            ])
        })
        .collect();
    Value::Array(rows).to_string()
}

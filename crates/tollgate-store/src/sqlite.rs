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
const INSERT_TOKENS_JSON: &str = "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, \
     username, scopes, grant_type, family_id, refreshes_left, client_epoch, user_epoch, \
     issued_at, expires_at, revoked_at, consumed_at) \
     SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, \
     value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13, \
     value->>14, value->>15 FROM json_each($1)";

/// Single-use claims for a whole batch in one statement each: `$1` is a JSON array of
/// `[key, now_ms]`; the rows that were still unclaimed come back.
const CLAIM_CODES_JSON: &str = "UPDATE auth_codes SET used_at = \
     (SELECT value->>1 FROM json_each($1) WHERE value->>0 = auth_codes.code_hash LIMIT 1) \
     WHERE used_at IS NULL AND code_hash IN (SELECT value->>0 FROM json_each($1)) \
     RETURNING code_hash";
const CLAIM_REFRESH_JSON: &str = "UPDATE tokens SET consumed_at = \
     (SELECT value->>1 FROM json_each($1) WHERE value->>0 = tokens.token_hash LIMIT 1) \
     WHERE kind = 'refresh' AND consumed_at IS NULL AND revoked_at IS NULL \
     AND token_hash IN (SELECT value->>0 FROM json_each($1)) RETURNING token_hash";

impl SqliteStore {
    /// The group-commit writer: one transaction, one UPDATE per kind of claim and one
    /// INSERT for a whole batch.
    fn token_batcher(pool: SqlitePool) -> crate::batch::TokenBatcher {
        use crate::batch::{claims_of, settle, winning_tokens, ClaimKind};
        crate::batch::TokenBatcher::spawn(Box::new(move |batch| {
            let pool = pool.clone();
            Box::pin(async move {
                let mut tx = pool.begin().await.map_err(classify)?;
                let mut won_keys = Vec::new();
                for (kind, sql) in [
                    (ClaimKind::Code, CLAIM_CODES_JSON),
                    (ClaimKind::Refresh, CLAIM_REFRESH_JSON),
                ] {
                    let claims = claims_of(&batch, kind);
                    if claims.is_empty() {
                        continue;
                    }
                    let arg: Vec<(&str, i64)> = claims
                        .iter()
                        .map(|(k, now)| (*k, crate::rows::ms(*now)))
                        .collect();
                    let arg = serde_json::to_string(&arg)
                        .map_err(|e| StoreError::Database(e.to_string()))?;
                    let keys: Vec<String> = sqlx::query_scalar(sql)
                        .bind(arg)
                        .fetch_all(&mut *tx)
                        .await
                        .map_err(classify)?;
                    won_keys.extend(keys.into_iter().map(|k| (kind, k)));
                }
                let won = settle(&batch, won_keys);
                let rows = tokens_json(winning_tokens(&batch, &won));
                if rows != "[]" {
                    sqlx::query(INSERT_TOKENS_JSON)
                        .bind(rows)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| crate::classify_unique(e, "token"))?;
                }
                tx.commit().await.map_err(classify)?;
                Ok(won)
            })
        }))
    }
}

/// The batch as a JSON array of rows, columns in `INSERT_TOKENS_JSON` order.
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

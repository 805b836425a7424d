use crate::classify;
use crate::tables::{self, Get};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::Duration;
use tollgate_core::store::StoreError;
use tollgate_core::token::TokenRecord;

/// PostgreSQL: one pool for reads and writes; the server handles concurrency.
pub struct PgStore {
    pub(crate) writer: PgPool,
    pub(crate) reader: PgPool,
    pub(crate) batcher: crate::batch::TokenBatcher,
}

impl PgStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            // Fail fast when the database is down instead of leaving requests hanging: sqlx
            // retries a refused connect until this deadline, so it is what an outage costs
            // each request before its 503. A healthy pool hands out connections in
            // microseconds; a second's wait means the database is gone or overloaded.
            .acquire_timeout(Duration::from_secs(1))
            // No ping before each acquire: it doubled the round trips of every read and of
            // every token batch. A connection the server dropped fails its next statement
            // instead, that request gets a 503, and sqlx discards the connection.
            .test_before_acquire(false)
            .connect(url)
            .await
            .map_err(classify)?;
        // sqlx takes an advisory lock, so instances starting together migrate once.
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}").into()))?;
        let store = Self {
            batcher: Self::token_batcher(pool.clone()),
            writer: pool.clone(),
            reader: pool,
        };
        store.rekey_identities().await?;
        Ok(store)
    }
}

/// What the shared queries are compiled for here (see `queries/mod.rs`).
type This = PgStore;
type Db = sqlx::Postgres;
const BACKEND: &str = "postgres";
// The same queries compiled once per backend, as intended (not one module loaded twice by
// mistake, which is what the lint guards against).
#[allow(clippy::duplicate_mod)]
#[path = "queries/mod.rs"]
mod queries;

/// No synchronous read path: every read goes through the pool.
impl crate::tables::HotReads for PgStore {}

impl tollgate_core::store::PoolStore for PgStore {
    fn pool_stats(&self) -> Vec<tollgate_core::store::PoolStats> {
        // Reads and writes share one pool here.
        vec![crate::pool_stats("main", &self.writer)]
    }
}

/// A whole batch is one statement: each column of `tables::TOKEN_INSERT` travels as one
/// array parameter and UNNEST zips them back into rows, so a batch costs one round trip to
/// the server whatever its size, and the statement is prepared once.
static INSERT_TOKENS_UNNEST: LazyLock<String> = LazyLock::new(|| {
    tables::insert_sql("tokens", tables::TOKEN_INSERT, |_| {
        let arrays: Vec<String> = tables::TOKEN_INSERT
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}", i + 1, c.pg_array()))
            .collect();
        format!("SELECT * FROM UNNEST({})", arrays.join(", "))
    })
});

/// Single-use claims for a whole batch in one statement each (`$1` keys, `$2` times); the
/// rows that were still unclaimed come back. Under READ COMMITTED a concurrent claimer
/// waits for the row lock and then re-checks the condition, so exactly one wins.
const CLAIM_CODES_UNNEST: &str = "UPDATE auth_codes a SET used_at = c.now \
     FROM UNNEST($1::text[], $2::bigint[]) AS c(key, now) \
     WHERE a.code_hash = c.key AND a.used_at IS NULL RETURNING a.code_hash";
const CLAIM_REFRESH_UNNEST: &str = "UPDATE tokens t SET consumed_at = c.now \
     FROM UNNEST($1::text[], $2::bigint[]) AS c(key, now) \
     WHERE t.id = c.key AND t.kind = 'refresh' AND t.consumed_at IS NULL \
     AND t.revoked_at IS NULL RETURNING t.id";

impl PgStore {
    /// The group-commit writer: one transaction, one UPDATE per kind of claim and one
    /// INSERT for a whole batch (a batch without claims is the INSERT alone), on a leased
    /// connection (`batch::Lease`).
    fn token_batcher(pool: PgPool) -> crate::batch::TokenBatcher {
        let lease = crate::batch::Lease::new(pool);
        crate::batch::TokenBatcher::spawn(Box::new(move |batch| {
            let lease = lease.clone();
            Box::pin(async move {
                let mut held = lease.get().await.map_err(classify)?;
                let result = write_batch(held.conn()?, &batch).await;
                if let Err(e) = &result {
                    // The transaction rolls back as it is dropped. After a connection
                    // error the connection is not kept: the server may have gone away.
                    held.discard(matches!(e, StoreError::Unavailable(_)));
                }
                result
            })
        }))
    }
}

async fn write_batch(
    conn: &mut sqlx::PgConnection,
    batch: &[crate::batch::Write],
) -> Result<Vec<bool>, StoreError> {
    use crate::batch::{claims_of, settle, winning_tokens, ClaimKind};
    use crate::tables::ms;
    use sqlx::Connection;
    if batch.iter().all(|w| w.claim.is_none()) {
        // One statement is a transaction of its own: no BEGIN and COMMIT round trips.
        let tokens: Vec<&TokenRecord> = batch.iter().flat_map(|w| w.tokens.iter()).collect();
        insert_tokens(conn, &tokens).await?;
        return Ok(vec![true; batch.len()]);
    }
    let mut tx = conn.begin().await.map_err(classify)?;
    let mut won_keys = Vec::new();
    for (kind, sql) in [
        (ClaimKind::Code, CLAIM_CODES_UNNEST),
        (ClaimKind::Refresh, CLAIM_REFRESH_UNNEST),
    ] {
        let claims = claims_of(batch, kind);
        if claims.is_empty() {
            continue;
        }
        let keys: Vec<String> = sqlx::query_scalar(sql)
            .bind(claims.iter().map(|(k, _)| *k).collect::<Vec<_>>())
            .bind(claims.iter().map(|(_, now)| ms(*now)).collect::<Vec<_>>())
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        won_keys.extend(keys.into_iter().map(|k| (kind, k)));
    }
    let won = settle(batch, won_keys);
    let tokens: Vec<&TokenRecord> = winning_tokens(batch, &won).collect();
    insert_tokens(&mut tx, &tokens).await?;
    tx.commit().await.map_err(classify)?;
    Ok(won)
}

/// One INSERT for all of `tokens`, a column per array.
async fn insert_tokens(
    conn: &mut sqlx::PgConnection,
    tokens: &[&TokenRecord],
) -> Result<(), StoreError> {
    if tokens.is_empty() {
        return Ok(());
    }
    let mut q = sqlx::query(&INSERT_TOKENS_UNNEST);
    for col in tables::TOKEN_INSERT {
        q = match col.get {
            Get::Text(f) => q.bind(
                tokens
                    .iter()
                    .map(|t| f(t).map(Cow::into_owned))
                    .collect::<Vec<_>>(),
            ),
            Get::Int(f) => q.bind(tokens.iter().map(|t| f(t)).collect::<Vec<_>>()),
            Get::Bool(f) => q.bind(tokens.iter().map(|t| f(t)).collect::<Vec<_>>()),
        };
    }
    q.execute(&mut *conn)
        .await
        .map_err(|e| crate::classify_unique(e, "token"))?;
    Ok(())
}

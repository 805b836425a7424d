use crate::classify;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::time::Duration;
use tollgate_core::store::StoreError;

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
            // Fail fast when the database is down instead of leaving requests hanging.
            .acquire_timeout(Duration::from_secs(3))
            .connect(url)
            .await
            .map_err(classify)?;
        // sqlx takes an advisory lock, so instances starting together migrate once.
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        Ok(Self {
            batcher: Self::token_batcher(pool.clone()),
            writer: pool.clone(),
            reader: pool,
        })
    }
}

crate::sql::sql_store!(PgStore, sqlx::Postgres, "postgres");

/// A whole batch is one statement: each column travels as one array parameter and UNNEST
/// zips them back into rows, so a batch costs one round trip to the server whatever its
/// size, and the statement is prepared once.
const INSERT_TOKENS_UNNEST: &str = "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, \
     username, scopes, grant_type, family_id, refreshes_left, client_epoch, user_epoch, \
     issued_at, expires_at, revoked_at, consumed_at) \
     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
     $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], \
     $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])";

impl PgStore {
    /// The group-commit writer: one INSERT (its own transaction) for a batch of tokens.
    fn token_batcher(pool: PgPool) -> crate::batch::TokenBatcher {
        use crate::rows::ms;
        crate::batch::TokenBatcher::spawn(Box::new(move |batch| {
            let pool = pool.clone();
            Box::pin(async move {
                let col = |f: &dyn Fn(&tollgate_core::token::TokenRecord) -> Option<String>| {
                    batch.iter().map(f).collect::<Vec<_>>()
                };
                let int = |f: &dyn Fn(&tollgate_core::token::TokenRecord) -> Option<i64>| {
                    batch.iter().map(f).collect::<Vec<_>>()
                };
                sqlx::query(INSERT_TOKENS_UNNEST)
                    .bind(col(&|t| Some(t.id.clone())))
                    .bind(col(&|t| Some(t.token_hash.clone())))
                    .bind(col(&|t| Some(t.kind.as_str().to_owned())))
                    .bind(col(&|t| Some(t.client_id.clone())))
                    .bind(col(&|t| t.user_id.clone()))
                    .bind(col(&|t| t.username.clone()))
                    .bind(col(&|t| Some(tollgate_core::token::join_scopes(&t.scopes))))
                    .bind(col(&|t| Some(t.grant_type.as_str().to_owned())))
                    .bind(col(&|t| t.family_id.clone()))
                    .bind(int(&|t| t.refreshes_left.map(i64::from)))
                    .bind(int(&|t| Some(t.client_epoch)))
                    .bind(int(&|t| t.user_epoch))
                    .bind(int(&|t| Some(ms(t.issued_at))))
                    .bind(int(&|t| t.expires_at.map(ms)))
                    .bind(int(&|t| t.revoked_at.map(ms)))
                    .bind(int(&|t| t.consumed_at.map(ms)))
                    .execute(&pool)
                    .await
                    .map_err(|e| crate::classify_unique(e, "token"))?;
                Ok(())
            })
        }))
    }
}

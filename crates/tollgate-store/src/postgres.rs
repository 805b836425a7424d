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

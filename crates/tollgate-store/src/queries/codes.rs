//! `CodeStore`: codes are redeemed through the group-commit writer (`batch.rs`).

use super::*;

#[async_trait]
impl CodeStore for This {
    async fn insert_code(&self, c: &AuthCode) -> Result<(), StoreError> {
        static INSERT: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| tables::insert_row_sql("auth_codes", tables::CODE_WRITE));
        bind_cols(sqlx::query(&INSERT), tables::CODE_WRITE, c)
            .execute(&self.writer)
            .await
            .map_err(|e| classify_unique(e, "authorization code"))?;
        Ok(())
    }

    async fn find_code(&self, code_hash: &str) -> Result<Option<AuthCode>, StoreError> {
        read_one(
            self,
            &tables::CODE_BY_HASH,
            code_hash,
            AuthCodeRow::into_code,
        )
        .await
    }

    async fn redeem_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
        tokens: &[TokenRecord],
    ) -> Result<bool, StoreError> {
        // RFC 6749 §4.1.2: single use. Check and mark in one conditional UPDATE.
        claim(self, crate::batch::ClaimKind::Code, code_hash, now, tokens).await
    }

    async fn purge_codes(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        purge(
            self,
            "auth_codes",
            "code_hash",
            "expires_at",
            cutoff,
            batch.into(),
        )
        .await
    }
}

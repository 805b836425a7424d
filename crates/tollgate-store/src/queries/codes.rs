//! `CodeStore`: codes are redeemed through the group-commit writer (`batch.rs`).

use super::*;

#[async_trait]
impl CodeStore for This {
    async fn insert_code(&self, c: &AuthCode) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, redirect_uri_given, \
             scopes, code_challenge, family_id, client_epoch, user_epoch, issued_at, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(&c.code_hash)
        .bind(&c.client_id)
        .bind(&c.user_id)
        .bind(&c.redirect_uri)
        .bind(c.redirect_uri_given)
        .bind(join_scopes(&c.scopes))
        .bind(&c.code_challenge)
        .bind(&c.family_id)
        .bind(c.client_epoch)
        .bind(c.user_epoch)
        .bind(ms(c.issued_at))
        .bind(ms(c.expires_at))
        .bind(c.used_at.map(ms))
        .execute(&self.writer)
        .await
        .map_err(|e| classify_unique(e, "authorization code"))?;
        Ok(())
    }

    async fn find_code(&self, code_hash: &str) -> Result<Option<AuthCode>, StoreError> {
        read_one::<AuthCodeRow>(self, &tables::CODE_BY_HASH, code_hash)
            .await?
            .map(AuthCodeRow::into_code)
            .transpose()
    }

    async fn redeem_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
        tokens: &[TokenRecord],
    ) -> Result<bool, StoreError> {
        // RFC 6749 §4.1.2: single use. Check and mark in one conditional UPDATE.
        self.batcher
            .write(crate::batch::Write {
                claim: Some(crate::batch::Claim {
                    kind: crate::batch::ClaimKind::Code,
                    key: code_hash.to_owned(),
                    now,
                }),
                tokens: tokens.to_vec(),
            })
            .await
    }

    async fn purge_codes(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "DELETE FROM auth_codes WHERE code_hash IN \
             (SELECT code_hash FROM auth_codes WHERE expires_at < $1 LIMIT $2)",
        )
        .bind(ms(cutoff))
        .bind(i64::from(batch))
        .execute(&self.writer)
        .await
        .map_err(classify)?
        .rows_affected())
    }
}

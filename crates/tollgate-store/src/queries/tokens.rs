//! `TokenStore`: point reads, the list filter, revocation, the janitor's marking and purge; inserts and refresh rotation go through the group-commit writer (`batch.rs`).

use super::*;

#[async_trait]
impl TokenStore for This {
    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        self.batcher
            .write(crate::batch::Write {
                claim: None,
                tokens: tokens.to_vec(),
            })
            .await
            .map(|_| ())
    }

    async fn find_legacy_token(&self, token_hash: &str) -> Result<Option<TokenState>, StoreError> {
        read_one(
            self,
            &tables::TOKEN_BY_LEGACY_HASH,
            token_hash,
            TokenRow::into_token,
        )
        .await
    }

    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenState>, StoreError> {
        read_one(self, &tables::TOKEN_BY_ID, id, TokenRow::into_token).await
    }

    async fn rotate_refresh(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        new: &[TokenRecord],
    ) -> Result<bool, StoreError> {
        // The check and the consumption are one conditional UPDATE in the batch's
        // transaction: of two concurrent refreshes with the same token, exactly
        // one matches a row (see `batch.rs`).
        claim(self, crate::batch::ClaimKind::Refresh, id, now, new).await
    }

    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        let q =
            sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(ms(now))
                .bind(id.as_str());
        one_row_with_audit(&self.writer, q, audit, classify).await
    }

    async fn revoke_family(
        &self,
        family_id: &FamilyId,
        now: DateTime<Utc>,
        audit: Option<&AuditEvent>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin().await.map_err(classify)?;
        let n = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(family_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(classify)?
        .rows_affected();
        if let Some(a) = audit {
            insert_audit(&mut tx, a).await?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(n)
    }

    async fn list_tokens(
        &self,
        f: &TokenFilter,
        now: DateTime<Utc>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, TokenState)>, StoreError> {
        let sql = format!(
            "{} \
             WHERE ($1 IS NULL OR t.client_id = $1) \
               AND ($2 IS NULL OR t.username = $2) \
               AND ($3 IS NULL OR t.kind = $3) \
               AND ($4 IS NULL OR t.seq < $4) \
               AND ($5 IS NULL \
                    OR ($5 = 'active' AND {alive} AND (t.expires_at IS NULL OR t.expires_at > $6)) \
                    OR ($5 = 'expired' AND {alive} AND t.expires_at <= $6) \
                    OR ($5 = 'revoked' AND NOT {alive})) \
             ORDER BY t.seq DESC LIMIT $7",
            *tables::TOKEN_SELECT,
            alive = tables::TOKEN_ALIVE
        );
        let q = sqlx::query_as::<_, TokenRow>(&sql)
            .bind(f.client_id.as_deref())
            .bind(&f.username)
            .bind(f.kind.map(|k| k.as_str()))
            .bind(before)
            .bind(f.status.map(|s| s.as_str()))
            .bind(ms(now))
            .bind(i64::from(limit));
        all(q, self, TokenRow::into_state).await
    }

    async fn mark_epoch_revoked(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        // One statement per owner: tokens whose client, then whose user, moved on.
        let mut marked = 0;
        for select in tables::EPOCH_REVOKED_UNSTAMPED {
            let sql = format!("UPDATE tokens SET revoked_at = $1 WHERE seq IN ({select} LIMIT $2)");
            let q = sqlx::query(&sql).bind(ms(now)).bind(i64::from(batch));
            marked += write(q, self).await?;
        }
        Ok(marked)
    }

    async fn purge_tokens(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        // One indexed range per reason: an OR of the three made SQLite scan the
        // whole table for every batch.
        let mut purged = 0u64;
        for column in ["expires_at", "revoked_at", "consumed_at"] {
            let left = u64::from(batch) - purged;
            if left == 0 {
                break;
            }
            purged += purge(self, "tokens", "seq", column, cutoff, left).await?;
        }
        Ok(purged)
    }
}

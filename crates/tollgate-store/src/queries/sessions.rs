//! `SessionStore`: sign-in sessions and consents.

use super::*;

#[async_trait]
impl SessionStore for This {
    async fn insert_session(
        &self,
        id_hash: &str,
        user_id: &UserId,
        user_epoch: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, user_epoch, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(user_id.as_str())
        .bind(user_epoch)
        .bind(ms(created_at))
        .bind(ms(expires_at));
        write(q, self).await.map(|_| ())
    }

    async fn find_session(&self, id_hash: &str) -> Result<Option<SessionState>, StoreError> {
        let q = sqlx::query_as::<_, SessionRow>(&tables::SESSION_BY_HASH).bind(id_hash);
        optional(q, self, SessionRow::into_session).await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let q = sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash);
        write(q, self).await.map(|_| ())
    }

    async fn purge_sessions(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
        purge(
            self,
            "sessions",
            "id_hash",
            "expires_at",
            cutoff,
            batch.into(),
        )
        .await
    }

    async fn get_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<ScopeSet>, StoreError> {
        Ok(sqlx::query_scalar::<_, String>(
            "SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id.as_str())
        .bind(client_id.as_str())
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?
        .map(|s| ScopeSet::parse(&s)))
    }

    async fn save_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
        scopes: &ScopeSet,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let q = sqlx::query(
            "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, \
             granted_at = excluded.granted_at",
        )
        .bind(user_id.as_str())
        .bind(client_id.as_str())
        .bind(scopes.to_string())
        .bind(ms(now));
        write(q, self).await.map(|_| ())
    }
}

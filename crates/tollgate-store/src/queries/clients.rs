//! `ClientStore`.

use super::*;

#[async_trait]
impl ClientStore for This {
    async fn insert_client(&self, c: &Client, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await.map_err(classify)?;
        sqlx::query(
            "INSERT INTO clients (client_id, name, name_key, version, description, client_type, \
             grant_mask, redirect_uris, scopes, access_token_lifetime, refresh_count, active, \
             secret_hash, previous_secret_hash, previous_secret_expires_at, token_epoch, revision, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        )
        .bind(&c.client_id)
        .bind(&c.name)
        .bind(name_key(&c.name))
        .bind(&c.version)
        .bind(&c.description)
        .bind(c.client_type.as_str())
        .bind(c.grant_types.bits())
        .bind(json_list(&c.redirect_uris))
        .bind(json_list(&c.scopes))
        .bind(c.access_token_lifetime.to_db())
        .bind(c.refresh_count.to_db())
        .bind(c.active)
        .bind(&c.secret_hash)
        .bind(&c.previous_secret_hash)
        .bind(c.previous_secret_expires_at.map(ms))
        .bind(c.token_epoch)
        .bind(c.revision)
        .bind(ms(c.created_at))
        .bind(ms(c.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_unique(e, "client"))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(classify)
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let sql = format!("{} WHERE client_id = $1", *tables::CLIENT_SELECT);
        sqlx::query_as::<_, ClientRow>(&sql)
            .bind(client_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(|r| r.into_client().map(|(_, c)| c))
            .transpose()
    }

    async fn update_client(
        &self,
        c: &Client,
        expected_revision: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        // The revision check and the write are one statement: two concurrent
        // updates from the same revision cannot both succeed.
        let q = sqlx::query(
            "UPDATE clients SET version = $1, description = $2, client_type = $3, grant_mask = $4, \
             redirect_uris = $5, scopes = $6, access_token_lifetime = $7, refresh_count = $8, \
             active = $9, secret_hash = $10, previous_secret_hash = $11, \
             previous_secret_expires_at = $12, token_epoch = $13, revision = $14, updated_at = $15 \
             WHERE client_id = $16 AND revision = $17",
        )
        .bind(&c.version)
        .bind(&c.description)
        .bind(c.client_type.as_str())
        .bind(c.grant_types.bits())
        .bind(json_list(&c.redirect_uris))
        .bind(json_list(&c.scopes))
        .bind(c.access_token_lifetime.to_db())
        .bind(c.refresh_count.to_db())
        .bind(c.active)
        .bind(&c.secret_hash)
        .bind(&c.previous_secret_hash)
        .bind(c.previous_secret_expires_at.map(ms))
        .bind(c.token_epoch)
        .bind(c.revision)
        .bind(ms(c.updated_at))
        .bind(&c.client_id)
        .bind(expected_revision);
        one_row_with_audit(&self.writer, q, Some(audit), |e| {
            classify_unique(e, "client")
        })
        .await
    }

    async fn delete_client(
        &self,
        client_id: &str,
        expected_revision: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "DELETE FROM clients WHERE client_id = $1 AND ($2 IS NULL OR revision = $2)",
        )
        .bind(client_id)
        .bind(expected_revision);
        one_row_with_audit(&self.writer, q, Some(audit), classify).await
    }

    async fn list_clients(
        &self,
        filter: &ClientFilter,
        after: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, Client)>, StoreError> {
        let sql = format!(
            "{} \
             WHERE ($1 IS NULL OR name_key LIKE $1 ESCAPE '\\') \
               AND ($2 IS NULL OR active = $2) \
               AND ($3 IS NULL OR (grant_mask & $3) <> 0) \
               AND ($4 IS NULL OR seq > $4) \
               AND ($6 IS NULL OR client_type = $6) \
               AND ($7 IS NULL OR version = $7) \
             ORDER BY seq LIMIT $5",
            *tables::CLIENT_SELECT
        );
        let grant_bit = filter.grant_type.map(|g| {
            std::iter::once(g)
                .collect::<tollgate_core::client::GrantSet>()
                .bits()
        });
        sqlx::query_as::<_, ClientRow>(&sql)
            .bind(filter.q.as_deref().map(like_pattern))
            .bind(filter.active)
            .bind(grant_bit)
            .bind(after)
            .bind(i64::from(limit))
            .bind(filter.client_type.map(|t| t.as_str()))
            .bind(filter.version.as_deref())
            .fetch_all(&self.reader)
            .await
            .map_err(classify)?
            .into_iter()
            .map(ClientRow::into_client)
            .collect()
    }
}

//! `ClientStore`.

use super::*;

#[async_trait]
impl ClientStore for This {
    async fn insert_client(&self, c: &Client, audit: &AuditEvent) -> Result<(), StoreError> {
        insert_with_audit(self, "clients", tables::CLIENT_WRITE, c, audit, "client").await
    }

    async fn get_client(&self, client_id: &ClientId) -> Result<Option<Client>, StoreError> {
        let sql = format!("{} WHERE client_id = $1", *tables::CLIENT_SELECT);
        let q = sqlx::query_as::<_, ClientRow>(&sql).bind(client_id.as_str());
        optional(q, self, |r| r.into_client().map(|(_, c)| c)).await
    }

    async fn update_client(
        &self,
        c: &Client,
        expected_revision: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        // The revision check and the write are one statement: two concurrent
        // updates from the same revision cannot both succeed.
        static UPDATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            tables::update_sql("clients", tables::CLIENT_WRITE, |n| {
                format!("client_id = ${} AND revision = ${}", n + 1, n + 2)
            })
        });
        let q = update_of(&UPDATE, tables::CLIENT_WRITE, c)
            .bind(c.client_id.as_str())
            .bind(expected_revision);
        one_row_with_audit(&self.writer, q, Some(audit), |e| {
            classify_unique(e, "client")
        })
        .await
    }

    async fn delete_client(
        &self,
        client_id: &ClientId,
        expected_revision: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let q = sqlx::query(
            "DELETE FROM clients WHERE client_id = $1 AND ($2 IS NULL OR revision = $2)",
        )
        .bind(client_id.as_str())
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
        let q = sqlx::query_as::<_, ClientRow>(&sql)
            .bind(filter.q.as_deref().map(like_pattern))
            .bind(filter.active)
            .bind(grant_bit)
            .bind(after)
            .bind(i64::from(limit))
            .bind(filter.client_type.map(|t| t.as_str()))
            .bind(filter.version.as_deref());
        all(q, self, ClientRow::into_client).await
    }
}

//! `AdminKeyStore`.

use super::*;

#[async_trait]
impl AdminKeyStore for This {
    async fn insert_admin_key(&self, k: &AdminKey, audit: &AuditEvent) -> Result<(), StoreError> {
        insert_with_audit(
            self,
            "admin_keys",
            tables::ADMIN_KEY_WRITE,
            k,
            audit,
            "admin key",
        )
        .await
    }

    async fn find_admin_key_by_hash(&self, key_hash: &str) -> Result<Option<AdminKey>, StoreError> {
        let sql = format!("{} WHERE key_hash = $1", *tables::ADMIN_KEY_SELECT);
        let q = sqlx::query_as::<_, AdminKeyRow>(&sql).bind(key_hash);
        optional(q, self, AdminKeyRow::into_key).await
    }

    async fn list_admin_keys(&self) -> Result<Vec<AdminKey>, StoreError> {
        let sql = format!("{} ORDER BY created_at, id", *tables::ADMIN_KEY_SELECT);
        all(
            sqlx::query_as::<_, AdminKeyRow>(&sql),
            self,
            AdminKeyRow::into_key,
        )
        .await
    }

    async fn delete_admin_key(
        &self,
        id: &AdminKeyId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let q = sqlx::query("DELETE FROM admin_keys WHERE id = $1").bind(id.as_str());
        one_row_with_audit(&self.writer, q, Some(audit), classify).await
    }
}

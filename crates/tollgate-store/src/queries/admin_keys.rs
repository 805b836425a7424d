//! `AdminKeyStore`.

use super::*;

#[async_trait]
impl AdminKeyStore for This {
    async fn insert_admin_key(&self, k: &AdminKey, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await.map_err(classify)?;
        sqlx::query(
            "INSERT INTO admin_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&k.id)
        .bind(&k.name)
        .bind(&k.key_hash)
        .bind(ms(k.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_unique(e, "admin key"))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(classify)
    }

    async fn find_admin_key_by_hash(&self, key_hash: &str) -> Result<Option<AdminKey>, StoreError> {
        sqlx::query_as::<_, AdminKeyRow>(&format!(
            "{} WHERE key_hash = $1",
            *tables::ADMIN_KEY_SELECT
        ))
        .bind(key_hash)
        .fetch_optional(&self.reader)
        .await
        .map_err(classify)?
        .map(AdminKeyRow::into_key)
        .transpose()
    }

    async fn list_admin_keys(&self) -> Result<Vec<AdminKey>, StoreError> {
        sqlx::query_as::<_, AdminKeyRow>(&format!(
            "{} ORDER BY created_at, id",
            *tables::ADMIN_KEY_SELECT
        ))
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?
        .into_iter()
        .map(AdminKeyRow::into_key)
        .collect()
    }

    async fn delete_admin_key(&self, id: &str, audit: &AuditEvent) -> Result<bool, StoreError> {
        let q = sqlx::query("DELETE FROM admin_keys WHERE id = $1").bind(id);
        one_row_with_audit(&self.writer, q, Some(audit), classify).await
    }
}

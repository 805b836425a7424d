//! `AuditStore`.

use super::*;

#[async_trait]
impl AuditStore for This {
    async fn list_audit(
        &self,
        f: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "{} \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
               AND ($3 IS NULL OR target_id = $3) AND ($4 IS NULL OR id < $4) \
             ORDER BY id DESC LIMIT $5",
            *tables::AUDIT_SELECT
        );
        let q = sqlx::query_as::<_, AuditRow>(&sql)
            .bind(&f.actor)
            .bind(&f.action)
            .bind(&f.target_id)
            .bind(before)
            .bind(i64::from(limit));
        all(q, self, AuditRow::into_entry).await
    }
}

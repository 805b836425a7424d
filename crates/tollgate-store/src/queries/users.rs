//! `UserStore`: users, and the "keep an active administrator" writes.

use super::*;

#[async_trait]
impl UserStore for This {
    async fn insert_user(&self, u: &User, audit: &AuditEvent) -> Result<(), StoreError> {
        insert_with_audit(self, "users", tables::USER_WRITE, u, audit, "user").await
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        read_one(self, &tables::USER_BY_ID, id, UserRow::into_user).await
    }

    async fn get_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("{} WHERE username_key = $1", *tables::USER_SELECT);
        let q = sqlx::query_as::<_, UserRow>(&sql).bind(username_key(username));
        optional(q, self, UserRow::into_user).await
    }

    async fn count_users(&self) -> Result<i64, StoreError> {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(&self.reader)
            .await
            .map_err(classify)
    }

    async fn list_users(
        &self,
        q: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "{} \
             WHERE ($1 IS NULL OR username_key LIKE $1 ESCAPE '\\') \
               AND ($2 IS NULL OR username_key > $2) \
             ORDER BY username_key LIMIT $3",
            *tables::USER_SELECT
        );
        let q = sqlx::query_as::<_, UserRow>(&sql)
            .bind(q.map(like_pattern))
            .bind(after)
            .bind(i64::from(limit));
        all(q, self, UserRow::into_user).await
    }

    async fn update_user(
        &self,
        u: &User,
        audit: &AuditEvent,
        keep_an_admin: bool,
    ) -> Result<bool, StoreError> {
        static UPDATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            tables::update_sql("users", tables::USER_WRITE, |n| {
                let (id, keep) = (format!("${}", n + 1), format!("${}", n + 2));
                format!(
                    "id = {id} AND ({keep} = FALSE OR {})",
                    tables::another_admin(&id)
                )
            })
        });
        let q = update_of(&UPDATE, tables::USER_WRITE, u)
            .bind(u.id.as_str())
            .bind(keep_an_admin);
        user_write(&self.writer, q, audit, keep_an_admin).await
    }

    async fn delete_user(
        &self,
        id: &UserId,
        audit: &AuditEvent,
        keep_an_admin: bool,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM users WHERE id = $1 AND ($2 = FALSE OR {})",
            tables::another_admin("$1")
        );
        let q = sqlx::query(&sql).bind(id.as_str()).bind(keep_an_admin);
        user_write(&self.writer, q, audit, keep_an_admin).await
    }
}

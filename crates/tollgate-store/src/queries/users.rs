//! `UserStore`: users, and the "keep an active administrator" writes.

use super::*;

#[async_trait]
impl UserStore for This {
    async fn insert_user(&self, u: &User, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await.map_err(classify)?;
        sqlx::query(
            "INSERT INTO users (id, username, username_key, display_name, active, admin, \
             password_hash, token_epoch, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&u.id)
        .bind(&u.username)
        .bind(username_key(&u.username))
        .bind(&u.display_name)
        .bind(u.active)
        .bind(u.admin)
        .bind(&u.password_hash)
        .bind(u.token_epoch)
        .bind(ms(u.created_at))
        .bind(ms(u.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_unique(e, "user"))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(classify)
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>, StoreError> {
        read_one::<UserRow>(self, &tables::USER_BY_ID, id)
            .await?
            .map(UserRow::into_user)
            .transpose()
    }

    async fn get_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        sqlx::query_as::<_, UserRow>(&format!("{} WHERE username_key = $1", *tables::USER_SELECT))
            .bind(username_key(username))
            .fetch_optional(&self.reader)
            .await
            .map_err(classify)?
            .map(UserRow::into_user)
            .transpose()
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
        sqlx::query_as::<_, UserRow>(&format!(
            "{} \
             WHERE ($1 IS NULL OR username_key LIKE $1 ESCAPE '\\') \
               AND ($2 IS NULL OR username_key > $2) \
             ORDER BY username_key LIMIT $3",
            *tables::USER_SELECT
        ))
        .bind(q.map(like_pattern))
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(classify)?
        .into_iter()
        .map(UserRow::into_user)
        .collect()
    }

    async fn update_user(
        &self,
        u: &User,
        audit: &AuditEvent,
        keep_an_admin: bool,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE users SET display_name = $1, active = $2, admin = $3, password_hash = $4, \
             token_epoch = $5, updated_at = $6 WHERE id = $7 AND ($8 = FALSE OR {})",
            tables::another_admin("$7")
        );
        let q = sqlx::query(&sql)
            .bind(&u.display_name)
            .bind(u.active)
            .bind(u.admin)
            .bind(&u.password_hash)
            .bind(u.token_epoch)
            .bind(ms(u.updated_at))
            .bind(&u.id)
            .bind(keep_an_admin);
        user_write(&self.writer, q, audit, keep_an_admin).await
    }

    async fn delete_user(
        &self,
        id: &str,
        audit: &AuditEvent,
        keep_an_admin: bool,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "DELETE FROM users WHERE id = $1 AND ($2 = FALSE OR {})",
            tables::another_admin("$1")
        );
        let q = sqlx::query(&sql).bind(id).bind(keep_an_admin);
        user_write(&self.writer, q, audit, keep_an_admin).await
    }
}

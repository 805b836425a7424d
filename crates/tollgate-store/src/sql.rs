//! The store traits implemented once, as SQL both backends accept, and expanded for each
//! backend type by `sql_store!`. A backend struct provides `writer` (the pool all writes go
//! through) and `reader` (the pool reads use).

pub(crate) const CLIENT_COLUMNS: &str = "seq, client_id, name, version, description, client_type, grant_mask, \
     redirect_uris, scopes, access_token_lifetime, refresh_count, active, secret_hash, \
     previous_secret_hash, previous_secret_expires_at, token_epoch, revision, created_at, updated_at";

/// `%` and `_` are wildcards in LIKE; a search for them must match them literally.
pub(crate) fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

macro_rules! sql_store {
    ($store:ty, $db:ty, $backend:literal) => {
        const _: () = {
            use crate::rows::{json_list, ms, AdminKeyRow, AuditRow, ClientRow, UserRow};
            use crate::sql::{like_pattern, CLIENT_COLUMNS};
            use crate::{classify, classify_unique};
            use async_trait::async_trait;
            use base64::Engine as _;
            use tollgate_core::audit::{AuditEntry, AuditEvent, AuditFilter};
            use tollgate_core::client::{name_key, Client};
            use tollgate_core::store::*;
            use tollgate_core::user::User;

            async fn insert_audit(
                conn: &mut <$db as sqlx::Database>::Connection,
                a: &AuditEvent,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO audit_log (at, actor, action, target_type, target_id, source_ip, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(ms(a.at))
                .bind(&a.actor)
                .bind(&a.action)
                .bind(&a.target_type)
                .bind(&a.target_id)
                .bind(&a.source_ip)
                .bind(a.details.to_string())
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                Ok(())
            }

            #[async_trait]
            impl ClientStore for $store {
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
                    let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1");
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
                    let mut tx = self.writer.begin().await.map_err(classify)?;
                    // The revision check and the write are one statement: two concurrent
                    // updates from the same revision cannot both succeed.
                    let done = sqlx::query(
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
                    .bind(expected_revision)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| classify_unique(e, "client"))?
                    .rows_affected()
                        == 1;
                    if !done {
                        return Ok(false);
                    }
                    insert_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }

                async fn delete_client(
                    &self,
                    client_id: &str,
                    expected_revision: Option<i64>,
                    audit: &AuditEvent,
                ) -> Result<bool, StoreError> {
                    let mut tx = self.writer.begin().await.map_err(classify)?;
                    let done = sqlx::query(
                        "DELETE FROM clients WHERE client_id = $1 AND ($2 IS NULL OR revision = $2)",
                    )
                    .bind(client_id)
                    .bind(expected_revision)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected()
                        == 1;
                    if !done {
                        return Ok(false);
                    }
                    insert_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }

                async fn list_clients(
                    &self,
                    filter: &ClientFilter,
                    after: Option<i64>,
                    limit: u32,
                ) -> Result<Vec<(i64, Client)>, StoreError> {
                    let sql = format!(
                        "SELECT {CLIENT_COLUMNS} FROM clients \
                         WHERE ($1 IS NULL OR name_key LIKE $1 ESCAPE '\\') \
                           AND ($2 IS NULL OR active = $2) \
                           AND ($3 IS NULL OR (grant_mask & $3) <> 0) \
                           AND ($4 IS NULL OR seq > $4) \
                         ORDER BY seq LIMIT $5"
                    );
                    let grant_bit = filter
                        .grant_type
                        .map(|g| std::iter::once(g).collect::<tollgate_core::client::GrantSet>().bits());
                    sqlx::query_as::<_, ClientRow>(&sql)
                        .bind(filter.q.as_deref().map(like_pattern))
                        .bind(filter.active)
                        .bind(grant_bit)
                        .bind(after)
                        .bind(i64::from(limit))
                        .fetch_all(&self.reader)
                        .await
                        .map_err(classify)?
                        .into_iter()
                        .map(ClientRow::into_client)
                        .collect()
                }
            }

            #[async_trait]
            impl AdminKeyStore for $store {
                async fn insert_admin_key(&self, k: &AdminKey, audit: &AuditEvent) -> Result<(), StoreError> {
                    let mut tx = self.writer.begin().await.map_err(classify)?;
                    sqlx::query("INSERT INTO admin_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4)")
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
                    sqlx::query_as::<_, AdminKeyRow>(
                        "SELECT id, name, key_hash, created_at FROM admin_keys WHERE key_hash = $1",
                    )
                    .bind(key_hash)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(classify)?
                    .map(AdminKeyRow::into_key)
                    .transpose()
                }

                async fn list_admin_keys(&self) -> Result<Vec<AdminKey>, StoreError> {
                    sqlx::query_as::<_, AdminKeyRow>(
                        "SELECT id, name, key_hash, created_at FROM admin_keys ORDER BY created_at, id",
                    )
                    .fetch_all(&self.reader)
                    .await
                    .map_err(classify)?
                    .into_iter()
                    .map(AdminKeyRow::into_key)
                    .collect()
                }

                async fn delete_admin_key(&self, id: &str, audit: &AuditEvent) -> Result<bool, StoreError> {
                    let mut tx = self.writer.begin().await.map_err(classify)?;
                    let done = sqlx::query("DELETE FROM admin_keys WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(classify)?
                        .rows_affected()
                        == 1;
                    if !done {
                        return Ok(false);
                    }
                    insert_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)?;
                    Ok(true)
                }
            }

            #[async_trait]
            impl UserStore for $store {
                async fn insert_user(&self, u: &User, audit: &AuditEvent) -> Result<(), StoreError> {
                    let mut tx = self.writer.begin().await.map_err(classify)?;
                    sqlx::query(
                        "INSERT INTO users (id, username, username_key, display_name, active, admin, \
                         password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&u.id)
                    .bind(&u.username)
                    .bind(u.username.to_lowercase())
                    .bind(&u.display_name)
                    .bind(u.active)
                    .bind(u.admin)
                    .bind(&u.password_hash)
                    .bind(ms(u.created_at))
                    .bind(ms(u.updated_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| classify_unique(e, "user"))?;
                    insert_audit(&mut tx, audit).await?;
                    tx.commit().await.map_err(classify)
                }

                async fn get_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
                    sqlx::query_as::<_, UserRow>(
                        "SELECT id, username, display_name, active, admin, password_hash, created_at, updated_at \
                         FROM users WHERE username_key = $1",
                    )
                    .bind(username.to_lowercase())
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
            }

            #[async_trait]
            impl AuditStore for $store {
                async fn list_audit(
                    &self,
                    f: &AuditFilter,
                    before: Option<i64>,
                    limit: u32,
                ) -> Result<Vec<AuditEntry>, StoreError> {
                    sqlx::query_as::<_, AuditRow>(
                        "SELECT id, at, actor, action, target_type, target_id, source_ip, details FROM audit_log \
                         WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR action = $2) \
                           AND ($3 IS NULL OR target_id = $3) AND ($4 IS NULL OR id < $4) \
                         ORDER BY id DESC LIMIT $5",
                    )
                    .bind(&f.actor)
                    .bind(&f.action)
                    .bind(&f.target_id)
                    .bind(before)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await
                    .map_err(classify)?
                    .into_iter()
                    .map(AuditRow::into_entry)
                    .collect()
                }
            }

            #[async_trait]
            impl MetaStore for $store {
                async fn ping(&self) -> Result<(), StoreError> {
                    sqlx::query("SELECT 1")
                        .execute(&self.reader)
                        .await
                        .map_err(classify)?;
                    Ok(())
                }

                async fn hash_key(&self, candidate: [u8; 32]) -> Result<[u8; 32], StoreError> {
                    let b64 = base64::engine::general_purpose::STANDARD;
                    sqlx::query(
                        "INSERT INTO settings (name, value) VALUES ('secret_hash_key', $1) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(b64.encode(candidate))
                    .execute(&self.writer)
                    .await
                    .map_err(classify)?;
                    let stored: String =
                        sqlx::query_scalar("SELECT value FROM settings WHERE name = 'secret_hash_key'")
                            .fetch_one(&self.writer)
                            .await
                            .map_err(classify)?;
                    b64.decode(stored.as_bytes())
                        .ok()
                        .and_then(|v| <[u8; 32]>::try_from(v).ok())
                        .ok_or_else(|| StoreError::Corrupt("settings.secret_hash_key".into()))
                }

                fn backend(&self) -> &'static str {
                    $backend
                }
            }
        };
    };
}

pub(crate) use sql_store;

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_pattern_escapes_wildcards_and_lowercases() {
        assert_eq!(like_pattern(" Bill "), "%bill%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}

//! The store traits implemented once, as SQL both backends accept, and expanded for each
//! backend type by `sql_store!`. A backend struct provides `writer` (the pool all writes go
//! through) and `reader` (the pool reads use).

/// A token joined with its client's and user's current state (see `TokenState::status`).
pub(crate) const TOKEN_SELECT: &str = "SELECT t.seq, t.id, t.token_hash, t.kind, t.client_id, \
     t.user_id, t.username, t.scopes, t.grant_type, t.family_id, t.refreshes_left, t.client_epoch, \
     t.user_epoch, t.issued_at, t.expires_at, t.revoked_at, t.consumed_at, c.name AS client_name, \
     c.version AS client_version, c.active AS client_active, c.token_epoch AS client_current_epoch, \
     u.active AS user_active, u.token_epoch AS user_current_epoch \
     FROM tokens t JOIN clients c ON c.client_id = t.client_id LEFT JOIN users u ON u.id = t.user_id";

/// The point reads of the token endpoint, built once rather than per request.
pub(crate) static TOKEN_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{TOKEN_SELECT} WHERE t.id = $1"));
pub(crate) static TOKEN_BY_LEGACY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("{TOKEN_SELECT} WHERE t.legacy_hash = $1"));
pub(crate) static USER_BY_ID: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"));

/// SQL for "not revoked in any way" — the same rule as `TokenState::status`.
pub(crate) const TOKEN_ALIVE: &str =
    "(t.revoked_at IS NULL AND t.consumed_at IS NULL AND c.active \
     AND t.client_epoch = c.token_epoch \
     AND (t.user_id IS NULL OR (u.active AND t.user_epoch = u.token_epoch)))";

pub(crate) const USER_COLUMNS: &str =
    "id, username, display_name, active, admin, password_hash, token_epoch, created_at, updated_at";

pub(crate) const CLIENT_COLUMNS: &str = "seq, client_id, name, version, description, client_type, grant_mask, \
     redirect_uris, scopes, access_token_lifetime, refresh_count, active, secret_hash, \
     previous_secret_hash, previous_secret_expires_at, token_epoch, revision, created_at, updated_at";

/// `%` and `_` are wildcards in LIKE; a search for them must match them literally. The
/// searched column is a key (`text::identity_key`), so the search is keyed the same way here,
/// whoever calls (keying is idempotent, so a caller that keyed already changes nothing).
/// Both databases then compare keys, and PostgreSQL's case-sensitive LIKE agrees with
/// SQLite's.
pub(crate) fn like_pattern(q: &str) -> String {
    let q = tollgate_core::text::identity_key(q);
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// SQL: a user other than the one whose id is placeholder `id` is an active administrator.
pub(crate) fn another_admin(id: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM users o WHERE o.admin = TRUE AND o.active = TRUE AND o.id <> {id})"
    )
}

/// The PostgreSQL advisory lock that orders changes which could remove the last active
/// administrator (any fixed number no other lock uses).
pub(crate) const ADMIN_CHANGES_LOCK: i64 = 0x746f_6c6c_6761_7465;

macro_rules! sql_store {
    ($store:ty, $db:ty, $backend:literal) => {
        const _: () = {
            use crate::rows::{json_list, ms, AdminKeyRow, AuditRow, ClientRow, UserRow};
            use crate::sql::{like_pattern, CLIENT_COLUMNS, TOKEN_ALIVE, TOKEN_SELECT, USER_COLUMNS};
            use crate::rows::{AuthCodeRow, SessionRow, TokenRow};
            use chrono::{DateTime, Utc};
            use tollgate_core::token::{join_scopes, AuthCode, SessionState, TokenRecord, TokenState};
            use crate::{classify, classify_unique};
            use async_trait::async_trait;
            use base64::Engine as _;
            use tollgate_core::audit::{AuditEntry, AuditEvent, AuditFilter};
            use tollgate_core::client::{name_key, Client};
            use tollgate_core::user::username_key;
            use tollgate_core::store::*;
            use tollgate_core::user::User;

            /// The one row `sql` (`$1` = `key`) selects: on the backend's synchronous hot
            /// path if it has one (`sqlite_hot.rs`), else through the reader pool.
            async fn read_one<T>(
                store: &$store,
                sql: &str,
                key: &str,
                hot: crate::sqlite_hot::RowFn<T>,
            ) -> Result<Option<T>, StoreError>
            where
                T: for<'r> sqlx::FromRow<'r, <$db as sqlx::Database>::Row> + Send + Unpin,
            {
                match store.hot_row(sql, key, hot) {
                    Some(row) => row,
                    None => sqlx::query_as::<_, T>(sql)
                        .bind(key)
                        .fetch_optional(&store.reader)
                        .await
                        .map_err(classify),
                }
            }

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
                .bind(crate::rows::details_json(&a.details)?)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
                Ok(())
            }

            /// Runs a statement that should change exactly one row and, if it did, writes
            /// the audit entry in the same transaction. `false` when no row matched.
            async fn one_row_with_audit<'q>(
                pool: &sqlx::Pool<$db>,
                q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                audit: Option<&AuditEvent>,
                on_error: fn(sqlx::Error) -> StoreError,
            ) -> Result<bool, StoreError> {
                let tx = pool.begin().await.map_err(classify)?;
                one_row_in(tx, q, audit, on_error).await
            }

            /// `one_row_with_audit` inside a transaction already begun.
            async fn one_row_in<'q>(
                mut tx: sqlx::Transaction<'_, $db>,
                q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                audit: Option<&AuditEvent>,
                on_error: fn(sqlx::Error) -> StoreError,
            ) -> Result<bool, StoreError> {
                if q.execute(&mut *tx).await.map_err(on_error)?.rows_affected() != 1 {
                    return Ok(false);
                }
                if let Some(a) = audit {
                    insert_audit(&mut tx, a).await?;
                }
                tx.commit().await.map_err(classify)?;
                Ok(true)
            }

            /// A user write that, with `keep_an_admin`, must leave another active
            /// administrator: serialised against the others (`serialise_admin_changes`), then
            /// one conditional statement.
            async fn user_write<'q>(
                pool: &sqlx::Pool<$db>,
                q: sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>,
                audit: &AuditEvent,
                keep_an_admin: bool,
            ) -> Result<bool, StoreError> {
                let mut tx = pool.begin().await.map_err(classify)?;
                if keep_an_admin {
                    serialise_admin_changes(&mut tx).await?;
                }
                one_row_in(tx, q, Some(audit), classify).await
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
                    one_row_with_audit(&self.writer, q, Some(audit), |e| classify_unique(e, "client")).await
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
                        "SELECT {CLIENT_COLUMNS} FROM clients \
                         WHERE ($1 IS NULL OR name_key LIKE $1 ESCAPE '\\') \
                           AND ($2 IS NULL OR active = $2) \
                           AND ($3 IS NULL OR (grant_mask & $3) <> 0) \
                           AND ($4 IS NULL OR seq > $4) \
                           AND ($6 IS NULL OR client_type = $6) \
                           AND ($7 IS NULL OR version = $7) \
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
                    let q = sqlx::query("DELETE FROM admin_keys WHERE id = $1")
                        .bind(id);
                    one_row_with_audit(&self.writer, q, Some(audit), classify).await
                }
            }

            #[async_trait]
            impl UserStore for $store {
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
                    read_one(self, &crate::sql::USER_BY_ID, id, crate::sqlite_hot::user_row)
                        .await?
                        .map(UserRow::into_user)
                        .transpose()
                }

                async fn get_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
                    sqlx::query_as::<_, UserRow>(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE username_key = $1"
                    ))
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
                        "SELECT {USER_COLUMNS} FROM users \
                         WHERE ($1 IS NULL OR username_key LIKE $1 ESCAPE '\\') \
                           AND ($2 IS NULL OR username_key > $2) \
                         ORDER BY username_key LIMIT $3"
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
                        crate::sql::another_admin("$7")
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
                        crate::sql::another_admin("$1")
                    );
                    let q = sqlx::query(&sql).bind(id).bind(keep_an_admin);
                    user_write(&self.writer, q, audit, keep_an_admin).await
                }
            }

            /// Changes that could remove the last active administrator run one at a time:
            /// under PostgreSQL's READ COMMITTED two of them would each still see the
            /// other admin and both succeed. A transaction-scoped advisory lock orders
            /// them, and each statement's snapshot starts after the previous one
            /// committed. SQLite needs nothing: it has one writer connection.
            async fn serialise_admin_changes(
                tx: &mut sqlx::Transaction<'_, $db>,
            ) -> Result<(), StoreError> {
                if $backend == "postgres" {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(crate::sql::ADMIN_CHANGES_LOCK)
                        .execute(&mut **tx)
                        .await
                        .map_err(classify)?;
                }
                Ok(())
            }

            #[async_trait]
            impl TokenStore for $store {
                async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
                    self.batcher
                        .write(crate::batch::Write { claim: None, tokens: tokens.to_vec() })
                        .await
                        .map(|_| ())
                }

                async fn find_legacy_token(&self, token_hash: &str) -> Result<Option<TokenState>, StoreError> {
                    read_one(self, &crate::sql::TOKEN_BY_LEGACY_HASH, token_hash, crate::sqlite_hot::token_row)
                        .await?
                        .map(|r| r.into_state().map(|(_, s)| s))
                        .transpose()
                }

                async fn get_token(&self, id: &str) -> Result<Option<TokenState>, StoreError> {
                    read_one(self, &crate::sql::TOKEN_BY_ID, id, crate::sqlite_hot::token_row)
                        .await?
                        .map(|r| r.into_state().map(|(_, s)| s))
                        .transpose()
                }

                async fn rotate_refresh(
                    &self,
                    id: &str,
                    now: DateTime<Utc>,
                    new: &[TokenRecord],
                ) -> Result<bool, StoreError> {
                    // The check and the consumption are one conditional UPDATE in the batch's
                    // transaction: of two concurrent refreshes with the same token, exactly
                    // one matches a row (see `batch.rs`).
                    self.batcher
                        .write(crate::batch::Write {
                            claim: Some(crate::batch::Claim {
                                kind: crate::batch::ClaimKind::Refresh,
                                key: id.to_owned(),
                                now,
                            }),
                            tokens: new.to_vec(),
                        })
                        .await
                }

                async fn revoke_token(
                    &self,
                    id: &str,
                    now: DateTime<Utc>,
                    audit: Option<&AuditEvent>,
                ) -> Result<bool, StoreError> {
                    let q = sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                        .bind(ms(now))
                        .bind(id);
                    one_row_with_audit(&self.writer, q, audit, classify).await
                }

                async fn revoke_family(
                    &self,
                    family_id: &str,
                    now: DateTime<Utc>,
                    audit: Option<&AuditEvent>,
                ) -> Result<u64, StoreError> {
                    let mut tx = self.writer.begin().await.map_err(classify)?;
                    let n = sqlx::query(
                        "UPDATE tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL",
                    )
                    .bind(ms(now))
                    .bind(family_id)
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
                        "{TOKEN_SELECT} \
                         WHERE ($1 IS NULL OR t.client_id = $1) \
                           AND ($2 IS NULL OR t.username = $2) \
                           AND ($3 IS NULL OR t.kind = $3) \
                           AND ($4 IS NULL OR t.seq < $4) \
                           AND ($5 IS NULL \
                                OR ($5 = 'active' AND {TOKEN_ALIVE} AND (t.expires_at IS NULL OR t.expires_at > $6)) \
                                OR ($5 = 'expired' AND {TOKEN_ALIVE} AND t.expires_at <= $6) \
                                OR ($5 = 'revoked' AND NOT {TOKEN_ALIVE})) \
                         ORDER BY t.seq DESC LIMIT $7"
                    );
                    sqlx::query_as::<_, TokenRow>(&sql)
                        .bind(&f.client_id)
                        .bind(&f.username)
                        .bind(f.kind.map(|k| k.as_str()))
                        .bind(before)
                        .bind(f.status.map(|s| s.as_str()))
                        .bind(ms(now))
                        .bind(i64::from(limit))
                        .fetch_all(&self.reader)
                        .await
                        .map_err(classify)?
                        .into_iter()
                        .map(TokenRow::into_state)
                        .collect()
                }

                async fn mark_epoch_revoked(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
                    let by_client = sqlx::query(
                        "UPDATE tokens SET revoked_at = $1 WHERE seq IN (SELECT t.seq FROM tokens t \
                         JOIN clients c ON c.client_id = t.client_id \
                         WHERE t.revoked_at IS NULL AND t.client_epoch < c.token_epoch LIMIT $2)",
                    )
                    .bind(ms(now))
                    .bind(i64::from(batch))
                    .execute(&self.writer)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                    let by_user = sqlx::query(
                        "UPDATE tokens SET revoked_at = $1 WHERE seq IN (SELECT t.seq FROM tokens t \
                         JOIN users u ON u.id = t.user_id \
                         WHERE t.revoked_at IS NULL AND t.user_id IS NOT NULL AND t.user_epoch < u.token_epoch LIMIT $2)",
                    )
                    .bind(ms(now))
                    .bind(i64::from(batch))
                    .execute(&self.writer)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                    Ok(by_client + by_user)
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
                        purged += sqlx::query(&format!(
                            "DELETE FROM tokens WHERE seq IN \
                             (SELECT seq FROM tokens WHERE {column} < $1 LIMIT $2)"
                        ))
                        .bind(ms(cutoff))
                        .bind(i64::try_from(left).unwrap_or(i64::MAX))
                        .execute(&self.writer)
                        .await
                        .map_err(classify)?
                        .rows_affected();
                    }
                    Ok(purged)
                }
            }

            #[async_trait]
            impl CodeStore for $store {
                async fn insert_code(&self, c: &AuthCode) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO auth_codes (code_hash, client_id, user_id, redirect_uri, redirect_uri_given, \
                         scopes, code_challenge, family_id, client_epoch, user_epoch, issued_at, expires_at, used_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(&c.code_hash)
                    .bind(&c.client_id)
                    .bind(&c.user_id)
                    .bind(&c.redirect_uri)
                    .bind(c.redirect_uri_given)
                    .bind(join_scopes(&c.scopes))
                    .bind(&c.code_challenge)
                    .bind(&c.family_id)
                    .bind(c.client_epoch)
                    .bind(c.user_epoch)
                    .bind(ms(c.issued_at))
                    .bind(ms(c.expires_at))
                    .bind(c.used_at.map(ms))
                    .execute(&self.writer)
                    .await
                    .map_err(|e| classify_unique(e, "authorization code"))?;
                    Ok(())
                }

                async fn find_code(&self, code_hash: &str) -> Result<Option<AuthCode>, StoreError> {
                    const SQL: &str = "SELECT code_hash, client_id, user_id, redirect_uri, redirect_uri_given, scopes, \
                         code_challenge, family_id, client_epoch, user_epoch, issued_at, expires_at, used_at \
                         FROM auth_codes WHERE code_hash = $1";
                    read_one(self, SQL, code_hash, crate::sqlite_hot::code_row)
                        .await?
                        .map(AuthCodeRow::into_code)
                        .transpose()
                }

                async fn redeem_code(
                    &self,
                    code_hash: &str,
                    now: DateTime<Utc>,
                    tokens: &[TokenRecord],
                ) -> Result<bool, StoreError> {
                    // RFC 6749 §4.1.2: single use. Check and mark in one conditional UPDATE.
                    self.batcher
                        .write(crate::batch::Write {
                            claim: Some(crate::batch::Claim {
                                kind: crate::batch::ClaimKind::Code,
                                key: code_hash.to_owned(),
                                now,
                            }),
                            tokens: tokens.to_vec(),
                        })
                        .await
                }

                async fn purge_codes(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
                    Ok(sqlx::query(
                        "DELETE FROM auth_codes WHERE code_hash IN \
                         (SELECT code_hash FROM auth_codes WHERE expires_at < $1 LIMIT $2)",
                    )
                    .bind(ms(cutoff))
                    .bind(i64::from(batch))
                    .execute(&self.writer)
                    .await
                    .map_err(classify)?
                    .rows_affected())
                }
            }

            #[async_trait]
            impl SessionStore for $store {
                async fn insert_session(
                    &self,
                    id_hash: &str,
                    user_id: &str,
                    user_epoch: i64,
                    created_at: DateTime<Utc>,
                    expires_at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO sessions (id_hash, user_id, user_epoch, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(id_hash)
                    .bind(user_id)
                    .bind(user_epoch)
                    .bind(ms(created_at))
                    .bind(ms(expires_at))
                    .execute(&self.writer)
                    .await
                    .map_err(classify)?;
                    Ok(())
                }

                async fn find_session(&self, id_hash: &str) -> Result<Option<SessionState>, StoreError> {
                    sqlx::query_as::<_, SessionRow>(
                        "SELECT s.id_hash, s.user_id, u.username, u.admin, s.user_epoch, s.created_at, \
                         s.expires_at, u.active, u.token_epoch \
                         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
                    )
                    .bind(id_hash)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(classify)?
                    .map(SessionRow::into_session)
                    .transpose()
                }

                async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
                    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                        .bind(id_hash)
                        .execute(&self.writer)
                        .await
                        .map_err(classify)?;
                    Ok(())
                }

                async fn purge_sessions(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError> {
                    Ok(sqlx::query(
                        "DELETE FROM sessions WHERE id_hash IN \
                         (SELECT id_hash FROM sessions WHERE expires_at < $1 LIMIT $2)",
                    )
                    .bind(ms(cutoff))
                    .bind(i64::from(batch))
                    .execute(&self.writer)
                    .await
                    .map_err(classify)?
                    .rows_affected())
                }

                async fn get_consent(
                    &self,
                    user_id: &str,
                    client_id: &str,
                ) -> Result<Option<Vec<String>>, StoreError> {
                    Ok(sqlx::query_scalar::<_, String>(
                        "SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2",
                    )
                    .bind(user_id)
                    .bind(client_id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(classify)?
                    .map(|s| tollgate_core::token::split_scopes(&s)))
                }

                async fn save_consent(
                    &self,
                    user_id: &str,
                    client_id: &str,
                    scopes: &[String],
                    now: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO consents (user_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, \
                         granted_at = excluded.granted_at",
                    )
                    .bind(user_id)
                    .bind(client_id)
                    .bind(join_scopes(scopes))
                    .bind(ms(now))
                    .execute(&self.writer)
                    .await
                    .map_err(classify)?;
                    Ok(())
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

            impl $store {
                /// Recomputes the username and client-name keys once after migration 6
                /// (`rekey.rs`): claimed by moving `settings.identity_keys` off `pending`
                /// in the same transaction, so of instances starting together one does it.
                pub(crate) async fn rekey_identities(&self) -> Result<(), StoreError> {
                    let mut tx = self.writer.begin().await.map_err(classify)?;
                    let claimed = sqlx::query(
                        "UPDATE settings SET value = $1 WHERE name = 'identity_keys' AND value = 'pending'",
                    )
                    .bind(crate::rekey::DONE)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?
                    .rows_affected();
                    if claimed == 0 {
                        return Ok(());
                    }
                    let users: Vec<(String, String, String, i64)> = sqlx::query_as(
                        "SELECT id, username, username_key, created_at FROM users",
                    )
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    let users = crate::rekey::assign(
                        users
                            .into_iter()
                            .map(|(id, name, old_key, created_at)| crate::rekey::KeyedRow {
                                id,
                                scope: String::new(),
                                new_key: username_key(&name),
                                old_key,
                                created_at,
                            })
                            .collect(),
                    );
                    let clients: Vec<(String, String, String, String, i64)> = sqlx::query_as(
                        "SELECT client_id, version, name, name_key, created_at FROM clients",
                    )
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?;
                    let clients = crate::rekey::assign(
                        clients
                            .into_iter()
                            .map(|(id, version, name, old_key, created_at)| crate::rekey::KeyedRow {
                                id,
                                scope: version,
                                new_key: name_key(&name),
                                old_key,
                                created_at,
                            })
                            .collect(),
                    );
                    for (table, key_col, id_col, rekey) in [
                        ("users", "username_key", "id", &users),
                        ("clients", "name_key", "client_id", &clients),
                    ] {
                        let sql = format!("UPDATE {table} SET {key_col} = $1 WHERE {id_col} = $2");
                        // Through a key no other row holds first, so a chain of changes
                        // (a takes b's old key, b takes c's) never meets the constraint.
                        for (id, _) in &rekey.changes {
                            sqlx::query(&sql)
                                .bind(crate::rekey::parked(id))
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .map_err(classify)?;
                        }
                        for (id, key) in &rekey.changes {
                            sqlx::query(&sql)
                                .bind(key)
                                .bind(id)
                                .execute(&mut *tx)
                                .await
                                .map_err(classify)?;
                        }
                        for id in &rekey.collided {
                            tracing::warn!(
                                table,
                                id = %id,
                                "two rows now share one name under Unicode-aware comparison; \
                                 this one is kept under a fallback key, is no longer found by \
                                 name, and should be renamed or deleted"
                            );
                        }
                    }
                    tx.commit().await.map_err(classify)
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
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("bill"), "%bill%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}

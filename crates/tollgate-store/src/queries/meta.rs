//! `MetaStore`, and the one-time identity rekey after migration 6.

use super::*;

#[async_trait]
impl MetaStore for This {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn hash_key(&self, candidate: [u8; 32]) -> Result<[u8; 32], StoreError> {
        use base64::Engine as _;
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
        BACKEND
    }
}

impl This {
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
        let users: Vec<(String, String, String, i64)> =
            sqlx::query_as("SELECT id, username, username_key, created_at FROM users")
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
        let clients: Vec<(String, String, String, String, i64)> =
            sqlx::query_as("SELECT client_id, version, name, name_key, created_at FROM clients")
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
        let clients = crate::rekey::assign(
            clients
                .into_iter()
                .map(
                    |(id, version, name, old_key, created_at)| crate::rekey::KeyedRow {
                        id,
                        scope: version,
                        new_key: name_key(&name),
                        old_key,
                        created_at,
                    },
                )
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

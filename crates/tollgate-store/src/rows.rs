//! Rows as stored, and their conversion to and from domain types. Shared by both backends.

use chrono::{DateTime, Utc};
use tollgate_core::audit::{AuditEntry, AuditEvent};
use tollgate_core::client::{Client, ClientType, GrantSet, RefreshCount, TokenLifetime};
use tollgate_core::store::{AdminKey, StoreError};
use tollgate_core::user::User;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn time(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v)
        .ok_or_else(|| StoreError::Corrupt(format!("timestamp {v} out of range")))
}

pub(crate) fn json_list(v: &[String]) -> String {
    serde_json::Value::from(v.to_vec()).to_string()
}

fn parse_list(field: &str, s: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("{field}: {e}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    pub seq: i64,
    pub client_id: String,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub client_type: String,
    pub grant_mask: i64,
    pub redirect_uris: String,
    pub scopes: String,
    pub access_token_lifetime: Option<i64>,
    pub refresh_count: Option<i64>,
    pub active: bool,
    pub secret_hash: Option<String>,
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<i64>,
    pub token_epoch: i64,
    pub revision: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ClientRow {
    pub fn into_client(self) -> Result<(i64, Client), StoreError> {
        let corrupt =
            |what: &str| StoreError::Corrupt(format!("client {}: {what}", self.client_id));
        let client = Client {
            client_type: ClientType::parse(&self.client_type).ok_or_else(|| corrupt("type"))?,
            grant_types: GrantSet::from_bits(self.grant_mask)
                .ok_or_else(|| corrupt("grant_mask"))?,
            redirect_uris: parse_list("redirect_uris", &self.redirect_uris)?,
            scopes: parse_list("scopes", &self.scopes)?,
            access_token_lifetime: TokenLifetime::from_db(self.access_token_lifetime)
                .ok_or_else(|| corrupt("access_token_lifetime"))?,
            refresh_count: RefreshCount::from_db(self.refresh_count)
                .ok_or_else(|| corrupt("refresh_count"))?,
            previous_secret_expires_at: self.previous_secret_expires_at.map(time).transpose()?,
            created_at: time(self.created_at)?,
            updated_at: time(self.updated_at)?,
            client_id: self.client_id,
            name: self.name,
            version: self.version,
            description: self.description,
            active: self.active,
            secret_hash: self.secret_hash,
            previous_secret_hash: self.previous_secret_hash,
            token_epoch: self.token_epoch,
            revision: self.revision,
        };
        Ok((self.seq, client))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AdminKeyRow {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    pub created_at: i64,
}

impl AdminKeyRow {
    pub fn into_key(self) -> Result<AdminKey, StoreError> {
        Ok(AdminKey {
            created_at: time(self.created_at)?,
            id: self.id,
            name: self.name,
            key_hash: self.key_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub active: bool,
    pub admin: bool,
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRow {
    pub fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            created_at: time(self.created_at)?,
            updated_at: time(self.updated_at)?,
            id: self.id,
            username: self.username,
            display_name: self.display_name,
            active: self.active,
            admin: self.admin,
            password_hash: self.password_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub source_ip: Option<String>,
    pub details: String,
}

impl AuditRow {
    pub fn into_entry(self) -> Result<AuditEntry, StoreError> {
        Ok(AuditEntry {
            id: self.id,
            event: AuditEvent {
                at: time(self.at)?,
                actor: self.actor,
                action: self.action,
                target_type: self.target_type,
                target_id: self.target_id,
                source_ip: self.source_ip,
                details: serde_json::from_str(&self.details)
                    .map_err(|e| StoreError::Corrupt(format!("audit {}: {e}", self.id)))?,
            },
        })
    }
}

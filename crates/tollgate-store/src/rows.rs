//! Rows as stored, and their conversion to and from domain types. Shared by both backends.

use chrono::{DateTime, Utc};
use tollgate_core::audit::{AuditEntry, AuditEvent};
use tollgate_core::client::{Client, ClientType, GrantSet, GrantType, RefreshCount, TokenLifetime};
use tollgate_core::store::{AdminKey, StoreError};
use tollgate_core::token::{
    split_scopes, AuthCode, SessionState, TokenKind, TokenRecord, TokenState,
};
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
    pub token_epoch: i64,
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
            token_epoch: self.token_epoch,
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

/// An audit entry's details as the JSON text the `details` column holds.
pub(crate) fn details_json(d: &tollgate_core::audit::Details) -> Result<String, StoreError> {
    serde_json::to_string(d).map_err(|e| StoreError::Corrupt(format!("audit details: {e}")))
}

#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    pub seq: i64,
    pub id: String,
    pub token_hash: String,
    pub kind: String,
    pub client_id: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub scopes: String,
    pub grant_type: String,
    pub family_id: Option<String>,
    pub refreshes_left: Option<i64>,
    pub client_epoch: i64,
    pub user_epoch: Option<i64>,
    pub issued_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub consumed_at: Option<i64>,
    pub client_name: String,
    pub client_version: String,
    pub client_active: bool,
    pub client_current_epoch: i64,
    pub user_active: Option<bool>,
    pub user_current_epoch: Option<i64>,
}

impl TokenRow {
    pub fn into_state(self) -> Result<(i64, TokenState), StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("token {}: {what}", self.id));
        let token = TokenRecord {
            kind: TokenKind::parse(&self.kind).ok_or_else(|| corrupt("kind"))?,
            grant_type: GrantType::parse(&self.grant_type).ok_or_else(|| corrupt("grant_type"))?,
            refreshes_left: self
                .refreshes_left
                .map(u32::try_from)
                .transpose()
                .map_err(|_| corrupt("refreshes_left"))?,
            scopes: split_scopes(&self.scopes),
            issued_at: time(self.issued_at)?,
            expires_at: self.expires_at.map(time).transpose()?,
            revoked_at: self.revoked_at.map(time).transpose()?,
            consumed_at: self.consumed_at.map(time).transpose()?,
            id: self.id,
            token_hash: self.token_hash,
            client_id: self.client_id,
            user_id: self.user_id,
            username: self.username,
            family_id: self.family_id,
            client_epoch: self.client_epoch,
            user_epoch: self.user_epoch,
        };
        Ok((
            self.seq,
            TokenState {
                token,
                client_name: self.client_name,
                client_version: self.client_version,
                client_active: self.client_active,
                client_epoch: self.client_current_epoch,
                user_active: self.user_active,
                user_epoch: self.user_current_epoch,
            },
        ))
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuthCodeRow {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub family_id: String,
    pub client_epoch: i64,
    pub user_epoch: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl AuthCodeRow {
    pub fn into_code(self) -> Result<AuthCode, StoreError> {
        Ok(AuthCode {
            scopes: split_scopes(&self.scopes),
            issued_at: time(self.issued_at)?,
            expires_at: time(self.expires_at)?,
            used_at: self.used_at.map(time).transpose()?,
            code_hash: self.code_hash,
            client_id: self.client_id,
            user_id: self.user_id,
            redirect_uri: self.redirect_uri,
            redirect_uri_given: self.redirect_uri_given,
            code_challenge: self.code_challenge,
            family_id: self.family_id,
            client_epoch: self.client_epoch,
            user_epoch: self.user_epoch,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub username: String,
    pub admin: bool,
    pub user_epoch: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub active: bool,
    pub token_epoch: i64,
}

impl SessionRow {
    pub fn into_session(self) -> Result<SessionState, StoreError> {
        Ok(SessionState {
            created_at: time(self.created_at)?,
            expires_at: time(self.expires_at)?,
            id_hash: self.id_hash,
            user_id: self.user_id,
            username: self.username,
            user_admin: self.admin,
            user_epoch: self.user_epoch,
            user_active: self.active,
            user_current_epoch: self.token_epoch,
        })
    }
}

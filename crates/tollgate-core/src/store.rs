//! Storage traits. Each backend (SQLite, PostgreSQL) implements all of them and passes the
//! same conformance suite. Every mutation takes the audit event describing it and writes
//! both in one transaction, so a change without its audit entry cannot exist.

use crate::audit::{AuditEntry, AuditEvent, AuditFilter};
use crate::client::{Client, GrantType};
use crate::id::{AdminKeyId, ClientId, FamilyId, TokenId, UserId};
use crate::scope::ScopeSet;
use crate::token::{AuthCode, SessionState, TokenKind, TokenRecord, TokenState, TokenStatus};
use crate::user::User;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The unique constraint on (lower-cased name, version) refused the write.
    #[error("a client with this name and version already exists")]
    DuplicateNameVersion,
    #[error("{0} already exists")]
    Duplicate(&'static str),
    /// Connection refused, pool timed out: worth a 503 and a retry.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] Cause),
    #[error("database error: {0}")]
    Database(#[source] Cause),
    /// A stored value the domain cannot represent (hand-edited row, newer schema).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

#[derive(Debug, Clone, Default)]
pub struct ClientFilter {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    pub active: Option<bool>,
    pub grant_type: Option<GrantType>,
    pub client_type: Option<crate::client::ClientType>,
    /// Exact version.
    pub version: Option<String>,
    pub order: ClientOrder,
}

/// The orders of the client list. Each is total: ties are broken by the other key and
/// then by creation, so keyset paging never skips or repeats a client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientOrder {
    /// Oldest first (the admin API's default).
    #[default]
    Created,
    /// Newest first (the console's default).
    CreatedDesc,
    /// By name (compared as `name_key`, so case-insensitively), then version.
    Name,
    NameDesc,
    /// By version (as text), then name.
    Version,
    VersionDesc,
}

impl ClientOrder {
    pub const ALL: [ClientOrder; 6] = [
        Self::Created,
        Self::CreatedDesc,
        Self::Name,
        Self::NameDesc,
        Self::Version,
        Self::VersionDesc,
    ];

    /// The `sort` parameter's spelling: the key, `-` first for descending.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::CreatedDesc => "-created",
            Self::Name => "name",
            Self::NameDesc => "-name",
            Self::Version => "version",
            Self::VersionDesc => "-version",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn descending(self) -> bool {
        matches!(self, Self::CreatedDesc | Self::NameDesc | Self::VersionDesc)
    }
}

/// Where a page of clients starts: just past this client, in the filter's order. The
/// store compares only the keys its order uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAfter {
    pub seq: i64,
    pub name_key: String,
    pub version: String,
}

/// Items come back with their positions (`seq`, an opaque, increasing number), from which
/// the service builds the next page's `ClientAfter`.
#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn insert_client(&self, client: &Client, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn get_client(&self, client_id: &ClientId) -> Result<Option<Client>, StoreError>;
    /// Writes `client` only if the stored revision is still `expected_revision`;
    /// `false` when no row matched (changed or deleted meanwhile).
    async fn update_client(
        &self,
        client: &Client,
        expected_revision: i64,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    /// `false` when no row matched.
    async fn delete_client(
        &self,
        client_id: &ClientId,
        expected_revision: Option<i64>,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    async fn list_clients(
        &self,
        filter: &ClientFilter,
        after: Option<&ClientAfter>,
        limit: u32,
    ) -> Result<Vec<(i64, Client)>, StoreError>;
    /// How many clients match `filter` (its order aside).
    async fn count_clients(&self, filter: &ClientFilter) -> Result<u64, StoreError>;
}

/// The error beneath a `StoreError`, kept (not flattened to text) so the edge can log the
/// whole chain; shared, so `StoreError` stays `Clone` (one failed batch answers many
/// callers). Its `Display` is the cause's own.
#[derive(Debug, Clone)]
pub struct Cause(std::sync::Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(e))
    }

    /// `source` described by `message` (what the error said before it was kept whole).
    pub fn with_message(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::new(Message {
            message: message.into(),
            source: Some(Box::new(source)),
        })
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A message, over the error it describes if any (a failure the store itself detected has
/// none).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct Message {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl From<String> for Cause {
    fn from(message: String) -> Self {
        Self::new(Message {
            message,
            source: None,
        })
    }
}

impl From<&str> for Cause {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminKey {
    pub id: AdminKeyId,
    pub name: String,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait AdminKeyStore: Send + Sync {
    async fn insert_admin_key(&self, key: &AdminKey, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn find_admin_key_by_hash(&self, key_hash: &str) -> Result<Option<AdminKey>, StoreError>;
    async fn list_admin_keys(&self) -> Result<Vec<AdminKey>, StoreError>;
    async fn delete_admin_key(
        &self,
        id: &AdminKeyId,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// `Duplicate("user")` when the (case-insensitive) username is taken.
    async fn insert_user(&self, user: &User, audit: &AuditEvent) -> Result<(), StoreError>;
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    async fn get_user_by_username(&self, username: &str) -> Result<Option<User>, StoreError>;
    async fn count_users(&self) -> Result<i64, StoreError>;
    /// Ordered by username; `after` is the lower-cased username of the previous page's last.
    async fn list_users(
        &self,
        q: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<User>, StoreError>;
    /// Writes every mutable field of `user` (by id); `false` if it does not exist, or, with
    /// `keep_an_admin`, if no *other* active administrator exists at the moment of the
    /// write (one conditional write, serialised against concurrent ones: SPEC §6's "last
    /// active administrator" holds under concurrency).
    async fn update_user(
        &self,
        user: &User,
        audit: &AuditEvent,
        keep_an_admin: bool,
    ) -> Result<bool, StoreError>;
    /// Also removes the user's tokens, codes, sessions and consents. `false` and
    /// `keep_an_admin` as for `update_user`.
    async fn delete_user(
        &self,
        id: &UserId,
        audit: &AuditEvent,
        keep_an_admin: bool,
    ) -> Result<bool, StoreError>;
}

#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    pub client_id: Option<ClientId>,
    pub username: Option<String>,
    pub kind: Option<TokenKind>,
    pub status: Option<TokenStatus>,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    /// All in one transaction.
    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError>;
    /// A token issued before tokens carried their id (schema 5), by the hash of the whole
    /// token string; joined with the client's and user's current state.
    async fn find_legacy_token(&self, token_hash: &str) -> Result<Option<TokenState>, StoreError>;
    /// One indexed read by the public id, joined with the client's and user's current state.
    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenState>, StoreError>;
    /// Marks the refresh token consumed and stores `new`, atomically. `false` when it was
    /// already consumed or revoked (a concurrent refresh won, or this is a replay).
    async fn rotate_refresh(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        new: &[TokenRecord],
    ) -> Result<bool, StoreError>;
    /// `false` if there is no such token or it was already revoked.
    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        audit: Option<&AuditEvent>,
    ) -> Result<bool, StoreError>;
    /// Revokes every token descended from one authorization; returns how many.
    async fn revoke_family(
        &self,
        family_id: &FamilyId,
        now: DateTime<Utc>,
        audit: Option<&AuditEvent>,
    ) -> Result<u64, StoreError>;
    /// Newest first; `before` is the position of the previous page's last item.
    async fn list_tokens(
        &self,
        filter: &TokenFilter,
        now: DateTime<Utc>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<(i64, TokenState)>, StoreError>;
    /// Sets `revoked_at = now` on up to `batch` tokens that an epoch change (client or
    /// user deactivation, revoke-all, password change) already made unusable, so the purge
    /// below can count their retention from then. Returns how many.
    async fn mark_epoch_revoked(&self, now: DateTime<Utc>, batch: u32) -> Result<u64, StoreError>;
    /// Deletes up to `batch` tokens that expired, were revoked or were consumed before
    /// `cutoff`; returns how many. Small batches keep each transaction short.
    async fn purge_tokens(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait CodeStore: Send + Sync {
    async fn insert_code(&self, code: &AuthCode) -> Result<(), StoreError>;
    async fn find_code(&self, code_hash: &str) -> Result<Option<AuthCode>, StoreError>;
    /// Marks the code used and stores `tokens`, atomically (`UPDATE … WHERE used_at IS
    /// NULL`). `false` when it had been used already: exactly one redemption wins.
    async fn redeem_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
        tokens: &[TokenRecord],
    ) -> Result<bool, StoreError>;
    async fn purge_codes(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn insert_session(
        &self,
        id_hash: &str,
        user_id: &UserId,
        user_epoch: i64,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn find_session(&self, id_hash: &str) -> Result<Option<SessionState>, StoreError>;
    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
    async fn purge_sessions(&self, cutoff: DateTime<Utc>, batch: u32) -> Result<u64, StoreError>;
    /// The scopes the user has granted the client, if any.
    async fn get_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
    ) -> Result<Option<ScopeSet>, StoreError>;
    async fn save_consent(
        &self,
        user_id: &UserId,
        client_id: &ClientId,
        scopes: &ScopeSet,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Newest first; `before` is the id of the last entry of the previous page.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
}

#[async_trait]
pub trait MetaStore: Send + Sync {
    /// Cheap round trip for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The deployment-wide key for hashing generated secrets: `candidate` is stored if no
    /// key exists yet; whatever is stored is returned (first writer wins across instances).
    async fn hash_key(&self, candidate: [u8; 32]) -> Result<[u8; 32], StoreError>;
    /// Which backend this is, for logs ("sqlite", "postgres").
    fn backend(&self) -> &'static str;
}

/// One connection pool's occupancy, for the `/metrics` gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Which pool of the backend ("writer", "reader", "main").
    pub pool: &'static str,
    /// Open connections, idle or in use.
    pub size: u32,
    pub idle: u32,
    /// The most connections the pool may open.
    pub max: u32,
}

/// Connection-pool figures for monitoring. A trait of its own (not in `MetaStore`) so each
/// backend can implement it beside its pools rather than in the shared SQL.
pub trait PoolStore: Send + Sync {
    /// Read from counters the pools keep anyway: no database round trip.
    fn pool_stats(&self) -> Vec<PoolStats> {
        Vec::new()
    }
}

/// Everything the services need from a database.
pub trait Store:
    ClientStore
    + AdminKeyStore
    + UserStore
    + TokenStore
    + CodeStore
    + SessionStore
    + AuditStore
    + MetaStore
    + PoolStore
{
}
impl<T> Store for T where
    T: ClientStore
        + AdminKeyStore
        + UserStore
        + TokenStore
        + CodeStore
        + SessionStore
        + AuditStore
        + MetaStore
        + PoolStore
{
}

//! Each table described once: its row (the columns a read selects, by name for sqlx and by
//! position for rusqlite, from one list), the conversion to the domain type, and for the
//! tables the token endpoint writes in batches, the columns an insert binds. Every writer
//! and reader of both backends uses these: the SQLite writer thread and hot reads
//! (rusqlite), the sqlx reads, and PostgreSQL's batch insert (UNNEST).

mod columns;
mod constraints;
pub(crate) use columns::{Col, Get};
pub(crate) use constraints::{unique_violation, Violated};

use chrono::{DateTime, Utc};
use std::borrow::Cow;
use std::sync::LazyLock;
use tollgate_core::audit::{AuditEntry, AuditEvent};
use tollgate_core::client::{
    name_key, Client, ClientType, GrantSet, GrantType, RefreshCount, TokenLifetime,
};
use tollgate_core::store::{AdminKey, StoreError};
use tollgate_core::token::{AuthCode, SessionState, TokenKind, TokenRecord, TokenState};
use tollgate_core::user::{username_key, User};
use tollgate_core::{AdminKeyId, ClientId, FamilyId, ScopeSet, TokenId, UserId};

/// Declares a table's row once: the struct (sqlx maps it by name), `COLUMNS` (each
/// expression a read selects, named after its field) and `from_rusqlite` (by position, in
/// the same order: looking columns up by name was 7 % of an introspection).
macro_rules! row {
    ($(#[$m:meta])* pub(crate) struct $name:ident { $($field:ident: $ty:ty = $expr:literal,)* }) => {
        $(#[$m])*
        #[derive(sqlx::FromRow)]
        pub(crate) struct $name {
            $(pub $field: $ty,)*
        }

        impl $name {
            /// `(expression, field)` in field order.
            pub const COLUMNS: &'static [(&'static str, &'static str)] =
                &[$(($expr, stringify!($field))),*];
        }

        impl Row for $name {
            #[allow(unused_assignments)]
            fn from_rusqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                let mut i = 0;
                // Struct fields are evaluated in the order written, so `i` follows COLUMNS.
                Ok(Self {
                    $($field: {
                        let v = r.get(i)?;
                        i += 1;
                        v
                    },)*
                })
            }
        }
    };
}

/// A row the SQLite hot reads (`sqlite_hot.rs`) can map, selected by `select_list(COLUMNS)`.
pub(crate) trait Row: Sized {
    fn from_rusqlite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// A backend's synchronous point reads of the token endpoint's rows, if it has any (SQLite:
/// `sqlite_hot.rs`); `None` sends the read through the backend's reader pool.
pub(crate) trait HotReads {
    fn hot_row<T: Row>(&self, _sql: &str, _key: &str) -> Option<Result<Option<T>, StoreError>> {
        None
    }
}

/// `COLUMNS` as a select list: `t.seq AS seq, ...` (plain `seq` where the names agree).
pub(crate) fn select_list(columns: &[(&str, &str)]) -> String {
    columns
        .iter()
        .map(|(expr, field)| {
            if expr == field {
                (*expr).to_owned()
            } else {
                format!("{expr} AS {field}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

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

row! {
    pub(crate) struct ClientRow {
        seq: i64 = "seq",
        client_id: String = "client_id",
        name: String = "name",
        version: String = "version",
        description: Option<String> = "description",
        client_type: String = "client_type",
        grant_mask: i64 = "grant_mask",
        redirect_uris: String = "redirect_uris",
        scopes: String = "scopes",
        access_token_lifetime: Option<i64> = "access_token_lifetime",
        refresh_count: Option<i64> = "refresh_count",
        active: bool = "active",
        secret_hash: Option<String> = "secret_hash",
        previous_secret_hash: Option<String> = "previous_secret_hash",
        previous_secret_expires_at: Option<i64> = "previous_secret_expires_at",
        token_epoch: i64 = "token_epoch",
        revision: i64 = "revision",
        created_at: i64 = "created_at",
        updated_at: i64 = "updated_at",
    }
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
            scopes: parse_list("scopes", &self.scopes)?.into(),
            access_token_lifetime: TokenLifetime::from_db(self.access_token_lifetime)
                .ok_or_else(|| corrupt("access_token_lifetime"))?,
            refresh_count: RefreshCount::from_db(self.refresh_count)
                .ok_or_else(|| corrupt("refresh_count"))?,
            previous_secret_expires_at: self.previous_secret_expires_at.map(time).transpose()?,
            created_at: time(self.created_at)?,
            updated_at: time(self.updated_at)?,
            client_id: ClientId::new(self.client_id),
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

row! {
    pub(crate) struct AdminKeyRow {
        id: String = "id",
        name: String = "name",
        key_hash: String = "key_hash",
        created_at: i64 = "created_at",
    }
}

impl AdminKeyRow {
    pub fn into_key(self) -> Result<AdminKey, StoreError> {
        Ok(AdminKey {
            created_at: time(self.created_at)?,
            id: AdminKeyId::new(self.id),
            name: self.name,
            key_hash: self.key_hash,
        })
    }
}

row! {
    pub(crate) struct UserRow {
        id: String = "id",
        username: String = "username",
        display_name: Option<String> = "display_name",
        active: bool = "active",
        admin: bool = "admin",
        password_hash: String = "password_hash",
        token_epoch: i64 = "token_epoch",
        created_at: i64 = "created_at",
        updated_at: i64 = "updated_at",
    }
}

impl UserRow {
    pub fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            created_at: time(self.created_at)?,
            updated_at: time(self.updated_at)?,
            id: UserId::new(self.id),
            username: self.username,
            display_name: self.display_name,
            active: self.active,
            admin: self.admin,
            password_hash: self.password_hash,
            token_epoch: self.token_epoch,
        })
    }
}

row! {
    pub(crate) struct AuditRow {
        id: i64 = "id",
        at: i64 = "at",
        actor: String = "actor",
        action: String = "action",
        target_type: String = "target_type",
        target_id: String = "target_id",
        source_ip: Option<String> = "source_ip",
        details: String = "details",
    }
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

row! {
    pub(crate) struct TokenRow {
        seq: i64 = "t.seq",
        id: String = "t.id",
        token_hash: String = "t.token_hash",
        kind: String = "t.kind",
        client_id: String = "t.client_id",
        user_id: Option<String> = "t.user_id",
        username: Option<String> = "t.username",
        scopes: String = "t.scopes",
        grant_type: String = "t.grant_type",
        family_id: Option<String> = "t.family_id",
        refreshes_left: Option<i64> = "t.refreshes_left",
        client_epoch: i64 = "t.client_epoch",
        user_epoch: Option<i64> = "t.user_epoch",
        issued_at: i64 = "t.issued_at",
        expires_at: Option<i64> = "t.expires_at",
        revoked_at: Option<i64> = "t.revoked_at",
        consumed_at: Option<i64> = "t.consumed_at",
        client_name: String = "c.name",
        client_version: String = "c.version",
        client_active: bool = "c.active",
        client_current_epoch: i64 = "c.token_epoch",
        user_active: Option<bool> = "u.active",
        user_current_epoch: Option<i64> = "u.token_epoch",
    }
}

impl TokenRow {
    /// `into_state` without the position.
    pub fn into_token(self) -> Result<TokenState, StoreError> {
        self.into_state().map(|(_, s)| s)
    }

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
            scopes: ScopeSet::parse(&self.scopes),
            issued_at: time(self.issued_at)?,
            expires_at: self.expires_at.map(time).transpose()?,
            revoked_at: self.revoked_at.map(time).transpose()?,
            consumed_at: self.consumed_at.map(time).transpose()?,
            id: TokenId::new(self.id),
            token_hash: self.token_hash,
            client_id: ClientId::new(self.client_id),
            user_id: self.user_id.map(UserId::new),
            username: self.username,
            family_id: self.family_id.map(FamilyId::new),
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

row! {
    pub(crate) struct AuthCodeRow {
        code_hash: String = "code_hash",
        client_id: String = "client_id",
        user_id: String = "user_id",
        redirect_uri: String = "redirect_uri",
        redirect_uri_given: bool = "redirect_uri_given",
        scopes: String = "scopes",
        code_challenge: Option<String> = "code_challenge",
        family_id: String = "family_id",
        client_epoch: i64 = "client_epoch",
        user_epoch: i64 = "user_epoch",
        issued_at: i64 = "issued_at",
        expires_at: i64 = "expires_at",
        used_at: Option<i64> = "used_at",
    }
}

impl AuthCodeRow {
    pub fn into_code(self) -> Result<AuthCode, StoreError> {
        Ok(AuthCode {
            scopes: ScopeSet::parse(&self.scopes),
            issued_at: time(self.issued_at)?,
            expires_at: time(self.expires_at)?,
            used_at: self.used_at.map(time).transpose()?,
            code_hash: self.code_hash,
            client_id: ClientId::new(self.client_id),
            user_id: UserId::new(self.user_id),
            redirect_uri: self.redirect_uri,
            redirect_uri_given: self.redirect_uri_given,
            code_challenge: self.code_challenge,
            family_id: FamilyId::new(self.family_id),
            client_epoch: self.client_epoch,
            user_epoch: self.user_epoch,
        })
    }
}

row! {
    pub(crate) struct SessionRow {
        id_hash: String = "s.id_hash",
        user_id: String = "s.user_id",
        username: String = "u.username",
        admin: bool = "u.admin",
        user_epoch: i64 = "s.user_epoch",
        created_at: i64 = "s.created_at",
        expires_at: i64 = "s.expires_at",
        active: bool = "u.active",
        token_epoch: i64 = "u.token_epoch",
    }
}

impl SessionRow {
    pub fn into_session(self) -> Result<SessionState, StoreError> {
        Ok(SessionState {
            created_at: time(self.created_at)?,
            expires_at: time(self.expires_at)?,
            id_hash: self.id_hash,
            user_id: UserId::new(self.user_id),
            username: self.username,
            user_admin: self.admin,
            user_epoch: self.user_epoch,
            user_active: self.active,
            user_current_epoch: self.token_epoch,
        })
    }
}

/// Built once: the point reads of the token endpoint and the other fixed selects.
macro_rules! select {
    ($(#[$m:meta])* $name:ident = $row:ty, $from:expr) => {
        $(#[$m])*
        pub(crate) static $name: LazyLock<String> =
            LazyLock::new(|| format!("SELECT {} FROM {}", select_list(<$row>::COLUMNS), $from));
    };
}

/// A token joined with its client's and user's current state (see `TokenState::status`):
/// still one indexed read by id.
const TOKEN_FROM: &str =
    "tokens t JOIN clients c ON c.client_id = t.client_id LEFT JOIN users u ON u.id = t.user_id";
select!(TOKEN_SELECT = TokenRow, TOKEN_FROM);
select!(
    TOKEN_BY_ID = TokenRow,
    format!("{TOKEN_FROM} WHERE t.id = $1")
);
select!(
    TOKEN_BY_LEGACY_HASH = TokenRow,
    format!("{TOKEN_FROM} WHERE t.legacy_hash = $1")
);
select!(USER_SELECT = UserRow, "users");
select!(USER_BY_ID = UserRow, "users WHERE id = $1");
select!(CLIENT_SELECT = ClientRow, "clients");
select!(ADMIN_KEY_SELECT = AdminKeyRow, "admin_keys");
select!(AUDIT_SELECT = AuditRow, "audit_log");
select!(
    CODE_BY_HASH = AuthCodeRow,
    "auth_codes WHERE code_hash = $1"
);
select!(
    SESSION_BY_HASH = SessionRow,
    "sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1"
);

/// The columns of `clients` a write binds (`name_key` derived here, so no caller forgets it).
pub(crate) const CLIENT_WRITE: &[Col<Client>] = &[
    Col::<Client>::text("client_id", |c| Some(Cow::Borrowed(&c.client_id))).fixed(),
    Col::<Client>::text("name", |c| Some(Cow::Borrowed(&c.name))).fixed(),
    Col::<Client>::text("name_key", |c| Some(Cow::Owned(name_key(&c.name)))).fixed(),
    Col::text("version", |c| Some(Cow::Borrowed(&c.version))),
    Col::text("description", |c| {
        c.description.as_deref().map(Cow::Borrowed)
    }),
    Col::text("client_type", |c| {
        Some(Cow::Borrowed(c.client_type.as_str()))
    }),
    Col::int("grant_mask", |c| Some(c.grant_types.bits())),
    Col::text("redirect_uris", |c| {
        Some(Cow::Owned(json_list(&c.redirect_uris)))
    }),
    Col::text("scopes", |c| Some(Cow::Owned(json_list(&c.scopes)))),
    Col::int("access_token_lifetime", |c| c.access_token_lifetime.to_db()),
    Col::int("refresh_count", |c| c.refresh_count.to_db()),
    Col::bool("active", |c| c.active),
    Col::text("secret_hash", |c| {
        c.secret_hash.as_deref().map(Cow::Borrowed)
    }),
    Col::text("previous_secret_hash", |c| {
        c.previous_secret_hash.as_deref().map(Cow::Borrowed)
    }),
    Col::int("previous_secret_expires_at", |c| {
        c.previous_secret_expires_at.map(ms)
    }),
    Col::int("token_epoch", |c| Some(c.token_epoch)),
    Col::int("revision", |c| Some(c.revision)),
    Col::<Client>::int("created_at", |c| Some(ms(c.created_at))).fixed(),
    Col::int("updated_at", |c| Some(ms(c.updated_at))),
];

/// The columns of `users` a write binds (`username_key` derived here).
pub(crate) const USER_WRITE: &[Col<User>] = &[
    Col::<User>::text("id", |u| Some(Cow::Borrowed(&u.id))).fixed(),
    Col::<User>::text("username", |u| Some(Cow::Borrowed(&u.username))).fixed(),
    Col::<User>::text("username_key", |u| {
        Some(Cow::Owned(username_key(&u.username)))
    })
    .fixed(),
    Col::text("display_name", |u| {
        u.display_name.as_deref().map(Cow::Borrowed)
    }),
    Col::bool("active", |u| u.active),
    Col::bool("admin", |u| u.admin),
    Col::text("password_hash", |u| Some(Cow::Borrowed(&u.password_hash))),
    Col::int("token_epoch", |u| Some(u.token_epoch)),
    Col::<User>::int("created_at", |u| Some(ms(u.created_at))).fixed(),
    Col::int("updated_at", |u| Some(ms(u.updated_at))),
];

/// The columns of `admin_keys` an insert binds.
pub(crate) const ADMIN_KEY_WRITE: &[Col<AdminKey>] = &[
    Col::text("id", |k| Some(Cow::Borrowed(&k.id))),
    Col::text("name", |k| Some(Cow::Borrowed(&k.name))),
    Col::text("key_hash", |k| Some(Cow::Borrowed(&k.key_hash))),
    Col::int("created_at", |k| Some(ms(k.created_at))),
];

/// The columns of `auth_codes` an insert binds.
pub(crate) const CODE_WRITE: &[Col<AuthCode>] = &[
    Col::text("code_hash", |c| Some(Cow::Borrowed(&c.code_hash))),
    Col::text("client_id", |c| Some(Cow::Borrowed(&c.client_id))),
    Col::text("user_id", |c| Some(Cow::Borrowed(&c.user_id))),
    Col::text("redirect_uri", |c| Some(Cow::Borrowed(&c.redirect_uri))),
    Col::bool("redirect_uri_given", |c| c.redirect_uri_given),
    Col::text("scopes", |c| Some(Cow::Owned(c.scopes.to_string()))),
    Col::text("code_challenge", |c| {
        c.code_challenge.as_deref().map(Cow::Borrowed)
    }),
    Col::text("family_id", |c| Some(Cow::Borrowed(&c.family_id))),
    Col::int("client_epoch", |c| Some(c.client_epoch)),
    Col::int("user_epoch", |c| Some(c.user_epoch)),
    Col::int("issued_at", |c| Some(ms(c.issued_at))),
    Col::int("expires_at", |c| Some(ms(c.expires_at))),
    Col::int("used_at", |c| c.used_at.map(ms)),
];

/// The columns every token insert writes, in one list: the SQLite writer thread binds them
/// per row, PostgreSQL's batch insert one array each.
pub(crate) const TOKEN_INSERT: &[Col<TokenRecord>] = &[
    Col::text("id", |t| Some(Cow::Borrowed(&t.id))),
    Col::text("token_hash", |t| Some(Cow::Borrowed(&t.token_hash))),
    Col::text("kind", |t| Some(Cow::Borrowed(t.kind.as_str()))),
    Col::text("client_id", |t| Some(Cow::Borrowed(&t.client_id))),
    Col::text("user_id", |t| t.user_id.as_deref().map(Cow::Borrowed)),
    Col::text("username", |t| t.username.as_deref().map(Cow::Borrowed)),
    Col::text("scopes", |t| Some(Cow::Owned(t.scopes.to_string()))),
    Col::text("grant_type", |t| Some(Cow::Borrowed(t.grant_type.as_str()))),
    Col::text("family_id", |t| t.family_id.as_deref().map(Cow::Borrowed)),
    Col::int("refreshes_left", |t| t.refreshes_left.map(i64::from)),
    Col::int("client_epoch", |t| Some(t.client_epoch)),
    Col::int("user_epoch", |t| t.user_epoch),
    Col::int("issued_at", |t| Some(ms(t.issued_at))),
    Col::int("expires_at", |t| t.expires_at.map(ms)),
    Col::int("revoked_at", |t| t.revoked_at.map(ms)),
    Col::int("consumed_at", |t| t.consumed_at.map(ms)),
];

pub(crate) use columns::{insert_row_sql, insert_sql, update_sql, Value};

/// The SQL twin of `Owner::still_stands` for token `t`'s client `c` and user `u`: the
/// owner is active and its epoch has not moved since the token was issued. Stated once
/// here and used by every query that asks it (as literals, so `concat!` can build them).
macro_rules! client_stands {
    () => {
        "(c.active AND t.client_epoch = c.token_epoch)"
    };
}
macro_rules! user_stands {
    () => {
        "(u.active AND t.user_epoch = u.token_epoch)"
    };
}

/// SQL for "not revoked in any way" — the same rule as `TokenState::status`.
pub(crate) const TOKEN_ALIVE: &str = concat!(
    "(t.revoked_at IS NULL AND t.consumed_at IS NULL AND ",
    client_stands!(),
    " AND (t.user_id IS NULL OR ",
    user_stands!(),
    "))"
);

/// Tokens an epoch change (deactivation, revoke-all, password change) made unusable but
/// that carry no `revoked_at` yet: one statement per owner, for the janitor to stamp.
pub(crate) const EPOCH_REVOKED_UNSTAMPED: [&str; 2] = [
    concat!(
        "SELECT t.seq FROM tokens t JOIN clients c ON c.client_id = t.client_id \
         WHERE t.revoked_at IS NULL AND NOT ",
        client_stands!()
    ),
    concat!(
        "SELECT t.seq FROM tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.revoked_at IS NULL AND NOT ",
        user_stands!()
    ),
];

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

#[cfg(test)]
mod tests {
    use super::{like_pattern, TokenRow, TOKEN_INSERT};

    /// What a token insert writes is what a token read selects from `tokens` (all but the
    /// generated `seq`), so a column added to one list and not the other fails here.
    #[test]
    fn token_insert_and_token_row_name_the_same_columns() {
        let read: Vec<&str> = TokenRow::COLUMNS
            .iter()
            .filter_map(|(expr, _)| expr.strip_prefix("t."))
            .filter(|c| *c != "seq")
            .collect();
        let written: Vec<&str> = TOKEN_INSERT.iter().map(|c| c.name).collect();
        assert_eq!(read, written);
    }

    #[test]
    fn like_pattern_escapes_wildcards() {
        assert_eq!(like_pattern("bill"), "%bill%");
        assert_eq!(like_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}

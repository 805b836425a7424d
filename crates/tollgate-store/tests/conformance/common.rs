//! What every conformance test shares: fixed times, records with every field set, and
//! the imports the tests use (`use crate::common::*`).

pub(crate) use chrono::{DateTime, Utc};
pub(crate) use std::collections::HashSet;
pub(crate) use std::sync::Arc;
pub(crate) use tollgate_core::audit::{AuditEntry, AuditEvent, AuditFilter};
pub(crate) use tollgate_core::client::{
    Client, ClientType, GrantSet, GrantType, RefreshCount, TokenLifetime, LIFETIME_MAX,
    REFRESH_COUNT_MAX,
};
pub(crate) use tollgate_core::details;
pub(crate) use tollgate_core::{AdminKeyId, ClientId, FamilyId, ScopeSet, TokenId, UserId};
// The trait methods are called on `dyn Store`, whose supertraits need no import.
pub(crate) use tollgate_core::store::{
    AdminKey, ClientAfter, ClientFilter, ClientOrder, Store, StoreError,
};
pub(crate) use tollgate_core::token::{AuthCode, TokenRecord};
pub(crate) use tollgate_core::user::User;
pub(crate) use tollgate_testkit::TestDb;

/// 2023-11-14T22:13:20.123Z: a time with a non-zero millisecond part.
pub(crate) const T0: i64 = 1_700_000_000_123;

/// A time `offset_ms` milliseconds after `T0`.
pub(crate) fn at(offset_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(T0 + offset_ms).expect("time in range")
}

pub(crate) fn grants(list: &[GrantType]) -> GrantSet {
    list.iter().copied().collect()
}

/// A plain confidential client; tests change the fields they care about.
pub(crate) fn client(client_id: &str, name: &str, version: &str) -> Client {
    Client {
        client_id: ClientId::new(client_id.to_owned()),
        name: name.to_owned(),
        version: version.to_owned(),
        description: Some(format!("{name} {version}")),
        client_type: ClientType::Confidential,
        grant_types: grants(&[GrantType::ClientCredentials]),
        redirect_uris: vec!["https://app.example.com/callback".to_owned()],
        scopes: ScopeSet::from(["api:read"]),
        access_token_lifetime: TokenLifetime::Seconds(3600),
        refresh_count: RefreshCount::Limited(0),
        active: true,
        secret_hash: Some(format!("hmac-sha256$hash-of-{client_id}")),
        previous_secret_hash: None,
        previous_secret_expires_at: None,
        token_epoch: 0,
        revision: 1,
        created_at: at(0),
        updated_at: at(0),
    }
}

pub(crate) fn event(actor: &str, action: &str, target_type: &str, target_id: &str) -> AuditEvent {
    AuditEvent {
        at: at(5),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        source_ip: Some("203.0.113.7".to_owned()),
        details: details! { "target" => target_id },
    }
}

pub(crate) fn create_event(c: &Client) -> AuditEvent {
    event("admin-key:ci", "client.create", "client", &c.client_id)
}

pub(crate) fn admin_key(id: &str, hash: &str, created_offset_ms: i64) -> AdminKey {
    AdminKey {
        id: AdminKeyId::new(id.to_owned()),
        name: format!("key {id}"),
        key_hash: hash.to_owned(),
        created_at: at(created_offset_ms),
    }
}

pub(crate) fn user(id: &str, username: &str) -> User {
    User {
        id: UserId::new(id.to_owned()),
        username: username.to_owned(),
        display_name: Some(format!("{username} (display)")),
        active: true,
        admin: false,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo".to_owned(),
        token_epoch: 0,
        created_at: at(0),
        updated_at: at(1),
    }
}

/// The whole audit log, newest first.
pub(crate) async fn audit_log(store: &dyn Store) -> Vec<AuditEntry> {
    store
        .list_audit(&AuditFilter::default(), None, 500)
        .await
        .unwrap()
}

/// Every client matching `filter`, paging with `limit`, as (position, client). Panics
/// (rather than looping forever) when positions do not move forward.
pub(crate) async fn list_all(
    store: &dyn Store,
    b: &str,
    filter: &ClientFilter,
    limit: u32,
) -> Vec<(i64, Client)> {
    let mut out: Vec<(i64, Client)> = Vec::new();
    let mut after: Option<ClientAfter> = None;
    loop {
        let page = store
            .list_clients(filter, after.as_ref(), limit)
            .await
            .unwrap();
        assert!(
            page.len() <= limit as usize,
            "{b}: a page exceeded its limit"
        );
        if filter.order == ClientOrder::Created {
            let mut last = after.as_ref().map_or(i64::MIN, |a| a.seq);
            for (pos, _) in &page {
                assert!(*pos > last, "{b}: positions must increase past `after`");
                last = *pos;
            }
        }
        match page.last() {
            None => return out,
            Some((pos, c)) => after = Some(after_of(*pos, c)),
        }
        out.extend(page);
    }
}

/// The stored client `id`, if any.
pub(crate) async fn client_at(store: &dyn Store, id: &str) -> Option<Client> {
    store.get_client(&ClientId::new(id)).await.unwrap()
}

/// The cursor just past `c` at position `pos`, as the service builds it.
pub(crate) fn after_of(pos: i64, c: &Client) -> ClientAfter {
    ClientAfter {
        seq: pos,
        name_key: tollgate_core::client::name_key(&c.name),
        version: c.version.clone(),
    }
}

pub(crate) async fn names(store: &dyn Store, b: &str, filter: ClientFilter) -> Vec<String> {
    list_all(store, b, &filter, 100)
        .await
        .into_iter()
        .map(|(_, c)| c.name)
        .collect()
}

pub(crate) fn token(
    id: &str,
    client_id: &str,
    kind: tollgate_core::token::TokenKind,
) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        token_hash: format!("hash-{id}"),
        kind,
        client_id: client_id.into(),
        user_id: Some("u1".into()),
        username: Some("alice".into()),
        scopes: ScopeSet::from(["read"]),
        grant_type: GrantType::AuthorizationCode,
        family_id: Some("fam".into()),
        refreshes_left: None,
        client_epoch: 0,
        user_epoch: Some(0),
        issued_at: at(0),
        expires_at: Some(at(3_600_000)),
        revoked_at: None,
        consumed_at: None,
    }
}

/// An authorization code of client `c1` for user `u1`.
pub(crate) fn code(code_hash: &str, expires_at: DateTime<Utc>) -> AuthCode {
    AuthCode {
        code_hash: code_hash.into(),
        client_id: "c1".into(),
        user_id: "u1".into(),
        redirect_uri: "https://app.example/cb".into(),
        redirect_uri_given: true,
        scopes: ScopeSet::from(["read"]),
        code_challenge: None,
        family_id: "fam".into(),
        client_epoch: 0,
        user_epoch: 0,
        issued_at: at(0),
        expires_at,
        used_at: None,
    }
}

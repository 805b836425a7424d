//! The store conformance suite: every rule of the `tollgate_core::store` traits, checked on
//! every backend this machine offers (SQLite always, PostgreSQL when `TEST_POSTGRES_URL` is
//! set). Each test gets a fresh database per backend from `tollgate_testkit` and talks to it
//! only through the traits, so a backend passes exactly when it behaves like the others.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;
use tollgate_core::audit::{AuditEntry, AuditEvent, AuditFilter};
use tollgate_core::client::{
    Client, ClientType, GrantSet, GrantType, RefreshCount, TokenLifetime, LIFETIME_MAX,
    REFRESH_COUNT_MAX,
};
use tollgate_core::details;
// The trait methods are called on `dyn Store`, whose supertraits need no import.
use tollgate_core::store::{AdminKey, ClientFilter, Store, StoreError};
use tollgate_core::token::TokenRecord;
use tollgate_core::user::User;
use tollgate_testkit::each_backend;

/// 2023-11-14T22:13:20.123Z: a time with a non-zero millisecond part.
const T0: i64 = 1_700_000_000_123;

/// A time `offset_ms` milliseconds after `T0`.
fn at(offset_ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(T0 + offset_ms).expect("time in range")
}

fn grants(list: &[GrantType]) -> GrantSet {
    list.iter().copied().collect()
}

/// A plain confidential client; tests change the fields they care about.
fn client(client_id: &str, name: &str, version: &str) -> Client {
    Client {
        client_id: client_id.to_owned(),
        name: name.to_owned(),
        version: version.to_owned(),
        description: Some(format!("{name} {version}")),
        client_type: ClientType::Confidential,
        grant_types: grants(&[GrantType::ClientCredentials]),
        redirect_uris: vec!["https://app.example.com/callback".to_owned()],
        scopes: vec!["api:read".to_owned()],
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

fn event(actor: &str, action: &str, target_type: &str, target_id: &str) -> AuditEvent {
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

fn create_event(c: &Client) -> AuditEvent {
    event("admin-key:ci", "client.create", "client", &c.client_id)
}

fn admin_key(id: &str, hash: &str, created_offset_ms: i64) -> AdminKey {
    AdminKey {
        id: id.to_owned(),
        name: format!("key {id}"),
        key_hash: hash.to_owned(),
        created_at: at(created_offset_ms),
    }
}

fn user(id: &str, username: &str) -> User {
    User {
        id: id.to_owned(),
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
async fn audit_log(store: &dyn Store) -> Vec<AuditEntry> {
    store
        .list_audit(&AuditFilter::default(), None, 500)
        .await
        .unwrap()
}

/// Every client matching `filter`, paging with `limit`, as (position, client). Panics
/// (rather than looping forever) when positions do not move forward.
async fn list_all(
    store: &dyn Store,
    b: &str,
    filter: &ClientFilter,
    limit: u32,
) -> Vec<(i64, Client)> {
    let mut out: Vec<(i64, Client)> = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_clients(filter, after, limit).await.unwrap();
        assert!(
            page.len() <= limit as usize,
            "{b}: a page exceeded its limit"
        );
        let mut last = after.unwrap_or(i64::MIN);
        for (pos, _) in &page {
            assert!(*pos > last, "{b}: positions must increase past `after`");
            last = *pos;
        }
        match page.last() {
            None => return out,
            Some((pos, _)) => after = Some(*pos),
        }
        out.extend(page);
    }
}

async fn names(store: &dyn Store, b: &str, filter: ClientFilter) -> Vec<String> {
    list_all(store, b, &filter, 100)
        .await
        .into_iter()
        .map(|(_, c)| c.name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_then_get_round_trips_every_field() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        // Every optional field set, extreme limits, unicode, millisecond times.
        let full = Client {
            client_id: "c-full".into(),
            name: "Café Ünïcode 東京 🚀".into(),
            version: "2024.1-ß".into(),
            description: Some(
                "Ein «Client» mit \"Zitaten\", 'Apostrophen' und \\ und\nZeilen.".into(),
            ),
            client_type: ClientType::Confidential,
            grant_types: grants(&GrantType::REGISTRABLE),
            redirect_uris: vec![
                "https://app.example.com/cb?a=1&b=%20".into(),
                "http://127.0.0.1:8080/cb".into(),
                "com.example.app:/oauth".into(),
            ],
            scopes: vec![
                "api:read".into(),
                "a[b]".into(),
                "!#$%&'()*+,-./:;<=>?@^_`{|}~".into(),
            ],
            access_token_lifetime: TokenLifetime::Seconds(u32::try_from(LIFETIME_MAX).unwrap()),
            refresh_count: RefreshCount::Limited(u32::try_from(REFRESH_COUNT_MAX).unwrap()),
            active: false,
            secret_hash: Some("hmac-sha256$current".into()),
            previous_secret_hash: Some("hmac-sha256$previous".into()),
            previous_secret_expires_at: Some(at(86_400_000 + 999)),
            token_epoch: 7,
            revision: 42,
            created_at: at(1),
            updated_at: at(3_600_000 + 2),
        };
        // A public client: no secret, no description, never-expiring, unlimited refreshes,
        // empty lists.
        let public = Client {
            client_id: "c-public".into(),
            name: "Public SPA".into(),
            version: "1".into(),
            description: None,
            client_type: ClientType::Public,
            grant_types: grants(&[GrantType::AuthorizationCode]),
            redirect_uris: vec![],
            scopes: vec![],
            access_token_lifetime: TokenLifetime::Never,
            refresh_count: RefreshCount::Unlimited,
            active: true,
            secret_hash: None,
            previous_secret_hash: None,
            previous_secret_expires_at: None,
            token_epoch: 0,
            revision: 1,
            created_at: at(-T0 + 1), // 1 ms after the Unix epoch
            updated_at: at(999),
        };
        // An empty description is not the same as none; smallest limits.
        let empty = Client {
            description: Some(String::new()),
            access_token_lifetime: TokenLifetime::Seconds(1),
            refresh_count: RefreshCount::Limited(0),
            grant_types: grants(&[GrantType::Password, GrantType::Implicit]),
            ..client("c-empty", "Empty description", "0.0.1")
        };

        for c in [&full, &public, &empty] {
            store.insert_client(c, &create_event(c)).await.unwrap();
        }
        for c in [&full, &public, &empty] {
            let got = store.get_client(&c.client_id).await.unwrap();
            assert_eq!(
                got.as_ref(),
                Some(c),
                "{b}: {} did not round-trip",
                c.client_id
            );
        }
        assert_eq!(
            store
                .get_client(&full.client_id)
                .await
                .unwrap()
                .unwrap()
                .previous_secret_expires_at
                .unwrap()
                .timestamp_millis(),
            T0 + 86_400_999,
            "{b}: milliseconds were lost"
        );
        // The listing returns the same values.
        let listed: Vec<Client> = list_all(&*store, b, &ClientFilter::default(), 10)
            .await
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        assert_eq!(
            listed,
            vec![full.clone(), public.clone(), empty.clone()],
            "{b}: list_clients"
        );
        assert_eq!(
            store.get_client("no-such-client").await.unwrap(),
            None,
            "{b}: unknown client_id"
        );
        assert_eq!(
            store.get_client("C-FULL").await.unwrap(),
            None,
            "{b}: client_id lookup must be exact"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_version_unique_case_insensitively() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        let first = client("c1", "MyApp", "1.0");
        store
            .insert_client(&first, &create_event(&first))
            .await
            .unwrap();

        let clash = client("c2", "myapp", "1.0");
        let r = store.insert_client(&clash, &create_event(&clash)).await;
        assert!(
            matches!(r, Err(StoreError::DuplicateNameVersion)),
            "{b}: myapp/1.0 after MyApp/1.0 gave {r:?}"
        );
        assert_eq!(
            store.get_client("c2").await.unwrap(),
            None,
            "{b}: c2 stored"
        );

        let other_version = client("c3", "myapp", "2.0");
        store
            .insert_client(&other_version, &create_event(&other_version))
            .await
            .unwrap_or_else(|e| panic!("{b}: myapp/2.0: {e:?}"));

        // Case folding is Unicode-aware, not ASCII-only.
        let umlaut = client("c4", "Ärger", "1.0");
        store
            .insert_client(&umlaut, &create_event(&umlaut))
            .await
            .unwrap();
        let umlaut2 = client("c5", "äRGER", "1.0");
        let r = store.insert_client(&umlaut2, &create_event(&umlaut2)).await;
        assert!(
            matches!(r, Err(StoreError::DuplicateNameVersion)),
            "{b}: äRGER/1.0 after Ärger/1.0 gave {r:?}"
        );

        // A reused client_id is a different conflict.
        let same_id = client("c1", "Something else", "1.0");
        let r = store.insert_client(&same_id, &create_event(&same_id)).await;
        assert!(
            matches!(r, Err(StoreError::Duplicate(_))),
            "{b}: duplicate client_id gave {r:?}"
        );
        assert_eq!(
            store.get_client("c1").await.unwrap().as_ref(),
            Some(&first),
            "{b}: the failed insert changed c1"
        );
        assert_eq!(
            list_all(&*store, b, &ClientFilter::default(), 50)
                .await
                .len(),
            3,
            "{b}: client count"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_of_one_name_version_have_one_winner() {
    for db in each_backend().await {
        let store: Arc<dyn Store> = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let c = client(&format!("race-{i}"), "Race", "1.0");
                    store.insert_client(&c, &create_event(&c)).await
                })
            })
            .collect();
        let mut ok = 0;
        let mut dup = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(StoreError::DuplicateNameVersion) => dup += 1,
                Err(e) => panic!("{b}: unexpected error from a racing insert: {e:?}"),
            }
        }
        assert_eq!((ok, dup), (1, 19), "{b}: winners and losers");

        let stored = list_all(&*store, b, &ClientFilter::default(), 50).await;
        assert_eq!(stored.len(), 1, "{b}: exactly one client stored");
        let log = audit_log(&*store).await;
        assert_eq!(log.len(), 1, "{b}: exactly one audit entry");
        assert_eq!(
            log[0].event.target_id, stored[0].1.client_id,
            "{b}: the audit entry names the winner"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_client_is_conditional_on_revision() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        let a = client("a", "App", "1.0");
        let other = client("b", "App", "2.0");
        store.insert_client(&a, &create_event(&a)).await.unwrap();
        store
            .insert_client(&other, &create_event(&other))
            .await
            .unwrap();

        // Every mutable field changes.
        let next = Client {
            version: "1.1".into(),
            description: None,
            client_type: ClientType::Public,
            grant_types: grants(&[GrantType::AuthorizationCode, GrantType::Implicit]),
            redirect_uris: vec![
                "https://new.example.com/cb".into(),
                "http://localhost/cb".into(),
            ],
            scopes: vec![],
            access_token_lifetime: TokenLifetime::Never,
            refresh_count: RefreshCount::Unlimited,
            active: false,
            secret_hash: None,
            previous_secret_hash: Some("hmac-sha256$old".into()),
            previous_secret_expires_at: Some(at(7_777)),
            token_epoch: 1,
            revision: 2,
            updated_at: at(60_001),
            ..a.clone()
        };
        let ev = event("user:admin", "client.update", "client", "a");
        assert!(
            store.update_client(&next, 1, &ev).await.unwrap(),
            "{b}: update with the current revision"
        );
        assert_eq!(
            store.get_client("a").await.unwrap().as_ref(),
            Some(&next),
            "{b}: update did not persist every field"
        );

        // Stale revision: refused, nothing changes.
        let stale = Client {
            version: "9.9".into(),
            description: Some("stale".into()),
            revision: 2,
            ..a.clone()
        };
        assert!(
            !store.update_client(&stale, 1, &ev).await.unwrap(),
            "{b}: update with a stale revision"
        );
        assert_eq!(
            store.get_client("a").await.unwrap().as_ref(),
            Some(&next),
            "{b}: a stale update changed the client"
        );

        // Unknown client: no row matched.
        let ghost = client("ghost", "Ghost", "1.0");
        assert!(
            !store.update_client(&ghost, 1, &ev).await.unwrap(),
            "{b}: update of an unknown client"
        );
        assert_eq!(
            store.get_client("ghost").await.unwrap(),
            None,
            "{b}: ghost created"
        );

        // Taking the name/version pair another client holds.
        let taken = Client {
            version: "2.0".into(),
            revision: 3,
            ..next.clone()
        };
        let r = store.update_client(&taken, 2, &ev).await;
        assert!(
            matches!(r, Err(StoreError::DuplicateNameVersion)),
            "{b}: update onto App/2.0 gave {r:?}"
        );
        assert_eq!(
            store.get_client("a").await.unwrap().as_ref(),
            Some(&next),
            "{b}: the refused update changed the client"
        );
        assert_eq!(
            store.get_client("b").await.unwrap().as_ref(),
            Some(&other),
            "{b}: the refused update changed the other client"
        );

        // The current revision keeps working afterwards.
        let third = Client {
            version: "3.0".into(),
            active: true,
            revision: 3,
            updated_at: at(120_000),
            ..next.clone()
        };
        assert!(
            store.update_client(&third, 2, &ev).await.unwrap(),
            "{b}: third update"
        );
        assert_eq!(
            store.get_client("a").await.unwrap().as_ref(),
            Some(&third),
            "{b}: third update"
        );
        // The old pair is free again.
        let reuse = client("c", "APP", "1.0");
        store
            .insert_client(&reuse, &create_event(&reuse))
            .await
            .unwrap_or_else(|e| panic!("{b}: App/1.0 after the version changed: {e:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_from_one_revision_have_one_winner() {
    for db in each_backend().await {
        let store: Arc<dyn Store> = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        let c = client("contested", "Contested", "1.0");
        store.insert_client(&c, &create_event(&c)).await.unwrap();
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = Arc::clone(&store);
                let next = Client {
                    description: Some(format!("writer {i}")),
                    revision: 2,
                    ..c.clone()
                };
                tokio::spawn(async move {
                    let ev = event("user:admin", "client.update", "client", "contested");
                    store.update_client(&next, 1, &ev).await
                })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap().unwrap() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "{b}: updates from revision 1 that succeeded");
        let stored = store.get_client("contested").await.unwrap().unwrap();
        assert_eq!(stored.revision, 2, "{b}: revision");
        assert_eq!(
            audit_log(&*store).await.len(),
            2,
            "{b}: one create and one update entry"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_writes_its_audit_entry_in_the_same_transaction() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        let mut expected: Vec<AuditEvent> = Vec::new();

        let c = client("c1", "Audited", "1.0");
        let ev = AuditEvent {
            details: details! { "name" => "Audited", "nested" => details! { "list" => vec![1_i64, 2, 3], "ü" => "✓" } },
            source_ip: None,
            ..event("admin-key:ci", "client.create", "client", "c1")
        };
        store.insert_client(&c, &ev).await.unwrap();
        expected.push(ev);

        // A refused insert leaves no entry.
        let dup = client("c2", "AUDITED", "1.0");
        let r = store
            .insert_client(
                &dup,
                &event("admin-key:ci", "client.create", "client", "c2"),
            )
            .await;
        assert!(
            matches!(r, Err(StoreError::DuplicateNameVersion)),
            "{b}: {r:?}"
        );

        let updated = Client {
            description: Some("changed".into()),
            revision: 2,
            ..c.clone()
        };
        let ev = event("user:admin", "client.update", "client", "c1");
        assert!(store.update_client(&updated, 1, &ev).await.unwrap());
        expected.push(ev);

        // A refused (stale) update and a refused (duplicate) update leave none.
        assert!(!store
            .update_client(
                &updated,
                1,
                &event("user:admin", "client.update", "client", "c1")
            )
            .await
            .unwrap());
        let other = client("c3", "Audited", "2.0");
        let ev = create_event(&other);
        store.insert_client(&other, &ev).await.unwrap();
        expected.push(ev);
        let onto_other = Client {
            version: "2.0".into(),
            revision: 3,
            ..updated.clone()
        };
        let r = store
            .update_client(
                &onto_other,
                2,
                &event("user:admin", "client.update", "client", "c1"),
            )
            .await;
        assert!(
            matches!(r, Err(StoreError::DuplicateNameVersion)),
            "{b}: {r:?}"
        );

        let ev = event("cli", "client.delete", "client", "c1");
        assert!(store.delete_client("c1", Some(2), &ev).await.unwrap());
        expected.push(ev);
        // Deleting what is not there leaves none.
        assert!(!store
            .delete_client("c1", None, &event("cli", "client.delete", "client", "c1"))
            .await
            .unwrap());

        let key = admin_key("k1", "hash-1", 0);
        let ev = event("cli", "admin_key.create", "admin_key", "k1");
        store.insert_admin_key(&key, &ev).await.unwrap();
        expected.push(ev);
        let r = store
            .insert_admin_key(
                &admin_key("k2", "hash-1", 0),
                &event("cli", "admin_key.create", "admin_key", "k2"),
            )
            .await;
        assert!(matches!(r, Err(StoreError::Duplicate(_))), "{b}: {r:?}");
        let ev = event("cli", "admin_key.delete", "admin_key", "k1");
        assert!(store.delete_admin_key("k1", &ev).await.unwrap());
        expected.push(ev);
        assert!(!store
            .delete_admin_key("k1", &event("cli", "admin_key.delete", "admin_key", "k1"))
            .await
            .unwrap());

        let u = user("u1", "alice");
        let ev = event("cli", "user.create", "user", "u1");
        store.insert_user(&u, &ev).await.unwrap();
        expected.push(ev);
        let r = store
            .insert_user(
                &user("u2", "ALICE"),
                &event("cli", "user.create", "user", "u2"),
            )
            .await;
        assert!(matches!(r, Err(StoreError::Duplicate(_))), "{b}: {r:?}");

        let log = audit_log(&*store).await;
        let got: Vec<AuditEvent> = log.iter().rev().map(|e| e.event.clone()).collect();
        assert_eq!(
            got, expected,
            "{b}: the audit log must hold exactly one entry per successful mutation"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_client_with_and_without_expected_revision() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        let ev = event("cli", "client.delete", "client", "x");

        let x = Client {
            revision: 3,
            ..client("x", "Doomed", "1.0")
        };
        store.insert_client(&x, &create_event(&x)).await.unwrap();
        assert!(
            !store.delete_client("x", Some(2), &ev).await.unwrap(),
            "{b}: delete with a stale revision"
        );
        assert_eq!(
            store.get_client("x").await.unwrap().as_ref(),
            Some(&x),
            "{b}: a stale delete removed the client"
        );
        assert!(
            store.delete_client("x", Some(3), &ev).await.unwrap(),
            "{b}: delete with the current revision"
        );
        assert_eq!(
            store.get_client("x").await.unwrap(),
            None,
            "{b}: x still there"
        );
        assert!(
            !store.delete_client("x", Some(3), &ev).await.unwrap(),
            "{b}: second delete"
        );

        let y = client("y", "Doomed", "1.0");
        store
            .insert_client(&y, &create_event(&y))
            .await
            .unwrap_or_else(|e| panic!("{b}: name/version not freed by delete: {e:?}"));
        assert!(
            store.delete_client("y", None, &ev).await.unwrap(),
            "{b}: unconditional delete"
        );
        assert_eq!(
            store.get_client("y").await.unwrap(),
            None,
            "{b}: y still there"
        );

        assert!(
            !store.delete_client("nope", None, &ev).await.unwrap(),
            "{b}: unknown id"
        );
        assert!(
            !store.delete_client("nope", Some(1), &ev).await.unwrap(),
            "{b}: unknown id with a revision"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_clients_pages_through_every_client_once_in_insertion_order() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        // Neither the ids nor the names sort in insertion order.
        let mut inserted = Vec::new();
        for i in 0..25 {
            let c = client(
                &format!("id-{:02}", 24 - i),
                &format!("Paged {:02}", (i * 7) % 25),
                "1.0",
            );
            store.insert_client(&c, &create_event(&c)).await.unwrap();
            inserted.push(c);
        }

        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut after = None;
        let mut last_pos = i64::MIN;
        loop {
            let page = store
                .list_clients(&ClientFilter::default(), after, 10)
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            sizes.push(page.len());
            for (pos, c) in &page {
                assert!(*pos > last_pos, "{b}: positions must increase");
                last_pos = *pos;
                seen.push(c.clone());
            }
            after = page.last().map(|(p, _)| *p);
            assert!(sizes.len() <= 3, "{b}: paging does not end");
        }
        assert_eq!(sizes, vec![10, 10, 5], "{b}: page sizes");
        assert_eq!(seen, inserted, "{b}: every client once, in insertion order");

        // Deleting a client in the middle does not disturb the pages after it.
        assert!(store
            .delete_client(
                "id-12",
                None,
                &event("cli", "client.delete", "client", "id-12")
            )
            .await
            .unwrap());
        let ids: Vec<String> = list_all(&*store, b, &ClientFilter::default(), 7)
            .await
            .into_iter()
            .map(|(_, c)| c.client_id)
            .collect();
        let expected: Vec<String> = inserted
            .iter()
            .map(|c| c.client_id.clone())
            .filter(|id| id != "id-12")
            .collect();
        assert_eq!(ids, expected, "{b}: paging after a delete");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_clients_filters_by_name_substring_active_and_grant_type() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        let specs: [(&str, bool, &[GrantType]); 9] = [
            ("Alpha Service", true, &[GrantType::AuthorizationCode]),
            ("ALPHABET", false, &[GrantType::ClientCredentials]),
            ("beta", true, &[GrantType::Password, GrantType::Implicit]),
            ("100% Pure", true, &[GrantType::ClientCredentials]),
            ("1000 Pure", true, &[GrantType::ClientCredentials]),
            ("snake_case", true, &[GrantType::AuthorizationCode]),
            ("snakeXcase", false, &[GrantType::Implicit]),
            ("back\\slash", true, &[GrantType::AuthorizationCode]),
            ("Ärger App", true, &[GrantType::Password]),
        ];
        for (i, (name, active, g)) in specs.iter().enumerate() {
            let c = Client {
                active: *active,
                grant_types: grants(g),
                ..client(&format!("f{i}"), name, "1.0")
            };
            store.insert_client(&c, &create_event(&c)).await.unwrap();
        }
        let q = |s: &str| ClientFilter {
            q: Some(s.to_owned()),
            ..Default::default()
        };

        assert_eq!(
            names(&*store, b, q("alpha")).await,
            ["Alpha Service", "ALPHABET"],
            "{b}: q=alpha"
        );
        assert_eq!(
            names(&*store, b, q("ALPHA")).await,
            ["Alpha Service", "ALPHABET"],
            "{b}: q=ALPHA"
        );
        assert_eq!(
            names(&*store, b, q("BeT")).await,
            ["ALPHABET", "beta"],
            "{b}: q=BeT"
        );
        assert_eq!(names(&*store, b, q("0%")).await, ["100% Pure"], "{b}: q=0%");
        assert_eq!(names(&*store, b, q("%")).await, ["100% Pure"], "{b}: q=%");
        assert_eq!(
            names(&*store, b, q("e_c")).await,
            ["snake_case"],
            "{b}: q=e_c"
        );
        assert_eq!(names(&*store, b, q("_")).await, ["snake_case"], "{b}: q=_");
        assert_eq!(
            names(&*store, b, q("\\")).await,
            ["back\\slash"],
            "{b}: q=\\"
        );
        assert_eq!(
            names(&*store, b, q("äRG")).await,
            ["Ärger App"],
            "{b}: q=äRG"
        );
        assert_eq!(
            names(&*store, b, q("pure")).await,
            ["100% Pure", "1000 Pure"],
            "{b}: q=pure"
        );
        assert!(names(&*store, b, q("zzz")).await.is_empty(), "{b}: q=zzz");

        let active = |a: bool| ClientFilter {
            active: Some(a),
            ..Default::default()
        };
        assert_eq!(
            names(&*store, b, active(false)).await,
            ["ALPHABET", "snakeXcase"],
            "{b}: active=false"
        );
        assert_eq!(
            names(&*store, b, active(true)).await.len(),
            7,
            "{b}: active=true"
        );

        let grant = |g: GrantType| ClientFilter {
            grant_type: Some(g),
            ..Default::default()
        };
        assert_eq!(
            names(&*store, b, grant(GrantType::Password)).await,
            ["beta", "Ärger App"],
            "{b}: grant_type=password"
        );
        assert_eq!(
            names(&*store, b, grant(GrantType::ClientCredentials)).await,
            ["ALPHABET", "100% Pure", "1000 Pure"],
            "{b}: grant_type=client_credentials"
        );
        assert_eq!(
            names(&*store, b, grant(GrantType::Implicit)).await,
            ["beta", "snakeXcase"],
            "{b}: grant_type=implicit"
        );
        assert_eq!(
            names(&*store, b, grant(GrantType::AuthorizationCode)).await,
            ["Alpha Service", "snake_case", "back\\slash"],
            "{b}: grant_type=authorization_code"
        );

        // Filters combine, and paging works within a filter.
        let combined = ClientFilter {
            q: Some("alpha".into()),
            active: Some(true),
            grant_type: None,
            client_type: None,
            version: None,
        };
        assert_eq!(
            names(&*store, b, combined).await,
            ["Alpha Service"],
            "{b}: q+active"
        );
        let combined = ClientFilter {
            q: None,
            active: Some(false),
            grant_type: Some(GrantType::ClientCredentials),
            client_type: None,
            version: None,
        };
        assert_eq!(
            names(&*store, b, combined).await,
            ["ALPHABET"],
            "{b}: active+grant"
        );
        let pc = Client {
            client_type: ClientType::Public,
            grant_types: grants(&[GrantType::AuthorizationCode]),
            secret_hash: None,
            ..client("fpub", "Public One", "1.0")
        };
        store.insert_client(&pc, &create_event(&pc)).await.unwrap();
        let public_only = ClientFilter {
            client_type: Some(tollgate_core::client::ClientType::Public),
            ..Default::default()
        };
        let publics = list_all(&*store, b, &public_only, 50).await;
        let all = list_all(&*store, b, &ClientFilter::default(), 50).await;
        assert!(
            !publics.is_empty() && publics.len() < all.len(),
            "{b}: the fixture has public and confidential clients"
        );
        for c in publics {
            assert_eq!(
                c.1.client_type,
                tollgate_core::client::ClientType::Public,
                "{b}: type filter"
            );
        }
        let paged: Vec<String> = list_all(&*store, b, &q("a"), 1)
            .await
            .into_iter()
            .map(|(_, c)| c.name)
            .collect();
        assert_eq!(
            paged,
            [
                "Alpha Service",
                "ALPHABET",
                "beta",
                "snake_case",
                "snakeXcase",
                "back\\slash",
                "Ärger App"
            ],
            "{b}: paging one at a time through q=a"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_audit_is_newest_first_pages_with_before_and_filters() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();

        // 12 creations by two actors, then 3 deletions: 15 entries.
        let mut written = Vec::new();
        for i in 0..12 {
            let id = format!("k{i:02}");
            let actor = if i % 2 == 0 {
                "admin-key:ci"
            } else {
                "user:root"
            };
            let ev = AuditEvent {
                at: at(i),
                details: details! { "i" => i },
                ..event(actor, "admin_key.create", "admin_key", &id)
            };
            store
                .insert_admin_key(&admin_key(&id, &format!("hash-{i}"), i), &ev)
                .await
                .unwrap();
            written.push(ev);
        }
        for i in [3, 4, 7] {
            let id = format!("k{i:02}");
            let ev = AuditEvent {
                at: at(100 + i),
                ..event("user:root", "admin_key.delete", "admin_key", &id)
            };
            assert!(store.delete_admin_key(&id, &ev).await.unwrap());
            written.push(ev);
        }

        let all = audit_log(&*store).await;
        assert_eq!(all.len(), 15, "{b}: entry count");
        assert!(
            all.windows(2).all(|w| w[0].id > w[1].id),
            "{b}: ids must decrease (newest first)"
        );
        let events: Vec<AuditEvent> = all.iter().map(|e| e.event.clone()).collect();
        let newest_first: Vec<AuditEvent> = written.iter().rev().cloned().collect();
        assert_eq!(events, newest_first, "{b}: newest first, every field kept");

        // Paging with `before` visits every entry once, in the same order.
        let page_all = |filter: AuditFilter, limit: u32| {
            let store = &store;
            async move {
                let mut out: Vec<AuditEntry> = Vec::new();
                let mut before = None;
                loop {
                    let page = store.list_audit(&filter, before, limit).await.unwrap();
                    assert!(
                        page.len() <= limit as usize,
                        "{b}: a page exceeded its limit"
                    );
                    let mut last = before.unwrap_or(i64::MAX);
                    for e in &page {
                        assert!(e.id < last, "{b}: ids must decrease below `before`");
                        last = e.id;
                    }
                    match page.last() {
                        None => return out,
                        Some(e) => before = Some(e.id),
                    }
                    out.extend(page);
                }
            }
        };
        assert_eq!(
            page_all(AuditFilter::default(), 4).await,
            all,
            "{b}: paging with before"
        );
        let first = store
            .list_audit(&AuditFilter::default(), None, 4)
            .await
            .unwrap();
        assert_eq!(first, all[..4], "{b}: first page");
        let second = store
            .list_audit(&AuditFilter::default(), Some(first[3].id), 4)
            .await
            .unwrap();
        assert_eq!(second, all[4..8], "{b}: second page");

        let filter =
            |actor: Option<&str>, action: Option<&str>, target: Option<&str>| AuditFilter {
                actor: actor.map(str::to_owned),
                action: action.map(str::to_owned),
                target_id: target.map(str::to_owned),
            };
        let expect = |pred: &dyn Fn(&AuditEvent) -> bool| -> Vec<AuditEntry> {
            all.iter().filter(|e| pred(&e.event)).cloned().collect()
        };

        let by_actor = page_all(filter(Some("user:root"), None, None), 2).await;
        assert_eq!(
            by_actor,
            expect(&|e| e.actor == "user:root"),
            "{b}: actor filter"
        );
        assert_eq!(by_actor.len(), 9, "{b}: actor filter count");

        let by_action = page_all(filter(None, Some("admin_key.delete"), None), 10).await;
        assert_eq!(
            by_action,
            expect(&|e| e.action == "admin_key.delete"),
            "{b}: action filter"
        );
        assert_eq!(by_action.len(), 3, "{b}: action filter count");

        let by_target = page_all(filter(None, None, Some("k04")), 10).await;
        assert_eq!(
            by_target
                .iter()
                .map(|e| e.event.action.as_str())
                .collect::<Vec<_>>(),
            ["admin_key.delete", "admin_key.create"],
            "{b}: target filter, newest first"
        );

        let combined = page_all(
            filter(Some("admin-key:ci"), Some("admin_key.create"), None),
            3,
        )
        .await;
        assert_eq!(
            combined,
            expect(&|e| e.actor == "admin-key:ci" && e.action == "admin_key.create"),
            "{b}: actor+action filter"
        );
        assert_eq!(combined.len(), 6, "{b}: actor+action count");

        assert!(
            page_all(filter(Some("USER:ROOT"), None, None), 10)
                .await
                .is_empty(),
            "{b}: actor filter is exact"
        );
        assert!(
            page_all(filter(Some("user:root"), None, Some("k00")), 10)
                .await
                .is_empty(),
            "{b}: filters combine with AND"
        );

        // `before` combines with a filter.
        let older = store
            .list_audit(
                &filter(Some("user:root"), None, None),
                Some(by_actor[2].id),
                100,
            )
            .await
            .unwrap();
        assert_eq!(older, by_actor[3..], "{b}: before within a filter");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_keys_insert_find_list_delete_and_reject_duplicate_hash() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        let ev = |id: &str| event("cli", "admin_key.create", "admin_key", id);

        assert!(
            store.list_admin_keys().await.unwrap().is_empty(),
            "{b}: empty"
        );
        let k1 = AdminKey {
            name: "CI pipeline — Ünïcode".into(),
            ..admin_key("k1", "hmac-sha256$aaa", 1_000)
        };
        let k2 = admin_key("k2", "hmac-sha256$bbb", 0);
        let k3 = admin_key("k3", "hmac-sha256$ccc", 1_000);
        for k in [&k1, &k2, &k3] {
            store.insert_admin_key(k, &ev(&k.id)).await.unwrap();
        }

        assert_eq!(
            store
                .find_admin_key_by_hash("hmac-sha256$aaa")
                .await
                .unwrap(),
            Some(k1.clone()),
            "{b}: find k1"
        );
        assert_eq!(
            store
                .find_admin_key_by_hash("hmac-sha256$bbb")
                .await
                .unwrap(),
            Some(k2.clone()),
            "{b}: find k2"
        );
        assert_eq!(
            store
                .find_admin_key_by_hash("hmac-sha256$AAA")
                .await
                .unwrap(),
            None,
            "{b}: hash lookup must be exact"
        );
        assert_eq!(
            store.find_admin_key_by_hash("nope").await.unwrap(),
            None,
            "{b}: unknown hash"
        );

        let mut listed = store.list_admin_keys().await.unwrap();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            listed,
            vec![k1.clone(), k2.clone(), k3.clone()],
            "{b}: list"
        );

        let r = store
            .insert_admin_key(&admin_key("k4", "hmac-sha256$aaa", 5), &ev("k4"))
            .await;
        assert!(
            matches!(r, Err(StoreError::Duplicate(_))),
            "{b}: duplicate hash gave {r:?}"
        );
        let r = store
            .insert_admin_key(&admin_key("k1", "hmac-sha256$ddd", 5), &ev("k1"))
            .await;
        assert!(
            matches!(r, Err(StoreError::Duplicate(_))),
            "{b}: duplicate id gave {r:?}"
        );
        assert_eq!(
            store.list_admin_keys().await.unwrap().len(),
            3,
            "{b}: count"
        );

        let del = event("cli", "admin_key.delete", "admin_key", "k1");
        assert!(
            store.delete_admin_key("k1", &del).await.unwrap(),
            "{b}: delete"
        );
        assert_eq!(
            store
                .find_admin_key_by_hash("hmac-sha256$aaa")
                .await
                .unwrap(),
            None,
            "{b}: deleted key still found"
        );
        assert!(
            !store.delete_admin_key("k1", &del).await.unwrap(),
            "{b}: second delete"
        );
        assert!(
            !store.delete_admin_key("nope", &del).await.unwrap(),
            "{b}: unknown id"
        );
        let mut listed = store.list_admin_keys().await.unwrap();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(listed, vec![k2, k3], "{b}: list after delete");

        // The hash is free again once its key is gone.
        store
            .insert_admin_key(&admin_key("k5", "hmac-sha256$aaa", 9), &ev("k5"))
            .await
            .unwrap_or_else(|e| panic!("{b}: reusing a deleted key's hash: {e:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usernames_are_unique_and_found_case_insensitively() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        let ev = |id: &str| event("cli", "user.create", "user", id);

        assert_eq!(store.count_users().await.unwrap(), 0, "{b}: empty");
        let alice = User {
            admin: true,
            ..user("u1", "Alice")
        };
        store.insert_user(&alice, &ev("u1")).await.unwrap();

        for lookup in ["Alice", "alice", "ALICE", "aLiCe"] {
            assert_eq!(
                store.get_user_by_username(lookup).await.unwrap().as_ref(),
                Some(&alice),
                "{b}: lookup {lookup:?}"
            );
        }
        assert_eq!(
            store.get_user_by_username("alicia").await.unwrap(),
            None,
            "{b}: unknown username"
        );

        let r = store.insert_user(&user("u2", "aLIce"), &ev("u2")).await;
        assert!(
            matches!(r, Err(StoreError::Duplicate(_))),
            "{b}: duplicate username gave {r:?}"
        );
        let r = store.insert_user(&user("u1", "someone"), &ev("u1")).await;
        assert!(
            matches!(r, Err(StoreError::Duplicate(_))),
            "{b}: duplicate id gave {r:?}"
        );
        assert_eq!(
            store.count_users().await.unwrap(),
            1,
            "{b}: after duplicates"
        );

        let emile = User {
            display_name: None,
            active: false,
            ..user("u3", "Émile")
        };
        store.insert_user(&emile, &ev("u3")).await.unwrap();
        assert_eq!(
            store.get_user_by_username("émile").await.unwrap().as_ref(),
            Some(&emile),
            "{b}: unicode lookup"
        );
        let r = store.insert_user(&user("u4", "ÉMILE"), &ev("u4")).await;
        assert!(
            matches!(r, Err(StoreError::Duplicate(_))),
            "{b}: unicode duplicate username gave {r:?}"
        );
        assert_eq!(store.count_users().await.unwrap(), 2, "{b}: count");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_key_first_writer_wins_and_survives_reopen() {
    for db in each_backend().await {
        let b = db.name();
        let first = [0x11u8; 32];
        let mut second = [0x22u8; 32];
        second[31] = 0xff;
        {
            let store = tollgate_store::open(&db.url).await.unwrap();
            assert_eq!(
                store.hash_key(first).await.unwrap(),
                first,
                "{b}: the first call stores its candidate"
            );
            assert_eq!(
                store.hash_key(second).await.unwrap(),
                first,
                "{b}: a later candidate does not replace the stored key"
            );
        }
        let reopened = tollgate_store::open(&db.url).await.unwrap();
        assert_eq!(
            reopened.hash_key([0x33; 32]).await.unwrap(),
            first,
            "{b}: the key survives reopening the store"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_key_racing_instances_agree_on_one_key() {
    for db in each_backend().await {
        let b = db.name();
        // Two instances on one database, several first callers on each.
        let a: Arc<dyn Store> = tollgate_store::open(&db.url).await.unwrap();
        let z: Arc<dyn Store> = tollgate_store::open(&db.url).await.unwrap();
        let tasks: Vec<_> = (0..8u8)
            .map(|i| {
                let store = Arc::clone(if i % 2 == 0 { &a } else { &z });
                tokio::spawn(async move { store.hash_key([i + 1; 32]).await })
            })
            .collect();
        let mut keys = HashSet::new();
        for t in tasks {
            keys.insert(t.await.unwrap().unwrap());
        }
        assert_eq!(keys.len(), 1, "{b}: racing callers got different keys");
        let key = keys.into_iter().next().unwrap();
        assert!(
            (1..=8u8).any(|i| key == [i; 32]),
            "{b}: the key is one of the candidates"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_works_and_backend_is_named() {
    for db in each_backend().await {
        let store = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        store
            .ping()
            .await
            .unwrap_or_else(|e| panic!("{b}: ping: {e:?}"));
        assert_eq!(store.backend(), b, "{b}: backend()");
    }
}

fn token(id: &str, client_id: &str, kind: tollgate_core::token::TokenKind) -> TokenRecord {
    TokenRecord {
        id: id.into(),
        token_hash: format!("hash-{id}"),
        kind,
        client_id: client_id.into(),
        user_id: Some("u1".into()),
        username: Some("alice".into()),
        scopes: vec!["read".into()],
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

/// The group-commit writer puts concurrent redemptions of one code into one transaction
/// (one UPDATE for the whole batch): still exactly one wins, and only its tokens are stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemptions_and_refreshes_have_one_winner_each() {
    use tollgate_core::token::{AuthCode, TokenKind};
    for db in each_backend().await {
        let store: Arc<dyn Store> = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        let c = client("c1", "Codes", "1.0");
        store.insert_client(&c, &create_event(&c)).await.unwrap();
        let u = user("u1", "alice");
        store
            .insert_user(&u, &event("user:admin", "user.create", "user", "u1"))
            .await
            .unwrap();
        store
            .insert_code(&AuthCode {
                code_hash: "code-1".into(),
                client_id: "c1".into(),
                user_id: "u1".into(),
                redirect_uri: "https://app.example/cb".into(),
                redirect_uri_given: true,
                scopes: vec!["read".into()],
                code_challenge: None,
                family_id: "fam".into(),
                client_epoch: 0,
                user_epoch: 0,
                issued_at: at(0),
                expires_at: at(60_000),
                used_at: None,
            })
            .await
            .unwrap();
        // A refresh token to rotate, and an unrelated insert riding in the same batches.
        let refresh = token("r0", "c1", TokenKind::Refresh);
        store
            .insert_tokens(std::slice::from_ref(&refresh))
            .await
            .unwrap();

        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = Arc::clone(&store);
                let refresh_id = refresh.id.clone();
                tokio::spawn(async move {
                    let minted = [token(&format!("code-{i}"), "c1", TokenKind::Access)];
                    let rotated = [token(&format!("rot-{i}"), "c1", TokenKind::Refresh)];
                    let plain = [token(&format!("plain-{i}"), "c1", TokenKind::Access)];
                    let (a, r, p) = tokio::join!(
                        store.redeem_code("code-1", at(10 + i), &minted),
                        store.rotate_refresh(&refresh_id, at(10 + i), &rotated),
                        store.insert_tokens(&plain),
                    );
                    p.unwrap();
                    (i, a.unwrap(), r.unwrap())
                })
            })
            .collect();
        let (mut code_winner, mut refresh_winner) = (Vec::new(), Vec::new());
        for t in tasks {
            let (i, a, r) = t.await.unwrap();
            if a {
                code_winner.push(i);
            }
            if r {
                refresh_winner.push(i);
            }
        }
        assert_eq!(code_winner.len(), 1, "{b}: code redemptions that won");
        assert_eq!(refresh_winner.len(), 1, "{b}: refreshes that won");
        for i in 0..20 {
            let code_token = store.get_token(&format!("code-{i}")).await.unwrap();
            assert_eq!(code_token.is_some(), i == code_winner[0], "{b}: code-{i}");
            let rotated = store.get_token(&format!("rot-{i}")).await.unwrap();
            assert_eq!(rotated.is_some(), i == refresh_winner[0], "{b}: rot-{i}");
            let plain = store.get_token(&format!("plain-{i}")).await.unwrap();
            assert!(plain.is_some(), "{b}: plain-{i} stored");
        }
        let code = store.find_code("code-1").await.unwrap().unwrap();
        assert_eq!(code.used_at, Some(at(10 + code_winner[0])), "{b}: used_at");
        let old = store.get_token("r0").await.unwrap().unwrap();
        assert_eq!(
            old.token.consumed_at,
            Some(at(10 + refresh_winner[0])),
            "{b}: consumed_at"
        );
        // Replays after the fact lose too.
        assert!(!store.redeem_code("code-1", at(99), &[]).await.unwrap());
        assert!(!store
            .rotate_refresh(&refresh.id, at(99), &[])
            .await
            .unwrap());
    }
}

/// One bad write in a batch (a duplicate token id) fails alone; the others commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_token_fails_alone_in_its_batch() {
    use tollgate_core::token::TokenKind;
    for db in each_backend().await {
        let store: Arc<dyn Store> = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        let c = client("c1", "Dups", "1.0");
        store.insert_client(&c, &create_event(&c)).await.unwrap();
        let mut first = token("t0", "c1", TokenKind::Access);
        first.user_id = None;
        first.user_epoch = None;
        store
            .insert_tokens(std::slice::from_ref(&first))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..30)
            .map(|i| {
                let store = Arc::clone(&store);
                let mut t = first.clone();
                t.token_hash = format!("hash-t{}", i + 1);
                if i % 10 != 0 {
                    t.id = format!("t{}", i + 1);
                }
                tokio::spawn(async move { (i, store.insert_tokens(&[t]).await) })
            })
            .collect();
        for t in tasks {
            let (i, r) = t.await.unwrap();
            if i % 10 == 0 {
                assert!(
                    matches!(r, Err(StoreError::Duplicate(_))),
                    "{b}: #{i} reuses an id: {r:?}"
                );
            } else {
                r.unwrap();
                assert!(store
                    .get_token(&format!("t{}", i + 1))
                    .await
                    .unwrap()
                    .is_some());
            }
        }
    }
}

/// Other writes are not starved by a continuous stream of token batches (the SQLite
/// batcher keeps the writer connection between batches, for a few milliseconds at a time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_writes_get_their_turn_while_tokens_are_issued_continuously() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    use tollgate_core::token::TokenKind;
    for db in each_backend().await {
        let store: Arc<dyn Store> = tollgate_store::open(&db.url).await.unwrap();
        let b = db.name();
        let c = client("c1", "Busy", "1.0");
        store.insert_client(&c, &create_event(&c)).await.unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let issuers: Vec<_> = (0..8)
            .map(|w| {
                let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let mut t = token(&format!("w{w}-{n}"), "c1", TokenKind::Access);
                        t.token_hash = format!("hash-w{w}-{n}");
                        t.user_id = None;
                        t.user_epoch = None;
                        store.insert_tokens(&[t]).await.unwrap();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut slowest = Duration::ZERO;
        for i in 0..20 {
            let other = client(&format!("o{i}"), &format!("Other {i}"), "1.0");
            let started = Instant::now();
            store
                .insert_client(&other, &create_event(&other))
                .await
                .unwrap_or_else(|e| panic!("{b}: client write {i} during issuance: {e}"));
            slowest = slowest.max(started.elapsed());
        }
        stop.store(true, Ordering::Relaxed);
        let mut issued = 0;
        for t in issuers {
            issued += t.await.unwrap();
        }
        assert!(issued > 0, "{b}: no tokens were issued meanwhile");
        assert!(
            slowest < Duration::from_secs(1),
            "{b}: a client write waited {slowest:?} behind token batches"
        );
    }
}

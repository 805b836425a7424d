//! `ClientStore`: round trips, name+version uniqueness, compare-and-set on the revision, deletion, listing and filters.

use crate::common::*;

tollgate_testkit::backend_tests!(
    insert_then_get_round_trips_every_field,
    name_version_unique_case_insensitively,
    concurrent_inserts_of_one_name_version_have_one_winner,
    update_client_is_conditional_on_revision,
    concurrent_updates_from_one_revision_have_one_winner,
    delete_client_with_and_without_expected_revision,
    list_clients_pages_through_every_client_once_in_insertion_order,
    list_clients_filters_by_name_substring_active_and_grant_type,
    list_clients_pages_every_order_past_a_deleted_cursor_and_counts,
);

async fn insert_then_get_round_trips_every_field(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();

    // Every optional field set, extreme limits, unicode, millisecond times.
    let full = Client {
        client_id: "c-full".into(),
        name: "Café Ünïcode 東京 🚀".into(),
        version: "2024.1-ß".into(),
        description: Some("Ein «Client» mit \"Zitaten\", 'Apostrophen' und \\ und\nZeilen.".into()),
        client_type: ClientType::Confidential,
        grant_types: grants(&GrantType::REGISTRABLE),
        redirect_uris: vec![
            "https://app.example.com/cb?a=1&b=%20".into(),
            "http://127.0.0.1:8080/cb".into(),
            "com.example.app:/oauth".into(),
        ],
        scopes: ScopeSet::from(["api:read", "a[b]", "!#$%&'()*+,-./:;<=>?@^_`{|}~"]),
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
        scopes: ScopeSet::new(),
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
        client_at(&*store, "no-such-client").await,
        None,
        "{b}: unknown client_id"
    );
    assert_eq!(
        client_at(&*store, "C-FULL").await,
        None,
        "{b}: client_id lookup must be exact"
    );
}

async fn name_version_unique_case_insensitively(db: &TestDb) {
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
    assert_eq!(client_at(&*store, "c2").await, None, "{b}: c2 stored");

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
        client_at(&*store, "c1").await.as_ref(),
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

async fn concurrent_inserts_of_one_name_version_have_one_winner(db: &TestDb) {
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
        log[0].event.target_id,
        stored[0].1.client_id.as_str(),
        "{b}: the audit entry names the winner"
    );
}

async fn update_client_is_conditional_on_revision(db: &TestDb) {
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
        scopes: ScopeSet::new(),
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
        client_at(&*store, "a").await.as_ref(),
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
        client_at(&*store, "a").await.as_ref(),
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
        client_at(&*store, "ghost").await,
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
        client_at(&*store, "a").await.as_ref(),
        Some(&next),
        "{b}: the refused update changed the client"
    );
    assert_eq!(
        client_at(&*store, "b").await.as_ref(),
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
        client_at(&*store, "a").await.as_ref(),
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

async fn concurrent_updates_from_one_revision_have_one_winner(db: &TestDb) {
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
    let stored = client_at(&*store, "contested").await.unwrap();
    assert_eq!(stored.revision, 2, "{b}: revision");
    assert_eq!(
        audit_log(&*store).await.len(),
        2,
        "{b}: one create and one update entry"
    );
}

async fn delete_client_with_and_without_expected_revision(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let ev = event("cli", "client.delete", "client", "x");

    let x = Client {
        revision: 3,
        ..client("x", "Doomed", "1.0")
    };
    store.insert_client(&x, &create_event(&x)).await.unwrap();
    assert!(
        !store
            .delete_client(&ClientId::new("x"), Some(2), &ev)
            .await
            .unwrap(),
        "{b}: delete with a stale revision"
    );
    assert_eq!(
        client_at(&*store, "x").await.as_ref(),
        Some(&x),
        "{b}: a stale delete removed the client"
    );
    assert!(
        store
            .delete_client(&ClientId::new("x"), Some(3), &ev)
            .await
            .unwrap(),
        "{b}: delete with the current revision"
    );
    assert_eq!(client_at(&*store, "x").await, None, "{b}: x still there");
    assert!(
        !store
            .delete_client(&ClientId::new("x"), Some(3), &ev)
            .await
            .unwrap(),
        "{b}: second delete"
    );

    let y = client("y", "Doomed", "1.0");
    store
        .insert_client(&y, &create_event(&y))
        .await
        .unwrap_or_else(|e| panic!("{b}: name/version not freed by delete: {e:?}"));
    assert!(
        store
            .delete_client(&ClientId::new("y"), None, &ev)
            .await
            .unwrap(),
        "{b}: unconditional delete"
    );
    assert_eq!(client_at(&*store, "y").await, None, "{b}: y still there");

    assert!(
        !store
            .delete_client(&ClientId::new("nope"), None, &ev)
            .await
            .unwrap(),
        "{b}: unknown id"
    );
    assert!(
        !store
            .delete_client(&ClientId::new("nope"), Some(1), &ev)
            .await
            .unwrap(),
        "{b}: unknown id with a revision"
    );
}

async fn list_clients_pages_through_every_client_once_in_insertion_order(db: &TestDb) {
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
            .list_clients(&ClientFilter::default(), after.as_ref(), 10)
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
        after = page.last().map(|(p, c)| after_of(*p, c));
        assert!(sizes.len() <= 3, "{b}: paging does not end");
    }
    assert_eq!(sizes, vec![10, 10, 5], "{b}: page sizes");
    assert_eq!(seen, inserted, "{b}: every client once, in insertion order");

    // Deleting a client in the middle does not disturb the pages after it.
    assert!(store
        .delete_client(
            &ClientId::new("id-12"),
            None,
            &event("cli", "client.delete", "client", "id-12")
        )
        .await
        .unwrap());
    let ids: Vec<ClientId> = list_all(&*store, b, &ClientFilter::default(), 7)
        .await
        .into_iter()
        .map(|(_, c)| c.client_id)
        .collect();
    let expected: Vec<ClientId> = inserted
        .iter()
        .map(|c| c.client_id.clone())
        .filter(|id| id != "id-12")
        .collect();
    assert_eq!(ids, expected, "{b}: paging after a delete");
}

async fn list_clients_filters_by_name_substring_active_and_grant_type(db: &TestDb) {
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
        order: ClientOrder::Created,
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
        order: ClientOrder::Created,
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

/// Every `ClientOrder`, paged two at a time: each client once, in the order the keys say
/// (names compared by identity key, ties by the other key, then by creation); a page that
/// starts past a client deleted meanwhile still continues where it was; and the count
/// matches the filter.
async fn list_clients_pages_every_order_past_a_deleted_cursor_and_counts(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    // (id, name, version, active), inserted in this order.
    let specs = [
        ("c1", "beta", "2.0", true),
        ("c2", "Alpha", "1.10", true),
        ("c3", "alpha", "1.9", false),
        ("c4", "Gamma", "1.10", true),
        ("c5", "beta", "10", true),
        ("c6", "Delta", "0.1", true),
    ];
    for (id, name, version, active) in specs {
        let c = Client {
            active,
            ..client(id, name, version)
        };
        store.insert_client(&c, &create_event(&c)).await.unwrap();
    }
    let ids = |order: ClientOrder| {
        let store = store.clone();
        async move {
            let filter = ClientFilter {
                order,
                ..Default::default()
            };
            list_all(&*store, b, &filter, 2)
                .await
                .into_iter()
                .map(|(_, c)| c.client_id.into_string())
                .collect::<Vec<_>>()
        }
    };
    let expected: [(ClientOrder, [&str; 6]); 6] = [
        (ClientOrder::Created, ["c1", "c2", "c3", "c4", "c5", "c6"]),
        (
            ClientOrder::CreatedDesc,
            ["c6", "c5", "c4", "c3", "c2", "c1"],
        ),
        // alpha 1.10 < alpha 1.9 as text; beta 10 < beta 2.0.
        (ClientOrder::Name, ["c2", "c3", "c5", "c1", "c6", "c4"]),
        (ClientOrder::NameDesc, ["c4", "c6", "c1", "c5", "c3", "c2"]),
        // 1.10 (alpha) < 1.10 (gamma) by name.
        (ClientOrder::Version, ["c6", "c2", "c4", "c3", "c5", "c1"]),
        (
            ClientOrder::VersionDesc,
            ["c1", "c5", "c3", "c4", "c2", "c6"],
        ),
    ];
    for (order, want) in expected {
        assert_eq!(ids(order).await, want, "{b}: {order:?}");
    }

    // A page past a client that was deleted meanwhile continues after it.
    let by_name = ClientFilter {
        order: ClientOrder::Name,
        ..Default::default()
    };
    let first = store.list_clients(&by_name, None, 2).await.unwrap();
    let (pos, last) = first.last().unwrap();
    let cursor = after_of(*pos, last);
    assert_eq!(last.client_id, "c3", "{b}");
    assert!(store
        .delete_client(
            &last.client_id,
            None,
            &event("cli", "client.delete", "client", "c3")
        )
        .await
        .unwrap());
    let rest: Vec<String> = store
        .list_clients(&by_name, Some(&cursor), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, c)| c.client_id.into_string())
        .collect();
    assert_eq!(rest, ["c5", "c1", "c6", "c4"], "{b}: past a deleted cursor");

    assert_eq!(
        store.count_clients(&ClientFilter::default()).await.unwrap(),
        5,
        "{b}"
    );
    let filtered = ClientFilter {
        q: Some("a".into()),
        active: Some(true),
        order: ClientOrder::NameDesc,
        ..Default::default()
    };
    // beta, Alpha, Gamma, beta, Delta all hold an "a"; alpha (inactive) was deleted.
    assert_eq!(
        store.count_clients(&filtered).await.unwrap(),
        5,
        "{b}: filtered"
    );
    let inactive = ClientFilter {
        active: Some(false),
        ..Default::default()
    };
    assert_eq!(
        store.count_clients(&inactive).await.unwrap(),
        0,
        "{b}: none inactive left"
    );
}

//! `TokenStore` beyond the batch writer: point reads joined with current state, direct and
//! family revocation, the list filters (the SQL twin of `TokenState::status`), the
//! janitor's epoch stamping and purge; and `CodeStore`'s reads and purge.

use crate::common::*;
use tollgate_core::store::TokenFilter;
use tollgate_core::token::{TokenKind, TokenStatus};

tollgate_testkit::backend_tests!(
    get_token_round_trips_every_field_joined_with_current_state,
    revoke_token_once_and_revoke_family_counts_what_it_revoked,
    list_tokens_filters_by_client_user_kind_and_status_newest_first,
    mark_epoch_revoked_stamps_only_tokens_an_epoch_change_made_unusable,
    purge_tokens_deletes_expired_revoked_and_consumed_before_the_cutoff_in_batches,
    codes_round_trip_are_single_use_and_purged_after_expiry,
);

/// Clients `c1` ("Tokens" 2.0), `c2`, `c3` and users `u1` alice, `u2` bob, `u3` carol.
async fn clients_and_users(store: &dyn Store) {
    for (id, name, version) in [
        ("c1", "Tokens", "2.0"),
        ("c2", "Other", "1"),
        ("c3", "Third", "1"),
    ] {
        let c = client(id, name, version);
        store.insert_client(&c, &create_event(&c)).await.unwrap();
    }
    for (id, name) in [("u1", "alice"), ("u2", "bob"), ("u3", "carol")] {
        store
            .insert_user(&user(id, name), &event("admin", "user.create", "user", id))
            .await
            .unwrap();
    }
}

/// A token of `client_id` for the user `owner` (`(id, username)`), or for no user.
fn token_for(
    id: &str,
    client_id: &str,
    kind: TokenKind,
    owner: Option<(&str, &str)>,
) -> TokenRecord {
    TokenRecord {
        user_id: owner.map(|(u, _)| u.into()),
        username: owner.map(|(_, n)| n.to_owned()),
        user_epoch: owner.map(|_| 0),
        ..token(id, client_id, kind)
    }
}

async fn ids(store: &dyn Store, filter: &TokenFilter, now: DateTime<Utc>) -> Vec<TokenId> {
    store
        .list_tokens(filter, now, None, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, s)| s.token.id)
        .collect()
}

async fn revoked_at(store: &dyn Store, id: &str) -> Option<DateTime<Utc>> {
    store
        .get_token(&TokenId::new(id))
        .await
        .unwrap()
        .unwrap()
        .token
        .revoked_at
}

async fn get_token_round_trips_every_field_joined_with_current_state(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    clients_and_users(store.as_ref()).await;
    let full = TokenRecord {
        id: "tok-full".into(),
        token_hash: "hmac-sha256$full".into(),
        kind: TokenKind::Refresh,
        client_id: "c1".into(),
        user_id: Some("u1".into()),
        username: Some("alice".into()),
        scopes: ScopeSet::from(["read", "write", "a:b"]),
        grant_type: GrantType::Password,
        family_id: Some("fam-full".into()),
        refreshes_left: Some(3),
        client_epoch: 0,
        user_epoch: Some(0),
        issued_at: at(1),
        expires_at: Some(at(86_400_001)),
        revoked_at: None,
        consumed_at: None,
    };
    let machine = TokenRecord {
        refreshes_left: None,
        expires_at: None,
        family_id: None,
        grant_type: GrantType::ClientCredentials,
        ..token_for("tok-machine", "c1", TokenKind::Access, None)
    };
    store
        .insert_tokens(&[full.clone(), machine.clone()])
        .await
        .unwrap();

    let got = store
        .get_token(&TokenId::new("tok-full"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.token, full, "{b}: every field of the record");
    assert_eq!(
        (got.client_name.as_str(), got.client_version.as_str()),
        ("Tokens", "2.0"),
        "{b}: client joined"
    );
    assert!(got.client_active, "{b}: client active");
    assert_eq!(got.client_epoch, 0, "{b}: client's current epoch");
    assert_eq!(
        (got.user_active, got.user_epoch),
        (Some(true), Some(0)),
        "{b}: user joined"
    );
    let got = store
        .get_token(&TokenId::new("tok-machine"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.token, machine, "{b}: a token without a user");
    assert_eq!(
        (got.user_active, got.user_epoch),
        (None, None),
        "{b}: no user to join"
    );
    assert!(
        store
            .get_token(&TokenId::new("tok-none"))
            .await
            .unwrap()
            .is_none(),
        "{b}: unknown id"
    );
    assert!(
        store
            .find_legacy_token(&full.token_hash)
            .await
            .unwrap()
            .is_none(),
        "{b}: tokens with an id are not found by hash"
    );
}

async fn revoke_token_once_and_revoke_family_counts_what_it_revoked(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    clients_and_users(store.as_ref()).await;
    let alice = Some(("u1", "alice"));
    let f1a = TokenRecord {
        family_id: Some("F1".into()),
        ..token_for("f1-access", "c1", TokenKind::Access, alice)
    };
    let f1r = TokenRecord {
        family_id: Some("F1".into()),
        ..token_for("f1-refresh", "c1", TokenKind::Refresh, alice)
    };
    let f2 = TokenRecord {
        family_id: Some("F2".into()),
        ..token_for("f2-access", "c1", TokenKind::Access, alice)
    };
    store.insert_tokens(&[f1a, f1r, f2]).await.unwrap();

    let audit = event("admin-key:ci", "token.revoke", "token", "f1-access");
    assert!(
        store
            .revoke_token(&TokenId::new("f1-access"), at(100), Some(&audit))
            .await
            .unwrap(),
        "{b}: first revocation"
    );
    assert!(
        !store
            .revoke_token(&TokenId::new("f1-access"), at(150), None)
            .await
            .unwrap(),
        "{b}: second revocation changes nothing"
    );
    assert!(
        !store
            .revoke_token(&TokenId::new("missing"), at(150), None)
            .await
            .unwrap(),
        "{b}: unknown token"
    );
    assert_eq!(
        revoked_at(store.as_ref(), "f1-access").await,
        Some(at(100)),
        "{b}"
    );
    assert_eq!(
        audit_log(store.as_ref()).await[0].event.action,
        "token.revoke",
        "{b}: the revocation's audit entry"
    );

    assert_eq!(
        store
            .revoke_family(&FamilyId::new("F1"), at(200), None)
            .await
            .unwrap(),
        1,
        "{b}: only the family's token still live"
    );
    assert_eq!(
        revoked_at(store.as_ref(), "f1-refresh").await,
        Some(at(200)),
        "{b}"
    );
    assert_eq!(
        revoked_at(store.as_ref(), "f1-access").await,
        Some(at(100)),
        "{b}: an earlier revocation keeps its time"
    );
    assert_eq!(
        revoked_at(store.as_ref(), "f2-access").await,
        None,
        "{b}: other family"
    );
    assert_eq!(
        store
            .revoke_family(&FamilyId::new("F1"), at(300), None)
            .await
            .unwrap(),
        0,
        "{b}: nothing left to revoke"
    );
}

async fn list_tokens_filters_by_client_user_kind_and_status_newest_first(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    clients_and_users(store.as_ref()).await;
    let (alice, bob, carol) = (
        Some(("u1", "alice")),
        Some(("u2", "bob")),
        Some(("u3", "carol")),
    );
    let now = at(1_000);
    let tokens = [
        token_for("t1", "c1", TokenKind::Access, alice),
        TokenRecord {
            expires_at: None,
            ..token_for("t2", "c1", TokenKind::Refresh, alice)
        },
        TokenRecord {
            expires_at: Some(at(500)),
            ..token_for("t3", "c2", TokenKind::Access, bob)
        },
        TokenRecord {
            revoked_at: Some(at(10)),
            ..token_for("t4", "c1", TokenKind::Access, bob)
        },
        TokenRecord {
            consumed_at: Some(at(20)),
            ..token_for("t5", "c1", TokenKind::Refresh, alice)
        },
        token_for("t6", "c3", TokenKind::Access, None),
        token_for("t7", "c2", TokenKind::Access, carol),
    ];
    // One at a time, so positions follow the order above.
    for t in &tokens {
        store.insert_tokens(std::slice::from_ref(t)).await.unwrap();
    }
    // c3's revoke-all and carol's password change end t6 and t7 through their epochs.
    let c3 = Client {
        token_epoch: 1,
        revision: 2,
        ..client("c3", "Third", "1")
    };
    assert!(store
        .update_client(&c3, 1, &event("admin", "client.revoke_all", "client", "c3"))
        .await
        .unwrap());
    let carol_now = User {
        token_epoch: 1,
        ..user("u3", "carol")
    };
    assert!(store
        .update_user(
            &carol_now,
            &event("admin", "user.update", "user", "u3"),
            false
        )
        .await
        .unwrap());

    let filter = |client: Option<&str>, username: Option<&str>, kind, status| TokenFilter {
        client_id: client.map(ClientId::from),
        username: username.map(str::to_owned),
        kind,
        status,
    };
    let s = store.as_ref();
    for (f, expected, what) in [
        (
            filter(None, None, None, None),
            &["t7", "t6", "t5", "t4", "t3", "t2", "t1"][..],
            "all",
        ),
        (
            filter(Some("c1"), None, None, None),
            &["t5", "t4", "t2", "t1"][..],
            "client c1",
        ),
        (
            filter(None, Some("alice"), None, None),
            &["t5", "t2", "t1"][..],
            "user alice",
        ),
        (
            filter(None, None, Some(TokenKind::Refresh), None),
            &["t5", "t2"][..],
            "refresh",
        ),
        (
            filter(None, None, None, Some(TokenStatus::Active)),
            &["t2", "t1"][..],
            "active",
        ),
        (
            filter(None, None, None, Some(TokenStatus::Expired)),
            &["t3"][..],
            "expired",
        ),
        (
            filter(None, None, None, Some(TokenStatus::Revoked)),
            &["t7", "t6", "t5", "t4"][..],
            "revoked: directly, consumed, by client and by user epoch",
        ),
        (
            filter(
                Some("c1"),
                Some("alice"),
                Some(TokenKind::Refresh),
                Some(TokenStatus::Active),
            ),
            &["t2"][..],
            "filters combine",
        ),
    ] {
        assert_eq!(ids(s, &f, now).await, expected, "{b}: {what}");
        // The SQL filter and the Rust rule agree on every token listed.
        if let Some(status) = f.status {
            for (_, state) in s.list_tokens(&f, now, None, 100).await.unwrap() {
                assert_eq!(
                    state.status(now),
                    status,
                    "{b}: {} by TokenState::status",
                    state.token.id
                );
            }
        }
    }

    // Pages of three, newest first, each starting before the last one's position.
    let all = TokenFilter::default();
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = s.list_tokens(&all, now, before, 3).await.unwrap();
        let Some((pos, _)) = page.last() else { break };
        before = Some(*pos);
        pages.push(
            page.into_iter()
                .map(|(_, t)| t.token.id)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        pages,
        vec![vec!["t7", "t6", "t5"], vec!["t4", "t3", "t2"], vec!["t1"]],
        "{b}: pages"
    );
}

async fn mark_epoch_revoked_stamps_only_tokens_an_epoch_change_made_unusable(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let s = store.as_ref();
    clients_and_users(s).await;
    let (alice, bob) = (Some(("u1", "alice")), Some(("u2", "bob")));
    store
        .insert_tokens(&[
            token_for("k1", "c1", TokenKind::Access, None),
            token_for("k2", "c1", TokenKind::Access, alice),
            token_for("k3", "c2", TokenKind::Access, bob),
            token_for("k4", "c2", TokenKind::Access, alice),
            TokenRecord {
                revoked_at: Some(at(50)),
                ..token_for("k5", "c1", TokenKind::Access, None)
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        store.mark_epoch_revoked(at(300), 100).await.unwrap(),
        0,
        "{b}: no epoch moved yet"
    );
    // c1's tokens (k1, k2, k5) and bob's (k3) lose their epoch.
    let c1 = Client {
        token_epoch: 1,
        revision: 2,
        ..client("c1", "Tokens", "2.0")
    };
    assert!(store
        .update_client(&c1, 1, &event("admin", "client.revoke_all", "client", "c1"))
        .await
        .unwrap());
    let bob_now = User {
        token_epoch: 1,
        ..user("u2", "bob")
    };
    assert!(store
        .update_user(
            &bob_now,
            &event("admin", "user.update", "user", "u2"),
            false
        )
        .await
        .unwrap());

    // A batch of one is one per reason: one of c1's live tokens, and bob's.
    assert_eq!(
        store.mark_epoch_revoked(at(400), 1).await.unwrap(),
        2,
        "{b}: first batch"
    );
    assert_eq!(
        store.mark_epoch_revoked(at(500), 100).await.unwrap(),
        1,
        "{b}: the rest"
    );
    assert_eq!(
        store.mark_epoch_revoked(at(600), 100).await.unwrap(),
        0,
        "{b}: done"
    );
    let mut stamps = Vec::new();
    for id in ["k1", "k2"] {
        stamps.push(revoked_at(s, id).await);
    }
    stamps.sort();
    assert_eq!(
        stamps,
        vec![Some(at(400)), Some(at(500))],
        "{b}: c1's tokens"
    );
    assert_eq!(revoked_at(s, "k3").await, Some(at(400)), "{b}: bob's token");
    assert_eq!(
        revoked_at(s, "k4").await,
        None,
        "{b}: alice on c2 still stands"
    );
    assert_eq!(
        revoked_at(s, "k5").await,
        Some(at(50)),
        "{b}: a token revoked before keeps its time"
    );
}

async fn purge_tokens_deletes_expired_revoked_and_consumed_before_the_cutoff_in_batches(
    db: &TestDb,
) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let s = store.as_ref();
    clients_and_users(s).await;
    let far = Some(at(100_000_000));
    let base = |id: &str| TokenRecord {
        expires_at: far,
        ..token_for(id, "c1", TokenKind::Refresh, None)
    };
    store
        .insert_tokens(&[
            TokenRecord {
                expires_at: Some(at(100)),
                ..base("p-expired")
            },
            TokenRecord {
                revoked_at: Some(at(200)),
                ..base("p-revoked")
            },
            TokenRecord {
                consumed_at: Some(at(300)),
                ..base("p-consumed")
            },
            TokenRecord {
                expires_at: Some(at(5_000)),
                ..base("k-expires-after-cutoff")
            },
            TokenRecord {
                revoked_at: Some(at(2_000)),
                ..base("k-revoked-after-cutoff")
            },
            TokenRecord {
                expires_at: None,
                ..base("k-never-expires")
            },
        ])
        .await
        .unwrap();
    let cutoff = at(1_000);
    // Successive batches: a batch of two, the last one, nothing left.
    let mut purged = Vec::new();
    for batch in [2, 2, 2] {
        purged.push(store.purge_tokens(cutoff, batch).await.unwrap());
    }
    assert_eq!(purged, [2, 1, 0], "{b}: rows purged per batch");
    for id in ["p-expired", "p-revoked", "p-consumed"] {
        assert!(
            s.get_token(&TokenId::new(id)).await.unwrap().is_none(),
            "{b}: {id} purged"
        );
    }
    for id in [
        "k-expires-after-cutoff",
        "k-revoked-after-cutoff",
        "k-never-expires",
    ] {
        assert!(
            s.get_token(&TokenId::new(id)).await.unwrap().is_some(),
            "{b}: {id} kept"
        );
    }
}

async fn codes_round_trip_are_single_use_and_purged_after_expiry(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    clients_and_users(store.as_ref()).await;
    let full = AuthCode {
        redirect_uri: "https://app.example/cb?x=1".into(),
        redirect_uri_given: false,
        scopes: ScopeSet::from(["read", "write"]),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        family_id: "fam-full".into(),
        ..code("code-full", at(60_000))
    };
    store.insert_code(&full).await.unwrap();
    assert_eq!(
        store.find_code("code-full").await.unwrap(),
        Some(full.clone()),
        "{b}: every field"
    );
    assert_eq!(
        store.find_code("code-none").await.unwrap(),
        None,
        "{b}: unknown"
    );
    assert!(
        matches!(
            store.insert_code(&full).await,
            Err(StoreError::Duplicate("authorization code"))
        ),
        "{b}: duplicate code"
    );
    let minted = [token_for(
        "from-code",
        "c1",
        TokenKind::Access,
        Some(("u1", "alice")),
    )];
    assert!(
        store
            .redeem_code("code-full", at(10), &minted)
            .await
            .unwrap(),
        "{b}: first redemption"
    );
    assert_eq!(
        store.find_code("code-full").await.unwrap().unwrap().used_at,
        Some(at(10)),
        "{b}: marked used"
    );
    assert!(
        store
            .get_token(&TokenId::new("from-code"))
            .await
            .unwrap()
            .is_some(),
        "{b}: its token stored"
    );
    assert!(
        !store.redeem_code("code-full", at(20), &[]).await.unwrap(),
        "{b}: second redemption refused"
    );

    store
        .insert_code(&code("code-old-1", at(100)))
        .await
        .unwrap();
    store
        .insert_code(&code("code-old-2", at(200)))
        .await
        .unwrap();
    let cutoff = at(1_000);
    // Successive batches: a batch of one, the other, nothing left.
    let mut purged = Vec::new();
    for batch in [1, 10, 10] {
        purged.push(store.purge_codes(cutoff, batch).await.unwrap());
    }
    assert_eq!(purged, [1, 1, 0], "{b}: rows purged per batch");
    assert!(
        store.find_code("code-old-1").await.unwrap().is_none(),
        "{b}"
    );
    assert!(
        store.find_code("code-full").await.unwrap().is_some(),
        "{b}: unexpired kept"
    );
}

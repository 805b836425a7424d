//! `UserStore` beyond uniqueness (`accounts.rs`): reads, listing, updates, deletion with
//! everything the user holds, and the "keep an active administrator" condition.

use crate::common::*;
use tollgate_core::token::TokenKind;

tollgate_testkit::backend_tests!(
    users_are_read_listed_by_username_and_updated,
    the_last_active_administrator_is_kept,
    deleting_a_user_removes_their_tokens_codes_sessions_and_consents,
);

async fn usernames(
    store: &dyn Store,
    q: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Vec<String> {
    store
        .list_users(q, after, limit)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect()
}

async fn insert(store: &dyn Store, u: &User) {
    store
        .insert_user(u, &event("admin", "user.create", "user", &u.id))
        .await
        .unwrap();
}

async fn users_are_read_listed_by_username_and_updated(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let s = store.as_ref();
    let alice = user("u1", "alice");
    for u in [user("u3", "carol"), alice.clone(), user("u2", "Bob")] {
        insert(s, &u).await;
    }
    assert_eq!(
        store.get_user(&UserId::new("u1")).await.unwrap(),
        Some(alice.clone()),
        "{b}: every field"
    );
    assert_eq!(
        store.get_user(&UserId::new("u-none")).await.unwrap(),
        None,
        "{b}: unknown"
    );
    assert_eq!(store.count_users().await.unwrap(), 3, "{b}: count");

    assert_eq!(
        usernames(s, None, None, 10).await,
        ["alice", "Bob", "carol"],
        "{b}: by username"
    );
    assert_eq!(
        usernames(s, Some("AL"), None, 10).await,
        ["alice"],
        "{b}: search ignores case"
    );
    assert_eq!(
        usernames(s, Some("o"), None, 10).await,
        ["Bob", "carol"],
        "{b}: substring"
    );
    assert_eq!(
        usernames(s, None, None, 2).await,
        ["alice", "Bob"],
        "{b}: first page"
    );
    assert_eq!(
        usernames(s, None, Some("bob"), 2).await,
        ["carol"],
        "{b}: after the key"
    );

    let changed = User {
        display_name: None,
        active: false,
        password_hash: "$argon2id$changed".into(),
        token_epoch: 4,
        updated_at: at(50),
        ..alice.clone()
    };
    assert!(
        store
            .update_user(
                &changed,
                &event("admin", "user.update", "user", "u1"),
                false
            )
            .await
            .unwrap(),
        "{b}: updated"
    );
    assert_eq!(
        store.get_user(&UserId::new("u1")).await.unwrap(),
        Some(changed),
        "{b}: every mutable field"
    );
    let ghost = user("u-none", "ghost");
    assert!(
        !store
            .update_user(
                &ghost,
                &event("admin", "user.update", "user", "u-none"),
                false
            )
            .await
            .unwrap(),
        "{b}: no such user"
    );
}

async fn the_last_active_administrator_is_kept(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let s = store.as_ref();
    let carol = User {
        admin: true,
        ..user("u3", "carol")
    };
    insert(s, &carol).await;
    insert(s, &user("u1", "alice")).await;
    let demoted = User {
        admin: false,
        ..carol.clone()
    };
    let ev = event("admin", "user.update", "user", "u3");
    assert!(
        !store.update_user(&demoted, &ev, true).await.unwrap(),
        "{b}: the only admin cannot be demoted"
    );
    assert!(
        store
            .get_user(&UserId::new("u3"))
            .await
            .unwrap()
            .unwrap()
            .admin,
        "{b}: still admin"
    );
    assert!(
        !store
            .delete_user(&UserId::new("u3"), &ev, true)
            .await
            .unwrap(),
        "{b}: nor deleted"
    );
    let alice_admin = User {
        admin: true,
        ..user("u1", "alice")
    };
    assert!(
        store.update_user(&alice_admin, &ev, true).await.unwrap(),
        "{b}: a second admin"
    );
    assert!(
        store.update_user(&demoted, &ev, true).await.unwrap(),
        "{b}: now carol may step down"
    );
    assert!(
        !store
            .delete_user(&UserId::new("u1"), &ev, true)
            .await
            .unwrap(),
        "{b}: alice is the last admin now"
    );
    assert!(
        store
            .delete_user(&UserId::new("u3"), &ev, true)
            .await
            .unwrap(),
        "{b}: carol is not an admin"
    );
    assert_eq!(store.count_users().await.unwrap(), 1, "{b}");
    assert!(
        !store
            .delete_user(&UserId::new("u3"), &ev, false)
            .await
            .unwrap(),
        "{b}: already gone"
    );
}

async fn deleting_a_user_removes_their_tokens_codes_sessions_and_consents(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let s = store.as_ref();
    let c = client("c1", "Apps", "1");
    store.insert_client(&c, &create_event(&c)).await.unwrap();
    insert(s, &user("u1", "alice")).await;
    insert(s, &user("u2", "bob")).await;
    store
        .insert_tokens(&[
            token("alice-token", "c1", TokenKind::Access),
            TokenRecord {
                user_id: Some("u2".into()),
                username: Some("bob".into()),
                ..token("bob-token", "c1", TokenKind::Access)
            },
        ])
        .await
        .unwrap();
    store
        .insert_code(&code("alice-code", at(60_000)))
        .await
        .unwrap();
    store
        .insert_session("alice-session", &UserId::new("u1"), 0, at(0), at(60_000))
        .await
        .unwrap();
    store
        .save_consent(&"u1".into(), &"c1".into(), &ScopeSet::from(["read"]), at(0))
        .await
        .unwrap();

    let ev = event("admin", "user.delete", "user", "u1");
    assert!(
        store
            .delete_user(&UserId::new("u1"), &ev, false)
            .await
            .unwrap(),
        "{b}: deleted"
    );
    assert_eq!(
        store.get_user(&UserId::new("u1")).await.unwrap(),
        None,
        "{b}: user gone"
    );
    assert!(
        store
            .get_token(&TokenId::new("alice-token"))
            .await
            .unwrap()
            .is_none(),
        "{b}: token gone"
    );
    assert!(
        store.find_code("alice-code").await.unwrap().is_none(),
        "{b}: code gone"
    );
    assert!(
        store.find_session("alice-session").await.unwrap().is_none(),
        "{b}: session gone"
    );
    assert_eq!(
        store.get_consent(&"u1".into(), &"c1".into()).await.unwrap(),
        None,
        "{b}: consent gone"
    );
    assert!(
        store
            .get_token(&TokenId::new("bob-token"))
            .await
            .unwrap()
            .is_some(),
        "{b}: other users keep theirs"
    );
}

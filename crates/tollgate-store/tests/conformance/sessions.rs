//! `SessionStore`: sign-in sessions joined with their user's current state, their purge, and
//! consents.

use crate::common::*;
use tollgate_core::token::SessionState;

tollgate_testkit::backend_tests!(
    sessions_are_found_with_their_users_current_state_deleted_and_purged,
    consents_are_kept_per_user_and_client_and_replaced_by_the_next,
);

async fn sessions_are_found_with_their_users_current_state_deleted_and_purged(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    let alice = User {
        admin: true,
        ..user("u1", "alice")
    };
    store
        .insert_user(&alice, &event("admin", "user.create", "user", "u1"))
        .await
        .unwrap();
    store
        .insert_session("s1", &UserId::new("u1"), 0, at(0), at(60_000))
        .await
        .unwrap();
    let expected = SessionState {
        id_hash: "s1".into(),
        user_id: "u1".into(),
        username: "alice".into(),
        user_admin: true,
        user_epoch: 0,
        created_at: at(0),
        expires_at: at(60_000),
        user_active: true,
        user_current_epoch: 0,
    };
    assert_eq!(
        store.find_session("s1").await.unwrap(),
        Some(expected.clone()),
        "{b}: every field"
    );
    assert!(
        expected.is_valid(at(10)),
        "{b}: valid while the user stands"
    );
    assert_eq!(
        store.find_session("s-none").await.unwrap(),
        None,
        "{b}: unknown"
    );

    // A password change moves the user's epoch: the session reads the user as they are now.
    let changed = User {
        token_epoch: 1,
        active: false,
        ..alice.clone()
    };
    assert!(store
        .update_user(
            &changed,
            &event("admin", "user.update", "user", "u1"),
            false
        )
        .await
        .unwrap());
    let now = store.find_session("s1").await.unwrap().unwrap();
    assert_eq!(
        (now.user_epoch, now.user_current_epoch, now.user_active),
        (0, 1, false),
        "{b}: epoch at issue and the user's now"
    );
    assert!(!now.is_valid(at(10)), "{b}: no longer valid");

    store.delete_session("s1").await.unwrap();
    assert_eq!(
        store.find_session("s1").await.unwrap(),
        None,
        "{b}: deleted"
    );
    store.delete_session("s1").await.unwrap();

    for (id, expires) in [("s-old-1", 100), ("s-old-2", 200), ("s-live", 10_000)] {
        store
            .insert_session(id, &UserId::new("u1"), 1, at(0), at(expires))
            .await
            .unwrap();
    }
    let cutoff = at(1_000);
    // Successive batches: a batch of one, the other, nothing left.
    let mut purged = Vec::new();
    for batch in [1, 10, 10] {
        purged.push(store.purge_sessions(cutoff, batch).await.unwrap());
    }
    assert_eq!(purged, [1, 1, 0], "{b}: rows purged per batch");
    assert!(
        store.find_session("s-old-2").await.unwrap().is_none(),
        "{b}"
    );
    assert!(
        store.find_session("s-live").await.unwrap().is_some(),
        "{b}: unexpired kept"
    );
}

async fn consents_are_kept_per_user_and_client_and_replaced_by_the_next(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    for id in ["c1", "c2"] {
        let c = client(id, id, "1");
        store.insert_client(&c, &create_event(&c)).await.unwrap();
    }
    for (id, name) in [("u1", "alice"), ("u2", "bob")] {
        store
            .insert_user(&user(id, name), &event("admin", "user.create", "user", id))
            .await
            .unwrap();
    }
    assert_eq!(
        store.get_consent(&"u1".into(), &"c1".into()).await.unwrap(),
        None,
        "{b}: none yet"
    );
    let scopes = ScopeSet::from(["read", "write"]);
    store
        .save_consent(&"u1".into(), &"c1".into(), &scopes, at(1))
        .await
        .unwrap();
    assert_eq!(
        store.get_consent(&"u1".into(), &"c1".into()).await.unwrap(),
        Some(scopes),
        "{b}: saved"
    );
    store
        .save_consent(&"u1".into(), &"c1".into(), &ScopeSet::from(["read"]), at(2))
        .await
        .unwrap();
    assert_eq!(
        store.get_consent(&"u1".into(), &"c1".into()).await.unwrap(),
        Some(ScopeSet::from(["read"])),
        "{b}: the next consent replaces the last"
    );
    assert_eq!(
        store.get_consent(&"u1".into(), &"c2".into()).await.unwrap(),
        None,
        "{b}: other client"
    );
    assert_eq!(
        store.get_consent(&"u2".into(), &"c1".into()).await.unwrap(),
        None,
        "{b}: other user"
    );
}

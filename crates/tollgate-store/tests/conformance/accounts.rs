//! `AdminKeyStore` and `UserStore`.

use crate::common::*;

tollgate_testkit::backend_tests!(
    admin_keys_insert_find_list_delete_and_reject_duplicate_hash,
    usernames_are_unique_and_found_case_insensitively,
);

async fn admin_keys_insert_find_list_delete_and_reject_duplicate_hash(db: &TestDb) {
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
        store
            .delete_admin_key(&AdminKeyId::new("k1"), &del)
            .await
            .unwrap(),
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
        !store
            .delete_admin_key(&AdminKeyId::new("k1"), &del)
            .await
            .unwrap(),
        "{b}: second delete"
    );
    assert!(
        !store
            .delete_admin_key(&AdminKeyId::new("nope"), &del)
            .await
            .unwrap(),
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

async fn usernames_are_unique_and_found_case_insensitively(db: &TestDb) {
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

//! The group-commit writer behind `insert_tokens`, `redeem_code` and `rotate_refresh`: single use under concurrency, a bad write failing alone, fairness to other writes.

use crate::common::*;

tollgate_testkit::backend_tests!(
    concurrent_redemptions_and_refreshes_have_one_winner_each,
    a_duplicate_token_fails_alone_in_its_batch,
    other_writes_get_their_turn_while_tokens_are_issued_continuously,
);

/// The group-commit writer puts concurrent redemptions of one code into one transaction
/// (one UPDATE for the whole batch): still exactly one wins, and only its tokens are stored.
async fn concurrent_redemptions_and_refreshes_have_one_winner_each(db: &TestDb) {
    use tollgate_core::token::TokenKind;
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
        .insert_code(&code("code-1", at(60_000)))
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
        let code_token = store
            .get_token(&TokenId::new(format!("code-{i}")))
            .await
            .unwrap();
        assert_eq!(code_token.is_some(), i == code_winner[0], "{b}: code-{i}");
        let rotated = store
            .get_token(&TokenId::new(format!("rot-{i}")))
            .await
            .unwrap();
        assert_eq!(rotated.is_some(), i == refresh_winner[0], "{b}: rot-{i}");
        let plain = store
            .get_token(&TokenId::new(format!("plain-{i}")))
            .await
            .unwrap();
        assert!(plain.is_some(), "{b}: plain-{i} stored");
    }
    let code = store.find_code("code-1").await.unwrap().unwrap();
    assert_eq!(code.used_at, Some(at(10 + code_winner[0])), "{b}: used_at");
    let old = store.get_token(&TokenId::new("r0")).await.unwrap().unwrap();
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

/// One bad write in a batch (a duplicate token id) fails alone; the others commit.
async fn a_duplicate_token_fails_alone_in_its_batch(db: &TestDb) {
    use tollgate_core::token::TokenKind;
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
                t.id = TokenId::new(format!("t{}", i + 1));
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
                .get_token(&TokenId::new(format!("t{}", i + 1)))
                .await
                .unwrap()
                .is_some());
        }
    }
}

/// Other writes are not starved by a continuous stream of token batches (the SQLite
/// batcher keeps the writer connection between batches, for a few milliseconds at a time).
async fn other_writes_get_their_turn_while_tokens_are_issued_continuously(db: &TestDb) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    use tollgate_core::token::TokenKind;
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

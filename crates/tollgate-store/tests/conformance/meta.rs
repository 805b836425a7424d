//! `MetaStore`: the deployment hash key, ping, the backend name.

use crate::common::*;
use tollgate_testkit::Backend;

tollgate_testkit::backend_tests!(
    hash_key_first_writer_wins_and_survives_reopen,
    hash_key_racing_instances_agree_on_one_key,
    ping_works_and_backend_is_named,
    pool_stats_name_each_pool_and_its_bound,
);

async fn hash_key_first_writer_wins_and_survives_reopen(db: &TestDb) {
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

async fn hash_key_racing_instances_agree_on_one_key(db: &TestDb) {
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

async fn ping_works_and_backend_is_named(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let b = db.name();
    store
        .ping()
        .await
        .unwrap_or_else(|e| panic!("{b}: ping: {e:?}"));
    assert_eq!(store.backend(), b, "{b}: backend()");
}

async fn pool_stats_name_each_pool_and_its_bound(db: &TestDb) {
    let store = tollgate_store::open(&db.url).await.unwrap();
    let stats = store.pool_stats();
    let pools: Vec<(&str, u32)> = stats.iter().map(|p| (p.pool, p.max)).collect();
    match db.backend {
        // One writer connection; a read-only pool beside it.
        Backend::Sqlite => assert_eq!(pools, [("writer", 1), ("reader", 4)]),
        // Reads and writes share one pool.
        Backend::Postgres => assert_eq!(pools, [("main", 16)]),
    }
    for p in &stats {
        assert!(p.idle <= p.size && p.size <= p.max, "{}: {p:?}", db.name());
    }
}

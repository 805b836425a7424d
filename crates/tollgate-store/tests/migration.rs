//! Upgrades of a database with data in it, on every backend: the schema as an earlier
//! release left it, rows written the way that release wrote them, then `open` (which runs
//! the remaining migrations) and the store's view of those rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::migrate::Migrator;
use std::borrow::Cow;
use tollgate_testkit::{Backend, TestDb};

tollgate_testkit::backend_tests!(
    schema_5_keeps_tokens_issued_before_findable_by_hash,
    schema_6_rekeys_usernames_and_keeps_both_rows_of_a_new_collision,
);

/// The migrations up to and including `version`.
fn up_to(mut m: Migrator, version: i64) -> Migrator {
    m.migrations = Cow::Owned(
        m.migrations
            .iter()
            .filter(|x| x.version <= version)
            .cloned()
            .collect(),
    );
    m
}

const CLIENT: &str = "INSERT INTO clients (client_id, name, name_key, version, client_type, \
     grant_mask, redirect_uris, scopes, access_token_lifetime, refresh_count, active, \
     token_epoch, revision, created_at, updated_at) \
     VALUES ('c1', 'Legacy', 'legacy', '1', 'confidential', 2, '[]', '[\"api\"]', NULL, NULL, \
     $1, 0, 1, 0, 0)";
const TOKEN: &str = "INSERT INTO tokens (id, token_hash, kind, client_id, scopes, \
     grant_type, client_epoch, issued_at) \
     VALUES ($1, $2, 'access', 'c1', 'api', 'client_credentials', 0, 1700000000000)";

/// Migrates `$pool` to schema 4 and writes a client and three tokens the way that release
/// did, then deletes the newest token (purged: its `seq` must not be handed out again).
/// A macro because the two backends' pools are different types.
macro_rules! seed_schema_4 {
    ($pool:expr, $migrator:expr, $active:expr) => {{
        let pool = $pool;
        up_to($migrator, 4).run(&pool).await.unwrap();
        sqlx::query(CLIENT)
            .bind($active)
            .execute(&pool)
            .await
            .unwrap();
        for id in ["old-1", "old-2", "old-3"] {
            sqlx::query(TOKEN)
                .bind(id)
                .bind(format!("hash-{id}"))
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::query("DELETE FROM tokens WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }};
}

/// Schema 5 stops indexing `token_hash` (tokens are found by the id they carry); tokens
/// issued before keep working through `legacy_hash`, and the SQLite table rebuild keeps
/// every row, its `seq`, and the AUTOINCREMENT counter past deleted rows.
async fn schema_5_keeps_tokens_issued_before_findable_by_hash(db: &TestDb) {
    let b = db.name();
    match db.backend {
        Backend::Sqlite => {
            let options = db
                .url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            seed_schema_4!(pool, sqlx::migrate!("./migrations/sqlite"), 1);
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            seed_schema_4!(pool, sqlx::migrate!("./migrations/postgres"), true);
        }
    }

    let store = tollgate_store::open(&db.url).await.unwrap();
    for id in ["old-1", "old-2"] {
        let found = store
            .find_legacy_token(&format!("hash-{id}"))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{b}: {id} by its hash"));
        assert_eq!(found.token.id, id, "{b}");
        assert!(
            store
                .get_token(&tollgate_core::TokenId::new(id))
                .await
                .unwrap()
                .is_some(),
            "{b}: {id}"
        );
    }
    assert!(
        store
            .get_token(&tollgate_core::TokenId::new("old-3"))
            .await
            .unwrap()
            .is_none(),
        "{b}"
    );
    // A new token is not found by hash, and a hash is no longer unique.
    let mut t = store
        .get_token(&tollgate_core::TokenId::new("old-1"))
        .await
        .unwrap()
        .unwrap()
        .token;
    t.id = "new-1".into();
    store.insert_tokens(std::slice::from_ref(&t)).await.unwrap();
    assert_eq!(
        store
            .find_legacy_token("hash-old-1")
            .await
            .unwrap()
            .unwrap()
            .token
            .id,
        "old-1",
        "{b}"
    );
    let page = store
        .list_tokens(&Default::default(), chrono::Utc::now(), None, 10)
        .await
        .unwrap();
    let new = page.iter().find(|(_, s)| s.token.id == "new-1");
    if let Some((seq, _)) = new {
        assert!(*seq > 3, "{b}: seq {seq} reuses a purged row's");
    } else {
        panic!("{b}: new-1 not listed: {page:?}");
    }
}

const USER: &str = "INSERT INTO users (id, username, username_key, display_name, active, admin, \
     password_hash, created_at, updated_at) VALUES ($1, $2, $3, NULL, $4, $5, 'x', $6, $6)";

/// Migrates `$pool` to schema 5 and writes users the way that release keyed them (lower
/// case): `Straße` and `STRASSE` were two users then, and fullwidth `ａｌｉｃｅ` had its own key.
macro_rules! seed_schema_5_users {
    ($pool:expr, $migrator:expr, $yes:expr, $no:expr) => {{
        let pool = $pool;
        up_to($migrator, 5).run(&pool).await.unwrap();
        for (id, name, key, at) in [
            ("u1", "Straße", "straße", 1_i64),
            ("u2", "STRASSE", "strasse", 2),
            ("u3", "ａｌｉｃｅ", "ａｌｉｃｅ", 3),
        ] {
            sqlx::query(USER)
                .bind(id)
                .bind(name)
                .bind(key)
                .bind($yes)
                .bind($no)
                .bind(at)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool.close().await;
    }};
}

/// Schema 6 keys usernames by NFKC + full case folding. Rows that now collide are all kept
/// (none deleted or changed but its key); the one already holding the new key keeps it, the
/// other stays reachable by id; a fullwidth name is found by its plain spelling.
async fn schema_6_rekeys_usernames_and_keeps_both_rows_of_a_new_collision(db: &TestDb) {
    let b = db.name();
    match db.backend {
        Backend::Sqlite => {
            let options = db
                .url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            seed_schema_5_users!(pool, sqlx::migrate!("./migrations/sqlite"), 1, 0);
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
            seed_schema_5_users!(pool, sqlx::migrate!("./migrations/postgres"), true, false);
        }
    }

    let store = tollgate_store::open(&db.url).await.unwrap();
    for id in ["u1", "u2", "u3"] {
        assert!(
            store
                .get_user(&tollgate_core::UserId::new(id))
                .await
                .unwrap()
                .is_some(),
            "{b}: {id} kept"
        );
    }
    let u1 = store
        .get_user(&tollgate_core::UserId::new("u1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(u1.username, "Straße", "{b}: the name as typed is kept");
    for spelling in ["strasse", "STRASSE", "Straße"] {
        let found = store.get_user_by_username(spelling).await.unwrap();
        assert_eq!(
            found.map(|u| u.id),
            Some("u2".into()),
            "{b}: {spelling} finds the row that already held the key"
        );
    }
    let found = store.get_user_by_username("alice").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some("u3".into()), "{b}: fullwidth");
    drop(store);
    // Opening again does not rekey again (the marker is claimed once).
    let store = tollgate_store::open(&db.url).await.unwrap();
    let found = store.get_user_by_username("Straße").await.unwrap();
    assert_eq!(found.map(|u| u.id), Some("u2".into()), "{b}: reopened");
}

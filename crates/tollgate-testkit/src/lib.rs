//! A fresh, empty database per test, on every backend this machine offers.
//!
//! SQLite always runs (a file in a temporary directory). PostgreSQL runs when
//! `TEST_POSTGRES_URL` names a database on a server we may create databases on: each test
//! gets its own database, created next to that one and dropped afterwards. When the
//! variable is unset the PostgreSQL half is skipped with a message, except under `CI`,
//! where that is a failure: CI must never silently test one backend only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sqlx::{Connection, Executor, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The PostgreSQL server URL from `TEST_POSTGRES_URL`, if the tests should use it.
pub fn postgres_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but TEST_POSTGRES_URL is not: PostgreSQL tests must run in CI");
            }
            eprintln!("TEST_POSTGRES_URL is unset: skipping the PostgreSQL half of this test");
            None
        }
    }
}

pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("tollgate.db").display());
    TestDb {
        backend: Backend::Sqlite,
        url,
        _dir: Some(dir),
        pg: None,
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A new empty PostgreSQL database on the server named by `server_url`.
pub async fn postgres(server_url: &str) -> TestDb {
    let mut rnd = [0u8; 4];
    getrandom::fill(&mut rnd).expect("random");
    let base = url::Url::parse(server_url).expect("TEST_POSTGRES_URL is a URL");
    let parent = base.path().trim_start_matches('/').to_owned();
    let name = format!(
        "{}_t{}_{}_{:08x}",
        if parent.is_empty() {
            "tollgate"
        } else {
            &parent
        },
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        u32::from_le_bytes(rnd)
    );
    let mut conn = PgConnection::connect(server_url).await.unwrap_or_else(|e| {
        panic!("cannot reach PostgreSQL at TEST_POSTGRES_URL: {e}");
    });
    conn.execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("CREATE DATABASE");
    conn.close().await.ok();
    let mut url = base.clone();
    url.set_path(&format!("/{name}"));
    TestDb {
        backend: Backend::Postgres,
        url: url.to_string(),
        _dir: None,
        pg: Some((server_url.to_owned(), name)),
    }
}

/// Runs each named `async fn(&TestDb)` once per backend, as tests of their own:
/// `<name>::sqlite` always, `<name>::postgres` when `TEST_POSTGRES_URL` is set (skipped
/// with a message otherwise, a failure under `CI`; see `postgres_url`). Each run gets a
/// fresh database, and a failure names its backend in the test's name, so a body needs no
/// loop and no per-backend labels.
///
/// ```ignore
/// async fn tokens_round_trip(db: &TestDb) { … }
/// tollgate_testkit::backend_tests!(tokens_round_trip);
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test(&$crate::sqlite()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(url) = $crate::postgres_url() {
                        super::$test(&$crate::postgres(&url).await).await;
                    }
                }
            }
        )*
    };
}

/// A fresh database on each backend to test: SQLite, then PostgreSQL if configured.
pub async fn each_backend() -> Vec<TestDb> {
    let mut v = vec![sqlite()];
    if let Some(url) = postgres_url() {
        v.push(postgres(&url).await);
    }
    v
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg.take() {
            // Drop may run inside a runtime; do the async clean-up on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    if let Ok(mut c) = PgConnection::connect(&server).await {
                        let _ = c
                            .execute(
                                format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str(),
                            )
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

//! What `#[backends]` (crate `tollgate-test-macros`) expands to calls into: one test body,
//! one test per backend. `#[backends]` turns `async fn name(s: TestServer) { … }` into a
//! module `name` holding the tests `sqlite` and `postgres`, so a failure names its backend
//! through the test's name; the body stays an ordinary function that rustfmt formats. The
//! PostgreSQL test is skipped with a message when `TEST_POSTGRES_URL` is unset, and fails
//! under `CI` (`tollgate_testkit::postgres_url`).
//!
//! The forms, `#[backends]` first and then the test's own attributes (`#[tokio::test]` or
//! `#[test]`, docs):
//! - `async fn name(s: TestServer)`: a server with the default options
//!   (`#[backends(options = expr)]` for others);
//! - `async fn name(db: TestDb)`: a fresh database, for tests that start their own servers;
//! - `fn name(db: TestDb)`: the same for blocking tests (`#[test]`, spawned binaries);
//! - `#[backends(serial)]`: the two backends of this test take turns, for tests that
//!   measure time or load.
#![allow(dead_code)]

use tollgate_testkit::TestDb;

/// A fresh PostgreSQL database, or `None` (with a message) when none is configured.
pub async fn postgres() -> Option<TestDb> {
    match tollgate_testkit::postgres_url() {
        Some(url) => Some(tollgate_testkit::postgres(&url).await),
        None => None,
    }
}

/// `postgres` for blocking tests.
pub fn postgres_blocking() -> Option<TestDb> {
    let url = tollgate_testkit::postgres_url()?;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    Some(rt.block_on(tollgate_testkit::postgres(&url)))
}

/// Another fresh database on the backend of `db`, for a test that needs two servers.
pub async fn another(db: &TestDb) -> TestDb {
    match db.backend {
        tollgate_testkit::Backend::Sqlite => tollgate_testkit::sqlite(),
        tollgate_testkit::Backend::Postgres => postgres().await.expect("PostgreSQL was configured"),
    }
}

/// Holds the turn of one blocking `serial` test; a panicking holder does not block the other.
pub fn turn(lock: &'static std::sync::Mutex<()>) -> std::sync::MutexGuard<'static, ()> {
    lock.lock().unwrap_or_else(|e| e.into_inner())
}

//! One test body, one test per backend. `backends!` turns
//! `async fn name(s: TestServer) { … }` into a module `name` holding the tests `sqlite` and
//! `postgres`, so a failure names its backend through the test's name. The PostgreSQL test
//! is skipped with a message when `TEST_POSTGRES_URL` is unset, and fails under `CI`
//! (`tollgate_testkit::postgres_url`).
//!
//! The forms, each after the test's own attributes (`#[tokio::test]` or `#[test]`, docs):
//! - `async fn name(s: TestServer)`: a server with the default options;
//! - `async fn name(s: TestServer = options)`: a server started with `options`;
//! - `async fn name(db: TestDb)`: a fresh database, for tests that start their own servers;
//! - `fn name(db: TestDb)`: the same for blocking tests (`#[test]`, spawned binaries);
//! - `serial` before `async fn`/`fn`: the two backends of this test take turns, as the hand
//!   loop once made them, for tests that measure time or load.
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

#[allow(unused_macros)]
macro_rules! backends {
    (@serial) => {};
    (@options) => { crate::common::Options::default() };
    (@options $opts:expr) => { $opts };
    (@server [$($serial:ident)?] $(#[$m:meta])* $name:ident $s:ident [$($opts:expr)?] $body:block) => {
        backends!($(#[$m])* $($serial)? async fn $name(db: TestDb) {
            let $s = crate::common::start_with(db, backends!(@options $($opts)?)).await;
            $body
        });
    };
    (@async [$($serial:ident)?] $(#[$m:meta])* $name:ident $db:ident $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(()); backends!(@$serial);)?

            async fn body($db: tollgate_testkit::TestDb) $body

            $(#[$m])*
            async fn sqlite() {
                $(let _turn = TURN.lock().await; backends!(@$serial);)?
                body(tollgate_testkit::sqlite()).await
            }

            $(#[$m])*
            async fn postgres() {
                $(let _turn = TURN.lock().await; backends!(@$serial);)?
                if let Some(db) = crate::common::harness::postgres().await {
                    body(db).await
                }
            }
        }
    };
    (@blocking [$($serial:ident)?] $(#[$m:meta])* $name:ident $db:ident $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(()); backends!(@$serial);)?

            fn body($db: tollgate_testkit::TestDb) $body

            $(#[$m])*
            fn sqlite() {
                $(let _turn = crate::common::harness::turn(&TURN); backends!(@$serial);)?
                body(tollgate_testkit::sqlite())
            }

            $(#[$m])*
            fn postgres() {
                $(let _turn = crate::common::harness::turn(&TURN); backends!(@$serial);)?
                if let Some(db) = crate::common::harness::postgres_blocking() {
                    body(db)
                }
            }
        }
    };
    ($(#[$m:meta])* async fn $name:ident($s:ident: TestServer $(= $opts:expr)? $(,)?) $body:block) => {
        backends!(@server [] $(#[$m])* $name $s [$($opts)?] $body);
    };
    ($(#[$m:meta])* serial async fn $name:ident($s:ident: TestServer $(= $opts:expr)? $(,)?) $body:block) => {
        backends!(@server [serial] $(#[$m])* $name $s [$($opts)?] $body);
    };
    ($(#[$m:meta])* async fn $name:ident($db:ident: TestDb $(,)?) $body:block) => {
        backends!(@async [] $(#[$m])* $name $db $body);
    };
    ($(#[$m:meta])* serial async fn $name:ident($db:ident: TestDb $(,)?) $body:block) => {
        backends!(@async [serial] $(#[$m])* $name $db $body);
    };
    ($(#[$m:meta])* fn $name:ident($db:ident: TestDb $(,)?) $body:block) => {
        backends!(@blocking [] $(#[$m])* $name $db $body);
    };
    ($(#[$m:meta])* serial fn $name:ident($db:ident: TestDb $(,)?) $body:block) => {
        backends!(@blocking [serial] $(#[$m])* $name $db $body);
    };
}

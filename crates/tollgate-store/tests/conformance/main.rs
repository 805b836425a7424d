//! The store conformance suite: every rule of the `tollgate_core::store` traits, checked on
//! every backend this machine offers (SQLite always, PostgreSQL when `TEST_POSTGRES_URL` is
//! set). Each test gets a fresh database per backend from `tollgate_testkit` and talks to it
//! only through the traits, so a backend passes exactly when it behaves like the others.
//!
//! Each test is an `async fn(&TestDb)` run once per backend by
//! `tollgate_testkit::backend_tests!` (`<test>::sqlite`, `<test>::postgres`), one file per
//! store trait.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod audit;
mod batches;
mod clients;
mod common;
mod meta;
mod sessions;
mod tokens;
mod users;

//! The built binary: serve, migrate, the CLI, TLS, durability across kill -9.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod cli_users_tokens;
mod durability;
mod tls;

//! The admin API over HTTP: clients and their rules, users, tokens, text input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod admin_api;
mod client_rules;
mod text_input;
mod users_tokens_api;

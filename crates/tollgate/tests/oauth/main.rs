//! The OAuth endpoints over HTTP: grants, authorize, introspection and revocation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod oauth_authorize;
mod oauth_flows;
mod oauth_rules;

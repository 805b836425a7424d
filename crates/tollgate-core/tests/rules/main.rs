//! Every flow of the authorization server (`oauth/`) through `OAuthService`, on a real
//! SQLite store in a temporary file, with a `ManualClock` to move time: the rules that need
//! no HTTP to show (STYLE: tests at the cheapest boundary). Cases that differ only in input
//! are one table of input → expected RFC 6749 error code or outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod authorization_code;
mod authorize;
mod client_validate;
mod common;
mod introspect_revoke;
mod refresh;
mod token_endpoint;

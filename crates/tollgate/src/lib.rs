//! The Tollgate server binary's library half: configuration, the HTTP layer, the CLI, and
//! the start-up wiring. Kept as a library so integration tests can start the real server
//! in-process on an ephemeral port.

pub mod cli;
pub mod config;
mod conn;
pub mod console;
pub mod http;
pub mod server;
pub mod tls;

//! The admin console: pages over HTTP, forms, and headless Chromium.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod accessibility;
mod console_browser;
mod console_forms;
mod console_http;
mod console_layout;

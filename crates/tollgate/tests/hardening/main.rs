//! SPEC §9 hardening, point by point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod hardening;
mod hardening_round2;

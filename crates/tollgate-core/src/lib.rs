//! Tollgate's domain: the rules of SPEC §1–§2, the services every front end (admin API,
//! console, CLI) calls, and the store traits the database crates implement.
//!
//! Deliberately absent: axum, sqlx, clap, templates. Nothing here knows about HTTP status
//! codes or SQL; those belong to the outer layers.

pub mod audit;
pub mod client;
pub mod client_cache;
pub mod clock;
pub mod error;
pub mod filter;
pub mod id;
pub mod oauth;
pub mod policy;
pub mod scope;
pub mod secret;
pub mod service;
pub mod store;
pub mod text;
pub mod token;
pub mod user;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Conflict, FieldError, ServiceError};
pub use id::{AdminKeyId, ClientId, FamilyId, TokenId, UserId};
pub use policy::Policy;
pub use scope::ScopeSet;

//! The HTTP layer: routes, wire types, and the mapping of service errors to responses.
//! Each resource module owns its routes; `router` only merges them.

pub mod admin;
pub(crate) mod edge;
pub mod extract;
pub mod health;
pub mod location;
pub mod metrics;
pub mod oauth;
pub mod problem;
pub mod request_id;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderName;
use axum::Router;
use std::sync::Arc;
use tollgate_core::service::Services;

#[derive(Clone)]
/// Shared by every request; cloned per extractor, so it is two reference counts.
pub struct AppState {
    pub services: Arc<Services>,
    pub issuer: Arc<str>,
    pub metrics: Arc<metrics::Metrics>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`oauth::SourceAddr`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
    /// Connection limits, applied by `server::serve_on`/`serve_tls_on`.
    pub http: crate::config::HttpSettings,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application. Tests bind it to `127.0.0.1:0` and talk to it over HTTP.
pub fn router(state: AppState) -> Router {
    let edge_state = edge::EdgeState {
        metrics: state.metrics.clone(),
        hsts: edge::hsts(&state.issuer, state.http.hsts_max_age),
    };
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(oauth::router())
        .merge(crate::console::router())
        .nest("/admin/api/v1", admin::router())
        .with_state(state)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        // With `Router::layer` it runs after routing, so the metrics see the route template.
        .layer(axum::middleware::from_fn_with_state(edge_state, edge::edge))
}

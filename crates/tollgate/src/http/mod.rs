//! The HTTP layer: routes, wire types, and the mapping of service errors to responses.
//! Each resource module owns its routes; `router` only merges them.

pub mod admin;
pub mod extract;
pub mod health;
pub mod problem;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::Router;
use tollgate_core::service::Services;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub issuer: String,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application. Tests bind it to `127.0.0.1:0` and talk to it over HTTP.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .nest("/admin/api/v1", admin::router())
        .with_state(state)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path only: query strings may carry codes or tokens in later flows.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            })
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

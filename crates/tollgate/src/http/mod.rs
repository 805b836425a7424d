//! The HTTP layer: routes, wire types, and the mapping of service errors to responses.
//! Each resource module owns its routes; `router` only merges them.

pub mod admin;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod oauth;
pub mod problem;
pub mod request_id;

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::Router;
use std::sync::Arc;
use tollgate_core::service::Services;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

#[derive(Clone)]
/// Shared by every request; cloned per extractor, so it is two reference counts.
pub struct AppState {
    pub services: Arc<Services>,
    pub issuer: Arc<str>,
    pub metrics: Arc<metrics::Metrics>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`oauth::SourceAddr`).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application. Tests bind it to `127.0.0.1:0` and talk to it over HTTP.
pub fn router(state: AppState) -> Router {
    let metrics = state.metrics.clone();
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(oauth::router())
        .merge(crate::console::router())
        .nest("/admin/api/v1", admin::router())
        .with_state(state)
        .layer(DefaultBodyLimit::max(extract::BODY_LIMIT))
        .layer(axum::middleware::map_request(refuse_oversized))
        .layer(axum::middleware::map_response(security_headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        // Added with `Router::layer`, these run after routing: `metrics::track` sees the
        // matched route template.
        .layer(axum::middleware::from_fn_with_state(metrics, metrics::track))
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
        .layer(axum::middleware::map_request(request_id::drop_unusable))
}

/// SPEC §9: body limits on every endpoint. `DefaultBodyLimit` applies where a handler
/// reads the body (also for bodies without a length); this refuses a declared length over
/// the limit up front, so routes that ignore their body (DELETE, GET) answer 413 too.
async fn refuse_oversized(
    req: Request<axum::body::Body>,
) -> Result<Request<axum::body::Body>, axum::response::Response> {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_none_or(|n| n <= extract::BODY_LIMIT as u64) {
        return Ok(req);
    }
    let detail = format!(
        "the request body is larger than the limit of {} bytes",
        extract::BODY_LIMIT
    );
    Err(if req.uri().path().starts_with("/admin/api/") {
        problem::Problem::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            detail,
        )
        .into_response()
    } else {
        (axum::http::StatusCode::PAYLOAD_TOO_LARGE, detail).into_response()
    })
}

/// SPEC §9: every HTML page gets a strict CSP with `frame-ancestors 'none'`; every
/// response gets `nosniff`. (No `form-action`: browsers apply it to the redirect after the
/// consent form, which must reach the client's redirect URI.)
async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    res
}

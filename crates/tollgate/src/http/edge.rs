//! What every request goes through before and after its handler, in one middleware: the
//! request id, the body-size check, the request's log span and line, the request metrics
//! and the security headers. One layer instead of six: as separate tower layers these cost
//! about a quarter of the server's CPU time per token request (measured in
//! docs/PERFORMANCE.md), for work that is a few header operations.

use super::{extract, metrics::Metrics, problem, request_id, REQUEST_ID};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use tracing::Instrument;

#[derive(Clone)]
pub struct EdgeState {
    pub metrics: Arc<Metrics>,
    pub hsts: Option<HeaderValue>,
}

/// RFC 6797: `Strict-Transport-Security` when the issuer (the address clients are told
/// to use) is https, whether this process terminates TLS or a proxy does; browsers ignore
/// it over plain http anyway. No `includeSubDomains`: other hosts under the issuer's
/// domain are not ours to commit. `max_age` 0 sends none.
pub fn hsts(issuer: &str, max_age: u64) -> Option<HeaderValue> {
    if max_age == 0 || !issuer.starts_with("https://") {
        return None;
    }
    HeaderValue::from_str(&format!("max-age={max_age}")).ok()
}

/// Why a request failed with a 5xx. Error converters attach it to the response instead of
/// logging; `edge` logs it exactly once, in the request's own log line inside its span.
#[derive(Debug, Clone)]
pub struct Cause(pub String);

/// `res` carrying `cause` for the request's log line.
pub fn with_cause(mut res: Response, cause: impl std::fmt::Display) -> Response {
    res.extensions_mut().insert(Cause(cause.to_string()));
    res
}

/// Installed with `Router::layer`, so it runs after routing and `metrics` sees the matched
/// route template.
pub async fn edge(State(edge): State<EdgeState>, mut req: Request, next: Next) -> Response {
    let metrics = &edge.metrics;
    let id = request_id::resolve(req.headers_mut());
    let observation = metrics.observe(&req);
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        // The path only: query strings may carry codes or tokens.
        path = %req.uri().path(),
        request_id = id.to_str().unwrap_or("-"),
    );
    let mut res = match refuse_oversized(&req) {
        Some(res) => res,
        None => next.run(req).instrument(span.clone()).await,
    };
    let status = res.status();
    let latency_us = observation.elapsed().as_micros() as u64;
    let cause = res.extensions_mut().remove::<Cause>();
    let error = cause.as_ref().map_or("-", |c| c.0.as_str());
    span.in_scope(|| {
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // The database is away or the server sheds load: expected, and retried.
            tracing::warn!(
                status = status.as_u16(),
                latency_us,
                error,
                "finished processing request"
            );
        } else if status.is_server_error() {
            tracing::error!(
                status = status.as_u16(),
                latency_us,
                error,
                "finished processing request"
            );
        } else {
            tracing::info!(
                status = status.as_u16(),
                latency_us,
                "finished processing request"
            );
        }
    });
    observation.finish(status);
    let h = res.headers_mut();
    security_headers(h);
    if let Some(hsts) = &edge.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    h.insert(REQUEST_ID, id);
    res
}

/// SPEC §9: body limits on every endpoint. `DefaultBodyLimit` applies where a handler
/// reads the body (also for bodies without a length); this refuses a declared length over
/// the limit up front, so routes that ignore their body (DELETE, GET) answer 413 too.
fn refuse_oversized(req: &Request) -> Option<Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_none_or(|n| n <= extract::BODY_LIMIT as u64) {
        return None;
    }
    let detail = format!(
        "the request body is larger than the limit of {} bytes",
        extract::BODY_LIMIT
    );
    Some(if req.uri().path().starts_with("/admin/api/") {
        problem::Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", detail)
            .into_response()
    } else {
        (StatusCode::PAYLOAD_TOO_LARGE, detail).into_response()
    })
}

/// SPEC §9: every HTML page gets a strict CSP with `frame-ancestors 'none'`; every
/// response gets `nosniff`. (No `form-action`: browsers apply it to the redirect after the
/// consent form, which must reach the client's redirect URI.)
fn security_headers(h: &mut HeaderMap) {
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
}

//! SPEC §10: `/healthz` says the process is alive, `/readyz` that the database answers.

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::time::Duration;

/// How long `/readyz` waits for the database. A hung host or an exhausted pool would
/// otherwise hold the probe for the pool's own timeout or longer (a connection that stops
/// answering mid-query has none); a load balancer should learn "not ready" promptly.
pub const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(json!({ "status": "ok" })) }),
        )
        .route("/readyz", get(readyz))
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let reason = match tokio::time::timeout(READY_TIMEOUT, state.services.store.ping()).await {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            "database unreachable"
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = READY_TIMEOUT.as_millis(),
                "readiness check failed: the database did not answer in time"
            );
            "database did not answer in time"
        }
    };
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "reason": reason })),
    )
}

//! The admin REST API of SPEC §4, under `/admin/api/v1`.

pub mod admin_keys;
pub mod audit;
pub mod clients;
pub mod openapi;
pub mod tokens;
pub mod users;

use super::problem::Problem;
use super::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(clients::router())
        .merge(admin_keys::router())
        .merge(audit::router())
        .merge(users::router())
        .merge(tokens::router())
        .merge(openapi::router())
        .fallback(|| async { Problem::not_found("no such admin API resource") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this resource does not support that method",
            )
        })
}

/// For PATCH: tells a field sent as `null` (`Some(None)`) from one left out (`None`).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

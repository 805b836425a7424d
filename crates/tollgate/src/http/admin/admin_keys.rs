//! `/admin-keys`: create (the key is shown once), list, delete.

use crate::http::extract::{AdminCaller, ApiJson, ApiPath};
use crate::http::problem::Problem;
use crate::http::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate_core::store::AdminKey;
use tollgate_core::AdminKeyId;
use utoipa::ToSchema;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin-keys", get(list_keys).post(create_key))
        .route("/admin-keys/{id}", delete(delete_key))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminKeyCreate {
    /// What the key is for, e.g. "ci" (1–100 characters).
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminKeyView {
    pub id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// The bearer value; only in the creation response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl AdminKeyView {
    fn new(k: &AdminKey, key: Option<String>) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            created_at: k.created_at,
            key,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AdminKeyList {
    pub items: Vec<AdminKeyView>,
}

/// List admin keys (never the keys themselves).
#[utoipa::path(get, path = "/admin-keys", tag = "admin-keys",
    responses((status = 200, body = AdminKeyList), (status = 401, body = Problem)),
    security(("admin_key" = [])))]
pub async fn list_keys(
    State(state): State<AppState>,
    _caller: AdminCaller,
) -> Result<Json<AdminKeyList>, Problem> {
    let keys = state.services.admin_keys.list().await?;
    Ok(Json(AdminKeyList {
        items: keys.iter().map(|k| AdminKeyView::new(k, None)).collect(),
    }))
}

/// Create an admin key; the response is the only place it is shown.
#[utoipa::path(post, path = "/admin-keys", tag = "admin-keys", request_body = AdminKeyCreate,
    responses((status = 201, body = AdminKeyView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn create_key(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiJson(body): ApiJson<AdminKeyCreate>,
) -> Result<Response, Problem> {
    let new = state
        .services
        .admin_keys
        .create(&caller.actor, &body.name)
        .await?;
    let view = AdminKeyView::new(&new.key, Some(new.secret.expose().to_owned()));
    let mut res = (StatusCode::CREATED, Json(view)).into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Delete an admin key; requests using it fail from then on.
#[utoipa::path(delete, path = "/admin-keys/{id}", tag = "admin-keys",
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("admin_key" = [])))]
pub async fn delete_key(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(id): ApiPath<AdminKeyId>,
) -> Result<StatusCode, Problem> {
    state.services.admin_keys.delete(&caller.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

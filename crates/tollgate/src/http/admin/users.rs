//! `/users`: resource owners and console administrators. Passwords go in (on creation and
//! with `POST /users/{id}/password`) and never come out, not even as a hash.

use super::present;
use crate::http::extract::{AdminCaller, ApiJson, ApiPath, ApiQuery};
use crate::http::problem::Problem;
use crate::http::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate_core::service::{NewUser, UserChange};
use tollgate_core::user::User;
use tollgate_core::FieldError;
use tollgate_core::UserId;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route(
            "/users/{id}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/users/{id}/password", post(set_password))
}

/// A user as the API shows it: never the password or its hash.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: String,
    /// Unique, compared case-insensitively.
    pub username: String,
    pub display_name: Option<String>,
    /// Inactive users cannot log in, and their tokens and sessions are invalid.
    pub active: bool,
    /// May use the admin console.
    pub admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            active: u.active,
            admin: u.admin,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A user to create. `username` and `password` are required; their absence is reported
/// with the other validation errors (422).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserCreate {
    /// 1–64 characters, no spaces or control characters; unique (case-insensitive).
    #[schema(min_length = 1, max_length = 64, example = "alice")]
    pub username: Option<String>,
    /// At most 100 characters.
    pub display_name: Option<String>,
    /// 8–1024 characters; stored with Argon2id, never returned.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
    /// May use the admin console (default false).
    pub admin: Option<bool>,
    /// Default true.
    pub active: Option<bool>,
}

/// Fields to change; leave out what stays the same.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// At most 100 characters; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub admin: Option<Option<bool>>,
    /// `false` invalidates the user's tokens and sessions at once and for good
    /// (reactivating does not revive them).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<bool>)]
    pub active: Option<Option<bool>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// 8–1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUsersQuery {
    /// Case-insensitive substring of the username.
    pub q: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

/// List users ordered by username, filtered and paginated.
#[utoipa::path(get, path = "/users", tag = "users", params(ListUsersQuery),
    responses((status = 200, body = UserPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn list_users(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(q): ApiQuery<ListUsersQuery>,
) -> Result<Json<UserPage>, Problem> {
    let page = state
        .services
        .users
        .list(q.q.as_deref(), q.cursor.as_deref(), q.limit)
        .await?;
    Ok(Json(UserPage {
        items: page.items.iter().map(UserView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create a user. The password is stored as an Argon2id hash and never returned.
#[utoipa::path(post, path = "/users", tag = "users", request_body = UserCreate,
    responses((status = 201, body = UserView, headers(("Location" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 409, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiJson(body): ApiJson<UserCreate>,
) -> Result<Response, Problem> {
    let user = state
        .services
        .users
        .create(
            &caller.actor,
            NewUser {
                username: body.username,
                display_name: body.display_name,
                password: body.password,
                admin: body.admin,
                active: body.active,
            },
        )
        .await?;
    let location = format!("/admin/api/v1/users/{}", user.id);
    let mut res = (StatusCode::CREATED, Json(UserView::from(&user))).into_response();
    if let Ok(v) = location.parse() {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

/// Read one user.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("admin_key" = [])))]
pub async fn get_user(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiPath(id): ApiPath<UserId>,
) -> Result<Json<UserView>, Problem> {
    let user = state.services.users.get(&id).await?;
    Ok(Json(UserView::from(&user)))
}

/// Change a user's display name, admin flag or active state. Deactivating a user
/// invalidates all their tokens and sessions.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = String, Path)),
    request_body = UserPatch,
    responses((status = 200, body = UserView), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn update_user(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<UserPatch>,
) -> Result<Json<UserView>, Problem> {
    // `null` is meaningful for display_name only (it clears it); for a flag it would be a
    // silent no-op, so it is refused.
    let mut errs = Vec::new();
    for (field, v) in [("admin", &body.admin), ("active", &body.active)] {
        if matches!(v, Some(None)) {
            errs.push(FieldError::new(
                field,
                "invalid",
                format!("{field} must be true or false, not null"),
            ));
        }
    }
    if !errs.is_empty() {
        return Err(Problem::validation(errs));
    }
    let user = state
        .services
        .users
        .update(
            &caller.actor,
            &id,
            UserChange {
                display_name: body.display_name,
                admin: body.admin.flatten(),
                active: body.active.flatten(),
            },
        )
        .await?;
    Ok(Json(UserView::from(&user)))
}

/// Delete a user (their tokens, sessions and consents go with them).
#[utoipa::path(delete, path = "/users/{id}", tag = "users", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)),
    security(("admin_key" = [])))]
pub async fn delete_user(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(id): ApiPath<UserId>,
) -> Result<StatusCode, Problem> {
    state.services.users.delete(&caller.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a user's password. Their existing tokens and sessions end.
#[utoipa::path(post, path = "/users/{id}/password", tag = "users", params(("id" = String, Path)),
    request_body = PasswordChange,
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn set_password(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<PasswordChange>,
) -> Result<StatusCode, Problem> {
    state
        .services
        .users
        .set_password(&caller.actor, &id, body.password.as_deref().unwrap_or(""))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

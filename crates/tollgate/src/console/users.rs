//! Console users: add, change role or activity, set a password.

use super::{next_link, PageQuery};
use super::{render, service_error, Admin, AdminForm, Layout};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use tollgate_core::service::{NewUser, UserChange};
use tollgate_core::UserId;
use tollgate_core::{Conflict, ServiceError};

pub struct UserRow {
    id: String,
    username: String,
    display_name: String,
    admin: bool,
    active: bool,
}

/// The user form's labels, for core's field names.
const USER_LABELS: [(&str, &str); 3] = [
    ("display_name", "Display name"),
    ("username", "Username"),
    ("password", "Password"),
];

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    layout: Option<Layout>,
    csrf: String,
    rows: Vec<UserRow>,
    next_url: Option<String>,
    errors: BTreeMap<String, String>,
    new_username: String,
    new_display: String,
    new_admin: bool,
}

impl UsersPage {
    fn err(&self, field: &str) -> Option<String> {
        self.errors.get(field).cloned()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    admin: Option<String>,
}

async fn users_page(
    state: &AppState,
    admin: &Admin,
    cursor: Option<&str>,
    notice: Option<String>,
    form: NewUserForm,
    errors: BTreeMap<String, String>,
    status: StatusCode,
) -> Response {
    let page = match state.services.users.list(None, cursor, Some(100)).await {
        Ok(p) => p,
        Err(e) => return service_error(admin, "users", e),
    };
    render(
        status,
        &UsersPage {
            layout: Some(admin.layout("users", notice)),
            csrf: admin.csrf.clone(),
            rows: page
                .items
                .into_iter()
                .map(|u| UserRow {
                    id: u.id.into_string(),
                    username: u.username,
                    display_name: u.display_name.unwrap_or_default(),
                    admin: u.admin,
                    active: u.active,
                })
                .collect(),
            next_url: next_link("/console/users", &[], page.next_cursor),
            errors,
            new_username: form.username,
            new_display: form.display_name,
            new_admin: form.admin.is_some(),
        },
    )
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> Response {
    users_page(
        &state,
        &admin,
        q.cursor.as_deref(),
        admin.flash(q.notice),
        NewUserForm::default(),
        BTreeMap::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn create(State(state): State<AppState>, f: AdminForm<NewUserForm>) -> Response {
    let AdminForm { admin, form } = f;
    let input = NewUser {
        username: Some(form.username.clone()),
        display_name: Some(form.display_name.clone()).filter(|d| !d.trim().is_empty()),
        password: Some(form.password.clone()),
        admin: Some(form.admin.is_some()),
        active: Some(true),
    };
    match state.services.users.create(&admin.actor, input).await {
        Ok(u) => admin.see_other("/console/users", &format!("User {} created.", u.username)),
        Err(ServiceError::Validation(errs)) => {
            let errors = errs
                .iter()
                .map(|e| (e.field.clone(), super::in_words(e, &USER_LABELS)))
                .collect();
            users_page(
                &state,
                &admin,
                None,
                None,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(ServiceError::Conflict(c @ Conflict::DuplicateUsername(_))) => {
            let errors = BTreeMap::from([("username".to_owned(), c.to_string())]);
            users_page(
                &state,
                &admin,
                None,
                None,
                form,
                errors,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => service_error(&admin, "users", e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct UserUpdateForm {
    active: Option<String>,
    admin: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    f: AdminForm<UserUpdateForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let change = UserChange {
        display_name: None,
        active: form.active.as_deref().map(|v| v == "true"),
        admin: form.admin.as_deref().map(|v| v == "true"),
    };
    let what = match (form.active.as_deref(), form.admin.as_deref()) {
        (Some("false"), _) => "deactivated; their tokens and sessions ended",
        (Some(_), _) => "activated",
        (_, Some("true")) => "is now an administrator",
        _ => "is no longer an administrator",
    };
    let outcome = state.services.users.update(&admin.actor, &id, change).await;
    admin.finish("users", outcome, "/console/users", |u| {
        format!("{} {what}.", u.username)
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    f: AdminForm<PasswordForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let outcome = (state.services.users)
        .set_password(&admin.actor, &id, &form.password)
        .await;
    admin.finish("users", outcome, "/console/users", |u| {
        format!(
            "Password of {} changed; their sessions and tokens ended.",
            u.username
        )
    })
}

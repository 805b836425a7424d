//! Admin API keys: create (shown once), list, delete.

use super::{render, service_error, Admin, AdminForm, Layout};
use super::{short_time, Empty, PageQuery};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tollgate_core::AdminKeyId;
use tollgate_core::ServiceError;

#[derive(Template)]
#[template(path = "console/admin_keys.html")]
struct KeysPage {
    layout: Option<Layout>,
    csrf: String,
    rows: Vec<(String, String, String)>,
    new_key: Option<String>,
    name: String,
    error: Option<String>,
}

async fn keys_page(
    state: &AppState,
    admin: &Admin,
    notice: Option<String>,
    new_key: Option<String>,
    name: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let keys = match state.services.admin_keys.list().await {
        Ok(k) => k,
        Err(e) => return service_error(admin, "admin-keys", e),
    };
    let mut res = render(
        status,
        &KeysPage {
            layout: Some(admin.layout("admin-keys", notice)),
            csrf: admin.csrf.clone(),
            rows: keys
                .into_iter()
                .map(|k| (k.name, k.id.into_string(), short_time(k.created_at)))
                .collect(),
            new_key,
            name,
            error,
        },
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<PageQuery>,
) -> Response {
    keys_page(
        &state,
        &admin,
        admin.flash(q.notice),
        None,
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    name: String,
}

pub async fn create(State(state): State<AppState>, f: AdminForm<KeyForm>) -> Response {
    let AdminForm { admin, form } = f;
    match state
        .services
        .admin_keys
        .create(&admin.actor, &form.name)
        .await
    {
        // Shown in this response only.
        Ok(k) => {
            keys_page(
                &state,
                &admin,
                Some(format!("Admin key {} created.", k.key.name)),
                Some(k.secret.expose().to_owned()),
                String::new(),
                None,
                StatusCode::OK,
            )
            .await
        }
        Err(ServiceError::Validation(errs)) => {
            let msg = errs
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" ");
            keys_page(
                &state,
                &admin,
                None,
                None,
                form.name,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => service_error(&admin, "admin-keys", e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<AdminKeyId>,
    f: AdminForm<Empty>,
) -> Response {
    let admin = f.admin;
    let outcome = state.services.admin_keys.delete(&admin.actor, &id).await;
    admin.finish("admin-keys", outcome, "/console/admin-keys", |()| {
        "Admin key deleted; requests using it now fail.".into()
    })
}

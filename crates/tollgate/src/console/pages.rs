//! Console pages for Token Management, users, admin keys and the audit log.

use super::{render, service_error, Admin, AdminForm, Layout};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use tollgate_core::audit::AuditFilter;
use tollgate_core::service::{NewUser, UserChange};
use tollgate_core::store::{ClientFilter, TokenFilter};
use tollgate_core::token::{TokenKind, TokenStatus};
use tollgate_core::{Conflict, ServiceError};

fn short_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn next_link(base: &str, params: &[(&str, &str)], cursor: Option<String>) -> Option<String> {
    cursor.map(|c| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair("cursor", &c);
        format!("{base}?{}", ser.finish())
    })
}

// ---------------------------------------------------------------------------------------
// Token Management

#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    cursor: Option<String>,
    notice: Option<String>,
}

pub struct TokenRow {
    id: String,
    kind: &'static str,
    client_id: String,
    client: String,
    username: String,
    scopes: String,
    issued: String,
    expires: String,
    refreshes_left: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    layout: Option<Layout>,
    csrf: String,
    client_id: String,
    username: String,
    kind: String,
    status: String,
    client_options: Vec<(String, String)>,
    revoke_all: Option<(String, String)>,
    rows: Vec<TokenRow>,
    next_url: Option<String>,
}

pub async fn tokens(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<TokenQuery>,
) -> Response {
    let filter = TokenFilter {
        client_id: Some(q.client_id.clone()).filter(|s| !s.is_empty()),
        username: Some(q.username.trim().to_owned()).filter(|s| !s.is_empty()),
        kind: TokenKind::parse(&q.kind),
        status: TokenStatus::parse(&q.status),
    };
    let svc = &state.services.tokens;
    let page = match svc.list(&filter, q.cursor.as_deref(), Some(100)).await {
        Ok(p) => p,
        Err(e) => return service_error(&admin, "tokens", e),
    };
    let clients = match state
        .services
        .clients
        .list(&ClientFilter::default(), None, Some(500))
        .await
    {
        Ok(p) => p.items,
        Err(e) => return service_error(&admin, "tokens", e),
    };
    let client_options: Vec<(String, String)> = clients
        .iter()
        .map(|c| (c.client_id.clone(), format!("{} {}", c.name, c.version)))
        .collect();
    let revoke_all = client_options
        .iter()
        .find(|(id, _)| *id == q.client_id)
        .cloned();
    let now = svc.now();
    let rows = page
        .items
        .iter()
        .map(|s| {
            let t = &s.token;
            TokenRow {
                id: t.id.clone(),
                kind: t.kind.as_str(),
                client_id: t.client_id.clone(),
                client: format!("{} {}", s.client_name, s.client_version),
                username: t.username.clone().unwrap_or_else(|| "—".into()),
                scopes: if t.scopes.is_empty() {
                    "—".into()
                } else {
                    t.scopes.join(" ")
                },
                issued: short_time(t.issued_at),
                // SPEC §2: never-expiring tokens show "Lifetime".
                expires: t.expires_at.map_or_else(|| "Lifetime".into(), short_time),
                refreshes_left: match (t.kind, t.refreshes_left) {
                    (TokenKind::Refresh, None) => "Unlimited".into(),
                    (TokenKind::Refresh, Some(n)) => n.to_string(),
                    (TokenKind::Access, _) => "—".into(),
                },
                status: s.status(now).as_str(),
            }
        })
        .collect();
    let next_url = next_link(
        "/console/tokens",
        &[
            ("client_id", &q.client_id),
            ("username", &q.username),
            ("kind", &q.kind),
            ("status", &q.status),
        ],
        page.next_cursor,
    );
    render(
        StatusCode::OK,
        &TokensPage {
            layout: Some(admin.layout("tokens", admin.flash(q.notice))),
            csrf: admin.csrf.clone(),
            client_id: q.client_id,
            username: q.username,
            kind: q.kind,
            status: q.status,
            client_options,
            revoke_all,
            rows,
            next_url,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct Empty {}

pub async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<Empty>,
) -> Response {
    let admin = f.admin;
    match state.services.tokens.revoke(&admin.actor, &id).await {
        Ok(_) => admin.see_other("/console/tokens", &format!("Token {id} revoked.")),
        Err(e) => service_error(&admin, "tokens", e),
    }
}

// ---------------------------------------------------------------------------------------
// Users

pub struct UserRow {
    id: String,
    username: String,
    display_name: String,
    admin: bool,
    active: bool,
}

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
pub struct PageQuery {
    cursor: Option<String>,
    notice: Option<String>,
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
                    id: u.id,
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

pub async fn users(
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

pub async fn create_user(State(state): State<AppState>, f: AdminForm<NewUserForm>) -> Response {
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
            let errors = errs.into_iter().map(|e| (e.field, e.message)).collect();
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

pub async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<UserUpdateForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let change = UserChange {
        display_name: None,
        active: form.active.as_deref().map(|v| v == "true"),
        admin: form.admin.as_deref().map(|v| v == "true"),
    };
    match state.services.users.update(&admin.actor, &id, change).await {
        Ok(u) => {
            let what = match (form.active.as_deref(), form.admin.as_deref()) {
                (Some("false"), _) => "deactivated; their tokens and sessions ended",
                (Some(_), _) => "activated",
                (_, Some("true")) => "is now an administrator",
                _ => "is no longer an administrator",
            };
            admin.see_other("/console/users", &format!("{} {what}.", u.username))
        }
        Err(e) => service_error(&admin, "users", e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<PasswordForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    match state
        .services
        .users
        .set_password(&admin.actor, &id, &form.password)
        .await
    {
        Ok(u) => admin.see_other(
            "/console/users",
            &format!(
                "Password of {} changed; their sessions and tokens ended.",
                u.username
            ),
        ),
        Err(e) => service_error(&admin, "users", e),
    }
}

// ---------------------------------------------------------------------------------------
// Admin keys

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
                .map(|k| (k.name, k.id, short_time(k.created_at)))
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

pub async fn admin_keys(
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

pub async fn create_admin_key(State(state): State<AppState>, f: AdminForm<KeyForm>) -> Response {
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

pub async fn delete_admin_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    f: AdminForm<Empty>,
) -> Response {
    let admin = f.admin;
    match state.services.admin_keys.delete(&admin.actor, &id).await {
        Ok(()) => admin.see_other(
            "/console/admin-keys",
            "Admin key deleted; requests using it now fail.",
        ),
        Err(e) => service_error(&admin, "admin-keys", e),
    }
}

// ---------------------------------------------------------------------------------------
// Audit log

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    layout: Option<Layout>,
    actor: String,
    action: String,
    known_actions: Vec<&'static str>,
    rows: Vec<(String, String, String, String, String, String)>,
    next_url: Option<String>,
}

const KNOWN_ACTIONS: [&str; 17] = [
    "client.create",
    "client.update",
    "client.activate",
    "client.deactivate",
    "client.delete",
    "client.rotate_secret",
    "client.revoke_tokens",
    "token.revoke",
    "token.revoke_family",
    "user.create",
    "user.update",
    "user.activate",
    "user.deactivate",
    "user.set_password",
    "user.delete",
    "admin_key.create",
    "admin_key.delete",
];

pub async fn audit(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<AuditQuery>,
) -> Response {
    let filter = AuditFilter {
        actor: Some(q.actor.trim().to_owned()).filter(|s| !s.is_empty()),
        action: Some(q.action.trim().to_owned()).filter(|s| !s.is_empty()),
        target_id: None,
    };
    let page = match state
        .services
        .audit
        .list(&filter, q.cursor.as_deref(), Some(50))
        .await
    {
        Ok(p) => p,
        Err(e) => return service_error(&admin, "audit", e),
    };
    let rows = page
        .items
        .into_iter()
        .map(|e| {
            let ev = e.event;
            (
                short_time(ev.at),
                ev.actor,
                ev.action,
                format!("{} {}", ev.target_type, ev.target_id),
                ev.source_ip.unwrap_or_else(|| "—".into()),
                serde_json::to_string(&ev.details).unwrap_or_default(),
            )
        })
        .collect();
    render(
        StatusCode::OK,
        &AuditPage {
            layout: Some(admin.layout("audit", None)),
            next_url: next_link(
                "/console/audit",
                &[("actor", &q.actor), ("action", &q.action)],
                page.next_cursor,
            ),
            actor: q.actor,
            action: q.action,
            known_actions: KNOWN_ACTIONS.to_vec(),
            rows,
        },
    )
}

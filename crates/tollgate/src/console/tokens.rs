//! Token Management (SPEC §5): every token with its client, user and status; filters, revoke.

use super::{bad_filter, next_link, short_time, BackForm};
use super::{render, service_error, Admin, AdminForm, Layout};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tollgate_core::filter;
use tollgate_core::store::{ClientFilter, TokenFilter};
use tollgate_core::token::TokenKind;
use tollgate_core::TokenId;

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
    /// This page's address, for its action forms to return to.
    back: String,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    Query(q): Query<TokenQuery>,
) -> Response {
    let filter = match TokenFilter::parse(filter::TokenQuery {
        client_id: Some(&q.client_id),
        username: Some(&q.username),
        kind: Some(&q.kind),
        status: Some(&q.status),
    }) {
        Ok(f) => f,
        Err(errs) => return bad_filter(&admin, "tokens", errs),
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
        .map(|c| (c.client_id.to_string(), format!("{} {}", c.name, c.version)))
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
                id: t.id.to_string(),
                kind: t.kind.as_str(),
                client_id: t.client_id.to_string(),
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
    let params = [
        ("client_id", q.client_id.as_str()),
        ("username", &q.username),
        ("kind", &q.kind),
        ("status", &q.status),
    ];
    let back = super::list_url("/console/tokens", &params, q.cursor.as_deref());
    let next_url = next_link("/console/tokens", &params, page.next_cursor);
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
            back,
        },
    )
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<TokenId>,
    f: AdminForm<BackForm>,
) -> Response {
    let AdminForm { admin, form } = f;
    let outcome = state.services.tokens.revoke(&admin.actor, &id).await;
    let to = form.back_to("/console/tokens").unwrap_or("/console/tokens");
    admin.finish("tokens", outcome, to, |_| format!("Token {id} revoked."))
}

//! The audit log, newest first, filtered by actor and action.

use super::{next_link, short_time};
use super::{render, service_error, Admin, Layout};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tollgate_core::audit::AuditFilter;

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

pub async fn list(
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

//! The audit log, newest first, filtered by actor and action.

use super::{next_link, short_time};
use super::{render, service_error, Admin, Layout};
use crate::http::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::collections::HashMap;
use tollgate_core::audit::{AuditEntry, AuditFilter, Detail, Details};
use tollgate_core::{ClientId, UserId};

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
    rows: Vec<Row>,
    next_url: Option<String>,
}

pub struct Row {
    at: String,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    /// The target's name (and version) now, or as the entry recorded it; `None` when
    /// neither says.
    target_name: Option<String>,
    source_ip: String,
    /// One line a detail, a change as "field: old → new".
    details: Vec<String>,
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
    let names = target_names(&state, &page.items).await;
    let rows = page
        .items
        .into_iter()
        .map(|e| {
            let ev = e.event;
            let key = (ev.target_type.clone(), ev.target_id.clone());
            let target_name = names
                .get(&key)
                .cloned()
                .or_else(|| recorded_name(&ev.details));
            Row {
                at: short_time(ev.at),
                details: detail_lines(&ev.details),
                actor: ev.actor,
                action: ev.action,
                target_type: ev.target_type,
                target_id: ev.target_id,
                target_name,
                source_ip: ev.source_ip.unwrap_or_else(|| "—".into()),
            }
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

/// The current names of the page's clients, users and admin keys, looked up once each.
async fn target_names(
    state: &AppState,
    entries: &[AuditEntry],
) -> HashMap<(String, String), String> {
    let mut out = HashMap::new();
    let mut keys_listed = false;
    for e in entries {
        let (kind, id) = (e.event.target_type.as_str(), e.event.target_id.as_str());
        let key = (kind.to_owned(), id.to_owned());
        if out.contains_key(&key) {
            continue;
        }
        let name = match kind {
            "client" => (state.services.clients.get(&ClientId::new(id)).await)
                .ok()
                .map(|c| format!("{} {}", c.name, c.version)),
            "user" => (state.services.users.get(&UserId::new(id)).await)
                .ok()
                .map(|u| u.username),
            "admin_key" if !keys_listed => {
                keys_listed = true;
                for k in state.services.admin_keys.list().await.unwrap_or_default() {
                    out.insert(("admin_key".to_owned(), k.id.into_string()), k.name);
                }
                continue;
            }
            _ => None,
        };
        if let Some(n) = name {
            out.insert(key, n);
        }
    }
    out
}

/// A deleted target's name, as its entry recorded it.
fn recorded_name(d: &Details) -> Option<String> {
    let text = |k| match d.get(k) {
        Some(Detail::Text(t)) => Some(t.clone()),
        _ => None,
    };
    match (text("name"), text("version")) {
        (Some(n), Some(v)) => Some(format!("{n} {v}")),
        (Some(n), None) => Some(n),
        _ => text("username"),
    }
}

/// What an administrator reads for a detail's key: the console's label for the fields it
/// edits, else the key in words.
fn label(key: &str) -> String {
    match key {
        "type" => "Type".into(),
        "grant_types" => "Grants".into(),
        "redirect_uris" => "Redirect URIs".into(),
        "access_token_lifetime" => "Expiration interval".into(),
        "refresh_count" => "Refresh count".into(),
        "secret_generated" => "New secret generated".into(),
        other => {
            let words = other.replace('_', " ");
            let mut c = words.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

fn shown(d: &Detail) -> String {
    match d {
        Detail::Null => "none".into(),
        Detail::Bool(true) => "yes".into(),
        Detail::Bool(false) => "no".into(),
        Detail::Int(n) => n.to_string(),
        Detail::Text(t) => t.clone(),
        Detail::List(v) if v.is_empty() => "none".into(),
        Detail::List(v) => v.iter().map(shown).collect::<Vec<_>>().join(", "),
        Detail::Map(m) => m
            .iter()
            .map(|(k, v)| format!("{}: {}", label(k), shown(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The details as lines; an update's `changes` as "field: old → new" (its bare list of
/// `changed` names then says nothing more).
fn detail_lines(d: &Details) -> Vec<String> {
    let has_changes = d.get("changes").is_some();
    let mut lines = Vec::new();
    for (key, value) in d.iter() {
        match (key, value) {
            ("changed", _) if has_changes => {}
            ("changes", Detail::Map(changes)) => {
                for (field, change) in changes.iter() {
                    let Detail::Map(c) = change else { continue };
                    let side = |k| c.get(k).map_or_else(|| "none".into(), shown);
                    lines.push(format!(
                        "{}: {} → {}",
                        label(field),
                        side("from"),
                        side("to")
                    ));
                }
            }
            _ => lines.push(format!("{}: {}", label(key), shown(value))),
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_core::details;

    #[test]
    fn details_read_as_lines_and_changes_as_from_and_to() {
        let d = details! {
            "changed" => vec!["access_token_lifetime", "scopes"],
            "changes" => details! {
                "access_token_lifetime" => details! { "from" => "never", "to" => 3600i64 },
                "scopes" => details! { "from" => Vec::<String>::new(), "to" => vec!["read", "write"] },
            },
            "secret_generated" => false,
        };
        assert_eq!(
            detail_lines(&d),
            [
                "Expiration interval: never → 3600",
                "Scopes: none → read, write",
                "New secret generated: no",
            ]
        );
        let created =
            details! { "name" => "Billing", "version" => "2.0", "refresh_count" => "unlimited" };
        assert_eq!(recorded_name(&created).as_deref(), Some("Billing 2.0"));
        assert_eq!(
            detail_lines(&created),
            ["Name: Billing", "Refresh count: unlimited", "Version: 2.0"]
        );
    }
}

//! `/audit`: the audit log, newest first.

use crate::http::extract::{AdminCaller, ApiQuery};
use crate::http::problem::Problem;
use crate::http::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate_core::audit::AuditFilter;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list_audit))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Exact actor, e.g. `admin-key:Xy3…Qz (ci)` or `user:admin`.
    pub actor: Option<String>,
    /// Exact action, e.g. `client.create`.
    pub action: Option<String>,
    /// Entries about one object (a client id, a key id).
    pub target_id: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub source_ip: Option<String>,
    /// What changed (never secrets).
    #[schema(value_type = Object)]
    pub details: tollgate_core::audit::Details,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    pub next_cursor: Option<String>,
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditPage), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn list_audit(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditPage>, Problem> {
    let filter = AuditFilter {
        actor: q.actor,
        action: q.action,
        target_id: q.target_id,
    };
    let page = state
        .services
        .audit
        .list(&filter, q.cursor.as_deref(), q.limit)
        .await?;
    Ok(Json(AuditPage {
        items: page
            .items
            .into_iter()
            .map(|e| AuditEntryView {
                id: e.id,
                at: e.event.at,
                actor: e.event.actor,
                action: e.event.action,
                target_type: e.event.target_type,
                target_id: e.event.target_id,
                source_ip: e.event.source_ip,
                details: e.event.details,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

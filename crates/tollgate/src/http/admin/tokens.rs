//! `/tokens`: the token management list (SPEC §4): every access and refresh token in
//! circulation, with its status, and revocation. Never the token itself or its hash.

use super::present;
use crate::http::extract::{AdminCaller, ApiPath, ApiQuery};
use crate::http::problem::Problem;
use crate::http::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tollgate_core::filter::TokenQuery;
use tollgate_core::store::TokenFilter;
use tollgate_core::token::{TokenKind, TokenState, TokenStatus};
use tollgate_core::TokenId;
use utoipa::{IntoParams, ToSchema};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list_tokens))
        .route("/tokens/{id}", get(get_token).delete(revoke_token))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenKindView {
    Access,
    Refresh,
}

impl From<TokenKind> for TokenKindView {
    fn from(k: TokenKind) -> Self {
        match k {
            TokenKind::Access => Self::Access,
            TokenKind::Refresh => Self::Refresh,
        }
    }
}

/// `revoked` covers every way a token stops working early: revoked directly or with its
/// authorization, consumed by a refresh, or invalidated by deactivating (or revoking all
/// tokens of) its client or user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatusView {
    Active,
    Expired,
    Revoked,
}

impl From<TokenStatus> for TokenStatusView {
    fn from(s: TokenStatus) -> Self {
        match s {
            TokenStatus::Active => Self::Active,
            TokenStatus::Expired => Self::Expired,
            TokenStatus::Revoked => Self::Revoked,
        }
    }
}

/// A token as the admin API shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenView {
    /// The token's public id (not the token).
    pub id: String,
    pub kind: TokenKindView,
    pub client_id: String,
    pub client_name: String,
    pub client_version: String,
    /// The resource owner; `null` for tokens issued to the client itself
    /// (client credentials).
    #[schema(required = true)]
    pub username: Option<String>,
    pub scopes: Vec<String>,
    /// How the token was obtained: `authorization_code`, `client_credentials`, `password`,
    /// `implicit` or `refresh_token`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    pub issued_at: DateTime<Utc>,
    /// `null`: never expires (shown as "Lifetime"). Refresh tokens never expire.
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Refresh tokens only: how many more refreshes this token allows, `null` for
    /// unlimited. Access tokens do not have this field.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>, nullable = true, required = false)]
    pub refreshes_left: Option<Option<u32>>,
    pub status: TokenStatusView,
}

impl TokenView {
    pub fn new(s: &TokenState, now: DateTime<Utc>) -> Self {
        let t = &s.token;
        Self {
            id: t.id.to_string(),
            kind: t.kind.into(),
            client_id: t.client_id.to_string(),
            client_name: s.client_name.clone(),
            client_version: s.client_version.clone(),
            username: t.username.clone(),
            scopes: t.scopes.to_vec(),
            grant_type: t.grant_type.as_str().to_owned(),
            issued_at: t.issued_at,
            expires_at: t.expires_at,
            refreshes_left: match t.kind {
                TokenKind::Refresh => Some(t.refreshes_left),
                TokenKind::Access => None,
            },
            status: s.status(now).into(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTokensQuery {
    /// Only tokens of this client.
    pub client_id: Option<String>,
    /// Only tokens of this resource owner (case-insensitive).
    pub username: Option<String>,
    /// `access` or `refresh`.
    #[param(value_type = Option<TokenKindView>)]
    pub kind: Option<String>,
    /// `active`, `expired` or `revoked`.
    #[param(value_type = Option<TokenStatusView>)]
    pub status: Option<String>,
    /// Page size, 1–500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenPage {
    pub items: Vec<TokenView>,
    pub next_cursor: Option<String>,
}

/// The query's filters, every bad one named at once (core's rules, shared with the console).
fn filter_of(q: &ListTokensQuery) -> Result<TokenFilter, Problem> {
    TokenFilter::parse(TokenQuery {
        client_id: q.client_id.as_deref(),
        username: q.username.as_deref(),
        kind: q.kind.as_deref(),
        status: q.status.as_deref(),
    })
    .map_err(Problem::validation)
}

/// The token management list, newest first, filtered and paginated.
#[utoipa::path(get, path = "/tokens", tag = "tokens", params(ListTokensQuery),
    responses((status = 200, body = TokenPage), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 422, body = Problem)),
    security(("admin_key" = [])))]
pub async fn list_tokens(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiQuery(q): ApiQuery<ListTokensQuery>,
) -> Result<Json<TokenPage>, Problem> {
    let filter = filter_of(&q)?;
    let tokens = &state.services.tokens;
    let page = tokens.list(&filter, q.cursor.as_deref(), q.limit).await?;
    let now = tokens.now();
    Ok(Json(TokenPage {
        items: page.items.iter().map(|t| TokenView::new(t, now)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Read one token's metadata.
#[utoipa::path(get, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 200, body = TokenView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("admin_key" = [])))]
pub async fn get_token(
    State(state): State<AppState>,
    _caller: AdminCaller,
    ApiPath(id): ApiPath<TokenId>,
) -> Result<Json<TokenView>, Problem> {
    let tokens = &state.services.tokens;
    let t = tokens.get(&id).await?;
    Ok(Json(TokenView::new(&t, tokens.now())))
}

/// Revoke a token. Revoking a refresh token also revokes every token of the same
/// authorization (as RFC 7009 revocation does). Revoking a token that is already revoked
/// succeeds and changes nothing.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("admin_key" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: AdminCaller,
    ApiPath(id): ApiPath<TokenId>,
) -> Result<StatusCode, Problem> {
    state.services.tokens.revoke(&caller.actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

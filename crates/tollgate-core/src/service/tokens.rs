//! Token management (SPEC §4 `/tokens`): the admin's view of tokens in circulation.

use super::{check_limit, decode_cursor, Page};
use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::details;
use crate::error::ServiceError;
use crate::id::TokenId;
use crate::store::{Store, TokenFilter};
use crate::token::{TokenKind, TokenState, TokenStatus};
use std::sync::Arc;

#[derive(Clone)]
pub struct TokenService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl TokenService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// Newest first.
    pub async fn list(
        &self,
        filter: &TokenFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<TokenState>, ServiceError> {
        let limit = check_limit(limit)?;
        let before = decode_cursor(cursor)?;
        super::check_filters(&[
            ("client_id", filter.client_id.as_deref()),
            ("username", filter.username.as_deref()),
        ])?;
        // Usernames compare case-insensitively everywhere (Unicode, in Rust); resolve the
        // filter to the stored spelling so both databases agree.
        let mut filter = filter.clone();
        if let Some(u) = &filter.username {
            match self.store.get_user_by_username(u).await? {
                Some(user) => filter.username = Some(user.username),
                None => {
                    return Ok(Page {
                        items: Vec::new(),
                        next_cursor: None,
                    })
                }
            }
        }
        let rows = self
            .store
            .list_tokens(&filter, self.clock.now(), before, limit + 1)
            .await?;
        let page = Page::from_rows(rows, limit, |(pos, _)| *pos);
        Ok(Page {
            items: page.items.into_iter().map(|(_, t)| t).collect(),
            next_cursor: page.next_cursor,
        })
    }

    pub async fn get(&self, id: &TokenId) -> Result<TokenState, ServiceError> {
        self.store
            .get_token(id)
            .await?
            .ok_or(ServiceError::NotFound("token"))
    }

    /// Revokes a token; a refresh token takes its whole authorization with it (as RFC 7009
    /// revocation does). Revoking an inactive token is a no-op that still succeeds.
    pub async fn revoke(&self, actor: &Actor, id: &TokenId) -> Result<TokenState, ServiceError> {
        let state = self.get(id).await?;
        let now = self.clock.now();
        // Only a usable token is revoked. An expired, revoked or already-rotated one is
        // left alone: revoking a consumed refresh token's family would kill the live
        // tokens its rotation produced.
        if state.status(now) != TokenStatus::Active {
            return Ok(state);
        }
        let t = &state.token;
        let audit = AuditEvent::new(
            actor,
            now,
            "token.revoke",
            "token",
            &t.id,
            details! { "kind" => t.kind.as_str(), "client_id" => &t.client_id, "username" => &t.username },
        );
        match (t.kind, &t.family_id) {
            (TokenKind::Refresh, Some(f)) => {
                self.store.revoke_family(f, now, Some(&audit)).await?;
            }
            _ => {
                self.store.revoke_token(&t.id, now, Some(&audit)).await?;
            }
        }
        self.get(id).await
    }
}

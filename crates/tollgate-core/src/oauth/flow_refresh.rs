//! RFC 6749 §6: refreshing an access token, with rotation and reuse detection (SPEC §2,
//! RFC 9700 §4.14.2).

use super::{OAuthError, OAuthService, TokenResponse};
use crate::client::{Client, GrantType};
use crate::scope::ScopeSet;
use crate::token::{RefreshAllowance, TokenKind, TokenStatus};

/// Why the authorization was revoked, in the audit log.
const REFRESH_REUSE: &str = "refresh token reuse";

impl OAuthService {
    pub(super) async fn refresh(
        &self,
        client: &Client,
        refresh_token: Option<String>,
        scope: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(presented) = refresh_token.filter(|t| !t.is_empty()) else {
            return Err(OAuthError::InvalidRequest(
                "refresh_token is required".into(),
            ));
        };
        let invalid =
            || OAuthError::InvalidGrant("the refresh token is invalid, expired or revoked".into());
        let Some(state) = self.find_presented_token(&presented).await? else {
            return Err(invalid());
        };
        let t = &state.token;
        // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
        if t.kind != TokenKind::Refresh || t.client_id != client.client_id {
            return Err(invalid());
        }
        let now = self.now();
        if t.consumed_at.is_some() && t.revoked_at.is_none() {
            // A consumed refresh token presented again: someone holds a copy. Revoke the
            // whole authorization (SPEC §2 reuse detection).
            let family = t.family_id.as_ref();
            return Err(self
                .replayed(family, client, REFRESH_REUSE, invalid())
                .await);
        }
        if state.status(now) != TokenStatus::Active {
            return Err(invalid());
        }
        // Refresh tokens come from the authorization code grant only: once the administrator
        // takes that grant away, its families stop working (issue 13, finding 6).
        if !client.grant_types.contains(GrantType::AuthorizationCode) {
            return Err(OAuthError::UnauthorizedClient(
                "this client may no longer use the authorization_code grant that issued this refresh token".into(),
            ));
        }
        let (scopes, kept) = Self::refresh_scopes(client, &t.scopes, scope.as_deref())?;
        let user = match (&t.user_id, &t.username, t.user_epoch) {
            (Some(id), Some(name), Some(epoch)) => Some((id, name.as_str(), epoch)),
            _ => None,
        };
        // This refresh used one of the token's allowance; its successor gets the rest.
        let refresh = RefreshAllowance::from_stored(t.refreshes_left)
            .next()
            .map(|left| (left, &kept));
        let family = t.family_id.as_ref();
        let (response, records) = self.issue(
            client,
            user,
            GrantType::RefreshToken,
            family,
            &scopes,
            refresh,
            now,
        )?;
        if !self.store().rotate_refresh(&t.id, now, &records).await? {
            // Lost a race with a concurrent refresh of the same token: that is a reuse.
            return Err(self
                .replayed(family, client, REFRESH_REUSE, invalid())
                .await);
        }
        Ok(response)
    }

    /// RFC 6749 §6: the scope of a refreshed access token is at most what the family was
    /// granted *and* what the client may have now (scopes the administrator removed are gone
    /// for good: the new refresh token keeps only the rest). A `scope` parameter narrows
    /// further. Returns (the access token's scopes, the new refresh token's scopes).
    fn refresh_scopes(
        client: &Client,
        granted: &ScopeSet,
        requested: Option<&str>,
    ) -> Result<(ScopeSet, ScopeSet), OAuthError> {
        let kept = granted.still_allowed(&client.scopes);
        if kept.is_empty() && !granted.is_empty() {
            return Err(OAuthError::InvalidScope(
                "none of the scopes granted to this refresh token is still allowed for this client"
                    .into(),
            ));
        }
        if requested.is_none_or(|s| s.trim().is_empty()) {
            return Ok((kept.clone(), kept));
        }
        let out = granted.narrow(requested).map_err(|_| {
            OAuthError::InvalidScope(
                "a requested scope was not granted to this refresh token".into(),
            )
        })?;
        if !kept.covers(&out) {
            return Err(OAuthError::InvalidScope(
                "a requested scope is no longer allowed for this client".into(),
            ));
        }
        Ok((out, kept))
    }
}

//! RFC 6749 §6: refreshing an access token, with rotation and reuse detection (SPEC §2,
//! RFC 9700 §4.14.2).

use super::{OAuthError, OAuthService, TokenRequest, TokenResponse};
use crate::client::Client;
use crate::token::{IssuedBy, TokenKind, TokenStatus};

impl OAuthService {
    pub(super) async fn refresh(
        &self,
        client: &Client,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(presented) = req.refresh_token.filter(|t| !t.is_empty()) else {
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
            if let Some(f) = &t.family_id {
                self.revoke_family_for_reuse(f, &client.client_id, "refresh token reuse")
                    .await?;
            }
            return Err(invalid());
        }
        if state.status(now) != TokenStatus::Active {
            return Err(invalid());
        }
        // RFC 6749 §6: the new scope may not exceed the original grant.
        let scopes = match req.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            None => t.scopes.clone(),
            Some(s) => {
                let mut out: Vec<String> = Vec::new();
                for x in s.split(' ').filter(|x| !x.is_empty()) {
                    if !t.scopes.iter().any(|o| o == x) {
                        return Err(OAuthError::InvalidScope(format!(
                            "scope {x:?} was not granted to this refresh token"
                        )));
                    }
                    if !out.iter().any(|o| o == x) {
                        out.push(x.to_owned());
                    }
                }
                out
            }
        };
        let user = match (&t.user_id, &t.username, t.user_epoch) {
            (Some(id), Some(name), Some(epoch)) => Some((id.as_str(), name.as_str(), epoch)),
            _ => None,
        };
        let (access, access_rec) = self.mint(
            TokenKind::Access,
            client,
            user,
            &scopes,
            IssuedBy::RefreshToken,
            t.family_id.as_deref(),
            None,
            now,
        )?;
        let mut records = vec![access_rec];
        // This token allowed `left` more refreshes; the one just made used one of them.
        let next_left = match t.refreshes_left {
            None => Some(None),
            Some(n) if n > 1 => Some(Some(n - 1)),
            Some(_) => None,
        };
        let mut refresh = None;
        if let Some(left) = next_left {
            let (secret, rec) = self.mint(
                TokenKind::Refresh,
                client,
                user,
                &t.scopes,
                IssuedBy::RefreshToken,
                t.family_id.as_deref(),
                left,
                now,
            )?;
            records.push(rec);
            refresh = Some(secret);
        }
        if !self.store().rotate_refresh(&t.id, now, &records).await? {
            // Lost a race with a concurrent refresh of the same token: that is a reuse.
            if let Some(f) = &t.family_id {
                self.revoke_family_for_reuse(f, &client.client_id, "refresh token reuse")
                    .await?;
            }
            return Err(invalid());
        }
        Ok(TokenResponse {
            access_token: access,
            expires_in: Self::expires_in(client),
            refresh_token: refresh,
            scope: scopes.join(" "),
        })
    }
}

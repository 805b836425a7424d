//! RFC 7009 token revocation.

use super::{OAuthError, OAuthService};
use crate::audit::{Actor, AuditEvent};
use crate::client::Client;
use crate::details;
use crate::token::TokenKind;

impl OAuthService {
    /// Revokes `token` if it belongs to `client`. Unknown tokens, and tokens of other
    /// clients, are ignored: RFC 7009 §2.2 answers 200 either way, which also keeps token
    /// existence from leaking. A refresh token takes its whole authorization with it.
    pub async fn revoke(
        &self,
        client: &Client,
        token: &str,
        source_ip: Option<String>,
    ) -> Result<(), OAuthError> {
        if token.is_empty() {
            return Err(OAuthError::InvalidRequest("token is required".into()));
        }
        let Some(state) = self.find_presented_token(token).await? else {
            return Ok(());
        };
        let t = &state.token;
        if t.client_id != client.client_id {
            return Ok(());
        }
        let now = self.now();
        let actor = Actor::new(format!("client:{}", client.client_id), source_ip);
        // RFC 7009 §2.1: revoking a refresh token SHOULD also invalidate the access tokens
        // of the same authorization.
        let family = match (t.kind, &t.family_id) {
            (TokenKind::Refresh, Some(family)) => Some(family),
            _ => None,
        };
        let details = match family {
            Some(_) => details! { "kind" => "refresh", "family" => true },
            None => details! { "kind" => t.kind.as_str() },
        };
        let audit = AuditEvent::new(&actor, now, "token.revoke", "token", &t.id, details);
        // What it revoked does not change the answer (RFC 7009 §2.2).
        match family {
            Some(family) => {
                self.store()
                    .revoke_family(family, now, Some(&audit))
                    .await?;
            }
            None => {
                self.store().revoke_token(&t.id, now, Some(&audit)).await?;
            }
        }
        Ok(())
    }
}

//! RFC 7662 token introspection.

use super::OAuthService;
use crate::store::StoreError;
use crate::token::{TokenKind, TokenStatus};

/// RFC 7662 §2.2. An inactive token is `active: false` and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Introspection {
    pub active: bool,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub token_type: Option<&'static str>,
    pub iat: Option<i64>,
    /// `None` for never-expiring tokens.
    pub exp: Option<i64>,
    pub sub: Option<String>,
    pub iss: Option<String>,
}

impl OAuthService {
    /// The caller has been authenticated by the HTTP layer (active confidential client or
    /// admin key).
    pub async fn introspect(&self, token: &str) -> Result<Introspection, StoreError> {
        if token.is_empty() {
            return Ok(Introspection::default());
        }
        let Some(state) = self.find_presented_token(token).await? else {
            return Ok(Introspection::default());
        };
        if state.status(self.now()) != TokenStatus::Active {
            return Ok(Introspection::default());
        }
        let t = state.token;
        Ok(Introspection {
            active: true,
            scope: Some(t.scopes.to_string()),
            sub: Some(
                t.user_id
                    .map_or_else(|| t.client_id.to_string(), String::from),
            ),
            client_id: Some(t.client_id.into_string()),
            username: t.username,
            token_type: Some(match t.kind {
                TokenKind::Access => "Bearer",
                TokenKind::Refresh => "refresh_token",
            }),
            iat: Some(t.issued_at.timestamp()),
            exp: t.expires_at.map(|e| e.timestamp()),
            iss: Some(self.issuer().to_owned()),
        })
    }
}

//! RFC 6749 §4.4: the client credentials grant. One write: the token row.

use super::{OAuthError, OAuthService, TokenResponse};
use crate::client::{Client, GrantType};
use crate::token::TokenKind;

impl OAuthService {
    pub(super) async fn client_credentials(
        &self,
        client: &Client,
        scope: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes = Self::resolve_scopes(client, scope.as_deref())?;
        let now = self.now();
        // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
        let (access, record) = self.mint(
            TokenKind::Access,
            client,
            None,
            &scopes,
            GrantType::ClientCredentials,
            None,
            None,
            now,
        )?;
        self.store()
            .insert_tokens(std::slice::from_ref(&record))
            .await?;
        Ok(TokenResponse {
            access_token: access,
            expires_in: Self::expires_in(client),
            refresh_token: None,
            scope: scopes.join(" "),
        })
    }
}

//! RFC 6749 §4.4: the client credentials grant. One write: the token row.

use super::{OAuthError, OAuthService, TokenResponse};
use crate::client::{Client, GrantType};

impl OAuthService {
    pub(super) async fn client_credentials(
        &self,
        client: &Client,
        scope: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let scopes = Self::resolve_scopes(client, scope.as_deref())?;
        // RFC 6749 §4.4.3: "A refresh token SHOULD NOT be included."
        self.issue_access(client, None, GrantType::ClientCredentials, &scopes)
            .await
    }
}

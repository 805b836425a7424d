//! RFC 6749 §4.3: the resource owner password credentials grant (legacy; SPEC §1).

use super::{OAuthError, OAuthService, TokenResponse};
use crate::client::{Client, GrantType};
use crate::service::Origin;
use std::net::IpAddr;

impl OAuthService {
    pub(super) async fn password(
        &self,
        client: &Client,
        username: Option<String>,
        password: Option<String>,
        scope: Option<String>,
        source: Option<IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let (Some(username), Some(password)) = (username, password) else {
            return Err(OAuthError::InvalidRequest(
                "username and password are required for the password grant".into(),
            ));
        };
        let scopes = Self::resolve_scopes(client, scope.as_deref())?;
        // No device cookie here: the password grant is counted like a new browser.
        let origin = Origin {
            address: source,
            device_cookie: None,
        };
        let user = self.passwords().verify(&username, password, origin).await?;
        let user = match user {
            Some(u) => u,
            // RFC 6749 §5.2: invalid resource owner credentials are invalid_grant.
            _ => {
                return Err(OAuthError::InvalidGrant(
                    "the username or password is wrong, or the user is deactivated".into(),
                ))
            }
        };
        // SPEC §2: only the authorization code grant returns refresh tokens.
        self.issue_access(client, Some(&user), GrantType::Password, &scopes)
            .await
    }
}

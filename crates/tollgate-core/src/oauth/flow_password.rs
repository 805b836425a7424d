//! RFC 6749 §4.3: the resource owner password credentials grant (legacy; SPEC §1).

use super::{user_tuple, OAuthError, OAuthService, TokenRequest, TokenResponse};
use crate::client::Client;
use crate::service::DUMMY_PHC;
use crate::token::{IssuedBy, TokenKind};
use crate::user::verify_password;

impl OAuthService {
    pub(super) async fn password(
        &self,
        client: &Client,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        let (Some(username), Some(password)) = (req.username, req.password) else {
            return Err(OAuthError::InvalidRequest(
                "username and password are required for the password grant".into(),
            ));
        };
        let scopes = Self::resolve_scopes(client, req.scope.as_deref())?;
        let user = self.store().get_user_by_username(&username).await?;
        let phc = user
            .as_ref()
            .map_or_else(|| DUMMY_PHC.to_owned(), |u| u.password_hash.clone());
        let ok = verify_password(password, phc)
            .await
            .map_err(|e| OAuthError::ServerError(e.to_string()))?;
        let user = match user {
            Some(u) if ok && u.active => u,
            // RFC 6749 §5.2: invalid resource owner credentials are invalid_grant.
            _ => {
                return Err(OAuthError::InvalidGrant(
                    "the username or password is wrong, or the user is deactivated".into(),
                ))
            }
        };
        let now = self.now();
        // SPEC §2: only the authorization code grant returns refresh tokens.
        let (access, record) = self.mint(
            TokenKind::Access,
            client,
            Some(user_tuple(&user)),
            &scopes,
            IssuedBy::Password,
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

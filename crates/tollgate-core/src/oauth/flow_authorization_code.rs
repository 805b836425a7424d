//! RFC 6749 §4.1.3: exchanging an authorization code, with PKCE (RFC 7636 §4.6).

use super::{pkce, user_tuple, OAuthError, OAuthService, TokenResponse};
use crate::client::{Client, GrantType};
use crate::details;
use crate::id::FamilyId;
use crate::token::{Owner, RefreshAllowance};

impl OAuthService {
    pub(super) async fn authorization_code(
        &self,
        client: &Client,
        code: Option<String>,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(code) = code.filter(|c| !c.is_empty()) else {
            return Err(OAuthError::InvalidRequest("code is required".into()));
        };
        let code_hash = self.hash(&code);
        let invalid = || {
            OAuthError::InvalidGrant(
                "the authorization code is invalid, expired or already used".into(),
            )
        };
        let Some(stored) = self.store().find_code(&code_hash).await? else {
            return Err(invalid());
        };
        let now = self.now();
        // RFC 6749 §4.1.3: "ensure that the authorization code was issued to the
        // authenticated confidential client, or ... public client".
        if stored.client_id != client.client_id {
            return Err(invalid());
        }
        // RFC 6749 §4.1.2: "If an authorization code is used more than once, the
        // authorization server MUST deny the request and SHOULD revoke (when possible) all
        // tokens previously issued based on that authorization code."
        if stored.used_at.is_some() {
            return Err(self
                .replayed(Some(&stored.family_id), client, CODE_REUSE, invalid())
                .await);
        }
        if now >= stored.expires_at {
            return Err(invalid());
        }
        // RFC 6749 §4.1.3: redirect_uri must be present and identical if it was included in
        // the authorization request.
        match (&redirect_uri, stored.redirect_uri_given) {
            (Some(r), _) if *r != stored.redirect_uri => {
                return Err(OAuthError::InvalidGrant(
                    "redirect_uri does not match the one used in the authorization request".into(),
                ))
            }
            (None, true) => {
                return Err(OAuthError::InvalidRequest(
                    "redirect_uri is required: it was part of the authorization request".into(),
                ))
            }
            _ => {}
        }
        match (&stored.code_challenge, code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) => {
                if !pkce::is_valid_verifier(verifier) {
                    return Err(OAuthError::InvalidRequest(
                        "code_verifier must be 43-128 unreserved characters (RFC 7636 §4.1)".into(),
                    ));
                }
                if !pkce::verify_s256(verifier, challenge) {
                    return Err(OAuthError::InvalidGrant(
                        "code_verifier does not match the code_challenge".into(),
                    ));
                }
            }
            (Some(_), None) => {
                return Err(OAuthError::InvalidRequest(
                    "code_verifier is required: the authorization request carried a code_challenge"
                        .into(),
                ))
            }
            // A verifier without a challenge could be a downgrade attempt: refuse it.
            (None, Some(_)) => {
                return Err(OAuthError::InvalidGrant(
                    "code_verifier was sent but the authorization request had no code_challenge"
                        .into(),
                ))
            }
            (None, None) => {}
        }
        let user = self
            .store()
            .get_user(&stored.user_id)
            .await?
            .filter(|u| Owner::user(u).still_stands(stored.user_epoch));
        let Some(user) = user else {
            return Err(OAuthError::InvalidGrant(
                "the user is no longer active".into(),
            ));
        };
        if !Owner::client(client).still_stands(stored.client_epoch) {
            return Err(OAuthError::InvalidGrant(
                "the client's tokens were revoked after this code was issued".into(),
            ));
        }
        let refresh =
            RefreshAllowance::initial(client.refresh_count).map(|left| (left, &stored.scopes));
        let (response, records) = self.issue(
            client,
            Some(user_tuple(&user)),
            GrantType::AuthorizationCode,
            Some(&stored.family_id),
            &stored.scopes,
            refresh,
            now,
        )?;
        // Exactly one of several concurrent redemptions gets here with `true`.
        if !self.store().redeem_code(&code_hash, now, &records).await? {
            return Err(self
                .replayed(Some(&stored.family_id), client, CODE_REUSE, invalid())
                .await);
        }
        Ok(response)
    }

    /// A code or refresh token presented again, or the loser of a race to redeem one (the
    /// same thing): revokes every token of its authorization, records why in the audit log,
    /// and returns `refusal` for the request (or the store's error, if revoking failed).
    pub(super) async fn replayed(
        &self,
        family_id: Option<&FamilyId>,
        client: &Client,
        reason: &str,
        refusal: OAuthError,
    ) -> OAuthError {
        let Some(family_id) = family_id else {
            return refusal;
        };
        let now = self.now();
        let client_id = client.client_id.as_str();
        let audit = crate::audit::AuditEvent::new(
            &crate::audit::Actor::new("system", None),
            now,
            "token.revoke_family",
            "client",
            client_id,
            details! { "family_id" => family_id, "reason" => reason },
        );
        match self
            .store()
            .revoke_family(family_id, now, Some(&audit))
            .await
        {
            Ok(n) => {
                tracing::warn!(
                    client_id,
                    revoked = n,
                    reason,
                    "replay detected: authorization revoked"
                );
                refusal
            }
            Err(e) => e.into(),
        }
    }
}

/// Why the authorization was revoked, in the audit log.
const CODE_REUSE: &str = "authorization code reuse";

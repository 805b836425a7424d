//! The authorization server (RFC 6749 and friends): one module per flow, all sharing the
//! client authentication, scope and token issuing rules here.

mod authorize;
mod error;
mod flow_authorization_code;
mod flow_client_credentials;
mod flow_password;
mod flow_refresh;
mod introspect;
pub mod pkce;
mod revoke;

pub use authorize::{AuthorizeError, AuthorizeRequest, ResponseType, ValidatedAuthorize};
pub use error::{known_parameter, OAuthError};
pub use introspect::Introspection;

use crate::client::{Client, ClientType, GrantType, TokenLifetime};
use crate::client_cache::ClientCache;
use crate::clock::Clock;
use crate::id::{ClientId, FamilyId, TokenId, UserId};
use crate::scope::ScopeSet;
use crate::secret::{Secret, SecretHasher};
use crate::service::throttle::Key;
use crate::service::PasswordCheck;
use crate::store::Store;
use crate::token::{RefreshAllowance, TokenKind, TokenRecord};
use crate::user::User;
use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;
use std::sync::Arc;

/// How the client presented its credentials at the token, introspection or revocation
/// endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// `client_secret_basic`
    Basic,
    /// `client_secret_post`
    Post,
    /// `none`: a public client sending only `client_id`.
    None,
}

#[derive(Debug, Clone)]
pub struct ClientCredentials {
    pub client_id: ClientId,
    pub secret: Option<Secret>,
    pub method: AuthMethod,
}

/// A token request (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6): one variant per grant of the
/// token endpoint, parsed where the request arrives, so nothing below matches a
/// `grant_type` string. A required parameter that is missing stays `None`: the flow refuses
/// it only after client authentication and the client's grants are checked, the order in
/// which clients have always seen these errors.
#[derive(Debug, Clone)]
pub enum TokenRequest {
    AuthorizationCode {
        code: Option<String>,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    ClientCredentials {
        scope: Option<String>,
    },
    Password {
        username: Option<String>,
        password: Option<String>,
        scope: Option<String>,
    },
    RefreshToken {
        refresh_token: Option<String>,
        scope: Option<String>,
    },
}

impl TokenRequest {
    pub fn grant(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
            Self::Password { .. } => GrantType::Password,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
        }
    }

    /// The request for `grant_type`, taking the grant's parameters with `param`: the one
    /// reading of a token request, whatever carries it. Errors are the RFC 6749 §5.2 ones
    /// for a missing or unknown grant type; `OAuthService::token` reports them after
    /// authenticating the client.
    pub fn parse(
        grant_type: Option<&str>,
        mut param: impl FnMut(&str) -> Option<String>,
    ) -> Result<Self, OAuthError> {
        let grant_type = grant_type.unwrap_or_default();
        if grant_type.is_empty() {
            return Err(OAuthError::InvalidRequest("grant_type is required".into()));
        }
        let unsupported = || {
            OAuthError::UnsupportedGrantType("this grant_type is not supported; use authorization_code, client_credentials, password or refresh_token".into())
        };
        let grant = GrantType::parse(grant_type).filter(|g| g.at_token_endpoint());
        Ok(match grant.ok_or_else(unsupported)? {
            GrantType::AuthorizationCode => Self::AuthorizationCode {
                code: param("code"),
                redirect_uri: param("redirect_uri"),
                code_verifier: param("code_verifier"),
            },
            GrantType::ClientCredentials => Self::ClientCredentials {
                scope: param("scope"),
            },
            GrantType::Password => Self::Password {
                username: param("username"),
                password: param("password"),
                scope: param("scope"),
            },
            GrantType::RefreshToken => Self::RefreshToken {
                refresh_token: param("refresh_token"),
                scope: param("scope"),
            },
            GrantType::Implicit => return Err(unsupported()),
        })
    }
}

/// RFC 6749 §5.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: Secret,
    /// `None` for never-expiring tokens: the response then omits `expires_in`.
    pub expires_in: Option<u32>,
    pub refresh_token: Option<Secret>,
    pub scope: String,
}

#[derive(Clone)]
pub struct OAuthService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hasher: SecretHasher,
    auth_code_lifetime: Duration,
    issuer: String,
    cache: ClientCache,
    /// Also holds the brute-force limits client authentication uses.
    passwords: PasswordCheck,
}

impl OAuthService {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hasher: SecretHasher,
        auth_code_lifetime_secs: u32,
        issuer: String,
        cache: ClientCache,
        passwords: PasswordCheck,
    ) -> Self {
        Self {
            store,
            clock,
            hasher,
            auth_code_lifetime: Duration::seconds(i64::from(auth_code_lifetime_secs)),
            issuer,
            cache,
            passwords,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// RFC 6749 §2.3.1 and §3.2.1: authenticates the client calling the token, introspection
    /// or revocation endpoint from `source`. Confidential clients must prove their secret;
    /// public clients send no secret. Any failure is `invalid_client`, with no hint which
    /// part was wrong.
    ///
    /// Brute-force limits (SPEC §9): a secret check is reserved against (client, source) and
    /// the source before it runs, and given back unless the secret was wrong. Requests of a
    /// public client, and a confidential client sending no secret, guess nothing and are
    /// never counted.
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
        source: Option<IpAddr>,
    ) -> Result<Arc<Client>, OAuthError> {
        let basic = creds.method == AuthMethod::Basic;
        let fail = || OAuthError::invalid_client("client authentication failed", basic);
        // No client id holds a control character, and PostgreSQL cannot look up a NUL.
        let client = if crate::text::has_control(&creds.client_id) {
            None
        } else {
            self.cache.get(&*self.store, &creds.client_id).await?
        };
        let guessing = match (&client, &creds.secret) {
            (Some(c), _) if c.client_type == ClientType::Public => false,
            (_, secret) => secret.is_some(),
        };
        let reservation = if guessing {
            let keys = [
                Some(Key::Client {
                    client_id: &creds.client_id,
                    address: source,
                }),
                source.map(Key::Address),
            ];
            Some(
                self.passwords
                    .throttle()
                    .reserve(keys.into_iter().flatten())
                    .map_err(OAuthError::Throttled)?,
            )
        } else {
            None
        };
        let checked = self.check_client_secret(client, creds, basic, &fail);
        if let Some(r) = reservation {
            match &checked {
                Err(SecretCheck::Wrong) => r.failed(),
                _ => r.succeeded(),
            }
        }
        let client = checked.map_err(|e| match e {
            SecretCheck::Wrong => fail(),
            SecretCheck::Refused(e) => e,
        })?;
        if !client.active {
            return Err(OAuthError::invalid_client(
                "this client is deactivated",
                basic,
            ));
        }
        // Shared with the cache: no copy of the client per request.
        Ok(client)
    }

    fn check_client_secret(
        &self,
        client: Option<Arc<Client>>,
        creds: &ClientCredentials,
        basic: bool,
        fail: &dyn Fn() -> OAuthError,
    ) -> Result<Arc<Client>, SecretCheck> {
        let Some(client) = client else {
            // Same work as a real check, so timing does not reveal which client ids exist.
            let _ = self.hasher.verify("", "hmac-sha256$AAAA");
            return Err(match creds.secret {
                Some(_) => SecretCheck::Wrong,
                None => SecretCheck::Refused(fail()),
            });
        };
        match (client.client_type, &creds.secret) {
            (ClientType::Confidential, Some(secret)) => {
                if !client.secret_matches(&self.hasher, secret.expose(), self.clock.now()) {
                    return Err(SecretCheck::Wrong);
                }
            }
            (ClientType::Confidential, None) => {
                return Err(SecretCheck::Refused(OAuthError::invalid_client(
                    "this client is confidential: authenticate with client_secret_basic or client_secret_post",
                    basic,
                )))
            }
            (ClientType::Public, None) => {}
            (ClientType::Public, Some(_)) => {
                return Err(SecretCheck::Refused(OAuthError::invalid_client(
                    "public clients have no secret; send client_id only",
                    basic,
                )))
            }
        }
        Ok(client)
    }

    /// POST /oauth2/token: authenticate, then dispatch on the grant. `req` is what the
    /// request parsed to (`TokenRequest::parse`): its error, if any, comes after the client's.
    pub async fn token(
        &self,
        creds: &ClientCredentials,
        req: Result<TokenRequest, OAuthError>,
        source: Option<IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let client = self.authenticate_client(creds, source).await?;
        match req? {
            // Refresh tokens only exist for clients with the authorization code grant; the
            // refresh flow checks that the client still has it.
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => self.refresh(&client, refresh_token, scope).await,
            r if !client.grant_types.contains(r.grant()) => Err(OAuthError::UnauthorizedClient(
                format!("this client may not use the {} grant", r.grant().as_str()),
            )),
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                self.authorization_code(&client, code, redirect_uri, code_verifier)
                    .await
            }
            TokenRequest::ClientCredentials { scope } => {
                self.client_credentials(&client, scope).await
            }
            TokenRequest::Password {
                username,
                password,
                scope,
            } => {
                self.password(&client, username, password, scope, source)
                    .await
            }
        }
    }

    /// RFC 6749 §3.3: no `scope` means every scope the client may have; otherwise each
    /// requested scope must be one of the client's.
    pub(crate) fn resolve_scopes(
        client: &Client,
        requested: Option<&str>,
    ) -> Result<ScopeSet, OAuthError> {
        client.scopes.narrow(requested).map_err(|_| {
            OAuthError::InvalidScope("a requested scope is not allowed for this client".into())
        })
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A new token and the record to store for it.
    #[allow(clippy::too_many_arguments)]
    fn mint(
        &self,
        kind: TokenKind,
        client: &Client,
        user: Option<(&UserId, &str, i64)>,
        scopes: &ScopeSet,
        grant: GrantType,
        family_id: Option<&FamilyId>,
        refreshes_left: Option<RefreshAllowance>,
        now: DateTime<Utc>,
    ) -> Result<(Secret, TokenRecord), OAuthError> {
        let id = TokenId::generate(now.timestamp_millis())?;
        let secret = Secret::new(crate::token::compose(&id, Secret::generate()?.expose()));
        let expires_at = match (kind, client.access_token_lifetime) {
            (TokenKind::Access, TokenLifetime::Seconds(s)) => {
                Some(now + Duration::seconds(i64::from(s)))
            }
            // Refresh tokens and never-expiring access tokens have no expiry.
            _ => None,
        };
        let record = TokenRecord {
            id,
            token_hash: self.hasher.hash(secret.expose()),
            kind,
            client_id: client.client_id.clone(),
            user_id: user.map(|(id, _, _)| id.clone()),
            username: user.map(|(_, name, _)| name.to_owned()),
            scopes: scopes.clone(),
            grant_type: grant,
            family_id: family_id.cloned(),
            refreshes_left: refreshes_left.and_then(RefreshAllowance::stored),
            client_epoch: client.token_epoch,
            user_epoch: user.map(|(_, _, e)| e),
            issued_at: now,
            expires_at,
            revoked_at: None,
            consumed_at: None,
        };
        Ok((secret, record))
    }

    /// The tokens of one grant: an access token for `scopes` and, when `refresh` gives an
    /// allowance, a refresh token carrying it for the scopes given with it. Returns the
    /// response and the records, which the caller stores (with its single-use claim, if any).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn issue(
        &self,
        client: &Client,
        user: Option<(&UserId, &str, i64)>,
        grant: GrantType,
        family_id: Option<&FamilyId>,
        scopes: &ScopeSet,
        refresh: Option<(RefreshAllowance, &ScopeSet)>,
        now: DateTime<Utc>,
    ) -> Result<(TokenResponse, Vec<TokenRecord>), OAuthError> {
        let (access_token, access) = self.mint(
            TokenKind::Access,
            client,
            user,
            scopes,
            grant,
            family_id,
            None,
            now,
        )?;
        let mut records = vec![access];
        let refresh_token = match refresh {
            Some((left, kept)) => {
                let (secret, record) = self.mint(
                    TokenKind::Refresh,
                    client,
                    user,
                    kept,
                    grant,
                    family_id,
                    Some(left),
                    now,
                )?;
                records.push(record);
                Some(secret)
            }
            None => None,
        };
        let response = TokenResponse {
            access_token,
            expires_in: Self::expires_in(client),
            refresh_token,
            scope: scopes.to_string(),
        };
        Ok((response, records))
    }

    /// A grant of one access token with nothing to claim (client credentials, password,
    /// implicit): issued now and stored, one write.
    pub(crate) async fn issue_access(
        &self,
        client: &Client,
        user: Option<&User>,
        grant: GrantType,
        scopes: &ScopeSet,
    ) -> Result<TokenResponse, OAuthError> {
        let user = user.map(user_tuple);
        let (response, records) =
            self.issue(client, user, grant, None, scopes, None, self.now())?;
        self.store().insert_tokens(&records).await?;
        Ok(response)
    }

    pub(crate) fn expires_in(client: &Client) -> Option<u32> {
        match client.access_token_lifetime {
            TokenLifetime::Never => None,
            TokenLifetime::Seconds(s) => Some(s),
        }
    }

    pub(crate) fn hash(&self, secret: &str) -> String {
        self.hasher.hash(secret)
    }

    /// The stored token a client presented: found by the id it carries and accepted only if
    /// the whole string hashes to the stored hash (constant-time); tokens from before ids
    /// were carried are found by hash.
    pub(crate) async fn find_presented_token(
        &self,
        presented: &str,
    ) -> Result<Option<crate::token::TokenState>, crate::store::StoreError> {
        if crate::text::has_control(presented) {
            return Ok(None);
        }
        match crate::token::presented_id(presented) {
            Some(id) => Ok(self
                .store
                .get_token(&TokenId::new(id))
                .await?
                .filter(|s| self.hasher.verify(presented, &s.token.token_hash))),
            None => self.store.find_legacy_token(&self.hash(presented)).await,
        }
    }

    pub(crate) fn passwords(&self) -> &PasswordCheck {
        &self.passwords
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub(crate) fn code_lifetime(&self) -> Duration {
        self.auth_code_lifetime
    }
}

/// How a client secret check ended, when it did not succeed.
enum SecretCheck {
    /// A secret was presented and it is not the client's (or the client does not exist):
    /// a guess, counted by the brute-force limits.
    Wrong,
    /// Refused without guessing anything.
    Refused(OAuthError),
}

fn user_tuple(u: &User) -> (&UserId, &str, i64) {
    (&u.id, u.username.as_str(), u.token_epoch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<TokenRequest, OAuthError> {
        let mut form: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let grant_type = form.remove("grant_type");
        TokenRequest::parse(grant_type.as_deref(), |k| form.remove(k))
    }

    #[test]
    fn a_token_request_is_parsed_into_its_grant_with_only_that_grants_parameters() {
        let r = parse(&[
            ("grant_type", "authorization_code"),
            ("code", "c"),
            ("redirect_uri", "https://a/cb"),
            ("code_verifier", "v"),
            ("scope", "ignored"),
        ]);
        assert!(matches!(
            r,
            Ok(TokenRequest::AuthorizationCode { code: Some(c), redirect_uri: Some(u), code_verifier: Some(v) })
                if c == "c" && u == "https://a/cb" && v == "v"
        ));
        let r = parse(&[("grant_type", "client_credentials"), ("scope", "read")]);
        assert!(matches!(r, Ok(TokenRequest::ClientCredentials { scope: Some(s) }) if s == "read"));
        let r = parse(&[("grant_type", "password"), ("username", "u")]);
        assert!(matches!(
            r,
            Ok(TokenRequest::Password {
                username: Some(_),
                password: None,
                scope: None
            })
        ));
        let r = parse(&[("grant_type", "refresh_token")]);
        assert!(matches!(
            r,
            Ok(TokenRequest::RefreshToken {
                refresh_token: None,
                scope: None
            })
        ));
        for (grant, name) in [
            (GrantType::AuthorizationCode, "authorization_code"),
            (GrantType::ClientCredentials, "client_credentials"),
            (GrantType::Password, "password"),
            (GrantType::RefreshToken, "refresh_token"),
        ] {
            assert_eq!(
                parse(&[("grant_type", name)]).map(|r| r.grant()).ok(),
                Some(grant)
            );
        }
    }

    #[test]
    fn a_missing_grant_type_is_invalid_request_and_an_unknown_one_unsupported() {
        for (pairs, code) in [
            (&[][..], "invalid_request"),
            (&[("grant_type", "")][..], "invalid_request"),
            (&[("grant_type", "implicit")][..], "unsupported_grant_type"),
            (&[("grant_type", "Password")][..], "unsupported_grant_type"),
            (
                &[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")][..],
                "unsupported_grant_type",
            ),
        ] {
            let e = parse(pairs).err().map(|e| e.code());
            assert_eq!(e, Some(code), "{pairs:?}");
        }
    }
}

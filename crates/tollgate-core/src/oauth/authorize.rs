//! RFC 6749 §4.1.1 / §4.2.1: the authorization endpoint's rules, without the HTML. The HTTP
//! layer handles sessions and pages and calls `validate_authorize`, then `approve` or `deny`.

use super::{pkce, OAuthError, OAuthService};
use crate::client::{Client, GrantType};
use crate::id::{ClientId, FamilyId, UserId};
use crate::scope::ScopeSet;
use crate::secret::Secret;
use crate::token::AuthCode;
use crate::user::User;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    /// Implicit grant (RFC 6749 §4.2): the token goes in the fragment.
    Token,
}

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub struct ValidatedAuthorize {
    pub client: Client,
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    pub response_type: ResponseType,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

#[derive(Debug)]
pub enum AuthorizeError {
    /// RFC 6749 §4.1.2.1: with an unknown client or an unregistered redirect URI the user
    /// sees an error page and is **not** redirected.
    Page(String),
    /// Every other error goes back to the client's redirect URI.
    Redirect(String),
    /// The server itself failed (database down, …).
    Server(OAuthError),
}

impl From<OAuthError> for AuthorizeError {
    fn from(e: OAuthError) -> Self {
        Self::Server(e)
    }
}

impl From<crate::store::StoreError> for AuthorizeError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Server(e.into())
    }
}

/// Adds parameters to a redirect URI: to the query (code flow, keeping any query the URI
/// already has) or the fragment (implicit flow).
fn redirect_with(redirect_uri: &str, fragment: bool, params: &[(&str, &str)]) -> String {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        // Registered URIs were validated as absolute; this cannot happen for them.
        return redirect_uri.to_owned();
    };
    if fragment {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        url.set_fragment(Some(&ser.finish()));
    } else {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    url.to_string()
}

fn error_redirect(
    redirect_uri: &str,
    fragment: bool,
    state: Option<&str>,
    err: &OAuthError,
) -> AuthorizeError {
    let desc = err.description();
    let mut params = vec![("error", err.code()), ("error_description", desc.as_str())];
    if let Some(s) = state {
        params.push(("state", s));
    }
    AuthorizeError::Redirect(redirect_with(redirect_uri, fragment, &params))
}

impl OAuthService {
    pub async fn validate_authorize(
        &self,
        req: &AuthorizeRequest,
    ) -> Result<ValidatedAuthorize, AuthorizeError> {
        let Some(client_id) = req.client_id.as_deref().filter(|c| !c.is_empty()) else {
            return Err(AuthorizeError::Page("The request has no client_id.".into()));
        };
        // No client id holds a control character: unknown, on every backend.
        let found = if crate::text::has_control(client_id) {
            None
        } else {
            self.store().get_client(&ClientId::new(client_id)).await?
        };
        let client = match found {
            Some(c) if c.active => c,
            Some(_) => {
                return Err(AuthorizeError::Page(
                    "This application has been deactivated.".into(),
                ))
            }
            None => {
                return Err(AuthorizeError::Page(
                    "This application is not registered.".into(),
                ))
            }
        };
        // RFC 6749 §3.1.2.3 and SPEC §3: exact string match; omitted only when the client
        // has exactly one.
        let (redirect_uri, given) = match req.redirect_uri.as_deref() {
            Some(r) if client.redirect_uris.iter().any(|u| u == r) => (r.to_owned(), true),
            Some(_) => {
                return Err(AuthorizeError::Page(
                    "The redirect_uri is not registered for this application.".into(),
                ))
            }
            None if client.redirect_uris.len() == 1 => (client.redirect_uris[0].clone(), false),
            None => {
                return Err(AuthorizeError::Page(
                    "The request has no redirect_uri, and this application has several.".into(),
                ))
            }
        };
        let response_type = match req.response_type.as_deref() {
            Some("code") => Some(ResponseType::Code),
            Some("token") => Some(ResponseType::Token),
            _ => None,
        };
        let fragment = response_type == Some(ResponseType::Token);
        let state = req.state.as_deref();
        let fail = |e: OAuthError| error_redirect(&redirect_uri, fragment, state, &e);
        let response_type = match (req.response_type.as_deref(), response_type) {
            (_, Some(rt)) => rt,
            (None, _) => {
                return Err(fail(OAuthError::InvalidRequest(
                    "response_type is required".into(),
                )))
            }
            (Some(_), None) => {
                return Err(fail(OAuthError::UnsupportedResponseType(
                    "this response_type is not supported; use code or token".into(),
                )))
            }
        };
        let grant = match response_type {
            ResponseType::Code => GrantType::AuthorizationCode,
            ResponseType::Token => GrantType::Implicit,
        };
        if !client.grant_types.contains(grant) {
            return Err(fail(OAuthError::UnauthorizedClient(format!(
                "this client may not use the {} grant",
                grant.as_str()
            ))));
        }
        let scopes = Self::resolve_scopes(&client, req.scope.as_deref()).map_err(fail)?;
        let challenge = req.code_challenge.as_deref().filter(|c| !c.is_empty());
        let method = req
            .code_challenge_method
            .as_deref()
            .filter(|m| !m.is_empty());
        let code_challenge = match (response_type, challenge, method) {
            (ResponseType::Token, None, None) => None,
            (ResponseType::Token, _, _) => {
                return Err(fail(OAuthError::InvalidRequest(
                    "PKCE applies to the authorization code flow only".into(),
                )))
            }
            (ResponseType::Code, Some(c), Some("S256")) => {
                if !pkce::is_valid_challenge(c) {
                    return Err(fail(OAuthError::InvalidRequest(
                        "code_challenge must be 43-128 unreserved characters (RFC 7636 §4.2)"
                            .into(),
                    )));
                }
                Some(c.to_owned())
            }
            (ResponseType::Code, Some(_), _) => {
                return Err(fail(OAuthError::InvalidRequest(
                    "code_challenge_method must be S256 (plain is not supported)".into(),
                )))
            }
            (ResponseType::Code, None, Some(_)) => {
                return Err(fail(OAuthError::InvalidRequest(
                    "code_challenge_method was sent without a code_challenge".into(),
                )))
            }
            (ResponseType::Code, None, None) => {
                if client.client_type == crate::client::ClientType::Public {
                    // SPEC §1: PKCE with S256 is mandatory for public clients.
                    return Err(fail(OAuthError::InvalidRequest(
                        "public clients must use PKCE: send code_challenge and code_challenge_method=S256".into(),
                    )));
                }
                None
            }
        };
        Ok(ValidatedAuthorize {
            client,
            redirect_uri,
            redirect_uri_given: given,
            response_type,
            scopes,
            state: req.state.clone(),
            code_challenge,
        })
    }

    /// Whether the user must be asked: no remembered consent covering every scope.
    pub async fn needs_consent(
        &self,
        user_id: &UserId,
        v: &ValidatedAuthorize,
    ) -> Result<bool, OAuthError> {
        let granted = self
            .store()
            .get_consent(user_id, &v.client.client_id)
            .await?
            .unwrap_or_default();
        Ok(!granted.covers(&v.scopes))
    }

    /// Remembers the consent (merged with what was granted before).
    pub async fn remember_consent(
        &self,
        user_id: &UserId,
        v: &ValidatedAuthorize,
    ) -> Result<(), OAuthError> {
        let granted = self
            .store()
            .get_consent(user_id, &v.client.client_id)
            .await?
            .unwrap_or_default()
            .union(&v.scopes);
        self.store()
            .save_consent(user_id, &v.client.client_id, &granted, self.now())
            .await?;
        Ok(())
    }

    /// The user allowed the request: issue a code (or, implicit, a token) and return the
    /// URL to send the browser to.
    pub async fn approve(&self, user: &User, v: &ValidatedAuthorize) -> Result<String, OAuthError> {
        let now = self.now();
        let mut params: Vec<(&str, String)> = Vec::new();
        match v.response_type {
            ResponseType::Code => {
                let code = Secret::generate()?;
                let stored = AuthCode {
                    code_hash: self.hash(code.expose()),
                    client_id: v.client.client_id.clone(),
                    user_id: user.id.clone(),
                    redirect_uri: v.redirect_uri.clone(),
                    redirect_uri_given: v.redirect_uri_given,
                    scopes: v.scopes.clone(),
                    code_challenge: v.code_challenge.clone(),
                    family_id: FamilyId::generate()?,
                    client_epoch: v.client.token_epoch,
                    user_epoch: user.token_epoch,
                    issued_at: now,
                    expires_at: now + self.code_lifetime(),
                    used_at: None,
                };
                self.store().insert_code(&stored).await?;
                params.push(("code", code.expose().to_owned()));
            }
            ResponseType::Token => {
                let token = self
                    .issue_access(&v.client, Some(user), GrantType::Implicit, &v.scopes)
                    .await?;
                params.push(("access_token", token.access_token.expose().to_owned()));
                params.push(("token_type", "Bearer".into()));
                if let Some(s) = token.expires_in {
                    params.push(("expires_in", s.to_string()));
                }
                params.push(("scope", token.scope));
            }
        }
        if let Some(s) = &v.state {
            params.push(("state", s.clone()));
        }
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Ok(redirect_with(
            &v.redirect_uri,
            v.response_type == ResponseType::Token,
            &borrowed,
        ))
    }

    /// The user said no (RFC 6749 §4.1.2.1 `access_denied`).
    pub fn deny(&self, v: &ValidatedAuthorize) -> String {
        self.refuse(
            v,
            &OAuthError::AccessDenied("the user denied the request".into()),
        )
    }

    /// An error for a request already validated (client and redirect URI known good): the
    /// redirect to the client that carries it (RFC 6749 §4.1.2.1, §4.2.2.1).
    pub fn refuse(&self, v: &ValidatedAuthorize, err: &OAuthError) -> String {
        match error_redirect(
            &v.redirect_uri,
            v.response_type == ResponseType::Token,
            v.state.as_deref(),
            err,
        ) {
            AuthorizeError::Redirect(url) => url,
            _ => v.redirect_uri.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_with;

    #[test]
    fn redirect_parameters_keep_existing_query_and_use_fragment_for_implicit() {
        assert_eq!(
            redirect_with(
                "https://a.example/cb?x=1",
                false,
                &[("code", "c d"), ("state", "s")]
            ),
            "https://a.example/cb?x=1&code=c+d&state=s"
        );
        assert_eq!(
            redirect_with("https://a.example/cb", true, &[("access_token", "t")]),
            "https://a.example/cb#access_token=t"
        );
        assert_eq!(
            redirect_with("com.example.app:/cb", false, &[("code", "c")]),
            "com.example.app:/cb?code=c"
        );
    }
}

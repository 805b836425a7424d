//! What every case needs: a store in a temporary file, the services on a `ManualClock`,
//! registered clients and users, and the requests of each flow.

pub(crate) use chrono::{DateTime, Duration, Utc};
pub(crate) use std::sync::Arc;
pub(crate) use tollgate_core::audit::{Actor, AuditFilter};
pub(crate) use tollgate_core::client::{Client, ClientInput, LimitInput};
pub(crate) use tollgate_core::oauth::{
    AuthMethod, AuthorizeError, AuthorizeRequest, ClientCredentials, Introspection, OAuthError,
    TokenRequest, TokenResponse, ValidatedAuthorize,
};
pub(crate) use tollgate_core::secret::Secret;
pub(crate) use tollgate_core::service::{NewUser, ServiceSettings, Services, UserChange};
pub(crate) use tollgate_core::user::User;
pub(crate) use tollgate_core::{ManualClock, Policy, ScopeSet};

pub(crate) const ISSUER: &str = "https://auth.example";
pub(crate) const REDIRECT: &str = "https://app.example/cb";
pub(crate) const CODE_LIFETIME: i64 = 600;
pub(crate) const PASSWORD: &str = "correct horse battery";
/// RFC 7636 Appendix B.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub(crate) struct World {
    pub(crate) s: Services,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) _db: tollgate_testkit::TestDb,
}

pub(crate) fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub(crate) async fn world() -> World {
    let db = tollgate_testkit::sqlite();
    let store = tollgate_store::open(&db.url).await.unwrap();
    let clock = Arc::new(ManualClock::new(start()));
    let settings = ServiceSettings {
        policy: Policy::default(),
        issuer: ISSUER.into(),
        auth_code_lifetime_secs: CODE_LIFETIME as u32,
        token_retention_secs: 86_400,
        throttle: Default::default(),
        password_hashing: Default::default(),
    };
    let s = Services::new(store, clock.clone(), settings).await.unwrap();
    World { s, clock, _db: db }
}

pub(crate) fn admin() -> Actor {
    Actor::new("test", None)
}

/// A registered client and what it authenticates with.
pub(crate) struct App {
    pub(crate) client: Client,
    pub(crate) creds: ClientCredentials,
}

/// What a client is registered with, beyond name and version.
pub(crate) struct Reg<'a> {
    pub(crate) public: bool,
    pub(crate) grants: &'a [&'a str],
    pub(crate) scopes: &'a [&'a str],
    pub(crate) refresh: LimitInput,
    pub(crate) lifetime: LimitInput,
}

impl Default for Reg<'_> {
    fn default() -> Self {
        Self {
            public: false,
            grants: &["authorization_code"],
            scopes: &["read", "write"],
            refresh: LimitInput::Number(Some(0)),
            lifetime: LimitInput::Number(Some(3600)),
        }
    }
}

impl Reg<'static> {
    /// A confidential client of these grants.
    pub(crate) fn grants(grants: &'static [&'static str]) -> Self {
        Self {
            grants,
            ..Default::default()
        }
    }

    /// A confidential client of the code flow, with this refresh count.
    pub(crate) fn refresh(refresh: LimitInput) -> Self {
        Self {
            refresh,
            ..Default::default()
        }
    }

    /// A public client of the code flow.
    pub(crate) fn public() -> Self {
        Self {
            public: true,
            ..Default::default()
        }
    }
}

pub(crate) fn unlimited() -> LimitInput {
    LimitInput::keyword("unlimited")
}

pub(crate) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

impl World {
    pub(crate) async fn app(&self, name: &str, reg: Reg<'_>) -> App {
        let input = ClientInput {
            name: Some(name.into()),
            version: Some("1".into()),
            client_type: Some(if reg.public { "public" } else { "confidential" }.into()),
            grant_types: Some(strings(reg.grants)),
            redirect_uris: Some(vec![REDIRECT.into(), "https://app.example/other".into()]),
            scopes: Some(strings(reg.scopes)),
            access_token_lifetime: Some(reg.lifetime),
            refresh_count: Some(reg.refresh),
            ..Default::default()
        };
        let created = self.s.clients.create(&admin(), input).await.unwrap();
        let creds = ClientCredentials {
            client_id: created.client.client_id.clone(),
            secret: created.secret,
            method: AuthMethod::Post,
        };
        App {
            client: created.client,
            creds,
        }
    }

    pub(crate) async fn user(&self, name: &str) -> User {
        let input = NewUser {
            username: Some(name.into()),
            display_name: None,
            password: Some(PASSWORD.into()),
            admin: Some(false),
            active: Some(true),
        };
        self.s.users.create(&admin(), input).await.unwrap()
    }

    pub(crate) async fn token(
        &self,
        app: &App,
        req: TokenRequest,
    ) -> Result<TokenResponse, OAuthError> {
        self.s.oauth.token(&app.creds, Ok(req), None).await
    }

    /// The error code of a token request that must fail.
    pub(crate) async fn refused(&self, app: &App, req: TokenRequest) -> &'static str {
        match self.token(app, req).await {
            Ok(r) => panic!("expected an error, got a token for scope {:?}", r.scope),
            Err(e) => e.code(),
        }
    }

    pub(crate) async fn validate(
        &self,
        req: &AuthorizeRequest,
    ) -> Result<ValidatedAuthorize, AuthorizeError> {
        self.s.oauth.validate_authorize(req).await
    }

    /// An authorization code for `user`, with the request `req` of `app` approved.
    pub(crate) async fn code(&self, user: &User, req: AuthorizeRequest) -> String {
        let v = self.validate(&req).await.unwrap();
        let url = self.s.oauth.approve(user, &v).await.unwrap();
        param(&url, "code").expect("a code in the redirect")
    }

    pub(crate) async fn code_for(&self, app: &App, user: &User) -> String {
        self.code(user, code_request(app)).await
    }

    /// The tokens of a whole authorization code flow with the default request.
    pub(crate) async fn code_flow(&self, app: &App, user: &User) -> TokenResponse {
        let code = self.code_for(app, user).await;
        self.token(app, exchange(&code)).await.unwrap()
    }

    pub(crate) async fn introspect(&self, token: &Secret) -> Introspection {
        self.s.oauth.introspect(token.expose()).await.unwrap()
    }

    pub(crate) async fn active(&self, token: &Secret) -> bool {
        self.introspect(token).await.active
    }

    pub(crate) fn advance(&self, secs: i64) {
        self.clock.advance(Duration::seconds(secs));
    }
}

pub(crate) fn code_request(app: &App) -> AuthorizeRequest {
    AuthorizeRequest {
        response_type: Some("code".into()),
        client_id: Some(app.client.client_id.to_string()),
        redirect_uri: Some(REDIRECT.into()),
        scope: None,
        state: Some("st".into()),
        code_challenge: None,
        code_challenge_method: None,
    }
}

pub(crate) fn with_pkce(req: AuthorizeRequest) -> AuthorizeRequest {
    AuthorizeRequest {
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..req
    }
}

pub(crate) fn exchange(code: &str) -> TokenRequest {
    TokenRequest::AuthorizationCode {
        code: Some(code.into()),
        redirect_uri: Some(REDIRECT.into()),
        code_verifier: None,
    }
}

pub(crate) fn refresh(token: &Secret, scope: Option<&str>) -> TokenRequest {
    TokenRequest::RefreshToken {
        refresh_token: Some(token.expose().into()),
        scope: scope.map(str::to_owned),
    }
}

pub(crate) fn cc(scope: Option<&str>) -> TokenRequest {
    TokenRequest::ClientCredentials {
        scope: scope.map(str::to_owned),
    }
}

pub(crate) fn password(username: &str, password: &str, scope: Option<&str>) -> TokenRequest {
    TokenRequest::Password {
        username: Some(username.into()),
        password: Some(password.into()),
        scope: scope.map(str::to_owned),
    }
}

/// A parameter of a redirect, from its query or, for the implicit grant, its fragment.
pub(crate) fn param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).unwrap();
    let fragment = url.fragment().unwrap_or_default().to_owned();
    url.query_pairs()
        .chain(url::form_urlencoded::parse(fragment.as_bytes()))
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

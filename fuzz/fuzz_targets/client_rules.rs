//! Every client rule of SPEC §1 at once (`tollgate_core::client::validate`), on arbitrary
//! input for a new client.
//!
//! Properties: no panic; whatever `validate` accepts obeys SPEC §1: name 1–100 and version
//! 1–32 characters, trimmed; description at most 1000; a non-empty grant set that a public
//! client may hold; redirect URIs present when a redirect-based grant is allowed; lifetime and
//! refresh count in range. And a refusal names at least one field.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tollgate_core::client::{
    validate, ClientInput, ClientType, GrantType, LimitInput, RefreshCount, TokenLifetime,
};
use tollgate_core::Policy;

#[derive(Debug, Arbitrary)]
enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Never,
    Unlimited,
}

/// A limit as the admin API's JSON gives it to core.
impl From<Json> for LimitInput {
    fn from(j: Json) -> Self {
        match j {
            Json::Null => LimitInput::Other("null".into()),
            Json::Bool(b) => LimitInput::Other(b.to_string()),
            Json::Int(i) => LimitInput::Number(Some(i)),
            // A JSON number that is not a whole one.
            Json::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => {
                LimitInput::Number(Some(f as i64))
            }
            Json::Float(_) => LimitInput::Number(None),
            Json::Str(s) => LimitInput::Text(s),
            Json::Never => LimitInput::keyword("never"),
            Json::Unlimited => LimitInput::keyword("unlimited"),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Grant {
    AuthorizationCode,
    ClientCredentials,
    Password,
    Implicit,
    Other(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    name: Option<String>,
    version: Option<String>,
    description: Option<Option<String>>,
    public: Option<bool>,
    grant_types: Option<Vec<Grant>>,
    redirect_uris: Option<Vec<String>>,
    scopes: Option<Vec<String>>,
    access_token_lifetime: Option<Json>,
    refresh_count: Option<Json>,
    active: Option<bool>,
    allow_legacy_grants: bool,
    allow_never_expiring_tokens: bool,
}

impl From<&Input> for ClientInput {
    fn from(i: &Input) -> Self {
        ClientInput {
            name: i.name.clone(),
            version: i.version.clone(),
            description: i.description.clone(),
            client_type: i
                .public
                .map(|p| if p { "public" } else { "confidential" }.to_owned()),
            grant_types: i.grant_types.as_ref().map(|g| {
                g.iter()
                    .map(|g| match g {
                        Grant::AuthorizationCode => "authorization_code".to_owned(),
                        Grant::ClientCredentials => "client_credentials".to_owned(),
                        Grant::Password => "password".to_owned(),
                        Grant::Implicit => "implicit".to_owned(),
                        Grant::Other(s) => s.clone(),
                    })
                    .collect()
            }),
            redirect_uris: i.redirect_uris.clone(),
            scopes: i.scopes.clone(),
            access_token_lifetime: None,
            refresh_count: None,
            active: i.active,
        }
    }
}

fn client_input(i: Input) -> (ClientInput, Policy) {
    let mut c = ClientInput::from(&i);
    c.access_token_lifetime = i.access_token_lifetime.map(LimitInput::from);
    c.refresh_count = i.refresh_count.map(LimitInput::from);
    let policy = Policy {
        allow_legacy_grants: i.allow_legacy_grants,
        allow_never_expiring_tokens: i.allow_never_expiring_tokens,
    };
    (c, policy)
}

fn check(s: &tollgate_core::client::ClientSettings, policy: Policy) {
    let chars = |t: &str| t.chars().count();
    assert!(
        (1..=100).contains(&chars(&s.name)) && s.name.trim() == s.name,
        "{s:?}"
    );
    assert!(
        (1..=32).contains(&chars(&s.version)) && s.version.trim() == s.version,
        "{s:?}"
    );
    assert!(s.description.as_deref().is_none_or(|d| chars(d) <= 1000));
    assert!(!s.grant_types.is_empty());
    if s.client_type == ClientType::Public {
        assert!(
            s.grant_types.iter().all(GrantType::allowed_for_public),
            "{s:?}"
        );
    }
    if s.grant_types.contains(GrantType::AuthorizationCode)
        || s.grant_types.contains(GrantType::Implicit)
    {
        assert!(!s.redirect_uris.is_empty(), "{s:?}");
    }
    if !policy.allow_legacy_grants {
        assert!(!s.grant_types.iter().any(GrantType::is_legacy), "{s:?}");
    }
    match s.access_token_lifetime {
        TokenLifetime::Never => assert!(policy.allow_never_expiring_tokens),
        TokenLifetime::Seconds(n) => assert!((1..=315_360_000).contains(&n), "{s:?}"),
    }
    if let RefreshCount::Limited(n) = s.refresh_count {
        assert!(i64::from(n) <= i64::from(i32::MAX), "{s:?}");
    }
}

fuzz_target!(|i: Input| {
    let (input, policy) = client_input(i);
    match validate(&input, None, policy) {
        Ok(settings) => check(&settings, policy),
        Err(errors) => assert!(!errors.is_empty()),
    }
});

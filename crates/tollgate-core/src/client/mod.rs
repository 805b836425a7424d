//! OAuth clients (SPEC §1): the domain type, its vocabulary (type, grants, lifetime, refresh
//! count) and warnings. `input.rs` holds what callers send and `validate`, which collects
//! *all* problems before failing, so the admin API can list every bad field at once and the
//! console can show each error beside its field.

use crate::id::ClientId;
use crate::scope::ScopeSet;
use chrono::{DateTime, Utc};

mod input;

pub use input::{
    check_redirect_uri, is_scope_token, validate, ClientInput, ClientSettings, LimitInput,
};

pub const NAME_MAX: usize = 100;
pub const VERSION_MAX: usize = 32;
pub const DESCRIPTION_MAX: usize = 1000;
pub const LIFETIME_MAX: i64 = 315_360_000;
pub const LIFETIME_DEFAULT: u32 = 3600;
/// Fits a signed 32-bit column on both databases.
pub const REFRESH_COUNT_MAX: i64 = i32::MAX as i64;
pub const REDIRECT_URIS_MAX: usize = 20;
pub const REDIRECT_URI_LEN_MAX: usize = 2000;
pub const SCOPES_MAX: usize = 100;
pub const SCOPE_LEN_MAX: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientType {
    Confidential,
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confidential => "confidential",
            Self::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confidential" => Some(Self::Confidential),
            "public" => Some(Self::Public),
            _ => None,
        }
    }
}

/// Every OAuth grant Tollgate knows, the one vocabulary of flows, tokens, metrics, metadata
/// and console: the four a client is registered with (SPEC §1) and the refresh token grant
/// (RFC 6749 §6), which comes with the authorization code grant and is never registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantType {
    AuthorizationCode,
    ClientCredentials,
    Password,
    Implicit,
    RefreshToken,
}

impl GrantType {
    /// In declaration order, so `grant as usize` indexes it.
    pub const ALL: [GrantType; 5] = [
        Self::AuthorizationCode,
        Self::ClientCredentials,
        Self::Password,
        Self::Implicit,
        Self::RefreshToken,
    ];

    /// What a client's `grant_types` may hold.
    pub const REGISTRABLE: [GrantType; 4] = [
        Self::AuthorizationCode,
        Self::ClientCredentials,
        Self::Password,
        Self::Implicit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::Implicit => "implicit",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// Any grant, by its RFC 6749 name (as stored with each token).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// A grant a client may be registered with; `refresh_token` is not one.
    pub fn parse_registrable(s: &str) -> Option<Self> {
        Self::REGISTRABLE.into_iter().find(|g| g.as_str() == s)
    }

    /// A `grant_type` of the token endpoint (RFC 6749 §4.1.3, §4.3.2, §4.4.2, §6): all but
    /// implicit, which the authorization endpoint issues.
    pub fn at_token_endpoint(self) -> bool {
        self != Self::Implicit
    }

    /// The client's bit in `GrantSet`; the refresh token grant has none (it is allowed
    /// exactly when the authorization code grant is).
    fn bit(self) -> u8 {
        match self {
            Self::AuthorizationCode => 1,
            Self::ClientCredentials => 2,
            Self::Password => 4,
            Self::Implicit => 8,
            Self::RefreshToken => 0,
        }
    }

    /// RFC 9700 §2.1.2 and §2.4: implicit and password are advised against.
    pub fn is_legacy(self) -> bool {
        matches!(self, Self::Password | Self::Implicit)
    }

    /// Grants a public client may use (SPEC §1).
    pub fn allowed_for_public(self) -> bool {
        matches!(self, Self::AuthorizationCode | Self::Implicit)
    }
}

/// A set of grant types, stored as a bit mask so the database can filter on it cheaply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GrantSet(u8);

impl GrantSet {
    pub fn from_bits(bits: i64) -> Option<Self> {
        (0..16).contains(&bits).then_some(Self(bits as u8))
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn insert(&mut self, g: GrantType) {
        self.0 |= g.bit();
    }

    pub fn contains(self, g: GrantType) -> bool {
        self.0 & g.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = GrantType> {
        GrantType::REGISTRABLE
            .into_iter()
            .filter(move |g| self.contains(*g))
    }
}

impl FromIterator<GrantType> for GrantSet {
    fn from_iter<I: IntoIterator<Item = GrantType>>(iter: I) -> Self {
        let mut s = Self::default();
        for g in iter {
            s.insert(g);
        }
        s
    }
}

/// `access_token_lifetime`: Never Expires, or Expires In N seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLifetime {
    Never,
    Seconds(u32),
}

impl TokenLifetime {
    /// Database form: NULL means never.
    pub fn to_db(self) -> Option<i64> {
        match self {
            Self::Never => None,
            Self::Seconds(s) => Some(i64::from(s)),
        }
    }

    pub fn from_db(v: Option<i64>) -> Option<Self> {
        match v {
            None => Some(Self::Never),
            Some(s) => u32::try_from(s).ok().map(Self::Seconds),
        }
    }
}

/// `refresh_count`: how many times an access token may be refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshCount {
    Unlimited,
    Limited(u32),
}

impl RefreshCount {
    pub fn to_db(self) -> Option<i64> {
        match self {
            Self::Unlimited => None,
            Self::Limited(n) => Some(i64::from(n)),
        }
    }

    pub fn from_db(v: Option<i64>) -> Option<Self> {
        match v {
            None => Some(Self::Unlimited),
            Some(n) => u32::try_from(n).ok().map(Self::Limited),
        }
    }

    /// Whether an authorization of this client gets a refresh token at all.
    pub fn issues_refresh_tokens(self) -> bool {
        crate::token::RefreshAllowance::initial(self).is_some()
    }
}

/// A registered OAuth client as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: ClientId,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub client_type: ClientType,
    pub grant_types: GrantSet,
    pub redirect_uris: Vec<String>,
    pub scopes: ScopeSet,
    pub access_token_lifetime: TokenLifetime,
    pub refresh_count: RefreshCount,
    pub active: bool,
    /// Algorithm-tagged hash of the current secret; `None` for public clients.
    pub secret_hash: Option<String>,
    /// The secret before the last rotation, valid until `previous_secret_expires_at`.
    pub previous_secret_hash: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Tokens remember the epoch they were issued in; bumping it (deactivation, revoke-all)
    /// invalidates all of them in one write, and reactivation cannot revive them.
    pub token_epoch: i64,
    /// Incremented on every change; the admin API's `ETag`.
    pub revision: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The key the uniqueness constraint is built on: names compare case-insensitively, and
/// look-alike spellings (fullwidth, decomposed, `ß`/`SS`) as one (`text::identity_key`).
pub fn name_key(name: &str) -> String {
    crate::text::identity_key(name)
}

/// A note about a legal but discouraged setting (SPEC §1 "Legacy options").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Warning {
    pub field: &'static str,
    pub code: &'static str,
    pub message: &'static str,
}

impl Client {
    /// Whether `presented` is this client's secret: the current one, or the previous one
    /// while its rotation grace period lasts. Constant time in the secret (both hashes are
    /// always checked).
    pub fn secret_matches(
        &self,
        hasher: &crate::secret::SecretHasher,
        presented: &str,
        now: DateTime<Utc>,
    ) -> bool {
        let current = self
            .secret_hash
            .as_deref()
            .is_some_and(|h| hasher.verify(presented, h));
        let previous = match (
            self.previous_secret_hash.as_deref(),
            self.previous_secret_expires_at,
        ) {
            (Some(h), Some(until)) => hasher.verify(presented, h) & (now < until),
            _ => false,
        };
        current | previous
    }

    pub fn warnings(&self) -> Vec<Warning> {
        let mut w = Vec::new();
        if self.grant_types.contains(GrantType::Implicit) {
            w.push(Warning {
                field: "grant_types",
                code: "legacy_implicit_grant",
                message: "The implicit grant exposes access tokens in the browser; RFC 9700 advises against it. Prefer authorization_code with PKCE.",
            });
        }
        if self.grant_types.contains(GrantType::Password) {
            w.push(Warning {
                field: "grant_types",
                code: "legacy_password_grant",
                message: "The resource owner password grant hands user passwords to the client; RFC 9700 says it must not be used.",
            });
        }
        if self.access_token_lifetime == TokenLifetime::Never {
            w.push(Warning {
                field: "access_token_lifetime",
                code: "never_expiring_tokens",
                message: "Access tokens that never expire stay usable if they leak; prefer a lifetime with refresh tokens.",
            });
        }
        if self.refresh_count.issues_refresh_tokens()
            && !self.grant_types.contains(GrantType::AuthorizationCode)
        {
            w.push(Warning {
                field: "refresh_count",
                code: "refresh_without_authorization_code",
                message: "Refresh tokens are issued only by the authorization_code grant, which this client does not have; the refresh count has no effect.",
            });
        }
        w
    }
}

/// The endpoint URLs a developer configures for a client (SPEC §1 `endpoints`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub authorization: String,
    pub token: String,
    pub refresh_token: String,
}

impl Endpoints {
    pub fn for_issuer(issuer: &str) -> Self {
        let base = issuer.trim_end_matches('/');
        Self {
            authorization: format!("{base}/oauth2/authorize"),
            token: format!("{base}/oauth2/token"),
            // RFC 6749 §6: refreshing is a request to the token endpoint.
            refresh_token: format!("{base}/oauth2/token"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Moved from `http/metrics.rs` (its `TokenGrant` copy is gone): the token endpoint's
    /// grants are every grant but implicit, and unknown names are none.
    #[test]
    fn token_grants_are_the_token_endpoints_own() {
        let at_token = |s: &str| GrantType::parse(s).filter(|g| g.at_token_endpoint());
        assert_eq!(at_token("refresh_token"), Some(GrantType::RefreshToken));
        assert_eq!(at_token("implicit"), None);
        assert_eq!(at_token("nonsense"), None);
    }

    #[test]
    fn refresh_token_is_a_grant_but_never_a_clients() {
        assert_eq!(GrantType::parse_registrable("refresh_token"), None);
        let mut set = GrantSet::default();
        set.insert(GrantType::RefreshToken);
        assert!(set.is_empty());
        let all: GrantSet = GrantType::ALL.into_iter().collect();
        assert_eq!(all.iter().collect::<Vec<_>>(), GrantType::REGISTRABLE);
        for (i, g) in GrantType::ALL.into_iter().enumerate() {
            assert_eq!(g as usize, i, "ALL is in declaration order");
        }
    }
}

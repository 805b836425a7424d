//! Access tokens, refresh tokens and authorization codes (SPEC §2).
//!
//! Every token carries 256 random bits; the store keeps only its keyed hash and a separate
//! public `id` used by the admin API and console. Whether a token is usable is
//! decided in one place, `TokenState::status`, from the token row joined with its client and
//! user: this is where the O(1) invalidation epochs are compared.

use crate::client::{GrantType, RefreshCount};
use crate::id::{ClientId, FamilyId, TokenId, UserId};
use crate::scope::ScopeSet;
use chrono::{DateTime, Utc};

/// Length of a token's public id (`secret::time_ordered_id`).
const ID_LEN: usize = 16;
/// Length of the random part: 32 bytes, base64url without padding.
const RANDOM_LEN: usize = 43;

/// The string handed to a client for a token with public id `id`: `<id>.<secret>`. The id
/// lets the token be found through the id's index, whose inserts are sequential, so the
/// tokens table needs no index on a random key (that index cost more than half of each
/// insert, and grew worse with the table); the secret is what makes the token
/// unguessable, and only the keyed hash of the whole string is stored.
pub fn compose(id: &str, secret: &str) -> String {
    format!("{id}.{secret}")
}

/// The public id in a presented token of the `<id>.<secret>` form, or `None` (malformed, or
/// issued before tokens carried their id; those are found by hash).
pub fn presented_id(presented: &str) -> Option<&str> {
    // Only the shape is checked here (lengths and alphabet are public); whether the random
    // part is right is the constant-time hash check's business.
    let (id, rest) = presented.split_at_checked(ID_LEN)?;
    let random = rest.strip_prefix('.')?;
    let url_safe = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (random.len() == RANDOM_LEN && url_safe(id) && url_safe(random)).then_some(id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "access" => Some(Self::Access),
            "refresh" => Some(Self::Refresh),
            _ => None,
        }
    }
}

/// How many more refreshes a refresh token allows (SPEC §1 refresh count): the one place
/// that knows what the first refresh token of an authorization gets and what replaces one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshAllowance {
    Unlimited,
    /// At least one.
    Left(u32),
}

impl RefreshAllowance {
    /// The refresh token issued with an authorization's first access token; none when the
    /// client's count is 0.
    pub fn initial(count: RefreshCount) -> Option<Self> {
        match count {
            RefreshCount::Unlimited => Some(Self::Unlimited),
            RefreshCount::Limited(0) => None,
            RefreshCount::Limited(n) => Some(Self::Left(n)),
        }
    }

    /// The refresh token that replaces one with this allowance, now that it was used; none
    /// when that was the last refresh.
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Unlimited => Some(Self::Unlimited),
            Self::Left(n) if n > 1 => Some(Self::Left(n - 1)),
            Self::Left(_) => None,
        }
    }

    /// As stored in `TokenRecord::refreshes_left` (`None` = unlimited).
    pub fn stored(self) -> Option<u32> {
        match self {
            Self::Unlimited => None,
            Self::Left(n) => Some(n),
        }
    }

    pub fn from_stored(left: Option<u32>) -> Self {
        left.map_or(Self::Unlimited, Self::Left)
    }
}

/// A stored token (never the token itself: `token_hash`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub token_hash: String,
    pub kind: TokenKind,
    pub client_id: ClientId,
    pub user_id: Option<UserId>,
    pub username: Option<String>,
    pub scopes: ScopeSet,
    /// How it was obtained.
    pub grant_type: GrantType,
    /// The authorization this token descends from (authorization code grants): reuse of a
    /// code or refresh token revokes the whole family.
    pub family_id: Option<FamilyId>,
    /// Refresh tokens: refreshes this token still allows; `None` = unlimited.
    pub refreshes_left: Option<u32>,
    /// The client's epoch at issue (see `Owner::still_stands`).
    pub client_epoch: i64,
    /// The user's epoch at issue, for tokens issued to a user.
    pub user_epoch: Option<i64>,
    pub issued_at: DateTime<Utc>,
    /// `None`: never expires.
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Refresh tokens: when it was exchanged (rotation).
    pub consumed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Expired,
    /// Revoked directly, or through its family, client or user (deactivation, revoke-all),
    /// or consumed by a refresh.
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "expired" => Some(Self::Expired),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// A token with the current state of its client and user, as one indexed read returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    pub token: TokenRecord,
    pub client_name: String,
    pub client_version: String,
    pub client_active: bool,
    /// The client's epoch now (the token's own, at issue, is `token.client_epoch`).
    pub client_epoch: i64,
    pub user_active: Option<bool>,
    /// The user's epoch now.
    pub user_epoch: Option<i64>,
}

impl TokenState {
    /// The one definition of "usable" (SPEC §2): not revoked or consumed, not expired, and
    /// its client (and user) still active in the epoch it was issued in.
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        let t = &self.token;
        let client = Owner {
            active: self.client_active,
            current_epoch: self.client_epoch,
        };
        let user_ok = match (t.user_epoch, self.user_active, self.user_epoch) {
            (None, _, _) => true,
            (Some(at_issue), Some(active), Some(current_epoch)) => Owner {
                active,
                current_epoch,
            }
            .still_stands(at_issue),
            _ => false,
        };
        if t.revoked_at.is_some()
            || t.consumed_at.is_some()
            || !client.still_stands(t.client_epoch)
            || !user_ok
        {
            TokenStatus::Revoked
        } else if t.expires_at.is_some_and(|e| e <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// A client or user as the epoch rule needs it: active or not, and its epoch now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub active: bool,
    pub current_epoch: i64,
}

impl Owner {
    pub fn client(c: &crate::client::Client) -> Self {
        Self {
            active: c.active,
            current_epoch: c.token_epoch,
        }
    }

    pub fn user(u: &crate::user::User) -> Self {
        Self {
            active: u.active,
            current_epoch: u.token_epoch,
        }
    }

    /// The one epoch rule (SPEC §1 Active and revoke-all, user deactivation and password
    /// change): a token, code or session issued in epoch `at_issue` stands only while its
    /// owner is active and its epoch has not moved since. The SQL twin is `TOKEN_ALIVE`.
    pub fn still_stands(self, at_issue: i64) -> bool {
        self.active && self.current_epoch == at_issue
    }
}

/// A stored authorization code (RFC 6749 §4.1.2), bound to client, redirect URI and PKCE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    pub code_hash: String,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub redirect_uri: String,
    /// Whether the authorization request carried `redirect_uri` (then the token request
    /// must repeat it, RFC 6749 §4.1.3).
    pub redirect_uri_given: bool,
    pub scopes: ScopeSet,
    /// RFC 7636 S256 challenge.
    pub code_challenge: Option<String>,
    pub family_id: FamilyId,
    /// The client's and the user's epochs at issue.
    pub client_epoch: i64,
    pub user_epoch: i64,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// A login session of a resource owner, with its user's current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionState {
    pub id_hash: String,
    pub user_id: UserId,
    pub username: String,
    pub user_admin: bool,
    /// The user's epoch when the session began; `user_current_epoch` is the user's now.
    pub user_epoch: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_active: bool,
    pub user_current_epoch: i64,
}

impl SessionState {
    pub fn is_valid(&self, now: DateTime<Utc>) -> bool {
        let user = Owner {
            active: self.user_active,
            current_epoch: self.user_current_epoch,
        };
        user.still_stands(self.user_epoch) && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_allowance_counts_down_to_no_refresh_token() {
        use RefreshAllowance::{Left, Unlimited};
        assert_eq!(RefreshAllowance::initial(RefreshCount::Limited(0)), None);
        assert_eq!(
            RefreshAllowance::initial(RefreshCount::Limited(2)),
            Some(Left(2))
        );
        assert_eq!(
            RefreshAllowance::initial(RefreshCount::Unlimited),
            Some(Unlimited)
        );
        assert_eq!(Left(2).next(), Some(Left(1)));
        assert_eq!(Left(1).next(), None);
        assert_eq!(Unlimited.next(), Some(Unlimited));
        for a in [Unlimited, Left(1), Left(7)] {
            assert_eq!(RefreshAllowance::from_stored(a.stored()), a);
        }
    }

    #[test]
    fn presented_id_accepts_only_the_id_dot_secret_form() {
        let id = "AZ09-_az09-_AZ09";
        let secret = "s".repeat(43);
        let token = compose(id, &secret);
        assert_eq!(presented_id(&token), Some(id));
        for bad in [
            secret.clone(),                    // issued before ids were carried
            format!("{id}{secret}"),           // no dot
            format!("{id}.{}", &secret[1..]),  // short secret
            format!("{}.{secret}", &id[1..]),  // short id
            format!("{id}.{}!", &secret[1..]), // not base64url
            format!("{id}.{}.", &secret[1..]), // a second dot
            String::new(),
        ] {
            assert_eq!(presented_id(&bad), None, "{bad:?}");
        }
    }
    use chrono::Duration;

    fn state() -> TokenState {
        let now = Utc::now();
        TokenState {
            token: TokenRecord {
                id: "t".into(),
                token_hash: "h".into(),
                kind: TokenKind::Access,
                client_id: "c".into(),
                user_id: Some("u".into()),
                username: Some("alice".into()),
                scopes: ScopeSet::new(),
                grant_type: GrantType::Password,
                family_id: None,
                refreshes_left: None,
                client_epoch: 3,
                user_epoch: Some(1),
                issued_at: now,
                expires_at: Some(now + Duration::seconds(60)),
                revoked_at: None,
                consumed_at: None,
            },
            client_name: "App".into(),
            client_version: "1".into(),
            client_active: true,
            client_epoch: 3,
            user_active: Some(true),
            user_epoch: Some(1),
        }
    }

    /// The epoch rule tokens, codes and sessions share.
    #[test]
    fn an_issue_stands_only_while_its_owner_is_active_in_the_same_epoch() {
        for (active, current_epoch, at_issue, stands) in [
            (true, 3, 3, true),
            (true, 4, 3, false),  // revoked all, or deactivated and reactivated
            (false, 3, 3, false), // inactive (deactivation moves the epoch too)
            (false, 4, 3, false),
        ] {
            let owner = Owner {
                active,
                current_epoch,
            };
            assert_eq!(owner.still_stands(at_issue), stands, "{owner:?} {at_issue}");
        }
        let now = Utc::now();
        let session = SessionState {
            id_hash: "h".into(),
            user_id: "u".into(),
            username: "alice".into(),
            user_admin: false,
            user_epoch: 1,
            created_at: now,
            expires_at: now + Duration::hours(1),
            user_active: true,
            user_current_epoch: 1,
        };
        assert!(session.is_valid(now));
        assert!(!session.is_valid(now + Duration::hours(1)));
        let moved = SessionState {
            user_current_epoch: 2,
            ..session.clone()
        };
        assert!(!moved.is_valid(now), "password changed since");
        let inactive = SessionState {
            user_active: false,
            ..session
        };
        assert!(!inactive.is_valid(now));
    }

    #[test]
    fn status_follows_expiry_revocation_and_epochs() {
        let now = Utc::now();
        assert_eq!(state().status(now), TokenStatus::Active);
        assert_eq!(
            state().status(now + Duration::seconds(61)),
            TokenStatus::Expired
        );
        let mut s = state();
        s.client_epoch = 4; // deactivated and reactivated since issue
        assert_eq!(s.status(now), TokenStatus::Revoked);
        let mut s = state();
        s.client_active = false;
        assert_eq!(s.status(now), TokenStatus::Revoked);
        let mut s = state();
        s.user_epoch = Some(2);
        assert_eq!(s.status(now), TokenStatus::Revoked);
        let mut s = state();
        s.token.expires_at = None;
        assert_eq!(s.status(now + Duration::days(3650)), TokenStatus::Active);
        let mut s = state();
        s.token.consumed_at = Some(now);
        assert_eq!(s.status(now), TokenStatus::Revoked);
    }
}

//! Login sessions of resource owners and console users, stored server-side so any instance
//! can serve any request. The cookie carries a 256-bit secret; the database only its hash.

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::secret::{Secret, SecretHasher};
use crate::store::Store;
use crate::token::SessionState;
use crate::user::User;
use chrono::Duration;
use std::sync::Arc;

/// How long a login lasts.
pub const SESSION_LIFETIME_HOURS: i64 = 12;

#[derive(Clone)]
pub struct SessionService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hasher: SecretHasher,
}

impl SessionService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, hasher: SecretHasher) -> Self {
        Self {
            store,
            clock,
            hasher,
        }
    }

    /// Starts a session for `user`; the returned secret goes into the cookie.
    pub async fn start(&self, user: &User) -> Result<Secret, ServiceError> {
        let secret = Secret::generate()?;
        let now = self.clock.now();
        self.store
            .insert_session(
                &self.hasher.hash(secret.expose()),
                &user.id,
                user.token_epoch,
                now,
                now + Duration::hours(SESSION_LIFETIME_HOURS),
            )
            .await?;
        Ok(secret)
    }

    /// The session behind a cookie value, if it is still valid (not expired, user active
    /// and not deactivated or re-passworded since).
    pub async fn current(&self, cookie: &str) -> Result<Option<SessionState>, ServiceError> {
        if cookie.is_empty() {
            return Ok(None);
        }
        let s = self.store.find_session(&self.hasher.hash(cookie)).await?;
        Ok(s.filter(|s| s.is_valid(self.clock.now())))
    }

    pub async fn end(&self, cookie: &str) -> Result<(), ServiceError> {
        if !cookie.is_empty() {
            self.store.delete_session(&self.hasher.hash(cookie)).await?;
        }
        Ok(())
    }

    /// The CSRF token for forms of the session (or pre-session) identified by `cookie`:
    /// derived, so it needs no storage and cannot be forged without the server's key.
    pub fn csrf_token(&self, cookie: &str) -> String {
        self.hasher.derive("csrf", cookie)
    }

    /// A console notice signed for the session `cookie`: `<mac>.<text>`.
    pub fn sign_notice(&self, cookie: &str, text: &str) -> String {
        format!("{}.{text}", self.notice_mac(cookie, text))
    }

    /// The text of a notice `sign_notice` made for this session, else `None`.
    pub fn open_notice(&self, cookie: &str, signed: &str) -> Option<String> {
        let (mac, text) = signed.split_once('.')?;
        (!cookie.is_empty() && SecretHasher::equal(&self.notice_mac(cookie, text), mac))
            .then(|| text.to_owned())
    }

    fn notice_mac(&self, cookie: &str, text: &str) -> String {
        self.hasher.derive("notice", &format!("{cookie}\0{text}"))
    }

    pub fn check_csrf(&self, cookie: &str, presented: &str) -> bool {
        !cookie.is_empty() && SecretHasher::equal(&self.csrf_token(cookie), presented)
    }
}

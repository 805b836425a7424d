//! Resource owners and console administrators (SPEC §4 `/users`).

use super::passwords::{Origin, PasswordCheck};
use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::details;
use crate::error::{Conflict, FieldError, Internal, ServiceError};
use crate::id::UserId;
use crate::secret::random_string;
use crate::store::{Store, StoreError};
use crate::text::{self, TextKind};
use crate::user::{PasswordError, PasswordHashing, User};
use std::sync::Arc;

pub const INITIAL_ADMIN: &str = "admin";
pub const USERNAME_MAX: usize = 64;
pub const DISPLAY_NAME_MAX: usize = 100;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 1024;

/// Verifying against this keeps "no such user" as slow as "wrong password", so login
/// timing does not reveal which usernames exist.
pub(crate) const DUMMY_PHC: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J3s5Oq7R5J3xGf2oTmXqC5RvYQ3YJfCE2p0n5QKcX2Y";

#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub password: Option<String>,
    pub admin: Option<bool>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct UserChange {
    /// `Some(None)` clears it.
    pub display_name: Option<Option<String>>,
    pub admin: Option<bool>,
    pub active: Option<bool>,
}

#[derive(Clone)]
pub struct UserService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hashing: PasswordHashing,
    passwords: PasswordCheck,
}

fn check_username(errs: &mut Vec<FieldError>, u: &str) {
    if u.is_empty() || u.chars().count() > USERNAME_MAX {
        errs.push(FieldError::new(
            "username",
            "invalid_length",
            format!("username must be 1 to {USERNAME_MAX} characters"),
        ));
    } else if u.chars().any(char::is_whitespace) {
        errs.push(FieldError::new(
            "username",
            "invalid_characters",
            "username must not contain spaces",
        ));
    } else if let Err(e) = text::refuse_controls(u, TextKind::Identifier) {
        errs.push(FieldError::new(
            "username",
            "invalid_characters",
            format!("username {e}"),
        ));
    } else if text::identity_key(u).chars().any(char::is_whitespace) {
        // NFKC turns some spacing marks into a space and a combining mark (U+00A8 "¨"); the
        // key must obey the same no-space rule as the name.
        errs.push(FieldError::new(
            "username",
            "invalid_characters",
            "username must not contain characters that normalise to spaces",
        ));
    }
}

fn check_password(errs: &mut Vec<FieldError>, p: &str) {
    let n = p.chars().count();
    if !(PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        errs.push(FieldError::new(
            "password",
            "invalid_length",
            format!("password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"),
        ));
    }
}

fn check_display_name(errs: &mut Vec<FieldError>, d: &str) -> Option<String> {
    let d = d.trim();
    if d.chars().count() > DISPLAY_NAME_MAX || text::refuse_controls(d, TextKind::Line).is_err() {
        errs.push(FieldError::new(
            "display_name",
            "invalid",
            format!("display_name must be at most {DISPLAY_NAME_MAX} printable characters"),
        ));
    }
    (!d.is_empty()).then(|| d.to_owned())
}

impl UserService {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        hashing: PasswordHashing,
        passwords: PasswordCheck,
    ) -> Self {
        Self {
            store,
            clock,
            hashing,
            passwords,
        }
    }

    async fn hash(&self, password: String) -> Result<String, ServiceError> {
        self.hashing.hash(password).await.map_err(|e| match e {
            PasswordError::Busy(wait) => ServiceError::Busy(wait),
            other => Internal::PasswordHashing(other).into(),
        })
    }

    /// SPEC §6: on an empty database, create the administrator `admin`. Returns the
    /// generated password when none was given (the caller prints it once). Safe when
    /// several instances start at once: the unique username lets exactly one win.
    pub async fn ensure_initial_admin(
        &self,
        password: Option<String>,
    ) -> Result<Option<String>, ServiceError> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let generated = match password {
            Some(_) => None,
            None => Some(random_string::<18>()?),
        };
        let plain = password.or_else(|| generated.clone()).unwrap_or_default();
        let input = NewUser {
            username: Some(INITIAL_ADMIN.into()),
            display_name: Some("Administrator".into()),
            password: Some(plain),
            admin: Some(true),
            active: Some(true),
        };
        match self.insert(&Actor::new("system", None), input, false).await {
            Ok(_) => Ok(generated),
            Err(ServiceError::Conflict(Conflict::DuplicateUsername(_))) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn create(&self, actor: &Actor, input: NewUser) -> Result<User, ServiceError> {
        self.insert(actor, input, true).await
    }

    async fn insert(
        &self,
        actor: &Actor,
        input: NewUser,
        check_password_rules: bool,
    ) -> Result<User, ServiceError> {
        let mut errs = Vec::new();
        let username = input.username.unwrap_or_default().trim().to_owned();
        if username.is_empty() {
            errs.push(FieldError::new(
                "username",
                "required",
                "username is required",
            ));
        } else {
            check_username(&mut errs, &username);
        }
        let password = input.password.unwrap_or_default();
        if password.is_empty() {
            errs.push(FieldError::new(
                "password",
                "required",
                "password is required",
            ));
        } else if check_password_rules {
            check_password(&mut errs, &password);
        }
        let display_name = input
            .display_name
            .as_deref()
            .and_then(|d| check_display_name(&mut errs, d));
        if !errs.is_empty() {
            return Err(ServiceError::Validation(errs));
        }
        let now = self.clock.now();
        let user = User {
            id: UserId::generate()?,
            username,
            display_name,
            active: input.active.unwrap_or(true),
            admin: input.admin.unwrap_or(false),
            password_hash: self.hash(password).await?,
            token_epoch: 0,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEvent::new(
            actor,
            now,
            "user.create",
            "user",
            &user.id,
            details! { "username" => &user.username, "admin" => user.admin, "active" => user.active },
        );
        match self.store.insert_user(&user, &audit).await {
            Ok(()) => Ok(user),
            Err(StoreError::Duplicate(_)) => Err(ServiceError::Conflict(
                Conflict::DuplicateUsername(user.username.clone()),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get(&self, id: &UserId) -> Result<User, ServiceError> {
        self.store
            .get_user(id)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    pub async fn get_by_username(&self, username: &str) -> Result<User, ServiceError> {
        self.store
            .get_user_by_username(username)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Ordered by username; the cursor is opaque to callers.
    pub async fn list(
        &self,
        q: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<super::Page<User>, ServiceError> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        let limit = super::check_limit(limit)?;
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| s.strip_prefix('u').map(str::to_owned))
                    .filter(|s| !text::has_control(s))
                    .ok_or_else(|| {
                        ServiceError::Validation(vec![FieldError::new(
                            "cursor",
                            "invalid",
                            "cursor is not one this server handed out; start again without it",
                        )])
                    })?,
            ),
        };
        let mut rows = self
            .store
            .list_users(
                super::search_text(q)?.as_deref(),
                after.as_deref(),
                limit + 1,
            )
            .await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last()
                .map(|u| URL_SAFE_NO_PAD.encode(format!("u{}", text::identity_key(&u.username))))
        } else {
            None
        };
        Ok(super::Page {
            items: rows,
            next_cursor,
        })
    }

    /// Changes display name, admin flag or active state. Deactivation invalidates the
    /// user's tokens and sessions at once (one write: the epoch moves).
    pub async fn update(
        &self,
        actor: &Actor,
        id: &UserId,
        change: UserChange,
    ) -> Result<User, ServiceError> {
        let existing = self.get(id).await?;
        let mut errs = Vec::new();
        let display_name = match &change.display_name {
            Some(Some(d)) => check_display_name(&mut errs, d),
            Some(None) => None,
            None => existing.display_name.clone(),
        };
        if !errs.is_empty() {
            return Err(ServiceError::Validation(errs));
        }
        let mut next = User {
            display_name,
            admin: change.admin.unwrap_or(existing.admin),
            active: change.active.unwrap_or(existing.active),
            updated_at: self.clock.now(),
            ..existing.clone()
        };
        if next.display_name == existing.display_name
            && next.admin == existing.admin
            && next.active == existing.active
        {
            return Ok(existing);
        }
        let keep_an_admin = existing.admin && existing.active && !(next.admin && next.active);
        if existing.active && !next.active {
            next.token_epoch += 1;
        }
        let action = match (existing.active, next.active) {
            (true, false) => "user.deactivate",
            (false, true) => "user.activate",
            _ => "user.update",
        };
        let audit = AuditEvent::new(
            actor,
            next.updated_at,
            action,
            "user",
            id,
            details! { "username" => &next.username, "admin" => next.admin, "active" => next.active },
        );
        if self.store.update_user(&next, &audit, keep_an_admin).await? {
            Ok(next)
        } else {
            Err(self
                .why_not_written(id, keep_an_admin, "deactivate or demote")
                .await)
        }
    }

    /// Sets a new password; the user's sessions and tokens end (the epoch moves).
    pub async fn set_password(
        &self,
        actor: &Actor,
        id: &UserId,
        password: &str,
    ) -> Result<User, ServiceError> {
        let existing = self.get(id).await?;
        let mut errs = Vec::new();
        check_password(&mut errs, password);
        if !errs.is_empty() {
            return Err(ServiceError::Validation(errs));
        }
        let next = User {
            password_hash: self.hash(password.to_owned()).await?,
            token_epoch: existing.token_epoch + 1,
            updated_at: self.clock.now(),
            ..existing
        };
        let audit = AuditEvent::new(
            actor,
            next.updated_at,
            "user.set_password",
            "user",
            id,
            details! { "username" => &next.username },
        );
        if self.store.update_user(&next, &audit, false).await? {
            Ok(next)
        } else {
            Err(ServiceError::NotFound("user"))
        }
    }

    /// Why a guarded write changed nothing: the user is gone, or it was the last active
    /// administrator (nobody could use the console then). Rare, so a second read is fine.
    async fn why_not_written(
        &self,
        id: &UserId,
        keep_an_admin: bool,
        what: &'static str,
    ) -> ServiceError {
        match self.store.get_user(id).await {
            Ok(Some(_)) if keep_an_admin => ServiceError::Conflict(Conflict::LastActiveAdmin(what)),
            Ok(_) => ServiceError::NotFound("user"),
            Err(e) => e.into(),
        }
    }

    pub async fn delete(&self, actor: &Actor, id: &UserId) -> Result<(), ServiceError> {
        let existing = self.get(id).await?;
        let keep_an_admin = existing.admin && existing.active;
        let audit = AuditEvent::new(
            actor,
            self.clock.now(),
            "user.delete",
            "user",
            id,
            details! { "username" => &existing.username },
        );
        if self.store.delete_user(id, &audit, keep_an_admin).await? {
            Ok(())
        } else {
            Err(self.why_not_written(id, keep_an_admin, "delete").await)
        }
    }

    /// A sign-in: the user if `password` is theirs and they are active, under the
    /// brute-force limits and the hashing gate (`PasswordCheck`).
    pub async fn verify_login(
        &self,
        username: &str,
        password: &str,
        origin: Origin<'_>,
    ) -> Result<Option<User>, ServiceError> {
        self.passwords
            .verify(username, password.to_owned(), origin)
            .await
    }

    /// The device cookie for a browser `user` just signed in from (SPEC §9).
    pub fn device_cookie(
        &self,
        presented: Option<&str>,
        user: &User,
    ) -> Result<String, ServiceError> {
        self.passwords.device_cookie(presented, user)
    }
}

#[cfg(test)]
mod tests {
    use super::DUMMY_PHC;

    #[tokio::test]
    async fn dummy_hash_parses_and_never_matches() {
        let g = crate::user::PasswordHashing::new(Default::default());
        assert!(!g.verify("".into(), DUMMY_PHC.into()).await.unwrap());
        assert!(!g.verify("admin".into(), DUMMY_PHC.into()).await.unwrap());
    }
}

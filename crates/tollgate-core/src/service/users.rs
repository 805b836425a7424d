use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::error::ServiceError;
use crate::secret::random_string;
use crate::store::{Store, StoreError};
use crate::user::{hash_password, User};
use serde_json::json;
use std::sync::Arc;

pub const INITIAL_ADMIN: &str = "admin";

#[derive(Clone)]
pub struct UserService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl UserService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
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
        let now = self.clock.now();
        let user = User {
            id: random_string::<9>()?,
            username: INITIAL_ADMIN.into(),
            display_name: Some("Administrator".into()),
            active: true,
            admin: true,
            password_hash: hash_password(plain)
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?,
            created_at: now,
            updated_at: now,
        };
        let audit = AuditEvent::new(
            &Actor::new("system", None),
            now,
            "user.create",
            "user",
            &user.id,
            json!({ "username": user.username, "admin": true, "reason": "first start" }),
        );
        match self.store.insert_user(&user, &audit).await {
            Ok(()) => Ok(generated),
            Err(StoreError::Duplicate(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_by_username(&self, username: &str) -> Result<User, ServiceError> {
        self.store
            .get_user_by_username(username)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }
}

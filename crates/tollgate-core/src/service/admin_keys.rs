use crate::audit::{Actor, AuditEvent};
use crate::clock::Clock;
use crate::details;
use crate::error::{FieldError, ServiceError};
use crate::id::AdminKeyId;
use crate::secret::{random_string, Secret, SecretHasher};
use crate::store::{AdminKey, Store};
use std::sync::Arc;

/// Admin keys start with this, so a leaked one is recognisable (and greppable by secret
/// scanners).
pub const ADMIN_KEY_PREFIX: &str = "tga_";
const NAME_MAX: usize = 100;

#[derive(Debug, Clone)]
pub struct NewAdminKey {
    pub key: AdminKey,
    /// The bearer value; shown once.
    pub secret: Secret,
}

#[derive(Clone)]
pub struct AdminKeyService {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    hasher: SecretHasher,
}

impl AdminKeyService {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, hasher: SecretHasher) -> Self {
        Self {
            store,
            clock,
            hasher,
        }
    }

    pub async fn create(&self, actor: &Actor, name: &str) -> Result<NewAdminKey, ServiceError> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > NAME_MAX
            || crate::text::refuse_controls(name, crate::text::TextKind::Line).is_err()
        {
            return Err(ServiceError::Validation(vec![FieldError::new(
                "name",
                "invalid",
                format!("name must be 1 to {NAME_MAX} printable characters"),
            )]));
        }
        let secret = Secret::new(format!("{ADMIN_KEY_PREFIX}{}", random_string::<32>()?));
        let now = self.clock.now();
        let key = AdminKey {
            id: AdminKeyId::generate()?,
            name: name.to_owned(),
            key_hash: self.hasher.hash(secret.expose()),
            created_at: now,
        };
        let audit = AuditEvent::new(
            actor,
            now,
            "admin_key.create",
            "admin_key",
            &key.id,
            details! { "name" => &key.name },
        );
        self.store.insert_admin_key(&key, &audit).await?;
        Ok(NewAdminKey { key, secret })
    }

    /// The key a bearer value belongs to, if any. One indexed read by hash.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<AdminKey>, ServiceError> {
        if !presented.starts_with(ADMIN_KEY_PREFIX) {
            return Ok(None);
        }
        Ok(self
            .store
            .find_admin_key_by_hash(&self.hasher.hash(presented))
            .await?)
    }

    pub async fn list(&self) -> Result<Vec<AdminKey>, ServiceError> {
        Ok(self.store.list_admin_keys().await?)
    }

    pub async fn delete(&self, actor: &Actor, id: &AdminKeyId) -> Result<(), ServiceError> {
        let audit = AuditEvent::new(
            actor,
            self.clock.now(),
            "admin_key.delete",
            "admin_key",
            id,
            details! {},
        );
        if self.store.delete_admin_key(id, &audit).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("admin key"))
        }
    }
}

//! The one path for every mutation: the admin API, the console and the CLI call these, so
//! they cannot disagree on a rule (STYLE habit 5).

mod admin_keys;
mod audit;
mod clients;
mod janitor;
mod passwords;
mod sessions;
pub mod throttle;
mod tokens;
mod users;

pub use admin_keys::{AdminKeyService, NewAdminKey, ADMIN_KEY_PREFIX};
pub use audit::AuditService;
pub use clients::{ClientService, ClientWithSecret, RotatedSecret, GRACE_MAX};
pub use janitor::{Janitor, Purged, JANITOR_BATCH};
pub use passwords::{Origin, PasswordCheck};
pub use sessions::{SessionService, SESSION_LIFETIME_HOURS};
pub use throttle::{Throttle, ThrottleSettings};
pub use tokens::TokenService;
pub(crate) use users::DUMMY_PHC;
pub use users::{NewUser, UserChange, UserService};

use crate::error::{FieldError, ServiceError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub const PAGE_LIMIT_DEFAULT: u32 = 50;
pub const PAGE_LIMIT_MAX: u32 = 500;

/// One page of a listing and the opaque cursor of the next page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says another page
    /// exists, and the cursor is the position of the last row kept.
    pub(crate) fn from_rows(mut rows: Vec<T>, limit: u32, position: impl Fn(&T) -> i64) -> Self {
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|r| encode_cursor(position(r)))
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// Cursors are opaque to callers so the encoding can change without breaking them.
pub(crate) fn encode_cursor(position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("p{position}"))
}

pub(crate) fn decode_cursor(cursor: Option<&str>) -> Result<Option<i64>, ServiceError> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix('p').and_then(|n| n.parse().ok()))
        .map(Some)
        .ok_or_else(invalid_cursor)
}

pub(crate) fn invalid_cursor() -> ServiceError {
    ServiceError::Validation(vec![FieldError::new(
        "cursor",
        "invalid",
        "cursor is not one this server handed out; start again without it",
    )])
}

/// Filters reach LIKE patterns and equality lookups: a control character there is refused
/// as a field error, since SQLite reads a NUL as the end of the pattern (matching every row)
/// while PostgreSQL cannot hold one at all.
pub(crate) fn check_filters(fields: &[(&str, Option<&str>)]) -> Result<(), ServiceError> {
    let errs: Vec<FieldError> = fields
        .iter()
        .filter(|(_, v)| v.is_some_and(crate::text::has_control))
        .map(|(name, _)| {
            FieldError::new(
                *name,
                "invalid_characters",
                format!("{name} must not contain control or formatting characters"),
            )
        })
        .collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Validation(errs))
    }
}

/// A name search as the key names are stored under (`text::identity_key`), so `STRASSE`
/// finds `Straße`; `None` for a blank one.
pub(crate) fn search_text(q: Option<&str>) -> Result<Option<String>, ServiceError> {
    check_filters(&[("q", q)])?;
    Ok(q.map(crate::text::identity_key).filter(|k| !k.is_empty()))
}

pub(crate) fn check_limit(limit: Option<u32>) -> Result<u32, ServiceError> {
    match limit {
        None => Ok(PAGE_LIMIT_DEFAULT),
        Some(l) if (1..=PAGE_LIMIT_MAX).contains(&l) => Ok(l),
        Some(_) => Err(ServiceError::Validation(vec![FieldError::new(
            "limit",
            "out_of_range",
            format!("limit must be from 1 to {PAGE_LIMIT_MAX}"),
        )])),
    }
}

use crate::client_cache::ClientCache;
use crate::clock::Clock;
use crate::oauth::OAuthService;
use crate::policy::Policy;
use crate::secret::{random_bytes, SecretHasher};
use crate::store::Store;
use std::sync::Arc;

/// Every service, wired to one store, clock and policy. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clients: ClientService,
    pub admin_keys: AdminKeyService,
    pub audit: AuditService,
    pub users: UserService,
    pub sessions: SessionService,
    pub tokens: TokenService,
    pub oauth: OAuthService,
    pub janitor: Janitor,
    pub throttle: Throttle,
}

/// Settings the services take from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub policy: Policy,
    pub issuer: String,
    pub auth_code_lifetime_secs: u32,
    pub token_retention_secs: u64,
    pub throttle: ThrottleSettings,
    pub password_hashing: crate::user::PasswordHashingSettings,
}

impl Services {
    /// Loads (or, on a new database, creates) the secret-hashing key and builds the
    /// services.
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: ServiceSettings,
    ) -> Result<Self, ServiceError> {
        let key = store.hash_key(random_bytes::<32>()?).await?;
        let hasher = SecretHasher::new(key);
        let cache = ClientCache::default();
        let throttle = Throttle::new(settings.throttle, clock.clone());
        // One gate for every Argon2id of the process: sign-ins, the password grant, and
        // passwords set by administrators.
        let hashing = crate::user::PasswordHashing::new(settings.password_hashing);
        let passwords = PasswordCheck::new(
            store.clone(),
            throttle.clone(),
            hashing.clone(),
            hasher.clone(),
        );
        Ok(Self {
            clients: ClientService::new(
                store.clone(),
                clock.clone(),
                hasher.clone(),
                settings.policy,
                settings.issuer.clone(),
                cache.clone(),
            ),
            admin_keys: AdminKeyService::new(store.clone(), clock.clone(), hasher.clone()),
            audit: AuditService::new(store.clone()),
            users: UserService::new(
                store.clone(),
                clock.clone(),
                hashing.clone(),
                passwords.clone(),
            ),
            sessions: SessionService::new(store.clone(), clock.clone(), hasher.clone()),
            tokens: TokenService::new(store.clone(), clock.clone()),
            oauth: OAuthService::new(
                store.clone(),
                clock.clone(),
                hasher,
                settings.auth_code_lifetime_secs,
                settings.issuer,
                cache,
                passwords,
            ),
            throttle,
            janitor: Janitor::new(store.clone(), clock, settings.token_retention_secs),
            store,
        })
    }
}

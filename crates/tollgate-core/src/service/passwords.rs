//! Checking a person's password — the sign-in page and the password grant — in one place,
//! under the brute-force limits and the bounded Argon2id gate (SPEC §9), so both paths
//! count and shed alike.

use super::throttle::{Key, Throttle};
use super::DUMMY_PHC;
use crate::error::{Internal, ServiceError};
use crate::secret::{random_string, SecretHasher};
use crate::store::Store;
use crate::user::{PasswordError, PasswordHashing, User};
use std::net::IpAddr;
use std::sync::Arc;

/// Where a sign-in comes from: the source address, and the device cookie its browser
/// presented, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    pub address: Option<IpAddr>,
    pub device_cookie: Option<&'a str>,
}

/// A browser keeps at most this many users' device entries.
const MAX_DEVICE_ENTRIES: usize = 5;

#[derive(Clone)]
pub struct PasswordCheck {
    store: Arc<dyn Store>,
    throttle: Throttle,
    hashing: PasswordHashing,
    hasher: SecretHasher,
}

impl PasswordCheck {
    pub fn new(
        store: Arc<dyn Store>,
        throttle: Throttle,
        hashing: PasswordHashing,
        hasher: SecretHasher,
    ) -> Self {
        Self {
            store,
            throttle,
            hashing,
            hasher,
        }
    }

    pub(crate) fn throttle(&self) -> &Throttle {
        &self.throttle
    }

    /// The user if `password` is theirs and they are active. One verification is reserved
    /// against the attempt's keys before Argon2id runs and given back if the password was
    /// right: from a browser the user signed in from before, per device; otherwise per
    /// (user, address), per user, and per address. `Throttled` when a key is spent, `Busy`
    /// when every hashing slot is taken.
    pub async fn verify(
        &self,
        username: &str,
        password: String,
        origin: Origin<'_>,
    ) -> Result<Option<User>, ServiceError> {
        let name = identity(username);
        let device = origin
            .device_cookie
            .and_then(|c| self.known_device(c, &name));
        let reservation = match &device {
            Some(id) => self.throttle.reserve([Key::Device(id)]),
            None => self.throttle.reserve(
                [
                    Some(Key::User {
                        username: &name,
                        address: origin.address,
                    }),
                    Some(Key::UntrustedUser(&name)),
                    origin.address.map(Key::Address),
                ]
                .into_iter()
                .flatten(),
            ),
        }
        .map_err(ServiceError::Throttled)?;
        // No username holds a control character (text::refuse_controls), and PostgreSQL
        // cannot look up a NUL: such a name is an unknown user, on every backend.
        let lookup = if crate::text::has_control(username) {
            Ok(None)
        } else {
            self.store.get_user_by_username(username).await
        };
        let user = match lookup {
            Ok(u) => u,
            Err(e) => {
                reservation.not_a_guess();
                return Err(e.into());
            }
        };
        // Unknown users cost the same Argon2id, so timing does not tell which names exist.
        let phc = user
            .as_ref()
            .map_or_else(|| DUMMY_PHC.to_owned(), |u| u.password_hash.clone());
        let ok = match self.hashing.verify(password, phc).await {
            Ok(ok) => ok,
            Err(e) => {
                reservation.not_a_guess();
                return Err(match e {
                    PasswordError::Busy(wait) => ServiceError::Busy(wait),
                    other => Internal::PasswordHashing(other).into(),
                });
            }
        };
        if ok {
            reservation.succeeded();
        } else {
            reservation.failed();
        }
        Ok(user.filter(|u| ok && u.active))
    }

    /// The device cookie to send after `user` signed in: a new entry for them in front,
    /// the browser's other valid entries (other users) kept.
    pub fn device_cookie(
        &self,
        presented: Option<&str>,
        user: &User,
    ) -> Result<String, ServiceError> {
        let name = identity(&user.username);
        let id = random_string::<16>()?;
        let mut entries = vec![format!("{id}.{}", self.device_mac(&name, &id))];
        for e in presented.unwrap_or_default().split('~') {
            if entries.len() == MAX_DEVICE_ENTRIES {
                break;
            }
            // Entries we cannot parse, or of this user, are dropped; others stay.
            if let Some((other_id, mac)) = e.split_once('.') {
                if !other_id.is_empty() && !mac.is_empty() && !self.entry_is_for(e, &name) {
                    entries.push(e.to_owned());
                }
            }
        }
        Ok(entries.join("~"))
    }

    /// The id of the entry in `cookie` that this server gave `name`'s browser, if any.
    fn known_device(&self, cookie: &str, name: &str) -> Option<String> {
        cookie
            .split('~')
            .take(MAX_DEVICE_ENTRIES)
            .find(|e| self.entry_is_for(e, name))
            .and_then(|e| e.split_once('.'))
            .map(|(id, _)| id.to_owned())
    }

    fn entry_is_for(&self, entry: &str, name: &str) -> bool {
        entry.split_once('.').is_some_and(|(id, mac)| {
            !id.is_empty() && SecretHasher::equal(&self.device_mac(name, id), mac)
        })
    }

    fn device_mac(&self, name: &str, id: &str) -> String {
        self.hasher.derive("device", &format!("{name}\0{id}"))
    }
}

/// The form of a username the limits count by: the same for every spelling the user
/// lookup treats as one user.
pub(crate) fn identity(username: &str) -> String {
    crate::text::identity_key(username)
}

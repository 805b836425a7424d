//! Server-generated secrets (client secrets, admin keys, later tokens) and how they are
//! stored.
//!
//! They carry ≥ 256 bits from the OS CSPRNG, so a slow password hash would buy nothing:
//! a keyed fast hash (HMAC-SHA-256) is stored instead and checked in microseconds. Stored
//! hashes are tagged with their algorithm (`hmac-sha256$…`) so the scheme can change later
//! without breaking existing clients.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const TAG_HMAC_SHA256: &str = "hmac-sha256$";

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(String);

/// `n` bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf)
}

/// A URL-safe random string carrying `N` bytes of entropy.
pub fn random_string<const N: usize>() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<N>()?))
}

/// The base64url characters in ASCII order, so encoded strings sort like their bytes.
const SORTABLE: base64::alphabet::Alphabet = match base64::alphabet::Alphabet::new(
    "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz",
) {
    Ok(a) => a,
    Err(_) => panic!("the sortable alphabet has 64 distinct URL-safe characters"),
};
const SORTABLE_NO_PAD: base64::engine::GeneralPurpose =
    base64::engine::GeneralPurpose::new(&SORTABLE, base64::engine::general_purpose::NO_PAD);

/// A 16-character public id: 48 bits of milliseconds since the epoch, then 48 random
/// bits, encoded so ids sort by creation time. Ids minted together land next to each other
/// in an index, so a batch of inserts touches one or two index pages instead of one random
/// page per row (this is the tokens table's busiest index). Not a secret: it only has to be
/// unique, and two ids in one millisecond collide with probability 2⁻⁴⁸.
pub fn time_ordered_id(now_ms: i64) -> Result<String, RandomError> {
    let mut buf = [0u8; 12];
    let ms = u64::try_from(now_ms).unwrap_or(0).to_be_bytes();
    buf[..6].copy_from_slice(&ms[2..]);
    buf[6..].copy_from_slice(&random_bytes::<6>()?);
    Ok(SORTABLE_NO_PAD.encode(buf))
}

/// A secret shown to a person or program exactly once. `Debug` never prints it, so it
/// cannot leak through a stray `{:?}` in a log line.
#[derive(Clone)]
pub struct Secret(String);

/// Constant time (SPEC §9): a derived `==` would stop at the first differing byte.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// A new 256-bit secret.
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self(random_string::<32>()?))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***SECRET***")
    }
}

/// Hashes and verifies server-generated secrets with a deployment-wide key.
///
/// The key lives in the database (created on first start), so every instance sharing the
/// database agrees on it without extra configuration.
#[derive(Clone)]
pub struct SecretHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher(***)")
    }
}

impl SecretHasher {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, secret: &str) -> [u8; 32] {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC-SHA-256 accepts a 32-byte key");
        mac.update(secret.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The algorithm-tagged hash to store.
    pub fn hash(&self, secret: &str) -> String {
        format!(
            "{TAG_HMAC_SHA256}{}",
            URL_SAFE_NO_PAD.encode(self.mac(secret))
        )
    }

    /// A value derived from `input` for a purpose (`label`), e.g. a session's CSRF token:
    /// unforgeable without the key, and different for every label.
    pub fn derive(&self, label: &str, input: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC-SHA-256 accepts a 32-byte key");
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(input.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Constant-time comparison of two strings (CSRF tokens, PKCE).
    pub fn equal(a: &str, b: &str) -> bool {
        a.as_bytes().ct_eq(b.as_bytes()).into()
    }

    /// Constant-time check of a presented secret against a stored hash. An unknown
    /// algorithm tag never verifies.
    pub fn verify(&self, presented: &str, stored: &str) -> bool {
        let Some(encoded) = stored.strip_prefix(TAG_HMAC_SHA256) else {
            return false;
        };
        let Ok(expected) = URL_SAFE_NO_PAD.decode(encoded) else {
            return false;
        };
        let actual = self.mac(presented);
        actual.ct_eq(expected.as_slice()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ordered_ids_sort_by_time_and_differ_within_a_millisecond() {
        let ids: Vec<String> = [1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000]
            .iter()
            .map(|t| time_ordered_id(*t).unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert!(ids.iter().all(|i| i.len() == 16
            && i.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')));
        assert_ne!(
            time_ordered_id(1_700_000_000_000).unwrap(),
            time_ordered_id(1_700_000_000_000).unwrap()
        );
    }

    #[test]
    fn generated_secret_has_256_bits_and_is_url_safe() {
        let s = Secret::generate().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(s.expose()).unwrap().len(), 32);
        assert!(s
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(s, Secret::generate().unwrap());
    }

    #[test]
    fn hash_is_tagged_and_verifies_only_the_same_secret() {
        let h = SecretHasher::new([7; 32]);
        let stored = h.hash("abc");
        assert!(stored.starts_with("hmac-sha256$"));
        assert!(!stored.contains("abc"));
        assert!(h.verify("abc", &stored));
        assert!(!h.verify("abd", &stored));
        assert!(!SecretHasher::new([8; 32]).verify("abc", &stored));
        assert!(!h.verify("abc", "sha1$whatever"));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "***SECRET***");
    }
}

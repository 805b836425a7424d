//! `X-Request-Id` (STYLE: log once, at the edge, with a request id). A caller's id is kept
//! when it is sane, so a proxy's or client's id follows the request through our logs;
//! otherwise one is generated. The id lands in the request span (so every
//! log line of the request carries it) and is echoed in the response.

use super::REQUEST_ID;
use axum::http::{HeaderMap, HeaderValue};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Long enough for a UUID, a W3C trace id or a proxy's own format; short enough to keep
/// log lines small.
const MAX_LEN: usize = 128;

/// The request's id: the caller's if it sent exactly one and it is sane, otherwise a new
/// one. Anything else could forge or garble log lines, where the id goes. Leaves it in the
/// request's headers for the handlers.
pub fn resolve(headers: &mut HeaderMap) -> HeaderValue {
    let mut ids = headers.get_all(&REQUEST_ID).iter();
    if let (Some(id), None) = (ids.next(), ids.next()) {
        if is_sane(id.as_bytes()) {
            return id.clone();
        }
    }
    let id = generate();
    headers.insert(REQUEST_ID, id.clone());
    id
}

/// A random-looking UUID (version 4 layout) that is unique without asking the kernel for
/// randomness per request: 64 random bits drawn once per process, then a counter.
fn generate() -> HeaderValue {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        let mut b = [0u8; 8];
        // Without the kernel's randomness the ids are still unique within this process.
        let _ = getrandom::fill(&mut b);
        u64::from_ne_bytes(b)
    });
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&prefix.to_be_bytes());
    bytes[8..].copy_from_slice(&n.to_be_bytes());
    let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut buf = uuid::Uuid::encode_buffer();
    // A hyphenated UUID is ASCII, always a valid header value.
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut buf))
        .unwrap_or_else(|_| HeaderValue::from_static("-"))
}

fn is_sane(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(b))
}

#[cfg(test)]
mod tests {
    use super::{generate, is_sane};

    #[test]
    fn generated_ids_are_distinct_uuids() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        for id in [a, b] {
            let id = uuid::Uuid::parse_str(id.to_str().unwrap()).unwrap();
            assert_eq!(id.get_version_num(), 4);
        }
    }

    #[test]
    fn request_ids_are_bounded_in_length_and_charset() {
        assert!(is_sane(b"0b6f2a52-3c1e-4f5e-9d1a-6a7c2e1f0d3b"));
        assert!(is_sane(b"Root=1-67891233-abcdef012345678912345678"));
        assert!(!is_sane(b""));
        assert!(!is_sane(&[b'a'; MAX_LEN_PLUS_ONE]));
        assert!(!is_sane(b"id with spaces"));
        assert!(!is_sane(b"quote\"d"));
        assert!(!is_sane("caf\u{e9}".as_bytes()));
    }

    const MAX_LEN_PLUS_ONE: usize = super::MAX_LEN + 1;
}

//! `X-Request-Id` (STYLE: log once, at the edge, with a request id). A caller's id is kept
//! when it is sane, so a proxy's or client's id follows the request through our logs;
//! otherwise `SetRequestIdLayer` generates one. The id lands in the request span (so every
//! log line of the request carries it) and is echoed in the response.

use super::REQUEST_ID;
use axum::extract::Request;

/// Long enough for a UUID, a W3C trace id or a proxy's own format; short enough to keep
/// log lines small.
const MAX_LEN: usize = 128;

/// Drops an incoming id that is empty, too long, repeated, or has characters outside a
/// conservative set: it goes into every log line, where anything else could forge or
/// garble output.
pub async fn drop_unusable(mut req: Request) -> Request {
    let mut ids = req.headers().get_all(&REQUEST_ID).iter();
    let usable = match (ids.next(), ids.next()) {
        (None, _) => true,
        (Some(id), None) => is_sane(id.as_bytes()),
        (Some(_), Some(_)) => false,
    };
    if !usable {
        req.headers_mut().remove(&REQUEST_ID);
    }
    req
}

fn is_sane(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=@".contains(b))
}

#[cfg(test)]
mod tests {
    use super::is_sane;

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

//! `Location` headers (RFC 9110 §10.2.2: a URI reference, i.e. ASCII). Every redirect the
//! server sends goes through `see_other`, which percent-encodes whatever is not visible
//! ASCII, so no raw UTF-8 or control byte reaches the header.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Bytes a URI reference cannot hold as they are. `%` stays: a URL handed here is already
/// encoded where it needs to be, and its escapes must survive.
const NOT_URI: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `url` as a `Location` value (non-ASCII as UTF-8 percent-escapes).
pub fn location(url: &str) -> HeaderValue {
    let encoded: String = utf8_percent_encode(url, NOT_URI).collect();
    // Only visible ASCII is left, which is always a valid header value.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

/// 303 See Other to `url`.
pub fn see_other(url: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location(url))]).into_response()
}

#[cfg(test)]
mod tests {
    use super::location;

    #[test]
    fn non_ascii_and_controls_are_escaped_and_escapes_kept() {
        assert_eq!(location("/é?a=%20b"), "/%C3%A9?a=%20b");
        assert_eq!(location("/a b\u{7}"), "/a%20b%07");
        assert_eq!(
            location("https://app.example/cb?code=x&state=y#f"),
            "https://app.example/cb?code=x&state=y#f"
        );
    }
}

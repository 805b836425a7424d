//! RFC 6749 §2.3.1 client authentication: the HTTP Basic header (id and secret each
//! form-urlencoded, joined by ':', base64) and the body's client_id / client_secret.
//!
//! Properties: no panic on any header and form; credentials encoded the RFC's way come back
//! exactly; and the id and secret taken from any well-formed header are the
//! application/x-www-form-urlencoded decoding of the whole part (a reference decoder below),
//! never a prefix of it.
#![no_main]

use arbitrary::Arbitrary;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use tollgate::http::oauth::client_credentials;
use tollgate_core::oauth::AuthMethod;

#[derive(Debug, Arbitrary)]
struct Input {
    /// Sent as is after the scheme.
    raw_header: String,
    scheme: Scheme,
    /// Encoded the RFC's way.
    id: String,
    secret: String,
    /// Decoded text of a header, `id:secret` still form-encoded.
    encoded: String,
    form_id: Option<String>,
    form_secret: Option<String>,
}

#[derive(Debug, Arbitrary)]
enum Scheme {
    Basic,
    LowerBasic,
    Bearer,
    Other(String),
}

fn form(i: &Input) -> HashMap<String, String> {
    let mut f = HashMap::new();
    if let Some(v) = &i.form_id {
        f.insert("client_id".to_owned(), v.clone());
    }
    if let Some(v) = &i.form_secret {
        f.insert("client_secret".to_owned(), v.clone());
    }
    f
}

fn with_authorization(value: &str) -> Option<HeaderMap> {
    let mut h = HeaderMap::new();
    h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).ok()?);
    Some(h)
}

/// application/x-www-form-urlencoded decoding of one value (WHATWG URL §5.1): '+' is a
/// space, "%XY" with two hex digits is that byte, anything else is itself; then UTF-8 with
/// replacement characters.
fn reference_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fuzz_target!(|i: Input| {
    // Any header, any form: an answer, never a panic.
    let scheme = match &i.scheme {
        Scheme::Basic => "Basic",
        Scheme::LowerBasic => "basic",
        Scheme::Bearer => "Bearer",
        Scheme::Other(s) => s.as_str(),
    };
    if let Some(h) = with_authorization(&format!("{scheme} {}", i.raw_header)) {
        let _ = client_credentials(&h, &mut form(&i));
    }
    let _ = client_credentials(&HeaderMap::new(), &mut form(&i));

    // Encoded the RFC's way, id and secret come back exactly.
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let b64 = STANDARD.encode(format!("{}:{}", enc(&i.id), enc(&i.secret)));
    let h = with_authorization(&format!("Basic {b64}")).expect("base64 is a valid header value");
    let c = client_credentials(&h, &mut HashMap::new())
        .expect("well-formed Basic credentials are accepted")
        .expect("and found");
    assert_eq!(c.client_id, i.id);
    assert_eq!(
        c.secret.as_ref().map(|s| s.expose()),
        Some(i.secret.as_str())
    );
    assert_eq!(c.method, AuthMethod::Basic);

    // Any decoded text with a ':': each side is decoded whole.
    if let Some((id, secret)) = i.encoded.split_once(':') {
        let h = with_authorization(&format!("Basic {}", STANDARD.encode(&i.encoded)))
            .expect("base64 is a valid header value");
        let c = client_credentials(&h, &mut HashMap::new())
            .expect("a decodable Basic header is accepted")
            .expect("and found");
        assert_eq!(c.client_id, reference_decode(id), "id of {:?}", i.encoded);
        assert_eq!(
            c.secret.as_ref().map(|s| s.expose().to_owned()),
            Some(reference_decode(secret)),
            "secret of {:?}",
            i.encoded
        );
    }
});

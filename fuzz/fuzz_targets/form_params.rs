//! The OAuth endpoints' form bodies (RFC 6749 §3.1, §3.2): application/x-www-form-urlencoded,
//! parameters without a value count as omitted, and none may appear twice.
//!
//! Properties: no panic on any body and content type; the parser refuses a body exactly when
//! a parameter with a value repeats, and otherwise returns exactly the valued parameters;
//! a map serialized as a form body comes back unchanged.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use tollgate::http::oauth::{form_body, parse_params};

#[derive(Debug, Arbitrary)]
struct Input {
    body: Vec<u8>,
    content_type: String,
    pairs: Vec<(String, String)>,
}

fuzz_target!(|i: Input| {
    // Whatever the content type: an answer, never a panic.
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&i.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    let _ = form_body(&h, &Bytes::from(i.body.clone()));

    // Refused exactly when a valued parameter repeats; otherwise exactly those parameters.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut last: HashMap<String, String> = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&i.body) {
        if !v.is_empty() {
            *seen.entry(k.to_string()).or_default() += 1;
            last.insert(k.into_owned(), v.into_owned());
        }
    }
    let repeated = seen.values().any(|&n| n > 1);
    match parse_params(&i.body) {
        Ok(map) => {
            assert!(!repeated, "a repeated parameter was accepted: {:?}", i.body);
            assert_eq!(map, last);
        }
        Err(e) => {
            assert!(repeated, "refused without a repeated parameter: {e:?}");
            assert_eq!(e.code(), "invalid_request");
        }
    }

    // Round trip: distinct keys with non-empty values.
    let mut expected = HashMap::new();
    for (k, v) in i.pairs {
        if !v.is_empty() {
            expected.entry(k).or_insert(v);
        }
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(expected.iter())
        .finish();
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    let parsed = form_body(&h, &Bytes::from(body)).expect("a serialized form is accepted");
    assert_eq!(parsed, expected);
});

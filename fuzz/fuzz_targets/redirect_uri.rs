//! Redirect URI rules (SPEC §1, RFC 6749 §3.1.2, RFC 8252 §7): absolute, no fragment, https,
//! or http on a loopback host, or a private-use scheme with a period.
//!
//! Properties: no panic; an accepted URI is short enough, has no fragment, space or control
//! character, parses as an absolute URL, and its scheme is one the rules allow (an https URI
//! with a host, an http URI only on localhost, 127.0.0.1 or [::1]). The same holds through
//! `validate`, which also keeps the list free of duplicates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate_core::client::{check_redirect_uri, validate, ClientInput};
use tollgate_core::Policy;

fn assert_allowed(uri: &str) {
    assert!(!uri.contains('#'), "{uri:?}");
    assert!(
        !uri.chars().any(|c| c.is_whitespace() || c.is_control()),
        "{uri:?}"
    );
    let u = url::Url::parse(uri).expect("an accepted redirect URI is absolute");
    match u.scheme() {
        "https" => assert!(u.host_str().is_some_and(|h| !h.is_empty()), "{uri:?}"),
        "http" => assert!(
            matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")),
            "{uri:?}"
        ),
        s => assert!(s.contains('.'), "{uri:?}"),
    }
    assert!(!matches!(
        u.scheme(),
        "javascript" | "data" | "file" | "vbscript" | "blob"
    ));
}

fuzz_target!(|uris: Vec<String>| {
    for uri in &uris {
        if check_redirect_uri(uri).is_ok() {
            assert_allowed(uri);
        }
    }
    let input = ClientInput {
        name: Some("fuzz".into()),
        version: Some("1".into()),
        client_type: Some("confidential".into()),
        grant_types: Some(vec!["authorization_code".into()]),
        redirect_uris: Some(uris.clone()),
        ..ClientInput::default()
    };
    if let Ok(settings) = validate(&input, None, Policy::default()) {
        assert!(!settings.redirect_uris.is_empty());
        assert_eq!(settings.redirect_uris, uris, "kept as sent, in order");
        for (i, uri) in settings.redirect_uris.iter().enumerate() {
            assert_allowed(uri);
            assert!(
                !settings.redirect_uris[..i].contains(uri),
                "duplicate {uri:?}"
            );
        }
    }
});

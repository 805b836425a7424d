//! Scopes (RFC 6749 §3.3): a client's scopes are scope-tokens
//! (1*( %x21 / %x23-5B / %x5D-7E )), and a scope parameter is a space-delimited list.
//!
//! Properties: no panic; `validate` accepts a scope list only if every entry is a
//! scope-token and none repeats; a validated list survives the round trip through the
//! space-separated form stored with tokens (`join_scopes` / `split_scopes`); and splitting
//! any string yields non-empty, space-free parts whose joining is the string with runs of
//! spaces collapsed.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tollgate_core::client::{is_scope_token, validate, ClientInput};
use tollgate_core::token::{join_scopes, split_scopes};
use tollgate_core::Policy;

#[derive(Debug, Arbitrary)]
struct Input {
    scopes: Vec<String>,
    parameter: String,
}

fn is_rfc_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fuzz_target!(|i: Input| {
    let input = ClientInput {
        name: Some("fuzz".into()),
        version: Some("1".into()),
        client_type: Some("confidential".into()),
        grant_types: Some(vec!["client_credentials".into()]),
        scopes: Some(i.scopes.clone()),
        ..ClientInput::default()
    };
    if let Ok(settings) = validate(&input, None, Policy::default()) {
        assert_eq!(settings.scopes, i.scopes, "kept as sent, in order");
        for (n, s) in settings.scopes.iter().enumerate() {
            assert!(is_rfc_scope_token(s), "{s:?}");
            assert!(!settings.scopes[..n].contains(s), "duplicate {s:?}");
        }
        assert_eq!(
            split_scopes(&join_scopes(&settings.scopes)),
            settings.scopes
        );
    }
    for s in &i.scopes {
        assert_eq!(is_scope_token(s), is_rfc_scope_token(s), "{s:?}");
    }

    let parts = split_scopes(&i.parameter);
    for p in &parts {
        assert!(!p.is_empty() && !p.contains(' '), "{p:?}");
    }
    let collapsed: Vec<&str> = i.parameter.split(' ').filter(|p| !p.is_empty()).collect();
    assert_eq!(join_scopes(&parts), collapsed.join(" "));
});

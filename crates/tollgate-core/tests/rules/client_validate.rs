//! `client::validate` (SPEC §1), rule by rule: each field's rules with their field name and
//! code, the messages, the policy, updates, warnings, and that every problem is reported
//! in one call. Pure: no store.

use tollgate_core::client::{
    check_redirect_uri, is_scope_token, validate, Client, ClientInput, ClientSettings, ClientType,
    GrantType, LimitInput, RefreshCount, TokenLifetime, DESCRIPTION_MAX, LIFETIME_MAX, NAME_MAX,
    REDIRECT_URIS_MAX, REDIRECT_URI_LEN_MAX, REFRESH_COUNT_MAX, SCOPES_MAX, SCOPE_LEN_MAX,
    VERSION_MAX,
};
use tollgate_core::{ClientId, FieldError, Policy, ScopeSet};

/// What an administrator types becomes a number only when it is one; the rules then
/// name what is wrong with it.
#[test]
fn typed_limits_are_numbers_or_text() {
    assert_eq!(LimitInput::typed(" 3600 "), LimitInput::Number(Some(3600)));
    assert_eq!(LimitInput::typed("-1"), LimitInput::Number(Some(-1)));
    assert_eq!(LimitInput::typed("never"), LimitInput::keyword("never"));
    assert_eq!(LimitInput::typed("1.5"), LimitInput::Text("1.5".into()));
    let input = |l: LimitInput| ClientInput {
        access_token_lifetime: Some(l),
        ..Default::default()
    };
    let message = |l: LimitInput| {
        validate(&input(l), None, Policy::default())
            .unwrap_err()
            .into_iter()
            .find(|e| e.field == "access_token_lifetime")
            .map(|e| (e.code, e.message))
    };
    assert_eq!(
        message(LimitInput::Text("forever".into())),
        Some((
            "invalid",
            format!("access_token_lifetime must be \"never\" or a whole number of seconds from 1 to {LIFETIME_MAX}, not \"forever\"")
        ))
    );
    assert_eq!(
        message(LimitInput::Other("true".into())).map(|m| m.1.ends_with("not true")),
        Some(true)
    );
    assert_eq!(
        message(LimitInput::Number(None)).map(|m| m.0),
        Some("out_of_range")
    );
}

fn input() -> ClientInput {
    ClientInput {
        name: Some("App".into()),
        version: Some("1.0".into()),
        client_type: Some("confidential".into()),
        grant_types: Some(vec!["client_credentials".into()]),
        ..Default::default()
    }
}

fn codes(r: Result<ClientSettings, Vec<FieldError>>) -> Vec<(String, &'static str)> {
    r.err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.field, e.code))
        .collect()
}

#[test]
fn defaults_apply() {
    let s = validate(&input(), None, Policy::default()).unwrap();
    assert_eq!(s.access_token_lifetime, TokenLifetime::Seconds(3600));
    assert_eq!(s.refresh_count, RefreshCount::Limited(0));
    assert!(s.active);
    assert!(s.scopes.is_empty());
    assert_eq!(s.description, None);
}

#[test]
fn all_errors_are_reported_together() {
    let bad = ClientInput {
        name: Some("  ".into()),
        version: Some("x".repeat(33)),
        client_type: Some("secret".into()),
        grant_types: Some(vec!["magic".into()]),
        access_token_lifetime: Some(LimitInput::Number(Some(0))),
        refresh_count: Some(LimitInput::Number(Some(-1))),
        ..Default::default()
    };
    let c = codes(validate(&bad, None, Policy::default()));
    assert_eq!(
        c,
        vec![
            ("name".into(), "blank"),
            ("version".into(), "too_long"),
            ("type".into(), "invalid"),
            ("grant_types[0]".into(), "invalid"),
            ("access_token_lifetime".into(), "out_of_range"),
            ("refresh_count".into(), "out_of_range"),
        ]
    );
}

#[test]
fn redirect_uri_rules() {
    assert!(check_redirect_uri("https://app.example.com/cb").is_ok());
    assert!(check_redirect_uri("http://localhost:3000/cb").is_ok());
    assert!(check_redirect_uri("http://127.0.0.1/cb").is_ok());
    assert!(check_redirect_uri("http://[::1]:8080/cb").is_ok());
    assert!(check_redirect_uri("com.example.app:/cb").is_ok());
    assert_eq!(
        check_redirect_uri("http://example.com/cb").unwrap_err().0,
        "insecure_scheme"
    );
    assert_eq!(
        check_redirect_uri("https://a.example/cb#x").unwrap_err().0,
        "fragment"
    );
    assert_eq!(check_redirect_uri("/cb").unwrap_err().0, "not_absolute");
    assert_eq!(
        check_redirect_uri("javascript:alert(1)").unwrap_err().0,
        "insecure_scheme"
    );
    assert_eq!(
        check_redirect_uri("http://localhost.evil.com/cb")
            .unwrap_err()
            .0,
        "insecure_scheme"
    );
}

#[test]
fn scope_tokens_follow_rfc6749() {
    assert!(is_scope_token("api:read"));
    assert!(!is_scope_token("a b"));
    assert!(!is_scope_token("a\"b"));
    assert!(!is_scope_token("a\\b"));
    assert!(!is_scope_token(""));
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn list(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|s| (*s).to_owned()).collect())
}

/// The rules of one field at a time, from a valid input: each row changes the input and
/// names every (field, code) it must now fail with, in order (empty: still valid).
#[test]
fn each_field_rule_has_its_field_and_code() {
    type Case = (
        &'static str,
        Box<dyn Fn(&mut ClientInput)>,
        Vec<(&'static str, &'static str)>,
    );
    let cases: Vec<Case> = vec![
        ("valid", Box::new(|_| {}), vec![]),
        (
            "name missing",
            Box::new(|i| i.name = None),
            vec![("name", "required")],
        ),
        (
            "name blank",
            Box::new(|i| i.name = Some(" \t".into())),
            vec![("name", "blank")],
        ),
        (
            "name at its limit",
            Box::new(|i| i.name = Some(long(NAME_MAX))),
            vec![],
        ),
        (
            "name too long",
            Box::new(|i| i.name = Some(long(NAME_MAX + 1))),
            vec![("name", "too_long")],
        ),
        (
            "name with a zero-width space",
            Box::new(|i| i.name = Some("A\u{200B}pp".into())),
            vec![("name", "invalid_characters")],
        ),
        (
            "name with a control",
            Box::new(|i| i.name = Some("A\u{7}pp".into())),
            vec![("name", "invalid_characters")],
        ),
        (
            "version missing",
            Box::new(|i| i.version = None),
            vec![("version", "required")],
        ),
        (
            "version blank",
            Box::new(|i| i.version = Some(String::new())),
            vec![("version", "blank")],
        ),
        (
            "version at its limit",
            Box::new(|i| i.version = Some(long(VERSION_MAX))),
            vec![],
        ),
        (
            "version too long",
            Box::new(|i| i.version = Some(long(VERSION_MAX + 1))),
            vec![("version", "too_long")],
        ),
        (
            "version with a newline",
            Box::new(|i| i.version = Some("1\n0".into())),
            vec![("version", "invalid_characters")],
        ),
        (
            "description at its limit",
            Box::new(|i| i.description = Some(Some(long(DESCRIPTION_MAX)))),
            vec![],
        ),
        (
            "description too long",
            Box::new(|i| i.description = Some(Some(long(DESCRIPTION_MAX + 1)))),
            vec![("description", "too_long")],
        ),
        (
            "description with newlines and tabs",
            Box::new(|i| i.description = Some(Some("a\nb\tc".into()))),
            vec![],
        ),
        (
            "description with a NUL",
            Box::new(|i| i.description = Some(Some("a\u{0}b".into()))),
            vec![("description", "invalid_characters")],
        ),
        (
            "description with a bidi override",
            Box::new(|i| i.description = Some(Some("a\u{202E}b".into()))),
            vec![("description", "invalid_characters")],
        ),
        (
            "type missing",
            Box::new(|i| i.client_type = None),
            vec![("type", "required")],
        ),
        (
            "type in capitals",
            Box::new(|i| i.client_type = Some("Public".into())),
            vec![("type", "invalid")],
        ),
        (
            "grant_types missing",
            Box::new(|i| i.grant_types = None),
            vec![("grant_types", "required")],
        ),
        (
            "grant_types empty",
            Box::new(|i| i.grant_types = Some(vec![])),
            vec![("grant_types", "empty")],
        ),
        (
            "refresh_token is not registrable",
            Box::new(|i| i.grant_types = list(&["refresh_token"])),
            vec![("grant_types[0]", "invalid")],
        ),
        (
            "each unknown grant by index",
            Box::new(|i| i.grant_types = list(&["client_credentials", "magic", "x"])),
            vec![("grant_types[1]", "invalid"), ("grant_types[2]", "invalid")],
        ),
        (
            "public client with client_credentials",
            Box::new(|i| i.client_type = Some("public".into())),
            vec![("grant_types", "requires_confidential_client")],
        ),
        (
            "public client with code and implicit",
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&["authorization_code", "implicit"]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![],
        ),
        (
            "code grant needs a redirect URI",
            Box::new(|i| i.grant_types = list(&["authorization_code"])),
            vec![("redirect_uris", "required")],
        ),
        (
            "implicit grant needs a redirect URI",
            Box::new(|i| i.grant_types = list(&["implicit"])),
            vec![("redirect_uris", "required")],
        ),
        (
            "an empty list is no redirect URI",
            Box::new(|i| {
                i.grant_types = list(&["authorization_code"]);
                i.redirect_uris = Some(vec![]);
            }),
            vec![("redirect_uris", "required")],
        ),
        (
            "too many redirect URIs, not also required",
            Box::new(|i| {
                i.grant_types = list(&["authorization_code"]);
                i.redirect_uris = Some(
                    (0..=REDIRECT_URIS_MAX)
                        .map(|n| format!("https://a.example/{n}"))
                        .collect(),
                );
            }),
            vec![("redirect_uris", "too_many")],
        ),
        (
            "redirect URIs at their limit",
            Box::new(|i| {
                i.redirect_uris = Some(
                    (0..REDIRECT_URIS_MAX)
                        .map(|n| format!("https://a.example/{n}"))
                        .collect(),
                );
            }),
            vec![],
        ),
        (
            "a bad redirect URI by index, not also required",
            Box::new(|i| {
                i.grant_types = list(&["authorization_code"]);
                i.redirect_uris = list(&["https://a.example/cb", "http://a.example/cb"]);
            }),
            vec![("redirect_uris[1]", "insecure_scheme")],
        ),
        (
            "redirect URI listed twice",
            Box::new(|i| i.redirect_uris = list(&["https://a.example/cb", "https://a.example/cb"])),
            vec![("redirect_uris[1]", "duplicate")],
        ),
        (
            "redirect URI with a fragment",
            Box::new(|i| i.redirect_uris = list(&["https://a.example/cb#x"])),
            vec![("redirect_uris[0]", "fragment")],
        ),
        (
            "relative redirect URI",
            Box::new(|i| i.redirect_uris = list(&["/cb"])),
            vec![("redirect_uris[0]", "not_absolute")],
        ),
        (
            "redirect URI with a space",
            Box::new(|i| i.redirect_uris = list(&["https://a.example/c b"])),
            vec![("redirect_uris[0]", "invalid")],
        ),
        (
            "redirect URI too long",
            Box::new(|i| {
                i.redirect_uris = Some(vec![format!(
                    "https://a.example/{}",
                    long(REDIRECT_URI_LEN_MAX)
                )])
            }),
            vec![("redirect_uris[0]", "too_long")],
        ),
        (
            "too many scopes",
            Box::new(|i| i.scopes = Some((0..=SCOPES_MAX).map(|n| format!("s{n}")).collect())),
            vec![("scopes", "too_many")],
        ),
        (
            "scopes at their limit",
            Box::new(|i| i.scopes = Some((0..SCOPES_MAX).map(|n| format!("s{n}")).collect())),
            vec![],
        ),
        (
            "scope at its length limit",
            Box::new(|i| i.scopes = Some(vec![long(SCOPE_LEN_MAX)])),
            vec![],
        ),
        (
            "scope too long",
            Box::new(|i| i.scopes = Some(vec![long(SCOPE_LEN_MAX + 1)])),
            vec![("scopes[0]", "too_long")],
        ),
        (
            "scope with a space",
            Box::new(|i| i.scopes = list(&["read", "a b"])),
            vec![("scopes[1]", "invalid")],
        ),
        (
            "empty scope",
            Box::new(|i| i.scopes = list(&[""])),
            vec![("scopes[0]", "invalid")],
        ),
        (
            "scope listed twice",
            Box::new(|i| i.scopes = list(&["read", "write", "read"])),
            vec![("scopes[2]", "duplicate")],
        ),
        (
            "lifetime never",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::keyword("never"))),
            vec![],
        ),
        (
            "lifetime 1",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(1)))),
            vec![],
        ),
        (
            "lifetime at its limit",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(LIFETIME_MAX)))),
            vec![],
        ),
        (
            "lifetime 0",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(0)))),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime over the limit",
            Box::new(|i| {
                i.access_token_lifetime = Some(LimitInput::Number(Some(LIFETIME_MAX + 1)))
            }),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime Never",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::keyword("Never"))),
            vec![("access_token_lifetime", "invalid")],
        ),
        (
            "lifetime unlimited",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::keyword("unlimited"))),
            vec![("access_token_lifetime", "invalid")],
        ),
        (
            "lifetime null",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Other("null".into()))),
            vec![("access_token_lifetime", "invalid")],
        ),
        (
            "refresh count unlimited",
            Box::new(|i| i.refresh_count = Some(LimitInput::keyword("unlimited"))),
            vec![],
        ),
        (
            "refresh count 0",
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(Some(0)))),
            vec![],
        ),
        (
            "refresh count at its limit",
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(Some(REFRESH_COUNT_MAX)))),
            vec![],
        ),
        (
            "refresh count over the limit",
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(Some(REFRESH_COUNT_MAX + 1)))),
            vec![("refresh_count", "out_of_range")],
        ),
        (
            "refresh count not a whole number",
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(None))),
            vec![("refresh_count", "out_of_range")],
        ),
        (
            "refresh count never",
            Box::new(|i| i.refresh_count = Some(LimitInput::keyword("never"))),
            vec![("refresh_count", "invalid")],
        ),
        (
            "refresh count true",
            Box::new(|i| i.refresh_count = Some(LimitInput::Other("true".into()))),
            vec![("refresh_count", "invalid")],
        ),
        // Rows moved from the HTTP suite (api/client_rules): the same rules, more values.
        (
            "name empty",
            Box::new(|i| i.name = Some(String::new())),
            vec![("name", "blank")],
        ),
        (
            "name of tabs, spaces and a newline",
            Box::new(|i| i.name = Some("\t \n ".into())),
            vec![("name", "blank")],
        ),
        (
            "name of two-byte characters at its limit",
            Box::new(|i| i.name = Some("é".repeat(NAME_MAX))),
            vec![],
        ),
        (
            "name of two-byte characters too long",
            Box::new(|i| i.name = Some("é".repeat(NAME_MAX + 1))),
            vec![("name", "too_long")],
        ),
        (
            "name at its limit once trimmed",
            Box::new(|i| i.name = Some(format!("   {}   ", long(NAME_MAX)))),
            vec![],
        ),
        (
            "version of spaces",
            Box::new(|i| i.version = Some("  ".into())),
            vec![("version", "blank")],
        ),
        (
            "version of a tab and a newline",
            Box::new(|i| i.version = Some("\t\n".into())),
            vec![("version", "blank")],
        ),
        (
            "version of two-byte characters at its limit",
            Box::new(|i| i.version = Some("ß".repeat(VERSION_MAX))),
            vec![],
        ),
        (
            "version of two-byte characters too long",
            Box::new(|i| i.version = Some("ß".repeat(VERSION_MAX + 1))),
            vec![("version", "too_long")],
        ),
        (
            "version at its limit once trimmed",
            Box::new(|i| i.version = Some(format!("  {}  ", long(VERSION_MAX)))),
            vec![],
        ),
        (
            "description of two-byte characters at its limit",
            Box::new(|i| i.description = Some(Some("ü".repeat(DESCRIPTION_MAX)))),
            vec![],
        ),
        (
            "description of two-byte characters too long",
            Box::new(|i| i.description = Some(Some("ü".repeat(DESCRIPTION_MAX + 1)))),
            vec![("description", "too_long")],
        ),
        (
            "public client with password",
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&["password"]);
            }),
            vec![("grant_types", "requires_confidential_client")],
        ),
        (
            "public client with code and client_credentials",
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&["authorization_code", "client_credentials"]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![("grant_types", "requires_confidential_client")],
        ),
        (
            "public client with implicit and password",
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&["implicit", "password"]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![("grant_types", "requires_confidential_client")],
        ),
        (
            "public client with all four",
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&[
                    "authorization_code",
                    "client_credentials",
                    "password",
                    "implicit",
                ]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![("grant_types", "requires_confidential_client")],
        ),
        (
            "public client with code only",
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&["authorization_code"]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![],
        ),
        (
            "public client with implicit only",
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&["implicit"]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![],
        ),
        (
            "confidential client with all four",
            Box::new(|i| {
                i.grant_types = list(&[
                    "authorization_code",
                    "client_credentials",
                    "password",
                    "implicit",
                ]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![],
        ),
        (
            "confidential client with code only",
            Box::new(|i| {
                i.grant_types = list(&["authorization_code"]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![],
        ),
        (
            "confidential client with implicit only",
            Box::new(|i| {
                i.grant_types = list(&["implicit"]);
                i.redirect_uris = list(&["https://a.example/cb"]);
            }),
            vec![],
        ),
        (
            "password alone needs no redirect URI",
            Box::new(|i| i.grant_types = list(&["password"])),
            vec![],
        ),
        (
            "refresh_token is not registrable, by index",
            Box::new(|i| i.grant_types = list(&["client_credentials", "refresh_token"])),
            vec![("grant_types[1]", "invalid")],
        ),
        (
            "grant types are case-sensitive",
            Box::new(|i| i.grant_types = list(&["client_credentials", "Client_Credentials"])),
            vec![("grant_types[1]", "invalid")],
        ),
        (
            "the device code grant is unknown",
            Box::new(|i| {
                i.grant_types = list(&[
                    "client_credentials",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ])
            }),
            vec![("grant_types[1]", "invalid")],
        ),
        (
            "an empty grant type",
            Box::new(|i| i.grant_types = list(&["client_credentials", ""])),
            vec![("grant_types[1]", "invalid")],
        ),
        (
            "an empty scope list",
            Box::new(|i| i.scopes = Some(vec![])),
            vec![],
        ),
        (
            "lifetime -1",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(-1)))),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime 2^40",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(1 << 40)))),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime of a day",
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(86_400)))),
            vec![],
        ),
        (
            "refresh count 1",
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(Some(1)))),
            vec![],
        ),
        (
            "refresh count of a million",
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(Some(1_000_000)))),
            vec![],
        ),
        (
            "refresh count -1",
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(Some(-1)))),
            vec![("refresh_count", "out_of_range")],
        ),
        (
            "refresh count Unlimited",
            Box::new(|i| i.refresh_count = Some(LimitInput::keyword("Unlimited"))),
            vec![("refresh_count", "invalid")],
        ),
        (
            "refresh count infinite",
            Box::new(|i| i.refresh_count = Some(LimitInput::keyword("infinite"))),
            vec![("refresh_count", "invalid")],
        ),
    ];
    for (name, change, expected) in cases {
        let mut i = input();
        change(&mut i);
        let got = codes(validate(&i, None, Policy::default()));
        let expected: Vec<(String, &str)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_owned(), c))
            .collect();
        assert_eq!(got, expected, "{name}");
    }
}

/// The message of each error names its field (and says how to fix it).
#[test]
fn messages_name_the_field_and_the_rule() {
    let message = |change: &dyn Fn(&mut ClientInput), field: &str| {
        let mut i = input();
        change(&mut i);
        validate(&i, None, Policy::default())
            .unwrap_err()
            .into_iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
            .unwrap_or_default()
    };
    assert_eq!(
        message(&|i| i.name = Some(" ".into()), "name"),
        "name must not be blank"
    );
    assert_eq!(
        message(&|i| i.version = Some("v".repeat(33)), "version"),
        "version must be at most 32 characters"
    );
    assert_eq!(message(&|i| i.name = None, "name"), "name is required");
    assert_eq!(
        message(&|i| i.client_type = Some("secret".into()), "type"),
        "type must be \"confidential\" or \"public\", not \"secret\""
    );
    assert_eq!(
        message(&|i| i.grant_types = Some(vec!["magic".into()]), "grant_types[0]"),
        "unknown grant type \"magic\"; expected authorization_code, client_credentials, password or implicit"
    );
    assert_eq!(
        message(
            &|i| {
                i.client_type = Some("public".into());
                i.grant_types = Some(vec!["client_credentials".into(), "password".into()]);
            },
            "grant_types"
        ),
        "client_credentials and password require a confidential client; a public client may only use authorization_code and implicit"
    );
    assert_eq!(
        message(&|i| i.redirect_uris = Some(vec!["/cb".into()]), "redirect_uris[0]"),
        "redirect URI \"/cb\" is not an absolute URI (expected e.g. https://app.example.com/callback)"
    );
    assert_eq!(
        message(
            &|i| i.scopes = Some(vec!["a".into(), "a".into()]),
            "scopes[1]"
        ),
        "scope \"a\" is listed twice"
    );
    assert_eq!(
        message(
            &|i| i.refresh_count = Some(LimitInput::keyword("lots")),
            "refresh_count"
        ),
        "refresh_count must be \"unlimited\" or a whole number ≥ 0, not \"lots\""
    );
    assert_eq!(
        message(
            &|i| i.redirect_uris = list(&["https://a.example/cb"; 21]),
            "redirect_uris"
        ),
        "at most 20 redirect URIs are allowed"
    );
    assert_eq!(
        message(
            &|i| i.redirect_uris = list(&["https://a.example/cb"; 2]),
            "redirect_uris[1]"
        ),
        "redirect URI \"https://a.example/cb\" is listed twice"
    );
    assert_eq!(
        message(&|i| i.scopes = Some(vec!["s".into(); 101]), "scopes"),
        "at most 100 scopes are allowed"
    );
    assert_eq!(
        message(&|i| i.scopes = list(&["a\"b"]), "scopes[0]"),
        "\"a\\\"b\" is not a valid scope: use printable ASCII without spaces, '\"' or '\\' (RFC 6749 §3.3)"
    );
    assert_eq!(
        message(&|i| i.scopes = Some(vec!["s".repeat(129)]), "scopes[0]"),
        "scope must be at most 128 characters"
    );
    assert_eq!(
        message(
            &|i| i.access_token_lifetime = Some(LimitInput::Number(Some(0))),
            "access_token_lifetime"
        ),
        "access_token_lifetime must be a whole number of seconds from 1 to 315360000, or \"never\""
    );
    assert_eq!(
        message(
            &|i| i.refresh_count = Some(LimitInput::Number(Some(-1))),
            "refresh_count"
        ),
        "refresh_count must be a whole number from 0 to 2147483647, or \"unlimited\""
    );
    assert!(message(
        &|i| i.description = Some(Some("\u{0}".into())),
        "description"
    )
    .starts_with("description "));
}

#[test]
fn values_are_trimmed_and_normalised_and_defaults_fill_the_rest() {
    let i = ClientInput {
        name: Some("  App ".into()),
        version: Some(" 2 ".into()),
        description: Some(Some(" line one\r\nline two ".into())),
        grant_types: Some(vec![
            "client_credentials".into(),
            "client_credentials".into(),
        ]),
        scopes: Some(vec!["write".into(), "read".into()]),
        access_token_lifetime: Some(LimitInput::keyword("never")),
        refresh_count: Some(LimitInput::keyword("unlimited")),
        active: Some(false),
        ..input()
    };
    let s = validate(&i, None, Policy::default()).unwrap();
    assert_eq!(s.name, "App");
    assert_eq!(s.version, "2");
    assert_eq!(s.description.as_deref(), Some("line one\nline two"));
    assert_eq!(s.client_type, ClientType::Confidential);
    assert_eq!(
        s.grant_types.iter().collect::<Vec<_>>(),
        [GrantType::ClientCredentials]
    );
    assert_eq!(s.scopes, ScopeSet::from(["write", "read"]));
    assert!(s.redirect_uris.is_empty());
    assert_eq!(s.access_token_lifetime, TokenLifetime::Never);
    assert_eq!(s.refresh_count, RefreshCount::Unlimited);
    assert!(!s.active);
    let blank = ClientInput {
        description: Some(Some("  ".into())),
        ..input()
    };
    assert_eq!(
        validate(&blank, None, Policy::default())
            .unwrap()
            .description,
        None
    );
}

/// Every field's error at once, in field order, beside the ones of
/// `all_errors_are_reported_together`.
#[test]
fn every_field_fails_in_one_call() {
    let bad = ClientInput {
        name: None,
        version: None,
        description: Some(Some("d".repeat(DESCRIPTION_MAX + 1))),
        client_type: Some("public".into()),
        grant_types: Some(vec!["password".into(), "authorization_code".into()]),
        redirect_uris: Some(vec!["https://a.example/cb#f".into()]),
        scopes: Some(vec!["a\\b".into()]),
        access_token_lifetime: Some(LimitInput::keyword("never")),
        refresh_count: Some(LimitInput::keyword("none")),
        active: None,
    };
    let strict = Policy {
        allow_legacy_grants: false,
        allow_never_expiring_tokens: false,
    };
    assert_eq!(
        codes(validate(&bad, None, strict)),
        [
            ("name", "required"),
            ("version", "required"),
            ("description", "too_long"),
            ("grant_types", "requires_confidential_client"),
            ("grant_types", "forbidden_by_policy"),
            ("redirect_uris[0]", "fragment"),
            ("scopes[0]", "invalid"),
            ("access_token_lifetime", "forbidden_by_policy"),
            ("refresh_count", "invalid"),
        ]
        .map(|(f, c)| (f.to_owned(), c))
    );
}

fn stored(s: ClientSettings) -> Client {
    Client {
        revision: 1,
        ..s.into_client(ClientId::new("c1"))
    }
}

/// SPEC §1 "Legacy options": the policy refuses new legacy grants and never-expiring
/// tokens, names them, and leaves a client that already has them alone.
#[test]
fn policy_refuses_new_legacy_settings_only() {
    let strict = Policy {
        allow_legacy_grants: false,
        allow_never_expiring_tokens: false,
    };
    let message = |i: &ClientInput, existing: Option<&Client>| {
        validate(i, existing, strict)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.code, e.message))
            .collect::<Vec<_>>()
    };
    let grants = |g: &[&str]| ClientInput {
        grant_types: Some(g.iter().map(|s| (*s).to_owned()).collect()),
        redirect_uris: Some(vec!["https://a.example/cb".into()]),
        ..input()
    };
    let forbidden = |m: &str| {
        vec![(
            "grant_types".to_owned(),
            "forbidden_by_policy",
            format!("{m} disabled on this server (policy.allow_legacy_grants = false)"),
        )]
    };
    assert_eq!(
        message(&grants(&["password"]), None),
        forbidden("the password grant is")
    );
    assert_eq!(
        message(&grants(&["implicit", "password"]), None),
        forbidden("the password and implicit grants are")
    );
    assert_eq!(message(&grants(&["authorization_code"]), None), vec![]);
    let never = ClientInput {
        access_token_lifetime: Some(LimitInput::keyword("never")),
        ..input()
    };
    assert_eq!(
        message(&never, None)
            .into_iter()
            .map(|e| (e.0, e.1))
            .collect::<Vec<_>>(),
        [("access_token_lifetime".to_owned(), "forbidden_by_policy")]
    );
    // A client registered before the policy keeps what it has, but gets nothing new.
    let legacy = ClientInput {
        access_token_lifetime: Some(LimitInput::keyword("never")),
        ..grants(&["password"])
    };
    let old = stored(validate(&legacy, None, Policy::default()).unwrap());
    assert_eq!(message(&legacy, Some(&old)), vec![]);
    assert_eq!(
        message(&grants(&["password", "implicit"]), Some(&old)),
        forbidden("the implicit grant is")
    );
}

#[test]
fn an_update_changes_only_what_it_names_and_never_the_name() {
    let full = ClientInput {
        description: Some(Some("about".into())),
        grant_types: Some(vec!["authorization_code".into()]),
        redirect_uris: Some(vec!["https://a.example/cb".into()]),
        scopes: Some(vec!["read".into()]),
        refresh_count: Some(LimitInput::Number(Some(3))),
        active: Some(false),
        ..input()
    };
    let before = validate(&full, None, Policy::default()).unwrap();
    let old = stored(before.clone());
    let same = validate(&ClientInput::default(), Some(&old), Policy::default());
    assert_eq!(same, Ok(before.clone()));
    let renamed = ClientInput {
        name: Some("Other".into()),
        ..Default::default()
    };
    assert_eq!(
        codes(validate(&renamed, Some(&old), Policy::default())),
        [("name".to_owned(), "immutable")]
    );
    let spaced = ClientInput {
        name: Some(" App ".into()),
        version: Some("2".into()),
        description: Some(None),
        ..Default::default()
    };
    let s = validate(&spaced, Some(&old), Policy::default()).unwrap();
    assert_eq!(
        s,
        ClientSettings {
            version: "2".into(),
            description: None,
            ..before.clone()
        }
    );
    // Rules that join fields see the stored value of the field not sent.
    let public = ClientInput {
        client_type: Some("public".into()),
        grant_types: Some(vec!["client_credentials".into()]),
        ..Default::default()
    };
    assert_eq!(
        codes(validate(&public, Some(&old), Policy::default())),
        [("grant_types".to_owned(), "requires_confidential_client")]
    );
    let no_uris = ClientInput {
        redirect_uris: Some(vec![]),
        ..Default::default()
    };
    assert_eq!(
        codes(validate(&no_uris, Some(&old), Policy::default())),
        [("redirect_uris".to_owned(), "required")]
    );
}

/// SPEC §1 warnings: each legal but discouraged setting, and none for a plain client.
#[test]
fn warnings_name_each_discouraged_setting() {
    let cases: [(&[&str], &str, &str, &[&str]); 5] = [
        (&["authorization_code"], "3600", "3", &[]),
        (&["implicit"], "3600", "0", &["legacy_implicit_grant"]),
        (&["password"], "3600", "0", &["legacy_password_grant"]),
        (
            &["authorization_code"],
            "never",
            "0",
            &["never_expiring_tokens"],
        ),
        (
            &["client_credentials", "password", "implicit"],
            "never",
            "unlimited",
            &[
                "legacy_implicit_grant",
                "legacy_password_grant",
                "never_expiring_tokens",
                "refresh_without_authorization_code",
            ],
        ),
    ];
    for (grants, lifetime, refresh, expected) in cases {
        let i = ClientInput {
            grant_types: Some(grants.iter().map(|s| (*s).to_owned()).collect()),
            redirect_uris: Some(vec!["https://a.example/cb".into()]),
            access_token_lifetime: Some(LimitInput::typed(lifetime)),
            refresh_count: Some(LimitInput::typed(refresh)),
            ..input()
        };
        let c = stored(validate(&i, None, Policy::default()).unwrap());
        let w = c.warnings();
        let got: Vec<&str> = w.iter().map(|w| w.code).collect();
        assert_eq!(got, expected, "{grants:?} {lifetime} {refresh}");
        for w in &w {
            let field = match w.code {
                "never_expiring_tokens" => "access_token_lifetime",
                "refresh_without_authorization_code" => "refresh_count",
                _ => "grant_types",
            };
            assert_eq!(w.field, field);
        }
    }
}

/// Every redirect URI the HTTP suite once registered: the good ones are kept as given, in
/// order (matching is exact comparison); each bad one is named by its position and code.
#[test]
fn redirect_uris_are_kept_as_given_and_each_bad_one_has_its_code() {
    let good = [
        "https://app.example.com/callback",
        "https://app.example.com/callback/",
        "https://app.example.com/cb?tenant=42",
        "https://app.example.com:8443/cb",
        "http://localhost/cb",
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://127.0.0.1:8080/oauth/cb",
        "http://[::1]/cb",
        "http://[::1]:9000/cb",
        "com.example.app:/oauth2redirect",
        "com.example.app:/cb",
    ];
    let with_uris = |uris: &[&str]| ClientInput {
        grant_types: list(&["authorization_code"]),
        redirect_uris: list(uris),
        ..input()
    };
    let s = validate(&with_uris(&good), None, Policy::default()).unwrap();
    assert_eq!(s.redirect_uris, good.map(str::to_owned));
    let bad = [
        // plain http off loopback
        ("http://app.example.com/cb", "insecure_scheme"),
        ("http://10.0.0.1/cb", "insecure_scheme"),
        ("http://localhost.evil.example/cb", "insecure_scheme"),
        ("http://127.0.0.1.evil.example/cb", "insecure_scheme"),
        // fragments, on every kind of URI
        ("https://app.example.com/cb#frag", "fragment"),
        ("https://app.example.com/cb#", "fragment"),
        ("http://localhost/cb#x", "fragment"),
        ("com.example.app:/cb#x", "fragment"),
        // not absolute
        ("/callback", "not_absolute"),
        ("//app.example.com/cb", "not_absolute"),
        ("app.example.com/callback", "not_absolute"),
        ("", "not_absolute"),
        // schemes that are neither https, loopback http, nor private-use
        ("javascript:alert(1)", "insecure_scheme"),
        ("data:text/html,hello", "insecure_scheme"),
        ("file:///etc/passwd", "insecure_scheme"),
        ("ftp://files.example.com/cb", "insecure_scheme"),
        // not a URI at all
        ("https://app.example.com/c b", "invalid"),
    ];
    for (uri, code) in bad {
        assert_eq!(
            codes(validate(&with_uris(&[uri]), None, Policy::default())),
            [("redirect_uris[0]".to_owned(), code)],
            "{uri:?}"
        );
        assert_eq!(
            codes(validate(
                &with_uris(&["https://app.example.com/callback", uri]),
                None,
                Policy::default()
            )),
            [("redirect_uris[1]".to_owned(), code)],
            "{uri:?} second"
        );
    }
}

/// RFC 6749 §3.3 scope tokens: the good ones kept as given, in order; each bad one named.
#[test]
fn scopes_are_kept_as_given_and_each_bad_one_is_invalid() {
    // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    let good = [
        "api:read",
        "openid",
        "!",
        "~",
        "#tag",
        "a[b]",
        "https://api.example.com/orders.write",
        "x{}|^`",
    ];
    let with_scopes = |scopes: &[&str]| ClientInput {
        scopes: list(scopes),
        ..input()
    };
    let s = validate(&with_scopes(&good), None, Policy::default()).unwrap();
    assert_eq!(s.scopes, good);
    for bad in [
        "read write",
        "",
        "a\"b",
        "a\\b",
        "café",
        "tab\there",
        "new\nline",
        " leading",
        "\u{7f}",
    ] {
        assert_eq!(
            codes(validate(
                &with_scopes(&["ok", bad]),
                None,
                Policy::default()
            )),
            [("scopes[1]".to_owned(), "invalid")],
            "{bad:?}"
        );
    }
}

/// SPEC §1: every grant set with a redirecting grant needs a redirect URI, for either
/// client type, whether the list is left out or empty.
#[test]
fn every_redirecting_grant_set_needs_a_redirect_uri() {
    let needing: [&[&str]; 3] = [
        &["authorization_code"],
        &["implicit"],
        &["authorization_code", "implicit"],
    ];
    for grants in needing {
        for client_type in ["public", "confidential"] {
            for uris in [None, Some(vec![])] {
                let i = ClientInput {
                    client_type: Some(client_type.into()),
                    grant_types: list(grants),
                    redirect_uris: uris.clone(),
                    ..input()
                };
                assert_eq!(
                    codes(validate(&i, None, Policy::default())),
                    [("redirect_uris".to_owned(), "required")],
                    "{grants:?} {client_type} {uris:?}"
                );
            }
        }
    }
}

/// The rules on a change (PATCH), one row a case against a stored client: the same rules
/// as on creation, seeing the stored value of every field not sent.
#[test]
fn update_rules_one_row_a_case() {
    let stored_input = ClientInput {
        name: Some("Original".into()),
        scopes: Some(vec!["api:read".into()]),
        ..input()
    };
    let cc = stored(validate(&stored_input, None, Policy::default()).unwrap());
    let public_input = ClientInput {
        name: Some("Spa".into()),
        client_type: Some("public".into()),
        grant_types: list(&["authorization_code"]),
        redirect_uris: list(&["https://app.example.com/callback"]),
        ..input()
    };
    let spa = stored(validate(&public_input, None, Policy::default()).unwrap());
    type Case = (
        &'static str,
        bool,
        Box<dyn Fn(&mut ClientInput)>,
        Vec<(&'static str, &'static str)>,
    );
    // (case, against the public client, the change, the errors)
    let cases: Vec<Case> = vec![
        ("nothing", false, Box::new(|_| {}), vec![]),
        (
            "rename",
            false,
            Box::new(|i| i.name = Some("Renamed".into())),
            vec![("name", "immutable")],
        ),
        (
            "a change of case is a rename",
            false,
            Box::new(|i| i.name = Some("ORIGINAL".into())),
            vec![("name", "immutable")],
        ),
        (
            "the same name in lower case",
            false,
            Box::new(|i| i.name = Some("original".into())),
            vec![("name", "immutable")],
        ),
        (
            "rename with an acceptable change",
            false,
            Box::new(|i| {
                i.name = Some("Renamed".into());
                i.description = Some(Some("also changed".into()));
            }),
            vec![("name", "immutable")],
        ),
        (
            "rename with a new version",
            false,
            Box::new(|i| {
                i.name = Some("Original 2".into());
                i.version = Some("9.9".into());
            }),
            vec![("name", "immutable")],
        ),
        (
            "the description alone",
            false,
            Box::new(|i| i.description = Some(Some("still editable".into()))),
            vec![],
        ),
        (
            "version blank",
            false,
            Box::new(|i| i.version = Some(" ".into())),
            vec![("version", "blank")],
        ),
        (
            "version too long",
            false,
            Box::new(|i| i.version = Some("1".repeat(VERSION_MAX + 1))),
            vec![("version", "too_long")],
        ),
        (
            "description too long",
            false,
            Box::new(|i| i.description = Some(Some("x".repeat(DESCRIPTION_MAX + 1)))),
            vec![("description", "too_long")],
        ),
        (
            "grant_types empty",
            false,
            Box::new(|i| i.grant_types = Some(vec![])),
            vec![("grant_types", "empty")],
        ),
        (
            "an unknown grant by index",
            false,
            Box::new(|i| i.grant_types = list(&["password", "refresh_token"])),
            vec![("grant_types[1]", "invalid")],
        ),
        (
            "password alone",
            false,
            Box::new(|i| i.grant_types = list(&["password"])),
            vec![],
        ),
        (
            "public, keeping client_credentials",
            false,
            Box::new(|i| i.client_type = Some("public".into())),
            vec![("grant_types", "requires_confidential_client")],
        ),
        (
            "adding the code grant without a redirect URI",
            false,
            Box::new(|i| i.grant_types = list(&["client_credentials", "authorization_code"])),
            vec![("redirect_uris", "required")],
        ),
        (
            "adding implicit without a redirect URI",
            false,
            Box::new(|i| i.grant_types = list(&["client_credentials", "implicit"])),
            vec![("redirect_uris", "required")],
        ),
        (
            "adding the code grant with a redirect URI",
            false,
            Box::new(|i| {
                i.grant_types = list(&["client_credentials", "authorization_code"]);
                i.redirect_uris = list(&["https://app.example.com/callback"]);
            }),
            vec![],
        ),
        (
            "a bad redirect URI by index",
            false,
            Box::new(|i| {
                i.redirect_uris = list(&[
                    "https://app.example.com/callback",
                    "https://app.example.com/x#y",
                ])
            }),
            vec![("redirect_uris[1]", "fragment")],
        ),
        (
            "a bad scope",
            false,
            Box::new(|i| i.scopes = list(&["a b"])),
            vec![("scopes[0]", "invalid")],
        ),
        (
            "new scopes",
            false,
            Box::new(|i| i.scopes = list(&["orders:read", "orders:write"])),
            vec![],
        ),
        (
            "no scopes",
            false,
            Box::new(|i| i.scopes = Some(vec![])),
            vec![],
        ),
        (
            "lifetime 0",
            false,
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(0)))),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime -1",
            false,
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(-1)))),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime over the limit",
            false,
            Box::new(|i| {
                i.access_token_lifetime = Some(LimitInput::Number(Some(LIFETIME_MAX + 1)))
            }),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime 2^40",
            false,
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::Number(Some(1 << 40)))),
            vec![("access_token_lifetime", "out_of_range")],
        ),
        (
            "lifetime Never",
            false,
            Box::new(|i| i.access_token_lifetime = Some(LimitInput::keyword("Never"))),
            vec![("access_token_lifetime", "invalid")],
        ),
        (
            "refresh count -1",
            false,
            Box::new(|i| i.refresh_count = Some(LimitInput::Number(Some(-1)))),
            vec![("refresh_count", "out_of_range")],
        ),
        (
            "refresh count Unlimited",
            false,
            Box::new(|i| i.refresh_count = Some(LimitInput::keyword("Unlimited"))),
            vec![("refresh_count", "invalid")],
        ),
        (
            "refresh count infinite",
            false,
            Box::new(|i| i.refresh_count = Some(LimitInput::keyword("infinite"))),
            vec![("refresh_count", "invalid")],
        ),
        (
            "public client adding client_credentials",
            true,
            Box::new(|i| i.grant_types = list(&["authorization_code", "client_credentials"])),
            vec![("grant_types", "requires_confidential_client")],
        ),
        (
            "public client removing its last redirect URI",
            true,
            Box::new(|i| i.redirect_uris = Some(vec![])),
            vec![("redirect_uris", "required")],
        ),
        (
            "public client re-stating its type, adding implicit",
            true,
            Box::new(|i| {
                i.client_type = Some("public".into());
                i.grant_types = list(&["authorization_code", "implicit"]);
            }),
            vec![],
        ),
    ];
    for (name, on_public, change, expected) in cases {
        let mut i = ClientInput::default();
        change(&mut i);
        let existing = if on_public { &spa } else { &cc };
        let got = codes(validate(&i, Some(existing), Policy::default()));
        let expected: Vec<(String, &str)> = expected
            .into_iter()
            .map(|(f, c)| (f.to_owned(), c))
            .collect();
        assert_eq!(got, expected, "{name}");
    }
    // A changed version is trimmed like a new one.
    let v = ClientInput {
        version: Some(" 2.0 ".into()),
        ..Default::default()
    };
    assert_eq!(
        validate(&v, Some(&cc), Policy::default()).unwrap().version,
        "2.0"
    );
}

/// SPEC §1 "Legacy options", switch by switch: each switch refuses only its own setting,
/// for new clients and for changes, and a client that has the setting keeps it.
#[test]
fn each_policy_switch_refuses_only_its_own_setting() {
    let no_legacy = Policy {
        allow_legacy_grants: false,
        allow_never_expiring_tokens: true,
    };
    let no_never = Policy {
        allow_legacy_grants: true,
        allow_never_expiring_tokens: false,
    };
    let uri = || list(&["https://app.example.com/callback"]);
    let grants = |client_type: &str, g: &[&str]| ClientInput {
        client_type: Some(client_type.into()),
        grant_types: list(g),
        redirect_uris: uri(),
        ..input()
    };
    let lifetime = |l: LimitInput| ClientInput {
        access_token_lifetime: Some(l),
        ..input()
    };
    let forbidden = |field: &str| vec![(field.to_owned(), "forbidden_by_policy")];
    let legacy_message = |i: &ClientInput, existing: Option<&Client>| {
        validate(i, existing, no_legacy)
            .unwrap_err()
            .into_iter()
            .find(|e| e.code == "forbidden_by_policy")
            .map(|e| e.message)
            .unwrap()
    };
    // New clients.
    let implicit_spa = grants("public", &["authorization_code", "implicit"]);
    type Case = (
        &'static str,
        ClientInput,
        Policy,
        Vec<(String, &'static str)>,
    );
    let cases: [Case; 10] = [
        (
            "implicit, no legacy",
            grants("public", &["implicit"]),
            no_legacy,
            forbidden("grant_types"),
        ),
        (
            "code and implicit, no legacy",
            implicit_spa.clone(),
            no_legacy,
            forbidden("grant_types"),
        ),
        (
            "password, no legacy",
            grants("confidential", &["password"]),
            no_legacy,
            forbidden("grant_types"),
        ),
        (
            "code, no legacy",
            grants("public", &["authorization_code"]),
            no_legacy,
            vec![],
        ),
        ("client credentials, no legacy", input(), no_legacy, vec![]),
        (
            "never, no legacy",
            lifetime(LimitInput::keyword("never")),
            no_legacy,
            vec![],
        ),
        (
            "never, no never",
            lifetime(LimitInput::keyword("never")),
            no_never,
            forbidden("access_token_lifetime"),
        ),
        (
            "the longest finite lifetime, no never",
            lifetime(LimitInput::Number(Some(LIFETIME_MAX))),
            no_never,
            vec![],
        ),
        (
            "implicit, no never",
            grants("public", &["implicit"]),
            no_never,
            vec![],
        ),
        (
            "password, no never",
            grants("confidential", &["password"]),
            no_never,
            vec![],
        ),
    ];
    for (name, i, policy, expected) in cases {
        assert_eq!(codes(validate(&i, None, policy)), expected, "{name}");
    }
    assert!(legacy_message(&grants("public", &["implicit"]), None).contains("implicit"));
    assert!(legacy_message(&implicit_spa, None).contains("implicit"));
    assert!(legacy_message(&grants("confidential", &["password"]), None).contains("password"));
    let never_message = validate(&lifetime(LimitInput::keyword("never")), None, no_never)
        .unwrap_err()
        .remove(0)
        .message;
    assert!(!never_message.is_empty());

    // Changes to clients registered before the switch.
    let change = |f: &dyn Fn(&mut ClientInput)| {
        let mut i = ClientInput::default();
        f(&mut i);
        i
    };
    let old = |i: ClientInput| stored(validate(&i, None, Policy::default()).unwrap());
    let spa = old(implicit_spa.clone());
    let code_only = old(grants("public", &["authorization_code"]));
    let pw = old(grants("confidential", &["password"]));
    let forever = old(lifetime(LimitInput::keyword("never")));
    let finite = old(lifetime(LimitInput::Number(Some(LIFETIME_MAX))));
    type Change<'a> = (
        &'a str,
        ClientInput,
        &'a Client,
        Policy,
        Vec<(String, &'a str)>,
    );
    let changes: [Change; 9] = [
        (
            "an old implicit client edits its description",
            change(&|i| i.description = Some(Some("still here".into()))),
            &spa,
            no_legacy,
            vec![],
        ),
        (
            "an old implicit client re-states its grants with other changes",
            change(&|i| {
                i.scopes = list(&["profile"]);
                i.redirect_uris = list(&[
                    "https://app.example.com/callback",
                    "http://localhost:3000/cb",
                ]);
                i.refresh_count = Some(LimitInput::Number(Some(3)));
                i.grant_types = list(&["authorization_code", "implicit"]);
            }),
            &spa,
            no_legacy,
            vec![],
        ),
        (
            "an old password client changes version and active",
            change(&|i| {
                i.version = Some("1.1".into());
                i.active = Some(false);
            }),
            &pw,
            no_legacy,
            vec![],
        ),
        (
            "an old password client adds implicit",
            change(&|i| i.grant_types = list(&["password", "implicit"])),
            &pw,
            no_legacy,
            forbidden("grant_types"),
        ),
        (
            "a code client adds implicit",
            change(&|i| i.grant_types = list(&["authorization_code", "implicit"])),
            &code_only,
            no_legacy,
            forbidden("grant_types"),
        ),
        (
            "an old never client edits description and scopes",
            change(&|i| {
                i.description = Some(Some("edited".into()));
                i.scopes = list(&["x"]);
            }),
            &forever,
            no_never,
            vec![],
        ),
        (
            "an old never client re-states never",
            change(&|i| i.access_token_lifetime = Some(LimitInput::keyword("never"))),
            &forever,
            no_never,
            vec![],
        ),
        (
            "a finite client asks for never",
            change(&|i| i.access_token_lifetime = Some(LimitInput::keyword("never"))),
            &finite,
            no_never,
            forbidden("access_token_lifetime"),
        ),
        (
            "an old never client given a finite lifetime",
            change(&|i| i.access_token_lifetime = Some(LimitInput::Number(Some(3600)))),
            &forever,
            no_never,
            vec![],
        ),
    ];
    for (name, i, existing, policy, expected) in changes {
        assert_eq!(
            codes(validate(&i, Some(existing), policy)),
            expected,
            "{name}"
        );
    }
}

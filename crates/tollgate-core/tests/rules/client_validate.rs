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

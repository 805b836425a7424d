//! The authorize endpoint: errors as page or redirect, PKCE, the implicit grant.

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// Errors: page versus redirect
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_or_inactive_client_or_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(
    s: TestServer,
) {
    let (id, _) = client(&s, code_client("Pages")).await;
    let (inactive, _) = client(&s, code_client("Inactive")).await;
    let res = s
        .patch(&format!("/clients/{inactive}"), &json!({"active": false}))
        .await;
    assert_eq!(res.status(), 200);

    let cases: Vec<(&str, String)> = vec![
        (
            "unknown client",
            authorize_url(&[
                ("response_type", "code"),
                ("client_id", "no-such-client"),
                ("redirect_uri", REDIRECT),
                ("state", "st-1"),
            ]),
        ),
        (
            "missing client_id",
            authorize_url(&[
                ("response_type", "code"),
                ("redirect_uri", REDIRECT),
                ("state", "st-1"),
            ]),
        ),
        (
            "inactive client",
            authorize_url(&[
                ("response_type", "code"),
                ("client_id", &inactive),
                ("redirect_uri", REDIRECT),
                ("state", "st-1"),
            ]),
        ),
        (
            "unregistered redirect_uri",
            authorize_url(&[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", "https://evil.example/callback"),
                ("state", "st-1"),
            ]),
        ),
        (
            "redirect_uri differing only by a trailing slash",
            authorize_url(&[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", &format!("{REDIRECT}/")),
                ("state", "st-1"),
            ]),
        ),
        (
            "redirect_uri with an extra query",
            authorize_url(&[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", &format!("{REDIRECT}?x=1")),
                ("state", "st-1"),
            ]),
        ),
        // Even with another error in the request: the redirect URI is checked first.
        (
            "unregistered redirect_uri with a bad response_type",
            authorize_url(&[
                ("response_type", "magic"),
                ("client_id", &id),
                ("redirect_uri", "https://evil.example/callback"),
                ("state", "st-1"),
            ]),
        ),
    ];
    for (what, url) in cases {
        let body = expect_error_page(raw_get(&s, &url).await, what).await;
        assert!(!body.contains("evil.example"), "{what}: {body}");
    }
    // A signed-in user gets the same page (the session changes nothing).
    s.create_user(ALICE.0, ALICE.1).await;
    let browser = Browser::new(&s.base);
    browser.login(ALICE.0, ALICE.1).await;
    let res = browser
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", &inactive),
            ("redirect_uri", REDIRECT),
        ]))
        .await;
    expect_error_page(res, "inactive client, signed in").await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_uri_may_be_omitted_only_when_the_client_has_exactly_one(s: TestServer) {
    s.create_user(ALICE.0, ALICE.1).await;
    let (one, _) = client(&s, code_client("One URI")).await;
    let mut several = code_client("Two URIs");
    several["redirect_uris"] = json!([REDIRECT, REDIRECT_2]);
    let (two, _) = client(&s, several).await;

    // Several registered, none given: error page, no redirect.
    let res = raw_get(
        &s,
        &authorize_url(&[
            ("response_type", "code"),
            ("client_id", &two),
            ("state", "st-1"),
        ]),
    )
    .await;
    expect_error_page(res, "no redirect_uri, several registered").await;

    // Exactly one registered, none given: the flow goes to that one.
    let browser = Browser::new(&s.base);
    let out = browser
        .authorize(
            &authorize_url(&[
                ("response_type", "code"),
                ("client_id", &one),
                ("state", "st-1"),
            ]),
            Some(ALICE),
            true,
        )
        .await;
    let Outcome::Redirect(loc) = out else {
        panic!("expected a redirect: {out:?}");
    };
    assert!(loc.starts_with(REDIRECT), "{loc}");
    let p = params_of(&loc, false);
    assert!(p.contains_key("code"), "{loc}");
    assert_eq!(p["state"], "st-1");

    // The second URI of the client with two is used when asked for.
    let out = browser
        .authorize(
            &authorize_url(&[
                ("response_type", "code"),
                ("client_id", &two),
                ("redirect_uri", REDIRECT_2),
                ("state", "st-1"),
            ]),
            Some(ALICE),
            true,
        )
        .await;
    let Outcome::Redirect(loc) = out else {
        panic!("expected a redirect: {out:?}");
    };
    assert!(loc.starts_with(REDIRECT_2), "{loc}");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_authorize_errors_redirect_with_error_description_and_state_in_the_query(
    s: TestServer,
) {
    let (code_only, _) = client(&s, code_client("Code only")).await;
    let (implicit_only, _) = client(
        &s,
        json!({"name": "Implicit only", "version": "1", "type": "public",
               "grant_types": ["implicit"], "redirect_uris": [REDIRECT], "scopes": ["read"]}),
    )
    .await;
    let with = |cid: &str, extra: &[(&str, &str)]| {
        let mut p = vec![
            ("client_id", cid.to_owned()),
            ("redirect_uri", REDIRECT.to_owned()),
            ("state", "st-1".to_owned()),
        ];
        p.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let borrowed: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
        authorize_url(&borrowed)
    };
    // RFC 6749 §4.1.2.1: a missing required parameter is invalid_request.
    expect_error_redirect(
        &s,
        &with(&code_only, &[]),
        "invalid_request",
        false,
        "missing response_type",
    )
    .await;
    expect_error_redirect(
        &s,
        &with(&code_only, &[("response_type", "id_token")]),
        "unsupported_response_type",
        false,
        "unsupported response_type",
    )
    .await;
    expect_error_redirect(
        &s,
        &with(&implicit_only, &[("response_type", "code")]),
        "unauthorized_client",
        false,
        "code for an implicit-only client",
    )
    .await;
    expect_error_redirect(
        &s,
        &with(
            &code_only,
            &[("response_type", "code"), ("scope", "read admin")],
        ),
        "invalid_scope",
        false,
        "scope outside the client's",
    )
    .await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_request_errors_are_returned_in_the_fragment(s: TestServer) {
    let (code_only, _) = client(&s, code_client("Code only")).await;
    let (implicit, _) = client(
        &s,
        json!({"name": "Implicit", "version": "1", "type": "public",
               "grant_types": ["implicit"], "redirect_uris": [REDIRECT], "scopes": ["read"]}),
    )
    .await;
    expect_error_redirect(
        &s,
        &authorize_url(&[
            ("response_type", "token"),
            ("client_id", &code_only),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
        ]),
        "unauthorized_client",
        true,
        "token for a client without implicit",
    )
    .await;
    expect_error_redirect(
        &s,
        &authorize_url(&[
            ("response_type", "token"),
            ("client_id", &implicit),
            ("redirect_uri", REDIRECT),
            ("scope", "read write"),
            ("state", "st-1"),
        ]),
        "invalid_scope",
        true,
        "implicit with a scope outside the client's",
    )
    .await;
}

// ---------------------------------------------------------------------------------------
// PKCE (RFC 7636)
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_client_without_code_challenge_is_redirected_with_invalid_request(s: TestServer) {
    s.create_user(ALICE.0, ALICE.1).await;
    let (id, _) = client(&s, public_client("SPA")).await;
    let p = expect_error_redirect(
        &s,
        &authorize_url(&[
            ("response_type", "code"),
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
        ]),
        "invalid_request",
        false,
        "public client without PKCE",
    )
    .await;
    assert!(!p.contains_key("code"));
    // The same request with an S256 challenge gets a code.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let browser = Browser::new(&s.base);
    let code = get_code(
        &browser,
        &[
            ("response_type", "code"),
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert!(!code.is_empty());
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_challenge_method_must_be_s256_and_come_with_a_challenge(s: TestServer) {
    // A confidential client, so that no error can come from the public-client rule.
    let (id, _) = client(&s, code_client("Conf")).await;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let plain = verifier.secret().as_str();
    let req = |extra: &[(&'static str, &str)]| {
        let mut p: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
        ];
        p.extend_from_slice(extra);
        authorize_url(&p)
    };
    expect_error_redirect(
        &s,
        &req(&[
            ("code_challenge", plain),
            ("code_challenge_method", "plain"),
        ]),
        "invalid_request",
        false,
        "code_challenge_method=plain",
    )
    .await;
    // RFC 7636 §4.3: no method means plain, which is not supported.
    expect_error_redirect(
        &s,
        &req(&[("code_challenge", challenge.as_str())]),
        "invalid_request",
        false,
        "code_challenge without method",
    )
    .await;
    expect_error_redirect(
        &s,
        &req(&[("code_challenge_method", "S256")]),
        "invalid_request",
        false,
        "code_challenge_method without code_challenge",
    )
    .await;
    expect_error_redirect(
        &s,
        &req(&[
            ("code_challenge", "too-short"),
            ("code_challenge_method", "S256"),
        ]),
        "invalid_request",
        false,
        "malformed code_challenge",
    )
    .await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_verifies_the_pkce_s256_code_verifier(s: TestServer) {
    s.create_user(ALICE.0, ALICE.1).await;
    let (id, _) = client(&s, public_client("SPA")).await;
    let browser = Browser::new(&s.base);
    let code_for = |challenge: String| {
        let id = id.clone();
        let browser = &browser;
        async move {
            get_code(
                browser,
                &[
                    ("response_type", "code"),
                    ("client_id", id.as_str()),
                    ("redirect_uri", REDIRECT),
                    ("state", "st-1"),
                    ("code_challenge", challenge.as_str()),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await
        }
    };
    let redeem = |code: String, verifier: Option<String>| {
        let id = id.clone();
        let s = &s;
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("client_id", id),
                ("code", code),
                ("redirect_uri", REDIRECT.to_owned()),
            ];
            if let Some(v) = verifier {
                form.push(("code_verifier", v));
            }
            let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token_request(s, None, &borrowed).await
        }
    };

    // A challenge in the authorization request, no verifier in the token request.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let code = code_for(challenge.as_str().to_owned()).await;
    let (st, v) = redeem(code, None).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_request")),
        "challenge without verifier: {v}"
    );

    // A well-formed verifier that does not match.
    let (challenge, _) = PkceCodeChallenge::new_random_sha256();
    let (_, other_verifier) = PkceCodeChallenge::new_random_sha256();
    let code = code_for(challenge.as_str().to_owned()).await;
    let (st, v) = redeem(code, Some(other_verifier.secret().clone())).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "wrong verifier: {v}"
    );
    assert!(v.get("access_token").is_none());

    // The verifier itself sent as if it were the challenge (plain) does not pass.
    let (_, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = code_for(verifier.secret().clone()).await;
    let (st, v) = redeem(code, Some(verifier.secret().clone())).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "plain comparison must not be accepted: {v}"
    );

    // The right verifier.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = code_for(challenge.as_str().to_owned()).await;
    let (st, v) = redeem(code, Some(verifier.secret().clone())).await;
    assert_eq!(st, 200, "correct verifier: {v}");
    assert_eq!(
        s.introspect(v["access_token"].as_str().unwrap()).await["active"],
        true
    );

    // A verifier for a code that had no challenge (confidential client): a downgrade.
    let (conf, secret) = client(&s, code_client("Conf")).await;
    let secret = secret.unwrap();
    let code = code_of(&browser, &conf).await;
    let (_, verifier) = PkceCodeChallenge::new_random_sha256();
    let (st, v) = token_request(
        &s,
        Some((&conf, &secret)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret()),
        ],
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "verifier without challenge: {v}"
    );
}

// ---------------------------------------------------------------------------------------
// Implicit grant
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_grant_puts_a_bearer_token_in_the_fragment_and_issues_no_refresh_token(
    s: TestServer,
) {
    s.create_user(ALICE.0, ALICE.1).await;
    // Refresh count set and code grant allowed: still no refresh token for implicit.
    let (id, _) = client(
        &s,
        json!({"name": "Legacy SPA", "version": "1", "type": "public",
               "grant_types": ["authorization_code", "implicit"], "redirect_uris": [REDIRECT],
               "scopes": ["read", "write"], "access_token_lifetime": 900, "refresh_count": 5}),
    )
    .await;
    let browser = Browser::new(&s.base);
    let out = browser
        .authorize(
            &authorize_url(&[
                ("response_type", "token"),
                ("client_id", &id),
                ("redirect_uri", REDIRECT),
                ("scope", "read"),
                ("state", "st-1"),
            ]),
            Some(ALICE),
            true,
        )
        .await;
    let Outcome::Redirect(loc) = out else {
        panic!("expected a redirect: {out:?}");
    };
    assert!(loc.starts_with(REDIRECT), "{loc}");
    let query = params_of(&loc, false);
    assert!(query.is_empty(), "nothing may go in the query: {loc}");
    let f = params_of(&loc, true);
    let token = f
        .get("access_token")
        .unwrap_or_else(|| panic!("no access_token in the fragment: {loc}"));
    assert!(token.len() >= 43, "256-bit token");
    assert_eq!(f.get("token_type").map(String::as_str), Some("Bearer"));
    assert_eq!(f.get("expires_in").map(String::as_str), Some("900"));
    assert_eq!(f.get("scope").map(String::as_str), Some("read"));
    assert_eq!(f.get("state").map(String::as_str), Some("st-1"));
    assert!(
        !f.contains_key("refresh_token"),
        "implicit issues no refresh token: {loc}"
    );
    assert!(!f.contains_key("code"));
    let intro = s.introspect(token).await;
    assert_eq!(intro["active"], true, "{intro}");
    assert_eq!(intro["client_id"], id.as_str());
    assert_eq!(intro["username"], "alice");
    assert_eq!(intro["scope"], "read");
    assert_eq!(
        intro["exp"].as_i64().unwrap() - intro["iat"].as_i64().unwrap(),
        900,
        "{intro}"
    );
    // No refresh token exists for this authorization.
    let list = s
        .state
        .services
        .tokens
        .list(
            &tollgate_core::store::TokenFilter {
                client_id: Some(tollgate_core::ClientId::new(id.clone())),
                ..Default::default()
            },
            None,
            Some(100),
        )
        .await
        .unwrap();
    assert_eq!(list.items.len(), 1, "one access token only");
    assert_eq!(
        list.items[0].token.kind,
        tollgate_core::token::TokenKind::Access
    );
}

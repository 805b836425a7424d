//! The authorize endpoint: errors as page or redirect, the implicit grant.

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

/// RFC 6749 §4.1.2.1 and §4.2.2.1: with a verified redirect URI, an error goes back to it
/// with `error`, `error_description` and `state`, in the query for a code request and in
/// the fragment for an implicit one. Which request gets which error is core's
/// (`authorize::authorize_request_cases`, PKCE included).
#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorize_errors_redirect_with_error_description_and_state_in_the_query_or_fragment(
    s: TestServer,
) {
    let (code_only, _) = client(&s, code_client("Code only")).await;
    // (case, response_type, scope, error, in the fragment)
    let cases = [
        (
            "scope outside the client's",
            "code",
            Some("read admin"),
            "invalid_scope",
            false,
        ),
        (
            "token for a client without implicit",
            "token",
            None,
            "unauthorized_client",
            true,
        ),
    ];
    for (what, response_type, scope, error, fragment) in cases {
        let mut params = vec![
            ("response_type", response_type),
            ("client_id", code_only.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
        ];
        params.extend(scope.map(|sc| ("scope", sc)));
        expect_error_redirect(&s, &authorize_url(&params), error, fragment, what).await;
    }
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

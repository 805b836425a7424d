//! The authorization endpoint and the resource owner's pages (SPEC §2, §3, §9; RFC 6749
//! §4.1 and §4.2, RFC 7636): error pages versus error redirects, PKCE, the implicit grant,
//! consent, the binding of codes, sign-in, sign-out, security headers, and what happens to
//! a user's tokens and sessions when the user is deactivated or gets a new password.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::browser::{hidden_inputs, location, params_of, Browser, Outcome};
use common::{start_with, Options, TestServer};
use oauth2::PkceCodeChallenge;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tollgate_core::audit::Actor;
use tollgate_core::service::UserChange;
use tollgate_core::ManualClock;

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const REDIRECT_2: &str = "http://127.0.0.1:9/other-callback";
const ALICE: (&str, &str) = ("alice", "alice-password");

async fn client(s: &TestServer, body: Value) -> (String, Option<String>) {
    let c = s.create_client(&body).await;
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().map(str::to_owned),
    )
}

/// A confidential client with the authorization code grant (no PKCE required).
fn code_client(name: &str) -> Value {
    json!({
        "name": name, "version": "1", "type": "confidential",
        "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
        "scopes": ["read", "write"],
    })
}

/// A public client: authorization code with mandatory PKCE.
fn public_client(name: &str) -> Value {
    json!({
        "name": name, "version": "1", "type": "public",
        "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
        "scopes": ["read", "write"],
    })
}

/// `/oauth2/authorize?…` with the given parameters, form-encoded.
fn authorize_url(params: &[(&str, &str)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    format!("/oauth2/authorize?{}", ser.finish())
}

/// A GET without cookies and without following redirects.
async fn raw_get(s: &TestServer, path: &str) -> reqwest::Response {
    s.http.get(s.url(path)).send().await.unwrap()
}

/// The authorization endpoint must answer with an HTML error page and must not redirect.
async fn expect_error_page(res: reqwest::Response, n: &str, what: &str) -> String {
    let status = res.status();
    assert!(
        status.is_client_error(),
        "[{n}] {what}: expected a 4xx error page, got {status}"
    );
    assert!(
        res.headers().get("location").is_none(),
        "[{n}] {what}: must not redirect, got Location {:?}",
        res.headers().get("location")
    );
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        ct.starts_with("text/html"),
        "[{n}] {what}: content type {ct}"
    );
    res.text().await.unwrap()
}

/// The authorization endpoint must redirect to `REDIRECT` with `error`, `error_description`
/// and `state`, in the query (code) or the fragment (token). Returns the parameters.
async fn expect_error_redirect(
    s: &TestServer,
    url: &str,
    error: &str,
    fragment: bool,
    what: &str,
) -> HashMap<String, String> {
    let n = s.name();
    let res = raw_get(s, url).await;
    assert!(
        res.status().is_redirection(),
        "[{n}] {what}: expected a redirect, got {} {}",
        res.status(),
        res.text().await.unwrap()
    );
    let loc = location(&res);
    assert!(
        loc.starts_with(REDIRECT),
        "[{n}] {what}: redirect to the client's URI, got {loc}"
    );
    let p = params_of(&loc, fragment);
    assert_eq!(
        p.get("error").map(String::as_str),
        Some(error),
        "[{n}] {what}: {loc}"
    );
    assert!(
        p.get("error_description").is_some_and(|d| !d.is_empty()),
        "[{n}] {what}: error_description missing in {loc}"
    );
    assert_eq!(
        p.get("state").map(String::as_str),
        Some("st-1"),
        "[{n}] {what}: state in {loc}"
    );
    let other = params_of(&loc, !fragment);
    assert!(
        !other.contains_key("error"),
        "[{n}] {what}: the error belongs in the {} only: {loc}",
        if fragment { "fragment" } else { "query" }
    );
    p
}

/// Runs the browser part of the code flow (signing in as alice when asked, allowing
/// consent) and returns the code.
async fn get_code(s: &TestServer, browser: &Browser, params: &[(&str, &str)]) -> String {
    let n = s.name();
    match browser
        .authorize(&authorize_url(params), Some(ALICE), true)
        .await
    {
        Outcome::Redirect(loc) => {
            let p = params_of(&loc, false);
            p.get("code")
                .unwrap_or_else(|| panic!("[{n}] no code in {loc}"))
                .clone()
        }
        Outcome::Page(st, body) => panic!("[{n}] authorize showed a page {st}: {body}"),
    }
}

async fn token_request(
    s: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let res = s.oauth_post("/oauth2/token", basic, form).await;
    let st = res.status().as_u16();
    (st, res.json().await.unwrap())
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn session_cookie(res: &reqwest::Response) -> Option<String> {
    set_cookies(res)
        .into_iter()
        .find(|c| c.starts_with("tollgate_session=") && !c.starts_with("tollgate_session=;"))
        .map(|c| {
            c.trim_start_matches("tollgate_session=")
                .split(';')
                .next()
                .unwrap()
                .to_owned()
        })
        .filter(|v| !v.is_empty())
}

/// The sign-in form's fields (csrf, return_to) plus the credentials.
async fn login_form(browser: &Browser, user: &str, pw: &str) -> Vec<(String, String)> {
    let page = browser.get("/login").await.text().await.unwrap();
    let mut form: Vec<(String, String)> = hidden_inputs(&page)
        .into_iter()
        .filter(|(k, _)| k != "return_to")
        .collect();
    form.push(("username".into(), user.into()));
    form.push(("password".into(), pw.into()));
    form
}

/// Whether an authorization request from this browser has to sign in first.
async fn asks_to_sign_in(browser: &Browser, client_id: &str) -> bool {
    let res = browser
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", client_id),
            ("state", "s"),
        ]))
        .await;
    res.status() == 303 && location(&res).starts_with("/login")
}

fn assert_html_security_headers(res: &reqwest::Response, n: &str, page: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("[{n}] {page}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "[{n}] {page}: CSP without frame-ancestors 'none': {csp}"
    );
    assert_eq!(
        h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "[{n}] {page}"
    );
    assert_eq!(
        h.get("x-frame-options").map(|v| v.to_str().unwrap()),
        Some("DENY"),
        "[{n}] {page}"
    );
    assert!(
        h["content-type"].to_str().unwrap().starts_with("text/html"),
        "[{n}] {page}: is not HTML"
    );
}

// ---------------------------------------------------------------------------------------
// Errors: page versus redirect
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_or_inactive_client_or_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(
) {
    for s in common::servers().await {
        let n = s.name();
        let (id, _) = client(&s, code_client("Pages")).await;
        let (inactive, _) = client(&s, code_client("Inactive")).await;
        let res = s
            .patch(&format!("/clients/{inactive}"), &json!({"active": false}))
            .await;
        assert_eq!(res.status(), 200, "[{n}]");

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
            let body = expect_error_page(raw_get(&s, &url).await, n, what).await;
            assert!(!body.contains("evil.example"), "[{n}] {what}: {body}");
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
        expect_error_page(res, n, "inactive client, signed in").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_uri_may_be_omitted_only_when_the_client_has_exactly_one() {
    for s in common::servers().await {
        let n = s.name();
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
        expect_error_page(res, n, "no redirect_uri, several registered").await;

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
            panic!("[{n}] expected a redirect: {out:?}");
        };
        assert!(loc.starts_with(REDIRECT), "[{n}] {loc}");
        let p = params_of(&loc, false);
        assert!(p.contains_key("code"), "[{n}] {loc}");
        assert_eq!(p["state"], "st-1", "[{n}]");

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
            panic!("[{n}] expected a redirect: {out:?}");
        };
        assert!(loc.starts_with(REDIRECT_2), "[{n}] {loc}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_authorize_errors_redirect_with_error_description_and_state_in_the_query() {
    for s in common::servers().await {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_request_errors_are_returned_in_the_fragment() {
    for s in common::servers().await {
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
}

// ---------------------------------------------------------------------------------------
// PKCE (RFC 7636)
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_client_without_code_challenge_is_redirected_with_invalid_request() {
    for s in common::servers().await {
        let n = s.name();
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
        assert!(!p.contains_key("code"), "[{n}]");
        // The same request with an S256 challenge gets a code.
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let browser = Browser::new(&s.base);
        let code = get_code(
            &s,
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
        assert!(!code.is_empty(), "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_challenge_method_must_be_s256_and_come_with_a_challenge() {
    for s in common::servers().await {
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_verifies_the_pkce_s256_code_verifier() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let (id, _) = client(&s, public_client("SPA")).await;
        let browser = Browser::new(&s.base);
        let code_for = |challenge: String| {
            let id = id.clone();
            let browser = &browser;
            let s = &s;
            async move {
                get_code(
                    s,
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
                let borrowed: Vec<(&str, &str)> =
                    form.iter().map(|(k, v)| (*k, v.as_str())).collect();
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
            "[{n}] challenge without verifier: {v}"
        );

        // A well-formed verifier that does not match.
        let (challenge, _) = PkceCodeChallenge::new_random_sha256();
        let (_, other_verifier) = PkceCodeChallenge::new_random_sha256();
        let code = code_for(challenge.as_str().to_owned()).await;
        let (st, v) = redeem(code, Some(other_verifier.secret().clone())).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] wrong verifier: {v}"
        );
        assert!(v.get("access_token").is_none(), "[{n}]");

        // The verifier itself sent as if it were the challenge (plain) does not pass.
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        let code = code_for(verifier.secret().clone()).await;
        let (st, v) = redeem(code, Some(verifier.secret().clone())).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] plain comparison must not be accepted: {v}"
        );

        // The right verifier.
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let code = code_for(challenge.as_str().to_owned()).await;
        let (st, v) = redeem(code, Some(verifier.secret().clone())).await;
        assert_eq!(st, 200, "[{n}] correct verifier: {v}");
        assert_eq!(
            s.introspect(v["access_token"].as_str().unwrap()).await["active"],
            true,
            "[{n}]"
        );

        // A verifier for a code that had no challenge (confidential client): a downgrade.
        let (conf, secret) = client(&s, code_client("Conf")).await;
        let secret = secret.unwrap();
        let code = get_code(
            &s,
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &conf),
                ("redirect_uri", REDIRECT),
                ("state", "st-1"),
            ],
        )
        .await;
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
            "[{n}] verifier without challenge: {v}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Implicit grant
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_grant_puts_a_bearer_token_in_the_fragment_and_issues_no_refresh_token() {
    for s in common::servers().await {
        let n = s.name();
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
            panic!("[{n}] expected a redirect: {out:?}");
        };
        assert!(loc.starts_with(REDIRECT), "[{n}] {loc}");
        let query = params_of(&loc, false);
        assert!(query.is_empty(), "[{n}] nothing may go in the query: {loc}");
        let f = params_of(&loc, true);
        let token = f
            .get("access_token")
            .unwrap_or_else(|| panic!("[{n}] no access_token in the fragment: {loc}"));
        assert!(token.len() >= 43, "[{n}] 256-bit token");
        assert_eq!(
            f.get("token_type").map(String::as_str),
            Some("Bearer"),
            "[{n}]"
        );
        assert_eq!(
            f.get("expires_in").map(String::as_str),
            Some("900"),
            "[{n}]"
        );
        assert_eq!(f.get("scope").map(String::as_str), Some("read"), "[{n}]");
        assert_eq!(f.get("state").map(String::as_str), Some("st-1"), "[{n}]");
        assert!(
            !f.contains_key("refresh_token"),
            "[{n}] implicit issues no refresh token: {loc}"
        );
        assert!(!f.contains_key("code"), "[{n}]");
        let intro = s.introspect(token).await;
        assert_eq!(intro["active"], true, "[{n}] {intro}");
        assert_eq!(intro["client_id"], id.as_str(), "[{n}]");
        assert_eq!(intro["username"], "alice", "[{n}]");
        assert_eq!(intro["scope"], "read", "[{n}]");
        assert_eq!(
            intro["exp"].as_i64().unwrap() - intro["iat"].as_i64().unwrap(),
            900,
            "[{n}] {intro}"
        );
        // No refresh token exists for this authorization.
        let list = s
            .state
            .services
            .tokens
            .list(
                &tollgate_core::store::TokenFilter {
                    client_id: Some(id.clone()),
                    ..Default::default()
                },
                None,
                Some(100),
            )
            .await
            .unwrap();
        assert_eq!(list.items.len(), 1, "[{n}] one access token only");
        assert_eq!(
            list.items[0].token.kind,
            tollgate_core::token::TokenKind::Access,
            "[{n}]"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Consent
// ---------------------------------------------------------------------------------------

fn consent_client(name: &str) -> Value {
    json!({
        "name": name, "version": "2.5", "type": "confidential",
        "description": "Keeps your calendar in sync.",
        "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
        "scopes": ["calendar.read", "calendar.write", "contacts"],
    })
}

fn is_consent_page(status: u16, body: &str) -> bool {
    status == 200 && body.contains("action=\"/oauth2/consent\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_authorization_shows_the_consent_page_and_deny_redirects_with_access_denied() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let (id, _) = client(&s, consent_client("Calendar Sync")).await;
        let browser = Browser::new(&s.base);
        browser.login(ALICE.0, ALICE.1).await;
        let url = authorize_url(&[
            ("response_type", "code"),
            ("client_id", &id),
            ("redirect_uri", REDIRECT),
            ("scope", "calendar.read calendar.write"),
            ("state", "st-deny"),
        ]);
        let res = browser.get(&url).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(is_consent_page(status, &body), "[{n}] {status}: {body}");
        for expected in [
            "Calendar Sync",
            "2.5",
            "Keeps your calendar in sync.",
            "calendar.read",
            "calendar.write",
            "Allow",
            "Deny",
        ] {
            assert!(
                body.contains(expected),
                "[{n}] consent page lacks {expected:?}: {body}"
            );
        }
        assert!(
            !body.contains("contacts"),
            "[{n}] only the scopes asked for are listed: {body}"
        );

        // Deny.
        let mut form = hidden_inputs(&body);
        form.push(("decision".into(), "deny".into()));
        let res = browser.post_form("/oauth2/consent", &form).await;
        assert_eq!(res.status(), 303, "[{n}]");
        let loc = location(&res);
        assert!(loc.starts_with(REDIRECT), "[{n}] {loc}");
        let p = params_of(&loc, false);
        assert_eq!(
            p.get("error").map(String::as_str),
            Some("access_denied"),
            "[{n}] {loc}"
        );
        assert_eq!(p.get("state").map(String::as_str), Some("st-deny"), "[{n}]");
        assert!(!p.contains_key("code"), "[{n}] {loc}");

        // A denial is not remembered: the next request asks again, and Allow gives a code.
        let res = browser.get(&url).await;
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(
            is_consent_page(status, &body),
            "[{n}] asked again after Deny: {status}"
        );
        let mut form = hidden_inputs(&body);
        form.push(("decision".into(), "allow".into()));
        let res = browser.post_form("/oauth2/consent", &form).await;
        assert_eq!(res.status(), 303, "[{n}]");
        let p = params_of(&location(&res), false);
        assert!(p.contains_key("code"), "[{n}] {p:?}");
        assert_eq!(p["state"], "st-deny", "[{n}]");
        assert!(!p.contains_key("error"), "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_is_remembered_for_the_same_scopes_and_asked_again_for_a_new_scope() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        s.create_user("bob", "bob-password").await;
        let (id, _) = client(&s, consent_client("Calendar Sync")).await;
        let url = |scope: &str| {
            authorize_url(&[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", REDIRECT),
                ("scope", scope),
                ("state", "st-1"),
            ])
        };
        let browser = Browser::new(&s.base);
        browser.login(ALICE.0, ALICE.1).await;
        let res = browser.get(&url("calendar.read calendar.write")).await;
        let st = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(is_consent_page(st, &body), "[{n}] first time: {st}");
        let mut form = hidden_inputs(&body);
        form.push(("decision".into(), "allow".into()));
        let res = browser.post_form("/oauth2/consent", &form).await;
        assert!(
            params_of(&location(&res), false).contains_key("code"),
            "[{n}]"
        );

        // Same scopes, and a subset of them: a code straight away.
        for scope in ["calendar.read calendar.write", "calendar.write"] {
            let res = browser.get(&url(scope)).await;
            assert_eq!(res.status(), 303, "[{n}] {scope}: remembered consent");
            let loc = location(&res);
            assert!(loc.starts_with(REDIRECT), "[{n}] {scope}: {loc}");
            assert!(
                params_of(&loc, false).contains_key("code"),
                "[{n}] {scope}: {loc}"
            );
        }

        // A new scope: asked again, listing it.
        let res = browser.get(&url("calendar.read contacts")).await;
        let st = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(
            is_consent_page(st, &body),
            "[{n}] a new scope must be consented to: {st}"
        );
        assert!(body.contains("contacts"), "[{n}] {body}");

        // Consent is per user: bob is asked although alice consented.
        let bob = Browser::new(&s.base);
        bob.login("bob", "bob-password").await;
        let res = bob.get(&url("calendar.read")).await;
        let st = res.status().as_u16();
        let body = res.text().await.unwrap();
        assert!(
            is_consent_page(st, &body),
            "[{n}] another user is asked: {st}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The code is bound to the redirect URI and the client; it lives 60 seconds
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_is_bound_to_its_redirect_uri_and_client() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let mut a = code_client("Client A");
        a["redirect_uris"] = json!([REDIRECT, REDIRECT_2]);
        let (a_id, a_secret) = client(&s, a).await;
        let a_secret = a_secret.unwrap();
        let (b_id, b_secret) = client(&s, code_client("Client B")).await;
        let b_secret = b_secret.unwrap();
        let browser = Browser::new(&s.base);
        let params = [
            ("response_type", "code"),
            ("client_id", a_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
        ];

        // Another registered redirect URI of the same client.
        let code = get_code(&s, &browser, &params).await;
        let (st, v) = token_request(
            &s,
            Some((&a_id, &a_secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT_2),
            ],
        )
        .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] different redirect_uri: {v}"
        );

        // Omitted although the authorization request had one (RFC 6749 §4.1.3).
        let code = get_code(&s, &browser, &params).await;
        let (st, v) = token_request(
            &s,
            Some((&a_id, &a_secret)),
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_request")),
            "[{n}] omitted redirect_uri: {v}"
        );

        // Presented by another client, with that client's valid credentials.
        let code = get_code(&s, &browser, &params).await;
        let (st, v) = token_request(
            &s,
            Some((&b_id, &b_secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] code of client A presented by client B: {v}"
        );
        assert!(v.get("access_token").is_none(), "[{n}]");

        // The correct request works (the codes above were good ones).
        let code = get_code(&s, &browser, &params).await;
        let (st, v) = token_request(
            &s,
            Some((&a_id, &a_secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
        assert_eq!(st, 200, "[{n}] {v}");
        assert_eq!(
            s.introspect(v["access_token"].as_str().unwrap()).await["client_id"],
            a_id.as_str(),
            "[{n}]"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_expires_after_its_60_second_lifetime() {
    for db in tollgate_testkit::each_backend().await {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = start_with(
            db,
            Options {
                clock: clock.clone(),
                ..Default::default()
            },
        )
        .await;
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let (id, secret) = client(&s, code_client("Short")).await;
        let secret = secret.unwrap();
        let browser = Browser::new(&s.base);
        let params = [
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "st-1"),
        ];
        let redeem = |code: String| {
            let (id, secret) = (id.clone(), secret.clone());
            let s = &s;
            async move {
                token_request(
                    s,
                    Some((&id, &secret)),
                    &[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", REDIRECT),
                    ],
                )
                .await
            }
        };

        // 59 s after issue: still good.
        let code = get_code(&s, &browser, &params).await;
        clock.advance(Duration::seconds(59));
        let (st, v) = redeem(code).await;
        assert_eq!(st, 200, "[{n}] a 59-second-old code must work: {v}");

        // 61 s after issue: expired.
        let code = get_code(&s, &browser, &params).await;
        clock.advance(Duration::seconds(61));
        let (st, v) = redeem(code).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] a 61-second-old code: {v}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Sign-in and sign-out
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_shows_the_login_page_with_401_an_error_and_the_username_kept() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let browser = Browser::new(&s.base);
        let form = login_form(&browser, "alice", "not-her-password").await;
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 401, "[{n}]");
        assert!(
            session_cookie(&res).is_none(),
            "[{n}] no session on a failed sign-in: {:?}",
            set_cookies(&res)
        );
        let body = res.text().await.unwrap();
        assert!(body.contains("action=\"/login\""), "[{n}] login form again");
        assert!(
            body.contains("role=\"alert\""),
            "[{n}] the error is shown: {body}"
        );
        let username_tag = body
            .split("<input")
            .find(|t| t.contains("name=\"username\""))
            .unwrap_or_else(|| panic!("[{n}] no username field: {body}"));
        assert!(
            username_tag.contains("value=\"alice\""),
            "[{n}] username kept: {username_tag}"
        );
        assert!(
            !body.contains("not-her-password"),
            "[{n}] the password is never echoed"
        );
        // Unknown user: the same answer.
        let form = login_form(&browser, "nobody", "whatever-pw").await;
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 401, "[{n}] unknown user");
        // And the right password still works afterwards.
        browser.login(ALICE.0, ALICE.1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_without_or_with_a_wrong_csrf_token_is_refused_with_403_and_no_session() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let (id, _) = client(&s, code_client("App")).await;

        // The csrf field left out.
        let browser = Browser::new(&s.base);
        let form: Vec<(String, String)> = login_form(&browser, ALICE.0, ALICE.1)
            .await
            .into_iter()
            .filter(|(k, _)| k != "csrf")
            .collect();
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 403, "[{n}] without csrf");
        assert!(session_cookie(&res).is_none(), "[{n}] without csrf");
        assert!(
            asks_to_sign_in(&browser, &id).await,
            "[{n}] no session after a login without csrf"
        );

        // A token that is well-formed but belongs to another browser.
        let other = Browser::new(&s.base);
        let foreign = hidden_inputs(&other.get("/login").await.text().await.unwrap())
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
            .expect("csrf field");
        for bad in [foreign.as_str(), "not-a-csrf-token"] {
            let browser = Browser::new(&s.base);
            let mut form: Vec<(String, String)> = login_form(&browser, ALICE.0, ALICE.1)
                .await
                .into_iter()
                .filter(|(k, _)| k != "csrf")
                .collect();
            form.push(("csrf".into(), bad.into()));
            let res = browser.post_form("/login", &form).await;
            assert_eq!(res.status(), 403, "[{n}] wrong csrf {bad}");
            assert!(session_cookie(&res).is_none(), "[{n}] wrong csrf");
            assert!(asks_to_sign_in(&browser, &id).await, "[{n}] wrong csrf");
        }

        // No login cookie at all (a cross-site POST): refused too.
        let res = s
            .http
            .post(s.url("/login"))
            .form(&[
                ("csrf", foreign.as_str()),
                ("username", ALICE.0),
                ("password", ALICE.1),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "[{n}] without the login cookie");
        assert!(session_cookie(&res).is_none(), "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_return_to_is_followed_only_for_local_paths() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\\/evil.example",
            "javascript:alert(1)",
        ] {
            let browser = Browser::new(&s.base);
            // The login page does not carry the target into its form.
            let q = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", bad)
                .finish();
            let page = browser
                .get(&format!("/login?{q}"))
                .await
                .text()
                .await
                .unwrap();
            let hidden = hidden_inputs(&page);
            let kept = hidden
                .iter()
                .find(|(k, _)| k == "return_to")
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            assert!(
                !kept.contains("evil") && !kept.contains("javascript"),
                "[{n}] {bad}: login form carries {kept:?}"
            );
            // Posting it directly is ignored as well.
            let mut form: Vec<(String, String)> = hidden
                .into_iter()
                .filter(|(k, _)| k != "return_to")
                .collect();
            form.push(("username".into(), ALICE.0.into()));
            form.push(("password".into(), ALICE.1.into()));
            form.push(("return_to".into(), bad.into()));
            let res = browser.post_form("/login", &form).await;
            assert_eq!(res.status(), 303, "[{n}] {bad}: sign-in itself works");
            let loc = location(&res);
            assert!(
                loc.starts_with('/')
                    && !loc.starts_with("//")
                    && !loc.contains('\\')
                    && !loc.contains("evil")
                    && !loc.contains("javascript"),
                "[{n}] {bad}: redirected to {loc:?}"
            );
            // Signed in, /login?return_to=bad does not redirect there either.
            let res = browser.get(&format!("/login?{q}")).await;
            let loc = location(&res);
            assert!(
                !loc.contains("evil") && !loc.starts_with("//") && !loc.contains("javascript"),
                "[{n}] {bad}: signed-in redirect to {loc:?}"
            );
        }
        // A local path is followed.
        let browser = Browser::new(&s.base);
        let mut form = login_form(&browser, ALICE.0, ALICE.1).await;
        form.push(("return_to".into(), "/oauth2/authorize?client_id=x".into()));
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 303, "[{n}]");
        assert_eq!(location(&res), "/oauth2/authorize?client_id=x", "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_requires_the_csrf_token_and_ends_the_session_server_side() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let (id, _) = client(&s, code_client("App")).await;
        let browser = Browser::new(&s.base);
        let form = login_form(&browser, ALICE.0, ALICE.1).await;
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 303, "[{n}]");
        let cookie = session_cookie(&res).expect("session cookie");
        assert!(!asks_to_sign_in(&browser, &id).await, "[{n}] signed in");

        // The signed-in page carries the sign-out form and its token.
        let page = browser.get("/login").await.text().await.unwrap();
        assert!(page.contains("action=\"/logout\""), "[{n}] {page}");
        let csrf = hidden_inputs(&page)
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v)
            .expect("csrf on the signed-in page");

        // Without the token, or with a wrong one: refused, still signed in.
        for form in [
            vec![],
            vec![("csrf".to_owned(), "forged-token-value".to_owned())],
        ] {
            let res = browser.post_form("/logout", &form).await;
            assert_eq!(res.status(), 403, "[{n}] logout with {form:?}");
            assert!(
                !asks_to_sign_in(&browser, &id).await,
                "[{n}] a refused logout must keep the session"
            );
        }

        let res = browser
            .post_form("/logout", &[("csrf".to_owned(), csrf)])
            .await;
        assert_eq!(res.status(), 200, "[{n}]");
        assert!(
            asks_to_sign_in(&browser, &id).await,
            "[{n}] signed out: the next authorize asks to sign in"
        );
        // The old cookie value is dead on the server too, not only removed from the browser.
        let res = s
            .http
            .get(s.url(&authorize_url(&[
                ("response_type", "code"),
                ("client_id", &id),
                ("state", "s"),
            ])))
            .header("cookie", format!("tollgate_session={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "[{n}]");
        assert!(
            location(&res).starts_with("/login"),
            "[{n}] replayed session cookie still works: {}",
            location(&res)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Security headers and cookies (SPEC §9)
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_pages_send_csp_nosniff_and_frame_denial_and_cookies_are_httponly_samesite_lax() {
    for s in common::servers().await {
        let n = s.name();
        s.create_user(ALICE.0, ALICE.1).await;
        let (id, _) = client(&s, consent_client("Headers")).await;
        let browser = Browser::new(&s.base);

        // Login page, and the pre-session cookie it sets.
        let res = browser.get("/login").await;
        assert_eq!(res.status(), 200, "[{n}]");
        assert_html_security_headers(&res, n, "login page");
        assert!(
            !set_cookies(&res).is_empty(),
            "[{n}] the login page sets its pre-session cookie"
        );
        for c in set_cookies(&res) {
            assert!(c.contains("HttpOnly"), "[{n}] {c}");
            assert!(c.contains("SameSite=Lax"), "[{n}] {c}");
        }
        let page = res.text().await.unwrap();

        // Failed sign-in page.
        let mut bad = hidden_inputs(&page);
        bad.push(("username".into(), ALICE.0.into()));
        bad.push(("password".into(), "wrong-password".into()));
        let res = browser.post_form("/login", &bad).await;
        assert_eq!(res.status(), 401, "[{n}]");
        assert_html_security_headers(&res, n, "failed sign-in page");

        // Successful sign-in: the session cookie.
        let form = login_form(&browser, ALICE.0, ALICE.1).await;
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 303, "[{n}]");
        let cookies = set_cookies(&res);
        let session = cookies
            .iter()
            .find(|c| c.starts_with("tollgate_session="))
            .unwrap_or_else(|| panic!("[{n}] no session cookie in {cookies:?}"));
        assert!(session.contains("HttpOnly"), "[{n}] {session}");
        assert!(session.contains("SameSite=Lax"), "[{n}] {session}");
        assert!(session.contains("Path=/"), "[{n}] {session}");
        let value = session_cookie(&res).unwrap();
        assert!(value.len() >= 43, "[{n}] 256-bit session secret");

        // Consent page.
        let res = browser
            .get(&authorize_url(&[
                ("response_type", "code"),
                ("client_id", &id),
                ("state", "s"),
            ]))
            .await;
        assert_eq!(res.status(), 200, "[{n}] consent page expected");
        assert_html_security_headers(&res, n, "consent page");
        let body = res.text().await.unwrap();
        assert!(body.contains("action=\"/oauth2/consent\""), "[{n}] {body}");

        // Error page.
        let res = raw_get(
            &s,
            &authorize_url(&[("response_type", "code"), ("client_id", "unknown")]),
        )
        .await;
        assert!(res.status().is_client_error(), "[{n}]");
        assert_html_security_headers(&res, n, "error page");

        // Signed-in page and signed-out page.
        let res = browser.get("/login").await;
        assert_html_security_headers(&res, n, "signed-in page");
        let csrf = hidden_inputs(&res.text().await.unwrap())
            .into_iter()
            .find(|(k, _)| k == "csrf")
            .unwrap();
        let res = browser.post_form("/logout", &[csrf]).await;
        assert_eq!(res.status(), 200, "[{n}]");
        assert_html_security_headers(&res, n, "signed-out page");
    }
}

// ---------------------------------------------------------------------------------------
// Users: deactivation and new passwords
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_user_invalidates_their_tokens_and_sessions_and_the_password_grant() {
    for s in common::servers().await {
        let n = s.name();
        let alice = s.create_user(ALICE.0, ALICE.1).await;
        s.create_user("bob", "bob-password").await;
        let (id, secret) = client(
            &s,
            json!({"name": "Both", "version": "1", "type": "confidential",
                   "grant_types": ["authorization_code", "password"], "redirect_uris": [REDIRECT],
                   "scopes": ["read"], "refresh_count": 5}),
        )
        .await;
        let secret = secret.unwrap();
        let password_grant = |user: &'static str, pw: &'static str| {
            let (id, secret) = (id.clone(), secret.clone());
            let s = &s;
            async move {
                token_request(
                    s,
                    Some((&id, &secret)),
                    &[
                        ("grant_type", "password"),
                        ("username", user),
                        ("password", pw),
                    ],
                )
                .await
            }
        };
        let (st, v) = password_grant(ALICE.0, ALICE.1).await;
        assert_eq!(st, 200, "[{n}] {v}");
        let pw_token = v["access_token"].as_str().unwrap().to_owned();
        let (st, v) = password_grant("bob", "bob-password").await;
        assert_eq!(st, 200, "[{n}] {v}");
        let bob_token = v["access_token"].as_str().unwrap().to_owned();

        let browser = Browser::new(&s.base);
        let code = get_code(
            &s,
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", REDIRECT),
                ("state", "st-1"),
            ],
        )
        .await;
        let (st, v) = token_request(
            &s,
            Some((&id, &secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
        assert_eq!(st, 200, "[{n}] {v}");
        let code_token = v["access_token"].as_str().unwrap().to_owned();
        let refresh_token = v["refresh_token"].as_str().unwrap().to_owned();
        // A code issued before deactivation, not yet redeemed.
        let pending_code = get_code(
            &s,
            &browser,
            &[
                ("response_type", "code"),
                ("client_id", &id),
                ("redirect_uri", REDIRECT),
                ("state", "st-1"),
            ],
        )
        .await;
        for t in [&pw_token, &code_token, &refresh_token] {
            assert_eq!(s.introspect(t).await["active"], true, "[{n}]");
        }
        assert!(!asks_to_sign_in(&browser, &id).await, "[{n}] signed in");

        s.state
            .services
            .users
            .update(
                &Actor::new("test", None),
                &alice.id,
                UserChange {
                    active: Some(false),
                    ..Default::default()
                },
            )
            .await
            .unwrap();

        for (what, t) in [
            ("password grant token", &pw_token),
            ("code grant token", &code_token),
            ("refresh token", &refresh_token),
        ] {
            assert_eq!(
                s.introspect(t).await,
                json!({"active": false}),
                "[{n}] {what} of a deactivated user"
            );
        }
        assert_eq!(
            s.introspect(&bob_token).await["active"],
            true,
            "[{n}] other users' tokens are untouched"
        );
        assert!(
            asks_to_sign_in(&browser, &id).await,
            "[{n}] the deactivated user's session must end"
        );
        let (st, v) = password_grant(ALICE.0, ALICE.1).await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] password grant for a deactivated user: {v}"
        );
        let (st, v) = token_request(
            &s,
            Some((&id, &secret)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
            ],
        )
        .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] refresh for a deactivated user: {v}"
        );
        let (st, v) = token_request(
            &s,
            Some((&id, &secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &pending_code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await;
        assert_eq!(
            (st, v["error"].as_str()),
            (400, Some("invalid_grant")),
            "[{n}] a code issued before deactivation: {v}"
        );
        // Nor can the user sign in again.
        let form = login_form(&browser, ALICE.0, ALICE.1).await;
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 401, "[{n}] a deactivated user cannot sign in");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setting_a_new_password_ends_the_users_sessions() {
    for s in common::servers().await {
        let n = s.name();
        let alice = s.create_user(ALICE.0, ALICE.1).await;
        let (id, _) = client(&s, code_client("App")).await;
        let browser = Browser::new(&s.base);
        browser.login(ALICE.0, ALICE.1).await;
        let second = Browser::new(&s.base);
        second.login(ALICE.0, ALICE.1).await;
        assert!(!asks_to_sign_in(&browser, &id).await, "[{n}] signed in");

        s.state
            .services
            .users
            .set_password(&Actor::new("test", None), &alice.id, "a-brand-new-password")
            .await
            .unwrap();

        assert!(
            asks_to_sign_in(&browser, &id).await,
            "[{n}] a new password ends the session"
        );
        assert!(
            asks_to_sign_in(&second, &id).await,
            "[{n}] every session of the user"
        );
        let form = login_form(&browser, ALICE.0, ALICE.1).await;
        let res = browser.post_form("/login", &form).await;
        assert_eq!(res.status(), 401, "[{n}] the old password no longer works");
        browser.login(ALICE.0, "a-brand-new-password").await;
        assert!(!asks_to_sign_in(&browser, &id).await, "[{n}] new password");
    }
}

//! Consent, the code's binding and lifetime, sign-in and sign-out, page headers, users.

use super::*;
use crate::common;
use crate::common::console::change_user;
use tollgate_test_macros::backends;

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

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_authorization_shows_the_consent_page_and_deny_redirects_with_access_denied(
    s: TestServer,
) {
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
    assert!(is_consent_page(status, &body), "{status}: {body}");
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
            "consent page lacks {expected:?}: {body}"
        );
    }
    assert!(
        !body.contains("contacts"),
        "only the scopes asked for are listed: {body}"
    );

    // Deny.
    let mut form = hidden_inputs(&body);
    form.push(("decision".into(), "deny".into()));
    let res = browser.post_form("/oauth2/consent", &form).await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    let p = params_of(&loc, false);
    assert_eq!(
        p.get("error").map(String::as_str),
        Some("access_denied"),
        "{loc}"
    );
    assert_eq!(p.get("state").map(String::as_str), Some("st-deny"));
    assert!(!p.contains_key("code"), "{loc}");

    // A denial is not remembered: the next request asks again, and Allow gives a code.
    let res = browser.get(&url).await;
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    assert!(
        is_consent_page(status, &body),
        "asked again after Deny: {status}"
    );
    let mut form = hidden_inputs(&body);
    form.push(("decision".into(), "allow".into()));
    let res = browser.post_form("/oauth2/consent", &form).await;
    assert_eq!(res.status(), 303);
    let p = params_of(&location(&res), false);
    assert!(p.contains_key("code"), "{p:?}");
    assert_eq!(p["state"], "st-deny");
    assert!(!p.contains_key("error"));
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_is_remembered_for_the_same_scopes_and_asked_again_for_a_new_scope(s: TestServer) {
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
    assert!(is_consent_page(st, &body), "first time: {st}");
    let mut form = hidden_inputs(&body);
    form.push(("decision".into(), "allow".into()));
    let res = browser.post_form("/oauth2/consent", &form).await;
    assert!(params_of(&location(&res), false).contains_key("code"));

    // Same scopes, and a subset of them: a code straight away.
    for scope in ["calendar.read calendar.write", "calendar.write"] {
        let res = browser.get(&url(scope)).await;
        assert_eq!(res.status(), 303, "{scope}: remembered consent");
        let loc = location(&res);
        assert!(loc.starts_with(REDIRECT), "{scope}: {loc}");
        assert!(
            params_of(&loc, false).contains_key("code"),
            "{scope}: {loc}"
        );
    }

    // A new scope: asked again, listing it.
    let res = browser.get(&url("calendar.read contacts")).await;
    let st = res.status().as_u16();
    let body = res.text().await.unwrap();
    assert!(
        is_consent_page(st, &body),
        "a new scope must be consented to: {st}"
    );
    assert!(body.contains("contacts"), "{body}");

    // Consent is per user: bob is asked although alice consented.
    let bob = Browser::new(&s.base);
    bob.login("bob", "bob-password").await;
    let res = bob.get(&url("calendar.read")).await;
    let st = res.status().as_u16();
    let body = res.text().await.unwrap();
    assert!(is_consent_page(st, &body), "another user is asked: {st}");
}

// ---------------------------------------------------------------------------------------
// The code lives 60 seconds
// ---------------------------------------------------------------------------------------

/// The code's binding to its client and redirect URI is core's
/// (`authorization_code::code_exchange_refusals`), and so is its expiry; here the server's
/// default lifetime of 60 seconds.
#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_code_expires_after_its_60_second_lifetime(db: TestDb) {
    let (s, clock) = common::manual_clock_server(db).await;
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
        async move { redeem(s, Some((&id, &secret)), &code, Some(REDIRECT)).await }
    };

    // 59 s after issue: still good.
    let code = get_code(&browser, &params).await;
    clock.advance(Duration::seconds(59));
    let (st, v) = redeem(code).await;
    assert_eq!(st, 200, "a 59-second-old code must work: {v}");

    // 61 s after issue: expired.
    let code = get_code(&browser, &params).await;
    clock.advance(Duration::seconds(61));
    let (st, v) = redeem(code).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "a 61-second-old code: {v}"
    );
}

// ---------------------------------------------------------------------------------------
// Sign-in and sign-out
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_shows_the_login_page_with_401_an_error_and_the_username_kept(
    s: TestServer,
) {
    s.create_user(ALICE.0, ALICE.1).await;
    let browser = Browser::new(&s.base);
    let form = login_form(&browser, "alice", "not-her-password").await;
    let res = browser.post_form("/login", &form).await;
    assert_eq!(res.status(), 401);
    assert!(
        session_cookie(&res).is_none(),
        "no session on a failed sign-in: {:?}",
        set_cookies(&res)
    );
    let body = res.text().await.unwrap();
    assert!(body.contains("action=\"/login\""), "login form again");
    assert!(
        body.contains("role=\"alert\""),
        "the error is shown: {body}"
    );
    let username_tag = body
        .split("<input")
        .find(|t| t.contains("name=\"username\""))
        .unwrap_or_else(|| panic!("no username field: {body}"));
    assert!(
        username_tag.contains("value=\"alice\""),
        "username kept: {username_tag}"
    );
    assert!(
        !body.contains("not-her-password"),
        "the password is never echoed"
    );
    // Unknown user: the same answer.
    let form = login_form(&browser, "nobody", "whatever-pw").await;
    let res = browser.post_form("/login", &form).await;
    assert_eq!(res.status(), 401, "unknown user");
    // And the right password still works afterwards.
    browser.login(ALICE.0, ALICE.1).await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_without_or_with_a_wrong_csrf_token_is_refused_with_403_and_no_session(
    s: TestServer,
) {
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
    assert_eq!(res.status(), 403, "without csrf");
    assert!(session_cookie(&res).is_none(), "without csrf");
    assert!(
        asks_to_sign_in(&browser, &id).await,
        "no session after a login without csrf"
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
        assert_eq!(res.status(), 403, "wrong csrf {bad}");
        assert!(session_cookie(&res).is_none(), "wrong csrf");
        assert!(asks_to_sign_in(&browser, &id).await, "wrong csrf");
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
    assert_eq!(res.status(), 403, "without the login cookie");
    assert!(session_cookie(&res).is_none());
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_return_to_is_followed_only_for_local_paths(s: TestServer) {
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
            "{bad}: login form carries {kept:?}"
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
        assert_eq!(res.status(), 303, "{bad}: sign-in itself works");
        let loc = location(&res);
        assert!(
            loc.starts_with('/')
                && !loc.starts_with("//")
                && !loc.contains('\\')
                && !loc.contains("evil")
                && !loc.contains("javascript"),
            "{bad}: redirected to {loc:?}"
        );
        // Signed in, /login?return_to=bad does not redirect there either.
        let res = browser.get(&format!("/login?{q}")).await;
        let loc = location(&res);
        assert!(
            !loc.contains("evil") && !loc.starts_with("//") && !loc.contains("javascript"),
            "{bad}: signed-in redirect to {loc:?}"
        );
    }
    // A local path is followed.
    let browser = Browser::new(&s.base);
    let mut form = login_form(&browser, ALICE.0, ALICE.1).await;
    form.push(("return_to".into(), "/oauth2/authorize?client_id=x".into()));
    let res = browser.post_form("/login", &form).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/oauth2/authorize?client_id=x");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_requires_the_csrf_token_and_ends_the_session_server_side(s: TestServer) {
    s.create_user(ALICE.0, ALICE.1).await;
    let (id, _) = client(&s, code_client("App")).await;
    let browser = Browser::new(&s.base);
    let form = login_form(&browser, ALICE.0, ALICE.1).await;
    let res = browser.post_form("/login", &form).await;
    assert_eq!(res.status(), 303);
    let cookie = session_cookie(&res).expect("session cookie");
    assert!(!asks_to_sign_in(&browser, &id).await, "signed in");

    // The signed-in page carries the sign-out form and its token.
    let page = browser.get("/login").await.text().await.unwrap();
    assert!(page.contains("action=\"/logout\""), "{page}");
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
        assert_eq!(res.status(), 403, "logout with {form:?}");
        assert!(
            !asks_to_sign_in(&browser, &id).await,
            "a refused logout must keep the session"
        );
    }

    let res = browser
        .post_form("/logout", &[("csrf".to_owned(), csrf)])
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        asks_to_sign_in(&browser, &id).await,
        "signed out: the next authorize asks to sign in"
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
    assert_eq!(res.status(), 303);
    assert!(
        location(&res).starts_with("/login"),
        "replayed session cookie still works: {}",
        location(&res)
    );
}

// ---------------------------------------------------------------------------------------
// Security headers and cookies (SPEC §9)
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_pages_send_csp_nosniff_and_frame_denial_and_cookies_are_httponly_samesite_lax(
    s: TestServer,
) {
    s.create_user(ALICE.0, ALICE.1).await;
    let (id, _) = client(&s, consent_client("Headers")).await;
    let browser = Browser::new(&s.base);

    // Login page, and the pre-session cookie it sets.
    let res = browser.get("/login").await;
    assert_eq!(res.status(), 200);
    assert_html_security_headers(&res, "login page");
    assert!(
        !set_cookies(&res).is_empty(),
        "the login page sets its pre-session cookie"
    );
    for c in set_cookies(&res) {
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
    }
    let page = res.text().await.unwrap();

    // Failed sign-in page.
    let mut bad = hidden_inputs(&page);
    bad.push(("username".into(), ALICE.0.into()));
    bad.push(("password".into(), "wrong-password".into()));
    let res = browser.post_form("/login", &bad).await;
    assert_eq!(res.status(), 401);
    assert_html_security_headers(&res, "failed sign-in page");

    // Successful sign-in: the session cookie.
    let form = login_form(&browser, ALICE.0, ALICE.1).await;
    let res = browser.post_form("/login", &form).await;
    assert_eq!(res.status(), 303);
    let cookies = set_cookies(&res);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("tollgate_session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Lax"), "{session}");
    assert!(session.contains("Path=/"), "{session}");
    let value = session_cookie(&res).unwrap();
    assert!(value.len() >= 43, "256-bit session secret");

    // Consent page.
    let res = browser
        .get(&authorize_url(&[
            ("response_type", "code"),
            ("client_id", &id),
            ("state", "s"),
        ]))
        .await;
    assert_eq!(res.status(), 200, "consent page expected");
    assert_html_security_headers(&res, "consent page");
    let body = res.text().await.unwrap();
    assert!(body.contains("action=\"/oauth2/consent\""), "{body}");

    // Error page.
    let res = raw_get(
        &s,
        &authorize_url(&[("response_type", "code"), ("client_id", "unknown")]),
    )
    .await;
    assert!(res.status().is_client_error());
    assert_html_security_headers(&res, "error page");

    // Signed-in page and signed-out page.
    let res = browser.get("/login").await;
    assert_html_security_headers(&res, "signed-in page");
    let csrf = hidden_inputs(&res.text().await.unwrap())
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .unwrap();
    let res = browser.post_form("/logout", &[csrf]).await;
    assert_eq!(res.status(), 200);
    assert_html_security_headers(&res, "signed-out page");
}

// ---------------------------------------------------------------------------------------
// Users: deactivation and new passwords
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_user_invalidates_their_tokens_and_sessions_and_the_password_grant(
    s: TestServer,
) {
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
    assert_eq!(st, 200, "{v}");
    let pw_token = v["access_token"].as_str().unwrap().to_owned();
    let (st, v) = password_grant("bob", "bob-password").await;
    assert_eq!(st, 200, "{v}");
    let bob_token = v["access_token"].as_str().unwrap().to_owned();

    let browser = Browser::new(&s.base);
    let code = code_of(&browser, &id).await;
    let (st, v) = redeem(&s, Some((&id, &secret)), &code, Some(REDIRECT)).await;
    assert_eq!(st, 200, "{v}");
    let code_token = v["access_token"].as_str().unwrap().to_owned();
    let refresh_token = v["refresh_token"].as_str().unwrap().to_owned();
    // A code issued before deactivation, not yet redeemed.
    let pending_code = code_of(&browser, &id).await;
    for t in [&pw_token, &code_token, &refresh_token] {
        assert_eq!(s.introspect(t).await["active"], true);
    }
    assert!(!asks_to_sign_in(&browser, &id).await, "signed in");

    change_user(
        &s,
        &alice.id,
        UserChange {
            active: Some(false),
            ..Default::default()
        },
    )
    .await;

    for (what, t) in [
        ("password grant token", &pw_token),
        ("code grant token", &code_token),
        ("refresh token", &refresh_token),
    ] {
        assert_eq!(
            s.introspect(t).await,
            json!({"active": false}),
            "{what} of a deactivated user"
        );
    }
    assert_eq!(
        s.introspect(&bob_token).await["active"],
        true,
        "other users' tokens are untouched"
    );
    assert!(
        asks_to_sign_in(&browser, &id).await,
        "the deactivated user's session must end"
    );
    let (st, v) = password_grant(ALICE.0, ALICE.1).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "password grant for a deactivated user: {v}"
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
        "refresh for a deactivated user: {v}"
    );
    let (st, v) = redeem(&s, Some((&id, &secret)), &pending_code, Some(REDIRECT)).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code issued before deactivation: {v}"
    );
    // Nor can the user sign in again.
    let form = login_form(&browser, ALICE.0, ALICE.1).await;
    let res = browser.post_form("/login", &form).await;
    assert_eq!(res.status(), 401, "a deactivated user cannot sign in");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setting_a_new_password_ends_the_users_sessions(s: TestServer) {
    let alice = s.create_user(ALICE.0, ALICE.1).await;
    let (id, _) = client(&s, code_client("App")).await;
    let browser = Browser::new(&s.base);
    browser.login(ALICE.0, ALICE.1).await;
    let second = Browser::new(&s.base);
    second.login(ALICE.0, ALICE.1).await;
    assert!(!asks_to_sign_in(&browser, &id).await, "signed in");

    s.state
        .services
        .users
        .set_password(&Actor::new("test", None), &alice.id, "a-brand-new-password")
        .await
        .unwrap();

    assert!(
        asks_to_sign_in(&browser, &id).await,
        "a new password ends the session"
    );
    assert!(
        asks_to_sign_in(&second, &id).await,
        "every session of the user"
    );
    let form = login_form(&browser, ALICE.0, ALICE.1).await;
    let res = browser.post_form("/login", &form).await;
    assert_eq!(res.status(), 401, "the old password no longer works");
    browser.login(ALICE.0, "a-brand-new-password").await;
    assert!(!asks_to_sign_in(&browser, &id).await, "new password");
}

//! SPEC §9 continued: cookies, CSRF, return_to, body limits, the admin API and cookies, logs.

use super::*;
use tollgate_test_macros::backends;

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cookie_is_httponly_samesite_lax_and_secure_when_the_issuer_is_https(s: TestServer) {
    user(&s, "ada", true).await;
    check_cookie_flags(&s, &s.base, false).await;
    let https = https_issuer(&s).await;
    check_cookie_flags(&s, &https, true).await;
}

/// The session cookie a sign-in (`what`, which must have answered 303) set, labelled
/// `label`, for the list of secrets to look for.
fn signed_in_session(
    res: &reqwest::blocking::Response,
    what: &str,
    label: &str,
) -> Result<Vec<(String, String)>, String> {
    if res.status() != 303 {
        return Err(format!("{what}: {}", res.status()));
    }
    let session = res.cookies().filter(|c| c.name() == "tollgate_session");
    Ok(session
        .map(|c| (label.to_owned(), c.value().to_owned()))
        .collect())
}

/// The `csrf` fields of `form`, each labelled `what`, for the list of secrets to look for.
fn labelled_csrf(form: &[(String, String)], what: &str) -> Vec<(String, String)> {
    let csrf = form.iter().filter(|(k, _)| k == "csrf");
    csrf.map(|(_, v)| (what.to_owned(), v.clone())).collect()
}

/// A second listener on the same services, but with an https issuer (as behind a
/// TLS-terminating proxy); its base URL.
async fn https_issuer(s: &TestServer) -> String {
    let mut state = s.state.clone();
    state.issuer = "https://auth.example.com".into();
    crate::common::serve_state(state).await
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_refuses_a_missing_or_wrong_csrf_token(s: TestServer) {
    let f = fixture(&s).await;
    let ada = admin_signed_in(&s, "ada").await;
    let good = csrf_of(&ada, "/console/clients").await;
    let other = csrf_of(&signed_in(&s, "ada").await, "/console/clients").await;
    let before = s.audit_len().await;
    let (id, uid, kid, tid) = (&f.client_id, &f.user_id, &f.admin_key_id, &f.token_id);
    // Every POST route of the console (console/mod.rs), with fields that would work.
    let routes = [
        (
            "/console/clients".to_owned(),
            pairs(&[("name", "X"), ("version", "1")]),
        ),
        (format!("/console/clients/{id}"), pairs(&[("version", "2")])),
        (format!("/console/clients/{id}/secret"), vec![]),
        (
            format!("/console/clients/{id}/active"),
            pairs(&[("active", "false")]),
        ),
        (format!("/console/clients/{id}/delete"), vec![]),
        (format!("/console/clients/{id}/tokens/revoke"), vec![]),
        (format!("/console/tokens/{tid}/revoke"), vec![]),
        (
            "/console/users".to_owned(),
            pairs(&[("username", "eve"), ("password", PASSWORD)]),
        ),
        (
            format!("/console/users/{uid}"),
            pairs(&[("admin", "on"), ("active", "on")]),
        ),
        (
            format!("/console/users/{uid}/password"),
            pairs(&[("password", "another long password")]),
        ),
        (
            "/console/admin-keys".to_owned(),
            pairs(&[("name", "stolen")]),
        ),
        (format!("/console/admin-keys/{kid}/delete"), vec![]),
    ];
    for (path, fields) in &routes {
        for (what, token) in [
            ("no", None),
            ("an empty", Some("")),
            ("a wrong", Some("AAAA")),
            ("another session's", Some(other.as_str())),
        ] {
            let mut form = fields.clone();
            if let Some(t) = token {
                form.push(("csrf".into(), t.into()));
            }
            let res = ada.post_form(path, &form).await;
            assert_eq!(res.status(), 403, "POST {path} with {what} CSRF token");
        }
    }
    assert_eq!(
        s.audit_len().await,
        before,
        "a refused form changed something"
    );
    assert_eq!(s.stored_client(id).await.version, "1.0");

    // The sign-in form: bound to the pre-session nonce cookie.
    let anon = Browser::new(&s.base);
    let page = anon.get("/login").await.text().await.unwrap();
    let login_csrf = hidden_inputs(&page)
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .unwrap()
        .1;
    for token in [None, Some("AAAA"), Some(good.as_str())] {
        let mut form = pairs(&[("username", "ada"), ("password", PASSWORD)]);
        if let Some(t) = token {
            form.push(("csrf".into(), t.into()));
        }
        let res = anon.post_form("/login", &form).await;
        assert_eq!(res.status(), 403, "sign-in with csrf {token:?}");
    }
    // The right token from a client without the nonce cookie (a cross-site post).
    let res = s
        .http
        .post(s.url("/login"))
        .form(&[
            ("username", "ada"),
            ("password", PASSWORD),
            ("csrf", &login_csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "sign-in without the nonce cookie");

    // Consent: a cross-site Allow must not issue a code.
    let bob = signed_in(&s, "bob").await;
    let page = bob.get(&code_request(id)).await.text().await.unwrap();
    let consent = hidden_inputs(&page);
    for token in [None, Some("AAAA"), Some(good.as_str())] {
        let mut form: Vec<_> = consent
            .iter()
            .filter(|(k, _)| k != "csrf")
            .cloned()
            .collect();
        form.push(("decision".into(), "allow".into()));
        if let Some(t) = token {
            form.push(("csrf".into(), t.into()));
        }
        let res = bob.post_form("/oauth2/consent", &form).await;
        assert_eq!(res.status(), 403, "consent with csrf {token:?}");
    }
    // Sign-out: a cross-site post cannot end the session.
    for token in [None, Some("AAAA"), Some(good.as_str())] {
        let form = token.map(|t| pairs(&[("csrf", t)])).unwrap_or_default();
        let res = bob.post_form("/logout", &form).await;
        assert_eq!(res.status(), 403, "sign-out with csrf {token:?}");
    }
    assert_eq!(bob.get("/login").await.status(), 200);
    assert!(
        bob.get("/login")
            .await
            .text()
            .await
            .unwrap()
            .contains("Signed in"),
        "the refused sign-out ended the session"
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_to_only_leads_to_local_paths(db: TestDb) {
    const HOSTILE: [&str; 14] = [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "%2F%2Fevil.example",
        "%2f%2fevil.example",
        "https%3A%2F%2Fevil.example",
        "%2F%5Cevil.example",
        "/%09/evil.example",
        "%09//evil.example",
        "javascript:alert(1)",
        "evil.example",
        "%20//evil.example",
    ];
    let s = common::start(db).await;
    user(&s, "ada", true).await;
    for raw in HOSTILE {
        // Signing in with it.
        let b = Browser::new(&s.base);
        let page = b.get(&format!("/login?return_to={raw}")).await;
        assert_eq!(page.status(), 200, "{raw}");
        let mut form = hidden_inputs(&page.text().await.unwrap());
        form.retain(|(k, _)| k != "return_to");
        let decoded = url::form_urlencoded::parse(format!("x={raw}").as_bytes())
            .next()
            .unwrap()
            .1
            .into_owned();
        form.extend(pairs(&[
            ("username", "ada"),
            ("password", PASSWORD),
            ("return_to", &decoded),
        ]));
        let res = b.post_form("/login", &form).await;
        assert_eq!(res.status(), 303, "{raw}");
        let to = location(&res);
        assert_local(&to, &format!("sign-in with return_to={raw}"));
        // Already signed in: /login redirects straight away.
        let res = b.get(&format!("/login?return_to={raw}")).await;
        assert_local(&location(&res), &format!("signed in, return_to={raw}"));
    }
    // A local path is kept.
    let b = signed_in(&s, "ada").await;
    let res = b.get("/login?return_to=%2Fconsole%2Fusers").await;
    assert_eq!(location(&res), "/console/users");
}

/// A `Location` a browser resolves to this origin: empty (no redirect), or one slash then
/// a non-slash, with no backslash or whitespace anywhere.
fn assert_local(to: &str, what: &str) {
    let ok = to.is_empty()
        || (to.starts_with('/')
            && !to.starts_with("//")
            && !to.contains('\\')
            && !to.chars().any(|c| c.is_whitespace() || c.is_control()));
    assert!(ok, "{what}: redirected to {to:?}");
    assert!(!to.to_lowercase().contains("evil"), "{what}: {to:?}");
}

/// Signs in without a cookie store; the `tollgate_session=…` pair.
async fn session_cookie(s: &TestServer, username: &str) -> String {
    let res = s.http.get(s.url("/login")).send().await.unwrap();
    let nonce = res.headers()[SET_COOKIE].to_str().unwrap();
    let nonce = nonce.split(';').next().unwrap().to_owned();
    let mut form = hidden_inputs(&res.text().await.unwrap());
    form.extend(pairs(&[("username", username), ("password", PASSWORD)]));
    let res = s
        .http
        .post(s.url("/login"))
        .header(COOKIE, nonce)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("tollgate_session=") && c.len() > 17)
        .unwrap()
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_on_every_route(db: TestDb) {
    use Oversized::{Chunked, Declared};
    let s = common::start(db).await;
    let f = fixture(&s).await;
    user(&s, "ada", true).await;
    let cookie = session_cookie(&s, "ada").await;
    let (id, uid, kid, tid) = (&f.client_id, &f.user_id, &f.admin_key_id, &f.token_id);
    let bearer = format!("Bearer {}", s.key);
    let json = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    // Every admin API route that takes a body or could be sent one.
    for (method, path) in [
        ("POST", "/clients".to_owned()),
        ("PATCH", format!("/clients/{id}")),
        ("DELETE", format!("/clients/{id}")),
        ("POST", format!("/clients/{id}/secret")),
        ("DELETE", format!("/clients/{id}/tokens")),
        ("DELETE", format!("/tokens/{tid}")),
        ("POST", "/users".to_owned()),
        ("PATCH", format!("/users/{uid}")),
        ("DELETE", format!("/users/{uid}")),
        ("POST", format!("/users/{uid}/password")),
        ("POST", "/admin-keys".to_owned()),
        ("DELETE", format!("/admin-keys/{kid}")),
        ("GET", "/clients".to_owned()),
    ] {
        let path = format!("/admin/api/v1{path}");
        let st = status_of(&oversized(&s, method, &path, &json, Declared).await);
        assert_eq!(st, 413, "admin API {method} {path}");
    }
    for (method, path) in [
        ("POST", "/admin/api/v1/clients".to_owned()),
        ("PATCH", format!("/admin/api/v1/clients/{id}")),
        ("POST", "/admin/api/v1/users".to_owned()),
    ] {
        let st = status_of(&oversized(&s, method, &path, &json, Chunked).await);
        assert_eq!(st, 413, "admin API {method} {path}, chunked");
    }
    // The refused requests changed nothing.
    assert_eq!(s.get(&format!("/clients/{id}")).await.status(), 200);
    assert_eq!(s.get(&format!("/users/{uid}")).await.status(), 200);
    assert_eq!(s.get(&format!("/tokens/{tid}")).await.status(), 200);
    let res = s
        .post("/clients", &json!({"name": "a".repeat(OVER_LIMIT)}))
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(header(&res, &CONTENT_TYPE), "application/problem+json");

    // OAuth endpoints and the sign-in pages.
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    for path in [
        "/oauth2/token",
        "/oauth2/introspect",
        "/oauth2/revoke",
        "/oauth2/consent",
        "/login",
        "/logout",
    ] {
        for how in [Declared, Chunked] {
            let st = status_of(&oversized(&s, "POST", path, &form, how).await);
            assert_eq!(st, 413, "{path} ({how:?})");
        }
    }
    for path in [
        "/oauth2/authorize",
        "/login",
        "/healthz",
        "/.well-known/oauth-authorization-server",
    ] {
        let st = status_of(&oversized(&s, "GET", path, &form, Declared).await);
        assert_eq!(st, 413, "GET {path} with a body");
    }

    // Every console form.
    let console = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", cookie.as_str()),
    ];
    for path in [
        "/console/clients".to_owned(),
        format!("/console/clients/{id}"),
        format!("/console/clients/{id}/secret"),
        format!("/console/clients/{id}/active"),
        format!("/console/clients/{id}/delete"),
        format!("/console/clients/{id}/tokens/revoke"),
        format!("/console/tokens/{tid}/revoke"),
        "/console/users".to_owned(),
        format!("/console/users/{uid}"),
        format!("/console/users/{uid}/password"),
        "/console/admin-keys".to_owned(),
        format!("/console/admin-keys/{kid}/delete"),
    ] {
        for how in [Declared, Chunked] {
            let st = status_of(&oversized(&s, "POST", &path, &console, how).await);
            assert_eq!(st, 413, "console {path} ({how:?})");
        }
    }
    assert_eq!(s.get(&format!("/clients/{id}")).await.status(), 200);
    assert_eq!(s.get(&format!("/tokens/{tid}")).await.status(), 200);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_refuses_console_session_cookies(s: TestServer) {
    let ada = admin_signed_in(&s, "ada").await;
    let csrf = csrf_of(&ada, "/console/clients").await;
    let c = confidential("Api");
    for (method, path, body) in [
        (Method::GET, "/admin/api/v1/clients", None),
        (Method::POST, "/admin/api/v1/clients", Some(c.clone())),
        (
            Method::POST,
            "/admin/api/v1/admin-keys",
            Some(json!({"name": "x"})),
        ),
        (
            Method::POST,
            "/admin/api/v1/users",
            Some(json!({"username": "eve", "password": PASSWORD, "admin": true})),
        ),
    ] {
        // The cookie alone, and with the console's CSRF token in every place one might look.
        for with_csrf in [false, true] {
            let mut req = ada.http.request(method.clone(), s.url(path));
            if with_csrf {
                req = req.header("X-CSRF-Token", &csrf).query(&[("csrf", &csrf)]);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let res = req.send().await.unwrap();
            assert_eq!(
                res.status(),
                401,
                "{method} {path} with a console cookie (csrf: {with_csrf})"
            );
        }
    }
    // Introspection accepts admin keys, not console sessions either.
    let res = ada
        .http
        .post(s.url("/oauth2/introspect"))
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "introspection with a console cookie");
    assert_eq!(
        s.client_count().await,
        0,
        "a console cookie created a client"
    );
}

#[backends]
/// A full flow against the built binary with every log level on; then no secret, token,
/// code, password or session value may appear anywhere in what it wrote.
#[test]
fn logs_carry_no_secret_token_code_or_password(db: TestDb) {
    let key = binary::stdout(&binary::run(binary::tollgate(&db.url).args([
        "admin",
        "create-key",
        "--name",
        "hardening",
    ])))
    .trim()
    .to_owned();
    assert!(!key.is_empty());
    let admin_password = "admin password that must not leak";
    let mut server =
        binary::spawn_server_env(&db.url, Some(admin_password), &[("RUST_LOG", "trace")]);
    let base = server.base.clone();
    let mut secrets: Vec<(String, String)> = vec![
        ("admin key".into(), key.clone()),
        ("admin password".into(), admin_password.into()),
    ];
    let flow = full_flow(&base, &key, admin_password, &mut secrets);
    // Let the last request's log lines arrive, then stop.
    std::thread::sleep(Duration::from_millis(300));
    let _ = server.child.kill();
    let _ = server.child.wait();
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Ok(l) = server
        .stderr_lines
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
    {
        lines.push(l);
    }
    flow.unwrap_or_else(|e| panic!("flow failed: {e}"));
    let all = lines.join("\n");
    // The log is really at trace level and covers the flow.
    assert!(all.contains("TRACE") || all.contains("DEBUG"), "{all}");
    assert!(all.contains("/oauth2/token"), "no request logged");
    for (what, value) in &secrets {
        assert!(
            value.len() >= 8,
            "{what} too short to search for: {value:?}"
        );
        assert!(!all.contains(value.as_str()), "the {what} was logged");
    }
}

/// Client creation with a secret, every grant, refresh, introspection, revocation, a
/// rotation, failed attempts and sign-ins; every secret seen goes into `secrets`.
fn full_flow(
    base: &str,
    key: &str,
    admin_password: &str,
    secrets: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let url = |p: &str| format!("{base}{p}");
    let json_of = |r: reqwest::blocking::Response| -> Value { r.json().unwrap() };
    let user_password = "resource owner password";
    secrets.push(("user password".into(), user_password.into()));
    let wrong_secret = "wrong-secret-that-must-not-leak";
    secrets.push(("wrong client secret".into(), wrong_secret.into()));
    let wrong_password = "wrong password that must not leak";
    secrets.push(("wrong password".into(), wrong_password.into()));

    let c = json_of(
        http.post(url("/admin/api/v1/clients"))
            .bearer_auth(key)
            .json(&json!({
                "name": "Logged", "version": "1.0", "type": "confidential",
                "grant_types": ["client_credentials", "authorization_code", "password"],
                "redirect_uris": ["https://app.example.com/callback"],
                "scopes": ["api:read"],
                "refresh_count": "unlimited",
            }))
            .send()
            .unwrap(),
    );
    let id = c["client_id"].as_str().ok_or(format!("{c}"))?.to_owned();
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    secrets.push(("client secret".into(), secret.clone()));
    let res = http
        .post(url("/admin/api/v1/users"))
        .bearer_auth(key)
        .json(&json!({"username": "carol", "password": user_password}))
        .send()
        .unwrap();
    if res.status() != 201 {
        return Err(format!("user: {}", res.text().unwrap()));
    }
    let token = |form: &[(&str, &str)], secret: &str| -> Value {
        http.post(url("/oauth2/token"))
            .basic_auth(&id, Some(secret))
            .form(form)
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let cc = token(&[("grant_type", "client_credentials")], &secret);
    let access = cc["access_token"]
        .as_str()
        .ok_or(format!("{cc}"))?
        .to_owned();
    secrets.push(("client-credentials token".into(), access.clone()));
    let bad = token(&[("grant_type", "client_credentials")], wrong_secret);
    if bad["error"] != "invalid_client" {
        return Err(format!("wrong secret: {bad}"));
    }
    let pw = token(
        &[
            ("grant_type", "password"),
            ("username", "carol"),
            ("password", user_password),
        ],
        &secret,
    );
    let pw_access = pw["access_token"].as_str().ok_or(format!("{pw}"))?;
    secrets.push(("password-grant access token".into(), pw_access.into()));
    let bad = token(
        &[
            ("grant_type", "password"),
            ("username", "carol"),
            ("password", wrong_password),
        ],
        &secret,
    );
    if bad["error"] != "invalid_grant" {
        return Err(format!("wrong password: {bad}"));
    }
    let intro = json_of(
        http.post(url("/oauth2/introspect"))
            .basic_auth(&id, Some(&secret))
            .form(&[("token", &access)])
            .send()
            .unwrap(),
    );
    if intro["active"] != true {
        return Err(format!("introspection: {intro}"));
    }
    let res = http
        .post(url("/oauth2/revoke"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", &access)])
        .send()
        .unwrap();
    if res.status() != 200 {
        return Err(format!("revoke: {}", res.status()));
    }

    // Authorization code: sign in with a password, consent, exchange the code.
    let auth = format!(
        "/oauth2/authorize?response_type=code&client_id={id}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=api%3Aread&state=state-that-must-not-leak"
    );
    secrets.push(("state".into(), "state-that-must-not-leak".into()));
    let res = http.get(url(&auth)).send().unwrap();
    let login = res.headers()["location"].to_str().unwrap().to_owned();
    let page = http.get(url(&login)).send().unwrap().text().unwrap();
    let mut form = hidden_inputs(&page);
    secrets.extend(labelled_csrf(&form, "sign-in CSRF token"));
    let mut wrong = form.clone();
    wrong.extend(pairs(&[
        ("username", "carol"),
        ("password", wrong_password),
    ]));
    http.post(url("/login")).form(&wrong).send().unwrap();
    form.extend(pairs(&[("username", "carol"), ("password", user_password)]));
    let res = http.post(url("/login")).form(&form).send().unwrap();
    secrets.extend(signed_in_session(&res, "sign-in", "session cookie")?);
    let next = res.headers()["location"].to_str().unwrap().to_owned();
    let page = http.get(url(&next)).send().unwrap().text().unwrap();
    let mut form = hidden_inputs(&page);
    secrets.extend(labelled_csrf(&form, "consent CSRF token"));
    form.push(("decision".into(), "allow".into()));
    let res = http
        .post(url("/oauth2/consent"))
        .form(&form)
        .send()
        .unwrap();
    let to = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let to = to.ok_or_else(|| format!("consent: {}", res.status()))?;
    let code = common::browser::params_of(&to, false)
        .remove("code")
        .ok_or(format!("no code in {to}"))?;
    secrets.push(("authorization code".into(), code.clone()));
    let exchanged = token(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example.com/callback"),
        ],
        &secret,
    );
    let code_access = exchanged["access_token"]
        .as_str()
        .ok_or(format!("{exchanged}"))?;
    secrets.push(("code access token".into(), code_access.into()));
    let refresh = exchanged["refresh_token"]
        .as_str()
        .ok_or(format!("{exchanged}"))?
        .to_owned();
    secrets.push(("refresh token".into(), refresh.clone()));
    let refreshed = token(
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        &secret,
    );
    let new_access = refreshed["access_token"]
        .as_str()
        .ok_or(format!("{refreshed}"))?;
    secrets.push(("refreshed access token".into(), new_access.into()));
    if let Some(r) = refreshed["refresh_token"].as_str() {
        secrets.push(("rotated refresh token".into(), r.into()));
    }
    // A replayed refresh token: refused, and the family revoked.
    token(
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        &secret,
    );
    // The code again: a replay, refused.
    token(
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://app.example.com/callback"),
        ],
        &secret,
    );

    // The console: the administrator signs in and rotates the secret.
    let admin = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let page = admin.get(url("/login")).send().unwrap().text().unwrap();
    let mut form = hidden_inputs(&page);
    form.extend(pairs(&[
        ("username", "admin"),
        ("password", admin_password),
    ]));
    let res = admin.post(url("/login")).form(&form).send().unwrap();
    secrets.extend(signed_in_session(
        &res,
        "console sign-in",
        "console session cookie",
    )?);
    let page = admin
        .get(url(&format!("/console/clients/{id}")))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let csrf = hidden_inputs(&page)
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .ok_or("no console csrf")?
        .1;
    secrets.push(("console CSRF token".into(), csrf.clone()));
    let rotated = admin
        .post(url(&format!("/console/clients/{id}/secret")))
        .form(&[("csrf", csrf.as_str()), ("grace_seconds", "0")])
        .send()
        .unwrap()
        .text()
        .unwrap();
    let new_secret = json_of(
        http.post(url(&format!("/admin/api/v1/clients/{id}/secret")))
            .bearer_auth(key)
            .send()
            .unwrap(),
    );
    secrets.push((
        "rotated secret".into(),
        new_secret["client_secret"]
            .as_str()
            .ok_or(format!("{new_secret}"))?
            .into(),
    ));
    if !rotated.contains("New secret issued") {
        return Err("console rotation failed".into());
    }
    let k = json_of(
        http.post(url("/admin/api/v1/admin-keys"))
            .bearer_auth(key)
            .json(&json!({"name": "second"}))
            .send()
            .unwrap(),
    );
    secrets.push((
        "second admin key".into(),
        k["key"].as_str().ok_or(format!("{k}"))?.into(),
    ));
    Ok(())
}

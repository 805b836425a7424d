//! SPEC §9, point by point, against the real server on every backend: constant-time
//! comparisons, the security headers of every HTML page and every response, cookie flags,
//! CSRF on every form, local-only `return_to`, body limits on every route, no secret in the
//! logs of a full flow, and an admin API that a console cookie cannot drive.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::binary;
use common::browser::{hidden_inputs, location, Browser};
use common::console::{csrf_of, pairs, signed_in, user, PASSWORD};
use common::{confidential, servers, TestServer};
use reqwest::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, SET_COOKIE, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tollgate_core::secret::SecretHasher;

/// One byte over the body limit every route shares.
const OVER_LIMIT: usize = tollgate::http::extract::BODY_LIMIT + 1;

/// A confidential client with every grant but implicit and a redirect URI, its secret,
/// and one live access token's admin-API id.
struct Fixture {
    client_id: String,
    secret: String,
    token_id: String,
    user_id: String,
    admin_key_id: String,
}

async fn fixture(s: &TestServer) -> Fixture {
    let c = s
        .create_client(&json!({
            "name": "Shop",
            "version": "1.0",
            "type": "confidential",
            "grant_types": ["client_credentials", "authorization_code", "password"],
            "redirect_uris": ["https://app.example.com/callback"],
            "scopes": ["api:read"],
            "refresh_count": "unlimited",
        }))
        .await;
    let client_id = c["client_id"].as_str().unwrap().to_owned();
    let secret = c["client_secret"].as_str().unwrap().to_owned();
    let res = s
        .oauth_post(
            "/oauth2/token",
            Some((&client_id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let tokens: Value = s
        .get(&format!("/tokens?client_id={client_id}"))
        .await
        .json()
        .await
        .unwrap();
    let token_id = tokens["items"][0]["id"].as_str().unwrap().to_owned();
    let user_id = user(s, "bob", false).await.id;
    let k: Value = s
        .post("/admin-keys", &json!({"name": "spare"}))
        .await
        .json()
        .await
        .unwrap();
    Fixture {
        client_id,
        secret,
        token_id,
        user_id,
        admin_key_id: k["id"].as_str().unwrap().to_owned(),
    }
}

fn authorize_url(client_id: &str) -> String {
    format!(
        "/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback&scope=api%3Aread&state=xyz"
    )
}

fn header<'a>(res: &'a reqwest::Response, name: &reqwest::header::HeaderName) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

/// SPEC §9: an HTML page with a strict CSP that forbids framing, `nosniff`, and the
/// legacy `X-Frame-Options` for browsers without CSP level 2.
fn assert_html_page(res: &reqwest::Response, what: &str) {
    assert!(
        header(res, &CONTENT_TYPE).starts_with("text/html"),
        "{what}: not HTML ({})",
        header(res, &CONTENT_TYPE)
    );
    let csp = header(res, &CONTENT_SECURITY_POLICY);
    for directive in [
        "frame-ancestors 'none'",
        "default-src 'none'",
        "script-src 'self'",
        "base-uri 'none'",
    ] {
        assert!(
            csp.contains(directive),
            "{what}: CSP {csp:?} lacks {directive}"
        );
    }
    assert!(
        !csp.contains("unsafe-"),
        "{what}: CSP {csp:?} is not strict"
    );
    assert_eq!(header(res, &X_FRAME_OPTIONS), "DENY", "{what}");
    assert_eq!(header(res, &X_CONTENT_TYPE_OPTIONS), "nosniff", "{what}");
}

#[test]
fn secret_comparisons_are_constant_time() {
    // The helpers every secret, hash, CSRF token and PKCE check goes through.
    assert!(SecretHasher::equal("abc", "abc"));
    assert!(!SecretHasher::equal("abc", "abd"));
    assert!(!SecretHasher::equal("abc", "abcd"));
    let h = SecretHasher::new([3; 32]);
    let stored = h.hash("s3cret");
    assert!(h.verify("s3cret", &stored));
    assert!(!h.verify("s3cres", &stored));
    let a = tollgate_core::secret::Secret::new("same".into());
    assert_eq!(a, tollgate_core::secret::Secret::new("same".into()));
    assert_ne!(a, tollgate_core::secret::Secret::new("other".into()));

    // Timing cannot be measured reliably in a test, so the source is checked instead:
    // the helpers use `subtle`, and no `==`/`!=` elsewhere touches a secret value.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let secret_rs = std::fs::read_to_string(root.join("tollgate-core/src/secret.rs")).unwrap();
    for f in ["fn equal(", "fn verify(", "fn eq("] {
        let body = &secret_rs[secret_rs.find(f).unwrap_or_else(|| panic!("{f}"))..];
        let body = &body[..body.find("\n    }").unwrap()];
        assert!(body.contains("ct_eq"), "`{f}` does not use subtle: {body}");
    }
    assert!(
        !secret_rs.contains("#[derive(Clone, PartialEq"),
        "Secret's `==` must be the constant-time one, not derived"
    );
    let mut offenders = Vec::new();
    for dir in ["tollgate-core/src", "tollgate-store/src", "tollgate/src"] {
        scan(&root.join(dir), &mut offenders);
    }
    assert!(
        offenders.is_empty(),
        "variable-time comparisons of secrets: {offenders:#?}"
    );
}

/// Lines outside tests comparing with `==`/`!=` something named like a secret.
fn scan(dir: &std::path::Path, out: &mut Vec<String>) {
    const SECRETISH: [&str; 9] = [
        "secret",
        "csrf",
        "password",
        "_hash",
        "verifier",
        "challenge",
        "expose()",
        "nonce",
        "cookie",
    ];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            scan(&path, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let line = line.split("//").next().unwrap_or("").to_lowercase();
            if !(line.contains("==") || line.contains("!=")) {
                continue;
            }
            // Presence checks and comparisons with a literal (a field name, a grant type)
            // compare no secret value.
            if line.contains("is_some")
                || line.contains("is_none")
                || line.contains("== \"")
                || line.contains("!= \"")
            {
                continue;
            }
            if SECRETISH.iter().any(|w| line.contains(w)) {
                out.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_html_page_forbids_framing_with_a_strict_csp() {
    for s in servers().await {
        let be = s.name();
        let f = fixture(&s).await;
        user(&s, "ada", true).await;

        // Signed out: the sign-in page, its failures, the error page, the signed-out page.
        let anon = Browser::new(&s.base);
        let res = anon.get("/login").await;
        assert_html_page(&res, &format!("[{be}] GET /login"));
        let mut form = hidden_inputs(&res.text().await.unwrap());
        form.extend(pairs(&[("username", "ada"), ("password", "wrong")]));
        let res = anon.post_form("/login", &form).await;
        assert_eq!(res.status(), 401, "[{be}]");
        assert_html_page(&res, &format!("[{be}] wrong password"));
        let res = anon
            .post_form("/login", &pairs(&[("csrf", "x"), ("username", "ada")]))
            .await;
        assert_eq!(res.status(), 403, "[{be}]");
        assert_html_page(&res, &format!("[{be}] login without CSRF"));
        let res = anon.get("/oauth2/authorize?client_id=nope").await;
        assert_eq!(res.status(), 400, "[{be}]");
        assert_html_page(&res, &format!("[{be}] authorize error page"));
        let res = anon.post_form("/logout", &[]).await;
        assert_html_page(&res, &format!("[{be}] signed-out page"));

        // A resource owner: signed-in page, consent page, consent refusal, sign-out.
        let bob = signed_in(&s, "bob").await;
        let res = bob.get("/login").await;
        assert_html_page(&res, &format!("[{be}] signed-in page"));
        let res = bob.get(&authorize_url(&f.client_id)).await;
        assert_eq!(res.status(), 200, "[{be}]");
        assert_html_page(&res, &format!("[{be}] consent page"));
        let res = bob
            .post_form("/oauth2/consent", &pairs(&[("csrf", "wrong")]))
            .await;
        assert_eq!(res.status(), 403, "[{be}]");
        assert_html_page(&res, &format!("[{be}] consent refusal"));
        let res = bob.get("/console/clients").await;
        assert_eq!(res.status(), 403, "[{be}]");
        assert_html_page(&res, &format!("[{be}] console, not an administrator"));
        let res = bob.post_form("/logout", &pairs(&[("csrf", "x")])).await;
        assert_eq!(res.status(), 403, "[{be}]");
        assert_html_page(&res, &format!("[{be}] sign-out refusal"));

        // Every console page, and the pages console forms answer with.
        let ada = signed_in(&s, "ada").await;
        let id = &f.client_id;
        for path in [
            "/console/clients".to_owned(),
            "/console/clients?q=shop".to_owned(),
            "/console/clients/new".to_owned(),
            format!("/console/clients/{id}"),
            format!("/console/clients/{id}/active"),
            format!("/console/clients/{id}/delete"),
            "/console/clients/no-such-client".to_owned(),
            "/console/tokens".to_owned(),
            format!("/console/tokens?client_id={id}"),
            "/console/users".to_owned(),
            "/console/admin-keys".to_owned(),
            "/console/audit".to_owned(),
        ] {
            let res = ada.get(&path).await;
            assert_html_page(&res, &format!("[{be}] GET {path} ({})", res.status()));
        }
        let csrf = csrf_of(&ada, "/console/clients/new").await;
        for (path, form) in [
            // Created: the page showing the secret once.
            (
                "/console/clients".to_owned(),
                pairs(&[
                    ("name", "New"),
                    ("version", "1"),
                    ("type", "confidential"),
                    ("grant_types", "client_credentials"),
                    ("lifetime_mode", "expires"),
                    ("lifetime_seconds", "3600"),
                    ("refresh_mode", "unlimited"),
                    ("active", "on"),
                ]),
            ),
            // Invalid: the form again with errors.
            ("/console/clients".to_owned(), pairs(&[("name", "")])),
            (format!("/console/clients/{id}/secret"), vec![]),
            ("/console/admin-keys".to_owned(), pairs(&[("name", "k2")])),
            ("/console/admin-keys".to_owned(), pairs(&[("name", "")])),
            (
                "/console/users".to_owned(),
                pairs(&[("username", ""), ("password", "x")]),
            ),
            (
                format!("/console/users/{}/password", f.user_id),
                pairs(&[("password", "short")]),
            ),
        ] {
            let mut form = form;
            form.push(("csrf".into(), csrf.clone()));
            let res = ada.post_form(&path, &form).await;
            if res.status().is_redirection() {
                continue;
            }
            assert_html_page(&res, &format!("[{be}] POST {path} ({})", res.status()));
        }
        let res = ada
            .post_form("/console/users", &pairs(&[("csrf", "wrong")]))
            .await;
        assert_eq!(res.status(), 403, "[{be}]");
        assert_html_page(&res, &format!("[{be}] console CSRF refusal"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_response_is_nosniff() {
    for s in servers().await {
        let be = s.name();
        let f = fixture(&s).await;
        let get = |path: &str| s.http.get(s.url(path)).send();
        let cases: Vec<(&str, reqwest::Response, &str)> = vec![
            (
                "metadata (JSON)",
                get("/.well-known/oauth-authorization-server")
                    .await
                    .unwrap(),
                "application/json",
            ),
            (
                "token (JSON)",
                s.oauth_post(
                    "/oauth2/token",
                    Some((&f.client_id, &f.secret)),
                    &[("grant_type", "client_credentials")],
                )
                .await,
                "application/json",
            ),
            (
                "token error (JSON)",
                s.oauth_post("/oauth2/token", None, &[("grant_type", "x")])
                    .await,
                "application/json",
            ),
            ("login (HTML)", get("/login").await.unwrap(), "text/html"),
            (
                "admin API without a key (problem+json)",
                get("/admin/api/v1/clients").await.unwrap(),
                "application/problem+json",
            ),
            (
                "admin API unknown resource (problem+json)",
                s.get("/nothing-here").await,
                "application/problem+json",
            ),
            (
                "OpenAPI (JSON)",
                s.get("/openapi.json").await,
                "application/json",
            ),
            (
                "stylesheet",
                get("/static/tollgate.css").await.unwrap(),
                "text/css",
            ),
            (
                "console stylesheet",
                get("/console/static/console.css").await.unwrap(),
                "text/css",
            ),
            (
                "Pico",
                get("/console/static/pico.min.css").await.unwrap(),
                "text/css",
            ),
            (
                "console script",
                get("/console/static/console.js").await.unwrap(),
                "text/javascript",
            ),
            ("health", get("/healthz").await.unwrap(), ""),
            ("readiness", get("/readyz").await.unwrap(), ""),
            ("metrics", get("/metrics").await.unwrap(), "text/plain"),
            (
                "unknown path (404)",
                get("/no/such/page").await.unwrap(),
                "",
            ),
            (
                "wrong method (405)",
                s.http.delete(s.url("/oauth2/token")).send().await.unwrap(),
                "",
            ),
            ("redirect", get("/console/clients").await.unwrap(), ""),
        ];
        // A 413 answered before the body is read (reqwest cannot read it back reliably).
        let head = oversized(
            &s,
            "POST",
            "/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Oversized::Declared,
        )
        .await;
        assert_eq!(status_of(&head), 413, "[{be}]");
        assert!(
            head.to_ascii_lowercase()
                .contains("x-content-type-options: nosniff"),
            "[{be}] 413: {head}"
        );
        for (what, res, ct) in cases {
            assert!(
                header(&res, &CONTENT_TYPE).starts_with(ct),
                "[{be}] {what}: content type {:?}",
                header(&res, &CONTENT_TYPE)
            );
            assert_eq!(
                header(&res, &X_CONTENT_TYPE_OPTIONS),
                "nosniff",
                "[{be}] {what} ({})",
                res.status()
            );
        }
    }
}

/// The attributes of one `Set-Cookie` value, lower-cased names.
fn cookie_attrs(set_cookie: &str) -> (String, Vec<(String, String)>) {
    let mut parts = set_cookie.split(';').map(str::trim);
    let name = parts.next().unwrap().split('=').next().unwrap().to_owned();
    let attrs = parts
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_ascii_lowercase(), v.to_owned())
        })
        .collect();
    (name, attrs)
}

/// Every `Set-Cookie` of `res` is HttpOnly, SameSite=Lax, Path=/ (the device cookie, which
/// only the sign-in page reads, Path=/login), and Secure exactly when `secure`. Returns the
/// cookies set (name=value), for the next request.
fn assert_cookie_flags(res: &reqwest::Response, secure: bool, what: &str) -> Vec<String> {
    let mut set = Vec::new();
    for v in res.headers().get_all(SET_COOKIE) {
        let v = v.to_str().unwrap();
        let (name, attrs) = cookie_attrs(v);
        let has = |k: &str| attrs.iter().any(|(a, _)| a == k);
        let val = |k: &str| {
            attrs
                .iter()
                .find(|(a, _)| a == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        assert!(has("httponly"), "{what}: {name} is not HttpOnly: {v}");
        assert_eq!(val("samesite"), "Lax", "{what}: {name}: {v}");
        let path = if name == "tollgate_device" {
            "/login"
        } else {
            "/"
        };
        assert_eq!(val("path"), path, "{what}: {name}: {v}");
        assert_eq!(has("secure"), secure, "{what}: {name} Secure: {v}");
        set.push(v.split(';').next().unwrap().to_owned());
    }
    set
}

/// Sign-in, sign-out and their cookies, without a cookie store (it would not send `Secure`
/// cookies over plain HTTP): every cookie set or cleared carries the flags.
async fn check_cookie_flags(s: &TestServer, base: &str, secure: bool) {
    let be = s.name();
    let http = &s.http;
    let url = |p: &str| format!("{base}{p}");
    let res = http.get(url("/login")).send().await.unwrap();
    let set = assert_cookie_flags(&res, secure, &format!("[{be}] GET /login"));
    assert_eq!(set.len(), 1, "[{be}] the sign-in nonce cookie: {set:?}");
    let nonce = set[0].clone();
    let mut form = hidden_inputs(&res.text().await.unwrap());
    form.extend(pairs(&[("username", "ada"), ("password", "wrong")]));
    let res = http
        .post(url("/login"))
        .header(COOKIE, &nonce)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "[{be}]");
    assert_cookie_flags(&res, secure, &format!("[{be}] failed sign-in"));
    form.retain(|(k, _)| k != "password");
    form.push(("password".into(), PASSWORD.into()));
    let res = http
        .post(url("/login"))
        .header(COOKIE, &nonce)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "[{be}]");
    let set = assert_cookie_flags(&res, secure, &format!("[{be}] sign-in"));
    let session = set
        .iter()
        .find(|c| c.starts_with("tollgate_session=") && c.len() > "tollgate_session=".len())
        .unwrap_or_else(|| panic!("[{be}] no session cookie in {set:?}"))
        .clone();
    assert!(
        set.iter().any(|c| c == "tollgate_login="),
        "[{be}] the nonce cookie is cleared at sign-in: {set:?}"
    );
    let res = http
        .get(url("/console/clients"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "[{be}]");
    let csrf = hidden_inputs(&res.text().await.unwrap())
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .unwrap()
        .1;
    let res = http
        .post(url("/logout"))
        .header(COOKIE, &session)
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "[{be}]");
    let set = assert_cookie_flags(&res, secure, &format!("[{be}] sign-out"));
    assert_eq!(set, ["tollgate_session="], "[{be}] session cleared");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cookie_is_httponly_samesite_lax_and_secure_when_the_issuer_is_https() {
    for s in servers().await {
        user(&s, "ada", true).await;
        check_cookie_flags(&s, &s.base, false).await;
        let https = https_issuer(&s).await;
        check_cookie_flags(&s, &https, true).await;
    }
}

/// A second listener on the same services, but with an https issuer (as behind a
/// TLS-terminating proxy); its base URL.
async fn https_issuer(s: &TestServer) -> String {
    let mut state = s.state.clone();
    state.issuer = "https://auth.example.com".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(tollgate::server::serve_on(
        listener,
        state,
        std::future::pending(),
    ));
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_refuses_a_missing_or_wrong_csrf_token() {
    for s in servers().await {
        let be = s.name();
        let f = fixture(&s).await;
        user(&s, "ada", true).await;
        let ada = signed_in(&s, "ada").await;
        let good = csrf_of(&ada, "/console/clients").await;
        let other = csrf_of(&signed_in(&s, "ada").await, "/console/clients").await;
        let audit_len = || async {
            s.state
                .services
                .audit
                .list(&Default::default(), None, Some(500))
                .await
                .unwrap()
                .items
                .len()
        };
        let before = audit_len().await;
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
                assert_eq!(
                    res.status(),
                    403,
                    "[{be}] POST {path} with {what} CSRF token"
                );
            }
        }
        assert_eq!(
            audit_len().await,
            before,
            "[{be}] a refused form changed something"
        );
        assert_eq!(
            s.state.services.clients.get(id).await.unwrap().version,
            "1.0"
        );

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
            assert_eq!(res.status(), 403, "[{be}] sign-in with csrf {token:?}");
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
        assert_eq!(res.status(), 403, "[{be}] sign-in without the nonce cookie");

        // Consent: a cross-site Allow must not issue a code.
        let bob = signed_in(&s, "bob").await;
        let page = bob.get(&authorize_url(id)).await.text().await.unwrap();
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
            assert_eq!(res.status(), 403, "[{be}] consent with csrf {token:?}");
        }
        // Sign-out: a cross-site post cannot end the session.
        for token in [None, Some("AAAA"), Some(good.as_str())] {
            let form = token.map(|t| pairs(&[("csrf", t)])).unwrap_or_default();
            let res = bob.post_form("/logout", &form).await;
            assert_eq!(res.status(), 403, "[{be}] sign-out with csrf {token:?}");
        }
        assert_eq!(bob.get("/login").await.status(), 200);
        assert!(
            bob.get("/login")
                .await
                .text()
                .await
                .unwrap()
                .contains("Signed in"),
            "[{be}] the refused sign-out ended the session"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn return_to_only_leads_to_local_paths() {
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
    for s in servers().await {
        let be = s.name();
        user(&s, "ada", true).await;
        for raw in HOSTILE {
            // Signing in with it.
            let b = Browser::new(&s.base);
            let page = b.get(&format!("/login?return_to={raw}")).await;
            assert_eq!(page.status(), 200, "[{be}] {raw}");
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
            assert_eq!(res.status(), 303, "[{be}] {raw}");
            let to = location(&res);
            assert_local(&to, &format!("[{be}] sign-in with return_to={raw}"));
            // Already signed in: /login redirects straight away.
            let res = b.get(&format!("/login?return_to={raw}")).await;
            assert_local(
                &location(&res),
                &format!("[{be}] signed in, return_to={raw}"),
            );
        }
        // A local path is kept.
        let b = signed_in(&s, "ada").await;
        let res = b.get("/login?return_to=%2Fconsole%2Fusers").await;
        assert_eq!(location(&res), "/console/users", "[{be}]");
    }
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

#[derive(Clone, Copy, Debug)]
enum Oversized {
    /// `Content-Length` over the limit; the body is not sent, so the answer must not wait
    /// for it.
    Declared,
    /// A chunked body that grows past the limit as it is read.
    Chunked,
}

/// Sends an oversized request by hand (reqwest fails with a broken pipe when the server
/// answers before the whole body is sent); the response's head.
async fn oversized(
    s: &TestServer,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    how: Oversized,
) -> String {
    let addr = s.base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match how {
        Oversized::Declared => head.push_str(&format!("Content-Length: {OVER_LIMIT}\r\n\r\n")),
        Oversized::Chunked => head.push_str("Transfer-Encoding: chunked\r\n\r\n"),
    }
    conn.write_all(head.as_bytes()).await.unwrap();
    if let Oversized::Chunked = how {
        let chunk = "a".repeat(16 * 1024);
        for _ in 0..(OVER_LIMIT / chunk.len() + 1) {
            let piece = format!("{:x}\r\n{chunk}\r\n", chunk.len());
            // The server may answer and close before it has all of it.
            if conn.write_all(piece.as_bytes()).await.is_err() {
                break;
            }
        }
    }
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(10), conn.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(k)) => head.extend_from_slice(&buf[..k]),
            Err(_) => panic!("{method} {path} ({how:?}): no answer to an oversized body"),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The status of a response head.
fn status_of(head: &str) -> u16 {
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not a response: {head:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_on_every_route() {
    use Oversized::{Chunked, Declared};
    for s in servers().await {
        let be = s.name();
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
            assert_eq!(st, 413, "[{be}] admin API {method} {path}");
        }
        for (method, path) in [
            ("POST", "/admin/api/v1/clients".to_owned()),
            ("PATCH", format!("/admin/api/v1/clients/{id}")),
            ("POST", "/admin/api/v1/users".to_owned()),
        ] {
            let st = status_of(&oversized(&s, method, &path, &json, Chunked).await);
            assert_eq!(st, 413, "[{be}] admin API {method} {path}, chunked");
        }
        // The refused requests changed nothing.
        assert_eq!(
            s.get(&format!("/clients/{id}")).await.status(),
            200,
            "[{be}]"
        );
        assert_eq!(
            s.get(&format!("/users/{uid}")).await.status(),
            200,
            "[{be}]"
        );
        assert_eq!(
            s.get(&format!("/tokens/{tid}")).await.status(),
            200,
            "[{be}]"
        );
        let res = s
            .post("/clients", &json!({"name": "a".repeat(OVER_LIMIT)}))
            .await;
        assert_eq!(res.status(), 413, "[{be}]");
        assert_eq!(
            header(&res, &CONTENT_TYPE),
            "application/problem+json",
            "[{be}]"
        );

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
                assert_eq!(st, 413, "[{be}] {path} ({how:?})");
            }
        }
        for path in [
            "/oauth2/authorize",
            "/login",
            "/healthz",
            "/.well-known/oauth-authorization-server",
        ] {
            let st = status_of(&oversized(&s, "GET", path, &form, Declared).await);
            assert_eq!(st, 413, "[{be}] GET {path} with a body");
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
                assert_eq!(st, 413, "[{be}] console {path} ({how:?})");
            }
        }
        assert_eq!(
            s.get(&format!("/clients/{id}")).await.status(),
            200,
            "[{be}]"
        );
        assert_eq!(
            s.get(&format!("/tokens/{tid}")).await.status(),
            200,
            "[{be}]"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_refuses_console_session_cookies() {
    for s in servers().await {
        let be = s.name();
        user(&s, "ada", true).await;
        let ada = signed_in(&s, "ada").await;
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
                    "[{be}] {method} {path} with a console cookie (csrf: {with_csrf})"
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
        assert_eq!(
            res.status(),
            401,
            "[{be}] introspection with a console cookie"
        );
        let all = s
            .state
            .services
            .clients
            .list(&Default::default(), None, None)
            .await
            .unwrap();
        assert!(
            all.items.is_empty(),
            "[{be}] a console cookie created a client"
        );
    }
}

/// A full flow against the built binary with every log level on; then no secret, token,
/// code, password or session value may appear anywhere in what it wrote.
#[test]
fn logs_carry_no_secret_token_code_or_password() {
    for db in binary::backends() {
        let be = db.name();
        let key = binary::stdout(&binary::run(binary::tollgate(&db.url).args([
            "admin",
            "create-key",
            "--name",
            "hardening",
        ])))
        .trim()
        .to_owned();
        assert!(!key.is_empty(), "[{be}]");
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
        flow.unwrap_or_else(|e| panic!("[{be}] flow failed: {e}"));
        let all = lines.join("\n");
        // The log is really at trace level and covers the flow.
        assert!(
            all.contains("TRACE") || all.contains("DEBUG"),
            "[{be}] {all}"
        );
        assert!(all.contains("/oauth2/token"), "[{be}] no request logged");
        for (what, value) in &secrets {
            assert!(
                value.len() >= 8,
                "[{be}] {what} too short to search for: {value:?}"
            );
            assert!(
                !all.contains(value.as_str()),
                "[{be}] the {what} was logged"
            );
        }
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
    secrets.extend(
        form.iter()
            .filter(|(k, _)| k == "csrf")
            .map(|(_, v)| ("sign-in CSRF token".to_owned(), v.clone())),
    );
    let mut wrong = form.clone();
    wrong.extend(pairs(&[
        ("username", "carol"),
        ("password", wrong_password),
    ]));
    http.post(url("/login")).form(&wrong).send().unwrap();
    form.extend(pairs(&[("username", "carol"), ("password", user_password)]));
    let res = http.post(url("/login")).form(&form).send().unwrap();
    if res.status() != 303 {
        return Err(format!("sign-in: {}", res.status()));
    }
    for c in res.cookies() {
        if c.name() == "tollgate_session" {
            secrets.push(("session cookie".into(), c.value().to_owned()));
        }
    }
    let next = res.headers()["location"].to_str().unwrap().to_owned();
    let page = http.get(url(&next)).send().unwrap().text().unwrap();
    let mut form = hidden_inputs(&page);
    secrets.extend(
        form.iter()
            .filter(|(k, _)| k == "csrf")
            .map(|(_, v)| ("consent CSRF token".to_owned(), v.clone())),
    );
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
    if res.status() != 303 {
        return Err(format!("console sign-in: {}", res.status()));
    }
    for c in res.cookies() {
        if c.name() == "tollgate_session" {
            secrets.push(("console session cookie".into(), c.value().to_owned()));
        }
    }
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

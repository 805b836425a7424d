//! SPEC §9, point by point, against the real server on every backend: constant-time
//! comparisons, the security headers of every HTML page and every response, cookie flags,
//! CSRF on every form, local-only `return_to`, body limits on every route, no secret in the
//! logs of a full flow, and an admin API that a console cookie cannot drive.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::binary;
use crate::common::browser::{hidden_inputs, location, Browser};
use crate::common::console::{
    admin_signed_in, confidential_form, csrf_of, pairs, signed_in, submit, user, PASSWORD,
};
use crate::common::oauth::authorize_url;
use crate::common::{confidential, TestServer};
use reqwest::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, SET_COOKIE, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tollgate_core::secret::SecretHasher;
use tollgate_test_macros::backends;

/// The sign-in URL the hardening tests visit: the code flow for `client_id`.
fn code_request(client_id: &str) -> String {
    authorize_url(&[
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", "https://app.example.com/callback"),
        ("scope", "api:read"),
        ("state", "xyz"),
    ])
}

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
    let (client_id, secret) = common::id_and_secret(&c);
    let res = s.cc_response(&client_id, &secret).await;
    assert_eq!(res.status(), 200);
    let tokens: Value = s.get_json(&format!("/tokens?client_id={client_id}")).await;
    let token_id = tokens["items"][0]["id"].as_str().unwrap().to_owned();
    let user_id = user(s, "bob", false).await.id;
    let k: Value = s.post_json("/admin-keys", &json!({"name": "spare"})).await;
    Fixture {
        client_id,
        secret,
        token_id,
        user_id: user_id.into_string(),
        admin_key_id: k["id"].as_str().unwrap().to_owned(),
    }
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
    let required = [
        "frame-ancestors 'none'",
        "default-src 'none'",
        "script-src 'self'",
        "base-uri 'none'",
    ];
    let lacking: Vec<&str> = required.into_iter().filter(|d| !csp.contains(d)).collect();
    assert!(lacking.is_empty(), "{what}: CSP {csp:?} lacks {lacking:?}");
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

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_html_page_forbids_framing_with_a_strict_csp(s: TestServer) {
    let f = fixture(&s).await;
    user(&s, "ada", true).await;

    // Signed out: the sign-in page, its failures, the error page, the signed-out page.
    let anon = Browser::new(&s.base);
    let res = anon.get("/login").await;
    assert_html_page(&res, "GET /login");
    let mut form = hidden_inputs(&res.text().await.unwrap());
    form.extend(pairs(&[("username", "ada"), ("password", "wrong")]));
    let res = anon.post_form("/login", &form).await;
    assert_eq!(res.status(), 401);
    assert_html_page(&res, "wrong password");
    let res = submit(&anon, "/login", &[("csrf", "x"), ("username", "ada")]).await;
    assert_eq!(res.status(), 403);
    assert_html_page(&res, "login without CSRF");
    let res = anon.get("/oauth2/authorize?client_id=nope").await;
    assert_eq!(res.status(), 400);
    assert_html_page(&res, "authorize error page");
    let res = anon.post_form("/logout", &[]).await;
    assert_html_page(&res, "signed-out page");

    // A resource owner: signed-in page, consent page, consent refusal, sign-out.
    let bob = signed_in(&s, "bob").await;
    let res = bob.get("/login").await;
    assert_html_page(&res, "signed-in page");
    let res = bob.get(&code_request(&f.client_id)).await;
    assert_eq!(res.status(), 200);
    assert_html_page(&res, "consent page");
    let res = submit(&bob, "/oauth2/consent", &[("csrf", "wrong")]).await;
    assert_eq!(res.status(), 403);
    assert_html_page(&res, "consent refusal");
    let res = bob.get("/console/clients").await;
    assert_eq!(res.status(), 403);
    assert_html_page(&res, "console, not an administrator");
    let res = submit(&bob, "/logout", &[("csrf", "x")]).await;
    assert_eq!(res.status(), 403);
    assert_html_page(&res, "sign-out refusal");

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
        assert_html_page(&res, &format!("GET {path} ({})", res.status()));
    }
    let csrf = csrf_of(&ada, "/console/clients/new").await;
    for (path, form) in [
        // Created: the page showing the secret once.
        (
            "/console/clients".to_owned(),
            confidential_form(
                "New",
                "1",
                &[
                    ("lifetime_mode", "expires"),
                    ("lifetime_seconds", "3600"),
                    ("refresh_mode", "unlimited"),
                    ("active", "on"),
                ],
            ),
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
        assert_html_page(&res, &format!("POST {path} ({})", res.status()));
    }
    let res = submit(&ada, "/console/users", &[("csrf", "wrong")]).await;
    assert_eq!(res.status(), 403);
    assert_html_page(&res, "console CSRF refusal");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_response_is_nosniff(s: TestServer) {
    let f = fixture(&s).await;
    let get = |path: &str| s.http.get(s.url(path));
    let token = || s.http.post(s.url("/oauth2/token"));
    let (json, problem) = ("application/json", "application/problem+json");
    let unknown = s.admin(Method::GET, "/nothing-here");
    let valid = token()
        .basic_auth(&f.client_id, Some(&f.secret))
        .form(&[("grant_type", "client_credentials")]);
    let cases = [
        (
            "metadata (JSON)",
            get("/.well-known/oauth-authorization-server"),
            json,
        ),
        ("token (JSON)", valid, json),
        (
            "token error (JSON)",
            token().form(&[("grant_type", "x")]),
            json,
        ),
        ("login (HTML)", get("/login"), "text/html"),
        (
            "admin API without a key (problem+json)",
            get("/admin/api/v1/clients"),
            problem,
        ),
        (
            "admin API unknown resource (problem+json)",
            unknown,
            problem,
        ),
        (
            "OpenAPI (JSON)",
            s.admin(Method::GET, "/openapi.json"),
            json,
        ),
        ("stylesheet", get("/static/tollgate.css"), "text/css"),
        (
            "console stylesheet",
            get("/console/static/console.css"),
            "text/css",
        ),
        ("Pico", get("/console/static/pico.min.css"), "text/css"),
        (
            "console script",
            get("/console/static/console.js"),
            "text/javascript",
        ),
        ("health", get("/healthz"), ""),
        ("readiness", get("/readyz"), ""),
        ("metrics", get("/metrics"), "text/plain"),
        ("unknown path (404)", get("/no/such/page"), ""),
        (
            "wrong method (405)",
            s.http.delete(s.url("/oauth2/token")),
            "",
        ),
        ("redirect", get("/console/clients"), ""),
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
    assert_eq!(status_of(&head), 413);
    assert!(
        head.to_ascii_lowercase()
            .contains("x-content-type-options: nosniff"),
        "413: {head}"
    );
    for (what, req, ct) in cases {
        let res = req.send().await.unwrap();
        assert!(
            header(&res, &CONTENT_TYPE).starts_with(ct),
            "{what}: content type {:?}",
            header(&res, &CONTENT_TYPE)
        );
        assert_eq!(
            header(&res, &X_CONTENT_TYPE_OPTIONS),
            "nosniff",
            "{what} ({})",
            res.status()
        );
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
    let http = &s.http;
    let url = |p: &str| format!("{base}{p}");
    let res = http.get(url("/login")).send().await.unwrap();
    let set = assert_cookie_flags(&res, secure, "GET /login");
    assert_eq!(set.len(), 1, "the sign-in nonce cookie: {set:?}");
    let nonce = set[0].clone();
    let mut form = hidden_inputs(&res.text().await.unwrap());
    form.extend(pairs(&[("username", "ada"), ("password", "wrong")]));
    let sign_in = |form: &[(String, String)]| {
        let req = http.post(url("/login")).header(COOKIE, &nonce);
        req.form(form).send()
    };
    let res = sign_in(&form).await.unwrap();
    assert_eq!(res.status(), 401);
    assert_cookie_flags(&res, secure, "failed sign-in");
    form.retain(|(k, _)| k != "password");
    form.push(("password".into(), PASSWORD.into()));
    let res = sign_in(&form).await.unwrap();
    assert_eq!(res.status(), 303);
    let set = assert_cookie_flags(&res, secure, "sign-in");
    let session = set
        .iter()
        .find(|c| c.starts_with("tollgate_session=") && c.len() > "tollgate_session=".len())
        .unwrap_or_else(|| panic!("no session cookie in {set:?}"))
        .clone();
    assert!(
        set.iter().any(|c| c == "tollgate_login="),
        "the nonce cookie is cleared at sign-in: {set:?}"
    );
    let res = http
        .get(url("/console/clients"))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
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
    assert_eq!(res.status(), 200);
    let set = assert_cookie_flags(&res, secure, "sign-out");
    assert_eq!(set, ["tollgate_session="], "session cleared");
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

mod forms_and_bodies;

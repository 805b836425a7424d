//! The authorization endpoint and the resource owner's pages (SPEC §2, §3, §9; RFC 6749
//! §4.1 and §4.2): error pages versus error redirects, the implicit grant, consent, the
//! code's lifetime, sign-in, sign-out, security headers, and what happens to a user's
//! tokens and sessions when the user is deactivated or gets a new password. The rules of
//! a request (PKCE, redirect URIs, the code's binding) are core's (`authorize.rs`,
//! `authorization_code.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::browser::{hidden_inputs, location, params_of, Browser, Outcome};
use crate::common::oauth::{
    authorize_url, client, code_of, get_code, redeem, token_request, ALICE, REDIRECT,
};
use crate::common::TestServer;
use chrono::Duration;
use serde_json::{json, Value};
use std::collections::HashMap;
use tollgate_core::audit::Actor;
use tollgate_core::service::UserChange;

/// A confidential client with the authorization code grant (no PKCE required).
fn code_client(name: &str) -> Value {
    json!({
        "name": name, "version": "1", "type": "confidential",
        "grant_types": ["authorization_code"], "redirect_uris": [REDIRECT],
        "scopes": ["read", "write"],
    })
}

/// A GET without cookies and without following redirects.
async fn raw_get(s: &TestServer, path: &str) -> reqwest::Response {
    s.http.get(s.url(path)).send().await.unwrap()
}

/// The authorization endpoint must answer with an HTML error page and must not redirect.
async fn expect_error_page(res: reqwest::Response, what: &str) -> String {
    let status = res.status();
    assert!(
        status.is_client_error(),
        "{what}: expected a 4xx error page, got {status}"
    );
    assert!(
        res.headers().get("location").is_none(),
        "{what}: must not redirect, got Location {:?}",
        res.headers().get("location")
    );
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/html"), "{what}: content type {ct}");
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
    let res = raw_get(s, url).await;
    assert!(
        res.status().is_redirection(),
        "{what}: expected a redirect, got {} {}",
        res.status(),
        res.text().await.unwrap()
    );
    let loc = location(&res);
    assert!(
        loc.starts_with(REDIRECT),
        "{what}: redirect to the client's URI, got {loc}"
    );
    let p = params_of(&loc, fragment);
    assert_eq!(
        p.get("error").map(String::as_str),
        Some(error),
        "{what}: {loc}"
    );
    assert!(
        p.get("error_description").is_some_and(|d| !d.is_empty()),
        "{what}: error_description missing in {loc}"
    );
    assert_eq!(
        p.get("state").map(String::as_str),
        Some("st-1"),
        "{what}: state in {loc}"
    );
    let other = params_of(&loc, !fragment);
    assert!(
        !other.contains_key("error"),
        "{what}: the error belongs in the {} only: {loc}",
        if fragment { "fragment" } else { "query" }
    );
    p
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

fn assert_html_security_headers(res: &reqwest::Response, page: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{page}: no Content-Security-Policy"))
        .to_str()
        .unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{page}: CSP without frame-ancestors 'none': {csp}"
    );
    assert_eq!(
        h.get("x-content-type-options").map(|v| v.to_str().unwrap()),
        Some("nosniff"),
        "{page}"
    );
    assert_eq!(
        h.get("x-frame-options").map(|v| v.to_str().unwrap()),
        Some("DENY"),
        "{page}"
    );
    assert!(
        h["content-type"].to_str().unwrap().starts_with("text/html"),
        "{page}: is not HTML"
    );
}

mod requests;
mod sessions;

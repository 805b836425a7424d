//! SPEC §4 `/users` and `/tokens` over HTTP, on every backend: user CRUD and its rules,
//! deactivation and password changes ending tokens, the token management list with every
//! filter, pagination, the null semantics of `expires_at`/`refreshes_left`, and revocation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::oauth::basic_credentials;
use crate::common::oauth::{cc_token, introspect_active, refresh, tok};
use crate::common::{confidential, expect_field_error, field_errors, TestServer};
use crate::common::{expect_problem, expect_problem_for};
use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use tollgate_core::oauth::{AuthorizeRequest, TokenRequest};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const USER_KEYS: [&str; 7] = [
    "id",
    "username",
    "display_name",
    "active",
    "admin",
    "created_at",
    "updated_at",
];

const TOKEN_KEYS: [&str; 11] = [
    "id",
    "kind",
    "client_id",
    "client_name",
    "client_version",
    "username",
    "scopes",
    "grant_type",
    "issued_at",
    "expires_at",
    "status",
];

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

async fn create_user(s: &TestServer, username: &str, password: &str) -> Value {
    let body = json!({"username": username, "password": password});
    created(s, "/users", &body).await
}

/// A user `username` with password `{username}-password` and the `extra` fields; its JSON.
async fn user_with(s: &TestServer, username: &str, extra: Value) -> Value {
    let mut body = json!({"username": username, "password": format!("{username}-password")});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    created(s, "/users", &body).await
}

/// POSTs `body` to `path`; the JSON of its 201.
async fn created(s: &TestServer, path: &str, body: &Value) -> Value {
    json_of(s.post(path, body).await, 201).await
}

/// PATCHes `path` with `body`; the JSON of its 200.
async fn updated(s: &TestServer, path: &str, body: &Value) -> Value {
    json_of(s.patch(path, body).await, 200).await
}

/// A confidential client with the given grants; returns (client_id, secret).
async fn client_with(s: &TestServer, name: &str, extra: Value) -> (String, String) {
    let mut body = confidential(name);
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let c = s.create_client(&body).await;
    crate::common::id_and_secret(&c)
}

/// A password grant access token.
async fn pw_token(
    s: &TestServer,
    client_id: &str,
    secret: &str,
    username: &str,
    password: &str,
) -> Result<String, tollgate_core::oauth::OAuthError> {
    s.state
        .services
        .oauth
        .token(
            &basic_credentials(client_id, secret),
            Ok(TokenRequest::Password {
                username: Some(username.into()),
                password: Some(password.into()),
                scope: None,
            }),
            None,
        )
        .await
        .map(|r| r.access_token.expose().to_owned())
}

/// The authorization code grant for `username`, consent skipped: (access, refresh).
async fn code_tokens(
    s: &TestServer,
    client_id: &str,
    secret: &str,
    username: &str,
) -> (String, Option<String>) {
    let oauth = &s.state.services.oauth;
    let user = s
        .state
        .services
        .users
        .get_by_username(username)
        .await
        .unwrap();
    let v = oauth
        .validate_authorize(&AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(client_id.into()),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|_| panic!("authorize refused"));
    let redirect = oauth.approve(&user, &v).await.unwrap();
    let url = url::Url::parse(&redirect).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let r = oauth
        .token(
            &basic_credentials(client_id, secret),
            Ok(TokenRequest::AuthorizationCode {
                code: Some(code),
                redirect_uri: None,
                code_verifier: None,
            }),
            None,
        )
        .await
        .unwrap();
    (
        r.access_token.expose().to_owned(),
        r.refresh_token.map(|t| t.expose().to_owned()),
    )
}

/// Every item of `/tokens?{query}` (one page of up to 500).
async fn tokens(s: &TestServer, query: &str) -> Vec<Value> {
    let sep = if query.is_empty() { "" } else { "&" };
    let page = json_of(s.get(&format!("/tokens?limit=500{sep}{query}")).await, 200).await;
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"].as_array().unwrap().clone()
}

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The id of the one token matching `query` issued by `grant` (newest first).
fn id_of(items: &[Value], kind: &str, grant: &str) -> Vec<String> {
    items
        .iter()
        .filter(|t| t["kind"] == kind && t["grant_type"] == grant)
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

mod tokens;
mod users;

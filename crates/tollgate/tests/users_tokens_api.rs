//! SPEC §4 `/users` and `/tokens` over HTTP, on every backend: user CRUD and its rules,
//! deactivation and password changes ending tokens, the token management list with every
//! filter, pagination, the null semantics of `expires_at`/`refreshes_left`, and revocation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{confidential, expect_field_error, field_errors, start_with, Options, TestServer};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tollgate_core::oauth::{AuthMethod, AuthorizeRequest, ClientCredentials, TokenRequest};
use tollgate_core::secret::Secret;
use tollgate_core::ManualClock;

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

async fn json_of(res: reqwest::Response, status: u16, backend: &str) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "[{backend}] {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap()
    }
}

async fn problem(res: reqwest::Response, status: u16, backend: &str) -> Value {
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "[{backend}]"
    );
    json_of(res, status, backend).await
}

async fn create_user(s: &TestServer, username: &str, password: &str) -> Value {
    let res = s
        .post(
            "/users",
            &json!({"username": username, "password": password}),
        )
        .await;
    json_of(res, 201, s.name()).await
}

/// A confidential client with the given grants; returns (client_id, secret).
async fn client_with(s: &TestServer, name: &str, extra: Value) -> (String, String) {
    let mut body = confidential(name);
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let c = s.create_client(&body).await;
    (
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    )
}

fn creds(client_id: &str, secret: &str) -> ClientCredentials {
    ClientCredentials {
        client_id: client_id.to_owned(),
        secret: Some(Secret::new(secret.to_owned())),
        method: AuthMethod::Basic,
    }
}

/// A client credentials access token.
async fn cc_token(s: &TestServer, client_id: &str, secret: &str) -> String {
    s.state
        .services
        .oauth
        .token(
            &creds(client_id, secret),
            Ok(TokenRequest::ClientCredentials { scope: None }),
            None,
        )
        .await
        .unwrap()
        .access_token
        .expose()
        .to_owned()
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
            &creds(client_id, secret),
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
            &creds(client_id, secret),
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

async fn refresh(
    s: &TestServer,
    client_id: &str,
    secret: &str,
    refresh_token: &str,
) -> (String, Option<String>) {
    let r = s
        .state
        .services
        .oauth
        .token(
            &creds(client_id, secret),
            Ok(TokenRequest::RefreshToken {
                refresh_token: Some(refresh_token.into()),
                scope: None,
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

async fn introspect_active(s: &TestServer, token: &str) -> bool {
    s.state
        .services
        .oauth
        .introspect(token)
        .await
        .unwrap()
        .active
}

/// Every item of `/tokens?{query}` (one page of up to 500).
async fn tokens(s: &TestServer, query: &str) -> Vec<Value> {
    let sep = if query.is_empty() { "" } else { "&" };
    let page = json_of(
        s.get(&format!("/tokens?limit=500{sep}{query}")).await,
        200,
        s.name(),
    )
    .await;
    assert!(page["next_cursor"].is_null(), "[{}] {page}", s.name());
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

async fn manual_servers(clock: &Arc<ManualClock>) -> Vec<TestServer> {
    let mut v = Vec::new();
    for db in tollgate_testkit::each_backend().await {
        v.push(
            start_with(
                db,
                Options {
                    clock: clock.clone(),
                    ..Options::default()
                },
            )
            .await,
        );
    }
    v
}

fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

// ---------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_crud_and_the_password_is_never_returned() {
    for s in common::servers().await {
        let n = s.name();
        // Another active admin, so Alice may be demoted below (the last one may not be).
        let root = s
            .post(
                "/users",
                &json!({"username": "root", "password": "root-password", "admin": true}),
            )
            .await;
        assert_eq!(root.status(), 201, "[{n}]");
        let password = "correct horse battery";
        let res = s
            .post(
                "/users",
                &json!({"username": "Alice", "display_name": "  Alice Liddell ", "password": password, "admin": true}),
            )
            .await;
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let created = json_of(res, 201, n).await;
        assert_eq!(keys(&created), set(&USER_KEYS), "[{n}] {created}");
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(location, format!("/admin/api/v1/users/{id}"), "[{n}]");
        assert_eq!(created["username"], "Alice");
        assert_eq!(created["display_name"], "Alice Liddell");
        assert_eq!(created["admin"], true);
        assert_eq!(created["active"], true, "[{n}] active by default");

        let fetched = json_of(s.get(&format!("/users/{id}")).await, 200, n).await;
        assert_eq!(fetched, created, "[{n}]");

        // Defaults: not an admin, active; explicit inactive is kept.
        let bob = create_user(&s, "bob", "bob-password").await;
        assert_eq!(
            (bob["admin"].clone(), bob["active"].clone()),
            (json!(false), json!(true))
        );
        assert!(bob["display_name"].is_null(), "[{n}]");
        let carol = json_of(
            s.post(
                "/users",
                &json!({"username": "carol", "password": "carol-password", "active": false}),
            )
            .await,
            201,
            n,
        )
        .await;
        assert_eq!(carol["active"], false, "[{n}]");

        // List: ordered by username, `q` is a case-insensitive substring.
        let all = json_of(s.get("/users").await, 200, n).await;
        let names: Vec<&str> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"Alice") && names.contains(&"bob"),
            "[{n}] {names:?}"
        );
        let mut sorted = names.clone();
        sorted.sort_by_key(|u| u.to_lowercase());
        assert_eq!(names, sorted, "[{n}]");
        assert!(all["next_cursor"].is_null());
        let q = json_of(s.get("/users?q=LIC").await, 200, n).await;
        let found: Vec<&Value> = q["items"].as_array().unwrap().iter().collect();
        assert_eq!(found.len(), 1, "[{n}] {q}");
        assert_eq!(found[0]["id"], id.as_str());
        for u in all["items"].as_array().unwrap() {
            assert_eq!(keys(u), set(&USER_KEYS), "[{n}] {u}");
        }

        // PATCH: change, keep what is left out, null clears the display name.
        let patched = json_of(
            s.patch(&format!("/users/{id}"), &json!({"admin": false}))
                .await,
            200,
            n,
        )
        .await;
        assert_eq!(patched["admin"], false);
        assert_eq!(patched["display_name"], "Alice Liddell", "[{n}] kept");
        assert_eq!(patched["username"], "Alice");
        let cleared = json_of(
            s.patch(&format!("/users/{id}"), &json!({"display_name": null}))
                .await,
            200,
            n,
        )
        .await;
        assert!(cleared["display_name"].is_null(), "[{n}] {cleared}");
        assert_eq!(cleared["admin"], false, "[{n}]");
        let again = json_of(s.get(&format!("/users/{id}")).await, 200, n).await;
        assert_eq!(again, cleared, "[{n}] the change was stored");

        // The username cannot be changed, nor can a password be set with PATCH.
        for body in [
            json!({"username": "eve"}),
            json!({"password": "new-password"}),
        ] {
            let v = problem(s.patch(&format!("/users/{id}"), &body).await, 400, n).await;
            assert!(
                v["detail"].as_str().unwrap().contains("unknown field"),
                "[{n}] {v}"
            );
        }
        // A flag cannot be null.
        let v = problem(
            s.patch(
                &format!("/users/{id}"),
                &json!({"active": null, "admin": null}),
            )
            .await,
            422,
            n,
        )
        .await;
        let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, set(&["active", "admin"]), "[{n}] {v}");

        // Nothing we sent or stored as a password appears anywhere the API shows.
        let mut seen = String::new();
        for path in ["/users", &format!("/users/{id}"), "/audit?limit=500"] {
            seen.push_str(&s.get(path).await.text().await.unwrap());
        }
        for secret in [
            password,
            "bob-password",
            "carol-password",
            "argon2",
            "password_hash",
        ] {
            assert!(!seen.contains(secret), "[{n}] {secret:?} leaked: {seen}");
        }

        // Delete: 204, then gone (404), and a second delete is 404 too.
        let res = s.delete(&format!("/users/{id}")).await;
        assert_eq!(res.status(), 204, "[{n}]");
        problem(s.get(&format!("/users/{id}")).await, 404, n).await;
        problem(s.delete(&format!("/users/{id}")).await, 404, n).await;
        problem(
            s.patch(&format!("/users/{id}"), &json!({"admin": true}))
                .await,
            404,
            n,
        )
        .await;
        problem(
            s.post(
                &format!("/users/{id}/password"),
                &json!({"password": "long enough"}),
            )
            .await,
            404,
            n,
        )
        .await;

        // Every change is in the audit log.
        let audit = json_of(s.get(&format!("/audit?target_id={id}")).await, 200, n).await;
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["user.delete", "user.update", "user.update", "user.create"],
            "[{n}] {audit}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_username_is_409_case_insensitively() {
    for s in common::servers().await {
        let n = s.name();
        create_user(&s, "Dave", "dave-password").await;
        for dup in ["Dave", "dave", "DAVE", "  dAvE  "] {
            let v = problem(
                s.post(
                    "/users",
                    &json!({"username": dup, "password": "another-password"}),
                )
                .await,
                409,
                n,
            )
            .await;
            assert!(
                v["detail"].as_str().unwrap().contains("already exists"),
                "[{n}] {v}"
            );
        }
        let all = json_of(s.get("/users?q=dave").await, 200, n).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 1, "[{n}] {all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_validation_is_422_naming_every_bad_field() {
    for s in common::servers().await {
        let n = s.name();
        // Nothing given: both required fields are named at once.
        let v = problem(s.post("/users", &json!({})).await, 422, n).await;
        let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, set(&["password", "username"]), "[{n}] {v}");

        let v = problem(
            s.post(
                "/users",
                &json!({"username": "has space", "password": "short", "display_name": "x".repeat(101)}),
            )
            .await,
            422,
            n,
        )
        .await;
        let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            set(&["display_name", "password", "username"]),
            "[{n}] {v}"
        );
        expect_field_error(
            s.post(
                "/users",
                &json!({"username": "u".repeat(65), "password": "long enough"}),
            )
            .await,
            "username",
            "invalid_length",
            n,
        )
        .await;

        // Malformed input is 400, not 422.
        problem(
            s.post(
                "/users",
                &json!({"username": "x", "password": "long enough", "admin": "yes"}),
            )
            .await,
            400,
            n,
        )
        .await;
        problem(
            s.post(
                "/users",
                &json!({"username": "x", "password": "long enough", "role": "admin"}),
            )
            .await,
            400,
            n,
        )
        .await;
        let res = s
            .admin(Method::POST, "/users")
            .header("content-type", "text/plain")
            .body("username=x")
            .send()
            .await
            .unwrap();
        problem(res, 415, n).await;

        // Nothing was created by the refused requests.
        let all = json_of(s.get("/users").await, 200, n).await;
        assert_eq!(all["items"].as_array().unwrap().len(), 0, "[{n}] {all}");

        // Paging parameters.
        expect_field_error(s.get("/users?limit=0").await, "limit", "out_of_range", n).await;
        expect_field_error(s.get("/users?cursor=bogus").await, "cursor", "invalid", n).await;
        problem(s.get("/users?active=true").await, 400, n).await;

        // Password rules on set-password, and the password field is required.
        let u = create_user(&s, "erin", "erin-password").await;
        let path = format!("/users/{}/password", u["id"].as_str().unwrap());
        expect_field_error(
            s.post(&path, &json!({"password": "short"})).await,
            "password",
            "invalid_length",
            n,
        )
        .await;
        expect_field_error(
            s.post(&path, &json!({})).await,
            "password",
            "invalid_length",
            n,
        )
        .await;
        problem(s.post(&path, &json!({"pass": "long enough"})).await, 400, n).await;
        assert!(s
            .state
            .services
            .users
            .verify_login("erin", "erin-password", Default::default())
            .await
            .unwrap()
            .is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_paginate_with_a_cursor() {
    for s in common::servers().await {
        let n = s.name();
        let hash = tollgate_core::user::PasswordHashing::new(Default::default())
            .hash("pw-for-all".into())
            .await
            .unwrap();
        // Insert directly: five Argon2 hashes over HTTP would only slow the test down.
        for name in ["u-e", "U-A", "u-d", "u-b", "u-c", "other"] {
            let user = tollgate_core::user::User {
                id: format!("id-{}", name.to_lowercase()),
                username: name.into(),
                display_name: None,
                active: true,
                admin: false,
                password_hash: hash.clone(),
                token_epoch: 0,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            };
            let audit = tollgate_core::audit::AuditEvent::new(
                &tollgate_core::audit::Actor::new("test", None),
                Utc::now(),
                "user.create",
                "user",
                &user.id,
                tollgate_core::details! {},
            );
            s.state
                .services
                .store
                .insert_user(&user, &audit)
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                None => "/users?q=u-&limit=2".to_owned(),
                Some(c) => format!("/users?q=u-&limit=2&cursor={c}"),
            };
            let page = json_of(s.get(&path).await, 200, n).await;
            pages += 1;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2, "[{n}] {page}");
            seen.extend(
                items
                    .iter()
                    .map(|u| u["username"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(pages < 10, "[{n}] pagination does not end");
        }
        assert_eq!(seen, ["U-A", "u-b", "u-c", "u-d", "u-e"], "[{n}]");
        assert_eq!(pages, 3, "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_password_replaces_the_old_one_and_ends_the_users_tokens() {
    for s in common::servers().await {
        let n = s.name();
        let u = create_user(&s, "frank", "old-password").await;
        let (cid, secret) = client_with(&s, "Pw App", json!({"grant_types": ["password"]})).await;
        let token = pw_token(&s, &cid, &secret, "frank", "old-password")
            .await
            .unwrap();
        assert!(introspect_active(&s, &token).await, "[{n}]");

        let res = s
            .post(
                &format!("/users/{}/password", u["id"].as_str().unwrap()),
                &json!({"password": "new-password"}),
            )
            .await;
        assert_eq!(res.status(), 204, "[{n}]");
        assert!(res.text().await.unwrap().is_empty(), "[{n}] no body");

        let users = &s.state.services.users;
        let ok = users
            .verify_login("FRANK", "new-password", Default::default())
            .await
            .unwrap();
        assert_eq!(ok.map(|u| u.username), Some("frank".to_owned()), "[{n}]");
        assert!(
            users
                .verify_login("frank", "old-password", Default::default())
                .await
                .unwrap()
                .is_none(),
            "[{n}] the old password must stop working"
        );
        assert!(!introspect_active(&s, &token).await, "[{n}] old token ends");
        let audit = json_of(
            s.get(&format!(
                "/audit?action=user.set_password&target_id={}",
                u["id"].as_str().unwrap()
            ))
            .await,
            200,
            n,
        )
        .await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1, "[{n}] {audit}");
        assert!(!audit.to_string().contains("new-password"), "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_user_invalidates_their_tokens_for_good() {
    for s in common::servers().await {
        let n = s.name();
        let u = create_user(&s, "grace", "grace-password").await;
        let other = create_user(&s, "heidi", "heidi-password").await;
        let (cid, secret) = client_with(&s, "Pw App", json!({"grant_types": ["password"]})).await;
        let token = pw_token(&s, &cid, &secret, "grace", "grace-password")
            .await
            .unwrap();
        let heidis = pw_token(&s, &cid, &secret, "heidi", "heidi-password")
            .await
            .unwrap();
        let grace_tokens = tokens(&s, "username=grace").await;
        assert_eq!(grace_tokens.len(), 1, "[{n}]");
        assert_eq!(grace_tokens[0]["status"], "active", "[{n}]");
        let token_id = grace_tokens[0]["id"].as_str().unwrap().to_owned();

        let path = format!("/users/{}", u["id"].as_str().unwrap());
        let v = json_of(s.patch(&path, &json!({"active": false})).await, 200, n).await;
        assert_eq!(v["active"], false, "[{n}]");

        let revoked = tokens(&s, "status=revoked").await;
        assert_eq!(ids(&revoked), set(&[&token_id]), "[{n}] {revoked:?}");
        assert!(
            tokens(&s, "status=active&username=grace").await.is_empty(),
            "[{n}]"
        );
        assert!(!introspect_active(&s, &token).await, "[{n}]");
        // Other users' tokens are untouched.
        assert!(introspect_active(&s, &heidis).await, "[{n}]");
        assert_eq!(other["active"], true);
        // An inactive user can get no token and cannot log in.
        assert!(pw_token(&s, &cid, &secret, "grace", "grace-password")
            .await
            .is_err());
        assert!(s
            .state
            .services
            .users
            .verify_login("grace", "grace-password", Default::default())
            .await
            .unwrap()
            .is_none());

        // Reactivating does not revive the old token; new tokens work.
        json_of(s.patch(&path, &json!({"active": true})).await, 200, n).await;
        assert!(!introspect_active(&s, &token).await, "[{n}] stays dead");
        let t = json_of(s.get(&format!("/tokens/{token_id}")).await, 200, n).await;
        assert_eq!(t["status"], "revoked", "[{n}]");
        let fresh = pw_token(&s, &cid, &secret, "grace", "grace-password")
            .await
            .unwrap();
        assert!(introspect_active(&s, &fresh).await, "[{n}]");

        let actions: Vec<String> = json_of(
            s.get(&format!("/audit?target_id={}", u["id"].as_str().unwrap()))
                .await,
            200,
            n,
        )
        .await["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            actions,
            ["user.activate", "user.deactivate", "user.create"],
            "[{n}]"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_user_removes_their_tokens() {
    for s in common::servers().await {
        let n = s.name();
        let u = create_user(&s, "ivan", "ivan-password").await;
        let (cid, secret) = client_with(
            &s,
            "Pw App",
            json!({"grant_types": ["password", "client_credentials"]}),
        )
        .await;
        let token = pw_token(&s, &cid, &secret, "ivan", "ivan-password")
            .await
            .unwrap();
        let client_token = cc_token(&s, &cid, &secret).await;
        assert_eq!(tokens(&s, "username=ivan").await.len(), 1, "[{n}]");

        let res = s
            .delete(&format!("/users/{}", u["id"].as_str().unwrap()))
            .await;
        assert_eq!(res.status(), 204, "[{n}]");
        assert!(tokens(&s, "username=ivan").await.is_empty(), "[{n}]");
        assert!(!introspect_active(&s, &token).await, "[{n}]");
        assert!(
            introspect_active(&s, &client_token).await,
            "[{n}] not the client's"
        );
        assert_eq!(tokens(&s, "").await.len(), 1, "[{n}]");
    }
}

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_list_filters_statuses_and_null_semantics() {
    let clock = Arc::new(ManualClock::new(start_time()));
    for s in manual_servers(&clock).await {
        let n = s.name();
        let t0 = clock_now(&s);
        create_user(&s, "judy", "judy-password").await;
        create_user(&s, "ken", "ken-password").await;

        // A: client credentials, tokens live 60 s.
        let (a, a_secret) = client_with(
            &s,
            "Alpha",
            json!({"access_token_lifetime": 60, "scopes": ["api:read", "api:write"]}),
        )
        .await;
        let a1 = cc_token(&s, &a, &a_secret).await;
        let a2 = cc_token(&s, &a, &a_secret).await;
        // B: password + authorization code, never-expiring access tokens, 2 refreshes.
        let (b, b_secret) = client_with(
            &s,
            "Beta",
            json!({
                "version": "2.5",
                "grant_types": ["password", "authorization_code"],
                "redirect_uris": ["https://beta.example.com/cb"],
                "access_token_lifetime": "never",
                "refresh_count": 2,
            }),
        )
        .await;
        let b1 = pw_token(&s, &b, &b_secret, "judy", "judy-password")
            .await
            .unwrap();
        let (b2, r1) = code_tokens(&s, &b, &b_secret, "judy").await;
        let r1 = r1.expect("refresh_count 2 gives a refresh token");
        // C: authorization code, unlimited refreshes, 3600 s.
        let (c, c_secret) = client_with(
            &s,
            "Gamma",
            json!({
                "grant_types": ["authorization_code"],
                "redirect_uris": ["https://gamma.example.com/cb"],
                "refresh_count": "unlimited",
            }),
        )
        .await;
        let (c1, r2) = code_tokens(&s, &c, &c_secret, "ken").await;
        let r2 = r2.expect("unlimited gives a refresh token");

        // Time passes: A's tokens expire; then B's refresh token is used once.
        clock.advance(Duration::seconds(61));
        let (b3, r1b) = refresh(&s, &b, &b_secret, &r1).await;
        let r1b = r1b.expect("one refresh left");

        let all = tokens(&s, "").await;
        assert_eq!(all.len(), 9, "[{n}] {all:?}");
        // Newest first.
        let issued: Vec<&str> = all
            .iter()
            .map(|t| t["issued_at"].as_str().unwrap())
            .collect();
        let mut sorted = issued.clone();
        sorted.sort_by(|x, y| y.cmp(x));
        assert_eq!(issued, sorted, "[{n}]");

        // Wire format: exactly the SPEC §4 fields; refreshes_left only on refresh tokens.
        let listing = serde_json::to_string(&all).unwrap();
        for secret in [&a1, &a2, &b1, &b2, &b3, &c1, &r1, &r1b, &r2] {
            assert!(
                !listing.contains(secret.as_str()),
                "[{n}] token value leaked"
            );
        }
        assert!(!listing.contains("hmac-sha256"), "[{n}] hash leaked");
        for t in &all {
            let mut expected = set(&TOKEN_KEYS);
            if t["kind"] == "refresh" {
                expected.insert("refreshes_left".into());
            } else {
                assert_eq!(t["kind"], "access", "[{n}] {t}");
            }
            assert_eq!(keys(t), expected, "[{n}] {t}");
        }

        // kind
        let refresh_items = tokens(&s, "kind=refresh").await;
        assert_eq!(refresh_items.len(), 3, "[{n}] {refresh_items:?}");
        let by_client = |items: &[Value], cid: &str| -> Vec<Value> {
            items
                .iter()
                .filter(|t| t["client_id"] == cid)
                .cloned()
                .collect()
        };
        let beta_refresh = by_client(&refresh_items, &b);
        assert_eq!(beta_refresh.len(), 2, "[{n}]");
        // Newest first: the rotated one (1 left, active), then the consumed one (2, revoked).
        assert_eq!(
            beta_refresh[0]["refreshes_left"], 1,
            "[{n}] {beta_refresh:?}"
        );
        assert_eq!(beta_refresh[0]["status"], "active", "[{n}]");
        assert_eq!(beta_refresh[0]["grant_type"], "refresh_token", "[{n}]");
        assert_eq!(beta_refresh[1]["refreshes_left"], 2, "[{n}]");
        assert_eq!(
            beta_refresh[1]["status"], "revoked",
            "[{n}] consumed by the refresh"
        );
        let gamma_refresh = by_client(&refresh_items, &c);
        assert_eq!(gamma_refresh.len(), 1);
        let g = &gamma_refresh[0];
        assert!(
            g.get("refreshes_left").is_some() && g["refreshes_left"].is_null(),
            "[{n}] unlimited is an explicit null: {g}"
        );
        assert!(
            g["expires_at"].is_null(),
            "[{n}] refresh tokens never expire"
        );
        assert_eq!(g["username"], "ken");
        assert_eq!(g["client_name"], "Gamma");
        assert_eq!(g["grant_type"], "authorization_code");
        let access_items = tokens(&s, "kind=access").await;
        assert_eq!(access_items.len(), 6, "[{n}]");
        assert!(access_items.iter().all(|t| t["kind"] == "access"));
        assert_eq!(
            ids(&access_items).union(&ids(&refresh_items)).count(),
            9,
            "[{n}]"
        );

        // client_id
        let alpha = tokens(&s, &format!("client_id={a}")).await;
        assert_eq!(alpha.len(), 2, "[{n}]");
        for t in &alpha {
            assert_eq!(t["client_name"], "Alpha");
            assert_eq!(t["client_version"], "1.0");
            assert_eq!(t["grant_type"], "client_credentials");
            assert!(
                t["username"].is_null(),
                "[{n}] client tokens have no user: {t}"
            );
            assert_eq!(t["scopes"], json!(["api:read", "api:write"]));
            assert_eq!(t["status"], "expired", "[{n}] {t}");
            // expires_at = issued_at + 60 s.
            let issued: DateTime<Utc> = t["issued_at"].as_str().unwrap().parse().unwrap();
            let expires: DateTime<Utc> = t["expires_at"].as_str().unwrap().parse().unwrap();
            assert_eq!(issued, t0, "[{n}]");
            assert_eq!(expires - issued, Duration::seconds(60), "[{n}]");
        }

        // status
        assert_eq!(
            ids(&tokens(&s, "status=expired").await),
            ids(&alpha),
            "[{n}]"
        );
        let revoked = tokens(&s, "status=revoked").await;
        assert_eq!(revoked.len(), 1, "[{n}] {revoked:?}");
        assert_eq!(revoked[0]["id"], beta_refresh[1]["id"]);
        let active = tokens(&s, "status=active").await;
        assert_eq!(active.len(), 6, "[{n}]");
        assert!(active.iter().all(|t| t["status"] == "active"));
        for item in &all {
            let expected = item["status"].as_str().unwrap();
            let in_list = match expected {
                "active" => &active,
                "revoked" => &revoked,
                _ => &alpha,
            };
            assert!(ids(in_list).contains(item["id"].as_str().unwrap()), "[{n}]");
        }

        // username (case-insensitive)
        let judy = tokens(&s, "username=JUDY").await;
        // b1 (password), b2 + r1 (code), b3 + r1b (refresh).
        assert_eq!(judy.len(), 5, "[{n}] {judy:?}");
        assert!(judy.iter().all(|t| t["username"] == "judy"));
        assert_eq!(id_of(&judy, "access", "password").len(), 1, "[{n}]");
        assert!(tokens(&s, "username=nobody").await.is_empty());

        // Never-expiring access tokens: expires_at is null, and they stay active.
        let beta_access = tokens(&s, &format!("client_id={b}&kind=access")).await;
        assert_eq!(beta_access.len(), 3, "[{n}]");
        for t in &beta_access {
            assert!(
                t.get("expires_at").is_some() && t["expires_at"].is_null(),
                "[{n}] never = null: {t}"
            );
            assert_eq!(t["status"], "active");
            assert_eq!(t["client_version"], "2.5");
        }
        let gamma_access = tokens(&s, &format!("client_id={c}&kind=access")).await;
        assert_eq!(gamma_access.len(), 1);
        let expires: DateTime<Utc> = gamma_access[0]["expires_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(expires, t0 + Duration::seconds(3600), "[{n}]");

        // Filters combine.
        let combo = tokens(
            &s,
            &format!("client_id={b}&kind=refresh&status=active&username=judy"),
        )
        .await;
        assert_eq!(combo.len(), 1, "[{n}]");
        assert_eq!(combo[0]["refreshes_left"], 1);
        assert!(tokens(&s, &format!("client_id={a}&status=active"))
            .await
            .is_empty());

        // GET one: the same item.
        for t in &all {
            let one = json_of(
                s.get(&format!("/tokens/{}", t["id"].as_str().unwrap()))
                    .await,
                200,
                n,
            )
            .await;
            assert_eq!(&one, t, "[{n}]");
        }
        problem(s.get("/tokens/no-such-token").await, 404, n).await;

        // The view agrees with introspection.
        assert!(!introspect_active(&s, &a1).await);
        assert!(!introspect_active(&s, &r1).await);
        for tok in [&b1, &b2, &b3, &c1, &r1b, &r2] {
            assert!(introspect_active(&s, tok).await, "[{n}]");
        }
        let _ = a2;
    }
}

fn clock_now(s: &TestServer) -> DateTime<Utc> {
    s.state.services.tokens.now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_list_paginates_with_and_without_filters() {
    for s in common::servers().await {
        let n = s.name();
        let (a, a_secret) = client_with(&s, "Pager A", json!({})).await;
        let (b, b_secret) = client_with(&s, "Pager B", json!({})).await;
        for _ in 0..4 {
            cc_token(&s, &a, &a_secret).await;
            cc_token(&s, &b, &b_secret).await;
        }
        let all = tokens(&s, "").await;
        assert_eq!(all.len(), 8, "[{n}]");
        let expected: Vec<String> = all
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect();

        for (filter, want) in [
            ("", expected.clone()),
            (
                &*format!("client_id={b}"),
                all.iter()
                    .filter(|t| t["client_id"] == b.as_str())
                    .map(|t| t["id"].as_str().unwrap().to_owned())
                    .collect(),
            ),
        ] {
            let mut seen: Vec<String> = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let mut path = format!("/tokens?limit=3&{filter}");
                if let Some(c) = &cursor {
                    path.push_str(&format!("&cursor={c}"));
                }
                let page = json_of(s.get(&path).await, 200, n).await;
                pages += 1;
                let items = page["items"].as_array().unwrap();
                assert!(items.len() <= 3 && !items.is_empty(), "[{n}] {page}");
                seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
                assert!(pages < 10, "[{n}] pagination does not end");
            }
            assert_eq!(
                seen, want,
                "[{n}] filter {filter:?}: same order, no gaps or repeats"
            );
            assert_eq!(pages, want.len().div_ceil(3), "[{n}]");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_list_refuses_bad_parameters() {
    for s in common::servers().await {
        let n = s.name();
        let v =
            expect_field_error(s.get("/tokens?kind=id_token").await, "kind", "invalid", n).await;
        assert!(
            v["detail"].as_str().unwrap().contains("id_token"),
            "[{n}] {v}"
        );
        expect_field_error(
            s.get("/tokens?status=consumed").await,
            "status",
            "invalid",
            n,
        )
        .await;
        // Case matters: the values are the documented lower-case words.
        expect_field_error(s.get("/tokens?kind=ACCESS").await, "kind", "invalid", n).await;
        let v = problem(s.get("/tokens?kind=x&status=y").await, 422, n).await;
        let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, set(&["kind", "status"]), "[{n}] both at once: {v}");
        expect_field_error(s.get("/tokens?limit=501").await, "limit", "out_of_range", n).await;
        expect_field_error(s.get("/tokens?cursor=%%%").await, "cursor", "invalid", n).await;
        problem(s.get("/tokens?grant_type=password").await, 400, n).await;
        problem(s.get("/tokens?limit=many").await, 400, n).await;
        // The valid values are accepted.
        for q in [
            "kind=access",
            "kind=refresh",
            "status=active",
            "status=expired",
            "status=revoked",
        ] {
            json_of(s.get(&format!("/tokens?{q}")).await, 200, n).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_revokes_a_token_and_audits_it_without_the_token() {
    for s in common::servers().await {
        let n = s.name();
        create_user(&s, "leo", "leo-password").await;
        let (a, a_secret) = client_with(&s, "Revoke A", json!({})).await;
        let keep = cc_token(&s, &a, &a_secret).await;
        let gone = cc_token(&s, &a, &a_secret).await;
        let items = tokens(&s, "").await;
        // Newest first: `gone` was issued last.
        let gone_id = items[0]["id"].as_str().unwrap().to_owned();
        let keep_id = items[1]["id"].as_str().unwrap().to_owned();

        let res = s.delete(&format!("/tokens/{gone_id}")).await;
        assert_eq!(res.status(), 204, "[{n}]");
        assert!(res.text().await.unwrap().is_empty());
        let t = json_of(s.get(&format!("/tokens/{gone_id}")).await, 200, n).await;
        assert_eq!(t["status"], "revoked", "[{n}]");
        assert!(!introspect_active(&s, &gone).await, "[{n}]");
        // Only that one.
        let k = json_of(s.get(&format!("/tokens/{keep_id}")).await, 200, n).await;
        assert_eq!(k["status"], "active", "[{n}]");
        assert!(introspect_active(&s, &keep).await, "[{n}]");

        let audit = json_of(
            s.get(&format!("/audit?action=token.revoke&target_id={gone_id}"))
                .await,
            200,
            n,
        )
        .await;
        let entries = audit["items"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "[{n}] {audit}");
        assert_eq!(entries[0]["target_type"], "token");
        assert_eq!(entries[0]["actor"], s.actor.as_str());
        assert_eq!(entries[0]["details"]["client_id"], a.as_str());
        let whole_log = s.get("/audit?limit=500").await.text().await.unwrap();
        assert!(
            !whole_log.contains(&gone) && !whole_log.contains(&keep),
            "[{n}] token in audit"
        );

        // Revoking again succeeds and writes nothing more.
        assert_eq!(s.delete(&format!("/tokens/{gone_id}")).await.status(), 204);
        let audit = json_of(s.get("/audit?action=token.revoke").await, 200, n).await;
        assert_eq!(audit["items"].as_array().unwrap().len(), 1, "[{n}] {audit}");
        problem(s.delete("/tokens/no-such-token").await, 404, n).await;

        // A refresh token takes its whole authorization with it.
        let (b, b_secret) = client_with(
            &s,
            "Revoke B",
            json!({
                "grant_types": ["authorization_code"],
                "redirect_uris": ["https://b.example.com/cb"],
                "refresh_count": 3,
            }),
        )
        .await;
        let (access, refresh_token) = code_tokens(&s, &b, &b_secret, "leo").await;
        let refresh_token = refresh_token.unwrap();
        let family = tokens(&s, &format!("client_id={b}")).await;
        assert_eq!(family.len(), 2, "[{n}]");
        let refresh_id = id_of(&family, "refresh", "authorization_code");
        assert_eq!(refresh_id.len(), 1);
        assert_eq!(
            s.delete(&format!("/tokens/{}", refresh_id[0]))
                .await
                .status(),
            204
        );
        let after = tokens(&s, &format!("client_id={b}")).await;
        assert!(
            after.iter().all(|t| t["status"] == "revoked"),
            "[{n}] {after:?}"
        );
        assert!(!introspect_active(&s, &access).await);
        assert!(!introspect_active(&s, &refresh_token).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_tokens_need_an_admin_key_and_are_documented() {
    for s in common::servers().await {
        let n = s.name();
        for path in ["/users", "/tokens", "/users/x", "/tokens/x"] {
            let res = s
                .http
                .get(s.url(&format!("/admin/api/v1{path}")))
                .send()
                .await
                .unwrap();
            problem(res, 401, n).await;
        }
        let res = s
            .http
            .post(s.url("/admin/api/v1/users"))
            .json(&json!({"username": "mallory", "password": "long enough"}))
            .send()
            .await
            .unwrap();
        problem(res, 401, n).await;
        let res = s
            .http
            .delete(s.url("/admin/api/v1/tokens/x"))
            .send()
            .await
            .unwrap();
        problem(res, 401, n).await;
        problem(s.admin(Method::PUT, "/users").send().await.unwrap(), 405, n).await;

        let doc = json_of(s.get("/openapi.json").await, 200, n).await;
        let paths = &doc["paths"];
        for (path, methods) in [
            ("/users", &["get", "post"][..]),
            ("/users/{id}", &["get", "patch", "delete"][..]),
            ("/users/{id}/password", &["post"][..]),
            ("/tokens", &["get"][..]),
            ("/tokens/{id}", &["get", "delete"][..]),
        ] {
            for m in methods {
                assert!(paths[path][m].is_object(), "[{n}] {m} {path} missing");
            }
        }
        let schemas = &doc["components"]["schemas"];
        for name in [
            "UserView",
            "UserCreate",
            "UserPatch",
            "TokenView",
            "TokenPage",
            "UserPage",
        ] {
            assert!(schemas[name].is_object(), "[{n}] schema {name} missing");
        }
        let user_props = keys(&schemas["UserView"]["properties"]);
        assert_eq!(user_props, set(&USER_KEYS), "[{n}]");
        let token_props = keys(&schemas["TokenView"]["properties"]);
        let mut want = set(&TOKEN_KEYS);
        want.insert("refreshes_left".into());
        assert_eq!(token_props, want, "[{n}]");
        let required: BTreeSet<String> = schemas["TokenView"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        assert!(
            !required.contains("refreshes_left"),
            "[{n}] absent on access tokens"
        );
        assert!(
            required.contains("expires_at"),
            "[{n}] always present, null = never"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_active_admin_cannot_be_deactivated_demoted_or_deleted() {
    for s in common::servers().await {
        let n = s.name();
        let only = json_of(
            s.post(
                "/users",
                &json!({"username": "only", "password": "only-password", "admin": true}),
            )
            .await,
            201,
            n,
        )
        .await;
        let id = only["id"].as_str().unwrap().to_owned();
        for body in [json!({"active": false}), json!({"admin": false})] {
            let v = problem(s.patch(&format!("/users/{id}"), &body).await, 409, n).await;
            assert!(
                v["detail"]
                    .as_str()
                    .unwrap()
                    .contains("last active administrator"),
                "[{n}] {v}"
            );
        }
        problem(s.delete(&format!("/users/{id}")).await, 409, n).await;
        // With a second admin it is allowed.
        json_of(
            s.post(
                "/users",
                &json!({"username": "second", "password": "second-password", "admin": true}),
            )
            .await,
            201,
            n,
        )
        .await;
        let v = json_of(
            s.patch(&format!("/users/{id}"), &json!({"active": false}))
                .await,
            200,
            n,
        )
        .await;
        assert_eq!(v["active"], false, "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_user_patch_writes_nothing() {
    for s in common::servers().await {
        let n = s.name();
        let u = json_of(
            s.post(
                "/users",
                &json!({"username": "same", "password": "same-password"}),
            )
            .await,
            201,
            n,
        )
        .await;
        let id = u["id"].as_str().unwrap();
        let v = json_of(
            s.patch(&format!("/users/{id}"), &json!({"admin": false}))
                .await,
            200,
            n,
        )
        .await;
        assert_eq!(v["updated_at"], u["updated_at"], "[{n}]");
        let log = json_of(s.get(&format!("/audit?target_id={id}")).await, 200, n).await;
        assert_eq!(
            log["items"].as_array().unwrap().len(),
            1,
            "[{n}] only user.create"
        );
    }
}

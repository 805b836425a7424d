//! SPEC §1 (clients), rule by rule, over HTTP against the admin API (SPEC §4), on every
//! backend. Each test is named after the rule it proves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::{
    confidential, expect_field_error, expect_problem, field_errors, public, Options, TestServer,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use tollgate::config::RawConfig;
use tollgate_core::{Policy, SystemClock};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// `base` with the keys of `extra` set (overwriting).
fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// `base` without the key `key`.
fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().unwrap().remove(key);
    base
}

fn path(id: &str) -> String {
    format!("/clients/{id}")
}

fn id_of(v: &Value) -> String {
    v["client_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_id in {v}"))
        .to_owned()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn set(v: &Value) -> BTreeSet<String> {
    strings(v).into_iter().collect()
}

fn set_of(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The (field, code) pairs of a client's `warnings`.
fn warning_codes(client: &Value) -> BTreeSet<(String, String)> {
    client["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings array in {client}"))
        .iter()
        .map(|w| {
            (
                w["field"].as_str().unwrap_or("").to_owned(),
                w["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// GET a client: its JSON and its ETag.
async fn snapshot(s: &TestServer, id: &str) -> (Value, String) {
    let res = s.get(&path(id)).await;
    let status = res.status();
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "GET {id}: {v}");
    (v, etag)
}

async fn get_client(s: &TestServer, id: &str) -> Value {
    snapshot(s, id).await.0
}

/// PATCH that must succeed; returns the response JSON.
async fn patch_ok(s: &TestServer, id: &str, body: &Value) -> Value {
    let res = s.patch(&path(id), body).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "PATCH {body} failed: {v}");
    v
}

/// PATCH that must be refused with `field`/`code`, leaving the client exactly as it was.
async fn patch_refused(s: &TestServer, id: &str, body: &Value, field: &str, code: &str) -> Value {
    let before = snapshot(s, id).await;
    let v = expect_field_error(s.patch(&path(id), body).await, field, code).await;
    let after = snapshot(s, id).await;
    assert_eq!(before, after, "the refused PATCH {body} changed the client");
    v
}

async fn list(s: &TestServer, query: &str) -> Vec<Value> {
    let res = s.get(&format!("/clients?limit=500{query}")).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "list: {v}");
    v["items"].as_array().unwrap().clone()
}

/// Create that must be refused with `field`/`code`, creating nothing.
async fn create_refused(s: &TestServer, body: &Value, field: &str, code: &str) -> Value {
    let before = list(s, "").await.len();
    let v = expect_field_error(s.post("/clients", body).await, field, code).await;
    assert_eq!(
        list(s, "").await.len(),
        before,
        "the refused create {body} created a client"
    );
    v
}

/// Every `(value, code)` of `bad` for `field` is refused with that code both on create (set
/// into `base`) and on a PATCH of the client `id`, and neither changes anything.
async fn refused_on_create_and_patch(
    s: &TestServer,
    base: &Value,
    id: &str,
    field: &str,
    bad: &[(Value, &str)],
) {
    for (v, code) in bad {
        let one = Value::Object([(field.to_owned(), v.clone())].into_iter().collect());
        create_refused(s, &with(base.clone(), one.clone()), field, code).await;
        patch_refused(s, id, &one, field, code).await;
    }
}

/// Whether `secret` authenticates `client_id` (the check the token endpoint uses).
async fn secret_works(s: &TestServer, client_id: &str, secret: &str) -> bool {
    s.state
        .services
        .clients
        .authenticate(&client_id.into(), secret)
        .await
        .unwrap()
        .is_some()
}

/// At least 256 bits, judged by the smallest usual alphabet the secret is written in.
fn assert_strong_secret(secret: &str) {
    let body = secret.trim_end_matches('=');
    let bits_per_char = if body.chars().all(|c| c.is_ascii_hexdigit()) {
        4.0
    } else if body
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_+/".contains(c))
    {
        6.0
    } else {
        95f64.log2()
    };
    let bits = body.chars().count() as f64 * bits_per_char;
    assert!(
        bits >= 256.0,
        "client_secret {secret:?} carries at most {bits} bits, not ≥ 256"
    );
}

/// A second server on the same database as `s` (another instance, or the same deployment
/// restarted with other settings), with its own issuer and policy.
struct OtherServer {
    base: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for OtherServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OtherServer {
    async fn start(s: &TestServer, issuer: Option<&str>, policy: Policy) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = RawConfig {
            listen: addr.to_string(),
            issuer: issuer.map(str::to_owned),
            database_url: s.db.url.clone(),
            ..RawConfig::default()
        }
        .validate()
        .unwrap();
        config.policy = policy;
        let state = tollgate::server::build_state(&config, Arc::new(SystemClock))
            .await
            .unwrap();
        let task = tokio::spawn(tollgate::server::serve_on(
            listener,
            state,
            std::future::pending::<()>(),
        ));
        Self {
            base: format!("http://{addr}"),
            task,
        }
    }

    /// Sends an admin request with `s`'s key (it lives in the shared database).
    async fn send(&self, s: &TestServer, method: Method, p: &str, body: Option<&Value>) -> Value {
        let mut req = s
            .http
            .request(method, format!("{}/admin/api/v1{p}", self.base))
            .bearer_auth(&s.key);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert!(
            status.is_success(),
            "{p} on the second server: {status} {v}"
        );
        v
    }
}

/// SPEC §1 "Legacy options": both switches off.
fn strict_policy() -> Options {
    Options {
        policy: Policy {
            allow_legacy_grants: false,
            allow_never_expiring_tokens: false,
        },
        ..Default::default()
    }
}

const CB: &str = "https://app.example.com/callback";

mod changes;
mod fields;
mod grants_and_uris;
mod identity;

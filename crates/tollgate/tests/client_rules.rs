//! SPEC §1 (clients), rule by rule, over HTTP against the admin API (SPEC §4), on every
//! backend. Each test is named after the rule it proves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{confidential, expect_field_error, field_errors, public, Options, TestServer};
use reqwest::{Method, Response};
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

/// Asserts `res` has `status` and is an RFC 9457 problem; returns the body.
async fn expect_problem(res: Response, status: u16, backend: &str) -> Value {
    let got = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = res.text().await.unwrap();
    assert_eq!(
        got, status,
        "[{backend}] expected {status}, got {got}: {text}"
    );
    assert_eq!(
        ct.as_deref(),
        Some("application/problem+json"),
        "[{backend}] a {status} must be application/problem+json: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["status"], status, "[{backend}] problem status: {v}");
    assert!(v["type"].is_string(), "[{backend}] problem type: {v}");
    assert!(v["title"].is_string(), "[{backend}] problem title: {v}");
    assert!(
        v["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "[{backend}] problem detail: {v}"
    );
    v
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
    assert_eq!(status, 200, "[{}] GET {id}: {v}", s.name());
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
    assert_eq!(status, 200, "[{}] PATCH {body} failed: {v}", s.name());
    v
}

/// PATCH that must be refused with `field`/`code`, leaving the client exactly as it was.
async fn patch_refused(s: &TestServer, id: &str, body: &Value, field: &str, code: &str) -> Value {
    let before = snapshot(s, id).await;
    let v = expect_field_error(s.patch(&path(id), body).await, field, code, s.name()).await;
    let after = snapshot(s, id).await;
    assert_eq!(
        before,
        after,
        "[{}] the refused PATCH {body} changed the client",
        s.name()
    );
    v
}

async fn list(s: &TestServer, query: &str) -> Vec<Value> {
    let res = s.get(&format!("/clients?limit=500{query}")).await;
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 200, "[{}] list: {v}", s.name());
    v["items"].as_array().unwrap().clone()
}

/// Create that must be refused with `field`/`code`, creating nothing.
async fn create_refused(s: &TestServer, body: &Value, field: &str, code: &str) -> Value {
    let before = list(s, "").await.len();
    let v = expect_field_error(s.post("/clients", body).await, field, code, s.name()).await;
    assert_eq!(
        list(s, "").await.len(),
        before,
        "[{}] the refused create {body} created a client",
        s.name()
    );
    v
}

/// Whether `secret` authenticates `client_id` (the check the token endpoint uses).
async fn secret_works(s: &TestServer, client_id: &str, secret: &str) -> bool {
    s.state
        .services
        .clients
        .authenticate(client_id, secret)
        .await
        .unwrap()
        .is_some()
}

/// At least 256 bits, judged by the smallest usual alphabet the secret is written in.
fn assert_strong_secret(secret: &str, backend: &str) {
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
        "[{backend}] client_secret {secret:?} carries at most {bits} bits, not ≥ 256"
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
            "[{}] {p} on the second server: {status} {v}",
            s.name()
        );
        v
    }
}

fn no_legacy_grants() -> Options {
    Options {
        policy: Policy {
            allow_legacy_grants: false,
            ..Policy::default()
        },
        ..Default::default()
    }
}

fn no_never_expiring_tokens() -> Options {
    Options {
        policy: Policy {
            allow_never_expiring_tokens: false,
            ..Policy::default()
        },
        ..Default::default()
    }
}

const CB: &str = "https://app.example.com/callback";

// ---------------------------------------------------------------------------------------
// name
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn name_is_required_trimmed_and_at_most_100_characters() {
    for s in common::servers().await {
        let n = s.name();
        create_refused(&s, &without(confidential("x"), "name"), "name", "required").await;
        for blank in ["", "   ", "\t \n "] {
            create_refused(
                &s,
                &with(confidential("x"), json!({ "name": blank })),
                "name",
                "blank",
            )
            .await;
        }

        let c = s.create_client(&confidential("  Trimmed App \t")).await;
        assert_eq!(c["name"], "Trimmed App", "[{n}] name is trimmed: {c}");
        assert_eq!(
            get_client(&s, &id_of(&c)).await["name"],
            "Trimmed App",
            "[{n}]"
        );

        let hundred = "n".repeat(100);
        let c = s.create_client(&confidential(&hundred)).await;
        assert_eq!(
            c["name"],
            hundred.as_str(),
            "[{n}] 100 characters are allowed"
        );
        create_refused(&s, &confidential(&"n".repeat(101)), "name", "too_long").await;

        // Characters, not bytes: 100 two-byte characters are fine, 101 are not.
        let accents = "é".repeat(100);
        let c = s.create_client(&confidential(&accents)).await;
        assert_eq!(
            c["name"],
            accents.as_str(),
            "[{n}] 100 characters (200 bytes)"
        );
        create_refused(&s, &confidential(&"é".repeat(101)), "name", "too_long").await;

        // The limit applies after trimming.
        let padded = format!("   {}   ", "p".repeat(100));
        let c = s.create_client(&confidential(&padded)).await;
        assert_eq!(
            c["name"],
            "p".repeat(100).as_str(),
            "[{n}] trimmed, then counted"
        );
    }
}

#[tokio::test]
async fn name_cannot_be_changed_after_creation() {
    for s in common::servers().await {
        let c = s.create_client(&confidential("Original")).await;
        let id = id_of(&c);
        patch_refused(&s, &id, &json!({ "name": "Renamed" }), "name", "immutable").await;
        // A change of case is a change too.
        patch_refused(&s, &id, &json!({ "name": "ORIGINAL" }), "name", "immutable").await;
        // Together with an acceptable change, nothing at all is applied.
        patch_refused(
            &s,
            &id,
            &json!({ "name": "Renamed", "description": "also changed" }),
            "name",
            "immutable",
        )
        .await;
        let after = get_client(&s, &id).await;
        assert_eq!(after["name"], "Original", "[{}] {after}", s.name());
        assert_eq!(after["description"], Value::Null, "[{}] {after}", s.name());
        // The rest of the client stays editable.
        let v = patch_ok(&s, &id, &json!({ "description": "still editable" })).await;
        assert_eq!(v["name"], "Original", "[{}] {v}", s.name());
    }
}

#[tokio::test]
async fn patch_changing_name_leaves_the_name_unchanged() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&confidential("Payroll")).await;
        let id = id_of(&c);
        for attempt in ["Payroll Renamed", "payroll", "PAYROLL 2"] {
            let res = s
                .patch(&path(&id), &json!({ "name": attempt, "version": "9.9" }))
                .await;
            assert!(
                !res.status().is_success(),
                "[{n}] PATCH name={attempt:?} succeeded: {}",
                res.text().await.unwrap()
            );
            let after = get_client(&s, &id).await;
            assert_eq!(
                after["name"], "Payroll",
                "[{n}] after PATCH {attempt:?}: {after}"
            );
            assert_eq!(
                after["version"], "1.0",
                "[{n}] after PATCH {attempt:?}: {after}"
            );
        }
        // The list and the name+version constraint agree: the old name is still taken,
        // the attempted one is free.
        let items = list(&s, "&q=payroll").await;
        assert_eq!(items.len(), 1, "[{n}] {items:?}");
        assert_eq!(items[0]["name"], "Payroll", "[{n}] {items:?}");
        assert!(list(&s, "&q=renamed").await.is_empty(), "[{n}]");
        expect_problem(s.post("/clients", &confidential("Payroll")).await, 409, n).await;
        s.create_client(&confidential("Payroll Renamed")).await;
    }
}

// ---------------------------------------------------------------------------------------
// name + version uniqueness
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn name_and_version_are_unique_case_insensitively() {
    for s in common::servers().await {
        let n = s.name();
        s.create_client(&confidential("Billing")).await;
        for dup in ["Billing", "billing", "BILLING", "  bIlLiNg  "] {
            expect_problem(s.post("/clients", &confidential(dup)).await, 409, n).await;
        }
        // The version is trimmed before comparing too.
        expect_problem(
            s.post(
                "/clients",
                &with(confidential("Billing"), json!({ "version": " 1.0 " })),
            )
            .await,
            409,
            n,
        )
        .await;
        // Case-insensitive beyond ASCII.
        s.create_client(&confidential("Ärzte")).await;
        for dup in ["ÄRZTE", "ärzte"] {
            expect_problem(s.post("/clients", &confidential(dup)).await, 409, n).await;
        }
        // Another version of the same name, and another name with the same version.
        let v2 = s
            .create_client(&with(confidential("billing"), json!({ "version": "2.0" })))
            .await;
        s.create_client(&confidential("Invoicing")).await;
        assert_eq!(list(&s, "&q=billing").await.len(), 2, "[{n}]");

        // A change of version that collides is refused the same way, and changes nothing.
        let id = id_of(&v2);
        let before = snapshot(&s, &id).await;
        expect_problem(
            s.patch(&path(&id), &json!({ "version": "1.0" })).await,
            409,
            n,
        )
        .await;
        assert_eq!(snapshot(&s, &id).await, before, "[{n}]");
        assert_eq!(list(&s, "&q=billing").await.len(), 2, "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_of_one_name_version_give_exactly_one_201() {
    for s in common::servers().await {
        let n = s.name();
        // Spellings that differ only in case and surrounding spaces: one client.
        let spellings = ["Race", "race", "RACE", " Race ", "rAcE"];
        let start = Arc::new(tokio::sync::Barrier::new(20));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let http = s.http.clone();
            let url = s.url("/admin/api/v1/clients");
            let key = s.key.clone();
            let body = if i % 2 == 0 {
                confidential(spellings[i % spellings.len()])
            } else {
                public(spellings[i % spellings.len()])
            };
            let start = start.clone();
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                let res = http
                    .post(url)
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let ct = res
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_owned());
                (status, ct, res.text().await.unwrap())
            }));
        }
        let results: Vec<_> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let created = results.iter().filter(|r| r.0 == 201).count();
        let conflicts = results.iter().filter(|r| r.0 == 409).count();
        assert_eq!(created, 1, "[{n}] exactly one 201 expected: {results:#?}");
        assert_eq!(
            conflicts, 19,
            "[{n}] the other 19 must be 409: {results:#?}"
        );
        for (status, ct, body) in &results {
            if *status == 409 {
                assert_eq!(
                    ct.as_deref(),
                    Some("application/problem+json"),
                    "[{n}] {body}"
                );
            }
        }
        let items = list(&s, "&q=race").await;
        assert_eq!(items.len(), 1, "[{n}] exactly one stored: {items:#?}");
    }
}

// ---------------------------------------------------------------------------------------
// type and client_secret
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn public_client_never_has_a_secret() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&public("Browser App")).await;
        let id = id_of(&c);
        assert_eq!(c["type"], "public", "[{n}] {c}");
        assert!(
            c.get("client_secret").is_none(),
            "[{n}] secret on create: {c}"
        );
        assert_eq!(c["has_secret"], false, "[{n}] {c}");

        let g = get_client(&s, &id).await;
        assert!(g.get("client_secret").is_none(), "[{n}] {g}");
        assert_eq!(g["has_secret"], false, "[{n}] {g}");
        let stored = s.state.services.clients.get(&id).await.unwrap();
        assert!(
            stored.secret_hash.is_none(),
            "[{n}] a public client has a stored secret"
        );

        // Edits, including re-stating the type, never produce one.
        for body in [
            json!({ "description": "a single-page app" }),
            json!({ "type": "public" }),
            json!({ "grant_types": ["authorization_code", "implicit"] }),
        ] {
            let v = patch_ok(&s, &id, &body).await;
            assert!(v.get("client_secret").is_none(), "[{n}] after {body}: {v}");
            assert_eq!(v["has_secret"], false, "[{n}] after {body}: {v}");
        }

        // There is no secret to rotate.
        let res = s
            .admin(Method::POST, &format!("/clients/{id}/secret"))
            .send()
            .await
            .unwrap();
        expect_problem(res, 409, n).await;
        let g = get_client(&s, &id).await;
        assert_eq!(g["has_secret"], false, "[{n}] {g}");
        assert!(g.get("client_secret").is_none(), "[{n}] {g}");
        assert!(!secret_works(&s, &id, "").await, "[{n}]");

        // An implicit-only public client neither.
        let c = s
            .create_client(&with(
                public("Implicit App"),
                json!({ "grant_types": ["implicit"] }),
            ))
            .await;
        assert!(c.get("client_secret").is_none(), "[{n}] {c}");
        assert_eq!(c["has_secret"], false, "[{n}] {c}");
    }
}

#[tokio::test]
async fn type_change_public_to_confidential_returns_a_secret_once() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&public("Native")).await;
        let id = id_of(&c);

        let res = s
            .patch(&path(&id), &json!({ "type": "confidential" }))
            .await;
        assert_eq!(res.status(), 200, "[{n}]");
        let cache = res
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned());
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["type"], "confidential", "[{n}] {v}");
        assert_eq!(v["has_secret"], true, "[{n}] {v}");
        let secret = v["client_secret"]
            .as_str()
            .unwrap_or_else(|| panic!("[{n}] no client_secret after the type change: {v}"))
            .to_owned();
        assert_strong_secret(&secret, n);
        assert_eq!(
            cache.as_deref(),
            Some("no-store"),
            "[{n}] a response carrying a secret must not be cached"
        );
        assert!(
            secret_works(&s, &id, &secret).await,
            "[{n}] the new secret works"
        );

        // Never again: not on GET, not in the list, not on later PATCHes.
        let g = get_client(&s, &id).await;
        assert!(g.get("client_secret").is_none(), "[{n}] {g}");
        assert!(
            !g.to_string().contains(&secret),
            "[{n}] GET shows the secret"
        );
        assert_eq!(g["has_secret"], true, "[{n}] {g}");
        let items = list(&s, "").await;
        assert!(
            !Value::from(items).to_string().contains(&secret),
            "[{n}] the list shows the secret"
        );
        for body in [
            json!({ "description": "now confidential" }),
            // Re-stating the type is not a change: no new secret.
            json!({ "type": "confidential" }),
        ] {
            let v = patch_ok(&s, &id, &body).await;
            assert!(v.get("client_secret").is_none(), "[{n}] after {body}: {v}");
        }
        assert!(
            secret_works(&s, &id, &secret).await,
            "[{n}] the secret survives later edits"
        );
    }
}

#[tokio::test]
async fn type_change_confidential_to_public_deletes_the_secret() {
    for s in common::servers().await {
        let n = s.name();
        let c = s
            .create_client(&with(
                confidential("Hybrid"),
                json!({ "grant_types": ["authorization_code"], "redirect_uris": [CB] }),
            ))
            .await;
        let id = id_of(&c);
        let first = c["client_secret"].as_str().unwrap().to_owned();
        // Rotate with a grace period, so there are two valid secrets.
        let res = s
            .admin(Method::POST, &format!("/clients/{id}/secret"))
            .json(&json!({ "grace_seconds": 3600 }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "[{n}]");
        let rotated: Value = res.json().await.unwrap();
        let second = rotated["client_secret"].as_str().unwrap().to_owned();
        assert!(secret_works(&s, &id, &first).await, "[{n}] grace period");
        assert!(secret_works(&s, &id, &second).await, "[{n}]");

        let v = patch_ok(&s, &id, &json!({ "type": "public" })).await;
        assert_eq!(v["type"], "public", "[{n}] {v}");
        assert_eq!(v["has_secret"], false, "[{n}] {v}");
        assert!(v.get("client_secret").is_none(), "[{n}] {v}");
        assert!(
            v.get("previous_secret_expires_at").is_none(),
            "[{n}] the previous secret is gone too: {v}"
        );
        assert!(!secret_works(&s, &id, &first).await, "[{n}] old secret");
        assert!(
            !secret_works(&s, &id, &second).await,
            "[{n}] current secret"
        );
        let stored = s.state.services.clients.get(&id).await.unwrap();
        assert!(stored.secret_hash.is_none(), "[{n}] hash kept");
        assert!(
            stored.previous_secret_hash.is_none(),
            "[{n}] previous hash kept"
        );
        let g = get_client(&s, &id).await;
        assert_eq!(g["has_secret"], false, "[{n}] {g}");

        // Back to confidential: a brand-new secret; the deleted ones stay dead.
        let v = patch_ok(&s, &id, &json!({ "type": "confidential" })).await;
        let third = v["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(third, first, "[{n}]");
        assert_ne!(third, second, "[{n}]");
        assert!(secret_works(&s, &id, &third).await, "[{n}]");
        assert!(!secret_works(&s, &id, &first).await, "[{n}]");
        assert!(!secret_works(&s, &id, &second).await, "[{n}]");
    }
}

#[tokio::test]
async fn client_secret_has_at_least_256_bits_and_is_returned_only_once() {
    for s in common::servers().await {
        let n = s.name();
        let mut issued: Vec<(String, String)> = Vec::new();
        for i in 0..5 {
            let res = s.post("/clients", &confidential(&format!("Svc {i}"))).await;
            assert_eq!(res.status(), 201, "[{n}]");
            let cache = res
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap().to_owned());
            assert_eq!(
                cache.as_deref(),
                Some("no-store"),
                "[{n}] creation response"
            );
            let c: Value = res.json().await.unwrap();
            let secret = c["client_secret"]
                .as_str()
                .unwrap_or_else(|| panic!("[{n}] no client_secret on creation: {c}"))
                .to_owned();
            assert_strong_secret(&secret, n);
            assert_eq!(c["has_secret"], true, "[{n}] {c}");
            let id = id_of(&c);
            assert!(
                secret_works(&s, &id, &secret).await,
                "[{n}] the secret works"
            );
            assert!(!secret_works(&s, &id, &format!("{secret}x")).await, "[{n}]");
            // Stored only as an algorithm-tagged hash.
            let stored = s.state.services.clients.get(&id).await.unwrap();
            let hash = stored.secret_hash.unwrap();
            assert!(
                !hash.contains(&secret),
                "[{n}] the secret is stored in clear"
            );
            let (alg, rest) = hash
                .split_once('$')
                .unwrap_or_else(|| panic!("[{n}] stored hash carries no algorithm: {hash}"));
            assert!(!alg.is_empty() && !rest.is_empty(), "[{n}] {hash}");
            issued.push((id, secret));
        }
        let distinct: BTreeSet<&String> = issued.iter().map(|(_, sec)| sec).collect();
        assert_eq!(distinct.len(), 5, "[{n}] secrets repeat");
        // Each secret belongs to its own client only.
        assert!(!secret_works(&s, &issued[0].0, &issued[1].1).await, "[{n}]");

        // Never shown again: GET, list, PATCH, nor the audit log.
        for (id, _) in &issued {
            let g = get_client(&s, id).await;
            assert!(g.get("client_secret").is_none(), "[{n}] {g}");
            let v = patch_ok(&s, id, &json!({ "description": "edited" })).await;
            assert!(v.get("client_secret").is_none(), "[{n}] {v}");
        }
        let list_text = s.get("/clients?limit=500").await.text().await.unwrap();
        assert!(!list_text.contains("client_secret"), "[{n}] {list_text}");
        let audit_text = s.get("/audit?limit=500").await.text().await.unwrap();
        for (id, _) in &issued {
            let get_text = s.get(&path(id)).await.text().await.unwrap();
            for (what, text) in [
                ("GET", &get_text),
                ("list", &list_text),
                ("audit", &audit_text),
            ] {
                for (_, secret) in &issued {
                    assert!(
                        !text.contains(secret.as_str()),
                        "[{n}] {what} shows a secret"
                    );
                }
            }
        }

        // Rotation returns the new secret once; the old one stops working (no grace).
        let (id, old) = &issued[0];
        let res = s
            .admin(Method::POST, &format!("/clients/{id}/secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "[{n}]");
        let r: Value = res.json().await.unwrap();
        let new = r["client_secret"].as_str().unwrap().to_owned();
        assert_strong_secret(&new, n);
        assert!(!distinct.contains(&new), "[{n}] rotation repeated a secret");
        assert!(secret_works(&s, id, &new).await, "[{n}]");
        assert!(
            !secret_works(&s, id, old).await,
            "[{n}] the rotated-out secret still works"
        );
        let g = s.get(&path(id)).await.text().await.unwrap();
        assert!(
            !g.contains(&new),
            "[{n}] GET after rotation shows the secret"
        );
        let l = s.get("/clients?limit=500").await.text().await.unwrap();
        assert!(
            !l.contains(&new),
            "[{n}] the list after rotation shows the secret"
        );
    }
}

// ---------------------------------------------------------------------------------------
// grant_types
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn public_client_may_only_use_authorization_code_and_implicit() {
    for s in common::servers().await {
        let n = s.name();
        let refused: [&[&str]; 5] = [
            &["client_credentials"],
            &["password"],
            &["authorization_code", "client_credentials"],
            &["implicit", "password"],
            &[
                "authorization_code",
                "client_credentials",
                "password",
                "implicit",
            ],
        ];
        for grants in refused {
            create_refused(
                &s,
                &with(public("Public"), json!({ "grant_types": grants })),
                "grant_types",
                "requires_confidential_client",
            )
            .await;
        }
        let allowed: [&[&str]; 3] = [
            &["authorization_code"],
            &["implicit"],
            &["authorization_code", "implicit"],
        ];
        for (i, grants) in allowed.iter().enumerate() {
            let c = s
                .create_client(&with(
                    public(&format!("Public {i}")),
                    json!({ "grant_types": grants }),
                ))
                .await;
            assert_eq!(set(&c["grant_types"]), set_of(grants), "[{n}] {c}");
        }
        // client_credentials and password are fine for a confidential client.
        let all = [
            "authorization_code",
            "client_credentials",
            "password",
            "implicit",
        ];
        let c = s
            .create_client(&with(
                confidential("Confidential"),
                json!({ "grant_types": all, "redirect_uris": [CB] }),
            ))
            .await;
        assert_eq!(set(&c["grant_types"]), set_of(&all), "[{n}] {c}");

        // The rule holds on change too, from either side.
        let p = s.create_client(&public("Spa")).await;
        patch_refused(
            &s,
            &id_of(&p),
            &json!({ "grant_types": ["authorization_code", "client_credentials"] }),
            "grant_types",
            "requires_confidential_client",
        )
        .await;
        let cc = s.create_client(&confidential("Backend")).await;
        let secret = cc["client_secret"].as_str().unwrap().to_owned();
        patch_refused(
            &s,
            &id_of(&cc),
            &json!({ "type": "public" }),
            "grant_types",
            "requires_confidential_client",
        )
        .await;
        assert!(secret_works(&s, &id_of(&cc), &secret).await, "[{n}]");
    }
}

#[tokio::test]
async fn grant_types_must_be_a_non_empty_subset_of_the_four() {
    for s in common::servers().await {
        let n = s.name();
        create_refused(
            &s,
            &without(confidential("G"), "grant_types"),
            "grant_types",
            "required",
        )
        .await;
        create_refused(
            &s,
            &with(confidential("G"), json!({ "grant_types": [] })),
            "grant_types",
            "empty",
        )
        .await;
        for bad in [
            "refresh_token",
            "Client_Credentials",
            "urn:ietf:params:oauth:grant-type:device_code",
            "",
        ] {
            create_refused(
                &s,
                &with(
                    confidential("G"),
                    json!({ "grant_types": ["client_credentials", bad] }),
                ),
                "grant_types[1]",
                "invalid",
            )
            .await;
        }
        // Every single one of the four, and all four together.
        let one_each: [(&str, Value); 4] = [
            ("authorization_code", json!([CB])),
            ("client_credentials", json!([])),
            ("password", json!([])),
            ("implicit", json!([CB])),
        ];
        for (g, uris) in one_each {
            let c = s
                .create_client(&with(
                    confidential(&format!("Only {g}")),
                    json!({ "grant_types": [g], "redirect_uris": uris }),
                ))
                .await;
            assert_eq!(strings(&c["grant_types"]), vec![g.to_owned()], "[{n}] {c}");
        }
        let four = [
            "authorization_code",
            "client_credentials",
            "password",
            "implicit",
        ];
        let c = s
            .create_client(&with(
                confidential("All four"),
                json!({ "grant_types": four, "redirect_uris": [CB] }),
            ))
            .await;
        assert_eq!(set(&c["grant_types"]), set_of(&four), "[{n}] {c}");
        let id = id_of(&c);
        patch_refused(
            &s,
            &id,
            &json!({ "grant_types": [] }),
            "grant_types",
            "empty",
        )
        .await;
        patch_refused(
            &s,
            &id,
            &json!({ "grant_types": ["password", "refresh_token"] }),
            "grant_types[1]",
            "invalid",
        )
        .await;
        let v = patch_ok(&s, &id, &json!({ "grant_types": ["password"] })).await;
        assert_eq!(
            strings(&v["grant_types"]),
            vec!["password".to_owned()],
            "[{n}]"
        );
    }
}

// ---------------------------------------------------------------------------------------
// redirect_uris
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn redirect_uris_must_be_absolute_https_or_loopback_http_or_private_use_without_fragment() {
    for s in common::servers().await {
        let n = s.name();
        let good = [
            "https://app.example.com/callback",
            "https://app.example.com/callback/",
            "https://app.example.com/cb?tenant=42",
            "https://app.example.com:8443/cb",
            "http://localhost/cb",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8080/oauth/cb",
            "http://[::1]/cb",
            "http://[::1]:9000/cb",
            "com.example.app:/oauth2redirect",
            "com.example.app:/cb",
        ];
        let c = s
            .create_client(&with(public("Uris"), json!({ "redirect_uris": good })))
            .await;
        // Kept exactly as given (matching is exact string comparison), in order.
        assert_eq!(
            strings(&c["redirect_uris"]),
            good.map(str::to_owned),
            "[{n}] {c}"
        );
        assert_eq!(
            strings(&get_client(&s, &id_of(&c)).await["redirect_uris"]),
            good.map(str::to_owned),
            "[{n}]"
        );

        let bad = [
            // plain http off loopback
            ("http://app.example.com/cb", "insecure_scheme"),
            ("http://10.0.0.1/cb", "insecure_scheme"),
            ("http://localhost.evil.example/cb", "insecure_scheme"),
            ("http://127.0.0.1.evil.example/cb", "insecure_scheme"),
            // fragments, on every kind of URI
            ("https://app.example.com/cb#frag", "fragment"),
            ("https://app.example.com/cb#", "fragment"),
            ("http://localhost/cb#x", "fragment"),
            ("com.example.app:/cb#x", "fragment"),
            // not absolute
            ("/callback", "not_absolute"),
            ("//app.example.com/cb", "not_absolute"),
            ("app.example.com/callback", "not_absolute"),
            ("", "not_absolute"),
            // schemes that are neither https, loopback http, nor private-use
            ("javascript:alert(1)", "insecure_scheme"),
            ("data:text/html,hello", "insecure_scheme"),
            ("file:///etc/passwd", "insecure_scheme"),
            ("ftp://files.example.com/cb", "insecure_scheme"),
            // not a URI at all
            ("https://app.example.com/c b", "invalid"),
        ];
        for (uri, code) in bad {
            create_refused(
                &s,
                &with(public("Bad uri"), json!({ "redirect_uris": [uri] })),
                "redirect_uris[0]",
                code,
            )
            .await;
        }
        // The bad one is named by its position.
        create_refused(
            &s,
            &with(
                public("Bad uri"),
                json!({ "redirect_uris": [CB, "http://evil.example/cb"] }),
            ),
            "redirect_uris[1]",
            "insecure_scheme",
        )
        .await;
        // And on change.
        patch_refused(
            &s,
            &id_of(&c),
            &json!({ "redirect_uris": [CB, "https://app.example.com/x#y"] }),
            "redirect_uris[1]",
            "fragment",
        )
        .await;
    }
}

#[tokio::test]
async fn redirect_uri_required_for_authorization_code_and_implicit() {
    for s in common::servers().await {
        let n = s.name();
        let needing: [&[&str]; 3] = [
            &["authorization_code"],
            &["implicit"],
            &["authorization_code", "implicit"],
        ];
        for grants in needing {
            for base in [public("R"), confidential("R")] {
                let body = with(base, json!({ "grant_types": grants }));
                create_refused(
                    &s,
                    &without(body.clone(), "redirect_uris"),
                    "redirect_uris",
                    "required",
                )
                .await;
                create_refused(
                    &s,
                    &with(body, json!({ "redirect_uris": [] })),
                    "redirect_uris",
                    "required",
                )
                .await;
            }
        }
        // Grants without a redirect need none.
        for g in ["client_credentials", "password"] {
            let c = s
                .create_client(&with(
                    confidential(&format!("No redirect {g}")),
                    json!({ "grant_types": [g] }),
                ))
                .await;
            assert_eq!(c["redirect_uris"], json!([]), "[{n}] {c}");
        }

        // Removing the last redirect URI of an authorization-code client is refused.
        let ac = s.create_client(&public("Code")).await;
        patch_refused(
            &s,
            &id_of(&ac),
            &json!({ "redirect_uris": [] }),
            "redirect_uris",
            "required",
        )
        .await;
        // Adding authorization_code without a redirect URI is refused; with one it is fine.
        let cc = s.create_client(&confidential("Machine")).await;
        let id = id_of(&cc);
        patch_refused(
            &s,
            &id,
            &json!({ "grant_types": ["client_credentials", "authorization_code"] }),
            "redirect_uris",
            "required",
        )
        .await;
        patch_refused(
            &s,
            &id,
            &json!({ "grant_types": ["client_credentials", "implicit"] }),
            "redirect_uris",
            "required",
        )
        .await;
        let v = patch_ok(
            &s,
            &id,
            &json!({ "grant_types": ["client_credentials", "authorization_code"], "redirect_uris": [CB] }),
        )
        .await;
        assert_eq!(
            strings(&v["redirect_uris"]),
            vec![CB.to_owned()],
            "[{n}] {v}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// scopes
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn scopes_are_rfc6749_scope_tokens() {
    for s in common::servers().await {
        let n = s.name();
        // scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        let good = [
            "api:read",
            "openid",
            "!",
            "~",
            "#tag",
            "a[b]",
            "https://api.example.com/orders.write",
            "x{}|^`",
        ];
        let c = s
            .create_client(&with(confidential("Scoped"), json!({ "scopes": good })))
            .await;
        assert_eq!(strings(&c["scopes"]), good.map(str::to_owned), "[{n}] {c}");

        // May be empty, and is when left out.
        let c = s
            .create_client(&with(confidential("No scopes"), json!({ "scopes": [] })))
            .await;
        assert_eq!(c["scopes"], json!([]), "[{n}] {c}");
        let c = s
            .create_client(&without(confidential("Scopes left out"), "scopes"))
            .await;
        assert_eq!(c["scopes"], json!([]), "[{n}] {c}");

        for bad in [
            "read write",
            "",
            "a\"b",
            "a\\b",
            "café",
            "tab\there",
            "new\nline",
            " leading",
            "\u{7f}",
        ] {
            create_refused(
                &s,
                &with(confidential("Bad scope"), json!({ "scopes": ["ok", bad] })),
                "scopes[1]",
                "invalid",
            )
            .await;
        }
        let id = id_of(&c);
        patch_refused(
            &s,
            &id,
            &json!({ "scopes": ["a b"] }),
            "scopes[0]",
            "invalid",
        )
        .await;
        let v = patch_ok(
            &s,
            &id,
            &json!({ "scopes": ["orders:read", "orders:write"] }),
        )
        .await;
        assert_eq!(
            v["scopes"],
            json!(["orders:read", "orders:write"]),
            "[{n}] {v}"
        );
        let v = patch_ok(&s, &id, &json!({ "scopes": [] })).await;
        assert_eq!(v["scopes"], json!([]), "[{n}] {v}");
    }
}

// ---------------------------------------------------------------------------------------
// access_token_lifetime, refresh_count
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn access_token_lifetime_is_never_or_1_to_315360000_seconds_default_3600() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&confidential("Default lifetime")).await;
        assert_eq!(c["access_token_lifetime"], 3600, "[{n}] {c}");
        assert_eq!(
            get_client(&s, &id_of(&c)).await["access_token_lifetime"],
            3600,
            "[{n}]"
        );

        for (i, ok) in [json!(1), json!(315_360_000), json!("never"), json!(86_400)]
            .into_iter()
            .enumerate()
        {
            let c = s
                .create_client(&with(
                    confidential(&format!("Lifetime {i}")),
                    json!({ "access_token_lifetime": ok }),
                ))
                .await;
            assert_eq!(c["access_token_lifetime"], ok, "[{n}] {c}");
            assert_eq!(
                get_client(&s, &id_of(&c)).await["access_token_lifetime"],
                ok,
                "[{n}]"
            );
        }

        let bad = [
            (json!(0), "out_of_range"),
            (json!(-1), "out_of_range"),
            (json!(315_360_001), "out_of_range"),
            (json!(1u64 << 40), "out_of_range"),
            (json!(1.5), "out_of_range"),
            (json!("3600"), "invalid"),
            (json!("Never"), "invalid"),
            (json!(null), "invalid"),
            (json!(true), "invalid"),
        ];
        for (v, code) in &bad {
            create_refused(
                &s,
                &with(
                    confidential("Bad lifetime"),
                    json!({ "access_token_lifetime": v }),
                ),
                "access_token_lifetime",
                code,
            )
            .await;
        }
        let id = id_of(&c);
        for (v, code) in &bad {
            patch_refused(
                &s,
                &id,
                &json!({ "access_token_lifetime": v }),
                "access_token_lifetime",
                code,
            )
            .await;
        }
        let v = patch_ok(&s, &id, &json!({ "access_token_lifetime": "never" })).await;
        assert_eq!(v["access_token_lifetime"], "never", "[{n}] {v}");
        let v = patch_ok(&s, &id, &json!({ "access_token_lifetime": 60 })).await;
        assert_eq!(v["access_token_lifetime"], 60, "[{n}] {v}");
        // Left out of a PATCH, it stays.
        let v = patch_ok(&s, &id, &json!({ "description": "x" })).await;
        assert_eq!(v["access_token_lifetime"], 60, "[{n}] {v}");
    }
}

#[tokio::test]
async fn refresh_count_is_unlimited_or_non_negative_default_0() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&public("Default refresh")).await;
        assert_eq!(c["refresh_count"], 0, "[{n}] {c}");
        assert_eq!(
            get_client(&s, &id_of(&c)).await["refresh_count"],
            0,
            "[{n}]"
        );

        for (i, ok) in [json!(0), json!(1), json!(1_000_000), json!("unlimited")]
            .into_iter()
            .enumerate()
        {
            let c = s
                .create_client(&with(
                    public(&format!("Refresh {i}")),
                    json!({ "refresh_count": ok }),
                ))
                .await;
            assert_eq!(c["refresh_count"], ok, "[{n}] {c}");
            assert_eq!(
                get_client(&s, &id_of(&c)).await["refresh_count"],
                ok,
                "[{n}]"
            );
        }

        let bad = [
            (json!(-1), "out_of_range"),
            (json!(2.5), "out_of_range"),
            (json!("5"), "invalid"),
            (json!("Unlimited"), "invalid"),
            (json!("infinite"), "invalid"),
            (json!(null), "invalid"),
            (json!(false), "invalid"),
        ];
        for (v, code) in &bad {
            create_refused(
                &s,
                &with(public("Bad refresh"), json!({ "refresh_count": v })),
                "refresh_count",
                code,
            )
            .await;
        }
        let id = id_of(&c);
        for (v, code) in &bad {
            patch_refused(
                &s,
                &id,
                &json!({ "refresh_count": v }),
                "refresh_count",
                code,
            )
            .await;
        }
        let v = patch_ok(&s, &id, &json!({ "refresh_count": "unlimited" })).await;
        assert_eq!(v["refresh_count"], "unlimited", "[{n}] {v}");
        let v = patch_ok(&s, &id, &json!({ "refresh_count": 0 })).await;
        assert_eq!(v["refresh_count"], 0, "[{n}] {v}");
    }
}

// ---------------------------------------------------------------------------------------
// description, version
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn description_at_most_1000_characters() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&confidential("No description")).await;
        assert_eq!(c["description"], Value::Null, "[{n}] optional: {c}");

        let max = "d".repeat(1000);
        let c = s
            .create_client(&with(confidential("Long"), json!({ "description": max })))
            .await;
        assert_eq!(c["description"], max.as_str(), "[{n}]");
        let accents = "ü".repeat(1000);
        let c2 = s
            .create_client(&with(
                confidential("Umlauts"),
                json!({ "description": accents }),
            ))
            .await;
        assert_eq!(
            c2["description"],
            accents.as_str(),
            "[{n}] characters, not bytes"
        );
        for too_long in ["d".repeat(1001), "ü".repeat(1001)] {
            create_refused(
                &s,
                &with(confidential("Too long"), json!({ "description": too_long })),
                "description",
                "too_long",
            )
            .await;
        }

        let id = id_of(&c);
        patch_refused(
            &s,
            &id,
            &json!({ "description": "x".repeat(1001) }),
            "description",
            "too_long",
        )
        .await;
        let v = patch_ok(&s, &id, &json!({ "description": "Short now." })).await;
        assert_eq!(v["description"], "Short now.", "[{n}] {v}");
        // null clears it.
        let v = patch_ok(&s, &id, &json!({ "description": null })).await;
        assert_eq!(v["description"], Value::Null, "[{n}] {v}");
        assert_eq!(
            get_client(&s, &id).await["description"],
            Value::Null,
            "[{n}]"
        );
    }
}

#[tokio::test]
async fn version_is_required_trimmed_and_at_most_32_characters() {
    for s in common::servers().await {
        let n = s.name();
        create_refused(
            &s,
            &without(confidential("V"), "version"),
            "version",
            "required",
        )
        .await;
        for blank in ["", "  ", "\t\n"] {
            create_refused(
                &s,
                &with(confidential("V"), json!({ "version": blank })),
                "version",
                "blank",
            )
            .await;
        }
        let c = s
            .create_client(&with(
                confidential("V1"),
                json!({ "version": "  1.0-beta \t" }),
            ))
            .await;
        assert_eq!(c["version"], "1.0-beta", "[{n}] trimmed: {c}");

        let max = "9".repeat(32);
        let c = s
            .create_client(&with(confidential("V2"), json!({ "version": max })))
            .await;
        assert_eq!(c["version"], max.as_str(), "[{n}]");
        let c3 = s
            .create_client(&with(
                confidential("V3"),
                json!({ "version": "ß".repeat(32) }),
            ))
            .await;
        assert_eq!(
            c3["version"],
            "ß".repeat(32).as_str(),
            "[{n}] characters, not bytes"
        );
        let padded = format!("  {}  ", "7".repeat(32));
        let c4 = s
            .create_client(&with(confidential("V4"), json!({ "version": padded })))
            .await;
        assert_eq!(c4["version"], "7".repeat(32).as_str(), "[{n}]");
        for too_long in ["9".repeat(33), "ß".repeat(33)] {
            create_refused(
                &s,
                &with(confidential("V5"), json!({ "version": too_long })),
                "version",
                "too_long",
            )
            .await;
        }

        // The version can change, under the same rules.
        let id = id_of(&c);
        patch_refused(&s, &id, &json!({ "version": " " }), "version", "blank").await;
        patch_refused(
            &s,
            &id,
            &json!({ "version": "1".repeat(33) }),
            "version",
            "too_long",
        )
        .await;
        let v = patch_ok(&s, &id, &json!({ "version": " 2.0 " })).await;
        assert_eq!(v["version"], "2.0", "[{n}] {v}");
        assert_eq!(get_client(&s, &id).await["version"], "2.0", "[{n}]");
    }
}

// ---------------------------------------------------------------------------------------
// client_id
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn client_id_is_generated_url_safe_and_unique() {
    for s in common::servers().await {
        let n = s.name();
        let mut ids = BTreeSet::new();
        for i in 0..12 {
            let name = format!("Id test {i}");
            let body = if i % 2 == 0 {
                confidential(&name)
            } else {
                public(&name)
            };
            let c = s.create_client(&body).await;
            let id = id_of(&c);
            assert!(
                id.len() >= 16,
                "[{n}] client_id {id:?} is too short to be random and unguessable"
            );
            assert!(
                id.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "-._~".contains(ch)),
                "[{n}] client_id {id:?} is not URL-safe (RFC 3986 unreserved)"
            );
            assert!(
                !id.to_lowercase().contains("id test"),
                "[{n}] derived from the name"
            );
            ids.insert(id);
        }
        assert_eq!(ids.len(), 12, "[{n}] client_ids repeat: {ids:?}");

        // The server chooses it: a client_id in the request is refused.
        let res = s
            .post(
                "/clients",
                &with(confidential("Chosen"), json!({ "client_id": "mine" })),
            )
            .await;
        expect_problem(res, 400, n).await;

        // It never changes: not on edit, type change, or secret rotation.
        let c = s.create_client(&public("Stable")).await;
        let id = id_of(&c);
        let v = patch_ok(&s, &id, &json!({ "description": "edited" })).await;
        assert_eq!(id_of(&v), id, "[{n}]");
        let v = patch_ok(&s, &id, &json!({ "type": "confidential" })).await;
        assert_eq!(id_of(&v), id, "[{n}]");
        let res = s
            .admin(Method::POST, &format!("/clients/{id}/secret"))
            .send()
            .await
            .unwrap();
        let r: Value = res.json().await.unwrap();
        assert_eq!(id_of(&r), id, "[{n}] {r}");
        let v = patch_ok(&s, &id, &json!({ "active": false })).await;
        assert_eq!(id_of(&v), id, "[{n}]");
        assert_eq!(id_of(&get_client(&s, &id).await), id, "[{n}]");
        // Usable as-is in a URL path.
        let res = s.get(&format!("/clients/{id}")).await;
        assert_eq!(res.status(), 200, "[{n}]");
    }
}

// ---------------------------------------------------------------------------------------
// active, endpoints, timestamps
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn active_defaults_to_true() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&confidential("Defaults on")).await;
        assert_eq!(c["active"], true, "[{n}] {c}");
        let id = id_of(&c);
        assert_eq!(get_client(&s, &id).await["active"], true, "[{n}]");
        let p = s.create_client(&public("Public on")).await;
        assert_eq!(p["active"], true, "[{n}] {p}");

        let off = s
            .create_client(&with(
                confidential("Created off"),
                json!({ "active": false }),
            ))
            .await;
        assert_eq!(off["active"], false, "[{n}] {off}");
        assert_eq!(get_client(&s, &id_of(&off)).await["active"], false, "[{n}]");

        // A PATCH that does not mention it leaves it alone.
        let v = patch_ok(&s, &id, &json!({ "description": "x" })).await;
        assert_eq!(v["active"], true, "[{n}] {v}");
        let v = patch_ok(&s, &id, &json!({ "active": false })).await;
        assert_eq!(v["active"], false, "[{n}] {v}");
        let v = patch_ok(&s, &id, &json!({ "description": "y" })).await;
        assert_eq!(v["active"], false, "[{n}] {v}");
        let v = patch_ok(&s, &id, &json!({ "active": true })).await;
        assert_eq!(v["active"], true, "[{n}] {v}");

        let active: BTreeSet<String> = list(&s, "&active=true").await.iter().map(id_of).collect();
        let inactive: BTreeSet<String> =
            list(&s, "&active=false").await.iter().map(id_of).collect();
        assert!(active.contains(&id) && active.contains(&id_of(&p)), "[{n}]");
        assert_eq!(inactive, BTreeSet::from([id_of(&off)]), "[{n}]");
    }
}

#[tokio::test]
async fn endpoints_are_built_from_the_issuer() {
    for s in common::servers().await {
        let n = s.name();
        // The harness leaves the issuer at its default: http:// + the listen address.
        let c = s.create_client(&public("Endpoints")).await;
        let id = id_of(&c);
        let expected = json!({
            "authorization": format!("{}/oauth2/authorize", s.base),
            "token": format!("{}/oauth2/token", s.base),
            "refresh_token": format!("{}/oauth2/token", s.base),
        });
        assert_eq!(c["endpoints"], expected, "[{n}] {c}");
        assert_eq!(get_client(&s, &id).await["endpoints"], expected, "[{n}]");
        assert_eq!(list(&s, "").await[0]["endpoints"], expected, "[{n}]");

        // Another instance of the same deployment with a configured public issuer (behind a
        // proxy, under a path prefix, written with a trailing slash).
        let other = OtherServer::start(
            &s,
            Some("https://login.example.com/tollgate/"),
            Policy::default(),
        )
        .await;
        let v = other.send(&s, Method::GET, &path(&id), None).await;
        assert_eq!(
            v["endpoints"],
            json!({
                "authorization": "https://login.example.com/tollgate/oauth2/authorize",
                "token": "https://login.example.com/tollgate/oauth2/token",
                "refresh_token": "https://login.example.com/tollgate/oauth2/token",
            }),
            "[{n}] {v}"
        );
        let created = other
            .send(
                &s,
                Method::POST,
                "/clients",
                Some(&confidential("Via proxy")),
            )
            .await;
        assert_eq!(
            created["endpoints"]["token"], "https://login.example.com/tollgate/oauth2/token",
            "[{n}] {created}"
        );
        // Endpoints are not stored with the client: the first instance shows its own.
        assert_eq!(
            get_client(&s, &id_of(&created)).await["endpoints"],
            expected,
            "[{n}]"
        );
    }
}

#[tokio::test]
async fn timestamps_are_rfc3339_utc() {
    use chrono::{DateTime, Utc};
    fn parse(v: &Value, field: &str, n: &str) -> DateTime<Utc> {
        let raw = v[field]
            .as_str()
            .unwrap_or_else(|| panic!("[{n}] {field} is not a string: {v}"));
        let t = DateTime::parse_from_rfc3339(raw)
            .unwrap_or_else(|e| panic!("[{n}] {field} {raw:?} is not RFC 3339: {e}"));
        assert_eq!(
            t.offset().local_minus_utc(),
            0,
            "[{n}] {field} {raw:?} is not UTC"
        );
        assert!(
            raw.ends_with('Z') || raw.ends_with("+00:00"),
            "[{n}] {field} {raw:?} does not say UTC"
        );
        t.with_timezone(&Utc)
    }
    for s in common::servers().await {
        let n = s.name();
        let before = Utc::now() - chrono::Duration::seconds(1);
        let c = s.create_client(&confidential("Clock")).await;
        let after = Utc::now() + chrono::Duration::seconds(1);
        let id = id_of(&c);
        let created = parse(&c, "created_at", n);
        let updated = parse(&c, "updated_at", n);
        assert!(
            before <= created && created <= after,
            "[{n}] created_at {created} is not now"
        );
        assert!(created <= updated, "[{n}] updated_at before created_at");

        let g = get_client(&s, &id).await;
        assert_eq!(
            parse(&g, "created_at", n),
            created,
            "[{n}] GET disagrees: {g}"
        );
        assert_eq!(
            parse(&g, "updated_at", n),
            updated,
            "[{n}] GET disagrees: {g}"
        );
        let items = list(&s, "").await;
        assert_eq!(
            parse(&items[0], "created_at", n),
            created,
            "[{n}] list disagrees"
        );

        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let v = patch_ok(&s, &id, &json!({ "description": "touched" })).await;
        assert_eq!(
            parse(&v, "created_at", n),
            created,
            "[{n}] created_at moved: {v}"
        );
        let touched = parse(&v, "updated_at", n);
        assert!(touched > updated, "[{n}] updated_at did not advance: {v}");
        let g = get_client(&s, &id).await;
        assert_eq!(parse(&g, "created_at", n), created, "[{n}]");
        assert_eq!(
            parse(&g, "updated_at", n),
            touched,
            "[{n}] GET disagrees: {g}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Changes and errors
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_change_is_refused_as_a_whole() {
    for s in common::servers().await {
        let n = s.name();
        let c = s
            .create_client(&with(
                confidential("Whole"),
                json!({ "description": "before", "scopes": ["a"] }),
            ))
            .await;
        let id = id_of(&c);
        let secret = c["client_secret"].as_str().unwrap().to_owned();

        // One good field and one bad one: neither is applied, and only the bad one is named.
        let v = patch_refused(
            &s,
            &id,
            &json!({ "description": "after", "access_token_lifetime": 0 }),
            "access_token_lifetime",
            "out_of_range",
        )
        .await;
        assert_eq!(
            field_errors(&v),
            vec![(
                "access_token_lifetime".to_owned(),
                "out_of_range".to_owned()
            )],
            "[{n}] {v}"
        );
        patch_refused(
            &s,
            &id,
            &json!({ "scopes": ["b", "c"], "active": false, "redirect_uris": ["http://evil.example/cb"] }),
            "redirect_uris[0]",
            "insecure_scheme",
        )
        .await;
        // A change whose combination is invalid: public with client_credentials. The secret
        // must survive, since the type change did not happen.
        patch_refused(
            &s,
            &id,
            &json!({ "type": "public", "description": "after" }),
            "grant_types",
            "requires_confidential_client",
        )
        .await;
        assert!(secret_works(&s, &id, &secret).await, "[{n}] secret lost");
        let g = get_client(&s, &id).await;
        assert_eq!(g["description"], "before", "[{n}] {g}");
        assert_eq!(g["scopes"], json!(["a"]), "[{n}] {g}");
        assert_eq!(g["active"], true, "[{n}] {g}");
        assert_eq!(g["type"], "confidential", "[{n}] {g}");
        // The audit log recorded no change either.
        let res = s.get(&format!("/audit?target_id={id}")).await;
        let audit: Value = res.json().await.unwrap();
        let actions: Vec<&str> = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(actions, vec!["client.create"], "[{n}] {audit}");
    }
}

#[tokio::test]
async fn all_bad_fields_are_reported_at_once() {
    for s in common::servers().await {
        let n = s.name();
        let body = json!({
            "name": "   ",
            "version": "v".repeat(33),
            "description": "d".repeat(1001),
            "type": "secretive",
            "grant_types": ["client_credentials", "magic"],
            "redirect_uris": ["http://evil.example/cb"],
            "scopes": ["fine", "not fine"],
            "access_token_lifetime": 0,
            "refresh_count": -1,
        });
        let v = create_refused(&s, &body, "name", "blank").await;
        let got: BTreeSet<(String, String)> = field_errors(&v).into_iter().collect();
        let want: BTreeSet<(String, String)> = [
            ("name", "blank"),
            ("version", "too_long"),
            ("description", "too_long"),
            ("type", "invalid"),
            ("grant_types[1]", "invalid"),
            ("redirect_uris[0]", "insecure_scheme"),
            ("scopes[1]", "invalid"),
            ("access_token_lifetime", "out_of_range"),
            ("refresh_count", "out_of_range"),
        ]
        .into_iter()
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
        .collect();
        assert_eq!(got, want, "[{n}] {v}");
        for e in v["errors"].as_array().unwrap() {
            assert!(
                e["message"].as_str().is_some_and(|m| !m.is_empty()),
                "[{n}] error without a message: {e}"
            );
        }

        // Missing required fields are all named too.
        let v = create_refused(&s, &json!({}), "name", "required").await;
        let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            set_of(&["name", "version", "type", "grant_types"]),
            "[{n}] {v}"
        );

        // Cross-field rules are reported alongside each other.
        let v = create_refused(
            &s,
            &json!({
                "name": "Combo",
                "version": "1.0",
                "type": "public",
                "grant_types": ["authorization_code", "client_credentials"],
            }),
            "grant_types",
            "requires_confidential_client",
        )
        .await;
        assert!(
            field_errors(&v).contains(&("redirect_uris".to_owned(), "required".to_owned())),
            "[{n}] {v}"
        );

        // And on PATCH.
        let c = s.create_client(&confidential("Patched")).await;
        let v = patch_refused(
            &s,
            &id_of(&c),
            &json!({
                "version": "",
                "scopes": ["a b"],
                "refresh_count": "lots",
                "access_token_lifetime": 315_360_001,
                "type": "public",
            }),
            "version",
            "blank",
        )
        .await;
        let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            set_of(&[
                "version",
                "scopes[0]",
                "refresh_count",
                "access_token_lifetime",
                "grant_types",
            ]),
            "[{n}] {v}"
        );
    }
}

#[tokio::test]
async fn patch_with_unknown_field_or_read_only_field_is_rejected() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&confidential("Strict")).await;
        let id = id_of(&c);
        let attempts = [
            ("client_id", json!("chosen-id")),
            ("created_at", json!("2020-01-01T00:00:00Z")),
            ("updated_at", json!("2020-01-01T00:00:00Z")),
            ("endpoints", c["endpoints"].clone()),
            ("client_secret", json!("my-own-secret")),
            ("has_secret", json!(false)),
            ("warnings", json!([])),
            ("colour", json!("blue")),
            ("grant_type", json!("password")),
            ("redirect_uri", json!(CB)),
        ];
        for (field, value) in attempts {
            let before = snapshot(&s, &id).await;
            let mut body = json!({ "description": "must not be applied" });
            body[field] = value;
            let v = expect_problem(s.patch(&path(&id), &body).await, 400, n).await;
            let detail = v["detail"].as_str().unwrap();
            assert!(
                [
                    format!("`{field}`"),
                    format!("\"{field}\""),
                    format!("'{field}'")
                ]
                .iter()
                .any(|q| detail.contains(q.as_str())),
                "[{n}] the 400 for {field:?} does not name it: {detail}"
            );
            assert_eq!(
                snapshot(&s, &id).await,
                before,
                "[{n}] {field:?} applied something"
            );
        }
        // Creation is as strict.
        for (field, value) in [("client_secret", json!("mine")), ("colour", json!("red"))] {
            let v = expect_problem(
                s.post(
                    "/clients",
                    &with(confidential("Strict 2"), json!({ field: value })),
                )
                .await,
                400,
                n,
            )
            .await;
            assert!(v["detail"].as_str().unwrap().contains(field), "[{n}] {v}");
        }
        assert_eq!(list(&s, "").await.len(), 1, "[{n}]");
    }
}

// ---------------------------------------------------------------------------------------
// Legacy options
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn legacy_options_are_listed_under_warnings() {
    for s in common::servers().await {
        let n = s.name();
        let clean = s.create_client(&confidential("Clean")).await;
        assert_eq!(clean["warnings"], json!([]), "[{n}] {clean}");
        let clean_pub = s.create_client(&public("Clean public")).await;
        assert_eq!(clean_pub["warnings"], json!([]), "[{n}] {clean_pub}");

        let implicit = s
            .create_client(&with(
                public("Implicit"),
                json!({ "grant_types": ["implicit"] }),
            ))
            .await;
        let w = warning_codes(&implicit);
        assert!(
            w.contains(&("grant_types".into(), "legacy_implicit_grant".into())),
            "[{n}] {implicit}"
        );
        let password = s
            .create_client(&with(
                confidential("Password"),
                json!({ "grant_types": ["password"] }),
            ))
            .await;
        assert!(
            warning_codes(&password)
                .contains(&("grant_types".into(), "legacy_password_grant".into())),
            "[{n}] {password}"
        );
        let never = s
            .create_client(&with(
                confidential("Never"),
                json!({ "access_token_lifetime": "never" }),
            ))
            .await;
        assert_eq!(
            warning_codes(&never),
            BTreeSet::from([(
                "access_token_lifetime".to_owned(),
                "never_expiring_tokens".to_owned()
            )]),
            "[{n}] {never}"
        );

        // All three on one client; the same in the create response, GET and the list.
        let all = s
            .create_client(&with(
                confidential("Everything legacy"),
                json!({
                    "grant_types": ["authorization_code", "password", "implicit"],
                    "redirect_uris": [CB],
                    "access_token_lifetime": "never",
                }),
            ))
            .await;
        let want: BTreeSet<(String, String)> = [
            ("grant_types", "legacy_implicit_grant"),
            ("grant_types", "legacy_password_grant"),
            ("access_token_lifetime", "never_expiring_tokens"),
        ]
        .into_iter()
        .map(|(f, c)| (f.to_owned(), c.to_owned()))
        .collect();
        let id = id_of(&all);
        assert_eq!(warning_codes(&all), want, "[{n}] {all}");
        assert_eq!(warning_codes(&get_client(&s, &id).await), want, "[{n}] GET");
        let listed = list(&s, "&q=everything").await;
        assert_eq!(warning_codes(&listed[0]), want, "[{n}] list");
        for w in all["warnings"].as_array().unwrap() {
            assert!(
                w["message"].as_str().is_some_and(|m| m.len() > 10),
                "[{n}] a warning needs a message: {w}"
            );
        }

        // Dropping the legacy options drops the warnings.
        let v = patch_ok(
            &s,
            &id,
            &json!({ "grant_types": ["authorization_code"], "access_token_lifetime": 3600 }),
        )
        .await;
        assert_eq!(v["warnings"], json!([]), "[{n}] {v}");
        assert_eq!(get_client(&s, &id).await["warnings"], json!([]), "[{n}]");
        // And adding one back brings its warning back.
        let v = patch_ok(
            &s,
            &id,
            &json!({ "grant_types": ["authorization_code", "implicit"] }),
        )
        .await;
        assert_eq!(
            warning_codes(&v),
            BTreeSet::from([("grant_types".to_owned(), "legacy_implicit_grant".to_owned())]),
            "[{n}] {v}"
        );
    }
}

#[tokio::test]
async fn policy_forbids_legacy_grants_when_disabled() {
    for db in tollgate_testkit::each_backend().await {
        let s = common::start_with(db, no_legacy_grants()).await;
        let n = s.name();

        for (body, grant) in [
            (
                with(public("Implicit"), json!({ "grant_types": ["implicit"] })),
                "implicit",
            ),
            (
                with(
                    public("Implicit too"),
                    json!({ "grant_types": ["authorization_code", "implicit"] }),
                ),
                "implicit",
            ),
            (
                with(
                    confidential("Password"),
                    json!({ "grant_types": ["password"] }),
                ),
                "password",
            ),
        ] {
            let v = create_refused(&s, &body, "grant_types", "forbidden_by_policy").await;
            let msg = v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["code"] == "forbidden_by_policy")
                .and_then(|e| e["message"].as_str())
                .unwrap()
                .to_owned();
            assert!(msg.contains(grant), "[{n}] unclear error: {msg}");
        }
        // The other grants, and never-expiring tokens (the other switch), are unaffected.
        let code = s.create_client(&public("Code")).await;
        s.create_client(&confidential("Machine")).await;
        s.create_client(&with(
            confidential("Never"),
            json!({ "access_token_lifetime": "never" }),
        ))
        .await;
        patch_refused(
            &s,
            &id_of(&code),
            &json!({ "grant_types": ["authorization_code", "implicit"] }),
            "grant_types",
            "forbidden_by_policy",
        )
        .await;

        // Clients registered before the operator switched the policy off keep working and
        // stay editable in their other fields.
        let before = OtherServer::start(&s, None, Policy::default()).await;
        let spa = before
            .send(
                &s,
                Method::POST,
                "/clients",
                Some(&with(
                    public("Legacy SPA"),
                    json!({ "grant_types": ["authorization_code", "implicit"] }),
                )),
            )
            .await;
        let pw = before
            .send(
                &s,
                Method::POST,
                "/clients",
                Some(&with(
                    confidential("Legacy Password"),
                    json!({ "grant_types": ["password"] }),
                )),
            )
            .await;
        drop(before);

        let spa_id = id_of(&spa);
        let v = patch_ok(&s, &spa_id, &json!({ "description": "still here" })).await;
        assert_eq!(v["description"], "still here", "[{n}] {v}");
        assert_eq!(
            set(&v["grant_types"]),
            set_of(&["authorization_code", "implicit"]),
            "[{n}]"
        );
        assert!(
            warning_codes(&v).contains(&("grant_types".into(), "legacy_implicit_grant".into())),
            "[{n}] {v}"
        );
        let v = patch_ok(
            &s,
            &spa_id,
            &json!({
                "scopes": ["profile"],
                "redirect_uris": [CB, "http://localhost:3000/cb"],
                "refresh_count": 3,
                "grant_types": ["authorization_code", "implicit"],
            }),
        )
        .await;
        assert_eq!(v["refresh_count"], 3, "[{n}] {v}");
        let pw_id = id_of(&pw);
        let v = patch_ok(&s, &pw_id, &json!({ "version": "1.1", "active": false })).await;
        assert_eq!(v["version"], "1.1", "[{n}] {v}");
        assert_eq!(
            strings(&v["grant_types"]),
            vec!["password".to_owned()],
            "[{n}]"
        );

        // But no new legacy grant can be added to them.
        patch_refused(
            &s,
            &pw_id,
            &json!({ "grant_types": ["password", "implicit"], "redirect_uris": [CB] }),
            "grant_types",
            "forbidden_by_policy",
        )
        .await;
        // Once removed, it cannot come back.
        patch_ok(
            &s,
            &spa_id,
            &json!({ "grant_types": ["authorization_code"] }),
        )
        .await;
        patch_refused(
            &s,
            &spa_id,
            &json!({ "grant_types": ["authorization_code", "implicit"] }),
            "grant_types",
            "forbidden_by_policy",
        )
        .await;
    }
}

#[tokio::test]
async fn policy_forbids_never_expiring_tokens_when_disabled() {
    for db in tollgate_testkit::each_backend().await {
        let s = common::start_with(db, no_never_expiring_tokens()).await;
        let n = s.name();

        let v = create_refused(
            &s,
            &with(
                confidential("Forever"),
                json!({ "access_token_lifetime": "never" }),
            ),
            "access_token_lifetime",
            "forbidden_by_policy",
        )
        .await;
        assert!(
            v["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "[{n}]"
        );
        // The longest finite lifetime is still allowed, and so are legacy grants.
        let long = s
            .create_client(&with(
                confidential("Ten years"),
                json!({ "access_token_lifetime": 315_360_000 }),
            ))
            .await;
        s.create_client(&with(
            public("Implicit"),
            json!({ "grant_types": ["implicit"] }),
        ))
        .await;
        patch_refused(
            &s,
            &id_of(&long),
            &json!({ "access_token_lifetime": "never" }),
            "access_token_lifetime",
            "forbidden_by_policy",
        )
        .await;

        // A client given never-expiring tokens before the switch stays editable.
        let before = OtherServer::start(&s, None, Policy::default()).await;
        let old = before
            .send(
                &s,
                Method::POST,
                "/clients",
                Some(&with(
                    confidential("Old forever"),
                    json!({ "access_token_lifetime": "never" }),
                )),
            )
            .await;
        drop(before);
        let id = id_of(&old);
        let v = patch_ok(
            &s,
            &id,
            &json!({ "description": "edited", "scopes": ["x"] }),
        )
        .await;
        assert_eq!(v["access_token_lifetime"], "never", "[{n}] {v}");
        assert_eq!(v["description"], "edited", "[{n}] {v}");
        assert!(
            warning_codes(&v).contains(&(
                "access_token_lifetime".into(),
                "never_expiring_tokens".into()
            )),
            "[{n}] {v}"
        );
        // Re-stating its current value is not a change.
        patch_ok(&s, &id, &json!({ "access_token_lifetime": "never" })).await;
        // Once given a finite lifetime, it cannot go back.
        patch_ok(&s, &id, &json!({ "access_token_lifetime": 3600 })).await;
        patch_refused(
            &s,
            &id,
            &json!({ "access_token_lifetime": "never" }),
            "access_token_lifetime",
            "forbidden_by_policy",
        )
        .await;
    }
}

//! SPEC §8: any number of `tollgate serve` processes share one PostgreSQL database, and a
//! change made through one is obeyed by every other within one second, whatever it caches.
//! Two real instances of the built binary on one fresh database: each change goes through
//! A, and B is polled until it obeys (the delay is printed, the bound asserted).
//!
//! PostgreSQL only (SQLite is one process's file): skipped with a message when
//! `TEST_POSTGRES_URL` is unset, a failure under `CI`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::binary::{spawn_server_env, tollgate, Server};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// SPEC §8.
const WITHIN: Duration = Duration::from_secs(1);

struct Instance {
    base: String,
    _server: Server,
}

fn start(db_url: &str) -> Instance {
    let server = spawn_server_env(
        db_url,
        Some("multi-instance-admin-pw"),
        // The polls below fail authentications on purpose; the brute-force limits would
        // answer 429 instead of the error under test.
        &[
            ("TOLLGATE_RATE_LIMIT__CLIENT_PER_MINUTE", "0"),
            ("TOLLGATE_RATE_LIMIT__ADDRESS_PER_MINUTE", "0"),
            ("RUST_LOG", "warn"),
        ],
    );
    Instance {
        base: server.base.clone(),
        _server: server,
    }
}

struct Ctx {
    http: Client,
    key: String,
    a: Instance,
    b: Instance,
    delays: Vec<(&'static str, Duration)>,
}

impl Ctx {
    fn admin(&self, on: &Instance, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/admin/api/v1{path}", on.base))
            .bearer_auth(&self.key)
    }

    /// A DELETE through A: its status.
    fn delete_on_a(&self, path: &str) -> u16 {
        let r = self.admin(&self.a, reqwest::Method::DELETE, path).send();
        status(r.unwrap())
    }

    fn create_client(&self, name: &str, body: Value) -> (String, String) {
        let mut body = body;
        body["name"] = name.into();
        body["version"] = "1".into();
        body["type"] = "confidential".into();
        let r = self
            .admin(&self.a, reqwest::Method::POST, "/clients")
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 201, "create {name}: {}", r.text().unwrap());
        let v: Value = r.json().unwrap();
        common::id_and_secret(&v)
    }

    fn patch_client(&self, id: &str, body: Value) {
        let r = self
            .admin(&self.a, reqwest::Method::PATCH, &format!("/clients/{id}"))
            .json(&body)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "patch {body}: {}", r.text().unwrap());
    }

    /// `client_credentials` at `on`'s token endpoint: status and body.
    fn token(&self, on: &Instance, id: &str, secret: &str, scope: Option<&str>) -> (u16, Value) {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let r = self
            .http
            .post(format!("{}/oauth2/token", on.base))
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .unwrap();
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    fn issue(&self, on: &Instance, id: &str, secret: &str) -> String {
        let (status, v) = self.token(on, id, secret, None);
        assert_eq!(status, 200, "token: {v}");
        v["access_token"].as_str().unwrap().to_owned()
    }

    fn active(&self, on: &Instance, token: &str) -> bool {
        let v: Value = self
            .http
            .post(format!("{}/oauth2/introspect", on.base))
            .bearer_auth(&self.key)
            .form(&[("token", token)])
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["active"].as_bool().unwrap()
    }

    /// Polls `obeyed` (a request to B) from now, the moment A answered the change, until
    /// it holds; asserts that took at most `WITHIN` and records the delay.
    fn until(&mut self, what: &'static str, mut obeyed: impl FnMut(&Self) -> bool) {
        let start = Instant::now();
        loop {
            if obeyed(self) {
                let d = start.elapsed();
                eprintln!("coherence: {what}: B obeyed after {} ms", d.as_millis());
                assert!(d <= WITHIN, "{what}: B obeyed only after {d:?}");
                self.delays.push((what, d));
                return;
            }
            assert!(
                start.elapsed() <= WITHIN,
                "{what}: B still disobeys {:?} after the change through A",
                start.elapsed()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn status(r: Response) -> u16 {
    r.status().as_u16()
}

#[test]
fn changes_through_one_instance_are_obeyed_by_another_within_one_second() {
    let Some(server_url) = tollgate_testkit::postgres_url() else {
        return;
    };
    let db = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(tollgate_testkit::postgres(&server_url));
    let a = start(&db.url);
    let b = start(&db.url);
    let out = tollgate(&db.url)
        .args(["admin", "create-key", "--name", "multi-instance"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut cx = Ctx {
        http: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        key,
        a,
        b,
        delays: Vec::new(),
    };
    let cc = json!({"grant_types": ["client_credentials"], "scopes": ["read", "write"]});

    // Deactivation: B stops issuing, and B's tokens from before are dead at once (epoch).
    let (id, secret) = cx.create_client("Deactivated", cc.clone());
    let before = cx.issue(&cx.b, &id, &secret);
    cx.patch_client(&id, json!({"active": false}));
    cx.until("deactivation: token request refused", |cx| {
        cx.token(&cx.b, &id, &secret, None).0 == 401
    });
    cx.until("deactivation: earlier token inactive", |cx| {
        !cx.active(&cx.b, &before)
    });

    // Secret rotation without grace: the old secret stops working, the new one starts.
    let (id, old) = cx.create_client("Rotated", cc.clone());
    cx.issue(&cx.b, &id, &old);
    let r = cx
        .admin(
            &cx.a,
            reqwest::Method::POST,
            &format!("/clients/{id}/secret"),
        )
        .json(&json!({}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let new = r.json::<Value>().unwrap()["client_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    cx.until("rotation: old secret refused", |cx| {
        cx.token(&cx.b, &id, &old, None).0 == 401
    });
    cx.until("rotation: new secret accepted", |cx| {
        cx.token(&cx.b, &id, &new, None).0 == 200
    });

    // Revocation of one token (RFC 7009, through A), then of all (admin API, through A):
    // after the latter, B must stop minting tokens of the old epoch.
    let (id, secret) = cx.create_client("Revoked", cc.clone());
    let t = cx.issue(&cx.b, &id, &secret);
    let r = cx
        .http
        .post(format!("{}/oauth2/revoke", cx.a.base))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", t.as_str())])
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    cx.until("revocation: token inactive", |cx| !cx.active(&cx.b, &t));
    let t = cx.issue(&cx.b, &id, &secret);
    assert_eq!(cx.delete_on_a(&format!("/clients/{id}/tokens")), 204);
    cx.until("revoke-all: earlier token inactive", |cx| {
        !cx.active(&cx.b, &t)
    });
    cx.until("revoke-all: new tokens from B are live", |cx| {
        let fresh = cx.issue(&cx.b, &id, &secret);
        cx.active(&cx.b, &fresh)
    });

    // Client edits: scopes, grant types, redirect URIs.
    let (id, secret) = cx.create_client(
        "Edited",
        json!({
            "grant_types": ["client_credentials", "authorization_code"],
            "redirect_uris": ["https://app.example/cb"],
            "scopes": ["read", "write"],
        }),
    );
    assert_eq!(cx.token(&cx.b, &id, &secret, Some("write")).0, 200);
    cx.patch_client(&id, json!({"scopes": ["read"]}));
    cx.until("edit: scope removed", |cx| {
        let (s, v) = cx.token(&cx.b, &id, &secret, Some("write"));
        s == 400 && v["error"] == "invalid_scope"
    });
    cx.patch_client(&id, json!({"grant_types": ["authorization_code"]}));
    cx.until("edit: grant removed", |cx| {
        let (s, v) = cx.token(&cx.b, &id, &secret, None);
        s == 400 && v["error"] == "unauthorized_client"
    });
    let authorize = |cx: &Ctx, uri: &str| {
        status(
            cx.http
                .get(format!("{}/oauth2/authorize", cx.b.base))
                .query(&[
                    ("response_type", "code"),
                    ("client_id", id.as_str()),
                    ("redirect_uri", uri),
                ])
                .send()
                .unwrap(),
        )
    };
    // Accepted: the browser is sent to sign in.
    assert!((300..400).contains(&authorize(&cx, "https://app.example/cb")));
    cx.patch_client(&id, json!({"redirect_uris": ["https://app.example/new"]}));
    cx.until("edit: redirect URI removed", |cx| {
        authorize(cx, "https://app.example/cb") == 400
    });

    // Deletion of a client.
    let (id, secret) = cx.create_client("Deleted", cc);
    cx.issue(&cx.b, &id, &secret);
    let r = cx
        .admin(&cx.a, reqwest::Method::DELETE, &format!("/clients/{id}"))
        .send()
        .unwrap();
    assert_eq!(status(r), 204);
    cx.until("client deletion: token request refused", |cx| {
        cx.token(&cx.b, &id, &secret, None).0 == 401
    });

    // Admin-key deletion.
    let r = cx
        .admin(&cx.a, reqwest::Method::POST, "/admin-keys")
        .json(&json!({"name": "short-lived"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = r.json().unwrap();
    let (key_id, key2) = (
        v["id"].as_str().unwrap().to_owned(),
        v["key"].as_str().unwrap().to_owned(),
    );
    let with_key2 = |cx: &Ctx| {
        status(
            cx.http
                .get(format!("{}/admin/api/v1/clients", cx.b.base))
                .bearer_auth(&key2)
                .send()
                .unwrap(),
        )
    };
    assert_eq!(with_key2(&cx), 200);
    assert_eq!(cx.delete_on_a(&format!("/admin-keys/{key_id}")), 204);
    cx.until("admin-key deletion: key refused", |cx| with_key2(cx) == 401);

    let worst = cx.delays.iter().max_by_key(|(_, d)| *d).unwrap();
    eprintln!(
        "coherence: worst {} ms ({}) over {} changes",
        worst.1.as_millis(),
        worst.0,
        cx.delays.len()
    );
}

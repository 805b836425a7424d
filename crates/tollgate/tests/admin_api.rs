//! The admin API's protocol: authentication, conditional requests, body handling,
//! pagination, the audit log, secret rotation, admin keys, health and OpenAPI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::{confidential, start_with, Options};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::Arc;
use tollgate_core::ManualClock;

async fn problem(res: reqwest::Response, status: u16, backend: &str) -> Value {
    assert_eq!(res.status(), status, "[{backend}] status");
    assert_eq!(
        res.headers()["content-type"],
        "application/problem+json",
        "[{backend}] content type"
    );
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], status, "[{backend}] problem status: {v}");
    assert!(v["title"].is_string() && v["type"].is_string() && v["detail"].is_string());
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_refuses_requests_without_a_valid_admin_key() {
    for s in common::servers().await {
        let n = s.name();
        let none = s
            .http
            .get(s.url("/admin/api/v1/clients"))
            .send()
            .await
            .unwrap();
        assert!(none.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
        problem(none, 401, n).await;
        for bad in ["tga_wrong", "not-even-a-key", ""] {
            let res = s
                .http
                .get(s.url("/admin/api/v1/clients"))
                .header("authorization", format!("Bearer {bad}"))
                .send()
                .await
                .unwrap();
            problem(res, 401, n).await;
        }
        let basic = s
            .http
            .get(s.url("/admin/api/v1/clients"))
            .basic_auth("admin", Some(&s.key))
            .send()
            .await
            .unwrap();
        problem(basic, 401, n).await;
        // Nothing was created by the refused requests.
        let res = s
            .http
            .post(s.url("/admin/api/v1/clients"))
            .json(&confidential("Sneaky"))
            .send()
            .await
            .unwrap();
        problem(res, 401, n).await;
        let list: Value = s.get("/clients").await.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_if_match_gets_412_and_changes_nothing() {
    for s in common::servers().await {
        let n = s.name();
        let res = s.post("/clients", &confidential("Etag App")).await;
        let etag1 = res.headers()["etag"].to_str().unwrap().to_owned();
        let c: Value = res.json().await.unwrap();
        let path = format!("/clients/{}", c["client_id"].as_str().unwrap());

        // Administrator A saves with the ETag they read.
        let a = s
            .admin(Method::PATCH, &path)
            .header("if-match", &etag1)
            .json(&json!({"description": "from A"}))
            .send()
            .await
            .unwrap();
        assert_eq!(a.status(), 200, "[{n}]");
        let etag2 = a.headers()["etag"].to_str().unwrap().to_owned();
        assert_ne!(etag1, etag2, "[{n}] ETag must change with the client");

        // Administrator B, still holding the old ETag, is refused.
        let b = s
            .admin(Method::PATCH, &path)
            .header("if-match", &etag1)
            .json(&json!({"description": "from B"}))
            .send()
            .await
            .unwrap();
        problem(b, 412, n).await;
        let del = s
            .admin(Method::DELETE, &path)
            .header("if-match", &etag1)
            .send()
            .await
            .unwrap();
        problem(del, 412, n).await;
        let weak = s
            .admin(Method::PATCH, &path)
            .header("if-match", format!("W/{etag2}"))
            .json(&json!({"description": "weak"}))
            .send()
            .await
            .unwrap();
        problem(weak, 412, n).await;

        let now: Value = s.get(&path).await.json().await.unwrap();
        assert_eq!(now["description"], "from A", "[{n}]");

        // The current ETag (or *) works; a GET returns the same ETag.
        let got = s.get(&path).await;
        assert_eq!(got.headers()["etag"].to_str().unwrap(), etag2, "[{n}]");
        let ok = s
            .admin(Method::DELETE, &path)
            .header("if-match", &etag2)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 204, "[{n}]");
        problem(s.get(&path).await, 404, n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_megabyte_body_gets_413_and_the_server_stays_healthy() {
    for s in common::servers().await {
        let n = s.name();
        let big = format!(
            "{{\"name\":\"x\",\"description\":\"{}\"}}",
            "a".repeat(5 * 1024 * 1024)
        );
        let res = s
            .admin(Method::POST, "/clients")
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await;
        match res {
            Ok(res) => {
                problem(res, 413, n).await;
            }
            // The server may answer and close before the client finished sending 5 MB;
            // then the client sees a reset instead of the 413. Health below is the point.
            Err(e) => eprintln!("[{n}] client saw {e} while sending 5 MB"),
        }
        let health = s.http.get(s.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200, "[{n}]");
        s.create_client(&confidential("After Big Body")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_with_small_request_gets_413_problem() {
    // A body just over the limit is fully sent, so the client always sees the 413.
    for s in common::servers().await {
        let n = s.name();
        let body = json!({"name": "x", "description": "a".repeat(70 * 1024)});
        let res = s.post("/clients", &body).await;
        let v = problem(res, 413, n).await;
        assert!(v["detail"].as_str().unwrap().contains("limit"), "[{n}] {v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_type_gets_415() {
    for s in common::servers().await {
        let n = s.name();
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let mut req = s
                .admin(Method::POST, "/clients")
                .body(confidential("Typed").to_string());
            if let Some(ct) = ct {
                req = req.header("content-type", ct);
            }
            let v = problem(req.send().await.unwrap(), 415, n).await;
            assert!(
                v["detail"].as_str().unwrap().contains("application/json"),
                "[{n}] {v}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_unknown_fields_and_wrong_types_get_400_naming_the_problem() {
    for s in common::servers().await {
        let n = s.name();
        let send = |body: &'static str| {
            s.admin(Method::POST, "/clients")
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let v = problem(send("{\"name\": ").await.unwrap(), 400, n).await;
        assert!(
            v["detail"].as_str().unwrap().contains("malformed JSON"),
            "[{n}] {v}"
        );
        let v = problem(send("{} trailing").await.unwrap(), 400, n).await;
        assert!(
            v["detail"].as_str().unwrap().contains("malformed JSON"),
            "[{n}] {v}"
        );
        let v = problem(
            send("{\"name\":\"a\",\"version\":\"1\",\"colour\":\"red\"}")
                .await
                .unwrap(),
            400,
            n,
        )
        .await;
        assert!(
            v["detail"].as_str().unwrap().contains("colour"),
            "[{n}] {v}"
        );
        let v = problem(send("{\"name\": 5}").await.unwrap(), 400, n).await;
        assert!(v["detail"].as_str().unwrap().contains("name"), "[{n}] {v}");
        let v = problem(
            send("{\"grant_types\": \"password\"}").await.unwrap(),
            400,
            n,
        )
        .await;
        assert!(
            v["detail"].as_str().unwrap().contains("grant_types"),
            "[{n}] {v}"
        );
        let v = problem(send("[1,2]").await.unwrap(), 400, n).await;
        assert!(v["detail"].is_string(), "[{n}] {v}");
        let list: Value = s.get("/clients").await.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "[{n}]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_returns_every_client_exactly_once() {
    for s in common::servers().await {
        let n = s.name();
        let mut created = HashSet::new();
        for i in 0..23 {
            let c = s
                .create_client(&confidential(&format!("Paged {i:02}")))
                .await;
            created.insert(c["client_id"].as_str().unwrap().to_owned());
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = "/clients?limit=5".to_owned();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page: Value = s.get(&path).await.json().await.unwrap();
            pages += 1;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 5, "[{n}]");
            seen.extend(
                items
                    .iter()
                    .map(|c| c["client_id"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(pages < 10, "[{n}] pagination does not end");
        }
        assert_eq!(pages, 5, "[{n}] 23 clients in pages of 5");
        assert_eq!(seen.len(), 23, "[{n}] duplicates or gaps");
        assert_eq!(
            seen.iter().cloned().collect::<HashSet<_>>(),
            created,
            "[{n}]"
        );

        // A cursor the server did not hand out, and limits out of range, are refused.
        problem(s.get("/clients?cursor=garbage!").await, 422, n).await;
        problem(s.get("/clients?limit=0").await, 422, n).await;
        problem(s.get("/clients?limit=501").await, 422, n).await;
        problem(s.get("/clients?limit=abc").await, 400, n).await;
        problem(s.get("/clients?grant_type=magic").await, 422, n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_list_filters_by_name_active_and_grant_type() {
    for s in common::servers().await {
        let n = s.name();
        let a = s.create_client(&confidential("Billing Service")).await;
        s.create_client(&confidential("Reports")).await;
        s.create_client(&common::public("Mobile Billing")).await;
        s.create_client(&confidential("100%_Off")).await;
        let id = a["client_id"].as_str().unwrap();
        s.patch(&format!("/clients/{id}"), &json!({"active": false}))
            .await;

        let names = |v: Value| -> Vec<String> {
            let mut names: Vec<String> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned())
                .collect();
            names.sort();
            names
        };
        let v = s.get("/clients?q=billing").await.json().await.unwrap();
        assert_eq!(names(v), ["Billing Service", "Mobile Billing"], "[{n}]");
        let v = s
            .get("/clients?q=BILL&active=true")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(names(v), ["Mobile Billing"], "[{n}]");
        let v = s.get("/clients?active=false").await.json().await.unwrap();
        assert_eq!(names(v), ["Billing Service"], "[{n}]");
        let v = s
            .get("/clients?grant_type=authorization_code")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(names(v), ["Mobile Billing"], "[{n}]");
        // Version (exact) and type filters.
        let mut v2 = confidential("Billing Service");
        v2["version"] = json!("2.0");
        s.create_client(&v2).await;
        let v = s.get("/clients?version=2.0").await.json().await.unwrap();
        assert_eq!(names(v), ["Billing Service"], "[{n}]");
        let v = s
            .get("/clients?q=billing&version=1.0")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(names(v), ["Billing Service", "Mobile Billing"], "[{n}]");
        let v = s.get("/clients?type=public").await.json().await.unwrap();
        assert_eq!(names(v), ["Mobile Billing"], "[{n}]");
        problem(s.get("/clients?type=secret").await, 422, n).await;
        // LIKE wildcards in the search are literal characters.
        let v = s.get("/clients?q=%25_").await.json().await.unwrap();
        assert_eq!(names(v), ["100%_Off"], "[{n}]");
    }
}

fn contains_secret(v: &Value, secrets: &[String]) -> bool {
    let text = v.to_string();
    secrets.iter().any(|s| text.contains(s.as_str()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_writes_an_audit_entry_without_secrets() {
    for s in common::servers().await {
        let n = s.name();
        let c = s.create_client(&confidential("Audited")).await;
        let id = c["client_id"].as_str().unwrap().to_owned();
        let mut secrets = vec![c["client_secret"].as_str().unwrap().to_owned()];
        s.patch(
            &format!("/clients/{id}"),
            &json!({"description": "changed"}),
        )
        .await;
        let rot: Value = s
            .post(
                &format!("/clients/{id}/secret"),
                &json!({"grace_seconds": 60}),
            )
            .await
            .json()
            .await
            .unwrap();
        secrets.push(rot["client_secret"].as_str().unwrap().to_owned());
        s.patch(&format!("/clients/{id}"), &json!({"active": false}))
            .await;
        s.patch(&format!("/clients/{id}"), &json!({"active": true}))
            .await;
        assert_eq!(
            s.delete(&format!("/clients/{id}/tokens")).await.status(),
            204
        );
        let key: Value = s
            .post("/admin-keys", &json!({"name": "second"}))
            .await
            .json()
            .await
            .unwrap();
        secrets.push(key["key"].as_str().unwrap().to_owned());
        secrets.push(s.key.clone());
        assert_eq!(s.delete(&format!("/clients/{id}")).await.status(), 204);

        let log: Value = s
            .get(&format!("/audit?target_id={id}"))
            .await
            .json()
            .await
            .unwrap();
        let actions: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "client.delete",
                "client.revoke_tokens",
                "client.activate",
                "client.deactivate",
                "client.rotate_secret",
                "client.update",
                "client.create"
            ],
            "[{n}] newest first"
        );
        for e in log["items"].as_array().unwrap() {
            assert_eq!(e["actor"], s.actor.as_str(), "[{n}] {e}");
            assert_eq!(e["source_ip"], "127.0.0.1", "[{n}] {e}");
            assert!(e["at"].as_str().unwrap().ends_with('Z'), "[{n}] {e}");
        }
        let all: Value = s.get("/audit?limit=500").await.json().await.unwrap();
        assert!(
            all["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["action"] == "admin_key.create"),
            "[{n}]"
        );
        assert!(
            !contains_secret(&all, &secrets),
            "[{n}] audit leaks a secret"
        );
        // Hashes are not in it either.
        assert!(!all.to_string().contains("hmac-sha256$"), "[{n}]");

        let by_action: Value = s
            .get("/audit?action=client.update")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(by_action["items"].as_array().unwrap().len(), 1, "[{n}]");
        let paged: Value = s.get("/audit?limit=2").await.json().await.unwrap();
        assert_eq!(paged["items"].as_array().unwrap().len(), 2, "[{n}]");
        let next = paged["next_cursor"].as_str().unwrap();
        let page2: Value = s
            .get(&format!("/audit?limit=2&cursor={next}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            page2["items"][0]["id"].as_i64().unwrap() < paged["items"][1]["id"].as_i64().unwrap(),
            "[{n}]"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_rotation_with_grace_keeps_the_old_secret_valid_for_the_grace_period_only() {
    for db in tollgate_testkit::each_backend().await {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let s = start_with(
            db,
            Options {
                clock: clock.clone(),
                ..Default::default()
            },
        )
        .await;
        let n = s.name();
        let clients = s.state.services.clients.clone();
        let c = s.create_client(&confidential("Rotating")).await;
        let id = c["client_id"].as_str().unwrap().to_owned();
        let old = c["client_secret"].as_str().unwrap().to_owned();
        assert!(
            clients.authenticate(&id, &old).await.unwrap().is_some(),
            "[{n}]"
        );

        let res = s
            .post(
                &format!("/clients/{id}/secret"),
                &json!({"grace_seconds": 300}),
            )
            .await;
        assert_eq!(res.status(), 200, "[{n}]");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let rot: Value = res.json().await.unwrap();
        let new = rot["client_secret"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert!(rot["previous_secret_expires_at"].is_string(), "[{n}] {rot}");

        assert!(
            clients.authenticate(&id, &new).await.unwrap().is_some(),
            "[{n}]"
        );
        assert!(
            clients.authenticate(&id, &old).await.unwrap().is_some(),
            "[{n}] old secret within grace"
        );
        clock.advance(Duration::seconds(299));
        assert!(
            clients.authenticate(&id, &old).await.unwrap().is_some(),
            "[{n}] old secret at 299 s"
        );
        clock.advance(Duration::seconds(2));
        assert!(
            clients.authenticate(&id, &old).await.unwrap().is_none(),
            "[{n}] old secret after grace"
        );
        assert!(
            clients.authenticate(&id, &new).await.unwrap().is_some(),
            "[{n}]"
        );
        assert!(
            clients.authenticate(&id, "wrong").await.unwrap().is_none(),
            "[{n}]"
        );

        // Without grace (empty body) the previous secret stops at once.
        let res = s
            .admin(Method::POST, &format!("/clients/{id}/secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "[{n}]");
        let rot2: Value = res.json().await.unwrap();
        let newest = rot2["client_secret"].as_str().unwrap();
        assert!(rot2.get("previous_secret_expires_at").is_none(), "[{n}]");
        assert!(
            clients.authenticate(&id, &new).await.unwrap().is_none(),
            "[{n}]"
        );
        assert!(
            clients.authenticate(&id, newest).await.unwrap().is_some(),
            "[{n}]"
        );

        // Out-of-range grace, public clients and unknown clients are refused.
        let v = s
            .post(
                &format!("/clients/{id}/secret"),
                &json!({"grace_seconds": -1}),
            )
            .await;
        common::expect_field_error(v, "grace_seconds", "out_of_range", n).await;
        let p = s.create_client(&common::public("Pub")).await;
        let res = s
            .post(
                &format!("/clients/{}/secret", p["client_id"].as_str().unwrap()),
                &json!({}),
            )
            .await;
        problem(res, 409, n).await;
        problem(s.post("/clients/nope/secret", &json!({})).await, 404, n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_keys_are_shown_once_and_deleted_keys_stop_working() {
    for s in common::servers().await {
        let n = s.name();
        let res = s.post("/admin-keys", &json!({"name": "deploy"})).await;
        assert_eq!(res.status(), 201, "[{n}]");
        let k: Value = res.json().await.unwrap();
        let secret = k["key"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("tga_"), "[{n}]");
        let list: Value = s.get("/admin-keys").await.json().await.unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 2, "[{n}]");
        assert!(
            !list.to_string().contains(&secret),
            "[{n}] list shows a key"
        );

        let with_new = s
            .http
            .get(s.url("/admin/api/v1/clients"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        assert_eq!(with_new.status(), 200, "[{n}]");
        let id = k["id"].as_str().unwrap();
        assert_eq!(s.delete(&format!("/admin-keys/{id}")).await.status(), 204);
        let after = s
            .http
            .get(s.url("/admin/api/v1/clients"))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap();
        problem(after, 401, n).await;
        problem(s.delete(&format!("/admin-keys/{id}")).await, 404, n).await;
        let blank = s.post("/admin-keys", &json!({"name": "  "})).await;
        common::expect_field_error(blank, "name", "invalid", n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_resources_get_404_problems() {
    for s in common::servers().await {
        let n = s.name();
        problem(s.get("/clients/does-not-exist").await, 404, n).await;
        problem(
            s.patch("/clients/does-not-exist", &json!({"description": "x"}))
                .await,
            404,
            n,
        )
        .await;
        problem(s.delete("/clients/does-not-exist").await, 404, n).await;
        problem(s.delete("/clients/does-not-exist/tokens").await, 404, n).await;
        problem(s.get("/no-such-thing").await, 404, n).await;
    }
}

// Found by schemathesis (scripts/schemathesis.sh): a path parameter that is not UTF-8 got
// axum's plain-text 400, which the OpenAPI document does not describe.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_parameter_that_is_not_utf8_is_a_problem_400() {
    for s in common::servers().await {
        let n = s.name();
        problem(s.get("/clients/%FF").await, 400, n).await;
        problem(s.delete("/tokens/%C3%28").await, 400, n).await;
        problem(s.get("/users/%80").await, 400, n).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_openapi_are_served() {
    for s in common::servers().await {
        let n = s.name();
        let h = s.http.get(s.url("/healthz")).send().await.unwrap();
        assert_eq!(h.status(), 200, "[{n}]");
        let r = s.http.get(s.url("/readyz")).send().await.unwrap();
        assert_eq!(r.status(), 200, "[{n}]");
        let doc: Value = s
            .http
            .get(s.url("/admin/api/v1/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "[{n}]");
        for p in [
            "/clients",
            "/clients/{client_id}",
            "/clients/{client_id}/secret",
            "/clients/{client_id}/tokens",
            "/admin-keys",
            "/admin-keys/{id}",
            "/audit",
        ] {
            assert!(doc["paths"][p].is_object(), "[{n}] OpenAPI lacks {p}");
        }
        assert!(doc["components"]["schemas"]["ClientView"].is_object());
        assert!(doc["components"]["securitySchemes"]["admin_key"].is_object());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_a_request_id() {
    for s in common::servers().await {
        let res = s.get("/clients").await;
        assert!(!res.headers()["x-request-id"].is_empty(), "[{}]", s.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_that_changes_nothing_writes_nothing() {
    for s in common::servers().await {
        let n = s.name();
        let res = s.post("/clients", &confidential("Idle")).await;
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        let c: Value = res.json().await.unwrap();
        let id = c["client_id"].as_str().unwrap();
        let res = s
            .patch(
                &format!("/clients/{id}"),
                &json!({"name": "Idle", "version": "1.0", "scopes": ["api:read"]}),
            )
            .await;
        assert_eq!(res.status(), 200, "[{n}]");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag, "[{n}]");
        let after: Value = res.json().await.unwrap();
        assert_eq!(after["updated_at"], c["updated_at"], "[{n}]");
        let log: Value = s
            .get(&format!("/audit?target_id={id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            log["items"].as_array().unwrap().len(),
            1,
            "[{n}] only the create"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_method_gets_405_problem() {
    for s in common::servers().await {
        let res = s.admin(Method::PUT, "/clients").send().await.unwrap();
        problem(res, 405, s.name()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_sqlite_serves_reads_and_writes() {
    let store = tollgate_store::open("sqlite::memory:").await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 0);
    store.ping().await.unwrap();
}

//! The admin API's protocol: authentication, conditional requests, body handling,
//! pagination, the audit log, secret rotation, admin keys, health and OpenAPI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::confidential;
use crate::common::expect_problem;
use crate::common::TestServer;
use chrono::Duration;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashSet;
use tollgate_test_macros::backends;

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_refuses_requests_without_a_valid_admin_key(s: TestServer) {
    let clients = || s.anonymous(Method::GET, "/clients");
    let none = clients().send().await.unwrap();
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    expect_problem(none, 401).await;
    let bearer = |bad: &str| clients().header("authorization", format!("Bearer {bad}"));
    let create = s.anonymous(Method::POST, "/clients");
    common::expect_problems(vec![
        ("Bearer tga_wrong", bearer("tga_wrong"), 401),
        ("Bearer not-even-a-key", bearer("not-even-a-key"), 401),
        ("an empty Bearer", bearer(""), 401),
        (
            "Basic with the key",
            clients().basic_auth("admin", Some(&s.key)),
            401,
        ),
        (
            "a create without a key",
            create.json(&confidential("Sneaky")),
            401,
        ),
    ])
    .await;
    // Nothing was created by the refused requests.
    let list = s.get_json("/clients").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

/// Creates a confidential client named `name`: its ETag and its JSON.
async fn create_with_etag(s: &TestServer, name: &str) -> (String, Value) {
    let res = s.post("/clients", &confidential(name)).await;
    assert_eq!(res.status(), 201, "create {name}");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    (etag, res.json().await.unwrap())
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_if_match_gets_412_and_changes_nothing(s: TestServer) {
    let (etag1, c) = create_with_etag(&s, "Etag App").await;
    let path = format!("/clients/{}", c["client_id"].as_str().unwrap());

    let patch_if = |etag: &str, description: &str| {
        s.admin(Method::PATCH, &path)
            .header("if-match", etag)
            .json(&json!({ "description": description }))
    };
    // Administrator A saves with the ETag they read.
    let a = patch_if(&etag1, "from A").send().await.unwrap();
    assert_eq!(a.status(), 200);
    let etag2 = a.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(etag1, etag2, "ETag must change with the client");

    // Administrator B, still holding the old ETag, is refused; so is a weak ETag.
    let delete_if = |etag: &str| s.admin(Method::DELETE, &path).header("if-match", etag);
    common::expect_problems(vec![
        (
            "B's PATCH with the old ETag",
            patch_if(&etag1, "from B"),
            412,
        ),
        ("DELETE with the old ETag", delete_if(&etag1), 412),
        (
            "PATCH with W/",
            patch_if(&format!("W/{etag2}"), "weak"),
            412,
        ),
    ])
    .await;

    let now: Value = s.get_json(&path).await;
    assert_eq!(now["description"], "from A");

    // The current ETag (or *) works; a GET returns the same ETag.
    let got = s.get(&path).await;
    assert_eq!(got.headers()["etag"].to_str().unwrap(), etag2);
    let ok = delete_if(&etag2).send().await.unwrap();
    assert_eq!(ok.status(), 204);
    expect_problem(s.get(&path).await, 404).await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_megabyte_body_gets_413_and_the_server_stays_healthy(s: TestServer) {
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
            expect_problem(res, 413).await;
        }
        // The server may answer and close before the client finished sending 5 MB;
        // then the client sees a reset instead of the 413. Health below is the point.
        Err(e) => eprintln!("client saw {e} while sending 5 MB"),
    }
    let health = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    s.create_client(&confidential("After Big Body")).await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_with_small_request_gets_413_problem(db: TestDb) {
    // A body just over the limit is fully sent, so the client always sees the 413.
    let s = common::start(db).await;
    let body = json!({"name": "x", "description": "a".repeat(70 * 1024)});
    let res = s.post("/clients", &body).await;
    let v = expect_problem(res, 413).await;
    assert!(v["detail"].as_str().unwrap().contains("limit"), "{v}");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_content_type_gets_415(s: TestServer) {
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
        let v = expect_problem(req.send().await.unwrap(), 415).await;
        assert!(
            v["detail"].as_str().unwrap().contains("application/json"),
            "{v}"
        );
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_unknown_fields_and_wrong_types_get_400_naming_the_problem(s: TestServer) {
    let send = |body: &'static str| {
        s.admin(Method::POST, "/clients")
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    // (body, what the detail must name); a body that is no object gets some detail.
    for (body, named) in [
        ("{\"name\": ", "malformed JSON"),
        ("{} trailing", "malformed JSON"),
        (
            "{\"name\":\"a\",\"version\":\"1\",\"colour\":\"red\"}",
            "colour",
        ),
        ("{\"name\": 5}", "name"),
        ("{\"grant_types\": \"password\"}", "grant_types"),
        ("[1,2]", ""),
    ] {
        let v = common::expect_problem_for(body, send(body).await.unwrap(), 400).await;
        let detail = v["detail"].as_str();
        assert!(detail.unwrap().contains(named), "{body}: {v}");
    }
    let list: Value = s.get_json("/clients").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_returns_every_client_exactly_once(s: TestServer) {
    let mut created = HashSet::new();
    for i in 0..23 {
        let c = s
            .create_client(&confidential(&format!("Paged {i:02}")))
            .await;
        created.insert(c["client_id"].as_str().unwrap().to_owned());
    }
    let (pages, seen) = common::walk_pages(&s, "/clients?limit=5", 5, "client_id").await;
    assert_eq!(pages, 5, "23 clients in pages of 5");
    assert_eq!(seen.len(), 23, "duplicates or gaps");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), created);

    // A cursor the server did not hand out, and limits out of range, are refused.
    for (path, status) in [
        ("/clients?cursor=garbage!", 422),
        ("/clients?limit=0", 422),
        ("/clients?limit=501", 422),
        ("/clients?limit=abc", 400),
        ("/clients?grant_type=magic", 422),
    ] {
        common::expect_problem_for(path, s.get(path).await, status).await;
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_list_sorts_by_created_name_and_version_each_way_and_pages_in_that_order(
    s: TestServer,
) {
    // (name, version), created in this order.
    let specs = [
        ("beta", "2.0"),
        ("Alpha", "1.10"),
        ("alpha", "1.9"),
        ("Gamma", "1.10"),
    ];
    for (name, version) in specs {
        let mut c = confidential(name);
        c["version"] = json!(version);
        s.create_client(&c).await;
    }
    let label = |name: &str, version: &str| format!("{name} {version}");
    // Names compare case-insensitively, versions as text; ties fall to the other key.
    let orders: [(&str, [(&str, &str); 4]); 6] = [
        ("", specs),
        ("created", specs),
        ("-created", [specs[3], specs[2], specs[1], specs[0]]),
        ("name", [specs[1], specs[2], specs[0], specs[3]]),
        ("-name", [specs[3], specs[0], specs[2], specs[1]]),
        ("version", [specs[1], specs[3], specs[2], specs[0]]),
    ];
    for (sort, want) in orders {
        let first = format!("/clients?limit=3&sort={sort}");
        let mut seen = Vec::new();
        let mut path = first.clone();
        loop {
            let page = s.get_json(&path).await;
            for c in page["items"].as_array().unwrap() {
                seen.push(label(
                    c["name"].as_str().unwrap(),
                    c["version"].as_str().unwrap(),
                ));
            }
            match page["next_cursor"].as_str() {
                Some(c) => path = format!("{first}&cursor={c}"),
                None => break,
            }
        }
        let want: Vec<String> = want.iter().map(|(n, v)| label(n, v)).collect();
        assert_eq!(seen, want, "sort={sort:?}, pages of 3");
    }
    // An unknown order is named; a cursor of one order does not page another.
    let p = expect_problem(s.get("/clients?sort=created_at").await, 422).await;
    assert!(p.to_string().contains("sort"), "{p}");
    let page = s.get_json("/clients?limit=1&sort=name").await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let p = expect_problem(
        s.get(&format!("/clients?sort=version&cursor={cursor}"))
            .await,
        422,
    )
    .await;
    assert!(p.to_string().contains("cursor"), "{p}");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_list_filters_by_name_active_and_grant_type(s: TestServer) {
    let a = s.create_client(&confidential("Billing Service")).await;
    s.create_client(&confidential("Reports")).await;
    s.create_client(&common::public("Mobile Billing")).await;
    s.create_client(&confidential("100%_Off")).await;
    let path = format!("/clients/{}", a["client_id"].as_str().unwrap());
    s.patch(&path, &json!({"active": false})).await;

    let names = |v: Value| -> Vec<String> {
        let mut names: Vec<String> = common::item_strs(&v, "name")
            .into_iter()
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    };
    let before_v2: [(&str, &[&str]); 4] = [
        ("/clients?q=billing", &["Billing Service", "Mobile Billing"]),
        ("/clients?q=BILL&active=true", &["Mobile Billing"]),
        ("/clients?active=false", &["Billing Service"]),
        (
            "/clients?grant_type=authorization_code",
            &["Mobile Billing"],
        ),
    ];
    for (query, want) in before_v2 {
        assert_eq!(names(s.get_json(query).await), want, "{query}");
    }
    // Version (exact) and type filters.
    let mut v2 = confidential("Billing Service");
    v2["version"] = json!("2.0");
    s.create_client(&v2).await;
    let with_v2: [(&str, &[&str]); 4] = [
        ("/clients?version=2.0", &["Billing Service"]),
        (
            "/clients?q=billing&version=1.0",
            &["Billing Service", "Mobile Billing"],
        ),
        ("/clients?type=public", &["Mobile Billing"]),
        // LIKE wildcards in the search are literal characters.
        ("/clients?q=%25_", &["100%_Off"]),
    ];
    for (query, want) in with_v2 {
        assert_eq!(names(s.get_json(query).await), want, "{query}");
    }
    expect_problem(s.get("/clients?type=secret").await, 422).await;
}

fn contains_secret(v: &Value, secrets: &[String]) -> bool {
    let text = v.to_string();
    secrets.iter().any(|s| text.contains(s.as_str()))
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutation_writes_an_audit_entry_without_secrets(s: TestServer) {
    let c = s.create_client(&confidential("Audited")).await;
    let id = c["client_id"].as_str().unwrap().to_owned();
    let path = format!("/clients/{id}");
    let mut secrets = vec![c["client_secret"].as_str().unwrap().to_owned()];
    s.patch(&path, &json!({"description": "changed"})).await;
    let grace = json!({"grace_seconds": 60});
    let rot = s.post_json(&format!("{path}/secret"), &grace).await;
    secrets.push(rot["client_secret"].as_str().unwrap().to_owned());
    s.patch(&path, &json!({"active": false})).await;
    s.patch(&path, &json!({"active": true})).await;
    assert_eq!(s.delete(&format!("{path}/tokens")).await.status(), 204);
    let key: Value = s.post_json("/admin-keys", &json!({"name": "second"})).await;
    secrets.push(key["key"].as_str().unwrap().to_owned());
    secrets.push(s.key.clone());
    assert_eq!(s.delete(&path).await.status(), 204);

    let log: Value = s.get_json(&format!("/audit?target_id={id}")).await;
    let actions = crate::common::audit_actions(&log);
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
        "newest first"
    );
    for e in log["items"].as_array().unwrap() {
        assert_eq!(e["actor"], s.actor.as_str(), "{e}");
        assert_eq!(e["source_ip"], "127.0.0.1", "{e}");
        assert!(e["at"].as_str().unwrap().ends_with('Z'), "{e}");
    }
    let all: Value = s.get_json("/audit?limit=500").await;
    assert!(all["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "admin_key.create"));
    assert!(!contains_secret(&all, &secrets), "audit leaks a secret");
    // Hashes are not in it either.
    assert!(!all.to_string().contains("hmac-sha256$"));

    let by_action: Value = s.get_json("/audit?action=client.update").await;
    assert_eq!(by_action["items"].as_array().unwrap().len(), 1);
    let paged: Value = s.get_json("/audit?limit=2").await;
    assert_eq!(paged["items"].as_array().unwrap().len(), 2);
    let next = paged["next_cursor"].as_str().unwrap();
    let page2 = s.get_json(&format!("/audit?limit=2&cursor={next}")).await;
    let first_of_page2 = page2["items"][0]["id"].as_i64().unwrap();
    assert!(first_of_page2 < paged["items"][1]["id"].as_i64().unwrap());
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_rotation_with_grace_keeps_the_old_secret_valid_for_the_grace_period_only(
    db: TestDb,
) {
    let (s, clock) = common::manual_clock_server(db).await;
    let clients = s.state.services.clients.clone();
    let c = s.create_client(&confidential("Rotating")).await;
    let id = tollgate_core::ClientId::new(c["client_id"].as_str().unwrap());
    let old = c["client_secret"].as_str().unwrap().to_owned();
    let accepted = |secret: String| {
        let (clients, id) = (clients.clone(), id.clone());
        async move { clients.authenticate(&id, &secret).await.unwrap().is_some() }
    };
    assert!(accepted(old.clone()).await, "old secret before rotation");

    let rotate = format!("/clients/{id}/secret");
    let res = s.post(&rotate, &json!({"grace_seconds": 300})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let rot: Value = res.json().await.unwrap();
    let new = rot["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rot["previous_secret_expires_at"].is_string(), "{rot}");

    assert!(accepted(new.clone()).await, "new secret");
    assert!(accepted(old.clone()).await, "old secret within grace");
    clock.advance(Duration::seconds(299));
    assert!(accepted(old.clone()).await, "old secret at 299 s");
    clock.advance(Duration::seconds(2));
    assert!(!accepted(old.clone()).await, "old secret after grace");
    assert!(accepted(new.clone()).await, "new secret after grace");
    assert!(!accepted("wrong".into()).await, "a wrong secret");

    // Without grace (empty body) the previous secret stops at once.
    let res = s.send(Method::POST, &rotate).await;
    assert_eq!(res.status(), 200);
    let rot2: Value = res.json().await.unwrap();
    let newest = rot2["client_secret"].as_str().unwrap();
    assert!(rot2.get("previous_secret_expires_at").is_none());
    assert!(
        !accepted(new).await,
        "previous secret after rotation without grace"
    );
    assert!(accepted(newest.to_owned()).await, "newest secret");

    // Out-of-range grace, public clients and unknown clients are refused.
    let v = s.post(&rotate, &json!({"grace_seconds": -1})).await;
    common::expect_field_error(v, "grace_seconds", "out_of_range").await;
    let p = s.create_client(&common::public("Pub")).await;
    let public = format!("/clients/{}/secret", p["client_id"].as_str().unwrap());
    expect_problem(s.post(&public, &json!({})).await, 409).await;
    expect_problem(s.post("/clients/nope/secret", &json!({})).await, 404).await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_keys_are_shown_once_and_deleted_keys_stop_working(s: TestServer) {
    let res = s.post("/admin-keys", &json!({"name": "deploy"})).await;
    assert_eq!(res.status(), 201);
    let k: Value = res.json().await.unwrap();
    let secret = k["key"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tga_"));
    let list: Value = s.get_json("/admin-keys").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(&secret), "list shows a key");

    let with_new = s.get_with_key(&secret, "/clients").await;
    assert_eq!(with_new.status(), 200);
    let path = format!("/admin-keys/{}", k["id"].as_str().unwrap());
    assert_eq!(s.delete(&path).await.status(), 204);
    expect_problem(s.get_with_key(&secret, "/clients").await, 401).await;
    expect_problem(s.delete(&path).await, 404).await;
    let blank = s.post("/admin-keys", &json!({"name": "  "})).await;
    common::expect_field_error(blank, "name", "invalid").await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_resources_get_404_and_non_utf8_path_parameters_400_problems(s: TestServer) {
    let patch = s.admin(Method::PATCH, "/clients/does-not-exist");
    let patch = patch.json(&json!({"description": "x"}));
    s.expect_admin_problems(&[
        // unknown_resources_get_404_problems
        (Method::GET, "/clients/does-not-exist", 404),
        (Method::DELETE, "/clients/does-not-exist", 404),
        (Method::DELETE, "/clients/does-not-exist/tokens", 404),
        (Method::GET, "/no-such-thing", 404),
        // a_path_parameter_that_is_not_utf8_is_a_problem_400. Found by schemathesis
        // (scripts/schemathesis.sh): a path parameter that is not UTF-8 got axum's
        // plain-text 400, which the OpenAPI document does not describe.
        (Method::GET, "/clients/%FF", 400),
        (Method::DELETE, "/tokens/%C3%28", 400),
        (Method::GET, "/users/%80", 400),
    ])
    .await;
    let unknown_patch = vec![("PATCH /clients/does-not-exist", patch, 404)];
    common::expect_problems(unknown_patch).await;
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_openapi_are_served(s: TestServer) {
    let h = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(h.status(), 200);
    let r = s.http.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = common::send_json(s.http.get(s.url("/admin/api/v1/openapi.json"))).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/clients",
        "/clients/{client_id}",
        "/clients/{client_id}/secret",
        "/clients/{client_id}/tokens",
        "/admin-keys",
        "/admin-keys/{id}",
        "/audit",
    ] {
        assert!(doc["paths"][p].is_object(), "OpenAPI lacks {p}");
    }
    assert!(doc["components"]["schemas"]["ClientView"].is_object());
    assert!(doc["components"]["securitySchemes"]["admin_key"].is_object());
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_carry_a_request_id(s: TestServer) {
    let res = s.get("/clients").await;
    assert!(!res.headers()["x-request-id"].is_empty());
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_that_changes_nothing_writes_nothing(s: TestServer) {
    let (etag, c) = create_with_etag(&s, "Idle").await;
    let id = c["client_id"].as_str().unwrap();
    let res = s
        .patch(
            &format!("/clients/{id}"),
            &json!({"name": "Idle", "version": "1.0", "scopes": ["api:read"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["updated_at"], c["updated_at"]);
    let log: Value = s.get_json(&format!("/audit?target_id={id}")).await;
    assert_eq!(log["items"].as_array().unwrap().len(), 1, "only the create");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_method_gets_405_problem(s: TestServer) {
    let res = s.admin(Method::PUT, "/clients").send().await.unwrap();
    expect_problem(res, 405).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_sqlite_serves_reads_and_writes() {
    let store = tollgate_store::open("sqlite::memory:").await.unwrap();
    assert_eq!(store.count_users().await.unwrap(), 0);
    store.ping().await.unwrap();
}

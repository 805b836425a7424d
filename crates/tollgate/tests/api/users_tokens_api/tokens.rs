//! The tokens resource of the admin API.

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_list_filters_statuses_and_null_semantics(db: TestDb) {
    let (s, clock) = crate::common::manual_clock_server_at(db, start_time()).await;
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
    let a1 = tok(&cc_token(&s, &a, &a_secret).await, "access_token");
    let a2 = tok(&cc_token(&s, &a, &a_secret).await, "access_token");
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
    let (_, v) = refresh(&s, &b, &b_secret, &r1, None).await;
    let (b3, r1b) = (
        tok(&v, "access_token"),
        v["refresh_token"].as_str().map(str::to_owned),
    );
    let r1b = r1b.expect("one refresh left");

    let all = tokens(&s, "").await;
    assert_eq!(all.len(), 9, "{all:?}");
    // Newest first.
    let issued: Vec<&str> = all
        .iter()
        .map(|t| t["issued_at"].as_str().unwrap())
        .collect();
    let mut sorted = issued.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(issued, sorted);

    // Wire format: exactly the SPEC §4 fields; refreshes_left only on refresh tokens.
    let listing = serde_json::to_string(&all).unwrap();
    for secret in [&a1, &a2, &b1, &b2, &b3, &c1, &r1, &r1b, &r2] {
        assert!(!listing.contains(secret.as_str()), "token value leaked");
    }
    assert!(!listing.contains("hmac-sha256"), "hash leaked");
    for t in &all {
        let mut expected = set(&TOKEN_KEYS);
        if t["kind"] == "refresh" {
            expected.insert("refreshes_left".into());
        } else {
            assert_eq!(t["kind"], "access", "{t}");
        }
        assert_eq!(keys(t), expected, "{t}");
    }

    // kind
    let refresh_items = tokens(&s, "kind=refresh").await;
    assert_eq!(refresh_items.len(), 3, "{refresh_items:?}");
    let by_client = |items: &[Value], cid: &str| -> Vec<Value> {
        items
            .iter()
            .filter(|t| t["client_id"] == cid)
            .cloned()
            .collect()
    };
    let beta_refresh = by_client(&refresh_items, &b);
    assert_eq!(beta_refresh.len(), 2);
    // Newest first: the rotated one (1 left, active), then the consumed one (2, revoked).
    assert_eq!(beta_refresh[0]["refreshes_left"], 1, "{beta_refresh:?}");
    assert_eq!(beta_refresh[0]["status"], "active");
    assert_eq!(beta_refresh[0]["grant_type"], "refresh_token");
    assert_eq!(beta_refresh[1]["refreshes_left"], 2);
    assert_eq!(
        beta_refresh[1]["status"], "revoked",
        "consumed by the refresh"
    );
    let gamma_refresh = by_client(&refresh_items, &c);
    assert_eq!(gamma_refresh.len(), 1);
    let g = &gamma_refresh[0];
    assert!(
        g.get("refreshes_left").is_some() && g["refreshes_left"].is_null(),
        "unlimited is an explicit null: {g}"
    );
    assert!(g["expires_at"].is_null(), "refresh tokens never expire");
    assert_eq!(g["username"], "ken");
    assert_eq!(g["client_name"], "Gamma");
    assert_eq!(g["grant_type"], "authorization_code");
    let access_items = tokens(&s, "kind=access").await;
    assert_eq!(access_items.len(), 6);
    assert!(access_items.iter().all(|t| t["kind"] == "access"));
    assert_eq!(ids(&access_items).union(&ids(&refresh_items)).count(), 9);

    // client_id
    let alpha = tokens(&s, &format!("client_id={a}")).await;
    assert_eq!(alpha.len(), 2);
    for t in &alpha {
        assert_eq!(t["client_name"], "Alpha");
        assert_eq!(t["client_version"], "1.0");
        assert_eq!(t["grant_type"], "client_credentials");
        assert!(t["username"].is_null(), "client tokens have no user: {t}");
        assert_eq!(t["scopes"], json!(["api:read", "api:write"]));
        assert_eq!(t["status"], "expired", "{t}");
        // expires_at = issued_at + 60 s.
        let issued: DateTime<Utc> = t["issued_at"].as_str().unwrap().parse().unwrap();
        let expires: DateTime<Utc> = t["expires_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(issued, t0);
        assert_eq!(expires - issued, Duration::seconds(60));
    }

    // status
    assert_eq!(ids(&tokens(&s, "status=expired").await), ids(&alpha));
    let revoked = tokens(&s, "status=revoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["id"], beta_refresh[1]["id"]);
    let active = tokens(&s, "status=active").await;
    assert_eq!(active.len(), 6);
    assert!(active.iter().all(|t| t["status"] == "active"));
    for item in &all {
        let expected = item["status"].as_str().unwrap();
        let in_list = match expected {
            "active" => &active,
            "revoked" => &revoked,
            _ => &alpha,
        };
        assert!(ids(in_list).contains(item["id"].as_str().unwrap()));
    }

    // username (case-insensitive)
    let judy = tokens(&s, "username=JUDY").await;
    // b1 (password), b2 + r1 (code), b3 + r1b (refresh).
    assert_eq!(judy.len(), 5, "{judy:?}");
    assert!(judy.iter().all(|t| t["username"] == "judy"));
    assert_eq!(id_of(&judy, "access", "password").len(), 1);
    assert!(tokens(&s, "username=nobody").await.is_empty());

    // Never-expiring access tokens: expires_at is null, and they stay active.
    let beta_access = tokens(&s, &format!("client_id={b}&kind=access")).await;
    assert_eq!(beta_access.len(), 3);
    for t in &beta_access {
        assert!(
            t.get("expires_at").is_some() && t["expires_at"].is_null(),
            "never = null: {t}"
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
    assert_eq!(expires, t0 + Duration::seconds(3600));

    // Filters combine.
    let combo = tokens(
        &s,
        &format!("client_id={b}&kind=refresh&status=active&username=judy"),
    )
    .await;
    assert_eq!(combo.len(), 1);
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
        )
        .await;
        assert_eq!(&one, t);
    }
    expect_problem(s.get("/tokens/no-such-token").await, 404).await;

    // The view agrees with introspection.
    assert!(!introspect_active(&s, &a1).await);
    assert!(!introspect_active(&s, &r1).await);
    for tok in [&b1, &b2, &b3, &c1, &r1b, &r2] {
        assert!(introspect_active(&s, tok).await);
    }
    let _ = a2;
}

fn clock_now(s: &TestServer) -> DateTime<Utc> {
    s.state.services.tokens.now()
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_list_paginates_with_and_without_filters(s: TestServer) {
    let (a, a_secret) = client_with(&s, "Pager A", json!({})).await;
    let (b, b_secret) = client_with(&s, "Pager B", json!({})).await;
    for _ in 0..4 {
        tok(&cc_token(&s, &a, &a_secret).await, "access_token");
        tok(&cc_token(&s, &b, &b_secret).await, "access_token");
    }
    let all = tokens(&s, "").await;
    assert_eq!(all.len(), 8);
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
            let page = json_of(s.get(&path).await, 200).await;
            pages += 1;
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 3 && !items.is_empty(), "{page}");
            seen.extend(items.iter().map(|t| t["id"].as_str().unwrap().to_owned()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(pages < 10, "pagination does not end");
        }
        assert_eq!(
            seen, want,
            "filter {filter:?}: same order, no gaps or repeats"
        );
        assert_eq!(pages, want.len().div_ceil(3));
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_list_refuses_bad_parameters(s: TestServer) {
    let v = expect_field_error(s.get("/tokens?kind=id_token").await, "kind", "invalid").await;
    assert!(v["detail"].as_str().unwrap().contains("id_token"), "{v}");
    expect_field_error(s.get("/tokens?status=consumed").await, "status", "invalid").await;
    // Case matters: the values are the documented lower-case words.
    expect_field_error(s.get("/tokens?kind=ACCESS").await, "kind", "invalid").await;
    let v = expect_problem(s.get("/tokens?kind=x&status=y").await, 422).await;
    let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, set(&["kind", "status"]), "both at once: {v}");
    expect_field_error(s.get("/tokens?limit=501").await, "limit", "out_of_range").await;
    expect_field_error(s.get("/tokens?cursor=%%%").await, "cursor", "invalid").await;
    expect_problem(s.get("/tokens?grant_type=password").await, 400).await;
    expect_problem(s.get("/tokens?limit=many").await, 400).await;
    // The valid values are accepted.
    for q in [
        "kind=access",
        "kind=refresh",
        "status=active",
        "status=expired",
        "status=revoked",
    ] {
        json_of(s.get(&format!("/tokens?{q}")).await, 200).await;
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_revokes_a_token_and_audits_it_without_the_token(s: TestServer) {
    create_user(&s, "leo", "leo-password").await;
    let (a, a_secret) = client_with(&s, "Revoke A", json!({})).await;
    let keep = tok(&cc_token(&s, &a, &a_secret).await, "access_token");
    let gone = tok(&cc_token(&s, &a, &a_secret).await, "access_token");
    let items = tokens(&s, "").await;
    // Newest first: `gone` was issued last.
    let gone_id = items[0]["id"].as_str().unwrap().to_owned();
    let keep_id = items[1]["id"].as_str().unwrap().to_owned();

    let res = s.delete(&format!("/tokens/{gone_id}")).await;
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty());
    let t = json_of(s.get(&format!("/tokens/{gone_id}")).await, 200).await;
    assert_eq!(t["status"], "revoked");
    assert!(!introspect_active(&s, &gone).await);
    // Only that one.
    let k = json_of(s.get(&format!("/tokens/{keep_id}")).await, 200).await;
    assert_eq!(k["status"], "active");
    assert!(introspect_active(&s, &keep).await);

    let audit = json_of(
        s.get(&format!("/audit?action=token.revoke&target_id={gone_id}"))
            .await,
        200,
    )
    .await;
    let entries = audit["items"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["target_type"], "token");
    assert_eq!(entries[0]["actor"], s.actor.as_str());
    assert_eq!(entries[0]["details"]["client_id"], a.as_str());
    let whole_log = s.get("/audit?limit=500").await.text().await.unwrap();
    assert!(
        !whole_log.contains(&gone) && !whole_log.contains(&keep),
        "token in audit"
    );

    // Revoking again succeeds and writes nothing more.
    assert_eq!(s.delete(&format!("/tokens/{gone_id}")).await.status(), 204);
    let audit = json_of(s.get("/audit?action=token.revoke").await, 200).await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    expect_problem(s.delete("/tokens/no-such-token").await, 404).await;

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
    assert_eq!(family.len(), 2);
    let refresh_id = id_of(&family, "refresh", "authorization_code");
    assert_eq!(refresh_id.len(), 1);
    assert_eq!(
        s.delete(&format!("/tokens/{}", refresh_id[0]))
            .await
            .status(),
        204
    );
    let after = tokens(&s, &format!("client_id={b}")).await;
    assert!(after.iter().all(|t| t["status"] == "revoked"), "{after:?}");
    assert!(!introspect_active(&s, &access).await);
    assert!(!introspect_active(&s, &refresh_token).await);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_tokens_need_an_admin_key_and_are_documented(s: TestServer) {
    let get = |path| s.anonymous(Method::GET, path);
    let mallory = json!({"username": "mallory", "password": "long enough"});
    crate::common::expect_problems(vec![
        ("GET /users", get("/users"), 401),
        ("GET /tokens", get("/tokens"), 401),
        ("GET /users/x", get("/users/x"), 401),
        ("GET /tokens/x", get("/tokens/x"), 401),
        (
            "POST /users",
            s.anonymous(Method::POST, "/users").json(&mallory),
            401,
        ),
        (
            "DELETE /tokens/x",
            s.anonymous(Method::DELETE, "/tokens/x"),
            401,
        ),
        ("PUT /users", s.admin(Method::PUT, "/users"), 405),
    ])
    .await;

    let doc = json_of(s.get("/openapi.json").await, 200).await;
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/users", &["get", "post"][..]),
        ("/users/{id}", &["get", "patch", "delete"][..]),
        ("/users/{id}/password", &["post"][..]),
        ("/tokens", &["get"][..]),
        ("/tokens/{id}", &["get", "delete"][..]),
    ] {
        for m in methods {
            assert!(paths[path][m].is_object(), "{m} {path} missing");
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
        assert!(schemas[name].is_object(), "schema {name} missing");
    }
    let user_props = keys(&schemas["UserView"]["properties"]);
    assert_eq!(user_props, set(&USER_KEYS));
    let token_props = keys(&schemas["TokenView"]["properties"]);
    let mut want = set(&TOKEN_KEYS);
    want.insert("refreshes_left".into());
    assert_eq!(token_props, want);
    let required: BTreeSet<String> = schemas["TokenView"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    assert!(
        !required.contains("refreshes_left"),
        "absent on access tokens"
    );
    assert!(
        required.contains("expires_at"),
        "always present, null = never"
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_active_admin_cannot_be_deactivated_demoted_or_deleted(s: TestServer) {
    let only = user_with(&s, "only", json!({"admin": true})).await;
    let id = only["id"].as_str().unwrap().to_owned();
    for body in [json!({"active": false}), json!({"admin": false})] {
        let v = expect_problem(s.patch(&format!("/users/{id}"), &body).await, 409).await;
        assert!(
            v["detail"]
                .as_str()
                .unwrap()
                .contains("last active administrator"),
            "{v}"
        );
    }
    expect_problem(s.delete(&format!("/users/{id}")).await, 409).await;
    // With a second admin it is allowed.
    user_with(&s, "second", json!({"admin": true})).await;
    let v = updated(&s, &format!("/users/{id}"), &json!({"active": false})).await;
    assert_eq!(v["active"], false);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_user_patch_writes_nothing(s: TestServer) {
    let u = user_with(&s, "same", json!({})).await;
    let id = u["id"].as_str().unwrap();
    let v = updated(&s, &format!("/users/{id}"), &json!({"admin": false})).await;
    assert_eq!(v["updated_at"], u["updated_at"]);
    let log = json_of(s.get(&format!("/audit?target_id={id}")).await, 200).await;
    assert_eq!(
        log["items"].as_array().unwrap().len(),
        1,
        "only user.create"
    );
}

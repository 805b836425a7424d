//! The users resource of the admin API.

use super::*;
use tollgate_test_macros::backends;

// ---------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_crud_and_the_password_is_never_returned(s: TestServer) {
    // Another active admin, so Alice may be demoted below (the last one may not be).
    let root = s
        .post(
            "/users",
            &json!({"username": "root", "password": "root-password", "admin": true}),
        )
        .await;
    assert_eq!(root.status(), 201);
    let password = "correct horse battery";
    let res = s
        .post(
            "/users",
            &json!({"username": "Alice", "display_name": "  Alice Liddell ", "password": password, "admin": true}),
        )
        .await;
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let created = json_of(res, 201).await;
    assert_eq!(keys(&created), set(&USER_KEYS), "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/admin/api/v1/users/{id}"));
    assert_eq!(created["username"], "Alice");
    assert_eq!(created["display_name"], "Alice Liddell");
    assert_eq!(created["admin"], true);
    assert_eq!(created["active"], true, "active by default");

    let fetched = json_of(s.get(&format!("/users/{id}")).await, 200).await;
    assert_eq!(fetched, created);

    // Defaults: not an admin, active; explicit inactive is kept.
    let bob = create_user(&s, "bob", "bob-password").await;
    assert_eq!(
        (bob["admin"].clone(), bob["active"].clone()),
        (json!(false), json!(true))
    );
    assert!(bob["display_name"].is_null());
    let carol = user_with(&s, "carol", json!({"active": false})).await;
    assert_eq!(carol["active"], false);

    // List: ordered by username, `q` is a case-insensitive substring.
    let all = json_of(s.get("/users").await, 200).await;
    let names = crate::common::item_strs(&all, "username");
    assert!(
        names.contains(&"Alice") && names.contains(&"bob"),
        "{names:?}"
    );
    let mut sorted = names.clone();
    sorted.sort_by_key(|u| u.to_lowercase());
    assert_eq!(names, sorted);
    assert!(all["next_cursor"].is_null());
    let q = json_of(s.get("/users?q=LIC").await, 200).await;
    let found: Vec<&Value> = q["items"].as_array().unwrap().iter().collect();
    assert_eq!(found.len(), 1, "{q}");
    assert_eq!(found[0]["id"], id.as_str());
    for u in all["items"].as_array().unwrap() {
        assert_eq!(keys(u), set(&USER_KEYS), "{u}");
    }

    // PATCH: change, keep what is left out, null clears the display name.
    let patched = updated(&s, &format!("/users/{id}"), &json!({"admin": false})).await;
    assert_eq!(patched["admin"], false);
    assert_eq!(patched["display_name"], "Alice Liddell", "kept");
    assert_eq!(patched["username"], "Alice");
    let cleared = updated(&s, &format!("/users/{id}"), &json!({"display_name": null})).await;
    assert!(cleared["display_name"].is_null(), "{cleared}");
    assert_eq!(cleared["admin"], false);
    let again = json_of(s.get(&format!("/users/{id}")).await, 200).await;
    assert_eq!(again, cleared, "the change was stored");

    // The username cannot be changed, nor can a password be set with PATCH.
    for body in [
        json!({"username": "eve"}),
        json!({"password": "new-password"}),
    ] {
        let v = expect_problem(s.patch(&format!("/users/{id}"), &body).await, 400).await;
        assert!(
            v["detail"].as_str().unwrap().contains("unknown field"),
            "{v}"
        );
    }
    // A flag cannot be null.
    let v = expect_problem(
        s.patch(
            &format!("/users/{id}"),
            &json!({"active": null, "admin": null}),
        )
        .await,
        422,
    )
    .await;
    let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, set(&["active", "admin"]), "{v}");

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
        assert!(!seen.contains(secret), "{secret:?} leaked: {seen}");
    }

    // Delete: 204, then gone (404), and a second delete is 404 too.
    let res = s.delete(&format!("/users/{id}")).await;
    assert_eq!(res.status(), 204);
    expect_problem(s.get(&format!("/users/{id}")).await, 404).await;
    expect_problem(s.delete(&format!("/users/{id}")).await, 404).await;
    expect_problem(
        s.patch(&format!("/users/{id}"), &json!({"admin": true}))
            .await,
        404,
    )
    .await;
    expect_problem(
        s.post(
            &format!("/users/{id}/password"),
            &json!({"password": "long enough"}),
        )
        .await,
        404,
    )
    .await;

    // Every change is in the audit log.
    let audit = json_of(s.get(&format!("/audit?target_id={id}")).await, 200).await;
    let actions = crate::common::audit_actions(&audit);
    assert_eq!(
        actions,
        ["user.delete", "user.update", "user.update", "user.create"],
        "{audit}"
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_username_is_409_case_insensitively(s: TestServer) {
    create_user(&s, "Dave", "dave-password").await;
    for dup in ["Dave", "dave", "DAVE", "  dAvE  "] {
        let v = expect_problem(
            s.post(
                "/users",
                &json!({"username": dup, "password": "another-password"}),
            )
            .await,
            409,
        )
        .await;
        assert!(
            v["detail"].as_str().unwrap().contains("already exists"),
            "{v}"
        );
    }
    let all = json_of(s.get("/users?q=dave").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_validation_is_422_naming_every_bad_field(s: TestServer) {
    // Nothing given: both required fields are named at once.
    let v = expect_problem(s.post("/users", &json!({})).await, 422).await;
    let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, set(&["password", "username"]), "{v}");

    let v = expect_problem(
        s.post(
            "/users",
            &json!({"username": "has space", "password": "short", "display_name": "x".repeat(101)}),
        )
        .await,
        422,
    )
    .await;
    let fields: BTreeSet<String> = field_errors(&v).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        set(&["display_name", "password", "username"]),
        "{v}"
    );
    expect_field_error(
        s.post(
            "/users",
            &json!({"username": "u".repeat(65), "password": "long enough"}),
        )
        .await,
        "username",
        "invalid_length",
    )
    .await;

    // Malformed input is 400, not 422.
    for body in [
        json!({"username": "x", "password": "long enough", "admin": "yes"}),
        json!({"username": "x", "password": "long enough", "role": "admin"}),
    ] {
        expect_problem_for(&body.to_string(), s.post("/users", &body).await, 400).await;
    }
    let res = s
        .admin(Method::POST, "/users")
        .header("content-type", "text/plain")
        .body("username=x")
        .send()
        .await
        .unwrap();
    expect_problem(res, 415).await;

    // Nothing was created by the refused requests.
    let all = json_of(s.get("/users").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 0, "{all}");

    // Paging parameters.
    expect_field_error(s.get("/users?limit=0").await, "limit", "out_of_range").await;
    expect_field_error(s.get("/users?cursor=bogus").await, "cursor", "invalid").await;
    expect_problem(s.get("/users?active=true").await, 400).await;

    // Password rules on set-password, and the password field is required.
    let u = create_user(&s, "erin", "erin-password").await;
    let path = format!("/users/{}/password", u["id"].as_str().unwrap());
    for body in [json!({"password": "short"}), json!({})] {
        let res = s.post(&path, &body).await;
        expect_field_error(res, "password", "invalid_length").await;
    }
    expect_problem(s.post(&path, &json!({"pass": "long enough"})).await, 400).await;
    assert!(
        s.can_sign_in("erin", "erin-password").await,
        "erin signs in"
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_paginate_with_a_cursor(s: TestServer) {
    let hash = tollgate_core::user::PasswordHashing::new(Default::default())
        .hash("pw-for-all".into())
        .await
        .unwrap();
    // Insert directly: five Argon2 hashes over HTTP would only slow the test down.
    for name in ["u-e", "U-A", "u-d", "u-b", "u-c", "other"] {
        let user = tollgate_core::user::User {
            id: format!("id-{}", name.to_lowercase()).into(),
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
    let (pages, seen) = crate::common::walk_pages(&s, "/users?q=u-&limit=2", 2, "username").await;
    assert_eq!(seen, ["U-A", "u-b", "u-c", "u-d", "u-e"]);
    assert_eq!(pages, 3);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_password_replaces_the_old_one_and_ends_the_users_tokens(s: TestServer) {
    let u = create_user(&s, "frank", "old-password").await;
    let (cid, secret) = client_with(&s, "Pw App", json!({"grant_types": ["password"]})).await;
    let token = pw_token(&s, &cid, &secret, "frank", "old-password")
        .await
        .unwrap();
    assert!(introspect_active(&s, &token).await);

    let res = s
        .post(
            &format!("/users/{}/password", u["id"].as_str().unwrap()),
            &json!({"password": "new-password"}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty(), "no body");

    let users = &s.state.services.users;
    let ok = users
        .verify_login("FRANK", "new-password", Default::default())
        .await
        .unwrap();
    assert_eq!(ok.map(|u| u.username), Some("frank".to_owned()));
    assert!(
        !s.can_sign_in("frank", "old-password").await,
        "the old password must stop working"
    );
    assert!(!introspect_active(&s, &token).await, "old token ends");
    let audit = json_of(
        s.get(&format!(
            "/audit?action=user.set_password&target_id={}",
            u["id"].as_str().unwrap()
        ))
        .await,
        200,
    )
    .await;
    assert_eq!(audit["items"].as_array().unwrap().len(), 1, "{audit}");
    assert!(!audit.to_string().contains("new-password"));
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_user_invalidates_their_tokens_for_good(s: TestServer) {
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
    assert_eq!(grace_tokens.len(), 1);
    assert_eq!(grace_tokens[0]["status"], "active");
    let token_id = grace_tokens[0]["id"].as_str().unwrap().to_owned();

    let path = format!("/users/{}", u["id"].as_str().unwrap());
    let v = updated(&s, &path, &json!({"active": false})).await;
    assert_eq!(v["active"], false);

    let revoked = tokens(&s, "status=revoked").await;
    assert_eq!(ids(&revoked), set(&[&token_id]), "{revoked:?}");
    assert!(tokens(&s, "status=active&username=grace").await.is_empty());
    assert!(!introspect_active(&s, &token).await);
    // Other users' tokens are untouched.
    assert!(introspect_active(&s, &heidis).await);
    assert_eq!(other["active"], true);
    // An inactive user can get no token and cannot log in.
    assert!(pw_token(&s, &cid, &secret, "grace", "grace-password")
        .await
        .is_err());
    assert!(
        !s.can_sign_in("grace", "grace-password").await,
        "grace cannot sign in"
    );

    // Reactivating does not revive the old token; new tokens work.
    updated(&s, &path, &json!({"active": true})).await;
    assert!(!introspect_active(&s, &token).await, "stays dead");
    let t = json_of(s.get(&format!("/tokens/{token_id}")).await, 200).await;
    assert_eq!(t["status"], "revoked");
    let fresh = pw_token(&s, &cid, &secret, "grace", "grace-password")
        .await
        .unwrap();
    assert!(introspect_active(&s, &fresh).await);

    let audit = format!("/audit?target_id={}", u["id"].as_str().unwrap());
    let log = json_of(s.get(&audit).await, 200).await;
    let actions = crate::common::audit_actions(&log);
    assert_eq!(actions, ["user.activate", "user.deactivate", "user.create"]);
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_user_removes_their_tokens(s: TestServer) {
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
    let client_token = tok(&cc_token(&s, &cid, &secret).await, "access_token");
    assert_eq!(tokens(&s, "username=ivan").await.len(), 1);

    let res = s
        .delete(&format!("/users/{}", u["id"].as_str().unwrap()))
        .await;
    assert_eq!(res.status(), 204);
    assert!(tokens(&s, "username=ivan").await.is_empty());
    assert!(!introspect_active(&s, &token).await);
    assert!(
        introspect_active(&s, &client_token).await,
        "not the client's"
    );
    assert_eq!(tokens(&s, "").await.len(), 1);
}

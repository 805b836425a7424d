//! Issue 13, findings 5, 8, 9 and 14: text with NUL or other control characters is refused
//! at the edge with each endpoint's normal error, the same on SQLite and PostgreSQL; look-alike
//! names are duplicates; the CLI escapes what it prints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::{confidential, expect_field_error, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tollgate_test_macros::backends;

async fn status_and_body(res: reqwest::Response) -> (StatusCode, String) {
    let s = res.status();
    (s, res.text().await.unwrap())
}

/// A confidential client with client credentials and password grants, and its secret.
async fn app(s: &TestServer) -> (String, String) {
    let c = s
        .create_client(&json!({
            "name": "Text App", "version": "1.0", "type": "confidential",
            "grant_types": ["client_credentials", "password"], "scopes": ["api:read"],
        }))
        .await;
    crate::common::id_and_secret(&c)
}

/// Endpoint, Basic credentials, form, expected status and RFC 6749 error.
type OAuthCase<'a> = (
    &'a str,
    Option<(&'a str, &'a str)>,
    &'a [(&'a str, &'a str)],
    u16,
    &'a str,
);

#[backends]
#[tokio::test]
async fn nul_in_oauth_parameters_is_the_endpoints_normal_error_on_every_backend(s: TestServer) {
    let (id, secret) = app(&s).await;
    s.create_user("alice", "correct horse battery").await;
    let bad_id = format!("{id}\0");
    let (good, bad) = (Some((&*id, &*secret)), Some((&*bad_id, &*secret)));
    let pw = "correct horse battery";
    let cc = ("grant_type", "client_credentials");
    let cc_bad_id = [cc, ("client_id", &*bad_id), ("client_secret", &*secret)];
    let (token_x, nul_token) = ([("token", "x")], [("token", "abc\0.def")]);
    let nul_username = [
        ("grant_type", "password"),
        ("username", "alice\0"),
        ("password", pw),
    ];
    let revoke_bad_id = [
        ("client_id", &*bad_id),
        ("client_secret", &*secret),
        ("token", "x"),
    ];
    let cases: [OAuthCase; 7] = [
        ("/oauth2/token", None, &cc_bad_id, 400, "invalid_request"),
        ("/oauth2/token", bad, &[cc], 401, "invalid_client"),
        ("/oauth2/token", good, &nul_username, 400, "invalid_request"),
        ("/oauth2/introspect", bad, &token_x, 401, "invalid_client"),
        (
            "/oauth2/introspect",
            good,
            &nul_token,
            400,
            "invalid_request",
        ),
        ("/oauth2/revoke", bad, &token_x, 401, "invalid_client"),
        (
            "/oauth2/revoke",
            None,
            &revoke_bad_id,
            400,
            "invalid_request",
        ),
    ];
    for (path, basic, form, status, error) in cases {
        let res = s.oauth_post(path, basic, form).await;
        let (got, body) = status_and_body(res).await;
        assert_eq!(got.as_u16(), status, "{path} {form:?}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], error, "{path}: {body}");
    }
    // The authorization endpoint: an error page, no redirect, no 500.
    let authorize = format!("/oauth2/authorize?response_type=code&client_id={id}%00");
    let res = s.http.get(s.url(&authorize)).send().await.unwrap();
    assert_eq!(res.status(), 400, "authorize");
    // The sign-in page: a NUL in the username is a failed sign-in, not a 500.
    let page = s.http.get(s.url("/login")).send().await.unwrap();
    assert!(page.status().is_success());
    let login = |username| {
        let form = [("username", username), ("password", pw)];
        s.http.post(s.url("/login")).form(&form).send()
    };
    let res = login("alice\0").await.unwrap();
    assert!(
        res.status().is_client_error() || res.status().is_success(),
        "login: {}",
        res.status()
    );
    let plain = login("nobody").await.unwrap();
    assert_eq!(res.status(), plain.status(), "like a wrong password");
}

#[backends]
#[tokio::test]
async fn control_characters_in_admin_ids_and_filters_are_400_naming_the_parameter(s: TestServer) {
    let (id, _) = app(&s).await;
    let cases: Vec<(Method, String, &str)> = vec![
        (Method::GET, format!("/clients/{id}%00"), "client_id"),
        (Method::PATCH, format!("/clients/{id}%00"), "client_id"),
        (Method::DELETE, format!("/clients/{id}%00"), "client_id"),
        (
            Method::POST,
            format!("/clients/{id}%00/secret"),
            "client_id",
        ),
        (
            Method::DELETE,
            format!("/clients/{id}%00/tokens"),
            "client_id",
        ),
        (Method::GET, "/users/x%00".into(), "id"),
        (Method::PATCH, "/users/x%00".into(), "id"),
        (Method::DELETE, "/users/x%00".into(), "id"),
        (Method::POST, "/users/x%00/password".into(), "id"),
        (Method::GET, "/tokens/x%00".into(), "id"),
        (Method::DELETE, "/tokens/x%00".into(), "id"),
        (Method::DELETE, "/admin-keys/x%00".into(), "id"),
        (Method::GET, "/clients?q=%00".into(), "q"),
        (Method::GET, "/clients?q=a%1B".into(), "q"),
        (Method::GET, "/users?q=%00".into(), "q"),
        (
            Method::GET,
            format!("/tokens?client_id={id}%00"),
            "client_id",
        ),
        (Method::GET, "/tokens?username=alice%00".into(), "username"),
        (Method::GET, "/audit?target_id=x%00".into(), "target_id"),
    ];
    for (method, path, param) in cases {
        let res = s
            .admin(method.clone(), &path)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let (got, body) = status_and_body(res).await;
        assert_eq!(got, 400, "{method} {path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["errors"][0]["field"], param, "{method} {path}: {body}");
    }
}

#[backends]
#[tokio::test]
async fn a_search_for_nul_matches_nothing_rather_than_everything(s: TestServer) {
    app(&s).await;
    // Through the service as the console calls it: a field error, not every client.
    let err = s
        .state
        .services
        .clients
        .list(
            &tollgate_core::store::ClientFilter {
                q: Some("\0".into()),
                ..Default::default()
            },
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, tollgate_core::ServiceError::Validation(_)),
        "{err}"
    );
}

#[backends]
#[tokio::test]
async fn descriptions_and_names_with_escapes_or_invisible_characters_are_refused(s: TestServer) {
    let mut c = confidential("Escapes");
    for bad in [
        "nice \u{1b}[2J\u{1b}[31mapp",
        "trust me \u{202e}gpj.exe",
        "with \0 nul",
    ] {
        c["description"] = json!(bad);
        let res = s.post("/clients", &c).await;
        expect_field_error(res, "description", "invalid_characters").await;
    }
    // Line breaks and tabs are text; a browser's CRLF is stored as LF.
    c["description"] = json!("line one\r\nline two\tend");
    let made = s.create_client(&c).await;
    assert_eq!(made["description"], "line one\nline two\tend");
    let id = made["client_id"].as_str().unwrap();
    let res = s
        .patch(&format!("/clients/{id}"), &json!({"description": "x\u{7}"}))
        .await;
    expect_field_error(res, "description", "invalid_characters").await;

    for name in [
        "admin\u{200b}",
        "admin\u{ad}",
        "admin\u{feff}",
        "ad\u{202e}min",
    ] {
        let res = s
            .post(
                "/users",
                &json!({"username": name, "password": "correct horse battery"}),
            )
            .await;
        expect_field_error(res, "username", "invalid_characters").await;
        let res = s.post("/clients", &confidential(name)).await;
        expect_field_error(res, "name", "invalid_characters").await;
    }
    let res = s
        .post("/users", &json!({"username": "bob", "password": "correct horse battery", "display_name": "Bob\u{1b}[0m"}))
        .await;
    expect_field_error(res, "display_name", "invalid").await;
}

#[backends]
#[tokio::test]
async fn look_alike_usernames_and_client_names_are_duplicates(s: TestServer) {
    for (first, twin) in [
        ("alice", "ａｌｉｃｅ"),
        ("stra\u{df}e", "STRASSE"),
        ("jos\u{e9}", "jose\u{301}"),
        ("Kelvin", "\u{212a}elvin"),
    ] {
        let pw = "correct horse battery";
        let res = s
            .post("/users", &json!({"username": first, "password": pw}))
            .await;
        assert_eq!(res.status(), 201, "{first:?}");
        let res = s
            .post("/users", &json!({"username": twin, "password": pw}))
            .await;
        assert_eq!(res.status(), 409, "{twin:?} after {first:?}");

        s.create_client(&confidential(first)).await;
        let res = s.post("/clients", &confidential(twin)).await;
        assert_eq!(res.status(), 409, "client {twin:?} after {first:?}");
    }
    // The twin spelling signs in as the one user, and search finds by either spelling.
    let list: Value = s.get_json("/users?q=strasse").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["username"], "stra\u{df}e", "display kept");
    let list: Value = s.get_json("/clients?q=STRASSE").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

#[backends]
#[test]
fn the_cli_escapes_control_characters_it_prints(db: TestDb) {
    use common::binary::{cli, create_key, spawn_server, stdout};
    let server = spawn_server(&db.url, Some("pw-123456"));
    let key = create_key(&db.url, "ci");
    let key = key.as_str();
    let c: Value = reqwest::blocking::Client::new()
        .post(format!("{}/admin/api/v1/clients", server.base))
        .bearer_auth(key)
        .json(&confidential("Terminal"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = c["client_id"].as_str().unwrap().to_owned();
    // A row written before the rule (or by hand): the CLI must still not replay it raw.
    let url = db.url.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sql = "UPDATE clients SET description = $1 WHERE client_id = $2";
        let d = "evil\u{1b}[2J\u{9b}31m\u{202e}";
        if url.starts_with("postgres") {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            let query = sqlx::query(sql).bind(d).bind(&id);
            query.execute(&pool).await.unwrap();
        } else {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            let query = sqlx::query(sql).bind(d).bind(&id);
            query.execute(&pool).await.unwrap();
        }
    });
    for json in [false, true] {
        let mut args = vec!["client", "show", id.as_str()];
        if json {
            args.push("--json");
        }
        let out = cli(&server, key, &args);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}");
        for raw in ['\u{1b}', '\u{9b}', '\u{202e}'] {
            assert!(!text.contains(raw), "json={json} raw {raw:?} in {text:?}");
        }
        assert!(text.contains("evil"), "{text}");
        if json {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["description"], "evil\u{1b}[2J\u{9b}31m\u{202e}");
        }
    }
}

#[backends]
/// The console takes the same ids and filters as the admin API: an address holding a control
/// character is a 400 page, never a 500 from PostgreSQL or a match-all search on SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_addresses_with_control_characters_are_400(db: TestDb) {
    use common::console::admin_signed_in;
    let s = common::start(db).await;
    let (id, _) = app(&s).await;
    let b = admin_signed_in(&s, "root").await;
    let ok = b.get(&format!("/console/clients/{id}")).await;
    assert_eq!(ok.status(), 200, "the client page itself");
    for path in [
        format!("/console/clients/{id}%00"),
        format!("/console/clients/{id}%00/delete"),
        format!("/console/clients/{id}%1B/active"),
        format!("/console/tokens?client_id={id}%00"),
        "/console/tokens?username=%00".into(),
        "/console/clients?q=%00".into(),
        "/console/users?q=x%E2%80%AE".into(),
        "/console/audit?actor=%00".into(),
    ] {
        let (status, body) = status_and_body(b.get(&path).await).await;
        assert_eq!(status, 400, "GET {path}: {body}");
        assert!(
            body.contains("control or formatting character"),
            "{path}: {body}"
        );
    }
    let res = b.post_form("/console/tokens/x%00/revoke", &[]).await;
    assert_eq!(res.status(), 400, "POST with a NUL id");
}

//! The `tollgate user` and `tollgate token` commands, run as the built binary against a
//! running `tollgate serve`, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::binary::{
    cli, cli_command, create_key, fails, ok, ok_json, run, spawn_server, stderr, stdout, Server,
    BIN,
};
use tollgate_test_macros::backends;

use crate::common::oauth::basic_credentials;
use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use tollgate::config::RawConfig;
use tollgate::http::AppState;
use tollgate_core::oauth::{AuthorizeRequest, TokenRequest};
use tollgate_core::SystemClock;

/// A running server on `db_url`, an admin key for the CLI, and a runtime with the server's
/// services on it (see `services`).
fn cli_setup(db_url: &str) -> (Server, String, tokio::runtime::Runtime, AppState) {
    let server = spawn_server(db_url, Some("first-admin-password"));
    let key = create_key(db_url, "cli");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let state = services(&rt, db_url);
    (server, key, rt, state)
}

/// The services of the server, in this process, on the same database (to issue tokens and
/// check passwords the way the OAuth endpoints and the login page do).
fn services(rt: &tokio::runtime::Runtime, db_url: &str) -> AppState {
    let config = RawConfig {
        database_url: db_url.to_owned(),
        ..RawConfig::default()
    }
    .validate()
    .unwrap();
    rt.block_on(tollgate::server::build_state(
        &config,
        Arc::new(SystemClock),
    ))
    .unwrap()
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

#[backends]
#[test]
fn cli_user_create_list_set_password_deactivate_delete(db: TestDb) {
    let (server, key, rt, state) = cli_setup(&db.url);
    let users = &state.services.users;

    // Password from the flag.
    let u = ok_json(
        &server,
        &key,
        &[
            "user",
            "create",
            "--username",
            "Olivia",
            "--display-name",
            "Olivia O",
            "--password",
            "olivia-password",
            "--admin",
        ],
    );
    let olivia_id = u["id"].as_str().unwrap().to_owned();
    assert_eq!(u["username"], "Olivia");
    assert_eq!(u["display_name"], "Olivia O");
    assert_eq!(
        (u["admin"].as_bool(), u["active"].as_bool()),
        (Some(true), Some(true))
    );
    let text = u.to_string();
    assert!(
        !text.contains("olivia-password") && !text.contains("argon2"),
        "{text}"
    );

    // Password from the environment; human output.
    let out = run(cli_command(
        &server.base,
        &key,
        &["user", "create", "--username", "pat", "--inactive"],
    )
    .env("TOLLGATE_USER_PASSWORD", "pat-password"));
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(shown.contains("pat") && shown.contains("false"), "{shown}");
    assert!(!shown.contains("pat-password"), "{shown}");
    assert!(!rt.block_on(users.get_by_username("pat")).unwrap().active);

    // Neither: refused before anything is sent. Duplicate (case-insensitive) and invalid
    // input: the server's reason, one line. (the rest of `user create --username`, what
    // the error names)
    let cases: [(&[&str], &[&str]); 3] = [
        (&["quinn"], &["--password", "TOLLGATE_USER_PASSWORD"]),
        (
            &["OLIVIA", "--password", "another-password"],
            &["409", "already exists"],
        ),
        (
            &["two words", "--password", "short"],
            &["422", "username", "password"],
        ),
    ];
    for (rest, named) in cases {
        let args = [&["user", "create", "--username"][..], rest].concat();
        let err = fails(&cli(&server, &key, &args));
        for n in named {
            assert!(err.contains(n), "{rest:?}: {n:?} not in {err}");
        }
    }

    // List: a table by default, JSON with --json, --q filters.
    let table = ok(&server, &key, &["user", "list"]);
    for s in [
        "USERNAME", "ADMIN", "Olivia", "Olivia O", "pat", "admin", &olivia_id,
    ] {
        assert!(table.contains(s), "{s:?} missing from {table}");
    }
    assert!(!table.contains("quinn") && !table.contains("two words"));
    let all = ok_json(&server, &key, &["user", "list"]);
    assert_eq!(
        all.as_array().unwrap().len(),
        3,
        "admin, Olivia, pat: {all}"
    );
    let some = ok_json(&server, &key, &["user", "list", "--q", "LIV"]);
    assert_eq!(ids(&some), vec![olivia_id.clone()]);

    // set-password by username (case-insensitive) and by id.
    let out = ok(
        &server,
        &key,
        &[
            "user",
            "set-password",
            "olivia",
            "--password",
            "second-password",
        ],
    );
    assert!(out.contains("Olivia"), "{out}");
    let login = |p: &str| {
        rt.block_on(users.verify_login("olivia", p, Default::default()))
            .unwrap()
            .map(|u| u.id)
    };
    assert_eq!(login("second-password"), Some(olivia_id.as_str().into()));
    assert_eq!(login("olivia-password"), None, "old password still works");
    let out = run(
        cli_command(&server.base, &key, &["user", "set-password", &olivia_id])
            .env("TOLLGATE_USER_PASSWORD", "third-password"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(login("third-password"), Some(olivia_id.as_str().into()));
    assert_eq!(login("second-password"), None);
    let err = fails(&cli(
        &server,
        &key,
        &["user", "set-password", "olivia", "--password", "short"],
    ));
    assert!(err.contains("password"), "{err}");
    assert_eq!(
        login("third-password"),
        Some(olivia_id.as_str().into()),
        "unchanged"
    );
    let err = fails(&cli(
        &server,
        &key,
        &[
            "user",
            "set-password",
            "nobody",
            "--password",
            "long enough",
        ],
    ));
    assert!(err.contains("404") && err.contains("nobody"), "{err}");

    // deactivate / activate by username.
    let out = ok(&server, &key, &["user", "deactivate", "OLIVIA"]);
    assert!(out.contains("inactive"), "{out}");
    let v = ok_json(&server, &key, &["user", "show", "olivia"]);
    assert_eq!(v["active"], false);
    assert_eq!(
        login("third-password"),
        None,
        "inactive users cannot log in"
    );
    ok(&server, &key, &["user", "activate", &olivia_id]);
    let v = ok_json(&server, &key, &["user", "show", &olivia_id]);
    assert_eq!(v["active"], true);

    // delete by username, then it is gone.
    let out = ok(&server, &key, &["user", "delete", "pat"]);
    assert!(out.contains("deleted user pat"), "{out}");
    assert!(rt.block_on(users.get_by_username("pat")).is_err());
    let err = fails(&cli(&server, &key, &["user", "delete", "pat"]));
    assert!(err.contains("404"), "{err}");
    let all = ok_json(&server, &key, &["user", "list"]);
    assert_eq!(all.as_array().unwrap().len(), 2);

    // An id that starts with "-" is looked up, not parsed as a flag.
    let err = fails(&cli(&server, &key, &["user", "delete", "-abc"]));
    assert!(err.contains("404") && err.contains("-abc"), "{err}");

    // A wrong key: the server's 401, one line.
    let err = fails(&cli(&server, "tga_wrong", &["user", "list"]));
    assert!(err.contains("401"), "{err}");
}

#[backends]
#[test]
fn cli_token_list_and_revoke(db: TestDb) {
    let (server, key, rt, state) = cli_setup(&db.url);
    let oauth = &state.services.oauth;

    ok(
        &server,
        &key,
        &[
            "user",
            "create",
            "--username",
            "rita",
            "--password",
            "rita-password",
        ],
    );
    let client = |name: &str, extra: &[&str]| -> (String, String) {
        let mut args = vec![
            "client",
            "create",
            "--name",
            name,
            "--version",
            "1.0",
            "--type",
            "confidential",
        ];
        args.extend_from_slice(extra);
        let c = ok_json(&server, &key, &args);
        crate::common::id_and_secret(&c)
    };
    // Client credentials + password, expiring after an hour.
    let (a, a_secret) = client("Cli A", &["--grant", "client_credentials,password"]);
    // Authorization code: never-expiring access tokens, unlimited refreshes.
    let (b, b_secret) = client(
        "Cli B",
        &[
            "--grant",
            "authorization_code",
            "--redirect-uri",
            "https://b.example.com/cb",
            "--lifetime",
            "never",
            "--refresh-count",
            "unlimited",
        ],
    );
    // Authorization code, two refreshes.
    let (c, c_secret) = client(
        "Cli C",
        &[
            "--grant",
            "authorization_code",
            "--redirect-uri",
            "https://c.example.com/cb",
            "--refresh-count",
            "2",
        ],
    );

    let token = |cid: &str, secret: &str, req: TokenRequest| {
        rt.block_on(oauth.token(&basic_credentials(cid, secret), Ok(req), None))
            .unwrap()
    };
    let cc = token(
        &a,
        &a_secret,
        TokenRequest::ClientCredentials { scope: None },
    );
    token(
        &a,
        &a_secret,
        TokenRequest::Password {
            username: Some("rita".into()),
            password: Some("rita-password".into()),
            scope: None,
        },
    );
    let rita = rt
        .block_on(state.services.users.get_by_username("rita"))
        .unwrap();
    let code_grant = |cid: &str, secret: &str| {
        let v = rt
            .block_on(oauth.validate_authorize(&AuthorizeRequest {
                response_type: Some("code".into()),
                client_id: Some(cid.into()),
                ..Default::default()
            }))
            .unwrap_or_else(|_| panic!("authorize refused"));
        let redirect = rt.block_on(oauth.approve(&rita, &v)).unwrap();
        let code = url::Url::parse(&redirect)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        token(
            cid,
            secret,
            TokenRequest::AuthorizationCode {
                code: Some(code),
                redirect_uri: None,
                code_verifier: None,
            },
        )
    };
    let b_tokens = code_grant(&b, &b_secret);
    let c_tokens = code_grant(&c, &c_secret);
    assert!(b_tokens.refresh_token.is_some() && c_tokens.refresh_token.is_some());

    // JSON: everything, newest first, with the filters applied by the server.
    let all = ok_json(&server, &key, &["token", "list"]);
    assert_eq!(all.as_array().unwrap().len(), 6, "{all}");
    let listing = all.to_string();
    assert!(!listing.contains(cc.access_token.expose()), "token leaked");
    let only_a = ok_json(&server, &key, &["token", "list", "--client-id", &a]);
    assert_eq!(only_a.as_array().unwrap().len(), 2);
    assert!(only_a
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["client_id"] == a.as_str()));
    let refresh = ok_json(&server, &key, &["token", "list", "--kind", "refresh"]);
    assert_eq!(refresh.as_array().unwrap().len(), 2);
    let rita_tokens = ok_json(&server, &key, &["token", "list", "--username", "RITA"]);
    assert_eq!(
        rita_tokens.as_array().unwrap().len(),
        5,
        "all but client credentials"
    );
    let limited = ok_json(&server, &key, &["token", "list", "--limit", "2"]);
    assert_eq!(ids(&limited), ids(&all)[..2].to_vec());

    let find = |client: &str, kind: &str| -> String {
        all.as_array()
            .unwrap()
            .iter()
            .find(|t| t["client_id"] == client && t["kind"] == kind)
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .unwrap()
    };
    let b_access = find(&b, "access");
    let b_refresh = find(&b, "refresh");
    let c_refresh = find(&c, "refresh");
    let a_access: Vec<String> = ids(&only_a);

    // The table: headers, and per row the EXPIRES and REFRESHES LEFT columns (the last
    // two words of the row).
    let table = ok(&server, &key, &["token", "list"]);
    for h in "ID,KIND,CLIENT,USER,STATUS,EXPIRES,REFRESHES LEFT".split(',') {
        assert!(table.contains(h), "{h} missing: {table}");
    }
    let row = |id: &str| -> Vec<String> {
        let line = table
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("no row for {id}: {table}"));
        line.trim_matches(|c: char| c == '│' || c.is_whitespace())
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let tail = |id: &str| -> (String, String) {
        let r = row(id);
        (r[r.len() - 2].clone(), r[r.len() - 1].clone())
    };
    assert_eq!(tail(&b_access), ("Lifetime".into(), "-".into()), "{table}");
    assert_eq!(
        tail(&b_refresh),
        ("Lifetime".into(), "Unlimited".into()),
        "{table}"
    );
    assert_eq!(tail(&c_refresh), ("Lifetime".into(), "2".into()), "{table}");
    for id in &a_access {
        let (expires, left) = tail(id);
        assert!(
            expires.parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
            "{expires}"
        );
        assert_eq!(left, "-");
    }
    let b_row = row(&b_refresh).join(" ");
    assert!(
        b_row.contains("refresh")
            && b_row.contains("Cli B")
            && b_row.contains("rita")
            && b_row.contains("active"),
        "{b_row}"
    );

    // Revoke the client credentials token: only it becomes revoked.
    let cc_id = all
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["grant_type"] == "client_credentials")
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .unwrap();
    assert!(
        rt.block_on(oauth.introspect(cc.access_token.expose()))
            .unwrap()
            .active
    );
    let out = ok(&server, &key, &["token", "revoke", &cc_id]);
    assert!(out.contains(&cc_id), "{out}");
    let revoked = ok_json(&server, &key, &["token", "list", "--status", "revoked"]);
    assert_eq!(ids(&revoked), vec![cc_id.clone()]);
    let t = ok_json(&server, &key, &["token", "show", &cc_id]);
    assert_eq!(t["status"], "revoked");
    let active = ok_json(&server, &key, &["token", "list", "--status", "active"]);
    assert_eq!(active.as_array().unwrap().len(), 5);
    assert!(
        !rt.block_on(oauth.introspect(cc.access_token.expose()))
            .unwrap()
            .active
    );
    let table = ok(&server, &key, &["token", "list", "--status", "revoked"]);
    assert!(
        table.contains("revoked") && table.contains(&cc_id),
        "{table}"
    );

    // Errors: the server's reason in one line, non-zero exit.
    let err = fails(&cli(&server, &key, &["token", "list", "--kind", "bearer"]));
    assert!(err.contains("422") && err.contains("kind"), "{err}");
    let err = fails(&cli(&server, &key, &["token", "list", "--status", "dead"]));
    assert!(err.contains("status"), "{err}");
    let err = fails(&cli(&server, &key, &["token", "revoke", "no-such-token"]));
    assert!(err.contains("404"), "{err}");
    // Ids are URL-safe base64 and may start with "-": that is an id, not a flag.
    let err = fails(&cli(&server, &key, &["token", "revoke", "-no-such-token"]));
    assert!(err.contains("404"), "{err}");
    let none = ok_json(&server, &key, &["token", "list", "--client-id", "-x-"]);
    assert_eq!(none, serde_json::json!([]));
    let err = fails(&cli(&server, &key, &["token", "revoke", "../clients"]));
    assert!(err.contains("not a token id"), "{err}");
    let out = run(Command::new(BIN)
        .env_clear()
        .args(["token", "list", "--url", &server.base]));
    let err = fails(&out);
    assert!(err.contains("admin key"), "{err}");
}

//! The `tollgate` binary itself: `serve` on a fresh database, first-start administrator,
//! `admin create-key`, and the `client` commands against a running server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::binary::{
    cli, create_key, fails, free_port, ok, ok_json, run, spawn_server, stderr, stdout, tollgate,
    BIN,
};
use tollgate_test_macros::backends;

use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

#[backends]
#[test]
fn serve_creates_the_admin_and_create_key_prints_only_the_key(db: TestDb) {
    let server = spawn_server(&db.url, None);
    // First start on an empty database: a generated password, printed once.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut found = None;
    while found.is_none() && Instant::now() < deadline {
        if let Ok(line) = server.stderr_lines.recv_timeout(Duration::from_millis(200)) {
            if line.contains("generated password") {
                found = Some(line);
            }
        }
    }
    let line = found.unwrap_or_else(|| panic!("no generated admin password printed"));
    let password = line.rsplit(": ").next().unwrap().trim();
    assert!(password.len() >= 20, "{line}");

    let out = run(tollgate(&db.url).args(["admin", "create-key", "--name", "ci"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let key = stdout(&out);
    assert_eq!(
        key.lines().count(),
        1,
        "stdout must be the key alone: {key:?}"
    );
    let key = key.trim();
    assert!(key.starts_with("tga_"), "{key}");

    // The key works against the running server: the README's curl, in Rust.
    let res = reqwest::blocking::Client::new()
        .post(format!("{}/admin/api/v1/clients", server.base))
        .bearer_auth(key)
        .json(&common::confidential("From Binary"))
        .send()
        .unwrap();
    assert_eq!(res.status(), 201);
    let c: Value = res.json().unwrap();
    assert!(c["client_secret"].as_str().unwrap().len() >= 43, "{c}");
    for e in ["authorization", "token", "refresh_token"] {
        assert!(
            c["endpoints"][e]
                .as_str()
                .unwrap()
                .starts_with(&server.base),
            "{c}"
        );
    }
    drop(server);

    // A restart does not create another admin or print a password again.
    let again = spawn_server(&db.url, None);
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(line) = again.stderr_lines.try_recv() {
        assert!(!line.contains("generated password"), "{line}");
    }
}

#[test]
fn admin_password_comes_from_the_environment_when_set() {
    let db = tollgate_testkit::sqlite();
    let server = spawn_server(&db.url, Some("a chosen password"));
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(line) = server.stderr_lines.try_recv() {
        assert!(!line.contains("generated password"), "{line}");
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hash = rt.block_on(async {
        let store = tollgate_store::open(&db.url).await.unwrap();
        store.get_user_by_username("ADMIN").await.unwrap().unwrap()
    });
    assert!(hash.admin && hash.active);
    assert!(hash.password_hash.starts_with("$argon2id$"));
    assert!(rt
        .block_on(
            tollgate_core::user::PasswordHashing::new(Default::default())
                .verify("a chosen password".into(), hash.password_hash)
        )
        .unwrap());
}

#[test]
fn bad_configuration_stops_start_up_naming_the_setting() {
    let db = tollgate_testkit::sqlite();
    let cases = [
        ("TOLLGATE_LISTEN", "not-an-address", "listen"),
        ("TOLLGATE_AUTH_CODE_LIFETIME", "601", "auth_code_lifetime"),
        ("TOLLGATE_LOG_FORMAT", "xml", "log_format"),
        ("TOLLGATE_ISSUER", "ftp://x", "issuer"),
        (
            "TOLLGATE_POLICY__ALLOW_LEGACY_GRANTS",
            "maybe",
            "allow_legacy_grants",
        ),
    ];
    for (var, value, setting) in cases {
        let out = run(tollgate(&db.url).env(var, value).arg("serve"));
        assert!(!out.status.success(), "{var}={value} should fail");
        let err = stderr(&out);
        assert!(err.contains(setting), "{var}={value}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let out = run(tollgate("mysql://x").arg("migrate"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("database_url"), "{}", stderr(&out));
}

#[backends]
#[test]
fn migrate_applies_migrations_and_exits(db: TestDb) {
    let out = run(tollgate(&db.url).arg("migrate"));
    assert!(out.status.success(), "{}", stderr(&out));
    let again = run(tollgate(&db.url).arg("migrate"));
    assert!(again.status.success(), "idempotent");
}

#[backends]
#[test]
fn cli_create_list_show_update_rotate_deactivate_delete_against_a_running_server(db: TestDb) {
    let server = spawn_server(&db.url, Some("pw-123456"));
    let key = create_key(&db.url, "cli");

    let app = [
        "client",
        "create",
        "--name",
        "CLI App",
        "--version",
        "2.0",
        "--type",
        "confidential",
        "--grant",
    ];
    let options = [
        "authorization_code,client_credentials",
        "--redirect-uri",
        "https://cli.example.com/cb",
        "--scope",
        "read",
        "--scope",
        "write",
        "--lifetime",
        "never",
        "--refresh-count",
        "unlimited",
    ];
    let c = ok_json(&server, &key, &[&app[..], &options].concat());
    let id = c["client_id"].as_str().unwrap().to_owned();
    assert!(c["client_secret"].is_string());
    assert_eq!(c["access_token_lifetime"], "never");
    assert_eq!(c["refresh_count"], "unlimited");
    assert_eq!(c["scopes"], serde_json::json!(["read", "write"]));

    // Human table output.
    let table = ok(&server, &key, &["client", "list"]);
    assert!(
        table.contains("CLIENT ID") && table.contains(&id) && table.contains("CLI App"),
        "{table}"
    );

    let shown = ok(&server, &key, &["client", "show", &id]);
    assert!(
        shown.contains("token endpoint") && shown.contains("/oauth2/token"),
        "{shown}"
    );
    assert!(shown.contains("never"), "{shown}");

    let update = ["client", "update", &id, "--description", "via cli"];
    let u = ok_json(&server, &key, &update);
    assert_eq!(u["description"], "via cli");

    let rotated = ok(
        &server,
        &key,
        &["client", "rotate-secret", &id, "--grace", "60"],
    );
    assert!(rotated.contains("client_secret: "));
    assert!(rotated.contains("keeps working until"));

    let deactivated = ok(&server, &key, &["client", "deactivate", &id]);
    assert!(deactivated.contains("inactive"));
    let v = ok_json(&server, &key, &["client", "show", &id]);
    assert_eq!(v["active"], false);
    let v = ok_json(&server, &key, &["client", "list", "--active", "false"]);
    assert_eq!(v.as_array().unwrap().len(), 1);
    ok(&server, &key, &["client", "activate", &id]);

    // Errors: non-zero exit and one line naming the problem.
    let duplicate = [&app[..], &["client_credentials"]].concat();
    let err = fails(&cli(&server, &key, &duplicate));
    assert!(
        err.contains("409") && err.contains("already exists"),
        "{err}"
    );

    let invalid = [
        "client",
        "create",
        "--name",
        "",
        "--version",
        "1",
        "--type",
        "public",
        "--grant",
        "password",
    ];
    let err = fails(&cli(&server, &key, &invalid));
    assert!(err.contains("name") && err.contains("grant_types"), "{err}");

    let out = cli(&server, "tga_wrong", &["client", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));

    ok(&server, &key, &["client", "delete", &id]);
    let out = cli(&server, &key, &["client", "show", &id]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("404"));
}

#[test]
fn cli_reports_an_unreachable_server_in_one_line() {
    let port = free_port();
    let out = run(Command::new(BIN).env_clear().args([
        "client",
        "list",
        "--url",
        &format!("http://127.0.0.1:{port}"),
        "--admin-key",
        "tga_x",
    ]));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("cannot reach"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let out = run(Command::new(BIN).env_clear().args(["client", "list"]));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("admin key"), "{}", stderr(&out));
}

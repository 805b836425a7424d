//! Built-in HTTPS (rustls) when `tls_cert` and `tls_key` are set: the built binary serves a
//! token over TLS to a client that trusts the certificate, and a missing, unreadable or
//! invalid certificate or key stops start-up with a message naming the setting. Also the
//! reverse-proxy mode: `X-Forwarded-For` counts only from a configured trusted proxy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::binary;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};
use tollgate_test_macros::backends;

/// A certificate for 127.0.0.1 and localhost, and its key, as PEM files in `dir`.
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert_pem = ck.cert.pem();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    (cert, key, cert_pem)
}

fn serve(db_url: &str, port: u16, env: &[(&str, &Path)]) -> Child {
    let mut cmd = binary::tollgate(db_url);
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("TOLLGATE_ADMIN_PASSWORD", "a long enough password")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[backends]
#[test]
fn https_serves_a_token_to_a_client_that_trusts_the_certificate(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, cert_pem) = certificate(dir.path(), "server");
    let admin_key = binary::stdout(&binary::run(binary::tollgate(&db.url).args([
        "admin",
        "create-key",
        "--name",
        "tls",
    ])))
    .trim()
    .to_owned();
    let port = binary::free_port();
    let mut server = Killed(serve(
        &db.url,
        port,
        &[("TOLLGATE_TLS_CERT", &cert), ("TOLLGATE_TLS_KEY", &key)],
    ));
    let base = format!("https://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send() {
            if r.status() == 200 {
                break;
            }
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            let mut err = String::new();
            std::io::Read::read_to_string(server.0.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("tollgate serve exited: {status}: {err}");
        }
        assert!(Instant::now() < deadline, "no HTTPS answer");
        std::thread::sleep(Duration::from_millis(50));
    }

    // The issuer defaults to https when TLS is on.
    let meta: Value = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(meta["issuer"], base);
    let c: Value = http
        .post(format!("{base}/admin/api/v1/clients"))
        .bearer_auth(&admin_key)
        .json(&common::confidential("Over TLS"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let res = http
        .post(format!("{base}/oauth2/token"))
        .basic_auth(
            c["client_id"].as_str().unwrap(),
            c["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    let token: Value = res.json().unwrap();
    let access = token["access_token"].as_str().unwrap();
    let intro: Value = http
        .post(format!("{base}/oauth2/introspect"))
        .bearer_auth(&admin_key)
        .form(&[("token", access)])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(intro["active"], true, "{intro}");

    // The sign-in cookie is Secure: the issuer is https.
    let res = http.get(format!("{base}/login")).send().unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("Secure"), "{cookie}");

    // A client that does not trust the certificate gets no connection, and neither
    // does plain HTTP on the TLS port.
    let untrusting = reqwest::blocking::Client::new();
    assert!(untrusting.get(format!("{base}/healthz")).send().is_err());
    let plain = reqwest::blocking::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .timeout(Duration::from_secs(5))
        .send();
    assert!(
        plain.map(|r| r.status() != 200).unwrap_or(true),
        "plain HTTP answered on the TLS port"
    );
    // Still serving after the failed handshakes.
    let res = http.get(format!("{base}/healthz")).send().unwrap();
    assert_eq!(res.status(), 200);

    // SIGTERM: graceful shutdown works over TLS as over TCP, exit status 0.
    let pid = server.0.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
}

/// Runs `serve` with `env`; it must exit non-zero within seconds. Its stderr.
fn refused_start(db_url: &str, env: &[(&str, &Path)]) -> String {
    let mut child = serve(db_url, binary::free_port(), env);
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started with {env:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{env:?}: {err}");
    err
}

#[test]
fn bad_tls_settings_stop_start_up_naming_the_setting() {
    let db = tollgate_testkit::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = certificate(dir.path(), "good");
    let (_, other_key, _) = certificate(dir.path(), "other");
    let missing = dir.path().join("missing.pem");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "this is not PEM\n").unwrap();
    let unreadable = dir.path().join("a-directory");
    std::fs::create_dir(&unreadable).unwrap();
    // (TOLLGATE_TLS_CERT, TOLLGATE_TLS_KEY, the setting named, what else is said)
    let cases: [(Option<&Path>, Option<&Path>, &str, &str); 8] = [
        (Some(&missing), Some(&key), "tls_cert", "missing.pem"),
        (Some(&cert), Some(&missing), "tls_key", "missing.pem"),
        (Some(&unreadable), Some(&key), "tls_cert", "a-directory"),
        (Some(&junk), Some(&key), "tls_cert", "no certificate"),
        (Some(&cert), Some(&junk), "tls_key", "private key"),
        (Some(&cert), Some(&other_key), "tls_key", "certificate"),
        (Some(&cert), None, "tls_key", "tls_cert"),
        (None, Some(&key), "tls_cert", "tls_key"),
    ];
    for (cert, key, setting, says) in cases {
        let env: Vec<(&str, &Path)> = [("TOLLGATE_TLS_CERT", cert), ("TOLLGATE_TLS_KEY", key)]
            .into_iter()
            .filter_map(|(name, path)| Some((name, path?)))
            .collect();
        let err = refused_start(&db.url, &env);
        // Checked before the database is touched.
        assert!(!err.contains("database ready"), "{env:?}: {err}");
        assert!(
            err.contains(&format!("`{setting}`")) && err.contains(says),
            "{env:?}: expected `{setting}` and {says:?} in: {err}"
        );
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_only_from_a_trusted_proxy(s: TestServer) {
    // The same services behind a second listener that trusts 127.0.0.1 as a proxy.
    let mut state = s.state.clone();
    state.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()].into();
    let proxied = crate::common::serve_state(state).await;
    for (base, name, expected) in [
        (s.base.clone(), "Direct", "127.0.0.1"),
        (proxied, "Proxied", "203.0.113.9"),
    ] {
        let res = s
            .http
            .post(format!("{base}/admin/api/v1/clients"))
            .bearer_auth(&s.key)
            .header("X-Forwarded-For", "6.6.6.6, 203.0.113.9")
            .json(&json!({
                "name": name, "version": "1", "type": "confidential",
                "grant_types": ["client_credentials"],
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let audit: Value = s.get_json("/audit").await;
        let entry = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"].as_str().unwrap_or("").contains("create"))
            .unwrap()
            .clone();
        assert_eq!(entry["source_ip"], expected, "{name}: {entry}");
    }
}

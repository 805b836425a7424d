//! SPEC §10: `/metrics`, request ids, JSON logs, `/readyz` under a hung database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::binary;
use common::browser::{hidden_inputs, Browser};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tollgate_test_macros::backends;

/// The value of one series (`name{labels}` exactly as exposed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

async fn scrape(base: &str) -> String {
    let res = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(res.status(), 200);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    res.text().await.unwrap()
}

#[backends]
#[tokio::test]
async fn metrics_count_requests_tokens_and_failed_authentications(s: TestServer) {
    let b = s.name();
    let c = s.create_client(&common::confidential("metrics")).await;
    let (id, secret) = (
        c["client_id"].as_str().unwrap(),
        c["client_secret"].as_str().unwrap(),
    );
    let form = [("grant_type", "client_credentials")];
    for _ in 0..2 {
        let r = s
            .oauth_post("/oauth2/token", Some((id, secret)), &form)
            .await;
        assert_eq!(r.status(), 200);
    }
    let r = s
        .oauth_post("/oauth2/token", Some((id, "wrong-secret")), &form)
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(s.get(&format!("/clients/{id}")).await.status(), 200);
    let r = s.get_with_key("not-a-key", "/clients").await;
    assert_eq!(r.status(), 401);
    let r = s
        .http
        .get(s.url("/no/such/page?code=query-value-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A failed sign-in (past the form's CSRF check).
    let browser = Browser::new(&s.base);
    let page = browser.get("/login").await.text().await.unwrap();
    let mut login = hidden_inputs(&page);
    login.push(("username".into(), "nobody".into()));
    login.push(("password".into(), "wrong".into()));
    assert_eq!(browser.post_form("/login", &login).await.status(), 401);

    let m = scrape(&s.base).await;
    let at = |series: &str| sample(&m, series);
    for (series, want) in [
        (
            r#"tollgate_tokens_issued_total{grant_type="client_credentials"}"#,
            2.0,
        ),
        (
            r#"tollgate_tokens_issued_total{grant_type="password"}"#,
            0.0,
        ),
        (r#"tollgate_auth_failures_total{kind="client"}"#, 1.0),
        (r#"tollgate_auth_failures_total{kind="login"}"#, 1.0),
        (r#"tollgate_auth_failures_total{kind="admin_key"}"#, 1.0),
    ] {
        assert_eq!(at(series), Some(want), "{series}: {m}");
    }
    let req = |method: &str, route: &str, status: u16| {
        at(&format!(
            r#"tollgate_http_requests_total{{method="{method}",route="{route}",status="{status}"}}"#
        ))
    };
    assert_eq!(req("POST", "/oauth2/token", 200), Some(2.0), "{m}");
    assert_eq!(req("POST", "/oauth2/token", 401), Some(1.0), "{m}");
    // The route template, not the path that matched it.
    assert_eq!(
        req("GET", "/admin/api/v1/clients/{client_id}", 200),
        Some(1.0),
        "{m}"
    );
    assert_eq!(req("GET", "unmatched", 404), Some(1.0), "{m}");
    assert!(!m.contains(id), "a client id became a label: {m}");
    assert!(
        !m.contains("/no/such/page") && !m.contains("query-value-1"),
        "{m}"
    );
    assert_eq!(
        at(r#"tollgate_http_request_duration_seconds_count{method="POST",route="/oauth2/token"}"#),
        Some(3.0),
        "{m}"
    );
    assert_eq!(
        at(
            r#"tollgate_http_request_duration_seconds_bucket{method="POST",route="/oauth2/token",le="+Inf"}"#
        ),
        Some(3.0),
        "{m}"
    );
    let pool = if b == "sqlite" {
        r#"{backend="sqlite",pool="writer"}"#
    } else {
        r#"{backend="postgres",pool="main"}"#
    };
    let max = at(&format!("tollgate_db_pool_max_connections{pool}"));
    assert!(max.is_some_and(|n| n >= 1.0), "{m}");
    let open = at(&format!("tollgate_db_pool_connections{pool}")).unwrap();
    let idle = at(&format!("tollgate_db_pool_idle_connections{pool}")).unwrap();
    assert!(idle <= open && open <= max.unwrap(), "{m}");
    // Every line is a comment or `series value`.
    for line in m.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(series.starts_with("tollgate_"), "{line}");
        value.parse::<f64>().unwrap();
    }
}

#[tokio::test]
async fn request_ids_are_echoed_when_sane_and_generated_otherwise() {
    let s = common::start(tollgate_testkit::sqlite()).await;
    let id_of = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_owned();
    let get = |id: Option<&str>| {
        let mut r = s.http.get(s.url("/healthz"));
        if let Some(id) = id {
            r = r.header("x-request-id", id);
        }
        r.send()
    };
    let r = get(Some("lb-7f3a.42:abc")).await.unwrap();
    assert_eq!(id_of(&r), "lb-7f3a.42:abc");
    let generated = id_of(&get(None).await.unwrap());
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    for bad in ["has space", "quote\"", &"x".repeat(129)] {
        let got = id_of(&get(Some(bad)).await.unwrap());
        assert_ne!(got, bad);
        assert_eq!(got.len(), 36, "a UUID instead of {bad:?}: {got}");
    }
}

/// A TCP proxy in front of PostgreSQL that can be frozen: connections stay open but no
/// byte passes, like a database host that stopped answering.
struct FreezableProxy {
    port: u16,
    freeze: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl FreezableProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (freeze, frozen) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                let mut frozen = frozen.clone();
                conns.spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let froze = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
                        r = frozen.wait_for(|f| *f) => r.is_ok(),
                    };
                    if froze {
                        // Hold both sockets open and silent until the test ends.
                        std::future::pending::<()>().await;
                    }
                });
            }
        });
        Self { port, freeze, task }
    }
}

impl Drop for FreezableProxy {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

#[tokio::test]
async fn readyz_answers_quickly_when_the_database_hangs() {
    let Some(server_url) = tollgate_testkit::postgres_url() else {
        return;
    };
    let db = tollgate_testkit::postgres(&server_url).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = FreezableProxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.port)).unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = tollgate::config::RawConfig {
        listen: listener.local_addr().unwrap().to_string(),
        database_url: url.to_string(),
        ..Default::default()
    }
    .validate()
    .unwrap();
    let state = tollgate::server::build_state(&config, Arc::new(tollgate_core::SystemClock))
        .await
        .unwrap();
    let server = tokio::spawn(tollgate::server::serve_on(
        listener,
        state,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let r = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    proxy.freeze.send(true).unwrap();
    let start = Instant::now();
    let r = http.get(format!("{base}/readyz")).send().await.unwrap();
    let took = start.elapsed();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], "unavailable", "{body}");
    // Either bound may fire first: ours, or the pool's acquire timeout.
    assert!(
        ["database did not answer in time", "database unreachable"]
            .contains(&body["reason"].as_str().unwrap()),
        "{body}"
    );
    assert!(
        took < tollgate::http::health::READY_TIMEOUT + Duration::from_millis(1500),
        "/readyz took {took:?} with the database hung"
    );
    // Liveness does not depend on the database.
    let r = http.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);

    server.abort();
    drop(proxy);
    drop(db);
}

#[test]
fn json_logs_carry_the_request_id_and_no_secret() {
    let db = tollgate_testkit::sqlite();
    let key = binary::stdout(&binary::run(binary::tollgate(&db.url).args([
        "admin",
        "create-key",
        "--name",
        "observability",
    ])))
    .trim()
    .to_owned();
    assert!(!key.is_empty());
    let mut server = binary::spawn_server_env(
        &db.url,
        // Set, so the first start prints no generated password (a line that is not JSON).
        Some("correct horse battery staple"),
        &[("TOLLGATE_LOG_FORMAT", "json")],
    );
    let http = reqwest::blocking::Client::new();
    let client: Value = http
        .post(format!("{}/admin/api/v1/clients", server.base))
        .bearer_auth(&key)
        .json(&common::confidential("logs"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let (id, secret) = (
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap(),
    );
    let res = http
        .post(format!("{}/oauth2/token", server.base))
        .header("x-request-id", "obs-token-1")
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "obs-token-1");
    let token: Value = res.json().unwrap();
    let access_token = token["access_token"].as_str().unwrap().to_owned();
    let res = http
        .get(format!(
            "{}/oauth2/authorize?client_id={id}&state=query-secret-9",
            server.base
        ))
        .header("x-request-id", "obs-authorize-2")
        .send()
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "obs-authorize-2");

    // The janitor's first pass runs at start-up.
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let m = http
            .get(format!("{}/metrics", server.base))
            .send()
            .unwrap()
            .text()
            .unwrap();
        if sample(&m, "tollgate_janitor_runs_total").is_some_and(|n| n >= 1.0) {
            break m;
        }
        assert!(Instant::now() < deadline, "the janitor never ran: {m}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        sample(&metrics, "tollgate_janitor_failures_total"),
        Some(0.0)
    );
    assert!(sample(&metrics, "tollgate_janitor_last_success_timestamp_seconds").unwrap() > 0.0);
    assert_eq!(
        sample(
            &metrics,
            r#"tollgate_janitor_purged_rows_total{kind="tokens"}"#
        ),
        Some(0.0)
    );

    // Collect stderr until the line for the second request has arrived, then stop.
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !lines.iter().any(|l: &String| l.contains("obs-authorize-2")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match server.stderr_lines.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("no log line for obs-authorize-2 in {lines:#?}"),
        }
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    lines.extend(server.stderr_lines.try_iter());

    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of_request = |rid: &str| -> Vec<&Value> {
        parsed
            .iter()
            .filter(|v| v["span"]["request_id"] == rid)
            .collect()
    };
    let token_lines = of_request("obs-token-1");
    assert!(!token_lines.is_empty(), "{lines:#?}");
    for v in &token_lines {
        assert_eq!(v["span"]["path"], "/oauth2/token", "{v}");
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{v}");
    }
    assert!(!of_request("obs-authorize-2").is_empty(), "{lines:#?}");
    let all = lines.join("\n");
    for secret_text in [
        access_token.as_str(),
        secret,
        key.as_str(),
        "query-secret-9",
        "correct horse",
    ] {
        assert!(
            !all.contains(secret_text),
            "{secret_text:?} was logged: {all}"
        );
    }
}

//! Every acknowledged write survives a crash: tokens issued concurrently, the server
//! killed with SIGKILL mid-way, restarted on the same database — every token that got a
//! 200 must still be active (SPEC / issue 5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::common::binary::free_port;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate_test_macros::backends;

/// `tollgate` on `db_url` with the admin password set, warnings only, output discarded.
fn tollgate(db_url: &str) -> Command {
    let mut c = common::binary::tollgate(db_url);
    c.env("TOLLGATE_ADMIN_PASSWORD", "durable-admin-pw")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

// The caller owns the child and kills and waits for it.
#[allow(clippy::zombie_processes)]
async fn spawn(db_url: &str, port: u16) -> Child {
    let mut child = tollgate(db_url)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await {
            if r.status() == 200 {
                return child;
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("server did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_acknowledged_before_kill_9_survive_the_restart(db: TestDb) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = spawn(&db.url, port).await;
    let key = String::from_utf8(
        tollgate(&db.url)
            .args(["admin", "create-key", "--name", "durability"])
            .stdout(Stdio::piped())
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    let http = reqwest::Client::new();
    let c: Value = common::send_json(http.post(format!("{base}/admin/api/v1/clients")).bearer_auth(&key).json(&json!({"name": "Durable", "version": "1", "type": "confidential", "grant_types": ["client_credentials"]}))).await;
    let (id, secret) = common::id_and_secret(&c);

    // 16 workers issue tokens as fast as they can until the server dies.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..16 {
        let (http, base, id, secret, acked, stop) = (
            http.clone(),
            base.clone(),
            id.clone(),
            secret.clone(),
            acked.clone(),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let res = http
                    .post(format!("{base}/oauth2/token"))
                    .basic_auth(&id, Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await;
                let Ok(res) = res else { break };
                if res.status() != 200 {
                    continue;
                }
                // Only a complete 200 body counts as acknowledged.
                if let Ok(v) = res.json::<Value>().await {
                    acked
                        .lock()
                        .unwrap()
                        .push(v["access_token"].as_str().unwrap().to_owned());
                }
            }
        }));
    }
    // Let them run, then kill the server without warning.
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.lock().unwrap().len() < 300 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let tokens = acked.lock().unwrap().clone();
    assert!(
        tokens.len() >= 100,
        "only {} tokens issued before the kill",
        tokens.len()
    );

    let port2 = free_port();
    let mut server = spawn(&db.url, port2).await;
    let mut lost = 0;
    for t in &tokens {
        let v: Value = common::send_json(
            http.post(format!("http://127.0.0.1:{port2}/oauth2/introspect"))
                .bearer_auth(&key)
                .form(&[("token", t.as_str())]),
        )
        .await;
        if v["active"] != true {
            lost += 1;
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(
        lost,
        0,
        "{lost} of {} acknowledged tokens lost",
        tokens.len()
    );
    eprintln!("{} acknowledged tokens all survived kill -9", tokens.len());
}

//! SPEC §8 / issue 6: on SIGTERM or SIGINT the server stops accepting connections, lets the
//! requests in flight finish (at most `server::DRAIN_LIMIT`), and exits 0 — and every token
//! it acknowledged is durable: after a restart on the same database each one is active.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::binary::{spawn_server, tollgate, Server};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tollgate::server::DRAIN_LIMIT;
use tollgate_test_macros::backends;

const PASSWORD: &str = "shutdown-admin-pw";

fn signal(server: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &server.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig} failed");
}

/// The exit status, if the process ends within `limit`.
fn wait_exit(server: &mut Server, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(s) = server.child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// A confidential `client_credentials` client: (admin key, client id, secret).
fn setup(db_url: &str, server: &Server) -> (String, String, String) {
    let out = tollgate(db_url)
        .args(["admin", "create-key", "--name", "shutdown"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let c: Value = reqwest::blocking::Client::new()
        .post(format!("{}/admin/api/v1/clients", server.base))
        .bearer_auth(&key)
        .json(&json!({"name": "Drained", "version": "1", "type": "confidential", "grant_types": ["client_credentials"]}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    (
        key,
        c["client_id"].as_str().unwrap().to_owned(),
        c["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// A token request sent by hand, all but its last body byte, so it is in flight (the
/// handler is waiting for the body) until `finish` is called.
struct HalfSent {
    stream: TcpStream,
    rest: &'static [u8],
}

impl HalfSent {
    fn start(server: &Server, id: &str, secret: &str) -> Self {
        use base64::Engine;
        let body: &'static [u8] = b"grant_type=client_credentials";
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        let mut stream = TcpStream::connect(addr(server)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let head = format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            addr(server),
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body[..body.len() - 1]).unwrap();
        stream.flush().unwrap();
        Self {
            stream,
            rest: &body[body.len() - 1..],
        }
    }

    /// Sends the last byte; the status and body of the answer.
    fn finish(mut self) -> (u16, Value) {
        self.stream.write_all(self.rest).unwrap();
        let mut raw = Vec::new();
        self.stream.read_to_end(&mut raw).unwrap();
        let raw = String::from_utf8(raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }
}

#[backends(serial)]
#[test]
fn sigterm_drains_in_flight_requests_and_keeps_every_acknowledged_token(db: TestDb) {
    let mut server = spawn_server(&db.url, Some(PASSWORD));
    let (key, id, secret) = setup(&db.url, &server);

    // 16 workers issue tokens as fast as they can until the server goes away.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (base, id, secret) = (server.base.clone(), id.clone(), secret.clone());
            let (acked, stop) = (acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                while !stop.load(Ordering::Relaxed) {
                    let res = http
                        .post(format!("{base}/oauth2/token"))
                        .basic_auth(&id, Some(&secret))
                        .form(&[("grant_type", "client_credentials")])
                        .send();
                    let Ok(res) = res else { break };
                    if res.status() != 200 {
                        continue;
                    }
                    // Only a complete 200 body counts as acknowledged.
                    if let Ok(v) = res.json::<Value>() {
                        let t = v["access_token"].as_str().unwrap().to_owned();
                        acked.lock().unwrap().push(t);
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while acked.lock().unwrap().len() < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let in_flight = HalfSent::start(&server, &id, &secret);
    // Let the server read the request head and start the handler: a connection it has
    // read nothing from yet counts as idle and is simply closed.
    std::thread::sleep(Duration::from_millis(500));

    signal(&server, "TERM");
    let signalled = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    // Stopped accepting: the listener is closed while the request above is in flight.
    assert!(
        TcpStream::connect(addr(&server)).is_err(),
        "a new connection was accepted after SIGTERM"
    );
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited with a request in flight"
    );
    let (status, body) = in_flight.finish();
    assert_eq!(status, 200, "the in-flight request: {body}");
    acked
        .lock()
        .unwrap()
        .push(body["access_token"].as_str().unwrap().to_owned());

    let exit = wait_exit(&mut server, DRAIN_LIMIT + Duration::from_secs(5));
    let took = signalled.elapsed();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let exit = exit.unwrap_or_else(|| panic!("still running {took:?} after SIGTERM"));
    eprintln!("exited {exit} {} ms after SIGTERM", took.as_millis());
    assert_eq!(exit.code(), Some(0), "exit status {exit}");
    // Nothing was left in flight but the request held open on purpose.
    assert!(took < Duration::from_secs(3), "took {took:?} to exit");

    let tokens = acked.lock().unwrap().clone();
    assert!(tokens.len() >= 50, "only {} tokens", tokens.len());
    drop(server);
    let server = spawn_server(&db.url, None);
    let http = reqwest::blocking::Client::new();
    let lost = tokens
        .iter()
        .filter(|t| {
            let v: Value = http
                .post(format!("{}/oauth2/introspect", server.base))
                .bearer_auth(&key)
                .form(&[("token", t.as_str())])
                .send()
                .unwrap()
                .json()
                .unwrap();
            v["active"] != true
        })
        .count();
    eprintln!(
        "{} tokens acknowledged before the exit, {lost} not active after the restart",
        tokens.len()
    );
    assert_eq!(lost, 0, "acknowledged tokens lost over a graceful shutdown");
}

/// A client that never finishes its request cannot hold the process past the drain limit.
#[test]
fn sigint_with_a_stalled_request_exits_0_within_the_drain_limit() {
    let db = tollgate_testkit::sqlite();
    let mut server = spawn_server(&db.url, Some(PASSWORD));
    let (_, id, secret) = setup(&db.url, &server);
    let stalled = HalfSent::start(&server, &id, &secret);
    std::thread::sleep(Duration::from_millis(200));
    signal(&server, "INT");
    let signalled = Instant::now();
    let exit = wait_exit(&mut server, DRAIN_LIMIT + Duration::from_secs(5));
    let took = signalled.elapsed();
    let exit = exit.unwrap_or_else(|| panic!("still running {took:?} after SIGINT"));
    eprintln!(
        "stalled request: exited {exit} {} ms after SIGINT",
        took.as_millis()
    );
    assert_eq!(exit.code(), Some(0), "exit status {exit}");
    assert!(
        took >= DRAIN_LIMIT - Duration::from_millis(500),
        "gave up on the stalled request after {took:?}, before the drain limit"
    );
    drop(stalled);
}

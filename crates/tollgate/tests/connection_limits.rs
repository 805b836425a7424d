//! Issue 13, finding 4: connections live under limits (`[http]`) on the plain and the TLS
//! listener — unfinished headers, unfinished bodies and idle keep-alive connections are
//! closed after their timeouts, oversized headers are refused with 431, at most
//! `max_connections` are served at once — and HSTS is sent when the issuer is https.
//! Timeouts are set to a second or two so each test takes a few seconds.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{start_with, Options, TestDb, TestServer};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tollgate::config::HttpSettings;
use tollgate_test_macros::backends;

/// Limits long enough not to interfere; each test shortens the one it checks.
fn slow() -> HttpSettings {
    HttpSettings {
        header_read_timeout: Duration::from_secs(30),
        request_body_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        tls_handshake_timeout: Duration::from_secs(30),
        ..HttpSettings::default()
    }
}

async fn server(db: TestDb, http: HttpSettings) -> TestServer {
    common::start_with(
        db,
        Options {
            http,
            ..Options::default()
        },
    )
    .await
}

fn addr(s: &TestServer) -> String {
    s.base.split("://").nth(1).unwrap().to_owned()
}

/// Reads until the server closes the connection, for at most `limit`: what was read, and
/// how long until it closed (`None`: still open at the limit).
async fn until_closed<S: AsyncRead + Unpin>(
    s: &mut S,
    limit: Duration,
) -> (String, Option<Duration>) {
    let start = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(start.elapsed());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), None),
            // EOF, or a reset: closed either way.
            Ok(Ok(0)) | Ok(Err(_)) => {
                return (
                    String::from_utf8_lossy(&got).into_owned(),
                    Some(start.elapsed()),
                )
            }
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// The timeout a test shortens a limit to.
const SECOND: Duration = Duration::from_secs(1);

/// When a connection under a one-second timeout must close.
const AFTER_ONE_SECOND: std::ops::Range<Duration> =
    Duration::from_millis(800)..Duration::from_secs(3);

/// `slow()` but for what `set` shortens.
fn slow_but(set: impl FnOnce(&mut HttpSettings)) -> HttpSettings {
    let mut http = slow();
    set(&mut http);
    http
}

/// Asserts the connection was closed (else it was `kept`: the message) within `when`.
fn assert_closed_in(closed: Option<Duration>, kept: &str, when: std::ops::Range<Duration>) {
    let closed = closed.unwrap_or_else(|| panic!("{kept}"));
    assert!(when.contains(&closed), "closed after {closed:?}");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_headers_are_closed_after_the_header_read_timeout(db: TestDb) {
    let s = server(db, slow_but(|h| h.header_read_timeout = SECOND)).await;
    let mut half = TcpStream::connect(addr(&s)).await.unwrap();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // A connection that sends nothing at all is held to the same limit.
    let mut silent = TcpStream::connect(addr(&s)).await.unwrap();
    let (got, closed) = until_closed(&mut half, Duration::from_secs(5)).await;
    assert_closed_in(closed, "half a header kept open 5 s", AFTER_ONE_SECOND);
    assert!(!got.contains(" 200 "), "{got}");
    let (_, closed) = until_closed(&mut silent, Duration::from_secs(3)).await;
    assert!(closed.is_some(), "a silent connection kept open");
    assert_eq!(s.get_plain("/healthz").await.status(), 200, "still served");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_body_gets_408_after_the_request_body_timeout(db: TestDb) {
    let s = server(db, slow_but(|h| h.request_body_timeout = SECOND)).await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    c.write_all(
        b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n\
          grant_type",
    )
    .await
    .unwrap();
    let (got, closed) = until_closed(&mut c, Duration::from_secs(5)).await;
    assert_closed_in(closed, "an unfinished body kept open 5 s", AFTER_ONE_SECOND);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    // Still a response of ours: request id and security headers, as on every other.
    let head = got.to_ascii_lowercase();
    for h in [
        "x-request-id:",
        "x-content-type-options: nosniff",
        "connection: close",
    ] {
        assert!(head.contains(h), "408 without {h}: {got}");
    }
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_are_closed_after_the_idle_timeout(db: TestDb) {
    // Idle longer than the header timeout: the idle limit, not the header one, applies
    // between requests.
    let http = slow_but(|h| {
        h.header_read_timeout = SECOND;
        h.idle_timeout = Duration::from_secs(2);
    });
    let s = server(db, http).await;
    let mut c = TcpStream::connect(addr(&s)).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (got, closed) = until_closed(&mut c, Duration::from_secs(6)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert_closed_in(
        closed,
        "an idle connection kept open 6 s",
        Duration::from_millis(1700)..Duration::from_secs(4),
    );
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_over_max_header_bytes_get_431_and_others_are_still_served(db: TestDb) {
    let s = server(db, slow()).await;
    let c = TcpStream::connect(addr(&s)).await.unwrap();
    let (mut r, mut w) = c.into_split();
    let big = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    // Written beside the read: the server may answer and close before taking it all.
    let writer = tokio::spawn(async move {
        let _ = w.write_all(big.as_bytes()).await;
        w
    });
    let (got, closed) = until_closed(&mut r, Duration::from_secs(5)).await;
    drop(writer.await);
    assert!(closed.is_some(), "64 KiB of headers kept open");
    // A reset may overtake the 431; what must never happen is the request served.
    assert!(got.is_empty() || got.starts_with("HTTP/1.1 431"), "{got}");
    assert_eq!(s.get_plain("/healthz").await.status(), 200, "still served");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_wait_until_one_closes(db: TestDb) {
    let s = server(db, slow_but(|h| h.max_connections = 2)).await;
    let first = TcpStream::connect(addr(&s)).await.unwrap();
    let _second = TcpStream::connect(addr(&s)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The kernel completes the handshake; the server does not accept it yet.
    let mut third = TcpStream::connect(addr(&s)).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, closed) = until_closed(&mut third, Duration::from_millis(800)).await;
    assert!(
        got.is_empty() && closed.is_none(),
        "a third connection was served over max_connections=2: {got}"
    );
    drop(first);
    let (got, closed) = until_closed(&mut third, Duration::from_secs(3)).await;
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(closed.is_some());
    assert_eq!(s.get_plain("/healthz").await.status(), 200, "still served");
}

/// A TLS server on `db` with `http` limits and an https issuer: the server, the client
/// configuration that trusts its certificate, and the certificate (PEM).
async fn tls_server(
    db: tollgate_testkit::TestDb,
    http: HttpSettings,
) -> (TestServer, Arc<tokio_rustls::rustls::ClientConfig>, String) {
    let dir = tempfile::tempdir().unwrap();
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    let server = start_with(
        db,
        Options {
            http,
            issuer: Some("https://localhost".into()),
            tls: Some(tollgate::tls::server_config(&cert, &key).unwrap()),
            ..Options::default()
        },
    )
    .await;
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.add(ck.cert.der().clone()).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let client = tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (server, Arc::new(client), ck.cert.pem())
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_listener_applies_the_handshake_and_header_read_timeouts(db: TestDb) {
    let http = slow_but(|h| {
        h.header_read_timeout = SECOND;
        h.tls_handshake_timeout = SECOND;
    });
    let (s, client, _) = tls_server(db, http.clone()).await;
    // No handshake at all.
    let mut raw = TcpStream::connect(addr(&s)).await.unwrap();
    let (_, closed) = until_closed(&mut raw, Duration::from_secs(5)).await;
    let closed = closed.unwrap_or_else(|| panic!("no handshake, kept open 5 s"));
    assert!(closed < Duration::from_secs(3), "{closed:?}");
    // A handshake, then half a header.
    let tcp = TcpStream::connect(addr(&s)).await.unwrap();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(client)
        .connect(name, tcp)
        .await
        .unwrap();
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    tls.flush().await.unwrap();
    let (got, closed) = until_closed(&mut tls, Duration::from_secs(5)).await;
    assert_closed_in(
        closed,
        "half a header over TLS kept open 5 s",
        AFTER_ONE_SECOND,
    );
    assert!(!got.contains(" 200 "), "{got}");
}

#[backends]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hsts_is_sent_when_the_issuer_is_https_and_not_over_plain_http(db: TestDb) {
    let plain = crate::common::harness::another(&db).await;
    let (s, _, pem) = tls_server(db, slow()).await;
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let res = http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap()),
        Some("max-age=31536000"),
        "over TLS"
    );
    let s = server(plain, slow()).await;
    let res = s.get_plain("/healthz").await;
    assert!(
        res.headers().get("strict-transport-security").is_none(),
        "HSTS on an http issuer"
    );
}

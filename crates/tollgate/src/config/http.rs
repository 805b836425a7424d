//! `[http]`: connection limits (issue 13), checked into `HttpSettings`.

use super::{invalid, ConfigError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Connection limits (issue 13): every timeout in whole seconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    pub header_read_timeout: i64,
    pub request_body_timeout: i64,
    pub idle_timeout: i64,
    pub tls_handshake_timeout: i64,
    pub max_header_bytes: i64,
    pub max_connections: i64,
    pub hsts_max_age: i64,
}

impl Default for RawHttp {
    fn default() -> Self {
        let d = HttpSettings::default();
        Self {
            header_read_timeout: d.header_read_timeout.as_secs() as i64,
            request_body_timeout: d.request_body_timeout.as_secs() as i64,
            idle_timeout: d.idle_timeout.as_secs() as i64,
            tls_handshake_timeout: d.tls_handshake_timeout.as_secs() as i64,
            max_header_bytes: d.max_header_bytes as i64,
            max_connections: d.max_connections as i64,
            hsts_max_age: d.hsts_max_age as i64,
        }
    }
}

/// Validated connection limits (`[http]`), applied to the plain and the TLS listener alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// From the first byte of a request (or the connection's start) to the end of its
    /// headers. Real clients send headers in one packet; 10 s allows a slow mobile link.
    pub header_read_timeout: Duration,
    /// From the end of the headers to the end of the body, in total (not per read), so a
    /// client trickling bytes cannot keep a request open. Bodies are ≤ 64 KiB: 30 s is
    /// about 2 KiB/s, slower than any honest client.
    pub request_body_timeout: Duration,
    /// A keep-alive connection with no request in flight is closed after this. 60 s lets
    /// client pools and proxies reuse connections between bursts without holding a socket
    /// per client that went away.
    pub idle_timeout: Duration,
    /// For the TLS handshake, before any HTTP is read.
    pub tls_handshake_timeout: Duration,
    /// The request line and headers together; more is refused with 431. 16 KiB holds any
    /// legitimate OAuth request (the largest headers are cookies and a bearer token).
    pub max_header_bytes: usize,
    /// Connections served at once; more wait in the kernel's accept queue until one ends.
    /// 1024 is far more than one instance needs for requests of milliseconds, and bounds
    /// the memory (a few KiB each) and descriptors idle or stalled sockets can hold; raise
    /// the process's descriptor limit (`LimitNOFILE`) above it.
    pub max_connections: usize,
    /// `Strict-Transport-Security: max-age=…` on every response when the issuer is https;
    /// 0 sends none. One year is what browsers' preload lists require.
    pub hsts_max_age: u64,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            request_body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            tls_handshake_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_connections: 1024,
            hsts_max_age: 31_536_000,
        }
    }
}

impl RawHttp {
    pub(super) fn validate(&self) -> Result<HttpSettings, ConfigError> {
        // (value, setting, env, low, high, unit)
        let check = |v: i64, setting, env, low: i64, high: i64, what: &str| {
            if (low..=high).contains(&v) {
                Ok(v as u64)
            } else {
                Err(invalid(
                    setting,
                    env,
                    format!("{v} is not a number of {what} from {low} to {high}"),
                ))
            }
        };
        let secs =
            |v, setting, env| check(v, setting, env, 1, 3600, "seconds").map(Duration::from_secs);
        Ok(HttpSettings {
            header_read_timeout: secs(
                self.header_read_timeout,
                "http.header_read_timeout",
                "TOLLGATE_HTTP__HEADER_READ_TIMEOUT",
            )?,
            request_body_timeout: secs(
                self.request_body_timeout,
                "http.request_body_timeout",
                "TOLLGATE_HTTP__REQUEST_BODY_TIMEOUT",
            )?,
            idle_timeout: secs(
                self.idle_timeout,
                "http.idle_timeout",
                "TOLLGATE_HTTP__IDLE_TIMEOUT",
            )?,
            tls_handshake_timeout: secs(
                self.tls_handshake_timeout,
                "http.tls_handshake_timeout",
                "TOLLGATE_HTTP__TLS_HANDSHAKE_TIMEOUT",
            )?,
            // Below 1 KiB a long bearer token or cookie no longer fits.
            max_header_bytes: check(
                self.max_header_bytes,
                "http.max_header_bytes",
                "TOLLGATE_HTTP__MAX_HEADER_BYTES",
                1024,
                1024 * 1024,
                "bytes",
            )? as usize,
            max_connections: check(
                self.max_connections,
                "http.max_connections",
                "TOLLGATE_HTTP__MAX_CONNECTIONS",
                1,
                1_000_000,
                "connections",
            )? as usize,
            hsts_max_age: check(
                self.hsts_max_age,
                "http.hsts_max_age",
                "TOLLGATE_HTTP__HSTS_MAX_AGE",
                0,
                i64::from(u32::MAX),
                "seconds (0: no header)",
            )?,
        })
    }
}

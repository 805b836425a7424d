//! The public OAuth endpoints (SPEC §3): metadata, token, introspection, revocation, and
//! the browser-facing authorize, login, consent and logout pages.

pub(crate) mod pages;
mod token;

use super::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tollgate_core::client::Client;
use tollgate_core::oauth::{AuthMethod, ClientCredentials, OAuthError};
use tollgate_core::secret::Secret;
use tollgate_core::service::throttle::RetryAfter;
use tollgate_core::text::has_control;
use tollgate_core::ClientId;
use tollgate_core::ServiceError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(token::metadata),
        )
        .route("/oauth2/token", post(token::token))
        .route("/oauth2/introspect", post(token::introspect))
        .route("/oauth2/revoke", post(token::revoke))
        .route("/oauth2/authorize", get(pages::authorize))
        .route("/oauth2/consent", post(pages::consent))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/static/tollgate.css", get(pages::stylesheet))
}

/// An RFC 6749 §5.2 error response. Every response of the token endpoint carries
/// `Cache-Control: no-store` (§5.1).
pub(crate) struct OAuthErrorResponse(OAuthError);

impl IntoResponse for OAuthErrorResponse {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = match &e {
            // The client, user or source address is over its brute-force budget (SPEC §9).
            OAuthError::Throttled(wait) => return throttled(*wait),
            OAuthError::Busy(wait) => return busy(*wait),
            OAuthError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            OAuthError::TemporarilyUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            OAuthError::ServerError(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        // Logged once, by `edge`, in the request's line; never sent.
        let cause = match &e {
            OAuthError::TemporarilyUnavailable(m) => Some(format!("database unavailable: {m}")),
            OAuthError::ServerError(m) => Some(m.to_string()),
            _ => None,
        };
        let body = json!({ "error": e.code(), "error_description": e.description() });
        let mut res = (status, axum::Json(body)).into_response();
        let h = res.headers_mut();
        no_store(h);
        match &e {
            // RFC 6749 §5.2: 401 with the scheme the client tried.
            OAuthError::InvalidClient { basic: true, .. } => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"tollgate\", charset=\"UTF-8\""),
                );
            }
            OAuthError::InvalidClient { basic: false, .. } => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"tollgate\""),
                );
            }
            OAuthError::TemporarilyUnavailable(_) => {
                h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        match cause {
            Some(c) => crate::http::edge::with_cause(res, c),
            None => res,
        }
    }
}

/// 429 with `Retry-After`. The error code is `temporarily_unavailable`, not `invalid_client`:
/// the credentials were not even looked at (a client with the right secret is refused too
/// while its id or address is blocked), and OAuth libraries treat `invalid_client` as a
/// permanent misconfiguration to report, but `temporarily_unavailable` as "try again later",
/// which, with the 429 and `Retry-After` that generic HTTP retry logic keys on, is what the
/// caller should do. RFC 6749 defines no token-endpoint code for this; this is the one the
/// server already uses for "not now" (503 while the database is down).
fn throttled(wait: RetryAfter) -> Response {
    retry_later(
        StatusCode::TOO_MANY_REQUESTS,
        OAuthError::Throttled(wait),
        wait,
    )
}

/// 503 with `Retry-After`: shed because every password-hashing slot is busy (SPEC §9).
fn busy(wait: RetryAfter) -> Response {
    retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::Busy(wait),
        wait,
    )
}

fn retry_later(status: StatusCode, e: OAuthError, wait: RetryAfter) -> Response {
    let body = json!({ "error": e.code(), "error_description": e.description() });
    let mut res = (status, axum::Json(body)).into_response();
    let h = res.headers_mut();
    no_store(h);
    h.insert(header::RETRY_AFTER, HeaderValue::from(wait.secs()));
    res
}

impl From<OAuthError> for OAuthErrorResponse {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}

impl From<ServiceError> for OAuthErrorResponse {
    fn from(e: ServiceError) -> Self {
        Self(e.into())
    }
}

/// The source address of a request, the one place that decides it: for the brute-force
/// limits and the audit log. The TCP peer, unless the peer is a configured trusted proxy
/// (`trusted_proxies`): then the rightmost address in `X-Forwarded-For` that is not a trusted
/// proxy. Anything left of that was written by the client and is ignored, so a client cannot
/// choose its address; with no trusted proxies configured the header is never read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SourceAddr(pub Option<IpAddr>);

impl SourceAddr {
    pub(crate) fn of(parts: &Parts, state: &AppState) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Self(resolve(peer, &parts.headers, &state.trusted_proxies))
    }

    /// As the audit log records it.
    pub(crate) fn to_audit(self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

fn resolve(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> Option<IpAddr> {
    // An IPv4 client of a dual-stack listener shows up as ::ffff:a.b.c.d.
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(&ip.to_canonical()));
    let mut addr = peer?.to_canonical();
    if !is_trusted(addr) {
        return Some(addr);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in hops.into_iter().rev() {
        let hop = hop.trim();
        let ip = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()));
        // A malformed entry ends the chain: what is left of it cannot be trusted.
        let Ok(ip) = ip else { break };
        addr = ip.to_canonical();
        if !is_trusted(addr) {
            break;
        }
    }
    Some(addr)
}

impl FromRequestParts<AppState> for SourceAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

/// `OAuthService::authenticate_client` from the request's source address (the brute-force
/// limits count per client and address).
pub(crate) async fn authenticate_client(
    state: &AppState,
    source: SourceAddr,
    creds: &ClientCredentials,
) -> Result<Arc<Client>, OAuthErrorResponse> {
    Ok(state
        .services
        .oauth
        .authenticate_client(creds, source.0)
        .await?)
}

pub(crate) fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Parses `application/x-www-form-urlencoded` parameters. RFC 6749 §3.1: parameters
/// without a value count as omitted, and none may appear twice.
pub fn parse_params(raw: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    parse_params_allowing(raw, &["password"])
}

/// `parse_params`, refusing a control or format character in any parameter but those in
/// `free`: no client id, code, token or state we issue holds one, and PostgreSQL cannot
/// even look up a NUL, so both backends answer `invalid_request` before the store is asked.
/// A password may hold anything: it is only ever hashed.
pub fn parse_params_allowing(
    raw: &[u8],
    free: &[&str],
) -> Result<HashMap<String, String>, OAuthError> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        if v.is_empty() {
            continue;
        }
        if has_control(&k) || (!free.contains(&k.as_ref()) && has_control(&v)) {
            return Err(OAuthError::InvalidRequest(format!(
                "{} contains a control or formatting character",
                parameter_label(&k)
            )));
        }
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::InvalidRequest(format!(
                "{} was sent more than once",
                parameter_label(&k)
            )));
        }
    }
    Ok(out)
}

/// How a description names a parameter: by name when it is one of OAuth's, else not at all
/// (a name from the request is not echoed back).
fn parameter_label(k: &str) -> String {
    match tollgate_core::oauth::known_parameter(k) {
        Some(name) => format!("parameter {name}"),
        None => "a parameter".to_owned(),
    }
}

/// The form body of a POST to an OAuth endpoint.
pub fn form_body(headers: &HeaderMap, body: &Bytes) -> Result<HashMap<String, String>, OAuthError> {
    form_body_allowing(headers, body, &["password"])
}

/// `form_body` with `parse_params_allowing`'s exceptions.
pub fn form_body_allowing(
    headers: &HeaderMap,
    body: &Bytes,
    free: &[&str],
) -> Result<HashMap<String, String>, OAuthError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(OAuthError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded (RFC 6749 §3.2)".into(),
        ));
    }
    parse_params_allowing(body, free)
}

/// The credentials of an `Authorization: <scheme> <credentials>` header when its scheme is
/// `scheme` (compared case-insensitively, RFC 9110 §11.1).
pub(crate) fn authorization<'h>(headers: &'h HeaderMap, scheme: &str) -> Option<&'h str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, credentials)| credentials.trim())
}

/// `client_credentials` where the endpoint requires them: a request without any is
/// `invalid_client`, with `missing` saying what the endpoint accepts.
pub(crate) fn required_credentials(
    headers: &HeaderMap,
    form: &mut HashMap<String, String>,
    missing: &'static str,
) -> Result<ClientCredentials, OAuthError> {
    client_credentials(headers, form)?.ok_or_else(|| OAuthError::invalid_client(missing, false))
}

/// RFC 6749 §2.3.1: client credentials from HTTP Basic (each part form-urlencoded before
/// base64) or from the body, never both. `None` when the request carries none at all.
pub fn client_credentials(
    headers: &HeaderMap,
    form: &mut HashMap<String, String>,
) -> Result<Option<ClientCredentials>, OAuthError> {
    let form_id = form.remove("client_id");
    let form_secret = form.remove("client_secret");
    if let Some(b64) = authorization(headers, "basic") {
        let bad = || OAuthError::invalid_client("malformed HTTP Basic credentials", true);
        let decoded = STANDARD.decode(b64.as_bytes()).map_err(|_| bad())?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        let id = form_decode(id);
        let secret = form_decode(secret);
        // No client id holds a control character; the lookup is not even tried.
        if has_control(&id) {
            return Err(bad());
        }
        if form_secret.is_some() {
            return Err(OAuthError::InvalidRequest(
                "use one client authentication method: HTTP Basic or client_secret in the body, not both".into(),
            ));
        }
        if form_id.as_ref().is_some_and(|f| *f != id) {
            return Err(OAuthError::InvalidRequest(
                "client_id in the body differs from the one in HTTP Basic".into(),
            ));
        }
        return Ok(Some(ClientCredentials {
            client_id: ClientId::new(id),
            secret: Some(Secret::new(secret)),
            method: AuthMethod::Basic,
        }));
    }
    Ok(form_id.map(|client_id| ClientCredentials {
        client_id: ClientId::new(client_id),
        method: if form_secret.is_some() {
            AuthMethod::Post
        } else {
            AuthMethod::None
        },
        secret: form_secret.map(Secret::new),
    }))
}

/// RFC 6749 Appendix B: decodes one form-urlencoded value, whole. `form_urlencoded::parse`
/// reads a list of pairs, where a literal '&' would end the value; escaped, it stays.
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('&', "%26")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(v))).unwrap(),
        );
        h
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut form = HashMap::new();
        let c = client_credentials(&basic("my%20app:s%3Ac+r"), &mut form)
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "my app");
        assert_eq!(c.secret.unwrap().expose(), "s:c r");
        assert_eq!(c.method, AuthMethod::Basic);
    }

    // Found by fuzz/fuzz_targets/basic_auth.rs: each part was decoded as if it were a whole
    // form body, so a '&' ended it and "secret&anything" authenticated as "secret".
    #[test]
    fn basic_credentials_are_decoded_whole() {
        let c = client_credentials(&basic("app&x=1:s3cret&junk"), &mut HashMap::new())
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "app&x=1");
        assert_eq!(c.secret.unwrap().expose(), "s3cret&junk");
    }

    #[test]
    fn basic_and_body_secret_together_are_refused() {
        let mut form = HashMap::from([("client_secret".to_owned(), "x".to_owned())]);
        let e = client_credentials(&basic("a:b"), &mut form).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
    }

    #[test]
    fn malformed_basic_is_invalid_client() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        let e = client_credentials(&h, &mut HashMap::new()).unwrap_err();
        assert_eq!(e.code(), "invalid_client");
    }

    #[tokio::test]
    async fn throttled_is_429_with_retry_after_and_a_retryable_error() {
        let res = OAuthErrorResponse::from(OAuthError::Throttled(RetryAfter(42))).into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "42");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "temporarily_unavailable");
        assert!(v["error_description"].as_str().unwrap().contains("42 s"));
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn source_is_the_rightmost_untrusted_forwarded_address() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let trusted: Vec<ipnet::IpNet> = vec![
            "127.0.0.1/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let proxy = Some(ip("127.0.0.1"));
        // No trusted proxies: the header is never read.
        let h = xff(&["203.0.113.9"]);
        assert_eq!(resolve(proxy, &h, &[]), proxy);
        // From an untrusted peer the header is ignored.
        assert_eq!(
            resolve(Some(ip("198.51.100.7")), &h, &trusted),
            Some(ip("198.51.100.7"))
        );
        // Behind the proxy: the client it saw.
        assert_eq!(resolve(proxy, &h, &trusted), Some(ip("203.0.113.9")));
        // A client's forged entries are left of the one the proxy appended.
        let h = xff(&["6.6.6.6, 203.0.113.9"]);
        assert_eq!(resolve(proxy, &h, &trusted), Some(ip("203.0.113.9")));
        // Through two trusted hops, and over repeated headers.
        let h = xff(&["6.6.6.6", "203.0.113.9, 10.1.2.3"]);
        assert_eq!(resolve(proxy, &h, &trusted), Some(ip("203.0.113.9")));
        // All hops trusted: the leftmost; a malformed entry stops the walk.
        let h = xff(&["10.9.9.9, 10.1.2.3"]);
        assert_eq!(resolve(proxy, &h, &trusted), Some(ip("10.9.9.9")));
        let h = xff(&["203.0.113.9, garbage, 10.1.2.3"]);
        assert_eq!(resolve(proxy, &h, &trusted), Some(ip("10.1.2.3")));
        // No header: the proxy itself. IPv4-mapped peers and ports are understood.
        assert_eq!(resolve(proxy, &HeaderMap::new(), &trusted), proxy);
        let h = xff(&["[2001:db8::1]:4711"]);
        assert_eq!(
            resolve(Some(ip("::ffff:127.0.0.1")), &h, &trusted),
            Some(ip("2001:db8::1"))
        );
        assert_eq!(resolve(None, &h, &trusted), None);
    }

    #[test]
    fn repeated_parameters_are_refused_and_empty_ones_ignored() {
        assert!(parse_params(b"a=1&a=2").is_err());
        let p = parse_params(b"a=1&b=&c=3").unwrap();
        assert_eq!(p.len(), 2);
        assert!(!p.contains_key("b"));
    }
}

//! Request extractors for the admin API whose failures are problem+json responses that say
//! exactly what is wrong (415, 413, 400 naming the field), instead of axum's plain-text
//! rejections.

use super::problem::Problem;
use super::AppState;
use axum::body::Bytes;
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, Path, Query, RawPathParams, Request,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use tollgate_core::audit::Actor;

/// The admin API's body limit.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON body parsed strictly: right content type, within the size limit, well-formed,
/// and (with `deny_unknown_fields` on the type) no unknown fields.
pub struct ApiJson<T>(pub T);

/// Like `ApiJson`, but an empty body is allowed and gives `None`.
pub struct OptionalApiJson<T>(pub Option<T>);

async fn read_json<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
    allow_empty: bool,
) -> Result<Option<T>, Problem> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                format!("the request body is larger than the limit of {BODY_LIMIT} bytes"),
            )
        } else {
            Problem::bad_request(format!("could not read the request body: {rej}"))
        }
    })?;
    if bytes.is_empty() && allow_empty {
        return Ok(None);
    }
    match content_type.as_deref() {
        Some(ct)
            if ct == "application/json"
                || (ct.starts_with("application/") && ct.ends_with("+json")) => {}
        other => {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                format!(
                    "the body must be JSON with Content-Type: application/json (got {})",
                    other.map_or("no Content-Type".to_owned(), |c| format!("{c:?}"))
                ),
            ))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = if inner.is_syntax() || inner.is_eof() {
            "malformed JSON"
        } else {
            "invalid request body"
        };
        if path == "." || path.is_empty() {
            Problem::bad_request(format!("{what}: {inner}"))
        } else {
            Problem::bad_request(format!("{what}: at `{path}`: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| Problem::bad_request(format!("malformed JSON: {e}")))?;
    Ok(Some(value))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match read_json(req, state, false).await? {
            Some(v) => Ok(Self(v)),
            None => Err(Problem::bad_request("a JSON body is required")),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for OptionalApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(read_json(req, state, true).await?))
    }
}

/// Query parameters, with a problem+json 400 naming the bad parameter.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            refuse_control_parameter(&name, &value)?;
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Self(v))
            .map_err(|e| Problem::bad_request(e.body_text()))
    }
}

/// Path parameters, with a problem+json 400 (axum's own rejection is plain text), e.g. for
/// a percent-encoded segment that is not UTF-8.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Ok(params) = RawPathParams::from_request_parts(parts, state).await {
            for (name, value) in &params {
                refuse_control_parameter(name, value)?;
            }
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| Self(v))
            .map_err(|e| Problem::bad_request(e.body_text()))
    }
}

/// No id, filter or search the API takes holds a control or format character; refused here,
/// naming the parameter, so neither database is asked (PostgreSQL cannot take a NUL, and
/// SQLite's LIKE stops at one and matches every row).
fn refuse_control_parameter(name: &str, value: &str) -> Result<(), Problem> {
    if !tollgate_core::text::has_control(name) && !tollgate_core::text::has_control(value) {
        return Ok(());
    }
    let name = name.escape_default().to_string();
    Err(Problem::bad_parameter(
        &name,
        "invalid_characters",
        format!("parameter `{name}` must not contain control or formatting characters"),
    ))
}

/// An admin-API caller, authenticated by `Authorization: Bearer <admin key>`.
pub struct AdminCaller {
    pub actor: Actor,
}

/// The caller's address for the audit log (trusted proxies resolved, see `SourceAddr`).
pub fn client_ip(parts: &Parts, state: &AppState) -> Option<String> {
    super::oauth::SourceAddr::of(parts, state).to_audit()
}

pub fn client_ip_of(c: Option<&ConnectInfo<SocketAddr>>) -> Option<String> {
    c.map(|c| c.0.ip().to_string())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    super::oauth::authorization(headers, "bearer")
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer(&parts.headers) else {
            return Err(Problem::unauthorized(
                "an admin key is required: send Authorization: Bearer <key> (create one with `tollgate admin create-key`)",
            ));
        };
        match state.services.admin_keys.authenticate(token).await? {
            Some(key) => Ok(Self {
                actor: Actor::admin_key(&key.id, &key.name, client_ip(parts, state)),
            }),
            None => Err(Problem::unauthorized("the admin key is not valid")),
        }
    }
}

/// `If-Match` as a revision: `None` when absent or `*`. A value that is not one of our
/// strong ETags can never match, so it yields a revision no client has.
pub fn if_match(headers: &HeaderMap) -> Option<i64> {
    let v = headers.get(header::IF_MATCH)?.to_str().unwrap_or("\"-1\"");
    let mut first = None;
    for tag in v.split(',').map(str::trim) {
        if tag == "*" {
            return None;
        }
        if let Some(r) = parse_etag(tag) {
            first.get_or_insert(r);
        }
    }
    Some(first.unwrap_or(-1))
}

fn parse_etag(tag: &str) -> Option<i64> {
    // RFC 9110 §13.1.1: If-Match uses the strong comparison, so weak tags never match.
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}

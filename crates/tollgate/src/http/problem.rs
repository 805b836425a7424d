//! RFC 9457 problem details for the admin API, and the mapping of service errors to them.
//! Internal errors get a generic message; their cause travels with the response and is
//! logged once, by `edge`, in the request's log line. The caller never sees database details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tollgate_core::store::StoreError;
use tollgate_core::{FieldError, ServiceError};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An `application/problem+json` body (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    #[serde(skip)]
    www_authenticate: bool,
    #[serde(skip)]
    retry_after: Option<u32>,
    /// Why a 5xx happened, for the request's log line (`edge::Cause`), never the body.
    /// Boxed: `Problem` is the error of many results and should stay small.
    #[serde(skip)]
    cause: Option<Box<str>>,
}

impl Problem {
    pub fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            type_: if kind == "about:blank" {
                kind.into()
            } else {
                format!("urn:tollgate:problem:{kind}")
            },
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            www_authenticate: false,
            retry_after: None,
            cause: None,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", detail)
    }

    /// A 400 naming the one path or query parameter that is malformed.
    pub fn bad_parameter(name: &str, code: &str, message: String) -> Self {
        Self {
            errors: vec![FieldProblem {
                field: name.to_owned(),
                code: code.to_owned(),
                message: message.clone(),
            }],
            ..Self::bad_request(message)
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self {
            www_authenticate: true,
            ..Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("1 field is invalid: {}", errors[0].message),
            n => format!("{n} fields are invalid; see `errors`"),
        };
        Self {
            errors: errors
                .into_iter()
                .map(|e| FieldProblem {
                    field: e.field,
                    code: e.code.to_owned(),
                    message: e.message,
                })
                .collect(),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation", detail)
        }
    }

    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut res = (status, body).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.www_authenticate {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tollgate-admin\""),
            );
        }
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        match self.cause {
            Some(c) => super::edge::with_cause(res, c),
            None => res,
        }
    }
}

impl From<ServiceError> for Problem {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Validation(errors) => Problem::validation(errors),
            ServiceError::NotFound(what) => Problem::not_found(format!("{what} not found")),
            ServiceError::Conflict(c) => Problem::new(StatusCode::CONFLICT, "conflict", c.to_string()),
            ServiceError::PreconditionFailed => Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition-failed",
                "the client was changed since you read it (If-Match does not match its ETag); reload it and apply your change again",
            ),
            ServiceError::Store(StoreError::Unavailable(msg)) => {
                Problem {
                    retry_after: Some(1),
                    cause: Some(format!("database unavailable: {msg}").into()),
                    ..Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the database is unavailable; try again shortly",
                    )
                }
            }
            ServiceError::Busy(wait) | ServiceError::Throttled(wait) => Problem {
                retry_after: Some(u32::try_from(wait.secs()).unwrap_or(u32::MAX)),
                ..Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    format!(
                        "the server is busy hashing passwords; try again in {} s",
                        wait.secs()
                    ),
                )
            },
            other => Problem {
                cause: Some(other.to_string().into()),
                ..Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal server error; the server log has the details",
                )
            },
        }
    }
}

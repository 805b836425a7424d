use crate::error::ServiceError;
use crate::service::throttle::RetryAfter;
use crate::store::StoreError;

/// RFC 6749 §4.1.2.1 / §5.2 errors. `description` is for developers (never secrets).
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Client authentication failed (RFC 6749 §5.2). `basic` tells the HTTP layer to answer
    /// 401 with `WWW-Authenticate: Basic`.
    #[error("invalid_client: {description}")]
    InvalidClient { description: String, basic: bool },
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    #[error("access_denied: {0}")]
    AccessDenied(String),
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(String),
    #[error("temporarily_unavailable: {0}")]
    TemporarilyUnavailable(String),
    /// A brute-force limit is spent (SPEC §9): 429 with `Retry-After`.
    #[error("temporarily_unavailable: {0}")]
    Throttled(RetryAfter),
    /// Shed by a bounded resource (password hashing): 503 with `Retry-After`.
    #[error("temporarily_unavailable: busy, retry in {} s", .0.secs())]
    Busy(RetryAfter),
    #[error("server_error: {0}")]
    ServerError(String),
}

impl OAuthError {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::UnauthorizedClient(_) => "unauthorized_client",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::InvalidScope(_) => "invalid_scope",
            Self::AccessDenied(_) => "access_denied",
            Self::UnsupportedResponseType(_) => "unsupported_response_type",
            Self::TemporarilyUnavailable(_) | Self::Throttled(_) | Self::Busy(_) => {
                "temporarily_unavailable"
            }
            Self::ServerError(_) => "server_error",
        }
    }

    pub fn description(&self) -> String {
        match self {
            Self::InvalidClient { description, .. } => description.clone(),
            Self::InvalidRequest(d)
            | Self::InvalidGrant(d)
            | Self::UnauthorizedClient(d)
            | Self::UnsupportedGrantType(d)
            | Self::InvalidScope(d)
            | Self::AccessDenied(d)
            | Self::UnsupportedResponseType(d) => d.clone(),
            Self::TemporarilyUnavailable(_) => {
                "the service is temporarily unavailable; try again shortly".into()
            }
            Self::Throttled(wait) => format!(
                "too many failed authentication attempts for this client, user or source address; try again in {} s",
                wait.secs()
            ),
            Self::Busy(wait) => format!(
                "the server is busy verifying passwords; try again in {} s",
                wait.secs()
            ),
            // Details of internal failures are logged, not sent.
            Self::ServerError(_) => "internal server error".into(),
        }
    }

    pub fn invalid_client(description: impl Into<String>, basic: bool) -> Self {
        Self::InvalidClient {
            description: description.into(),
            basic,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Self::TemporarilyUnavailable(m),
            other => Self::ServerError(other.to_string()),
        }
    }
}

impl From<ServiceError> for OAuthError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Store(s) => s.into(),
            ServiceError::Throttled(wait) => Self::Throttled(wait),
            ServiceError::Busy(wait) => Self::Busy(wait),
            other => Self::ServerError(other.to_string()),
        }
    }
}

impl From<crate::secret::RandomError> for OAuthError {
    fn from(e: crate::secret::RandomError) -> Self {
        Self::ServerError(e.to_string())
    }
}

use crate::error::{Internal, ServiceError};
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
    /// Logged by the edge; the caller sees only "internal server error".
    #[error("server_error: {0}")]
    ServerError(Internal),
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

    /// The `error_description`: a fixed text (never request input), in the characters RFC
    /// 6749 §4.1.2.1 and §5.2 allow (%x20-21 / %x23-5B / %x5D-7E), whatever a message says.
    pub fn description(&self) -> String {
        within_rfc6749_charset(&self.message())
    }

    fn message(&self) -> String {
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

/// `s` with every character outside RFC 6749's `error_description` set replaced: the
/// characters our messages use by a readable ASCII stand-in, anything else by `?`.
fn within_rfc6749_charset(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E' => out.push(c),
            '"' | '\u{2018}' | '\u{2019}' | '\u{201C}' | '\u{201D}' => out.push('\''),
            '\\' => out.push('/'),
            '§' => out.push_str("section "),
            '\u{2013}' | '\u{2014}' => out.push('-'),
            '\u{2026}' => out.push_str("..."),
            '≥' => out.push_str(">="),
            '≤' => out.push_str("<="),
            '\n' | '\t' => out.push(' '),
            _ => out.push('?'),
        }
    }
    out
}

/// The OAuth parameters a description may name. A parameter name outside this list came
/// from the request and is not echoed (finding 10 of issue 13).
pub fn known_parameter(name: &str) -> Option<&'static str> {
    const KNOWN: &[&str] = &[
        "grant_type",
        "code",
        "redirect_uri",
        "client_id",
        "client_secret",
        "scope",
        "state",
        "refresh_token",
        "username",
        "password",
        "code_verifier",
        "code_challenge",
        "code_challenge_method",
        "response_type",
        "token",
        "token_type_hint",
    ];
    KNOWN.iter().copied().find(|k| *k == name)
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => Self::TemporarilyUnavailable(m.to_string()),
            other => Self::ServerError(Internal::Store(other)),
        }
    }
}

impl From<ServiceError> for OAuthError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Store(s) => s.into(),
            ServiceError::Throttled(wait) => Self::Throttled(wait),
            ServiceError::Busy(wait) => Self::Busy(wait),
            ServiceError::Internal(i) => Self::ServerError(i),
            other => Self::ServerError(Internal::Service(Box::new(other))),
        }
    }
}

impl From<crate::secret::RandomError> for OAuthError {
    fn from(e: crate::secret::RandomError) -> Self {
        Self::ServerError(Internal::Random(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(d: &str) -> bool {
        d.chars()
            .all(|c| matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E'))
    }

    #[test]
    fn every_description_is_within_the_rfc_6749_charset() {
        let nasty = "scope \"x\" (RFC 6749 §5.2) \\ ≥ 1 – … \u{FFFD}\n<é>";
        let all = [
            OAuthError::InvalidRequest(nasty.into()),
            OAuthError::invalid_client(nasty, true),
            OAuthError::InvalidGrant(nasty.into()),
            OAuthError::UnauthorizedClient(nasty.into()),
            OAuthError::UnsupportedGrantType(nasty.into()),
            OAuthError::InvalidScope(nasty.into()),
            OAuthError::AccessDenied(nasty.into()),
            OAuthError::UnsupportedResponseType(nasty.into()),
            OAuthError::TemporarilyUnavailable(nasty.into()),
            OAuthError::Throttled(RetryAfter(3)),
            OAuthError::Busy(RetryAfter(1)),
            OAuthError::ServerError(Internal::Store(StoreError::Corrupt(nasty.into()))),
        ];
        for e in all {
            let d = e.description();
            assert!(allowed(&d), "{}: {d:?}", e.code());
        }
        assert_eq!(
            within_rfc6749_charset("RFC 7636 §4.2 \"S256\""),
            "RFC 7636 section 4.2 'S256'"
        );
    }

    #[test]
    fn only_oauth_parameter_names_are_named() {
        assert_eq!(known_parameter("scope"), Some("scope"));
        assert_eq!(known_parameter("<script>"), None);
    }
}

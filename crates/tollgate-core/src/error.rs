use crate::secret::RandomError;
use crate::store::StoreError;
use crate::user::PasswordError;

/// One bad input field: which, a stable machine code, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// The kinds of conflict a change can run into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another client has this name (compared by identity key) and version.
    #[error(
        "a client with this name and version already exists (names compare case-insensitively)"
    )]
    DuplicateNameVersion,
    #[error("a user named {0:?} already exists (usernames compare case-insensitively, and look-alike spellings as one)")]
    DuplicateUsername(String),
    /// The change would leave nobody able to use the console; `.0` says what was tried.
    #[error("cannot {0} the last active administrator; make another user an active admin first")]
    LastActiveAdmin(&'static str),
    #[error("public clients have no secret to rotate; change the type to confidential to get one")]
    PublicClientHasNoSecret,
    /// Compare-and-set retries ran out against concurrent writers.
    #[error("the client is being changed by others at the same time; try again")]
    ConcurrentChanges,
}

/// What a service call can fail with. Only the HTTP layer turns these into status codes.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Every invalid field at once, so the caller can fix them all in one go.
    #[error("invalid input: {}", summary(.0))]
    Validation(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change conflicts with the state of things; which conflict, so each caller can
    /// say it where it belongs (the console beside the field it concerns).
    #[error("{0}")]
    Conflict(Conflict),
    /// The caller's `If-Match` revision is stale.
    #[error("the resource was changed by someone else; reload it and try again")]
    PreconditionFailed,
    /// A brute-force limit is spent for this attempt's user, client or address (SPEC §9).
    #[error("too many failed attempts; try again in {} s", .0.secs())]
    Throttled(crate::service::throttle::RetryAfter),
    /// Shed at once because a bounded resource (password hashing) is at its limit.
    #[error("the server is busy; try again in {} s", .0.secs())]
    Busy(crate::service::throttle::RetryAfter),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(#[from] Internal),
}

/// What failed inside, for the log line only: callers are told no more than "internal".
/// Like `StoreError`, each message includes its cause's, so one `to_string()` is the
/// whole line; the cause stays typed as `#[source]`.
#[derive(Debug, thiserror::Error)]
pub enum Internal {
    #[error("{0}")]
    PasswordHashing(#[source] PasswordError),
    #[error("{0}")]
    Random(#[source] RandomError),
    #[error("{0}")]
    Store(#[source] StoreError),
    /// A service error where the caller's rules leave none possible (a bug, logged as one).
    #[error("unexpected service error: {0}")]
    Service(#[source] Box<ServiceError>),
}

impl From<RandomError> for ServiceError {
    fn from(e: RandomError) -> Self {
        Self::Internal(Internal::Random(e))
    }
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn internal_errors_keep_their_typed_cause_and_say_it_in_one_line() {
        let e = ServiceError::from(Internal::PasswordHashing(PasswordError::Join(
            "a password hashing job was lost".into(),
        )));
        assert_eq!(
            e.to_string(),
            "internal error: password hashing task failed: a password hashing job was lost"
        );
        let cause = e.source().and_then(|s| s.source());
        assert!(
            cause.is_some_and(|c| c.downcast_ref::<PasswordError>().is_some()),
            "the PasswordError is reachable as a source: {cause:?}"
        );
    }
}

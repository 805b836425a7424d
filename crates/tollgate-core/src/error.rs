use crate::store::StoreError;

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
    Internal(String),
}

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

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

/// What a service call can fail with. Only the HTTP layer turns these into status codes.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Every invalid field at once, so the caller can fix them all in one go.
    #[error("invalid input: {}", summary(.0))]
    Validation(Vec<FieldError>),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
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

//! Storage backends for Tollgate: SQLite (embedded default) and PostgreSQL (scale-out).
//!
//! Both implement the `tollgate_core::store` traits with the *same SQL text*: the queries
//! use `$N` placeholders, integer times and TEXT-encoded lists, which both databases
//! accept, so they live once in `queries/` (compiled per backend) and the backends differ
//! only in how they connect, which pool writes go through, and how they write token
//! batches. Each table's columns are named once, in `tables/`.

mod batch;
mod postgres;
mod rekey;
mod sqlite;
mod sqlite_hot;
mod sqlite_writer;
mod tables;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use std::sync::Arc;
use tollgate_core::store::{Cause, Store, StoreError};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// Connects to the database named by `url` and brings its schema up to date (the
/// migrations are embedded in the binary).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    match Backend::of_url(url) {
        Some(Backend::Sqlite) => Ok(Arc::new(SqliteStore::open(url).await?)),
        Some(Backend::Postgres) => Ok(Arc::new(PgStore::open(url).await?)),
        None => Err(StoreError::Database(
            format!(
                "database_url must start with sqlite:// or postgres://, got {:?}",
                redact_url(url)
            )
            .into(),
        )),
    }
}

/// A URL safe to print: any password is replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// sqlx errors as the domain sees them: an outage is worth a 503 and a retry, anything
/// else is a plain database error. The sqlx error is kept as the cause.
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Cause::new(e)),
        sqlx::Error::Database(db) if is_outage(db.as_ref()) => {
            let message = db.message().to_owned();
            StoreError::Unavailable(Cause::with_message(message, e))
        }
        _ => StoreError::Database(Cause::new(e)),
    }
}

/// A database error that means "not now" rather than "not this", by its code.
fn is_outage(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLITE_BUSY (5, and its extended codes): the lock timeout ran out.
        return code.parse::<i32>().is_ok_and(|c| c & 0xff == 5);
    }
    // PostgreSQL going away mid-query: connection exceptions (class 08), admin or crash
    // shutdown, cannot connect now (57P01–57P03), too many connections (53300).
    code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
}

/// A pool's occupancy from the counters sqlx keeps (no round trip), for `/metrics`.
pub(crate) fn pool_stats<DB: sqlx::Database>(
    pool: &'static str,
    p: &sqlx::Pool<DB>,
) -> tollgate_core::store::PoolStats {
    tollgate_core::store::PoolStats {
        pool,
        size: p.size(),
        idle: u32::try_from(p.num_idle()).unwrap_or(u32::MAX),
        max: p.options().get_max_connections(),
    }
}

/// Turns a unique violation into the domain error its constraint means
/// (`tables::unique_violation`); `what` names the row for a constraint not listed there.
pub(crate) fn classify_unique(e: sqlx::Error, what: &'static str) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            // PostgreSQL names the constraint; SQLite only the columns, in its message.
            let violated = match db.constraint() {
                Some(name) => tables::Violated::Named(name),
                None => tables::Violated::SqliteMessage(db.message()),
            };
            return tables::unique_violation(violated, StoreError::Duplicate(what));
        }
    }
    classify(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted_and_backends_recognised() {
        assert_eq!(
            redact_url("postgres://u:secret@db/x"),
            "postgres://u:***@db/x"
        );
        assert_eq!(redact_url("sqlite://t.db"), "sqlite://t.db");
        assert_eq!(Backend::of_url("sqlite://t.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgresql://h/d"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("mysql://h/d"), None);
    }
}

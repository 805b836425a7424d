//! The SQLite token writer: group commit (`batch.rs`) on a thread of its own, with a rusqlite
//! connection and prepared statements.
//!
//! Through sqlx, each batch was a task on the runtime handing its statements to the
//! connection's worker thread and waiting for the answer, and the rows travelled as one JSON
//! array that SQLite parsed again (`json_each`): JSON alone was about half the cost of each
//! row. Here the thread that gathers a batch writes it too, a bound prepared statement per
//! row (`examples/sqlite_batch.rs` measures both; figures in docs/PERFORMANCE.md).
//!
//! SQLite has one writer at a time. The process's other writes go through the sqlx writer
//! connection, so while a batch is written the batcher holds that connection (its lease,
//! `batch::Lease`): no write of this process can start meanwhile, the two connections never
//! wait on SQLite's lock for each other, and other writes still get their turn when the lease
//! is up. Another process on the same file (the CLI) is covered by the busy timeout.

use crate::batch::{ClaimKind, Lease, TokenBatcher, Write};
use crate::tables::{self, ms, Violated};
use rusqlite::{params, Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;
use tollgate_core::store::{Cause, StoreError};

/// `tables::TOKEN_INSERT` as one row's INSERT (`?N`: see below).
static INSERT_TOKEN: LazyLock<String> = LazyLock::new(|| {
    tables::insert_sql("tokens", tables::TOKEN_INSERT, |n| {
        let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
        format!("VALUES ({})", marks.join(", "))
    })
});
/// Single-use claims, one row each: of two writes claiming the same row, in one batch or
/// in two, only the first one's UPDATE still matches it. (`?N`, not `$N`: in SQLite `$2`
/// is a name, numbered by where it first appears.)
const CLAIM_CODE: &str =
    "UPDATE auth_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL";
const CLAIM_REFRESH: &str = "UPDATE tokens SET consumed_at = ?2 WHERE id = ?1 \
     AND kind = 'refresh' AND consumed_at IS NULL AND revoked_at IS NULL";

/// The UPDATE that claims a row of `kind` (`?1` key, `?2` now).
fn claim_sql(kind: ClaimKind) -> &'static str {
    match kind {
        ClaimKind::Code => CLAIM_CODE,
        ClaimKind::Refresh => CLAIM_REFRESH,
    }
}

/// Where the writer's connection goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    File,
    /// A shared-cache in-memory database (sqlx opens `sqlite::memory:` as one, named
    /// `file:sqlx-in-memory-N`): the writer joins it by that name, so in-memory stores go
    /// through this same thread.
    SharedMemory,
}

/// Starts the writer thread for the database at `path` (already migrated).
pub(crate) fn token_batcher(
    path: &Path,
    target: Target,
    lease: Lease<sqlx::Sqlite>,
) -> Result<TokenBatcher, StoreError> {
    let runtime = tokio::runtime::Handle::current();
    let mut writer = Writer {
        path: path.to_owned(),
        target,
        conn: Some(open(path, target)?),
    };
    TokenBatcher::spawn_thread("tollgate-token-writer", move |batch| {
        let mut held = runtime.block_on(lease.get()).map_err(crate::classify)?;
        held.conn()?;
        writer.write(batch)
    })
}

struct Writer {
    path: PathBuf,
    target: Target,
    /// `None` after a failure left the connection unusable; the next batch reopens it.
    conn: Option<Connection>,
}

impl Writer {
    fn write(&mut self, batch: &[Write]) -> Result<Vec<bool>, StoreError> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => open(&self.path, self.target)?,
        };
        let result = write_batch(&conn, batch);
        // After an error, end the transaction so the next batch starts clean; a connection
        // that cannot even roll back is dropped.
        if result.is_err() && !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return result;
        }
        self.conn = Some(conn);
        result
    }
}

fn open(path: &Path, target: Target) -> Result<Connection, StoreError> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if target == Target::SharedMemory {
        flags |= OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_MEMORY
            | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| classify(e, "token"))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| classify(e, "token"))?;
    // As the sqlx connections (`sqlite.rs`): FULL, so that an acknowledged token survives
    // power loss; statement journals in memory.
    conn.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY",
    )
    .map_err(|e| classify(e, "token"))?;
    Ok(conn)
}

/// One transaction: each write's claim, then its tokens if the claim won.
fn write_batch(conn: &Connection, batch: &[Write]) -> Result<Vec<bool>, StoreError> {
    let err = |e| classify(e, "token");
    conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
    let mut insert = conn.prepare_cached(&INSERT_TOKEN).map_err(err)?;
    let mut won = Vec::with_capacity(batch.len());
    for w in batch {
        let took = match &w.claim {
            None => true,
            Some(c) => {
                let mut claim = conn.prepare_cached(claim_sql(c.kind)).map_err(err)?;
                claim.execute(params![c.key, ms(c.now)]).map_err(err)? == 1
            }
        };
        if took {
            for t in &w.tokens {
                for (i, col) in tables::TOKEN_INSERT.iter().enumerate() {
                    insert
                        .raw_bind_parameter(i + 1, col.value(t))
                        .map_err(err)?;
                }
                insert.raw_execute().map_err(err)?;
            }
        }
        won.push(took);
    }
    drop(insert);
    conn.execute_batch("COMMIT").map_err(err)?;
    Ok(won)
}

/// rusqlite errors as the domain sees them, like `crate::classify_unique` does for sqlx:
/// a unique violation by the constraint's columns (`tables::unique_violation`).
fn classify(e: rusqlite::Error, what: &'static str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, message)
            if matches!(
                f.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            let message = message.as_deref().unwrap_or_default();
            tables::unique_violation(
                Violated::SqliteMessage(message),
                StoreError::Duplicate(what),
            )
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            StoreError::Unavailable(Cause::new(e))
        }
        _ => StoreError::Database(Cause::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_violations_and_lock_timeouts_are_told_apart() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT UNIQUE); INSERT INTO t VALUES ('a')")
            .unwrap();
        let dup = conn.execute("INSERT INTO t VALUES ('a')", []).unwrap_err();
        assert!(matches!(
            classify(dup, "token"),
            StoreError::Duplicate("token")
        ));
        // A constraint the table knows is named by its columns, whatever `what` says.
        conn.execute_batch(
            "CREATE TABLE clients (name_key TEXT, version TEXT, UNIQUE (name_key, version)); \
             INSERT INTO clients VALUES ('a', '1')",
        )
        .unwrap();
        let dup = conn
            .execute("INSERT INTO clients VALUES ('a', '1')", [])
            .unwrap_err();
        assert!(matches!(
            classify(dup, "token"),
            StoreError::DuplicateNameVersion
        ));
        let other = conn.execute("INSERT INTO nope VALUES (1)", []).unwrap_err();
        assert!(matches!(classify(other, "token"), StoreError::Database(_)));
    }
}

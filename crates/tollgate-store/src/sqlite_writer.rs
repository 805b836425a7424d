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
use crate::rows::ms;
use rusqlite::{params, Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tollgate_core::store::StoreError;

pub(crate) const INSERT_TOKEN: &str =
    "INSERT INTO tokens (id, token_hash, kind, client_id, user_id, \
     username, scopes, grant_type, family_id, refreshes_left, client_epoch, user_epoch, \
     issued_at, expires_at, revoked_at, consumed_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
/// Single-use claims, one row each: of two writes claiming the same row, in one batch or
/// in two, only the first one's UPDATE still matches it. (`?N`, not `$N`: in SQLite `$2`
/// is a name, numbered by where it first appears.)
const CLAIM_CODE: &str =
    "UPDATE auth_codes SET used_at = ?2 WHERE code_hash = ?1 AND used_at IS NULL";
const CLAIM_REFRESH: &str = "UPDATE tokens SET consumed_at = ?2 WHERE id = ?1 \
     AND kind = 'refresh' AND consumed_at IS NULL AND revoked_at IS NULL";

/// The UPDATE that claims a row of `kind` (`?1` key, `?2` now).
pub(crate) fn claim_sql(kind: ClaimKind) -> &'static str {
    match kind {
        ClaimKind::Code => CLAIM_CODE,
        ClaimKind::Refresh => CLAIM_REFRESH,
    }
}

/// Starts the writer thread for the database file at `path` (already migrated).
pub(crate) fn token_batcher(
    path: &Path,
    lease: Lease<sqlx::Sqlite>,
) -> Result<TokenBatcher, StoreError> {
    let runtime = tokio::runtime::Handle::current();
    let mut writer = Writer {
        path: path.to_owned(),
        conn: Some(open(path)?),
    };
    TokenBatcher::spawn_thread("tollgate-token-writer", move |batch| {
        let mut held = runtime.block_on(lease.get()).map_err(crate::classify)?;
        held.conn()?;
        writer.write(batch)
    })
}

struct Writer {
    path: PathBuf,
    /// `None` after a failure left the connection unusable; the next batch reopens it.
    conn: Option<Connection>,
}

impl Writer {
    fn write(&mut self, batch: &[Write]) -> Result<Vec<bool>, StoreError> {
        let conn = match self.conn.take() {
            Some(c) => c,
            None => open(&self.path)?,
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

fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| classify(e, "token"))?;
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
    let mut insert = conn.prepare_cached(INSERT_TOKEN).map_err(err)?;
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
                insert
                    .execute(params![
                        t.id,
                        t.token_hash,
                        t.kind.as_str(),
                        t.client_id,
                        t.user_id,
                        t.username,
                        tollgate_core::token::join_scopes(&t.scopes),
                        t.grant_type.as_str(),
                        t.family_id,
                        t.refreshes_left,
                        t.client_epoch,
                        t.user_epoch,
                        ms(t.issued_at),
                        t.expires_at.map(ms),
                        t.revoked_at.map(ms),
                        t.consumed_at.map(ms),
                    ])
                    .map_err(err)?;
            }
        }
        won.push(took);
    }
    drop(insert);
    conn.execute_batch("COMMIT").map_err(err)?;
    Ok(won)
}

/// rusqlite errors as the domain sees them, like `crate::classify_unique` does for sqlx.
fn classify(e: rusqlite::Error, what: &'static str) -> StoreError {
    match e.sqlite_error() {
        Some(f) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
            StoreError::Duplicate(what)
        }
        Some(f) if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
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
        let other = conn.execute("INSERT INTO nope VALUES (1)", []).unwrap_err();
        assert!(matches!(classify(other, "token"), StoreError::Database(_)));
    }
}

//! The SQLite reads of the token endpoint's hot paths (token, code and user by key), run on the
//! calling thread with rusqlite instead of through sqlx.
//!
//! sqlx runs every SQLite statement on a worker thread of its own and hands the answer
//! back: two thread wake-ups per read. Profiling introspection showed the tokio workers
//! spending over a third of their time in the kernel switching threads for that. A read by
//! primary key in WAL mode takes a few microseconds and never waits for the writer, so it
//! is cheaper to run it in place, like any other short computation of a request. The
//! connections are read-only, from a small r2d2 pool (one per thread that reads at once).

use crate::rows::{AuthCodeRow, TokenRow, UserRow};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::Duration;
use tollgate_core::store::StoreError;

/// Threads that may read at once: the runtime's workers and a few blocking threads.
const MAX_CONNECTIONS: u32 = 8;

#[derive(Clone)]
pub(crate) struct HotReader {
    pool: r2d2::Pool<SqliteConnectionManager>,
}

fn db_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

impl HotReader {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let manager = SqliteConnectionManager::file(path)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(|c| c.busy_timeout(Duration::from_secs(5)));
        let pool = r2d2::Pool::builder()
            .max_size(MAX_CONNECTIONS)
            .min_idle(Some(0))
            // A local file does not go stale; checking would be one more statement per read.
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(10))
            .build(manager)
            .map_err(db_error)?;
        Ok(Self { pool })
    }

    /// The one row `sql` (with `$1` = `key`) selects, if any, mapped by `map`.
    pub fn row<T>(&self, sql: &str, key: &str, map: RowFn<T>) -> Result<Option<T>, StoreError> {
        let conn = self.pool.get().map_err(db_error)?;
        let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
        stmt.query_row([key], map).optional().map_err(db_error)
    }
}

pub(crate) type RowFn<T> = fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>;

/// Column `i` of `r`. By position: looking columns up by name was 7 % of an introspection
/// (a linear search with `strlen` per column). Test builds check that the SELECT still has
/// `name` there.
fn col<T: rusqlite::types::FromSql>(
    r: &rusqlite::Row<'_>,
    i: usize,
    name: &str,
) -> rusqlite::Result<T> {
    debug_assert_eq!(r.as_ref().column_name(i).ok(), Some(name), "column {i}");
    r.get(i)
}

/// A `TOKEN_SELECT` row.
pub(crate) fn token_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        seq: col(r, 0, "seq")?,
        id: col(r, 1, "id")?,
        token_hash: col(r, 2, "token_hash")?,
        kind: col(r, 3, "kind")?,
        client_id: col(r, 4, "client_id")?,
        user_id: col(r, 5, "user_id")?,
        username: col(r, 6, "username")?,
        scopes: col(r, 7, "scopes")?,
        grant_type: col(r, 8, "grant_type")?,
        family_id: col(r, 9, "family_id")?,
        refreshes_left: col(r, 10, "refreshes_left")?,
        client_epoch: col(r, 11, "client_epoch")?,
        user_epoch: col(r, 12, "user_epoch")?,
        issued_at: col(r, 13, "issued_at")?,
        expires_at: col(r, 14, "expires_at")?,
        revoked_at: col(r, 15, "revoked_at")?,
        consumed_at: col(r, 16, "consumed_at")?,
        client_name: col(r, 17, "client_name")?,
        client_version: col(r, 18, "client_version")?,
        client_active: col(r, 19, "client_active")?,
        client_current_epoch: col(r, 20, "client_current_epoch")?,
        user_active: col(r, 21, "user_active")?,
        user_current_epoch: col(r, 22, "user_current_epoch")?,
    })
}

/// An `auth_codes` row, all columns.
pub(crate) fn code_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuthCodeRow> {
    Ok(AuthCodeRow {
        code_hash: col(r, 0, "code_hash")?,
        client_id: col(r, 1, "client_id")?,
        user_id: col(r, 2, "user_id")?,
        redirect_uri: col(r, 3, "redirect_uri")?,
        redirect_uri_given: col(r, 4, "redirect_uri_given")?,
        scopes: col(r, 5, "scopes")?,
        code_challenge: col(r, 6, "code_challenge")?,
        family_id: col(r, 7, "family_id")?,
        client_epoch: col(r, 8, "client_epoch")?,
        user_epoch: col(r, 9, "user_epoch")?,
        issued_at: col(r, 10, "issued_at")?,
        expires_at: col(r, 11, "expires_at")?,
        used_at: col(r, 12, "used_at")?,
    })
}

/// A `USER_COLUMNS` row.
pub(crate) fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: col(r, 0, "id")?,
        username: col(r, 1, "username")?,
        display_name: col(r, 2, "display_name")?,
        active: col(r, 3, "active")?,
        admin: col(r, 4, "admin")?,
        password_hash: col(r, 5, "password_hash")?,
        token_epoch: col(r, 6, "token_epoch")?,
        created_at: col(r, 7, "created_at")?,
        updated_at: col(r, 8, "updated_at")?,
    })
}

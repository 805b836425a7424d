//! The store traits implemented once, as SQL both backends accept (`$N` placeholders,
//! integer times, TEXT-encoded lists), compiled for each backend: `sqlite.rs` and
//! `postgres.rs` each include this module (`#[path]`) after naming `This` (the store type),
//! `Db` (its sqlx database) and `BACKEND`. A backend provides `writer` (the pool all writes
//! go through), `reader` (the pool reads use), `batcher` (the group-commit token writer)
//! and `hot_row` (its synchronous point reads, if any). One module per store trait.

mod admin_keys;
mod audit;
mod clients;
mod codes;
mod meta;
mod sessions;
mod tokens;
mod users;

use super::{Db, This, BACKEND};
use crate::tables::HotReads as _;
use crate::tables::{
    self, like_pattern, ms, AdminKeyRow, AuditRow, AuthCodeRow, ClientRow, SessionRow, TokenRow,
    UserRow,
};
use crate::{classify, classify_unique};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tollgate_core::audit::{AuditEntry, AuditEvent, AuditFilter};
use tollgate_core::client::{name_key, Client};
use tollgate_core::store::*;
use tollgate_core::token::{AuthCode, SessionState, TokenRecord, TokenState};
use tollgate_core::user::{username_key, User};
use tollgate_core::{AdminKeyId, ClientId, FamilyId, ScopeSet, TokenId, UserId};

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;
type QueryAs<'q, R> = sqlx::query::QueryAs<'q, Db, R, <Db as sqlx::Database>::Arguments<'q>>;

/// `q` with `record`'s values of `cols` bound, in order.
fn bind_cols<'q, 'c, T: 'c>(
    mut q: Query<'q>,
    cols: impl IntoIterator<Item = &'c tables::Col<T>>,
    record: &T,
) -> Query<'q> {
    for col in cols {
        q = match col.value(record) {
            tables::Value::Text(v) => q.bind(v.map(std::borrow::Cow::into_owned)),
            tables::Value::Int(v) => q.bind(v),
            tables::Value::Bool(v) => q.bind(v),
        };
    }
    q
}

/// The update of `cols` for `record`, its condition's parameters bound after them.
fn update_of<'q, T>(sql: &'q str, cols: &[tables::Col<T>], record: &T) -> Query<'q> {
    bind_cols(sqlx::query(sql), cols.iter().filter(|c| c.updated), record)
}

/// Inserts `record` into `table` with the audit entry, in one transaction.
async fn insert_with_audit<T>(
    store: &This,
    table: &str,
    cols: &[tables::Col<T>],
    record: &T,
    audit: &AuditEvent,
    what: &'static str,
) -> Result<(), StoreError> {
    let sql = tables::insert_row_sql(table, cols);
    let mut tx = store.writer.begin().await.map_err(classify)?;
    bind_cols(sqlx::query(&sql), cols, record)
        .execute(&mut *tx)
        .await
        .map_err(|e| classify_unique(e, what))?;
    insert_audit(&mut tx, audit).await?;
    tx.commit().await.map_err(classify)
}

/// Every row `q` selects from the reader pool, each mapped by `into`.
async fn all<'q, R, T>(
    q: QueryAs<'q, R>,
    store: &This,
    into: fn(R) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    q.fetch_all(&store.reader)
        .await
        .map_err(classify)?
        .into_iter()
        .map(into)
        .collect()
}

/// The row `q` selects from the reader pool, if any, mapped by `into`.
async fn optional<'q, R, T>(
    q: QueryAs<'q, R>,
    store: &This,
    into: fn(R) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    q.fetch_optional(&store.reader)
        .await
        .map_err(classify)?
        .map(into)
        .transpose()
}

/// Runs `q` on the writer pool; how many rows it changed.
async fn write(q: Query<'_>, store: &This) -> Result<u64, StoreError> {
    Ok(q.execute(&store.writer)
        .await
        .map_err(classify)?
        .rows_affected())
}

/// Deletes up to `batch` rows of `table` (keyed by `key`) whose `column` is before
/// `cutoff`; how many. A subquery, as neither database takes `DELETE … LIMIT` as such.
async fn purge(
    store: &This,
    table: &str,
    key: &str,
    column: &str,
    cutoff: DateTime<Utc>,
    batch: u64,
) -> Result<u64, StoreError> {
    let sql = format!(
        "DELETE FROM {table} WHERE {key} IN \
         (SELECT {key} FROM {table} WHERE {column} < $1 LIMIT $2)"
    );
    let limit = i64::try_from(batch).unwrap_or(i64::MAX);
    write(sqlx::query(&sql).bind(ms(cutoff)).bind(limit), store).await
}

/// Queues a single-use claim with the tokens it mints on the group-commit writer
/// (`batch.rs`): the claim's conditional UPDATE runs in the batch's transaction, so of
/// concurrent claims of one row exactly one matches it. `false` when it had been claimed.
async fn claim(
    store: &This,
    kind: crate::batch::ClaimKind,
    key: &str,
    now: DateTime<Utc>,
    tokens: &[TokenRecord],
) -> Result<bool, StoreError> {
    let claim = crate::batch::Claim {
        kind,
        key: key.to_owned(),
        now,
    };
    store
        .batcher
        .write(crate::batch::Write {
            claim: Some(claim),
            tokens: tokens.to_vec(),
        })
        .await
}

/// The one row `sql` (`$1` = `key`) selects, mapped by `into`: on the backend's
/// synchronous hot path if it has one (`tables::HotReads`), else through the reader pool.
async fn read_one<R, T>(
    store: &This,
    sql: &str,
    key: &str,
    into: fn(R) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError>
where
    R: tables::Row + for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
{
    match store.hot_row::<R>(sql, key) {
        Some(row) => row?.map(into).transpose(),
        None => optional(sqlx::query_as::<_, R>(sql).bind(key), store, into).await,
    }
}

async fn insert_audit(
    conn: &mut <Db as sqlx::Database>::Connection,
    a: &AuditEvent,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target_type, target_id, source_ip, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(ms(a.at))
    .bind(&a.actor)
    .bind(&a.action)
    .bind(&a.target_type)
    .bind(&a.target_id)
    .bind(&a.source_ip)
    .bind(tables::details_json(&a.details)?)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Runs a statement that should change exactly one row and, if it did, writes
/// the audit entry in the same transaction. `false` when no row matched.
async fn one_row_with_audit(
    pool: &sqlx::Pool<Db>,
    q: Query<'_>,
    audit: Option<&AuditEvent>,
    on_error: fn(sqlx::Error) -> StoreError,
) -> Result<bool, StoreError> {
    let tx = pool.begin().await.map_err(classify)?;
    one_row_in(tx, q, audit, on_error).await
}

/// `one_row_with_audit` inside a transaction already begun.
async fn one_row_in(
    mut tx: sqlx::Transaction<'_, Db>,
    q: Query<'_>,
    audit: Option<&AuditEvent>,
    on_error: fn(sqlx::Error) -> StoreError,
) -> Result<bool, StoreError> {
    if q.execute(&mut *tx).await.map_err(on_error)?.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(a) = audit {
        insert_audit(&mut tx, a).await?;
    }
    tx.commit().await.map_err(classify)?;
    Ok(true)
}

/// A user write that, with `keep_an_admin`, must leave another active
/// administrator: serialised against the others (`serialise_admin_changes`), then
/// one conditional statement.
async fn user_write(
    pool: &sqlx::Pool<Db>,
    q: Query<'_>,
    audit: &AuditEvent,
    keep_an_admin: bool,
) -> Result<bool, StoreError> {
    let mut tx = pool.begin().await.map_err(classify)?;
    if keep_an_admin {
        serialise_admin_changes(&mut tx).await?;
    }
    one_row_in(tx, q, Some(audit), classify).await
}

/// Changes that could remove the last active administrator run one at a time:
/// under PostgreSQL's READ COMMITTED two of them would each still see the
/// other admin and both succeed. A transaction-scoped advisory lock orders
/// them, and each statement's snapshot starts after the previous one
/// committed. SQLite needs nothing: it has one writer connection.
async fn serialise_admin_changes(tx: &mut sqlx::Transaction<'_, Db>) -> Result<(), StoreError> {
    if BACKEND == "postgres" {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(tables::ADMIN_CHANGES_LOCK)
            .execute(&mut **tx)
            .await
            .map_err(classify)?;
    }
    Ok(())
}

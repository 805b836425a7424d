//! Group commit for the token endpoint's writes: concurrent requests' writes — plain token
//! inserts, and single-use claims (an authorization code redeemed, a refresh token consumed)
//! together with the tokens they mint — are written in one transaction, and each request is
//! answered only after that transaction committed. One fsync then covers many requests
//! instead of one, which is what bounds the token endpoint's rate on a durable database
//! (every acknowledged token survives a crash).

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tollgate_core::store::{Cause, StoreError};
use tollgate_core::token::TokenRecord;

/// Writes per transaction at most; keeps each commit short.
const MAX_BATCH: usize = 512;
/// Requests waiting for the writer at most; beyond that callers wait to enqueue.
const QUEUE: usize = 4096;

/// Which single-use row a write claims before its tokens may be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimKind {
    /// `auth_codes.used_at`, by `code_hash`.
    Code,
    /// `tokens.consumed_at` of a live refresh token, by `id`.
    Refresh,
}

#[derive(Debug, Clone)]
pub(crate) struct Claim {
    pub kind: ClaimKind,
    pub key: String,
    pub now: DateTime<Utc>,
}

/// One request's write: its tokens are stored only if its claim (if any) wins.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub claim: Option<Claim>,
    pub tokens: Vec<TokenRecord>,
}

/// Stores a batch in one transaction; returns, per write, whether it took effect (`false`:
/// its claim had been taken already, by an earlier write or by another instance). The
/// backend must give a row claimed twice in one batch to the first write only.
pub(crate) type WriteFn = Box<
    dyn Fn(Arc<[Write]>) -> Pin<Box<dyn Future<Output = Result<Vec<bool>, StoreError>> + Send>>
        + Send
        + Sync,
>;

struct Job {
    write: Write,
    done: oneshot::Sender<Result<bool, StoreError>>,
}

#[derive(Clone)]
pub(crate) struct TokenBatcher {
    tx: mpsc::Sender<Job>,
}

impl TokenBatcher {
    /// Starts the writer task.
    pub fn spawn(write: WriteFn) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(rx, write));
        Self { tx }
    }

    /// Queues `write` and waits until its batch committed; `false` when its claim lost.
    pub async fn write(&self, write: Write) -> Result<bool, StoreError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { write, done })
            .await
            .map_err(|_| StoreError::Unavailable("token writer stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Unavailable("token writer stopped".into()))?
    }

    /// Runs the batches on a thread of their own with a blocking `write`, instead of a task
    /// that awaits each batch. The first queued request wakes the thread; under load it
    /// never sleeps, and a batch costs no hand-off between threads apart from the answers.
    pub fn spawn_thread<F>(name: &str, write: F) -> Result<Self, StoreError>
    where
        F: FnMut(&[Write]) -> Result<Vec<bool>, StoreError> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || run_blocking(rx, write))
            .map_err(|e| {
                StoreError::Database(Cause::with_message(
                    format!("cannot start the token writer: {e}"),
                    e,
                ))
            })?;
        Ok(Self { tx })
    }
}

type Done = oneshot::Sender<Result<bool, StoreError>>;

/// `first` and whatever queued up behind it (while the previous batch was committing), up
/// to `MAX_BATCH` writes.
fn gather(first: Job, rx: &mut mpsc::Receiver<Job>) -> (Vec<Done>, Vec<Write>) {
    let mut dones = vec![first.done];
    let mut writes = vec![first.write];
    while writes.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(j) => {
                dones.push(j.done);
                writes.push(j.write);
            }
            Err(_) => break,
        }
    }
    (dones, writes)
}

/// Answers the callers of a batch with its outcome. Returns the callers whose writes must
/// be tried again one by one: one bad write (a duplicate, say) must not fail the others.
fn answer(
    outcome: Result<Vec<bool>, StoreError>,
    dones: Vec<Done>,
    rx: &mut mpsc::Receiver<Job>,
) -> Option<Vec<Done>> {
    match outcome {
        Ok(results) if results.len() == dones.len() => {
            for (done, r) in dones.into_iter().zip(results) {
                let _ = done.send(Ok(r));
            }
        }
        // The database is unreachable: alone, each write would fail the same way, one
        // connect timeout after another. Answer them all now, and the writes that
        // queued meanwhile too, rather than have each wait out the timeout again.
        Err(e @ StoreError::Unavailable(_)) => {
            for done in dones {
                let _ = done.send(Err(e.clone()));
            }
            while let Ok(j) = rx.try_recv() {
                let _ = j.done.send(Err(e.clone()));
            }
        }
        _ if dones.len() > 1 => return Some(dones),
        Ok(_) => {
            for done in dones {
                let _ = done.send(Err(no_result()));
            }
        }
        Err(e) => {
            for done in dones {
                let _ = done.send(Err(e.clone()));
            }
        }
    }
    None
}

fn no_result() -> StoreError {
    StoreError::Database("token writer returned no result".into())
}

/// The outcome of a batch of one.
fn alone(outcome: Result<Vec<bool>, StoreError>) -> Result<bool, StoreError> {
    outcome.and_then(|r| r.first().copied().ok_or_else(no_result))
}

fn trace_batch(size: usize, started: std::time::Instant) {
    tracing::trace!(
        size,
        micros = started.elapsed().as_micros() as u64,
        "token batch written"
    );
}

async fn run(mut rx: mpsc::Receiver<Job>, write: WriteFn) {
    while let Some(first) = rx.recv().await {
        let (dones, writes) = gather(first, &mut rx);
        let batch: Arc<[Write]> = writes.into();
        let started = std::time::Instant::now();
        let outcome = write(batch.clone()).await;
        trace_batch(batch.len(), started);
        if let Some(dones) = answer(outcome, dones, &mut rx) {
            for (done, w) in dones.into_iter().zip(batch.iter()) {
                let _ = done.send(alone(write(Arc::from([w.clone()])).await));
            }
        }
    }
}

fn run_blocking<F>(mut rx: mpsc::Receiver<Job>, mut write: F)
where
    F: FnMut(&[Write]) -> Result<Vec<bool>, StoreError>,
{
    while let Some(first) = rx.blocking_recv() {
        let (dones, batch) = gather(first, &mut rx);
        let started = std::time::Instant::now();
        let outcome = write(&batch);
        trace_batch(batch.len(), started);
        if let Some(dones) = answer(outcome, dones, &mut rx) {
            for (done, w) in dones.into_iter().zip(batch) {
                let _ = done.send(alone(write(std::slice::from_ref(&w))));
            }
        }
    }
}

/// How long the batcher keeps a pool connection between batches (see `Lease`).
const LEASE: std::time::Duration = std::time::Duration::from_millis(5);

/// A pool connection the token batcher keeps between batches, for up to `LEASE` at a time.
/// Taking a connection from sqlx's pool per batch cost about a quarter of each batch:
/// sqlx returns a connection through a spawned task, which waits its turn behind the
/// request tasks (and its ping before each acquire was one more round trip). After the
/// lease the connection goes back, and the pool's queue is fair, so other work waiting for
/// a connection (on SQLite: every other write, as there is one writer connection) waits
/// about one lease.
pub(crate) struct Lease<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    held: Arc<tokio::sync::Mutex<Held<DB>>>,
}

type Held<DB> = Option<(sqlx::pool::PoolConnection<DB>, std::time::Instant)>;

impl<DB: sqlx::Database> Clone for Lease<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            held: self.held.clone(),
        }
    }
}

impl<DB: sqlx::Database> Lease<DB> {
    pub fn new(pool: sqlx::Pool<DB>) -> Self {
        Self {
            pool,
            held: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// The leased connection, taken from the pool if the lease was not held or is up.
    /// `LeaseGuard::discard` ends the lease early (after an error).
    pub async fn get(&self) -> Result<LeaseGuard<DB>, sqlx::Error> {
        let mut held = self.held.clone().lock_owned().await;
        end_if_up(&mut held);
        if held.is_none() {
            let conn = self.pool.acquire().await?;
            *held = Some((conn, std::time::Instant::now()));
            // Give it back when the lease is up even if no further batch comes.
            let lease = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(LEASE).await;
                end_if_up(&mut *lease.held.lock().await);
            });
        }
        Ok(LeaseGuard(held))
    }
}

/// Gives the connection back to the pool if it has been held for `LEASE`.
fn end_if_up<DB: sqlx::Database>(held: &mut Held<DB>) {
    if held
        .as_ref()
        .is_some_and(|(_, since)| since.elapsed() >= LEASE)
    {
        *held = None;
    }
}

pub(crate) struct LeaseGuard<DB: sqlx::Database>(tokio::sync::OwnedMutexGuard<Held<DB>>);

impl<DB: sqlx::Database> LeaseGuard<DB> {
    pub fn conn(&mut self) -> Result<&mut sqlx::pool::PoolConnection<DB>, StoreError> {
        self.0
            .as_mut()
            .map(|(conn, _)| conn)
            .ok_or_else(|| StoreError::Database("the batcher's connection lease was lost".into()))
    }

    /// Gives the connection back now (closing it if `close`).
    pub fn discard(&mut self, close: bool) {
        if let Some((mut conn, _)) = self.0.take() {
            if close {
                conn.close_on_drop();
            }
        }
    }
}

/// Per write, whether it won, given the keys each claim kind's UPDATE returned: the first
/// write naming a returned key takes it, later ones in the batch lose.
pub(crate) fn settle(batch: &[Write], mut won_keys: Vec<(ClaimKind, String)>) -> Vec<bool> {
    batch
        .iter()
        .map(|w| match &w.claim {
            None => true,
            Some(c) => match won_keys
                .iter()
                .position(|(k, key)| *k == c.kind && *key == c.key)
            {
                Some(i) => {
                    won_keys.swap_remove(i);
                    true
                }
                None => false,
            },
        })
        .collect()
}

/// The tokens of the writes that took effect.
pub(crate) fn winning_tokens<'a>(
    batch: &'a [Write],
    won: &'a [bool],
) -> impl Iterator<Item = &'a TokenRecord> {
    batch
        .iter()
        .zip(won)
        .filter(|(_, won)| **won)
        .flat_map(|(w, _)| w.tokens.iter())
}

/// The claims of one kind in a batch, as `(key, now)` pairs.
pub(crate) fn claims_of(batch: &[Write], kind: ClaimKind) -> Vec<(&str, DateTime<Utc>)> {
    batch
        .iter()
        .filter_map(|w| w.claim.as_ref())
        .filter(|c| c.kind == kind)
        .map(|c| (c.key.as_str(), c.now))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(kind: ClaimKind, key: &str) -> Write {
        Write {
            claim: Some(Claim {
                kind,
                key: key.into(),
                now: Utc::now(),
            }),
            tokens: Vec::new(),
        }
    }

    #[test]
    fn a_key_claimed_twice_in_one_batch_goes_to_the_first_write_only() {
        let batch = vec![
            claim(ClaimKind::Code, "a"),
            Write {
                claim: None,
                tokens: Vec::new(),
            },
            claim(ClaimKind::Code, "a"),
            claim(ClaimKind::Refresh, "a"),
            claim(ClaimKind::Code, "b"),
        ];
        let won = settle(
            &batch,
            vec![
                (ClaimKind::Code, "a".into()),
                (ClaimKind::Refresh, "a".into()),
            ],
        );
        assert_eq!(won, vec![true, true, false, true, false]);
    }
}

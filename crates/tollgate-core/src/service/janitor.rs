//! Purges expired, revoked and consumed tokens, old codes and sessions once they are older
//! than the retention period (SPEC §2), in small batches so no request waits behind a long
//! transaction.

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::{Store, StoreError};
use chrono::Duration;
use std::sync::Arc;

/// Rows per transaction to start with (and at most); the janitor adapts it so each batch
/// takes about `BATCH_TARGET`.
pub const JANITOR_BATCH: u32 = 200;
const MIN_BATCH: u32 = 10;
/// How long one batch may hold the database's single writer (SQLite): a token request
/// queued behind it waits at most about this long.
const BATCH_TARGET: std::time::Duration = std::time::Duration::from_millis(5);

/// The next batch size after a full batch of `size` rows took `took`: halve while batches
/// take over twice the target, grow by half while they take under half of it.
fn next_batch(size: u32, took: std::time::Duration) -> u32 {
    if took > BATCH_TARGET * 2 {
        (size / 2).max(MIN_BATCH)
    } else if took < BATCH_TARGET / 2 {
        (size + size / 2).min(JANITOR_BATCH)
    } else {
        size
    }
}

/// After a full batch the janitor rests as long as the batch took, so it holds the
/// database's single writer at most half the time while a backlog (a million expired
/// tokens, say) drains, and requests under load keep their latency.
async fn pace(took: std::time::Duration) {
    tokio::time::sleep(took.clamp(
        std::time::Duration::from_millis(1),
        std::time::Duration::from_millis(200),
    ))
    .await;
}

#[derive(Clone)]
pub struct Janitor {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    retention: Duration,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub tokens: u64,
    pub codes: u64,
    pub sessions: u64,
}

impl Janitor {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, retention_secs: u64) -> Self {
        Self {
            store,
            clock,
            retention: Duration::seconds(i64::try_from(retention_secs).unwrap_or(i64::MAX / 1000)),
        }
    }

    /// One pass: batch after batch until nothing old is left, resting between batches.
    pub async fn run_once(&self) -> Result<Purged, ServiceError> {
        let now = self.clock.now();
        let cutoff = now - self.retention;
        let store = &*self.store;
        // One batch size for the whole pass: what the last kind learnt about the database's
        // speed holds for the next.
        let mut size = JANITOR_BATCH;
        // Tokens killed by an epoch change get their revocation time recorded first, so
        // they too are purged once the retention period has passed.
        drain(&mut size, "epoch_revoked", |n| {
            store.mark_epoch_revoked(now, n)
        })
        .await?;
        Ok(Purged {
            tokens: drain(&mut size, "tokens", |n| store.purge_tokens(cutoff, n)).await?,
            codes: drain(&mut size, "codes", |n| store.purge_codes(cutoff, n)).await?,
            sessions: drain(&mut size, "sessions", |n| store.purge_sessions(cutoff, n)).await?,
        })
    }
}

/// Runs `batch` with the adapting `size` until a batch comes back short (nothing of that
/// kind is left), resting after each full one; returns how many rows the batches touched.
async fn drain<F, Fut>(size: &mut u32, kind: &'static str, mut batch: F) -> Result<u64, StoreError>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let started = std::time::Instant::now();
        let n = batch(*size).await?;
        total += n;
        let took = started.elapsed();
        tracing::trace!(
            kind,
            size = *size,
            purged = n,
            micros = took.as_micros() as u64,
            "janitor batch"
        );
        if n < u64::from(*size) {
            return Ok(total);
        }
        pace(took).await;
        *size = next_batch(*size, took);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn batch_size_follows_how_long_batches_take() {
        // Slow batches halve it, down to the floor.
        assert_eq!(next_batch(200, Duration::from_millis(40)), 100);
        assert_eq!(next_batch(12, Duration::from_millis(40)), MIN_BATCH);
        // On target it stays; fast batches grow it, up to the ceiling.
        assert_eq!(next_batch(100, Duration::from_millis(5)), 100);
        assert_eq!(next_batch(100, Duration::from_millis(1)), 150);
        assert_eq!(next_batch(180, Duration::from_millis(1)), JANITOR_BATCH);
    }
}

//! Purges expired, revoked and consumed tokens, old codes and sessions once they are older
//! than the retention period (SPEC §2), in small batches so no request waits behind a long
//! transaction.

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::Store;
use chrono::Duration;
use std::sync::Arc;

/// Rows per transaction: small, so a token request queued behind one waits a few ms.
pub const JANITOR_BATCH: u32 = 200;

/// After a full batch the janitor rests as long as the batch took, so it holds the
/// database's single writer (SQLite) at most half the time while a backlog (a million
/// expired tokens, say) drains, and requests under load keep their latency.
async fn pace(started: std::time::Instant) {
    let took = started.elapsed();
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
        let mut p = Purged::default();
        // Tokens killed by an epoch change get their revocation time recorded first, so
        // they too are purged once the retention period has passed.
        loop {
            let started = std::time::Instant::now();
            let n = self.store.mark_epoch_revoked(now, JANITOR_BATCH).await?;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            pace(started).await;
        }
        loop {
            let started = std::time::Instant::now();
            let n = self.store.purge_tokens(cutoff, JANITOR_BATCH).await?;
            p.tokens += n;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            pace(started).await;
        }
        loop {
            let started = std::time::Instant::now();
            let n = self.store.purge_codes(cutoff, JANITOR_BATCH).await?;
            p.codes += n;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            pace(started).await;
        }
        loop {
            let started = std::time::Instant::now();
            let n = self.store.purge_sessions(cutoff, JANITOR_BATCH).await?;
            p.sessions += n;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            pace(started).await;
        }
        Ok(p)
    }
}

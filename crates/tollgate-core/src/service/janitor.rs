//! Purges expired, revoked and consumed tokens, old codes and sessions once they are older
//! than the retention period (SPEC §2), in small batches so no request waits behind a long
//! transaction.

use crate::clock::Clock;
use crate::error::ServiceError;
use crate::store::Store;
use chrono::Duration;
use std::sync::Arc;

/// Rows per transaction.
pub const JANITOR_BATCH: u32 = 500;

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

    /// One pass: batch after batch until nothing old is left, yielding between batches.
    pub async fn run_once(&self) -> Result<Purged, ServiceError> {
        let now = self.clock.now();
        let cutoff = now - self.retention;
        let mut p = Purged::default();
        // Tokens killed by an epoch change get their revocation time recorded first, so
        // they too are purged once the retention period has passed.
        loop {
            let n = self.store.mark_epoch_revoked(now, JANITOR_BATCH).await?;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        loop {
            let n = self.store.purge_tokens(cutoff, JANITOR_BATCH).await?;
            p.tokens += n;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        loop {
            let n = self.store.purge_codes(cutoff, JANITOR_BATCH).await?;
            p.codes += n;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        loop {
            let n = self.store.purge_sessions(cutoff, JANITOR_BATCH).await?;
            p.sessions += n;
            if n < u64::from(JANITOR_BATCH) {
                break;
            }
            tokio::task::yield_now().await;
        }
        Ok(p)
    }
}

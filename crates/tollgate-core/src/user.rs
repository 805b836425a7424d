//! Resource owners and console administrators. Passwords are human-chosen, so they get a
//! slow hash (Argon2id), computed off the async runtime.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: Option<String>,
    pub active: bool,
    pub admin: bool,
    /// PHC string (`$argon2id$…`).
    pub password_hash: String,
    /// Moved on deactivation and password change: tokens and sessions from an older epoch
    /// are dead (O(1), however many there are).
    pub token_epoch: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password hashing task failed: {0}")]
    Join(String),
    /// Every hashing slot is busy and the queue is full (or the wait ran out): shed the
    /// request now rather than let memory grow (SPEC §9 resource limits).
    #[error("the server is busy verifying passwords; try again in {} s", .0.secs())]
    Busy(crate::service::throttle::RetryAfter),
}

/// How many Argon2id computations may run at once, and how many requests may wait for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashingSettings {
    pub max_concurrent: u32,
    pub max_waiting: u32,
}

/// Memory one Argon2id computation takes with the parameters in use (`Argon2::default()`:
/// m = 19 MiB).
pub const ARGON2_MEMORY_BYTES: u64 = argon2::Params::DEFAULT_M_COST as u64 * 1024;

/// How long a request waits for a hashing slot before it is shed.
pub const MAX_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl Default for PasswordHashingSettings {
    /// One computation per core (it is CPU-bound, more would only queue inside the kernel),
    /// at most 8 (152 MiB); four waiting per slot, each for at most `MAX_WAIT`.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let max_concurrent = u32::try_from(cores.clamp(1, 8)).unwrap_or(1);
        Self {
            max_concurrent,
            max_waiting: 4 * max_concurrent,
        }
    }
}

/// Argon2id behind a bounded number of slots, so memory stays bounded whatever arrives:
/// at most `max_concurrent × 19 MiB` of hashing memory, and requests beyond the slots and
/// the short queue fail at once with `PasswordError::Busy`. Cheap to clone; clones share
/// the slots.
#[derive(Clone)]
pub struct PasswordHashing(Arc<Gate>);

struct Gate {
    slots: Arc<Semaphore>,
    slot_count: usize,
    waiting: AtomicU32,
    max_waiting: u32,
}

/// Leaves the queue however the wait ends (also when the request is dropped).
struct Waiting<'a>(&'a AtomicU32);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordHashing {
    pub fn new(settings: PasswordHashingSettings) -> Self {
        let slot_count = settings.max_concurrent.max(1) as usize;
        Self(Arc::new(Gate {
            slots: Arc::new(Semaphore::new(slot_count)),
            slot_count,
            waiting: AtomicU32::new(0),
            max_waiting: settings.max_waiting,
        }))
    }

    /// Argon2id with the crate's default (OWASP-recommended) parameters.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.run(move || {
            let salt_bytes = crate::secret::random_bytes::<16>()
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
            let salt = SaltString::encode_b64(&salt_bytes)
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Hash(e.to_string()))
        })
        .await
    }

    pub async fn verify(&self, password: String, phc: String) -> Result<bool, PasswordError> {
        self.run(move || verify_blocking(&password, &phc)).await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let g = &*self.0;
        let busy = || PasswordError::Busy(crate::service::throttle::RetryAfter(1));
        let slot = match g.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if g.waiting.fetch_add(1, Ordering::SeqCst) >= g.max_waiting {
                    g.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(busy());
                }
                let _queued = Waiting(&g.waiting);
                match tokio::time::timeout(MAX_WAIT, g.slots.clone().acquire_owned()).await {
                    Ok(Ok(slot)) => slot,
                    _ => return Err(busy()),
                }
            }
        };
        // The slot moves into the blocking task: if the request is dropped, the computation
        // (and its memory) still runs to the end, and the slot stays taken until then.
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            work()
        })
        .await
        .map_err(|e| PasswordError::Join(e.to_string()))?
    }

    /// Computations running now (for tests and metrics).
    pub fn in_use(&self) -> usize {
        self.0.slot_count - self.0.slots.available_permits()
    }
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(max_concurrent: u32, max_waiting: u32) -> PasswordHashing {
        PasswordHashing::new(PasswordHashingSettings {
            max_concurrent,
            max_waiting,
        })
    }

    #[tokio::test]
    async fn argon2id_round_trip() {
        let g = gate(1, 0);
        let h = g.hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(g.verify("correct horse".into(), h.clone()).await.unwrap());
        assert!(!g.verify("wrong".into(), h).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_runs_at_most_the_slots_at_once_and_sheds_the_rest() {
        // Finding 1 of issue 13: every sign-in ran its own 19 MiB Argon2id, unbounded.
        let settings = PasswordHashingSettings {
            max_concurrent: 2,
            max_waiting: 3,
        };
        let g = PasswordHashing::new(settings);
        let phc = g.hash("pw".into()).await.unwrap();
        let peak = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let (g, phc, peak) = (g.clone(), phc.clone(), peak.clone());
            tasks.push(tokio::spawn(async move {
                let watch = {
                    let (g, peak) = (g.clone(), peak.clone());
                    tokio::spawn(async move {
                        loop {
                            let n = u32::try_from(g.in_use()).unwrap();
                            peak.fetch_max(n, Ordering::SeqCst);
                            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        }
                    })
                };
                let r = g.verify("wrong".into(), phc).await;
                watch.abort();
                r
            }));
        }
        let (mut verified, mut shed) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(false) => verified += 1,
                Err(PasswordError::Busy(r)) => {
                    assert_eq!(r.secs(), 1);
                    shed += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(peak.load(Ordering::SeqCst) <= 2, "at most 2 at once");
        assert!(verified >= 2, "the slots were used: {verified}");
        assert!(shed >= 20, "the excess was shed at once: {shed}");
        assert_eq!(verified + shed, 40);
    }
}

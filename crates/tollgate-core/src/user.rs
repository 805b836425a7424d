//! Resource owners and console administrators. Passwords are human-chosen, so they get a
//! slow hash (Argon2id), computed off the async runtime.

use crate::id::UserId;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
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

/// Work for a hashing thread, given that thread's Argon2 memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

struct Gate {
    /// Work for the hashing threads; dropping the last clone ends them.
    jobs: std::sync::mpsc::Sender<Job>,
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
        // Dedicated threads, one per slot, each hashing in one block of memory it allocates
        // once and reuses, rather than tokio's blocking pool with a fresh 19 MiB allocation
        // per hash: glibc kept up to ~six freed 19 MiB blocks per thread (measured: 119 MiB
        // resident after sequential hashes on one thread), on each of up to 512 threads.
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..slot_count {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self(Arc::new(Gate {
            jobs,
            slots: Arc::new(Semaphore::new(slot_count)),
            slot_count,
            waiting: AtomicU32::new(0),
            max_waiting: settings.max_waiting,
        }))
    }

    /// Argon2id with the crate's default (OWASP-recommended) parameters, as a PHC string.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.run(move |memory| hash_with(memory, &password)).await
    }

    pub async fn verify(&self, password: String, phc: String) -> Result<bool, PasswordError> {
        self.run(move |memory| verify_with(memory, &password, &phc))
            .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, PasswordError> + Send + 'static,
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
        // The slot moves into the job: if the request is dropped, the computation (and its
        // memory) still runs to the end, and the slot stays taken until then. A slot held
        // means one of the slot threads is free.
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let result = work(memory);
            // Free before answering, so the caller's next attempt finds the slot free.
            drop(slot);
            let _ = done.send(result);
        });
        g.jobs
            .send(job)
            .map_err(|_| PasswordError::Join("the password hashing threads stopped".into()))?;
        result
            .await
            .map_err(|_| PasswordError::Join("a password hashing job was lost".into()))?
    }

    /// Computations running now (for tests and metrics).
    pub fn in_use(&self) -> usize {
        self.0.slot_count - self.0.slots.available_permits()
    }
}

fn hash_err(e: impl std::fmt::Display) -> PasswordError {
    PasswordError::Hash(e.to_string())
}

/// `memory` sized for `params`: grown once, then reused by every hash of this thread.
fn blocks_for<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let n = params.block_count();
    if memory.len() < n {
        memory.resize(n, Block::default());
    }
    &mut memory[..n]
}

/// What `Argon2::default().hash_password` computes, in the thread's memory.
fn hash_with(memory: &mut Vec<Block>, password: &str) -> Result<String, PasswordError> {
    let salt_bytes = crate::secret::random_bytes::<16>().map_err(hash_err)?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(hash_err)?;
    let argon2 = Argon2::default();
    let params = argon2.params().clone();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt_bytes,
            &mut out,
            blocks_for(memory, &params),
        )
        .map_err(hash_err)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hash_err)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hash_err)?),
    };
    Ok(phc.to_string())
}

/// What `PasswordVerifier::verify_password` checks, in the thread's memory: the parameters,
/// salt and output length come from the stored PHC string.
fn verify_with(memory: &mut Vec<Block>, password: &str, phc: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(phc).map_err(hash_err)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(hash_err)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(hash_err)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(hash_err)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(PasswordError::Hash(
            "the stored hash has no salt or output".into(),
        ));
    };
    let mut salt_buf = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_buf).map_err(hash_err)?;
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            &mut out,
            blocks_for(memory, &params),
        )
        .map_err(hash_err)?;
    Ok(expected.as_bytes().ct_eq(&out).into())
}

/// The key usernames are unique under and looked up by: case-insensitive, look-alike
/// spellings as one (`text::identity_key`).
pub fn username_key(username: &str) -> String {
    crate::text::identity_key(username)
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

    #[tokio::test]
    async fn hashes_are_those_of_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let g = gate(1, 0);
        // Ours verifies the crate's ...
        let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(g
            .verify("correct horse".into(), theirs.clone())
            .await
            .unwrap());
        assert!(!g.verify("correct horsf".into(), theirs).await.unwrap());
        // ... and the crate verifies ours.
        let ours = g.hash("battery staple".into()).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"battery staple", &parsed)
            .is_ok());
        assert_eq!(parsed.params.get_decimal("m"), Some(Params::DEFAULT_M_COST));
    }

    #[test]
    fn sequential_hashes_reuse_one_block_of_memory() {
        let mut memory = Vec::new();
        let phc = hash_with(&mut memory, "pw").unwrap();
        let first = memory.as_ptr();
        for _ in 0..3 {
            assert!(verify_with(&mut memory, "pw", &phc).unwrap());
        }
        assert_eq!(memory.as_ptr(), first, "no new allocation");
        assert_eq!(memory.len(), Params::DEFAULT_M_COST as usize);
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

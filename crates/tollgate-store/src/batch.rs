//! Group commit for token inserts: concurrent requests' tokens are written in one
//! transaction, and each request is answered only after that transaction committed. One
//! fsync then covers many tokens instead of one, which is what bounds the token endpoint's
//! rate on a durable database (every acknowledged token survives a crash).

use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};
use tollgate_core::store::StoreError;
use tollgate_core::token::TokenRecord;

/// Tokens per transaction at most; keeps each commit short.
const MAX_BATCH: usize = 512;
/// Requests waiting for the writer at most; beyond that callers wait to enqueue.
const QUEUE: usize = 4096;

type WriteFn = Box<
    dyn Fn(Vec<TokenRecord>) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>
        + Send
        + Sync,
>;

struct Job {
    tokens: Vec<TokenRecord>,
    done: oneshot::Sender<Result<(), StoreError>>,
}

#[derive(Clone)]
pub(crate) struct TokenBatcher {
    tx: mpsc::Sender<Job>,
}

impl TokenBatcher {
    /// Starts the writer task; `write` stores a batch in one transaction.
    pub fn spawn(write: WriteFn) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(rx, write));
        Self { tx }
    }

    pub async fn insert(&self, tokens: Vec<TokenRecord>) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { tokens, done })
            .await
            .map_err(|_| StoreError::Unavailable("token writer stopped".into()))?;
        wait.await
            .map_err(|_| StoreError::Unavailable("token writer stopped".into()))?
    }
}

async fn run(mut rx: mpsc::Receiver<Job>, write: WriteFn) {
    while let Some(first) = rx.recv().await {
        let mut n = first.tokens.len();
        let mut jobs = vec![first];
        // Whatever queued up while the previous batch was committing joins this one.
        while n < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => {
                    n += j.tokens.len();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        if jobs.len() == 1 {
            let j = jobs.pop().expect("one job");
            let r = write(j.tokens).await;
            let _ = j.done.send(r);
            continue;
        }
        let all: Vec<TokenRecord> = jobs.iter().flat_map(|j| j.tokens.iter().cloned()).collect();
        match write(all).await {
            Ok(()) => {
                for j in jobs {
                    let _ = j.done.send(Ok(()));
                }
            }
            // One bad job must not fail the others: retry each on its own.
            Err(_) => {
                for j in jobs {
                    let r = write(j.tokens).await;
                    let _ = j.done.send(r);
                }
            }
        }
    }
}

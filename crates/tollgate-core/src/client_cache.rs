//! An in-process cache of clients for the token endpoint's hot path (authenticating the
//! client is otherwise a database read on every request).
//!
//! Correctness does not depend on it being fresh: changes made through this instance
//! invalidate the entry at once, and entries live at most `TTL`, so a change made through
//! another instance is obeyed within that time (SPEC §8: within one second). A token minted
//! from a stale entry after a deactivation carries the old epoch and is dead on arrival.

use crate::client::Client;
use crate::store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

pub const TTL: Duration = Duration::from_millis(900);

#[derive(Clone)]
pub struct ClientCache {
    inner: moka::sync::Cache<String, Arc<Client>>,
}

impl Default for ClientCache {
    fn default() -> Self {
        Self {
            inner: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl ClientCache {
    pub async fn get(
        &self,
        store: &dyn Store,
        client_id: &str,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some(c) = self.inner.get(client_id) {
            return Ok(Some(c));
        }
        let Some(c) = store.get_client(client_id).await? else {
            return Ok(None);
        };
        let c = Arc::new(c);
        self.inner.insert(client_id.to_owned(), c.clone());
        Ok(Some(c))
    }

    pub fn invalidate(&self, client_id: &str) {
        self.inner.invalidate(client_id);
    }
}

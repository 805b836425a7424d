//! An in-process cache of clients for the token endpoint's hot path (authenticating the
//! client is otherwise a database read on every request).
//!
//! Correctness does not depend on it being fresh: changes made through this instance
//! invalidate the entry at once, and an entry is served only while the database read it
//! came from *started* less than `TTL` ago. A change committed through another instance is
//! therefore obeyed here within `TTL` of its commit (SPEC §8: within one second), however
//! slow that read was. A token minted from a stale entry after a deactivation carries the
//! old epoch and is dead on arrival. Why a TTL and no LISTEN/NOTIFY: ARCHITECTURE.md.

use crate::client::Client;
use crate::id::ClientId;
use crate::store::{Store, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Half the one-second budget of SPEC §8, so the other half absorbs request latency on a
/// loaded host. Two reads a second per active client per instance cost nothing.
pub const TTL: Duration = Duration::from_millis(500);

#[derive(Clone)]
struct Entry {
    client: Arc<Client>,
    /// When the read that produced `client` began: its snapshot is no older than this.
    read_at: Instant,
}

#[derive(Clone)]
pub struct ClientCache {
    inner: moka::sync::Cache<ClientId, Entry>,
}

impl Default for ClientCache {
    fn default() -> Self {
        Self {
            inner: moka::sync::Cache::builder()
                .max_capacity(10_000)
                // Eviction only; freshness is checked against `read_at` in `get`.
                .time_to_live(TTL)
                .build(),
        }
    }
}

impl ClientCache {
    pub async fn get(
        &self,
        store: &dyn Store,
        client_id: &ClientId,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        self.get_or_load(client_id, store.get_client(client_id))
            .await
    }

    async fn get_or_load(
        &self,
        client_id: &ClientId,
        load: impl Future<Output = Result<Option<Client>, StoreError>>,
    ) -> Result<Option<Arc<Client>>, StoreError> {
        if let Some(e) = self.inner.get(client_id) {
            if e.read_at.elapsed() < TTL {
                return Ok(Some(e.client));
            }
        }
        let read_at = Instant::now();
        // Unknown ids are not cached: a new client must work at once everywhere.
        let Some(c) = load.await? else {
            self.inner.invalidate(client_id);
            return Ok(None);
        };
        let client = Arc::new(c);
        self.inner.insert(
            client_id.clone(),
            Entry {
                client: client.clone(),
                read_at,
            },
        );
        Ok(Some(client))
    }

    pub fn invalidate(&self, client_id: &ClientId) {
        self.inner.invalidate(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{ClientSettings, ClientType, GrantSet, RefreshCount, TokenLifetime};

    fn client(name: &str) -> Client {
        let settings = ClientSettings {
            name: name.into(),
            version: "1".into(),
            description: None,
            client_type: ClientType::Public,
            grant_types: GrantSet::default(),
            redirect_uris: vec![],
            scopes: crate::scope::ScopeSet::new(),
            access_token_lifetime: TokenLifetime::Seconds(3600),
            refresh_count: RefreshCount::Unlimited,
            active: true,
        };
        Client {
            revision: 1,
            ..settings.into_client(ClientId::new("c1"))
        }
    }

    async fn name(cache: &ClientCache, stored: &str) -> String {
        let stored = client(stored);
        let c = cache
            .get_or_load(&ClientId::new("c1"), async { Ok(Some(stored)) })
            .await;
        c.unwrap().unwrap().name.clone()
    }

    #[tokio::test]
    async fn entries_are_served_until_ttl_then_reread() {
        let cache = ClientCache::default();
        assert_eq!(name(&cache, "old").await, "old");
        assert_eq!(name(&cache, "new").await, "old");
        tokio::time::sleep(TTL).await;
        assert_eq!(name(&cache, "new").await, "new");
    }

    #[tokio::test]
    async fn staleness_counts_from_the_start_of_a_slow_read() {
        let cache = ClientCache::default();
        let slow = async {
            tokio::time::sleep(TTL).await;
            Ok(Some(client("old")))
        };
        cache.get_or_load(&ClientId::new("c1"), slow).await.unwrap();
        // The read began a TTL ago: what it saw may be that old, so it is not served.
        assert_eq!(name(&cache, "new").await, "new");
    }

    #[tokio::test]
    async fn invalidate_forgets_at_once() {
        let cache = ClientCache::default();
        assert_eq!(name(&cache, "old").await, "old");
        cache.invalidate(&ClientId::new("c1"));
        assert_eq!(name(&cache, "new").await, "new");
    }
}

//! Every client, in memory: the token endpoint and the bearer check never wait on the
//! database. Each admin change reloads the client it touched; a periodic full reload
//! picks up changes made by other replicas.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::domain::client::ClientRecord;
use crate::store::{Store, StoreError};

type ClientMap = HashMap<String, Arc<ClientRecord>>;

#[derive(Default)]
struct Snapshot {
    clients: Arc<ClientMap>,
    /// Bumped by every single-client change, so a full reload that read the database
    /// before such a change does not overwrite it with older rows.
    changes: u64,
}

#[derive(Default)]
pub struct ClientCache {
    snapshot: RwLock<Snapshot>,
}

const FULL_RELOAD_ATTEMPTS: usize = 5;

impl ClientCache {
    pub fn get(&self, client_id: &str) -> Option<Arc<ClientRecord>> {
        let snapshot = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        snapshot.clients.get(client_id).cloned()
    }

    pub async fn reload_all(&self, store: &dyn Store) -> Result<usize, StoreError> {
        for _ in 0..FULL_RELOAD_ATTEMPTS {
            let changes_before = self
                .snapshot
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .changes;
            let clients = store.clients().await?;
            let mut snapshot = self
                .snapshot
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if snapshot.changes == changes_before {
                let count = clients.len();
                snapshot.clients = Arc::new(
                    clients
                        .into_iter()
                        .map(|client| (client.client_id.clone(), Arc::new(client)))
                        .collect(),
                );
                return Ok(count);
            }
        }
        Err(StoreError::Stale)
    }

    pub fn set(&self, client_id: &str, client: Option<ClientRecord>) {
        let mut snapshot = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut clients = (*snapshot.clients).clone();
        match client {
            // Two reloads of one client may finish out of order: keep the newer row.
            Some(client) => {
                let newer_cached = clients
                    .get(client_id)
                    .is_some_and(|cached| cached.version > client.version);
                if !newer_cached {
                    clients.insert(client_id.to_string(), Arc::new(client));
                }
            }
            None => {
                clients.remove(client_id);
            }
        }
        snapshot.clients = Arc::new(clients);
        snapshot.changes += 1;
    }
}

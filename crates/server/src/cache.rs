//! In-memory snapshots of what the hot paths read: clients by id, API keys by digest. The
//! token endpoint and the bearer check never wait on the database. Each admin change updates
//! the entry it touched; a periodic full reload picks up changes made by other replicas.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::domain::api_key::ApiKeyRecord;
use crate::domain::client::ClientRecord;
use crate::store::StoreError;

/// What a cache needs to know of its values.
pub trait Cached {
    /// Whether `self` is a newer state of the same record than `cached`: two loads of one
    /// record may finish out of order, and the older must not win.
    fn supersedes(&self, cached: &Self) -> bool;
}

impl Cached for ClientRecord {
    fn supersedes(&self, cached: &Self) -> bool {
        self.version >= cached.version
    }
}

impl Cached for ApiKeyRecord {
    fn supersedes(&self, cached: &Self) -> bool {
        // Revocation is final.
        self.revoked_at.is_some() || cached.revoked_at.is_none()
    }
}

struct Snapshot<V> {
    entries: Arc<HashMap<String, Arc<V>>>,
    /// Bumped by every single-entry change, so a full reload that read the database before
    /// such a change does not overwrite it with older rows.
    changes: u64,
}

pub struct Cache<V> {
    snapshot: RwLock<Snapshot<V>>,
}

impl<V> Default for Cache<V> {
    fn default() -> Self {
        Self {
            snapshot: RwLock::new(Snapshot {
                entries: Arc::new(HashMap::new()),
                changes: 0,
            }),
        }
    }
}

pub type ClientCache = Cache<ClientRecord>;
/// API keys by the hex SHA-256 of the key.
pub type ApiKeyCache = Cache<ApiKeyRecord>;

const FULL_RELOAD_ATTEMPTS: usize = 5;

impl<V: Cached + Clone> Cache<V> {
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let snapshot = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        snapshot.entries.get(key).cloned()
    }

    /// Replaces every entry with what `load` reads, retrying when a single-entry change
    /// happened meanwhile. Returns the number of entries.
    pub async fn reload_all<F, Fut>(&self, load: F) -> Result<usize, StoreError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Vec<(String, V)>, StoreError>>,
    {
        for _ in 0..FULL_RELOAD_ATTEMPTS {
            let changes_before = self
                .snapshot
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .changes;
            let entries = load().await?;
            let mut snapshot = self
                .snapshot
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if snapshot.changes == changes_before {
                let count = entries.len();
                snapshot.entries = Arc::new(
                    entries
                        .into_iter()
                        .map(|(key, value)| (key, Arc::new(value)))
                        .collect(),
                );
                return Ok(count);
            }
        }
        Err(StoreError::Stale)
    }

    /// Puts one entry (or its absence) in the cache.
    pub fn set(&self, key: &str, value: Option<V>) {
        let mut snapshot = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut entries = (*snapshot.entries).clone();
        match value {
            Some(value) => {
                let stale = entries
                    .get(key)
                    .is_some_and(|cached| !value.supersedes(cached));
                if !stale {
                    entries.insert(key.to_string(), Arc::new(value));
                }
            }
            None => {
                entries.remove(key);
            }
        }
        snapshot.entries = Arc::new(entries);
        snapshot.changes += 1;
    }
}

/// Loads every client, keyed by client id.
pub async fn load_clients(
    store: &dyn crate::store::Store,
) -> Result<Vec<(String, ClientRecord)>, StoreError> {
    Ok(store
        .clients()
        .await?
        .into_iter()
        .map(|client| (client.client_id.clone(), client))
        .collect())
}

/// Loads every API key, keyed by the hex digest of the key.
pub async fn load_api_keys(
    store: &dyn crate::store::Store,
) -> Result<Vec<(String, ApiKeyRecord)>, StoreError> {
    Ok(store
        .api_keys()
        .await?
        .into_iter()
        .map(|key| (hex(&key.key_digest), key))
        .collect())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The custom fields of each object, as the API engine reads them on every call.
#[derive(Default)]
pub struct CustomFieldCache {
    by_object: RwLock<Arc<HashMap<String, Arc<[crate::api::model::CustomField]>>>>,
}

impl CustomFieldCache {
    /// The custom fields of `object` (none: an empty list).
    pub fn of(&self, object: &str) -> Arc<[crate::api::model::CustomField]> {
        self.by_object
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(object)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Replaces every definition with what the store holds.
    pub async fn reload(&self, store: &dyn crate::store::Store) -> Result<(), StoreError> {
        let mut by_object: HashMap<String, Vec<crate::api::model::CustomField>> = HashMap::new();
        for record in store.custom_fields().await? {
            let Some(kind) = crate::api::model::FieldType::parse(&record.kind) else {
                tracing::warn!(object = %record.object, name = %record.name, kind = %record.kind, "custom field of an unknown kind skipped");
                continue;
            };
            by_object
                .entry(record.object)
                .or_default()
                .push(crate::api::model::CustomField {
                    name: record.name,
                    kind,
                    label: record.label,
                });
        }
        let by_object = by_object
            .into_iter()
            .map(|(object, fields)| (object, Arc::from(fields)))
            .collect();
        *self
            .by_object
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(by_object);
        Ok(())
    }
}

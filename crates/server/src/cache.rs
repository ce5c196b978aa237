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
    /// When the last full reload finished.
    reloaded_at: Option<std::time::Instant>,
    /// Bumped by every single-entry change.
    changes: u64,
    /// The `changes` count of each key's latest single-entry change, kept until a full reload
    /// that started after it: a full reload that read the database before such a change keeps
    /// the changed entry rather than the older row it read.
    changed: HashMap<String, u64>,
}

pub struct Cache<V> {
    snapshot: RwLock<Snapshot<V>>,
}

impl<V> Default for Cache<V> {
    fn default() -> Self {
        Self {
            snapshot: RwLock::new(Snapshot {
                entries: Arc::new(HashMap::new()),
                reloaded_at: None,
                changes: 0,
                changed: HashMap::new(),
            }),
        }
    }
}

pub type ClientCache = Cache<ClientRecord>;
/// API keys by the hex SHA-256 of the key.
pub type ApiKeyCache = Cache<ApiKeyRecord>;

impl<V: Cached + Clone> Cache<V> {
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        let snapshot = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        snapshot.entries.get(key).cloned()
    }

    /// Every entry as it is now (a snapshot: later changes do not show in it).
    pub fn entries(&self) -> Arc<HashMap<String, Arc<V>>> {
        let snapshot = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&snapshot.entries)
    }

    /// How many entries it holds, and how long ago it was last fully reloaded.
    pub fn usage(&self) -> (usize, Option<std::time::Duration>) {
        let snapshot = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        (
            snapshot.entries.len(),
            snapshot.reloaded_at.map(|at| at.elapsed()),
        )
    }

    /// Replaces every entry with what `load` reads, except the entries changed one by one
    /// while it read (those are newer than its rows). Completes however many changes arrive
    /// meanwhile. Returns the number of entries.
    pub async fn reload_all<F, Fut>(&self, load: F) -> Result<usize, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<(String, V)>, StoreError>>,
    {
        let changes_before = self
            .snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .changes;
        let loaded = load().await?;
        let mut snapshot = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut entries: HashMap<String, Arc<V>> = loaded
            .into_iter()
            .map(|(key, value)| (key, Arc::new(value)))
            .collect();
        for (key, stamp) in &snapshot.changed {
            if *stamp > changes_before {
                match snapshot.entries.get(key) {
                    Some(cached) => {
                        let loaded_is_newer = entries
                            .get(key)
                            .is_some_and(|loaded| loaded.supersedes(cached));
                        if !loaded_is_newer {
                            entries.insert(key.clone(), Arc::clone(cached));
                        }
                    }
                    None => {
                        entries.remove(key);
                    }
                }
            }
        }
        snapshot.changed.retain(|_, stamp| *stamp > changes_before);
        let count = entries.len();
        snapshot.entries = Arc::new(entries);
        snapshot.reloaded_at = Some(std::time::Instant::now());
        Ok(count)
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
        let stamp = snapshot.changes;
        snapshot.changed.insert(key.to_string(), stamp);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Versioned(u64);

    impl Cached for Versioned {
        fn supersedes(&self, cached: &Self) -> bool {
            self.0 >= cached.0
        }
    }

    #[tokio::test]
    async fn a_full_reload_completes_and_keeps_what_changed_while_it_read() {
        let cache: Cache<Versioned> = Cache::default();
        cache
            .reload_all(|| async {
                Ok(vec![("a".into(), Versioned(1)), ("b".into(), Versioned(1))])
            })
            .await
            .unwrap();
        // While the next reload reads (rows as of before), "a" is updated, "b" deleted and
        // "c" created, hundreds of times over: the reload still completes, once.
        let count = cache
            .reload_all(|| async {
                for _ in 0..500 {
                    cache.set("a", Some(Versioned(2)));
                    cache.set("b", None);
                    cache.set("c", Some(Versioned(1)));
                }
                Ok(vec![
                    ("a".into(), Versioned(1)),
                    ("b".into(), Versioned(1)),
                    ("d".into(), Versioned(1)),
                ])
            })
            .await
            .unwrap();
        assert_eq!(count, 3);
        assert_eq!(cache.get("a").as_deref(), Some(&Versioned(2)));
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.get("c").as_deref(), Some(&Versioned(1)));
        assert_eq!(
            cache.get("d").as_deref(),
            Some(&Versioned(1)),
            "new rows arrive"
        );

        // A later reload reads newer rows for everything: they win.
        cache
            .reload_all(|| async { Ok(vec![("a".into(), Versioned(3))]) })
            .await
            .unwrap();
        assert_eq!(cache.get("a").as_deref(), Some(&Versioned(3)));
        assert_eq!(cache.get("c"), None);
    }
}

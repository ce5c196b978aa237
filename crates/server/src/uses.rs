//! When API keys were last used and clients last issued a token. The hot paths note each use
//! in memory; a use reaches the database at most once a minute per key and address, written
//! in the background, so neither the bearer check nor the token endpoint waits on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::store::{Store, StoreError};

/// How long a noted use may stay unwritten.
pub const WRITE_INTERVAL_SECONDS: i64 = 60;

/// The last use of each key noted in this process: when, and from which address.
#[derive(Default)]
pub struct RecentUses {
    last: Mutex<HashMap<String, (i64, String)>>,
}

impl RecentUses {
    /// Notes a use; true when it must be written now (the first use in a minute, or from a
    /// new address).
    pub fn note(&self, key: &str, at: i64, from: &str) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let due = last.get(key).is_none_or(|(noted_at, noted_from)| {
            at - noted_at >= WRITE_INTERVAL_SECONDS || noted_from != from
        });
        if due {
            last.insert(key.to_string(), (at, from.to_string()));
        }
        due
    }

    /// Every use noted in this process, latest per key.
    pub fn snapshot(&self) -> HashMap<String, (i64, String)> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Calls refused because their API key was revoked, counted in memory and added to the
/// store at most once a minute per key (a flood of them costs no write each).
#[derive(Default)]
pub struct RefusedCalls {
    pending: Mutex<HashMap<String, PendingCalls>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingCalls {
    /// Counted, not yet written.
    pub calls: i64,
    pub last_at: i64,
    pub last_from: String,
    written_at: Option<i64>,
}

impl RefusedCalls {
    /// Counts a call; when a write is due, answers the calls to add (and resets the count).
    pub fn note(&self, key: &str, at: i64, from: &str) -> Option<PendingCalls> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = pending.entry(key.to_string()).or_default();
        entry.calls += 1;
        entry.last_at = at;
        entry.last_from = from.to_string();
        let due = entry
            .written_at
            .is_none_or(|written| at - written >= WRITE_INTERVAL_SECONDS);
        due.then(|| {
            let batch = entry.clone();
            entry.calls = 0;
            entry.written_at = Some(at);
            batch
        })
    }

    /// What is counted and not yet written, per key.
    pub fn snapshot(&self) -> HashMap<String, PendingCalls> {
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Counts a call refused for the revoked API key `key_id`, adding the count to the store in
/// the background when due.
pub fn note_refused_api_key_call(
    refused: &RefusedCalls,
    store: &Arc<dyn Store>,
    key_id: &str,
    from: &str,
) {
    let now = crate::domain::time::now_unix();
    if let Some(batch) = refused.note(key_id, now, from) {
        let (store, key_id) = (Arc::clone(store), key_id.to_string());
        tokio::spawn(async move {
            let written = store
                .add_refused_api_key_calls(&key_id, batch.calls, batch.last_at, &batch.last_from)
                .await;
            if let Err(error) = written {
                tracing::warn!(%error, "could not record calls refused for a revoked API key");
            }
        });
    }
}

/// Notes a use of `key` from `from`; when it is due, starts `write` with the use's time in
/// the background (a failed write is logged, and the next due use writes again).
fn note_then_write<Write>(
    uses: &RecentUses,
    key: &str,
    from: &str,
    what: &'static str,
    write: impl FnOnce(i64) -> Write,
) where
    Write: Future<Output = Result<(), StoreError>> + Send + 'static,
{
    let now = crate::domain::time::now_unix();
    if uses.note(key, now, from) {
        let writing = write(now);
        tokio::spawn(async move {
            if let Err(error) = writing.await {
                tracing::warn!(%error, "could not record {what}");
            }
        });
    }
}

/// Notes a use of an API key, writing it in the background when due.
pub fn note_api_key_use(uses: &RecentUses, store: &Arc<dyn Store>, key_id: &str, from: &str) {
    note_then_write(uses, key_id, from, "an API key use", |at| {
        let (store, key_id, from) = (Arc::clone(store), key_id.to_string(), from.to_string());
        async move { store.touch_api_key(&key_id, at, &from).await }
    });
}

/// Notes that a client was issued a token, writing it in the background when due.
pub fn note_client_token(uses: &RecentUses, store: &Arc<dyn Store>, client_id: &str) {
    note_then_write(uses, client_id, "", "a token issue", |at| {
        let (store, client_id) = (Arc::clone(store), client_id.to_string());
        async move { store.touch_client_token(&client_id, at).await }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_calls_are_counted_and_written_once_a_minute() {
        let refused = RefusedCalls::default();
        let first = refused.note("k", 100, "10.0.0.1").unwrap();
        assert_eq!(first.calls, 1, "the first call is written at once");
        assert_eq!(refused.note("k", 110, "10.0.0.1"), None);
        assert_eq!(refused.note("k", 120, "10.0.0.2"), None);
        assert_eq!(refused.snapshot()["k"].calls, 2, "counted, not yet written");
        let second = refused.note("k", 160, "10.0.0.2").unwrap();
        assert_eq!((second.calls, second.last_from.as_str()), (3, "10.0.0.2"));
        assert_eq!(refused.snapshot()["k"].calls, 0);
    }

    #[test]
    fn a_use_is_due_once_a_minute_or_from_a_new_address() {
        let uses = RecentUses::default();
        assert!(uses.note("k", 100, "10.0.0.1"));
        assert!(!uses.note("k", 130, "10.0.0.1"));
        assert!(
            uses.note("k", 131, "10.0.0.2"),
            "a new address is written at once"
        );
        assert!(!uses.note("k", 190, "10.0.0.2"));
        assert!(uses.note("k", 191, "10.0.0.2"));
        assert!(uses.note("other", 191, "10.0.0.2"));
        assert_eq!(uses.snapshot()["k"], (191, "10.0.0.2".to_string()));
    }
}

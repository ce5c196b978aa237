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

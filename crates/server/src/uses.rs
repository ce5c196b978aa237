//! When API keys were last used and clients last issued a token. The hot paths note each use
//! in memory; a use reaches the database at most once a minute per key and address, written
//! in the background, so neither the bearer check nor the token endpoint waits on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::store::Store;

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

/// Notes a use of an API key, writing it in the background when due.
pub fn note_api_key_use(uses: &RecentUses, store: &Arc<dyn Store>, key_id: &str, from: &str) {
    let now = crate::domain::time::now_unix();
    if uses.note(key_id, now, from) {
        let store = Arc::clone(store);
        let (key_id, from) = (key_id.to_string(), from.to_string());
        tokio::spawn(async move {
            if let Err(error) = store.touch_api_key(&key_id, now, &from).await {
                tracing::warn!(%error, "could not record an API key use");
            }
        });
    }
}

/// Notes that a client was issued a token, writing it in the background when due.
pub fn note_client_token(uses: &RecentUses, store: &Arc<dyn Store>, client_id: &str) {
    let now = crate::domain::time::now_unix();
    if uses.note(client_id, now, "") {
        let store = Arc::clone(store);
        let client_id = client_id.to_string();
        tokio::spawn(async move {
            if let Err(error) = store.touch_client_token(&client_id, now).await {
                tracing::warn!(%error, "could not record when a client was issued a token");
            }
        });
    }
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

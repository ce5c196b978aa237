//! Failed client authentications at the OAuth endpoints: counted in memory per client (ids
//! no client has count as one, `client:unknown`) and address, and written to the audit trail
//! once a minute, one entry per pair with its count. A flood of wrong secrets costs a counter,
//! never a database write per attempt.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::store::Store;

/// Pairs counted between two writes at most; beyond, attempts count under one pair.
const MAX_PAIRS: usize = 1000;
const UNKNOWN: &str = "client:unknown";
const MANY_ADDRESSES: &str = "(more addresses than are counted one by one)";

#[derive(Default)]
pub struct AuthFailures {
    counts: Mutex<HashMap<(String, String), u64>>,
}

impl AuthFailures {
    /// One failed attempt. `known_client` names a registered client, or None.
    pub fn note(&self, known_client: Option<&str>, address: &str) {
        crate::telemetry::client_authentication_failed(known_client);
        let subject = known_client.map_or_else(|| UNKNOWN.to_string(), |id| format!("client:{id}"));
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut key = (subject, address.to_string());
        if counts.len() >= MAX_PAIRS && !counts.contains_key(&key) {
            key = (UNKNOWN.to_string(), MANY_ADDRESSES.to_string());
        }
        *counts.entry(key).or_default() += 1;
    }

    /// Writes what was counted since the last write to the audit trail, and starts over.
    pub async fn write(&self, store: &dyn Store) {
        let counted =
            std::mem::take(&mut *self.counts.lock().unwrap_or_else(PoisonError::into_inner));
        for ((subject, address), failures) in counted {
            crate::audit_trail::security_event(
                store,
                "client.authentication_failed",
                &subject,
                &address,
                serde_json::json!({"failures": failures}),
            )
            .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded_whatever_the_number_of_addresses() {
        let failures = AuthFailures::default();
        for attempt in 0..5_000 {
            failures.note(None, &format!("192.0.2.{attempt}"));
        }
        failures.note(Some("abc"), "192.0.2.1");
        let counts = failures.counts.lock().unwrap();
        assert!(counts.len() <= MAX_PAIRS + 1);
        assert_eq!(counts.values().sum::<u64>(), 5_001);
    }
}

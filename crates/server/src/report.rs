//! Each client's recent traffic, in memory, for its report card (`domain::report`): the last
//! requests of each authenticated caller (at most 2,000, none older than an hour), recorded
//! by the access-log layer once the answer is known.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::domain::report::Seen;

/// Requests kept per client.
pub const PER_CLIENT: usize = 2000;
/// Requests older than this are forgotten.
const WINDOW_MS: i64 = 3_600_000;

type Log = Arc<Mutex<VecDeque<Seen>>>;

#[derive(Default)]
pub struct Traffic {
    clients: RwLock<HashMap<String, Log>>,
}

impl Traffic {
    /// Keeps `seen` as `client_id`'s latest request. Callers are authenticated, so the
    /// number of logs is bounded by the registered clients and keys.
    pub fn record(&self, client_id: &str, seen: Seen) {
        let existing = self
            .clients
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .cloned();
        let log = existing.unwrap_or_else(|| {
            Arc::clone(
                self.clients
                    .write()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry(client_id.to_string())
                    .or_default(),
            )
        });
        let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
        let oldest = seen.at_ms - WINDOW_MS;
        while log.len() >= PER_CLIENT || log.front().is_some_and(|first| first.at_ms < oldest) {
            log.pop_front();
        }
        log.push_back(seen);
    }

    /// `client_id`'s requests of the last hour at `now_ms`, oldest first.
    pub fn recent(&self, client_id: &str, now_ms: i64) -> Vec<Seen> {
        let log = self
            .clients
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .cloned();
        log.map(|log| {
            log.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .filter(|seen| seen.at_ms >= now_ms - WINDOW_MS)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
    }

    /// Forgets every client's traffic (a sandbox reset).
    pub fn clear(&self) {
        self.clients
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(at_ms: i64) -> Seen {
        Seen {
            at_ms,
            method: "GET".into(),
            path: "/api/invoices".into(),
            query: String::new(),
            status: 200,
            xml: false,
            secret_in_query: false,
        }
    }

    #[test]
    fn each_client_keeps_a_bounded_recent_window() {
        let traffic = Traffic::default();
        for n in 0..(PER_CLIENT as i64 + 10) {
            traffic.record("a", seen(n));
        }
        traffic.record("b", seen(5));
        let a = traffic.recent("a", 10_000);
        assert_eq!(a.len(), PER_CLIENT);
        assert_eq!(a[0].at_ms, 10, "the oldest went first");
        assert_eq!(traffic.recent("b", 10_000).len(), 1);
        assert!(
            traffic.recent("b", 5 + WINDOW_MS + 1).is_empty(),
            "an hour later"
        );
        traffic.record("a", seen(20 + WINDOW_MS));
        let later = traffic.recent("a", 20 + WINDOW_MS);
        assert!(
            later.iter().all(|seen| seen.at_ms >= 20),
            "none older than an hour"
        );
        assert_eq!(later.last().unwrap().at_ms, 20 + WINDOW_MS);
        traffic.clear();
        assert!(traffic.recent("a", 0).is_empty());
    }
}

//! Per-caller rate limiting on `/api`: the shared algorithm of `coupa_proto::rate`, one
//! arrival time per caller.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

pub use coupa_proto::rate::{Decision, Limit, decide};

/// Arrival times of every caller, behind one short lock.
pub struct RateLimiter {
    limit: Option<Limit>,
    started: Instant,
    callers: Mutex<HashMap<String, f64>>,
}

impl RateLimiter {
    /// `None` turns limiting off.
    pub fn new(limit: Option<Limit>) -> Self {
        Self {
            limit,
            started: Instant::now(),
            callers: Mutex::new(HashMap::new()),
        }
    }

    pub fn check(&self, caller: &str) -> Decision {
        let Some(limit) = self.limit else {
            return Decision::Allow;
        };
        let now = self.started.elapsed().as_secs_f64();
        let mut callers = self.callers.lock().unwrap_or_else(PoisonError::into_inner);
        let (decision, tat) = decide(callers.get(caller).copied(), now, limit);
        if let Some(tat) = tat {
            callers.insert(caller.to_string(), tat);
        }
        decision
    }
}

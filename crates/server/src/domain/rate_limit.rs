//! Per-caller rate limiting on `/api`: the shared algorithm of `coupa_proto::rate`, one
//! arrival time per caller.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

pub use coupa_proto::rate::{Decision, Limit, decide};

/// Past this many callers, those with their whole burst back are forgotten.
const MAX_TRACKED: usize = 10_000;

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
        if callers.len() >= MAX_TRACKED && !callers.contains_key(caller) {
            // A caller whose theoretical arrival time has passed has its whole burst back:
            // forgetting it changes nothing, and keeps many callers from growing the map.
            callers.retain(|_, tat| *tat > now);
        }
        let (decision, tat) = decide(callers.get(caller).copied(), now, limit);
        if let Some(tat) = tat {
            callers.insert(caller.to_string(), tat);
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_callers_do_not_grow_the_map_without_bound() {
        let limiter = RateLimiter::new(Some(Limit {
            per_second: 1e9,
            burst: 1,
        }));
        for caller in 0..30_000 {
            assert_eq!(limiter.check(&format!("address:{caller}")), Decision::Allow);
        }
        let tracked = limiter.callers.lock().unwrap().len();
        assert!(tracked <= MAX_TRACKED + 1, "{tracked} callers kept");
    }
}

//! The faults switched on (see `domain::faults`), in this process's memory: added by the
//! admin API, Setup or a scenario file, consulted by the token endpoint and the `/api` layer,
//! ended by their time or their count of requests. While none is on, a check is one atomic
//! load.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use coupa_proto::admin::FaultView;

use crate::domain::faults::{FaultKind, FaultSpec};
use crate::domain::time::format_rfc3339;

/// At most this many faults at once.
pub const MAX_FAULTS: usize = 100;

struct LiveFault {
    id: String,
    /// Its place among the faults added since start: with the seed, it fixes its draws.
    ordinal: u64,
    /// Requests it could have affected so far (its draws, when it has a probability).
    draws: AtomicU64,
    spec: FaultSpec,
    /// Requests it still affects, when it has a count.
    left: Option<AtomicU64>,
    created_by: String,
}

impl LiveFault {
    fn spent(&self) -> bool {
        self.left
            .as_ref()
            .is_some_and(|left| left.load(Ordering::Acquire) == 0)
    }

    fn over(&self, now: i64) -> bool {
        now >= self.spec.ends_at || self.spent()
    }

    /// Whether it affects this request: its chance drawn (when it has one), then one request
    /// of its count taken.
    fn affects(&self, seed: u64) -> bool {
        if let Some(probability) = self.spec.probability {
            let draw = self.draws.fetch_add(1, Ordering::AcqRel);
            if !crate::domain::faults::drawn(seed, self.ordinal, draw, probability) {
                return false;
            }
        }
        self.take_one()
    }

    /// Counts one affected request; false when another request took the last one.
    fn take_one(&self) -> bool {
        match &self.left {
            None => true,
            Some(left) => left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                    left.checked_sub(1)
                })
                .is_ok(),
        }
    }

    fn in_force(&self) -> InForce {
        InForce {
            kind: self.spec.kind,
            started_at: self.spec.starts_at,
        }
    }

    fn view(&self, now: i64) -> FaultView {
        FaultView {
            id: self.id.clone(),
            kind: self.spec.kind.name().to_string(),
            effect: match self.spec.probability {
                Some(probability) => format!(
                    "{} (about {}% of requests)",
                    self.spec.kind.effect(),
                    (probability * 100.0).round()
                ),
                None => self.spec.kind.effect(),
            },
            client_id: self.spec.client_id.clone(),
            starts_at: format_rfc3339(self.spec.starts_at),
            ends_at: format_rfc3339(self.spec.ends_at),
            requests_left: self.left.as_ref().map(|left| left.load(Ordering::Acquire)),
            probability: self.spec.probability,
            active: self.spec.starts_at <= now && !self.over(now),
            created_by: self.created_by.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{MAX_FAULTS} faults are on already; remove some first")]
pub struct TooManyFaults;

#[derive(Default)]
pub struct FaultBoard {
    faults: RwLock<Vec<Arc<LiveFault>>>,
    /// Whether any fault is kept: the hot paths look no further when none is.
    any: AtomicBool,
    /// The seed of the faults' chances (`--seed`).
    seed: AtomicU64,
    /// Faults added since start.
    added: AtomicU64,
}

/// A fault in force for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    pub kind: FaultKind,
    pub started_at: i64,
}

impl FaultBoard {
    /// A board whose faults draw their chances from `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self {
            seed: AtomicU64::new(seed),
            ..Self::default()
        }
    }

    pub fn add(
        &self,
        id: String,
        spec: FaultSpec,
        created_by: String,
        now: i64,
    ) -> Result<FaultView, TooManyFaults> {
        let fault = Arc::new(LiveFault {
            id,
            ordinal: self.added.fetch_add(1, Ordering::AcqRel),
            draws: AtomicU64::new(0),
            left: spec.requests.map(AtomicU64::new),
            spec,
            created_by,
        });
        let mut faults = self.faults.write().unwrap_or_else(PoisonError::into_inner);
        faults.retain(|fault| !fault.over(now));
        if faults.len() >= MAX_FAULTS {
            return Err(TooManyFaults);
        }
        faults.push(Arc::clone(&fault));
        self.any.store(true, Ordering::Release);
        Ok(fault.view(now))
    }

    /// The faults on or waiting to begin; those over are forgotten.
    pub fn list(&self, now: i64) -> Vec<FaultView> {
        let mut faults = self.faults.write().unwrap_or_else(PoisonError::into_inner);
        faults.retain(|fault| !fault.over(now));
        self.any.store(!faults.is_empty(), Ordering::Release);
        faults.iter().map(|fault| fault.view(now)).collect()
    }

    /// Removes one fault; its view, when there was one.
    pub fn remove(&self, id: &str, now: i64) -> Option<FaultView> {
        let mut faults = self.faults.write().unwrap_or_else(PoisonError::into_inner);
        let index = faults.iter().position(|fault| fault.id == id)?;
        let removed = faults.remove(index);
        self.any.store(!faults.is_empty(), Ordering::Release);
        Some(removed.view(now))
    }

    /// Removes every fault; how many there were.
    pub fn clear(&self) -> usize {
        let mut faults = self.faults.write().unwrap_or_else(PoisonError::into_inner);
        let count = faults.len();
        faults.clear();
        self.any.store(false, Ordering::Release);
        count
    }

    /// The first fault on for `client_id` at `now` that `wanted` picks, counted as one
    /// request of its count.
    pub fn take(
        &self,
        client_id: &str,
        now: i64,
        wanted: impl Fn(InForce) -> bool,
    ) -> Option<InForce> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let seed = self.seed.load(Ordering::Acquire);
        let faults = self.faults.read().unwrap_or_else(PoisonError::into_inner);
        faults
            .iter()
            .filter(|fault| wanted(fault.in_force()) && fault.spec.applies(client_id, now))
            .find(|fault| fault.affects(seed))
            .map(|fault| fault.in_force())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FaultKind, client: Option<&str>, requests: Option<u64>) -> FaultSpec {
        FaultSpec {
            kind,
            client_id: client.map(str::to_string),
            starts_at: 100,
            ends_at: 200,
            requests,
            probability: None,
        }
    }

    #[test]
    fn a_fault_affects_its_requests_then_ends_by_count_or_time() {
        let board = FaultBoard::default();
        assert!(board.take("a", 150, |_| true).is_none(), "none on");
        board
            .add(
                "f1".into(),
                spec(FaultKind::ApiUnavailable, Some("a"), Some(2)),
                "admin token".into(),
                100,
            )
            .unwrap();
        assert!(board.take("b", 150, |_| true).is_none(), "another client");
        assert!(board.take("a", 99, |_| true).is_none(), "not begun");
        assert!(board.take("a", 150, |_| true).is_some());
        assert_eq!(board.list(150)[0].requests_left, Some(1));
        assert!(board.take("a", 150, |_| true).is_some());
        assert!(board.take("a", 150, |_| true).is_none(), "spent");
        assert!(board.list(150).is_empty());

        board
            .add(
                "f2".into(),
                spec(FaultKind::ApiSlow { seconds: 1 }, None, None),
                "admin token".into(),
                100,
            )
            .unwrap();
        assert!(
            board
                .take("anyone", 150, |fault| fault.kind
                    == FaultKind::ApiUnavailable)
                .is_none(),
            "another kind"
        );
        assert!(board.take("anyone", 199, |_| true).is_some());
        assert!(board.take("anyone", 200, |_| true).is_none(), "over");
        assert!(board.remove("f2", 150).is_some());
        assert!(board.remove("f2", 150).is_none());
    }

    #[test]
    fn the_board_holds_a_bounded_number_of_faults() {
        let board = FaultBoard::default();
        for n in 0..MAX_FAULTS {
            board
                .add(
                    format!("f{n}"),
                    spec(FaultKind::ScopeChange, None, None),
                    "admin token".into(),
                    100,
                )
                .unwrap();
        }
        assert!(
            board
                .add(
                    "one-more".into(),
                    spec(FaultKind::ScopeChange, None, None),
                    "admin token".into(),
                    100
                )
                .is_err()
        );
        assert_eq!(board.clear(), MAX_FAULTS);
        assert!(board.take("a", 150, |_| true).is_none());
    }
}

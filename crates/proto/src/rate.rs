//! Rate limiting as a generic cell rate algorithm: the token bucket of `burst` requests
//! refilled at `per_second`, kept as one number (the theoretical arrival time of the next
//! request). Pure; the server keys it per caller, the client per profile.

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub per_second: f64,
    pub burst: u32,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    Allow,
    /// Refused; a retry is admitted after this many seconds.
    Deny {
        retry_after: f64,
    },
}

/// One step of the algorithm: given the caller's theoretical arrival time (None for a first
/// request) and the current time, both in seconds, decides and returns the new arrival time.
pub fn decide(tat: Option<f64>, now: f64, limit: Limit) -> (Decision, Option<f64>) {
    let interval = 1.0 / limit.per_second;
    let tolerance = interval * f64::from(limit.burst.saturating_sub(1));
    let tat = tat.unwrap_or(now).max(now);
    // The epsilon absorbs the rounding of summed intervals (19 × 0.04 summed exceeds 0.76).
    if tat - now > tolerance + 1e-9 {
        (
            Decision::Deny {
                retry_after: tat - now - tolerance,
            },
            Some(tat),
        )
    } else {
        (Decision::Allow, Some(tat + interval))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const COUPA: Limit = Limit {
        per_second: 25.0,
        burst: 20,
    };

    #[test]
    fn a_burst_then_the_rate() {
        let mut tat = None;
        let mut allowed = 0;
        for _ in 0..30 {
            let (decision, next) = decide(tat, 0.0, COUPA);
            tat = next;
            if decision == Decision::Allow {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 20, "the burst");
        let (decision, _) = decide(tat, 0.04, COUPA);
        assert_eq!(decision, Decision::Allow, "one more after 1/25 s");
    }

    proptest! {
        /// Over any window, no more than burst + rate × window requests are allowed.
        #[test]
        fn never_more_than_burst_plus_rate(gaps in proptest::collection::vec(0.0f64..0.2, 1..300)) {
            let mut tat = None;
            let mut now = 0.0;
            let mut allowed = 0u32;
            for gap in gaps {
                now += gap;
                let (decision, next) = decide(tat, now, COUPA);
                tat = next;
                if decision == Decision::Allow {
                    allowed += 1;
                }
                prop_assert!(f64::from(allowed) <= f64::from(COUPA.burst) + COUPA.per_second * now + 1e-9);
            }
        }
    }
}

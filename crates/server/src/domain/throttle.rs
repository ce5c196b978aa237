//! Failed sign-ins: how many a login, a source address or an admin-token caller may make
//! before it is locked out for a while, and for how long. The counters live in the store, so
//! every replica sees the same ones.

/// The rule for one kind of counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before the first lock.
    pub free_failures: i64,
    /// The first lock; each further failure doubles it, up to `max_lock_seconds`.
    pub base_lock_seconds: i64,
    pub max_lock_seconds: i64,
    /// A counter whose last failure is older than this starts again from zero.
    pub forget_after_seconds: i64,
}

/// One account: a person mistyping is never locked, a guesser soon is.
pub const PER_LOGIN: ThrottlePolicy = ThrottlePolicy {
    free_failures: 5,
    base_lock_seconds: 30,
    max_lock_seconds: 15 * 60,
    forget_after_seconds: 15 * 60,
};

/// One source address, across every login it tries (and every admin token it presents).
pub const PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    free_failures: 20,
    base_lock_seconds: 30,
    max_lock_seconds: 15 * 60,
    forget_after_seconds: 15 * 60,
};

impl ThrottlePolicy {
    /// How long to lock after the `failures`-th failure in a row; None below the threshold.
    pub fn lock_after(&self, failures: i64) -> Option<i64> {
        let over = failures - self.free_failures;
        if over < 0 {
            return None;
        }
        let doublings = u32::try_from(over.min(20)).unwrap_or(20);
        Some(
            self.base_lock_seconds
                .saturating_mul(1_i64 << doublings)
                .min(self.max_lock_seconds),
        )
    }
}

/// The counter keys of a sign-in attempt.
pub fn login_key(login: &str) -> String {
    format!("login:{}", super::client::login_key(login.trim()))
}

pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

pub fn admin_key(address: &str) -> String {
    format!("admin:{address}")
}

/// "about 3 minutes", for the page that explains a lock.
pub fn describe_wait(seconds: i64) -> String {
    if seconds <= 60 {
        "a minute".into()
    } else {
        format!("about {} minutes", (seconds + 59) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_start_at_the_threshold_double_and_stop_at_the_maximum() {
        assert_eq!(PER_LOGIN.lock_after(4), None);
        assert_eq!(PER_LOGIN.lock_after(5), Some(30));
        assert_eq!(PER_LOGIN.lock_after(6), Some(60));
        assert_eq!(PER_LOGIN.lock_after(9), Some(480));
        assert_eq!(PER_LOGIN.lock_after(10), Some(900));
        assert_eq!(PER_LOGIN.lock_after(10_000), Some(900));
        assert_eq!(PER_ADDRESS.lock_after(19), None);
    }

    #[test]
    fn keys_ignore_case_and_waits_read_well() {
        assert_eq!(login_key(" Ada "), login_key("ada"));
        assert_ne!(login_key("ada"), address_key("ada"));
        assert_eq!(describe_wait(30), "a minute");
        assert_eq!(describe_wait(61), "about 2 minutes");
    }
}
